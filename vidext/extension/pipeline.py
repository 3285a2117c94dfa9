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
"""
from __future__ import annotations

import os
import tempfile
import threading
from fractions import Fraction
from typing import Iterator

from ..errors import Cancelled
from ..media.frame import Frame
from ..media.probe import MediaInfo
from ..media.reader import FrameSource
from ..media.runner import ProgressMeter
from ..media.writer import FrameSink
from .base import Chooser, ClipView, Extender, Mix, Op, Planes, Repeater, Run, Synthesizer
from .clip import ClipIndex, ClipReader
from .shots import ShotTracker


class ShownFrames:
    """Which source moment each new frame shows, per side, so that the sound can follow the picture.

    Filled by the job as it plans each side (before that side's first frame is
    written): ``times(direction)`` is the list of source frame times in play
    order, or ``None`` when the picture does not replay footage forwards
    (held, reversed or synthesised frames).
    """

    def __init__(self, rate: Fraction):
        self._sides: dict[str, list[Fraction] | None] = {}
        self.rate = rate
        self._events = {d: threading.Event() for d in ("backward", "forward")}

    def record(self, direction: str, times: list[Fraction] | None) -> None:
        self._sides[direction] = times
        self._events[direction].set()

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


def render_ops(ops: list[Op], reader: ClipReader, interpolator_factory) -> Iterator[Planes]:
    """Planes for every op, reading runs from the file and interpolating mixes."""
    interpolator, pair, pair_key = None, None, None
    for op in ops:
        if isinstance(op, Run):
            for frame in reader.run(op.start, op.count, op.step):
                yield frame.planes
            continue
        if pair_key != (op.a, op.b):
            interpolator = interpolator or interpolator_factory()
            pair = interpolator.between(reader.frame(op.a), reader.frame(op.b))
            pair_key = (op.a, op.b)
        yield pair.at(op.t)


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


def side_frames(extender: Extender, view: ClipView, count: int, source: MediaInfo, index: ClipIndex,
                folder: str, shown: ShownFrames | None = None, stats: dict | None = None) -> Iterator[Planes]:
    """``count`` new frames for one end of ``source``, in play order; ``stats["reread_repairs"]``
    counts re-reads that diverged from the first pass after a seek and were decoded again from
    the start."""
    if count <= 0:
        return
    times = index.times
    with ClipReader(source.path, times, view.layout, view.colour, view.rate, signatures=index.signatures,
                    size=(view.width, view.height), timestamps=source.video.timestamps) as reader:
        try:
            last = view.count - 1
            view.read = (reader.frame if view.direction == "forward" else (lambda i: reader.frame(last - i)))
            if isinstance(extender, Chooser):
                extender = extender.choose(view, count)
            if isinstance(extender, Repeater):
                ops = play_order(extender.schedule(view, count), view.count, view.direction)
                if shown is not None:
                    idx = shown_indices(ops)
                    shown.record(view.direction, None if idx is None else [times[i] for i in idx])
                yield from render_ops(ops, reader, extender.interpolator)
                return
        finally:
            if stats is not None and reader.repairs:
                stats["reread_repairs"] = stats.get("reread_repairs", 0) + reader.repairs
    if shown is not None:
        shown.record(view.direction, None)
    assert isinstance(extender, Synthesizer)
    made = extender.synthesize(view, count)
    if view.direction == "forward":
        yield from made
    else:
        yield from spooled_reversed(made, view, folder)


def extension_compute(*, info: MediaInfo, extender: Extender, before: int, after: int,
                      seed: int | None, prompt: str | None, stop: threading.Event | None, stats: dict,
                      shown: ShownFrames | None = None):
    """The ``compute`` stage of :func:`vidext.media.transcode.run_video_job` for an extension.

    ``shown`` (optional) receives, per side, which source moment each new
    frame shows, before that side's first frame is yielded (the sound follows it).
    """
    rate = info.video.fps_nominal
    shift = Fraction(before) / rate
    stop = stop or threading.Event()

    def compute(frames: Iterator[Frame], meter: ProgressMeter):
        try:
            yield from _compute(frames, meter)
        finally:
            if shown is not None:   # nobody may wait for a side that will never be planned
                shown.abort()

    def _compute(frames: Iterator[Frame], meter: ProgressMeter):
        index = ClipIndex(context=extender.context_frames, thumbs=extender.needs_index)
        shots = ShotTracker() if extender.needs_index else None

        def observe(f: Frame) -> None:
            index.observe(f)
            if shots is not None:
                shots.observe(f)

        def view_of(direction: str) -> ClipView:
            view = index.view(direction, rate=rate, layout=layout, colour=colour, seed=seed, prompt=prompt)
            if shots is not None:
                view.shot_start = shots.shot_start(direction)
                stats.setdefault("cuts", list(shots.cuts))
            return view
        with tempfile.TemporaryDirectory(prefix="vidext-extend-") as folder:
            layout = colour = None
            if before:
                # the new frames come first, so the clip must be indexed before anything is written
                with FrameSource(info.path, info) as again:
                    for f in again:
                        if stop.is_set():
                            raise Cancelled("the job was cancelled")
                        observe(f)
                    layout, colour = again.layout, again.colour
                view = view_of("backward")
                t0 = index.times[0]
                for k, planes in enumerate(side_frames(extender, view, before, info, index, folder,
                                                       shown, stats)):
                    yield planes, t0 + Fraction(k) / rate
                    meter.advance()
                stats["before"] = before
            last = None
            for f in frames:
                if not before:
                    observe(f)
                layout, colour = f.layout, f.colour
                last = f.time
                yield f.planes, f.time + shift
                meter.advance()
            stats["original"] = index.count
            if after and last is not None:
                view = view_of("forward")
                for k, planes in enumerate(side_frames(extender, view, after, info, index, folder,
                                                       shown, stats), start=1):
                    yield planes, last + shift + Fraction(k) / rate
                    meter.advance()
                stats["after"] = after

    return compute


# --- the job: check inputs → plan → run → result -------------------------------------------------
