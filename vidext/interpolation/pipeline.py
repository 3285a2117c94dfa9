"""Run an interpolator over a whole file: timestamps in, timestamps out.

Output frame k is shown at ``out_start + k / rate``; a :class:`TimeMap` (slow
motion, segment retimes) says which input time it shows.  An input time on a
real frame reuses it untouched; one between two frames is rendered from the
pair, whose flow is computed once and reused for every timestep in it.
Scene cuts and duplicated frames are gated here, outside the backends.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import numpy as np

from .. import config
from ..media.frame import Frame
from ..media.runner import ProgressMeter, ordered_map
from ..timemap import TimeMap
from .base import Between, Blend, Interpolator, Planes
from .scenes import SceneGate
from .timeline import Span, Timeline

# Motion blur: in-between pictures averaged over the shutter (config.MOTION_BLUR_SHUTTER when on).
MOTION_BLUR_SAMPLES = 5


@dataclass
class RenderStats:
    frames_in: int = 0
    frames_out: int = 0
    interpolated: int = 0
    copied: int = 0
    cuts: int = 0                # input pairs detected as scene cuts (held, never morphed)
    duplicates: int = 0          # input frames dropped as duplicates (their time interpolated)
    static: int = 0              # pairs where nothing moved: blended, no flow or network


@dataclass
class _Slot:
    """One output frame inside an input pair: copied from the first frame, or made at ``frac``."""

    t_out: Fraction
    t_in: Fraction
    frac: float | None           # None: the first frame's picture as it is


@dataclass
class _Pair:
    """One input pair, gated and planned: its output slots, and whether nothing moved in it."""

    a: Frame
    b: Frame
    slots: list[_Slot]
    static: bool
    cut: bool = False
    change: float | None = None        # the scene gate's cut score of the pair
    occlusion: float | None = None     # the backend's share of the picture it could not follow


def _blurred(pair: Between, t0: float, t1: float, samples: int, like: Planes, peak: int) -> Planes:
    """Average of the pictures over [t0, t1] (motion-blur synthesis), the samples in one batch."""
    ts = [float(min(max(t, 1e-6), 1 - 1e-6)) for t in np.linspace(t0, t1, samples)]
    acc = None
    for planes in pair.at_many(ts):
        if acc is None:
            acc = [p.astype(np.float32) for p in planes]
        else:
            for a, p in zip(acc, planes):
                a += p
    return tuple(np.clip(a / samples + 0.5, 0, peak).astype(p.dtype) for a, p in zip(acc, like))


class _Renderer:
    """The steps of :func:`render`, one input pair at a time:

    1. ``gate``: drop a duplicate, flag a cut, a static pair or a pair outside the smoothed range;
    2. ``slots``: the output frames whose input time falls in [a, b);
    3. ``pictures``: copies for frames on ``a``, cuts and unsmoothed pairs; a blend for static
       pairs; the interpolator's pictures for the rest, every timestep of the pair in one
       ``at_many`` call (one batched pass where the backend batches);
    4. ``emit``: yield them in order, counting; the pair's evidence (``evidence``) goes to the meter
       as points (:class:`vidext.media.runner.Point`, x in seconds from the first frame): ``change``
       (the gate's cut score), ``occlusion`` (the share the backend could not follow), marks at
       ``cut``, ``duplicate`` and ``still`` (a pair blended because nothing moved).

    Steps 1–2 run in order on the caller's thread; step 3 of several pairs runs at once
    when the interpolator says it may (:attr:`Interpolator.concurrency`), results still in order.
    """

    def __init__(self, interpolator: Interpolator, rate: Fraction, stats: RenderStats,
                 meter: ProgressMeter | None, timemap: TimeMap | None, gate: SceneGate | None,
                 smooth_range: tuple[Fraction, Fraction] | None, motion_blur: float):
        self.interpolator, self.rate, self.stats, self.meter = interpolator, rate, stats, meter
        self.timemap, self.gate, self.smooth_range, self.motion_blur = timemap, gate, smooth_range, motion_blur
        self.eps = Fraction(config.TIME_EPSILON)
        self.to_input = timemap.to_input if timemap is not None else (lambda t: t)
        self.timeline: Timeline | None = None
        self.origin: Fraction | None = None     # where x = 0 of the evidence lies
        self.k = 0
        self._blend = Blend()

    # 1. gate -------------------------------------------------------------------------------
    def smooth(self, a: Frame, b: Frame) -> bool:
        r = self.smooth_range
        return r is None or (r[0] - self.eps <= a.time and b.time <= r[1] + self.eps)

    def is_duplicate(self, a: Frame, b: Frame) -> bool:
        return self.smooth(a, b) and self.gate is not None and self.gate.is_duplicate(a, b)

    # 2. slots ------------------------------------------------------------------------------
    def slots(self, a: Frame, b: Frame, hold: bool) -> list[_Slot]:
        out = []
        span = b.time - a.time
        k = self.k
        while True:
            t_out = self.timeline.time(k)
            t_in = self.to_input(t_out)
            if t_in >= b.time - self.eps:
                break
            on_a = t_in - a.time <= self.eps
            out.append(_Slot(t_out, t_in, None if on_a or hold else float((t_in - a.time) / span)))
            k += 1
        return out

    # 3. pictures ---------------------------------------------------------------------------
    def pictures(self, a: Frame, b: Frame, slots: list[_Slot], static: bool,
                 into: _Pair | None = None) -> list[Planes]:
        todo = [s for s in slots if s.frac is not None]
        made: dict = {}
        if todo:
            pair = (self._blend if static else self.interpolator).between(a, b)
            if into is not None and not static:
                into.occlusion = pair.occlusion()
            if self.motion_blur > 0:
                for s in todo:
                    made[id(s)] = self._blurred(pair, a, b, s)
            else:
                made = dict(zip(map(id, todo), pair.at_many([s.frac for s in todo])))
        return [made[id(s)] if s.frac is not None else a.planes for s in slots]

    def _blurred(self, pair: Between, a: Frame, b: Frame, s: _Slot) -> Planes:
        span = b.time - a.time
        half = Fraction(self.motion_blur) / (2 * self.rate)
        lo = float((self.to_input(max(s.t_out - half, self.timeline.start)) - a.time) / span)
        hi = float((self.to_input(s.t_out + half) - a.time) / span)
        return _blurred(pair, max(lo, 0.0), min(hi, 1.0), MOTION_BLUR_SAMPLES, a.planes, a.layout.peak)

    # 4. emit -------------------------------------------------------------------------------
    def emit(self, planes: Planes, t_out: Fraction, made: bool) -> tuple[Planes, Fraction]:
        self.stats.frames_out += 1
        if made:
            self.stats.interpolated += 1
        else:
            self.stats.copied += 1
        if self.meter:
            self.meter.advance()
        return planes, t_out

    def x(self, t: Fraction) -> float:
        return float(t - self.origin)

    def evidence(self, p: _Pair) -> None:
        """What the pair showed, as points for the live quality view (measured already: no extra work)."""
        m = self.meter
        if m is None:
            return
        mid = self.x((p.a.time + p.b.time) / 2)
        if p.change is not None:
            m.point(mid, p.change, "change")
        if p.cut:
            m.point(self.x(p.b.time), None, "cut")
        elif p.static and any(s.frac is not None for s in p.slots):
            m.point(mid, None, "still")
        if p.occlusion is not None:
            m.point(mid, p.occlusion, "occlusion")

    def plan(self, a: Frame, b: Frame) -> _Pair:
        """Steps 1–2 for one pair (in order: the output frame count moves on here)."""
        smooth = self.smooth(a, b)
        change = self.gate.cut_score(a, b) if self.gate is not None else None
        cut = change is not None and change >= self.gate.scene_threshold
        self.stats.cuts += cut
        slots = self.slots(a, b, hold=cut or not smooth)
        self.k += len(slots)
        static = any(s.frac is not None for s in slots) and self.gate is not None and self.gate.is_static(a, b)
        self.stats.static += static
        return _Pair(a, b, slots, static, cut, change)

    def made(self, p: _Pair) -> tuple[_Pair, list[Planes]]:
        """Step 3 for one planned pair (any thread, when the interpolator allows it)."""
        return p, self.pictures(p.a, p.b, p.slots, p.static, p)

    def tail(self, last: Frame, end_out: Fraction) -> Iterator[tuple[Planes, Fraction]]:
        while self.timeline.time(self.k) < end_out - self.eps:
            self.k += 1
            yield self.emit(last.planes, self.timeline.time(self.k - 1), False)


def render(frames: Iterator[Frame], interpolator: Interpolator, rate: Fraction,
           frame_duration: Fraction, stats: RenderStats,
           meter: ProgressMeter | None = None, *, timemap: TimeMap | None = None,
           gate: SceneGate | None = None, smooth_range: tuple[Fraction, Fraction] | None = None,
           motion_blur: float = 0.0, part: Span | None = None) -> Iterator[tuple[Planes, Fraction]]:
    """Yield ``(planes, output time)`` for every output frame.

    ``timemap`` maps output time to input time (None: identity).  With
    ``smooth_range`` = (S, E) in input seconds, in-between frames are made only
    for pairs inside it, and duplicates are dropped only there: outside it
    frames are held untouched.  ``gate`` detects cuts (held from their own
    side), duplicates and static pairs (blended, no network).  ``motion_blur`` > 0 averages each in-between
    picture over that fraction of an output frame interval.  With ``part``
    (``frames`` then start at ``part.first`` and end at ``part.last``) only
    that part's output frames are made, on the whole clip's grid.  The steps
    are :class:`_Renderer`'s.
    """
    r = _Renderer(interpolator, rate, stats, meter, timemap, gate, smooth_range, motion_blur)
    prev: Frame | None = None
    last_time: Fraction | None = None     # of the last frame read, duplicates included

    def planned() -> Iterator[_Pair]:
        nonlocal prev, last_time
        for b in frames:
            stats.frames_in += 1
            last_time = b.time
            if prev is None:
                out = timemap.to_output if timemap is not None else (lambda t: t)
                r.origin = b.time if part is None else part.origin
                r.timeline = Timeline(out(r.origin), rate)
                if part is not None:   # the first output frame at or after this part's first frame
                    r.k = r.timeline.count_before(out(b.time) - r.eps)
                prev = b
                continue
            if r.is_duplicate(prev, b):
                stats.duplicates += 1
                if meter is not None:
                    meter.point(r.x(b.time), None, "duplicate")
                continue
            yield r.plan(prev, b)
            prev = b

    for p, pictures in ordered_map(r.made, planned(), interpolator.concurrency):
        for s, planes in zip(p.slots, pictures):
            yield r.emit(planes, s.t_out, s.frac is not None)
        r.evidence(p)
    if prev is None:
        return
    # the last frame is held for its own duration; a part ends where the next one starts
    end = last_time + frame_duration if part is None or part.last is None else part.last
    yield from r.tail(prev, timemap.to_output(end) if timemap is not None else end)
