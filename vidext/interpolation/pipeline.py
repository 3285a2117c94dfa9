"""Run an interpolator over a whole file: timestamps in, timestamps out."""
from __future__ import annotations

import threading
import time as _time
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

from .. import config
from ..media.frame import Frame
from ..media.runner import ProgressMeter
from .base import Interpolator, Planes
from .timeline import Timeline


@dataclass
class RenderStats:
    frames_in: int = 0
    frames_out: int = 0
    interpolated: int = 0
    copied: int = 0


def render(frames: Iterator[Frame], interpolator: Interpolator, rate: Fraction,
           frame_duration: Fraction, stats: RenderStats,
           meter: ProgressMeter | None = None) -> Iterator[tuple[Planes, Fraction]]:
    """Yield ``(planes, time)`` for every output frame, aligned to the first input frame.

    An output time that coincides with an input frame (within
    ``config.TIME_EPSILON``) reuses it untouched; times after the last input
    frame, up to its end, hold the last frame.
    """
    eps = Fraction(config.TIME_EPSILON)
    prev: Frame | None = None
    timeline: Timeline | None = None
    k = 0
    for b in frames:
        stats.frames_in += 1
        if prev is None:
            timeline = Timeline(b.time, rate)
            prev = b
            continue
        pair = None
        span = b.time - prev.time
        while timeline.time(k) < b.time - eps:
            t = timeline.time(k)
            frac = (t - prev.time) / span
            if t - prev.time <= eps:
                planes = prev.planes
                stats.copied += 1
            else:
                pair = pair or interpolator.between(prev, b)
                planes = pair.at(float(frac))
                stats.interpolated += 1
            yield planes, t
            k += 1
            stats.frames_out += 1
            if meter:
                meter.advance()
        prev = b
    if prev is None:
        return
    end = prev.time + frame_duration
    while timeline.time(k) < end - eps:
        yield prev.planes, timeline.time(k)
        stats.copied += 1
        k += 1
        stats.frames_out += 1
        if meter:
            meter.advance()
