"""The sound of an extended clip: the original track shifted by the new frames before it.

:class:`PaddedAudio` is the minimum that keeps picture and sound in sync:
silence for the new frames before the clip, the source's own sound (decoded
and re-encoded once, since silence and copied packets cannot share a stream),
silence for the new frames after it, ending with the picture.
"""
from __future__ import annotations

import os
from fractions import Fraction
from typing import Iterator

import av
import numpy as np

from ..errors import InputError, ParameterError
from ..media.mux import AudioFeed, PcmEncoder, reencode_codec

_BLOCK = 4096  # samples of silence encoded at once


class PaddedAudio(AudioFeed):
    """Source audio with ``before_s`` of silence in front, padded with silence to ``end_s``."""

    def __init__(self, source_path: str, output_path: str, *, before_s, end_s):
        self.source_path, self.output_path = source_path, output_path
        self.before_s, self.end_s = Fraction(before_s), Fraction(end_s)
        self._in = None
        self._encoder: PcmEncoder | None = None
        self._blocks: Iterator[np.ndarray] | None = None
        self._written = 0
        self.copied = False

    def open(self, output) -> None:
        self._in = av.open(self.source_path, metadata_errors="ignore")
        if not self._in.streams.audio:
            raise InputError(f"{os.path.basename(self.source_path)} has no audio stream")
        src = self._in.streams.audio[0]
        cc = src.codec_context
        self.rate = cc.sample_rate
        self.layout = cc.layout.name if cc.layout and cc.channels <= 8 else "stereo"
        self._channels = av.AudioLayout(self.layout).nb_channels
        self._encoder = PcmEncoder(output, reencode_codec(self.output_path), self.rate, self.layout)
        self._lead = round(self.before_s * self.rate)
        self._limit = round(self.end_s * self.rate)
        self._blocks = self._decode(src)

    def _decode(self, src) -> Iterator[np.ndarray]:
        resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)
        for pkt in self._in.demux(src):
            try:
                frames = pkt.decode()
            except av.InvalidDataError:
                continue
            for fr in frames:
                for r in resampler.resample(fr):
                    yield r.to_ndarray()
        for r in resampler.resample(None):
            yield r.to_ndarray()

    def _emit(self, block: np.ndarray) -> None:
        block = block[:, : self._limit - self._written]
        if block.shape[1]:
            self._encoder.encode(block)
            self._written += block.shape[1]

    def write_until(self, seconds: float) -> None:
        target = self._limit if seconds == float("inf") else min(self._limit, round(seconds * self.rate))
        while self._written < target:
            if self._written < self._lead:
                n = min(self._lead - self._written, _BLOCK)
                self._emit(np.zeros((self._channels, n), np.float32))
                continue
            block = next(self._blocks, None) if self._blocks is not None else None
            if block is None:
                self._blocks = None
                self._emit(np.zeros((self._channels, min(target - self._written, _BLOCK)), np.float32))
            else:
                self._emit(block)

    def finish(self) -> None:
        try:
            self.write_until(float("inf"))
            self._encoder.encode(None)
        finally:
            if self._in is not None:
                self._in.close()
                self._in = None


def extension_audio(source_path: str, output_path: str, *, before_s, after_s, picture_s, method: str = "silence",
                    prompt: str | None = None, seed: int | None = None) -> AudioFeed:
    """The audio feed for an extended clip of ``before_s + picture_s + after_s`` seconds."""
    if method != "silence":
        raise ParameterError(f"audio method {method!r} is not available; choose silence")
    return PaddedAudio(source_path, output_path, before_s=before_s,
                       end_s=Fraction(before_s) + Fraction(picture_s).limit_denominator(10**6) + Fraction(after_s))
