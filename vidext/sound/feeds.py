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
from .continuation import LOOP_CROSSFADE_S
from .pcm import PcmReader
from .stretch import STRETCHERS, check_factor

AUDIO_RETIME_MAX = 64           # slow motion / speed-up the sound follows (beyond 8× it becomes a drone)
AUDIO_CROSSFADE_S = 0.010       # crossfade where a stretched piece meets its neighbour
LOOP_ANALYSIS_S = 30            # sound next to an edge searched for a loop point


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
        self.output_stream, self.codec_written = self._encoder.stream, self._encoder.codec_name
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

    treatment = "retimed"

    def __init__(self, source_path: str, timemap: TimeMap, output_path: str, *, start_s: float | None = None,
                 stretcher: str = config.DEFAULT_STRETCHER, stream_index: int | None = None,
                 crossfade_s: float = AUDIO_CROSSFADE_S):
        super().__init__(source_path, output_path, float(timemap.out_start) if start_s is None else start_s,
                         stream_index)
        for p in timemap.pieces:
            if p.stretch != 1:
                check_factor(p.stretch, 1 / AUDIO_RETIME_MAX, AUDIO_RETIME_MAX)
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

    ``method="follow"`` (the default of ``vidext.extend``): the sound follows
    the picture.  ``shown`` (a :class:`vidext.jobs.extend.ShownFrames`)
    tells, per side, which source moment each new frame shows; where the
    picture replays earlier footage, that footage's own sound is replayed,
    sample-aligned to the same times (frame ``k`` of the side starts at
    sample ``round(k · rate / fps)``), with a raised-cosine crossfade of
    ``LOOP_CROSSFADE_S`` centred on every seam.  A side whose picture does not
    replay footage forwards (held, reversed, synthesised) gets the ``loop``
    continuation instead, and ``details[direction]`` says so.
    """

    treatment = "extended"

    def __init__(self, source_path: str, output_path: str, before_s: float = 0.0, after_s: float = 0.0,
                 method: str = "loop", prompt: str | None = None, seed: int | None = None, *,
                 original_s: float | None = None, start_s: float = 0.0, stream_index: int | None = None,
                 shown=None, **method_options):
        super().__init__(source_path, output_path, start_s, stream_index)
        from ..errors import ParameterError
        from .continuation import CONTINUATIONS

        if before_s < 0 or after_s < 0:
            raise ParameterError("extension lengths must not be negative")
        if max(before_s, after_s) > config.AUDIO_EXTEND_MAX_S:
            raise ParameterError(f"an audio extension may be at most {config.AUDIO_EXTEND_MAX_S:g} s long, "
                                 f"got {max(before_s, after_s):g} s")
        if method == "follow":
            if shown is None:
                raise ParameterError("audio method 'follow' needs the picture's shown frames")
        else:
            CONTINUATIONS.get(method)  # unknown names fail before any work
        self.shown = shown
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
            track = next((a for a in info.audio if a.index == r.stream.index), info.audio[0])
            t0, dur = r.start_s, track.duration_s or info.duration_s
        if self.original_s is not None:
            dur = self.original_s
        return r.index(t0), int(round(dur * self.rate))

    def _continuation(self, context: np.ndarray, length: int, direction: str):
        from .continuation import CONTINUATIONS

        method = "loop" if self.method == "follow" else self.method   # follow: loop where nothing is replayed
        cont = CONTINUATIONS.create(method, context, self.rate, prompt=self.prompt, seed=self.seed,
                                    length=length, **self.method_options)
        self.details[direction] = cont.describe()
        return cont

    def produce(self) -> Iterator[np.ndarray]:
        if self.method == "follow" or self._retimes():
            yield from self._follow()
            return
        yield from self._continued()

    def _retimes(self) -> bool:
        """Whether the picture retimes real frames at an extended end (a speed ramp): their sound
        then follows the picture's time map whatever the method (the ramp's new seconds are the
        original's, slowed); the other end gets the method's continuation."""
        if self.shown is None or not self.shown.up_front:
            return False
        return any(self.shown.retimed(d) is not None
                   for d, s in (("backward", self.before_s), ("forward", self.after_s)) if s > 0)

    # -- the sound follows the picture ---------------------------------------------
    def _side_pieces(self, direction: str, o0: int, length: int) -> list | None:
        """Pieces ``(out_start, out_end, source_start)`` of one side, or None when it replays nothing."""
        times = self.shown.wait(direction)
        if not times or self.method != "follow":
            return None
        fps, rate, r = self.shown.rate, self.rate, self.reader
        bounds = [o0 + int(round(Fraction(k) * rate / fps)) for k in range(len(times))] + [o0 + length]
        pieces: list[list[int]] = []
        for k, t in enumerate(times):
            src = r.index(float(t))
            if pieces and k and times[k] - times[k - 1] == 1 / fps:
                pieces[-1][1] = bounds[k + 1]
            else:
                pieces.append([bounds[k], bounds[k + 1], src])
        return [tuple(p) for p in pieces if p[1] > p[0]]

    def _no_replay(self, direction: str) -> None:
        if self.method == "follow":
            self.details[direction]["why"] = "the picture does not replay footage forwards"

    def _retimed_side(self, direction: str, timemap: TimeMap, held: int, length: int) -> "_Retimed":
        """The stretched sound of a side that retimes real frames (``length`` output samples)."""
        stream = _Retimed(self, timemap, length)
        slowest = max(float(p.stretch) for p in timemap.pieces)
        self.details[direction] = {"method": "follow", "retimed_s": round(float(timemap.in_end - timemap.in_start), 4),
                                   "plays_s": round(float(timemap.out_end - timemap.out_start), 4),
                                   "slowest": round(slowest, 3), "stretcher": config.DEFAULT_STRETCHER,
                                   "held_frames": held}
        return stream

    def _follow(self) -> Iterator[np.ndarray]:
        r, rate = self.reader, self.rate
        before, after = int(round(self.before_s * rate)), int(round(self.after_s * rate))
        off, n = self._original()
        total = before + n + after
        block = max(1, int(config.AUDIO_BLOCK_S * rate))
        lookback = int(config.AUDIO_LOOKBACK_S * rate)
        half = int(round(LOOP_CROSSFADE_S * rate / 2))
        window = int(LOOP_ANALYSIS_S * rate)
        fps = self.shown.rate
        file_lo, file_hi, src_lo = before, before + n, off      # where the untouched original plays
        pieces: list[tuple] = []
        streams: list[_Retimed] = []
        x, head, tail = 0, None, None
        edge = before + n            # the forward continuation (if any) starts here
        if before:   # planned before anything is written
            retimed = self.shown.retimed("backward")
            back = None
            head_len = before
            if retimed is not None:      # a speed ramp: the first frames' sound, slowed
                timemap, held = retimed
                cut = r.index(float(timemap.in_end)) - off
                file_lo, src_lo = before + cut, off + cut
                head_len = min(file_lo, int(round(Fraction(held) * rate / fps)))
                streams.append(self._retimed_side("backward", timemap, held, file_lo - head_len))
                ramp_said = self.details["backward"]
                pieces.append((head_len, file_lo, 0, streams[-1]))
            else:
                back = self._side_pieces("backward", 0, before)
            if back is not None:
                self.details["backward"] = {"method": "follow", "seams": len(back)}
                pieces += [(*p, "replay") for p in back]
            elif head_len:       # nothing replayed: the loop continuation, reversed
                context = r.get(off, off + min(n, window))[:, ::-1]
                cont = self._continuation(np.ascontiguousarray(context), head_len, "backward")
                if retimed is not None:      # the eased stop's held frames: continued
                    self.details["backward"] = {**ramp_said, "held_sound": self.details["backward"]}
                else:
                    self._no_replay("backward")
                head = cont.junction[:, ::-1]
                for j in range(0, head_len, block):
                    k = min(head_len, j + block)
                    yield np.ascontiguousarray(cont.render(head_len - k, head_len - j)[:, ::-1])
                x = head_len
        else:
            head_len = 0
        forward_ramp = None
        if after and self.shown.up_front:
            forward_ramp = self.shown.retimed("forward")
        if forward_ramp is not None:     # a speed ramp: the last frames' sound, slowed
            timemap, held = forward_ramp
            file_hi = before + r.index(float(timemap.in_start)) - off
            edge = max(file_hi, total - int(round(Fraction(held) * rate / fps)))
            streams.append(self._retimed_side("forward", timemap, held, edge - file_hi))
            ramp_said_fwd = self.details["forward"]
            pieces.append((file_hi, edge, 0, streams[-1]))
        pieces.append((file_lo, file_hi, src_lo, "file"))
        # the forward side is planned only once the original has streamed past (unless planned up
        # front): its pieces, or the continuation, are set up when the output nears the junction
        pending = bool(after) and edge < total
        fwd_at = edge - int(round(LOOP_CROSSFADE_S * rate)) if pending else total
        replay = _Replay(self.source_path, self.stream_index, rate)
        try:
            while x < total:
                if x >= fwd_at and pending:
                    pending = False
                    fwd = None if forward_ramp is not None else self._side_pieces("forward", edge, after)
                    if fwd is None:
                        tail = self._continuation(r.get(off + max(0, n - window), off + n), total - edge, "forward")
                        if forward_ramp is None:
                            self._no_replay("forward")
                        else:                    # the eased stop's held frames: continued
                            self.details["forward"] = {**ramp_said_fwd, "held_sound": self.details["forward"]}
                    else:
                        self.details["forward"] = {"method": "follow", "seams": len(fwd)}
                        pieces += [(*p, "replay") for p in fwd]
                end = min(total, x + block)
                if x < fwd_at:
                    end = min(end, fwd_at)
                if tail is not None and x >= edge:
                    out = tail.render(x - edge, end - edge)
                else:
                    out = _mix_pieces(pieces, x, end, half, r, replay)
                    if head is not None and x < head_len + head.shape[1]:
                        lo, hi = x - head_len, min(end - head_len, head.shape[1])
                        out[:, :hi - lo] = head[:, lo:hi]
                    if tail is not None:
                        jn = tail.junction
                        a, b = max(x, edge - jn.shape[1]), min(end, edge)
                        if b > a:
                            out[:, a - x:b - x] = jn[:, a - (edge - jn.shape[1]):b - (edge - jn.shape[1])]
                        if end > edge:
                            out[:, edge - x:] = tail.render(0, end - edge)
                yield out
                keep = off + (x - before) - lookback
                if pending:   # the loop fallback may analyse the last window
                    keep = min(keep, off + n - window)
                r.release(keep)
                x = end
        finally:
            replay.close()
            for stream in streams:
                stream.close()

    def _continued(self) -> Iterator[np.ndarray]:
        r, rate = self.reader, self.rate
        before, after = int(round(self.before_s * rate)), int(round(self.after_s * rate))
        off, n = self._original()
        window = int(LOOP_ANALYSIS_S * rate)
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


class _Replay:
    """Source samples of the replayed stretches, decoded once by a second reader (the first streams on)."""

    def __init__(self, path: str, stream_index: int | None, rate: int):
        self.path, self.stream_index, self.rate = path, stream_index, rate
        self._reader: PcmReader | None = None
        self._pos = 0

    def get(self, a: int, b: int) -> np.ndarray:
        from ..errors import InputError

        if self._reader is None or a < self._reader._buf_start:
            if self._reader is not None:
                self._reader.close()
            self._reader = PcmReader(self.path, self.stream_index)
        r = self._reader
        step = max(1, int(config.AUDIO_BLOCK_S * self.rate)) * 16
        while r._buf_start + r._buf.shape[1] < a - step and not r._ended:   # skip ahead, holding little
            r.get(r._buf_start + r._buf.shape[1], r._buf_start + r._buf.shape[1] + step)
            r.release(r._buf_start + r._buf.shape[1] - step)
        if r._buf_start > max(a, 0):
            raise InputError("the replayed sound could not be read again")
        return r.get(a, b)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


class _Retimed:
    """The sound of a retimed stretch (a speed ramp), time-stretched with its pitch kept
    (:class:`RetimedAudio` over the side's time map), read in order by output sample (0: the
    stretch's first); it has its own reader, so the main one streams on."""

    def __init__(self, feed: "ExtendedAudio", timemap: TimeMap, length: int):
        self.feed = RetimedAudio(feed.source_path, timemap, feed.output_path, stream_index=feed.stream_index)
        self.length = length
        self.channels = feed.reader.channels
        self._blocks: Iterator[np.ndarray] | None = None
        self._buf = np.zeros((self.channels, 0), np.float32)
        self._start = 0          # output sample of _buf[:, 0]

    def get(self, a: int, b: int) -> np.ndarray:
        if self._blocks is None:
            self.feed.reader = PcmReader(self.feed.source_path, self.feed.stream_index)
            self.feed.rate = self.feed.reader.rate
            self._blocks = self.feed.produce()
        if a < self._start:
            raise RuntimeError("the retimed sound is read in order")
        self._buf, self._start = self._buf[:, a - self._start:] if a - self._start < self._buf.shape[1] else \
            np.zeros((self.channels, 0), np.float32), a
        while self._start + self._buf.shape[1] < b:
            block = next(self._blocks, None)
            if block is None:
                break
            self._buf = np.concatenate([self._buf, block.astype(np.float32, copy=False)], axis=1)
        out = np.zeros((self.channels, b - a), np.float32)
        got = self._buf[:, :b - a]
        out[:, :got.shape[1]] = got
        return out

    def close(self) -> None:
        if self.feed.reader is not None:
            self.feed.reader.close()


def _joined(p: tuple, q: tuple) -> bool:
    """Whether piece ``q`` continues piece ``p``'s source (no seam): a retimed stretch always does."""
    if not isinstance(p[3], str) or not isinstance(q[3], str):
        return True
    return p[2] + (p[1] - p[0]) == q[2]


def _mix_pieces(pieces: list[tuple], x0: int, x1: int, half: int, reader: PcmReader, replay: _Replay) -> np.ndarray:
    """Output samples ``[x0, x1)`` from pieces ``(out_start, out_end, source_start, kind)``; ``kind``
    "file", "replay", or a :class:`_Retimed` stretch (read by output sample from ``source_start``).

    Where a piece's source does not continue the previous one's (a seam), both
    play over ``half`` samples either side of the boundary with raised-cosine
    gains that sum to one; elsewhere each sample comes from its piece alone.
    """
    out = np.zeros((reader.channels, x1 - x0), np.float32)
    ordered = sorted(pieces, key=lambda p: (p[0], p[1]))
    for i, (o0, o1, s0, kind) in enumerate(ordered):
        prev = ordered[i - 1] if i else None
        nxt = ordered[i + 1] if i + 1 < len(ordered) else None
        seam_l = prev is not None and prev[1] == o0 and not _joined(prev, ordered[i])
        seam_r = nxt is not None and nxt[0] == o1 and not _joined(ordered[i], nxt)
        hl = min(half, (o1 - o0) // 2, (prev[1] - prev[0]) // 2) if seam_l else 0
        hr = min(half, (o1 - o0) // 2, (nxt[1] - nxt[0]) // 2) if seam_r else 0
        a, b = max(x0, o0 - hl), min(x1, o1 + hr)
        if b <= a:
            continue
        source = reader if kind == "file" else replay if kind == "replay" else kind
        src = source.get(s0 + (a - o0), s0 + (b - o0))
        pos = np.arange(a, b)
        g = np.ones(b - a, np.float32)
        if hl:
            rise = np.clip((pos - (o0 - hl) + 0.5) / (2 * hl), 0, 1)
            g *= (0.5 - 0.5 * np.cos(np.pi * rise)).astype(np.float32)
        if hr:
            fall = np.clip((pos - (o1 - hr) + 0.5) / (2 * hr), 0, 1)
            g *= (0.5 + 0.5 * np.cos(np.pi * fall)).astype(np.float32)
        out[:, a - x0:b - x0] += src * g
    return out
