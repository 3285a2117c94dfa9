"""Audio feeds that change the sound: retimed (slow motion, segments, trims) and extended.

Both are :class:`vidext.media.mux.AudioFeed`\\ s: the video sink calls
``write_until(t)`` as it encodes pictures, so sound is produced in step with
them, block by block, from a sliding window over the decoded source; the
result is encoded once with :class:`~vidext.media.mux.PcmEncoder`.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Iterator

import numpy as np

from .. import config
from ..media.codecs import audio_encoder
from ..media.mux import AudioFeed, PcmEncoder
from ..timemap import TimeMap
from .pcm import PcmReader
from .stretch import STRETCHERS, check_factor

def encode_codec(output_path: str, source_codec: str | None = None) -> str:
    """The encoder a changed sound is written with in ``output_path``'s container: the source's own
    codec when the container carries it (a stretched MP3 stays MP3, PCM stays PCM), else the
    container's default (see :data:`vidext.media.codecs.CONTAINERS`)."""
    return audio_encoder(output_path, source_codec)


def raised_cosine(n: int) -> np.ndarray:
    """Fade-in gains for ``n`` samples (its mirror fades out; the pair sums to one)."""
    if n <= 0:
        return np.zeros(0, np.float32)
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)


class _PcmFeed(AudioFeed):
    """Shared plumbing: a generator of output blocks, encoded as the picture advances."""

    def __init__(self, source_path: str, output_path: str, start_s: float, stream_index: int | None):
        self.source_path, self.output_path = source_path, output_path
        self.start_s = float(start_s)
        self.stream_index = stream_index
        self.copied = False
        self.reader: PcmReader | None = None
        self._encoder: PcmEncoder | None = None
        self._blocks: Iterator[np.ndarray] | None = None
        self.samples_written = 0
        self.rate = 0

    def open(self, output) -> None:
        self.reader = PcmReader(self.source_path, self.stream_index)
        self.rate = self.reader.rate
        r = self.reader
        codec = encode_codec(self.output_path, r.codec)
        self._encoder = PcmEncoder(output, codec, self.rate, r.layout, start_s=self.start_s,
                                   source_bit_rate=r.bit_rate, source_lossless=r.lossless)
        self.codec = codec
        self._blocks = self.produce()

    def produce(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def write_until(self, seconds: float) -> None:
        target = (float(seconds) - self.start_s) * self.rate
        while self.samples_written < target:
            block = next(self._blocks, None)
            if block is None:
                return
            self._encoder.encode(block)
            self.samples_written += block.shape[1]

    def finish(self) -> None:
        try:
            self.write_until(float("inf"))
            self._encoder.encode(None)
        finally:
            self.close()

    def close(self) -> None:
        """Release the source (also when the job fails before ``finish``)."""
        if self.reader is not None:
            self.reader.close()

    @property
    def duration_s(self) -> float:
        return self.samples_written / self.rate if self.rate else 0.0


class RetimedAudio(_PcmFeed):
    """The source's sound following a :class:`TimeMap`, pitch kept.

    Untouched pieces (stretch 1) are copied sample-exact; stretched pieces
    are time-stretched to exactly their output length; where a stretched
    piece meets a neighbour, a short crossfade (``AUDIO_CROSSFADE_S``) inside
    the stretched piece joins them.  Output time ``timemap.out_start`` is
    written at ``start_s`` on the output's timeline (default: the same
    time), so with ``start_s=0`` a trimmed clip's sound starts at zero.
    """

    def __init__(self, source_path: str, timemap: TimeMap, output_path: str, *, start_s: float | None = None,
                 stretcher: str = config.DEFAULT_STRETCHER, stream_index: int | None = None,
                 crossfade_s: float = config.AUDIO_CROSSFADE_S):
        super().__init__(source_path, output_path, float(timemap.out_start) if start_s is None else start_s,
                         stream_index)
        for p in timemap.pieces:
            if p.stretch != 1:
                check_factor(p.stretch, 1 / config.AUDIO_RETIME_MAX, config.AUDIO_RETIME_MAX)
        self.timemap = timemap
        self.stretcher_name = stretcher
        STRETCHERS.get(stretcher)  # unknown names fail before any work
        self.crossfade_s = crossfade_s

    def produce(self) -> Iterator[np.ndarray]:
        pieces = self.timemap.pieces
        lens, starts = self._piece_extents()
        stretcher = STRETCHERS.create(self.stretcher_name, self.rate, self.reader.channels)
        xf0 = int(round(self.crossfade_s * self.rate))
        carry = None            # the previous piece's tail, faded out over this piece's start
        for i, p in enumerate(pieces):
            n, a = lens[i], starts[i]
            if n <= 0:
                continue
            last = i + 1 == len(pieces)
            xf = 0 if last else min(xf0, n // 2, lens[i + 1] // 2)
            extra = xf if (not last and pieces[i + 1].stretch != 1) else 0           # next piece hosts the fade
            head_n = xf if (not last and p.stretch != 1 and pieces[i + 1].stretch == 1) else 0  # this one does
            src = self._piece_samples(p.stretch, a, n + extra, stretcher)
            tail: list[np.ndarray] = []
            yield from self._joined(src, n, a, float(p.stretch), carry, head_n,
                                    starts[i + 1] if head_n else None, tail)
            carry = np.concatenate(tail, axis=1)[:, :extra] if extra and tail else None

    def _piece_extents(self) -> tuple[list[int], list[Fraction]]:
        """Output samples of each piece (whole samples from the output start) and where it starts in the input."""
        rate, pieces = self.rate, self.timemap.pieces
        t0 = self.timemap.out_start
        bounds = [round((p.out_start - t0) * rate) for p in pieces] + [round((pieces[-1].out_end - t0) * rate)]
        lens = [b - a for a, b in zip(bounds, bounds[1:])]
        starts = [(p.in_start - Fraction(self.reader.start_s).limit_denominator(10**9)) * rate for p in pieces]
        return lens, starts

    def _piece_samples(self, stretch: Fraction, a: Fraction, total: int, stretcher) -> Iterator[np.ndarray]:
        """``total`` output samples of a piece starting at input sample ``a``: copied, or stretched."""
        r = self.reader
        if stretch != 1:
            return stretcher.stream(r.get, float(a), float(stretch), total)
        block = max(1, int(config.AUDIO_BLOCK_S * self.rate))

        def raw(a=int(round(a))):
            for j in range(0, total, block):
                yield r.get(a + j, a + min(total, j + block))
        return raw()

    def _joined(self, src: Iterator[np.ndarray], n: int, a: Fraction, factor: float, carry: np.ndarray | None,
                head_n: int, next_start: Fraction | None, tail: list) -> Iterator[np.ndarray]:
        """The piece's first ``n`` samples, crossfaded with the previous piece's ``carry`` at its start and
        into the next (untouched) piece's head over its last ``head_n``; what lies beyond goes to ``tail``."""
        r = self.reader
        lookback = int(config.AUDIO_LOOKBACK_S * self.rate)
        pos = 0
        for out in src:
            m = out.shape[1]
            if pos + m > n:  # beyond this piece: the tail for the next one
                tail.append(out[:, max(0, n - pos):])
                out = out[:, :max(0, n - pos)]
                m = out.shape[1]
            if carry is not None and pos < carry.shape[1]:
                k = min(m, carry.shape[1] - pos)
                g = raised_cosine(carry.shape[1])[pos:pos + k]
                out = out.copy()
                out[:, :k] = out[:, :k] * g + carry[:, pos:pos + k] * (1 - g)
            if head_n and pos + m > n - head_n:
                lo = max(0, n - head_n - pos)
                nxt = int(round(next_start))
                head = r.get(nxt - head_n + (pos + lo - (n - head_n)), nxt - head_n + (pos + m - (n - head_n)))
                g = raised_cosine(head_n)[pos + lo - (n - head_n):pos + m - (n - head_n)]
                out = out.copy()
                out[:, lo:] = out[:, lo:] * (1 - g) + head * g
            if m:
                yield out
            pos += m
            r.release(int(a + pos / factor) - lookback)


class ExtendedAudio(_PcmFeed):
    """The source's sound with new sound before and/or after it.

    The output is ``before_s`` of continuation, the original (``original_s``
    long: by default the picture's duration, so sound and picture end
    together), then ``after_s`` of continuation.  The new frames come before
    the original when ``before_s > 0``, so the original sound is shifted by
    ``before_s``.  ``method``: ``loop`` (classical, self-similar loop point),
    ``musicgen`` (generated, prompted with the clip's edge and ``prompt``),
    ``silence``.  Backward continuation continues the reversed start and is
    reversed back.  Only ``LOOP_ANALYSIS_S`` next to each edge is analysed.
    """

    def __init__(self, source_path: str, output_path: str, before_s: float = 0.0, after_s: float = 0.0,
                 method: str = "loop", prompt: str | None = None, seed: int | None = None, *,
                 original_s: float | None = None, start_s: float = 0.0, stream_index: int | None = None,
                 **method_options):
        super().__init__(source_path, output_path, start_s, stream_index)
        from ..errors import ParameterError
        from .continuation import CONTINUATIONS

        if before_s < 0 or after_s < 0:
            raise ParameterError("extension lengths must not be negative")
        if max(before_s, after_s) > config.AUDIO_EXTEND_MAX_S:
            raise ParameterError(f"an audio extension may be at most {config.AUDIO_EXTEND_MAX_S:g} s long, "
                                 f"got {max(before_s, after_s):g} s")
        CONTINUATIONS.get(method)  # unknown names fail before any work
        self.before_s, self.after_s = float(before_s), float(after_s)
        self.method, self.prompt, self.seed = method, prompt, seed
        self.method_options = method_options
        self.original_s = original_s
        self.details: dict = {}

    def _original(self) -> tuple[int, int]:
        """(first sample of the original section in the reader, its length in samples)."""
        from ..media.probe import probe

        info = probe(self.source_path)
        r = self.reader
        if info.video is not None:
            t0, dur = info.video.start_s, info.video.duration_s
        else:
            t0, dur = r.start_s, info.audio[0].duration_s or info.duration_s
        if self.original_s is not None:
            dur = self.original_s
        return r.index(t0), int(round(dur * self.rate))

    def _continuation(self, context: np.ndarray, length: int, direction: str):
        from .continuation import CONTINUATIONS

        cont = CONTINUATIONS.create(self.method, context, self.rate, prompt=self.prompt, seed=self.seed,
                                    length=length, **self.method_options)
        self.details[direction] = cont.describe()
        return cont

    def produce(self) -> Iterator[np.ndarray]:
        r, rate = self.reader, self.rate
        before, after = int(round(self.before_s * rate)), int(round(self.after_s * rate))
        off, n = self._original()
        window = int(config.LOOP_ANALYSIS_S * rate)
        block = max(1, int(config.AUDIO_BLOCK_S * rate))
        lookback = int(config.AUDIO_LOOKBACK_S * rate)
        head = tail = None
        if before:
            context = r.get(off, off + min(n, window))[:, ::-1]
            back = self._continuation(np.ascontiguousarray(context), before, "backward")
            head = back.junction[:, ::-1]
            for j in range(0, before, block):
                k = min(before, j + block)
                yield np.ascontiguousarray(back.render(before - k, before - j)[:, ::-1])
            del context
        fwd = None
        for j in range(0, n, block):
            k = min(n, j + block)
            if after and fwd is None and k > n - window:
                fwd = self._continuation(r.get(off + max(0, n - window), off + n), after, "forward")
                tail = fwd.junction
            out = r.get(off + j, off + k)
            if head is not None and j < head.shape[1]:
                m = min(k, head.shape[1]) - j
                out[:, :m] = head[:, j:j + m]
            if tail is not None and k > n - tail.shape[1]:
                lo = max(j, n - tail.shape[1])
                out[:, lo - j:] = tail[:, lo - (n - tail.shape[1]):k - (n - tail.shape[1])]
            yield out
            r.release(off + j - lookback)
        if after:
            if fwd is None:
                fwd = self._continuation(r.get(off + max(0, n - window), off + n), after, "forward")
            for j in range(0, after, block):
                yield fwd.render(j, min(after, j + block))
