"""What a job will write, known before it runs: one planning source for the app, the CLI and the run.

Each job exposes a pure planning function (:func:`vidext.plan_interpolate`,
:func:`vidext.plan_extend`, :func:`vidext.plan_audio`) that reads only the
probe and the job's settings and returns a :class:`Plan`.  The job itself
runs from the very same plan object, so the frame count and duration the app
shows are the ones the run writes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from . import config
from .errors import InputError, ParameterError
from .media.probe import MediaInfo, probe, probe_video


@dataclass(frozen=True)
class Plan:
    """What a job will produce, from the probe and the settings alone.

    ``frames_out`` and ``duration_s`` are what the run writes (0 frames and
    rate 0 for a sound-only output; a video lasts until its last frame ends,
    ``frames_out / rate``); ``segment`` is the input range actually
    retimed, snapped to the frames used (None: the whole clip); ``summary``
    is one human line.  ``details`` carries what the job itself needs (the
    time map, frame counts per side ...); it is not part of the promise.
    """

    command: str
    duration_in_s: float
    duration_s: float
    rate: Fraction
    frames_out: int
    segment: tuple[float, float] | None
    summary: str
    details: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def fps(self) -> float:
        return float(self.rate)


def frames_before(duration: Fraction, rate: Fraction) -> int:
    """Output frames shown at k / ``rate`` that start before ``duration`` (what the pipeline writes)."""
    if rate <= 0 or duration <= 0:
        return 0
    return max(0, math.ceil((duration - Fraction(config.TIME_EPSILON)) * rate))


def media_info(source: str | MediaInfo, *, need_video: bool = True) -> MediaInfo:
    """``source`` itself when it is a probe already, else the file probed."""
    if isinstance(source, MediaInfo):
        if need_video and source.video is None:
            raise InputError(f"{source.path} has no video stream")
        return source
    return probe_video(source) if need_video else probe(source)


def summary_line(duration_in: float, duration_out: float, frames_out: int, rate: Fraction) -> str:
    """``2.00 s → 2.76 s · 69 frames at 25 fps`` (frames omitted for sound)."""
    line = f"{duration_in:.2f} s → {duration_out:.2f} s"
    if frames_out:
        line += f" · {frames_out} frames at {float(rate):.6g} fps"
    return line


def check_direction(direction: str) -> str:
    """``direction`` if it is forward, backward or both: the one check extend and audio share."""
    if direction not in config.EXTEND_DIRECTIONS:
        raise ParameterError(f"direction must be one of {', '.join(config.EXTEND_DIRECTIONS)}, got {direction!r}")
    return direction


def sides(amount, direction: str):
    """(before, after): ``amount`` at the end(s) ``direction`` names, zero at the other."""
    check_direction(direction)
    zero = amount * 0
    return (amount if direction in ("backward", "both") else zero,
            amount if direction in ("forward", "both") else zero)
