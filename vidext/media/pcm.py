"""Decoded sound as float blocks, and float blocks written to a file: the audio side of PyAV.

Samples are ``float32`` arrays shaped ``(channels, samples)``.  Sample index 0
is the first decoded sample; :attr:`PcmReader.start_s` says where that sample
lies on the file's timeline, so that times shared with the picture (seconds
from the container's timestamps) map to sample indices exactly.
"""
from __future__ import annotations

import os
from typing import Iterator

import av
import numpy as np

from .. import config
from ..errors import InputError
from .codecs import canonical
from .packed import output_layout, to_blocks
from .probe import open_input


class PcmReader:
    """Decodes one audio stream of ``path`` block by block (context manager).

    ``get(a, b)`` returns samples ``[a, b)`` (zeros outside the stream) from a
    sliding window: callers ask for increasing ranges and ``release(i)`` what
    they no longer need, so hours of sound never sit in memory at once.
    """

    def __init__(self, path: str, stream_index: int | None = None):
        self.path = path
        self._container = open_input(path)
        streams = self._container.streams.audio
        if not streams:
            self._container.close()
            raise InputError(f"{os.path.basename(path)} has no audio stream")
        self.stream = streams[0] if stream_index is None else next(s for s in streams if s.index == stream_index)
        cc = self.stream.codec_context
        self.rate = int(cc.sample_rate)
        self.channels = int(cc.channels) if cc.channels and cc.channels <= 8 else 2
        self.layout = output_layout(cc.layout.name if cc.layout else None, cc.channels or 2)
        # what an encoder needs to keep the sound as good as it was (vidext.media.mux.PcmEncoder)
        self.codec = canonical(cc)
        self.bit_rate = cc.bit_rate or self.stream.bit_rate or None
        self.lossless = bool(cc.codec.lossless and not cc.codec.lossy)
        self._resampler = av.AudioResampler(format="flt", layout=self.layout, rate=self.rate)   # to_blocks
        self._frames = self._container.decode(self.stream)
        self._buf = np.zeros((self.channels, 0), np.float32)
        self._buf_start = 0          # absolute index of _buf[:, 0]
        self._ended = False
        self.start_s: float = 0.0
        self._started = False
        self._first = self._decode_next()  # sets start_s from the first frame's timestamp
        self.length: int | None = None     # known once the stream has ended

    # -- decoding ------------------------------------------------------------
    def _decode_next(self) -> np.ndarray | None:
        while True:
            try:
                frame = next(self._frames)
            except StopIteration:
                out = to_blocks(self._resampler.resample(None))
                return np.concatenate(out, axis=1) if out else None
            except av.FFmpegError as exc:
                if isinstance(exc, av.InvalidDataError):
                    continue  # a corrupt packet: skip it, as the video reader does
                raise InputError(f"cannot decode the sound of {os.path.basename(self.path)}: {exc}") from exc
            if not self._started:
                self._started = True
                if frame.pts is not None and frame.time_base is not None:
                    self.start_s = float(frame.pts * frame.time_base)
            out = to_blocks(self._resampler.resample(frame))
            if out:
                return np.concatenate(out, axis=1)

    def blocks(self) -> Iterator[np.ndarray]:
        """Every decoded block in order (use either this or ``get``, not both)."""
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        while (block := self._decode_next()) is not None:
            yield block

    def _fill(self, end: int) -> None:
        parts = [self._buf]
        have = self._buf_start + self._buf.shape[1]
        while have < end and not self._ended:
            if self._first is not None:
                block, self._first = self._first, None
            else:
                block = self._decode_next()
            if block is None:
                self._ended = True
                self.length = have
                break
            parts.append(block)
            have += block.shape[1]
        if len(parts) > 1:
            self._buf = np.concatenate(parts, axis=1)

    def get(self, a: int, b: int) -> np.ndarray:
        """Samples ``[a, b)`` as (channels, b - a) float32, zero outside the stream."""
        out = np.zeros((self.channels, max(0, b - a)), np.float32)
        if b <= a:
            return out
        self._fill(b)
        if a < self._buf_start and a >= 0:
            raise RuntimeError(f"samples before {self._buf_start} were released (asked from {a})")
        lo, hi = max(a, self._buf_start), min(b, self._buf_start + self._buf.shape[1])
        if hi > lo:
            out[:, lo - a:hi - a] = self._buf[:, lo - self._buf_start:hi - self._buf_start]
        return out

    def release(self, before: int) -> None:
        """Forget samples before index ``before``."""
        drop = min(before - self._buf_start, self._buf.shape[1])
        if drop > 0:
            self._buf = self._buf[:, drop:]
            self._buf_start += drop

    def total(self) -> int:
        """Number of samples in the stream (decodes to the end, releasing as it goes)."""
        while not self._ended:
            self._fill(self._buf_start + self._buf.shape[1] + self.rate)
            self.release(self._buf_start + self._buf.shape[1] - config.AUDIO_LOOKBACK_S * self.rate)
        return self.length

    def index(self, seconds: float) -> int:
        """Sample index of a time on the file's timeline."""
        return int(round((seconds - self.start_s) * self.rate))

    # -- lifecycle -----------------------------------------------------------
    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> "PcmReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
