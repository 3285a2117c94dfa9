"""The extension pipeline: new frames before and/or after the untouched clip, as a frame stream.

:func:`extension_compute` is the ``compute`` stage that :mod:`vidext.jobs.extend` hands to
:func:`vidext.media.transcode.run_video_job`.

The output is the clip's own frames (decoded once, encoded once: no colour
round trip, same size, rate, layout, colour and rotation) with ``count`` new
frames at the chosen end(s), on the clip's own frame grid.  Backward
extensions come first and shift the original by ``before / rate`` seconds.

Memory stays bounded: the original streams through the runner; extenders
see a :class:`~vidext.extension.clip.ClipIndex`; repeated frames are read
from the file again by :class:`~vidext.extension.clip.ClipReader`.  When a
backward extension needs an index before the first frame can be written, the
file is decoded once more up front (decoding is several times faster than
encoding).  Synthesised frames made away from the junction but played towards
it (backward) are spooled losslessly (FFV1) in a temporary folder and read
back reversed.

A side may also *retime* real frames (``ramp``, :attr:`Extender.retimes`): its
schedule replaces the last (first) K real frames of the shot by K + N frames
that play the same stretch slower.  Such a job indexes the clip and plans every
side up front (:func:`plans_up_front`), withholds the K originals from the
stream, and records the side's time map for the sound (:meth:`ShownFrames.retime`)
and the retimed frames for the sidecar (``extension.retimed``); the output is
still N frames longer per side.  A forward side takes the K originals (and the
frame before them) from the stream itself, as it reaches them, instead of
decoding the file again; ``auto`` measures its candidates on frames next to the
extended end that the indexing pass kept (:data:`~vidext.extension.clip.EXTEND_KEEP_MB`).
"""
from __future__ import annotations

import itertools
import math
import os
import tempfile
import threading
from fractions import Fraction
from typing import Iterator

from .. import config
from ..errors import Cancelled
from ..media.frame import Frame
from ..media.probe import MediaInfo
from ..media.reader import FrameSource
from ..media.runner import ProgressMeter
from ..media.writer import FrameSink
from .base import Chooser, ClipView, Extender, Mix, Op, Planes, Repeater, Run, Synthesizer
from .clip import EXTEND_KEEP_MB as KEEP_MB, ClipIndex, ClipReader
from .shots import ShotTracker
from ..timemap import TimeMap


class ShownFrames:
    """Which source moment each new frame shows, per side, so that the sound can follow the picture.

    Filled by the job as it plans each side (before that side's first frame is
    written): ``times(direction)`` is the list of source frame times in play
    order, or ``None`` when the picture does not replay footage forwards
    (held, reversed or synthesised frames).  A side that retimes real frames
    (a speed ramp) records instead its time map (:meth:`retime`).

    ``up_front``: every side is planned before the first frame is written
    (:func:`plans_up_front`), so the sound may wait for all of them at its start.
    """

    def __init__(self, rate: Fraction, up_front: bool = False):
        self._sides: dict[str, list[Fraction] | None] = {}
        self._retimed: dict[str, tuple[TimeMap, int]] = {}
        self.rate = rate
        self.up_front = up_front
        self._events = {d: threading.Event() for d in ("backward", "forward")}

    def record(self, direction: str, times: list[Fraction] | None) -> None:
        self._sides[direction] = times
        self._events[direction].set()

    def retime(self, direction: str, timemap: TimeMap, held: int) -> None:
        """The side retimes real frames: ``timemap`` (the file's clock; output time counted from its
        ``in_start``) maps the retimed stretch of the source to the time it now plays; ``held``
        frames of a held picture lie beyond it (after it forward, before it backward)."""
        self._retimed[direction] = (timemap, held)
        self.record(direction, None)

    def abort(self) -> None:
        """The picture failed: wake whoever waits (they raise)."""
        for e in self._events.values():
            e.set()

    def wait(self, direction: str) -> list[Fraction] | None:
        """The side's shown times, waiting while the picture plans it (in the compute thread)."""
        self._events[direction].wait()
        if direction not in self._sides:
            raise Cancelled("the extension's picture stopped before this side was planned")
        return self._sides[direction]

    def retimed(self, direction: str) -> tuple[TimeMap, int] | None:
        """(time map, held frames) of a side that retimes real frames, else None (waits like :meth:`wait`)."""
        self.wait(direction)
        return self._retimed.get(direction)


def plans_up_front(extender: Extender, before: int) -> bool:
    """Whether the pipeline plans every side before writing: with new frames in front (the clip is
    indexed first anyway) or with an extender that may retime real frames (they must be withheld)."""
    return bool(before) or extender.retimes


def shown_indices(ops: list[Op]) -> list[int] | None:
    """Source frame index of every frame of play-order ``ops``, or None unless all replay forwards."""
    out: list[int] = []
    for op in ops:
        if isinstance(op, Mix):
            if op.shows is None:
                return None
            out.append(op.shows)
        elif op.step == 1 or op.count == 1:
            out.extend(op.indices())
        else:
            return None
    return out


def play_order(ops: list[Op], count: int, direction: str) -> list[Op]:
    """Generation-order ops → play-order ops in the file's own frame indices."""
    if direction == "forward":
        return list(ops)
    last = count - 1
    out: list[Op] = []
    for op in reversed(ops):
        if isinstance(op, Mix):
            out.append(Mix(last - op.a, last - op.b, op.t, None if op.shows is None else last - op.shows))
        else:
            end = op.start + (op.count - 1) * op.step        # gen index played first once reversed
            out.append(Run(last - end, op.count, op.step))
    return out


class _Walk:
    """Frames the single-frame ops of a schedule need (each mix's pair, single real frames), read
    from the file: where they are a run of neighbouring frames that the ops walk through in file
    order (a speed ramp), in one decoding pass holding a few frames; else one by one.

    ``feed`` = (first index, frames from it on in file order): the job's own stream of the clip,
    already being decoded (a forward ramp's withheld frames): the run is taken from it instead of
    decoding the file again (in a file with few keyframes, from far back); past its end, the file."""

    def __init__(self, ops: list[Op], reader: ClipReader, feed: tuple[int, Iterator[Frame]] | None = None):
        self.reader = reader
        self.feed = feed
        used = [(min(op.a, op.b), max(op.a, op.b)) if isinstance(op, Mix) else (op.start, op.start)
                for op in ops if isinstance(op, Mix) or op.count == 1]
        self.range = None
        if len(used) > 2 and all(q[1] >= p[1] and q[0] >= p[0] for p, q in zip(used, used[1:])):
            lo, hi = used[0][0], used[-1][1]
            covered = set()
            for a, b in used:
                covered.update(range(a, b + 1))
            if covered == set(range(lo, hi + 1)):
                self.range = (lo, hi)
        self._frames: Iterator[Frame] | None = None
        self._held: dict[int, Frame] = {}
        self._next = None

    def frame(self, index: int) -> Frame:
        if self.range is None or not self.range[0] <= index <= self.range[1]:
            return self.reader.frame(index)
        if index in self._held:
            return self._held[index]
        if self._frames is None:
            lo, hi = self.range
            self._frames, self._next = iter(self._run(lo, hi)), lo
        while self._next <= index:
            self._held[self._next] = next(self._frames)
            self._held.pop(self._next - 3, None)
            self._next += 1
        return self._held[index] if index in self._held else self.reader.frame(index)

    def _run(self, lo: int, hi: int) -> Iterator[Frame]:
        """Frames ``lo … hi``: from the feed where it starts at or before ``lo`` (never pulling a
        frame past ``hi`` from it), the rest from the file."""
        k = lo
        if self.feed is not None and self.feed[0] <= lo:
            k, frames = self.feed
            while k <= hi:
                f = next(frames, None)
                if f is None:
                    break
                if k >= lo:
                    yield f
                k += 1
        if k <= hi:
            yield from self.reader.forward(k, hi - k + 1)


def render_ops(ops: list[Op], reader: ClipReader, interpolator_factory, holds=None,
               feed: tuple[int, Iterator[Frame]] | None = None) -> Iterator[Planes]:
    """Planes for every op, reading runs from the file (or ``feed``: :class:`_Walk`) and interpolating
    mixes; where ``holds(pair, a, b)`` (:meth:`Repeater.gate`), a mix shows the nearer of its two real frames.

    The pictures of different pairs are made up to :attr:`Interpolator.concurrency` at once
    (:func:`~vidext.media.runner.ordered_map`: a speed ramp makes one or more for each of a hundred
    pairs), and come out in order; frames are read in order, in the caller's thread."""
    from ..media.runner import ordered_map

    walk = _Walk(ops, reader, feed)
    interpolator = interpolator_factory() if any(isinstance(op, Mix) for op in ops) else None

    def units() -> Iterator[tuple]:
        """In order: ("frame", planes) per real frame shown, ("pair", a, b, frame a, frame b, [t, ...])
        per run of mixes of one pair."""
        group = None
        for op in ops:
            if isinstance(op, Mix) and group is not None and (group[1], group[2]) == (op.a, op.b):
                group[5].append(op.t)
                continue
            if group is not None:
                yield group
                group = None
            if isinstance(op, Mix):
                group = ("pair", op.a, op.b, walk.frame(op.a), walk.frame(op.b), [op.t])
            elif op.count == 1:
                yield ("frame", walk.frame(op.start).planes)
            else:
                for frame in reader.run(op.start, op.count, op.step):
                    yield ("frame", frame.planes)
        if group is not None:
            yield group

    def made(unit: tuple) -> list[Planes]:
        if unit[0] == "frame":
            return [unit[1]]
        _, a, b, fa, fb, ts = unit
        pair = interpolator.between(fa, fb)
        if holds is not None and holds(pair, a, b):
            return [(fa if t < 0.5 else fb).planes for t in ts]
        return pair.at_many(ts)

    workers = interpolator.concurrency if interpolator is not None else 1
    for pictures in ordered_map(made, units(), workers):
        yield from pictures


def spooled_reversed(frames: Iterator[Planes], view: ClipView, folder: str) -> Iterator[Planes]:
    """Write planes losslessly to a spool file, then yield them in reverse order."""
    path = os.path.join(folder, "spool.mkv")
    times: list[Fraction] = []
    with FrameSink(path, width=view.width, height=view.height, layout=view.layout, rate=view.rate,
                   codec="ffv1", colour=view.colour) as sink:
        for k, planes in enumerate(frames):
            t = Fraction(k) / view.rate
            sink.write(planes, t)
            times.append(t)
    if not times:
        return
    with ClipReader(path, times, view.layout, view.colour, view.rate) as reader:
        for frame in reader.backward(len(times) - 1, len(times)):
            yield frame.planes


#: the sound of a retimed stretch changes speed at most every this many seconds (pieces of a time map)
SOUND_PIECE_S = 0.2


def _moment(times: list[Fraction], x: float) -> Fraction:
    """Clip time of fractional frame index ``x`` (file order), between its two neighbours' times."""
    i = min(max(0, math.floor(x)), len(times) - 1)
    f = Fraction(x - i).limit_denominator(10**6)
    if f == 0 or i + 1 >= len(times):
        return times[i]
    return times[i] + f * (times[i + 1] - times[i])


def sound_map(times: list[Fraction], rate: Fraction, shown: list[float], direction: str,
              held: int) -> TimeMap:
    """The time map of a retimed side (see :meth:`ShownFrames.retime`).

    ``shown``: file-order moment (fractional frame index) of each of the side's frames in play
    order, the untouched frame next to them (the anchor) included: first forward, last backward.
    Breakpoints every ``SOUND_PIECE_S``; a piece slower than the sound can be stretched
    (``config.STRETCH_MAX``) is merged with its neighbour.
    """
    frame = 1 / rate
    if direction == "forward":
        moves = shown[:len(shown) - held]
        ends = times[-1] + (times[-1] - times[-2] if len(times) > 1 else frame)
        last_speed = max(moves[-1] - moves[-2] if len(moves) > 1 else 1.0, 1 / config.STRETCH_MAX)
        points = [(Fraction(u), _moment(times, x)) for u, x in enumerate(moves)]
        points.append((Fraction(len(moves)), min(ends, points[-1][1] + Fraction(last_speed).limit_denominator(10**6)
                                                 * frame)))
    else:
        moves = shown[held:]
        points = [(Fraction(w), _moment(times, x)) for w, x in enumerate(moves)]
    g = max(1, round(SOUND_PIECE_S * float(rate)))
    keep = [points[0]] + [p for k, p in enumerate(points[1:-1], start=1) if k % g == 0] + [points[-1]]
    merged = True
    while merged and len(keep) > 2:
        merged = False
        for k in range(1, len(keep)):
            (u0, t0), (u1, t1) = keep[k - 1], keep[k]
            if t1 <= t0 or (u1 - u0) * frame > config.STRETCH_MAX * (t1 - t0):
                del keep[k if k < len(keep) - 1 else k - 1]
                merged = True
                break
    pieces = [(t0, t1, (u1 - u0) * frame / (t1 - t0)) for (u0, t0), (u1, t1) in zip(keep, keep[1:])]
    return TimeMap(pieces)


class Side:
    """One planned end of the extension: the extender that runs there, and what it replaces."""

    def __init__(self, extender: Extender, view: ClipView, count: int, reader: ClipReader,
                 ops: list[Op] | None = None, replaced: int = 0, stats: dict | None = None, held: int = 0):
        self.extender, self.view, self.count, self.reader = extender, view, count, reader
        self.ops, self.replaced = ops, replaced
        #: a side that retimes real frames: frames that hold the edge picture after it first shows
        self.held = held
        self.stats = stats

    @property
    def frames_out(self) -> int:
        """Frames this side writes (the replaced real frames included)."""
        return self.count + self.replaced

    def frames(self, folder: str, feed: tuple[int, Iterator[Frame]] | None = None) -> Iterator[Planes]:
        """The side's frames in play order (closes the reader when done); ``feed``: see :class:`_Walk`."""
        try:
            if self.ops is not None:
                yield from render_ops(self.ops, self.reader, self.extender.interpolator,
                                      self.extender.gate(self.view.direction), feed)
                return
            made = self.extender.synthesize(self.view, self.count)
            if self.view.direction == "forward":
                yield from made
            else:
                yield from spooled_reversed(made, self.view, folder)
        finally:
            self.close()

    def close(self) -> None:
        """Close the reader (twice is harmless); its repaired re-reads go to ``stats``."""
        self.reader.__exit__(None, None, None)
        if self.stats is not None and self.reader.repairs:
            self.stats["reread_repairs"] = self.stats.get("reread_repairs", 0) + self.reader.repairs
            self.reader.repairs = 0


def plan_side(extender: Extender, view: ClipView, count: int, source: MediaInfo, index: ClipIndex,
              shown: ShownFrames | None = None, stats: dict | None = None, lead: int = 0) -> Side:
    """Choose (``auto``) and schedule one end of ``source``; tells ``shown`` what the side shows.

    ``stats["reread_repairs"]`` counts re-reads that diverged from the first pass after a seek
    and were decoded again from the start; ``stats["retimed"][direction]`` names the real frames
    a ramp retimes (file indices, their seconds from the clip's first frame, and the output seconds
    they now play at; ``lead``: new frames written before the clip)."""
    times = index.times
    reader = ClipReader(source.path, times, view.layout, view.colour, view.rate, signatures=index.signatures,
                        size=(view.width, view.height), timestamps=source.video.timestamps)
    reader.__enter__()
    try:
        last = view.count - 1
        read = (reader.frame if view.direction == "forward" else (lambda i: reader.frame(last - i)))
        run = (reader.forward if view.direction == "forward" else (lambda i, k: reader.backward(last - i, k)))
        view.read, view.read_run = _kept_first(index.kept(view.direction), read, run)
        if isinstance(extender, Chooser):
            extender = extender.choose(view, count)
        if isinstance(extender, Repeater):
            replaced = extender.replaces(view, count)
            ops = play_order(extender.schedule(view, count), view.count, view.direction)
            held = 0
            if replaced:
                held = _retimed(extender, view, count, replaced, times, shown, stats, lead)
            elif shown is not None:
                idx = shown_indices(ops)
                shown.record(view.direction, None if idx is None else [times[i] for i in idx])
            return Side(extender, view, count, reader, ops, replaced, stats, held)
        if shown is not None:
            shown.record(view.direction, None)
        assert isinstance(extender, Synthesizer)
        return Side(extender, view, count, reader, stats=stats)
    except BaseException:
        Side(extender, view, count, reader, stats=stats).close()
        raise


def _kept_first(kept: dict[int, Frame], read, run):
    """``(read, read_run)`` of a view that serve the frames the index kept (generation-order index)
    and read the others from the file."""
    if not kept:
        return read, run

    def read_kept(i: int) -> Frame:
        return kept[i] if i in kept else read(i)

    def run_kept(i: int, k: int) -> Iterator[Frame]:
        j = i
        while j < i + k and j in kept:      # the kept head of the run
            yield kept[j]
            j += 1
        if j < i + k:
            yield from run(j, i + k - j)
    return read_kept, run_kept


def _retimed(extender: Repeater, view: ClipView, count: int, replaced: int, times: list[Fraction],
             shown: ShownFrames | None, stats: dict | None, lead: int) -> int:
    """Record a ramp side: the sound's time map, and the retimed frames in the sidecar; the number of
    frames that hold the edge picture after it first shows."""
    last, n = view.count - 1, view.count
    gen = extender.positions(view, count)
    anchor = n - 1 - replaced
    held = sum(1 for x in gen if x == n - 1) - 1
    if view.direction == "forward":
        play = [float(anchor)] + list(gen)
        first, final = anchor + 1, n - 1
    else:
        play = [last - x for x in reversed(gen)] + [float(last - anchor)]
        first, final = 0, replaced - 1
    if shown is not None:
        shown.retime(view.direction, sound_map(times, view.rate, play, view.direction, max(0, held)), max(0, held))
    if stats is not None:
        t0 = times[0]
        span = Fraction(replaced + count) / view.rate
        start = Fraction(lead + first) / view.rate if view.direction == "forward" else Fraction(0)
        plays = [float(start), float(start + span)]
        stats.setdefault("retimed", {})[view.direction] = {
            "frames": [first, final], "count": replaced,
            "seconds": [round(float(times[first] - t0), 4), round(float(times[final] - t0 + 1 / view.rate), 4)],
            "plays_seconds": [round(x, 4) for x in plays]}
    return max(0, held)


def extension_compute(*, info: MediaInfo, extender: Extender, before: int, after: int,
                      seed: int | None, prompt: str | None, stop: threading.Event | None, stats: dict,
                      shown: ShownFrames | None = None):
    """The ``compute`` stage of :func:`vidext.media.transcode.run_video_job` for an extension.

    ``shown`` (optional) receives, per side, which source moment each new
    frame shows, before that side's first frame is yielded (the sound follows it).
    Where :func:`plans_up_front`, the clip is indexed and every side planned before the first
    frame is written; a side that retimes real frames (a speed ramp) takes their place.
    """
    rate = info.video.rate          # as the plan: new frames at the rate the clip plays
    shift = Fraction(before) / rate
    stop = stop or threading.Event()
    up_front = plans_up_front(extender, before)

    def compute(frames: Iterator[Frame], meter: ProgressMeter):
        try:
            yield from _compute(frames, meter)
        finally:
            if shown is not None:   # nobody may wait for a side that will never be planned
                shown.abort()

    def _compute(frames: Iterator[Frame], meter: ProgressMeter):
        # auto measures its candidates on frames next to the extended ends: kept from the indexing pass
        keep = (KEEP_MB if before else 0, KEEP_MB if after else 0) if isinstance(extender, Chooser) else (0, 0)
        index = ClipIndex(context=extender.context_frames, thumbs=extender.needs_index, keep=keep)
        shots = ShotTracker() if extender.needs_index else None

        def observe(f: Frame) -> None:
            index.observe(f)
            if shots is not None:
                shots.observe(f)

        measured = [0]

        def candidate(method: str, worst: float, passed: bool) -> None:
            """A candidate of ``auto`` as it is measured: a point of the live quality view."""
            measured[0] += 1
            meter.point(measured[0], worst, method)
            if not passed:
                meter.point(measured[0], worst, "fails")

        def view_of(direction: str) -> ClipView:
            view = index.view(direction, rate=rate, layout=layout, colour=colour, seed=seed, prompt=prompt)
            view.extra["candidate"] = candidate
            if shots is not None:
                view.shot_start = shots.shot_start(direction)
                stats.setdefault("cuts", list(shots.cuts))
            if before and after and extender.retimes and not (shots is not None and shots.cuts):
                # both ends of one shot: each may retime at most half of it (the middle stays)
                view.extra["retime_limit"] = (index.count - 1) // 2
            return view

        def plan(direction: str, count: int) -> Side:
            choosing = isinstance(extender, Chooser)
            if choosing:            # the job's "choosing" stage runs inside its rendering
                meter.phase("choosing")
            try:
                return plan_side(extender, view_of(direction), count, info, index, shown, stats, before)
            finally:
                if choosing:
                    meter.phase(None)

        sides: dict[str, Side] = {}
        with tempfile.TemporaryDirectory(prefix="vidext-extend-") as folder:
            try:
                layout = colour = None
                if up_front:
                    # new frames come first, or real frames are withheld: the clip is indexed and
                    # every side planned before anything is written
                    if isinstance(extender, Chooser):
                        meter.phase("choosing")     # the index is read for the choice: its stage, not rendering's
                    with FrameSource(info.path, info) as again:
                        for f in again:
                            if stop.is_set():
                                raise Cancelled("the job was cancelled")
                            observe(f)
                        layout, colour = again.layout, again.colour
                    if before:
                        sides["backward"] = plan("backward", before)
                    if after:
                        sides["forward"] = plan("forward", after)
                    index.drop_kept()
                skip_head = sides["backward"].replaced if "backward" in sides else 0
                skip_tail = sides["forward"].replaced if "forward" in sides else 0
                if before:
                    t0 = index.times[0]
                    for k, planes in enumerate(sides["backward"].frames(folder)):
                        yield planes, t0 + Fraction(k) / rate
                        meter.advance()
                    stats["before"] = before
                last = None
                keep_until = index.count - skip_tail if up_front else None
                # a forward side that retimes the last frames takes them from this stream, right after
                # the frame before them (its anchor), instead of decoding the file again
                anchor = keep_until - 1 if skip_tail and keep_until - 1 >= skip_head else None
                feed = None
                for i, f in enumerate(frames):
                    if not up_front:
                        observe(f)
                    layout, colour = f.layout, f.colour
                    if i < skip_head or (keep_until is not None and i >= keep_until):
                        continue
                    last = f.time
                    yield f.planes, f.time + shift
                    meter.advance()
                    if i == anchor:
                        feed = (anchor, itertools.chain([f], frames))
                        break
                if after and last is not None:
                    if "forward" not in sides:
                        sides["forward"] = plan("forward", after)
                        index.drop_kept()
                    # the side ends where the clip ends plus its new frames, as planned: a side that
                    # retimes the last real frames plays them on the grid from the frame before them, and
                    # when the clip's last frame came late (a gap among them) the gap comes where the
                    # picture reaches that frame (the sound's time map, on the file's real times, reaches
                    # it there too), not closed (the output ending a frame early)
                    side, clip_last = sides["forward"], index.times[-1]
                    late = max(Fraction(0), clip_last - last - Fraction(side.replaced) / rate)
                    edge = side.frames_out - side.held        # the frame where the edge picture first shows
                    for k, planes in enumerate(side.frames(folder, feed), start=1):
                        yield planes, last + Fraction(k) / rate + (late if k >= edge else 0) + shift
                        meter.advance()
                    stats["after"] = after
                for f in frames:            # what the forward side did not take (the stream ends)
                    layout, colour = f.layout, f.colour
                stats["original"] = index.count
            finally:
                for side in sides.values():
                    side.close()

    return compute


# --- the job: check inputs → plan → run → result -------------------------------------------------
