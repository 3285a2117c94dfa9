"""The clip as the extenders need it: a small index, and frames read again on demand.

A whole clip is never held.  :class:`ClipIndex` keeps, while frames stream
past, every frame's time, the frames next to each end (a few, full size) and
a bounded, downscaled luma index (``EXTEND_INDEX_*``) for finding loop
points.  :class:`ClipReader` then reads runs of frames from the file again by
index: forward runs seek to the nearest keyframe and decode; backward runs
decode bounded chunks (``EXTEND_REVERSE_BUFFER_MB``) and play each
chunk reversed.

A frame read again must be the frame the first pass saw.  Decoding after a
seek is where streams betray a reader (sync samples that are not random
access points, recovery points, open GOPs, a decoder that conceals missing
references with blank or green pictures), so the index also keeps a tiny
signature of every frame (:func:`signature`: 4×4 means of each plane, 48
bytes) and :class:`ClipReader` compares each re-read frame with it.  A frame
that differs makes the reader decode again from the start of the file, where
decoding is what the first pass did; a frame that still differs is an
:class:`~vidext.errors.InputError`, never a silently corrupt output.
"""
from __future__ import annotations

import bisect
import collections
import os
from fractions import Fraction
from typing import Iterator

import cv2
import numpy as np

from .. import config
from ..errors import InputError
from ..media.frame import Colour, Frame, PixelLayout, planes_from_av, to_u8
from ..media.probe import InputFile, video_stream
from ..media.reader import decode_video, fit_size, seek_stream, stream_time_base, timed_frames
from .base import ClipView

EXTEND_REVERSE_BUFFER_MB = 256       # frames held at once to play a run of the clip backwards
EXTEND_INDEX_WIDTH = 64              # px: width of the downscaled luma index used to find loop points
EXTEND_INDEX_MAX_FRAMES = 18_000     # frames indexed next to each end (bounds memory on long clips)
#: MB of full-size frames next to an extended end that the indexing pass keeps for ``auto``, whose
#: measuring reads them again (the loop search's frames near the edge, the ramp's probe): served from
#: here, they are not decoded a second time (bigbuckbunny, 720p, one keyframe: its last 40 frames, 55 MB,
#: read again decoded all 132; 46 frames fit)
EXTEND_KEEP_MB = 64


def thumbnail(frame: Frame, width: int = EXTEND_INDEX_WIDTH) -> np.ndarray:
    """Downscaled 8-bit luma of ``frame`` (area-averaged), for matching frames cheaply."""
    y = frame.luma8()
    h = max(4, round(frame.height * width / frame.width))
    return cv2.resize(y, (width, h), interpolation=cv2.INTER_AREA)


SIGNATURE_GRID = 4          # a signature holds grid × grid means of each plane
SIGNATURE_TOLERANCE = 2     # 8-bit levels: a decoder is bit-exact, so equal frames differ by 0


def signature(frame: Frame) -> np.ndarray:
    """4×4 area means of every plane on the 8-bit scale (uint8, planes × 16): cheap, and any
    blank, green or concealed picture changes it."""
    bits = frame.layout.bits
    cells = [cv2.resize(p, (SIGNATURE_GRID, SIGNATURE_GRID), interpolation=cv2.INTER_AREA)
             for p in frame.planes]
    return np.stack([to_u8(c, bits) for c in cells])


class Signatures:
    """Every frame's :func:`signature`, packed in one growing buffer (48 bytes a frame)."""

    def __init__(self):
        self._data = bytearray()
        self._shape: tuple[int, ...] | None = None
        self._size = 0

    def append(self, sig: np.ndarray) -> None:
        if self._shape is None:
            self._shape, self._size = sig.shape, sig.size
        self._data += sig.tobytes()

    def __len__(self) -> int:
        return len(self._data) // self._size if self._size else 0

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(index)
        a = index * self._size
        return np.frombuffer(self._data, np.uint8, self._size, a).reshape(self._shape)


class _Diverged(Exception):
    """A frame read again does not match the first pass's signature."""

    def __init__(self, index: int, difference: float):
        super().__init__(index, difference)
        self.index, self.difference = index, difference


class ClipIndex:
    """Times, edge frames and a downscaled index, gathered from one pass over the clip."""

    def __init__(self, *, context: int = 1, thumbs: bool = False,
                 max_index: int = EXTEND_INDEX_MAX_FRAMES, keep: tuple[float, float] = (0, 0)):
        """``keep``: MB of full-size frames kept at the (start, end) of the clip (:meth:`kept`)."""
        self.times: list[Fraction] = []
        self.head: list[Frame] = []
        self.tail: collections.deque[Frame] = collections.deque(maxlen=max(1, context))
        self._context = max(1, context)
        self._thumbs = thumbs
        self._max = max_index
        self.head_thumbs: list[np.ndarray] = []
        self.tail_thumbs: collections.deque[np.ndarray] = collections.deque(maxlen=max_index)
        self.signatures = Signatures()
        self._keep = (keep[0] * 1e6, keep[1] * 1e6)
        self._kept_head: list[Frame] = []
        self._kept_tail: collections.deque[Frame] = collections.deque()
        self._kept_bytes = [0, 0]

    @property
    def count(self) -> int:
        return len(self.times)

    def kept(self, direction: str) -> dict[int, Frame]:
        """The frames kept next to ``direction``'s end (``keep``), by generation-order index."""
        n = self.count
        if direction == "forward":
            return {n - len(self._kept_tail) + k: f for k, f in enumerate(self._kept_tail)}
        return {n - 1 - k: f for k, f in enumerate(self._kept_head)}

    def drop_kept(self) -> None:
        """Let the kept frames go (the sides are planned)."""
        self._kept_head, self._kept_tail = [], collections.deque()
        self._keep, self._kept_bytes = (0, 0), [0, 0]

    def _hold(self, frame: Frame) -> None:
        size = sum(p.nbytes for p in frame.planes)
        if self._kept_bytes[0] + size <= self._keep[0]:
            self._kept_head.append(frame)
            self._kept_bytes[0] += size
        if size <= self._keep[1]:
            self._kept_tail.append(frame)
            self._kept_bytes[1] += size
            while self._kept_bytes[1] > self._keep[1]:
                self._kept_bytes[1] -= sum(p.nbytes for p in self._kept_tail.popleft().planes)

    def observe(self, frame: Frame) -> None:
        self.times.append(frame.time)
        self.signatures.append(signature(frame))
        if self._keep != (0, 0):
            self._hold(frame)
        if len(self.head) < self._context:
            self.head.append(frame)
        self.tail.append(frame)
        if self._thumbs:
            t = thumbnail(frame)
            if len(self.head_thumbs) < self._max:
                self.head_thumbs.append(t)
            self.tail_thumbs.append(t)

    def view(self, direction: str, *, rate: Fraction, layout: PixelLayout, colour: Colour,
             seed: int | None = None, prompt: str | None = None) -> ClipView:
        """The clip in generation order for an extension at ``direction``'s end."""
        if not self.times:
            raise InputError("the video has no decodable frames")
        first = self.head[0]
        if direction == "forward":
            context = list(self.tail)
            thumbs = np.stack(list(self.tail_thumbs)) if self._thumbs else None
        else:
            context = self.head[::-1]
            thumbs = np.stack(self.head_thumbs[::-1]) if self._thumbs else None
        return ClipView(count=self.count, rate=rate, width=first.width, height=first.height, layout=layout,
                        colour=colour, context=context, thumbs=thumbs, direction=direction, seed=seed,
                        prompt=prompt)


class ClipReader(InputFile):
    """Reads frames of a file again, by index, in runs (context manager).

    ``signatures`` (from :class:`ClipIndex`, optional): every re-read frame is
    checked against them; ``repairs`` counts the reads that diverged after a
    seek and were decoded again from the start.  ``size`` (width, height):
    frames of another size (a stream that changes size) are scaled to it, as
    :class:`~vidext.media.reader.FrameSource` does in the first pass.  ``timestamps`` False
    (an elementary stream, :attr:`VideoInfo.timestamps`): frames are timed one ``1 / rate`` apart
    from the start as in the first pass (:func:`~vidext.media.reader.timed_frames`), and every
    run decodes from the start, since a seek cannot say where it landed.
    """

    def __init__(self, path: str, times: list[Fraction], layout: PixelLayout, colour: Colour,
                 rate: Fraction, buffer_mb: float = EXTEND_REVERSE_BUFFER_MB,
                 signatures: Signatures | None = None, size: tuple[int, int] | None = None,
                 timestamps: bool = True):
        self.path, self.times, self.layout, self.colour = path, times, layout, colour
        self.rate, self.timestamps = rate, timestamps
        self.signatures = signatures
        self.size = size
        self.repairs = 0
        self.tolerance = Fraction(1, 2) / rate
        self.buffer_bytes = buffer_mb * 1e6
        self._container = None
        self._cache: collections.OrderedDict[int, Frame] = collections.OrderedDict()
        self.seeks = 0

    # -- decoding --------------------------------------------------------------
    def _index_of(self, t: Fraction) -> int | None:
        i = bisect.bisect_left(self.times, t)
        best = None
        for k in (i - 1, i):
            if 0 <= k < len(self.times) and abs(self.times[k] - t) <= self.tolerance:
                if best is None or abs(self.times[k] - t) < abs(self.times[best] - t):
                    best = k
        return best

    def _decode_from(self, index: int) -> Iterator[tuple[int, Frame]]:
        """(index, frame) from about ``index`` on; seeks to the keyframe before it."""
        s = video_stream(self._container)
        if index > 0 and self.timestamps:
            seek_stream(self._container, s, self.times[index])
            self.seeks += 1
            frames = self._frames(s)
            try:
                first = next(frames, None)
                if first is not None and (first[0] is None or first[0] <= index):
                    yield first
                    yield from frames
                    return
            except _Diverged:
                # decoding after this seek is not what the first pass saw (frames already given
                # were checked; the caller skips them when they come again)
                self.repairs += 1
        # The first frame, a seek that landed past the frame or found nothing (MPEG-TS seeks by
        # byte position and can miss), or one whose frames diverged: decode from the very start of
        # a freshly opened file.
        self.__exit__(None, None, None)
        self.__enter__()
        self.seeks += 1
        try:
            yield from self._frames(video_stream(self._container))
        except _Diverged as exc:
            raise InputError(f"frame {exc.index} of {os.path.basename(self.path)} decodes differently when "
                             f"read again (mean difference {exc.difference:.1f} levels, limit "
                             f"{SIGNATURE_TOLERANCE}): the decoder is not deterministic on this file; "
                             f"re-encode it (for example to H.264 4:2:0) and try again") from None

    def _frames(self, s) -> Iterator[tuple[int | None, Frame]]:
        decoded = decode_video(self._container, s, os.path.basename(self.path))
        for t, f in timed_frames(decoded, stream_time_base(s), 1 / self.rate, self.timestamps):
            idx = self._index_of(t)
            if idx is None:
                continue
            if self.size is not None:
                f = fit_size(f, *self.size, self.layout)
            frame = Frame(planes_from_av(f, self.layout), self.times[idx], self.layout, self.colour)
            if self.signatures is not None:
                diff = np.abs(signature(frame).astype(np.int16) - self.signatures[idx]).max()
                if diff > SIGNATURE_TOLERANCE:
                    raise _Diverged(idx, float(diff))
            yield idx, frame

    # -- runs ------------------------------------------------------------------
    def forward(self, start: int, count: int) -> Iterator[Frame]:
        """Frames ``start … start+count-1`` (a missing frame repeats its neighbour)."""
        end = start + count
        nxt, prev = start, None
        for idx, frame in self._decode_from(start):
            if idx < nxt:
                continue
            while nxt <= idx and nxt < end:
                yield frame
                nxt += 1
            prev = frame
            if nxt >= end:
                return
        if prev is None:
            raise InputError(f"cannot read frame {start} of {os.path.basename(self.path)} again")
        while nxt < end:
            yield prev
            nxt += 1

    def backward(self, start: int, count: int) -> Iterator[Frame]:
        """Frames ``start, start-1, … start-count+1``, decoded in bounded chunks."""
        frame_bytes = max(1, sum(p.nbytes for p in self.frame(start).planes))
        chunk = max(1, int(self.buffer_bytes // frame_bytes))
        hi, lo_end = start, start - count + 1
        while hi >= lo_end:
            lo = max(lo_end, hi - chunk + 1)
            frames = list(self.forward(lo, hi - lo + 1))
            yield from reversed(frames)
            hi = lo - 1

    def frame(self, index: int) -> Frame:
        """One frame by index (a few recent ones are cached)."""
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        frame = next(iter(self.forward(index, 1)))
        self._cache[index] = frame
        while len(self._cache) > 4:
            self._cache.popitem(last=False)
        return frame

    def run(self, start: int, count: int, step: int) -> Iterator[Frame]:
        if step == 0:
            f = self.frame(start)
            for _ in range(count):
                yield f
        elif step > 0:
            yield from self.forward(start, count)
        else:
            yield from self.backward(start, count)
