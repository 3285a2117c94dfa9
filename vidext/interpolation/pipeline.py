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
from ..media.runner import ProgressMeter
from ..timemap import TimeMap
from .base import Between, Interpolator, Planes
from .scenes import SceneGate
from .timeline import Span, Timeline


@dataclass
class RenderStats:
    frames_in: int = 0
    frames_out: int = 0
    interpolated: int = 0
    copied: int = 0
    cuts: int = 0                # input pairs detected as scene cuts (held, never morphed)
    duplicates: int = 0          # input frames dropped as duplicates (their time interpolated)


def _blurred(pair: Between, t0: float, t1: float, samples: int, like: Planes, peak: int) -> Planes:
    """Average of the pictures over [t0, t1] (motion-blur synthesis)."""
    acc = None
    for t in np.linspace(t0, t1, samples):
        planes = pair.at(float(min(max(t, 1e-6), 1 - 1e-6)))
        if acc is None:
            acc = [p.astype(np.float32) for p in planes]
        else:
            for a, p in zip(acc, planes):
                a += p
    return tuple(np.clip(a / samples + 0.5, 0, peak).astype(p.dtype) for a, p in zip(acc, like))


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
    side) and duplicates.  ``motion_blur`` > 0 averages each in-between
    picture over that fraction of an output frame interval.  With ``part``
    (``frames`` then start at ``part.first`` and end at ``part.last``) only
    that part's output frames are made, on the whole clip's grid.
    """
    eps = Fraction(config.TIME_EPSILON)
    to_input = timemap.to_input if timemap is not None else (lambda t: t)
    prev: Frame | None = None
    last_time: Fraction | None = None
    timeline: Timeline | None = None
    k = 0

    def inside(a: Fraction, b: Fraction) -> bool:
        return smooth_range is None or (smooth_range[0] - eps <= a and b <= smooth_range[1] + eps)

    for b in frames:
        stats.frames_in += 1
        last_time = b.time
        if prev is None:
            out = timemap.to_output if timemap is not None else (lambda t: t)
            timeline = Timeline(out(b.time if part is None else part.origin), rate)
            if part is not None:   # the first output frame at or after this part's first frame
                k = timeline.count_before(out(b.time) - eps)
            prev = b
            continue
        smooth = inside(prev.time, b.time)
        if smooth and gate is not None and gate.is_duplicate(prev, b):
            stats.duplicates += 1
            continue
        cut = gate is not None and gate.is_cut(prev, b)
        stats.cuts += cut
        pair = None
        span = b.time - prev.time
        while True:
            t_out = timeline.time(k)
            t_in = to_input(t_out)
            if t_in >= b.time - eps:
                break
            if t_in - prev.time <= eps or cut or not smooth:
                planes = prev.planes
                stats.copied += 1
            else:
                pair = pair or interpolator.between(prev, b)
                frac = float((t_in - prev.time) / span)
                if motion_blur > 0:
                    half = Fraction(motion_blur) / (2 * rate)
                    lo = float((to_input(max(t_out - half, timeline.start)) - prev.time) / span)
                    hi = float((to_input(t_out + half) - prev.time) / span)
                    planes = _blurred(pair, max(lo, 0.0), min(hi, 1.0), config.MOTION_BLUR_SAMPLES,
                                      prev.planes, prev.layout.peak)
                else:
                    planes = pair.at(frac)
                stats.interpolated += 1
            yield planes, t_out
            k += 1
            stats.frames_out += 1
            if meter:
                meter.advance()
        prev = b
    if prev is None:
        return
    # the last frame is held for its own duration; a part ends where the next one starts
    end = last_time + frame_duration if part is None or part.last is None else part.last
    end_out = timemap.to_output(end) if timemap is not None else end
    while timeline.time(k) < end_out - eps:
        yield prev.planes, timeline.time(k)
        stats.copied += 1
        k += 1
        stats.frames_out += 1
        if meter:
            meter.advance()
