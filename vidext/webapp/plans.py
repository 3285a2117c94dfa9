"""The engine's plans as the app asks for them: what a job will write, before it runs.

The engine is the one planning source: ``vidext.plan_interpolate``,
``vidext.plan_extend`` and ``vidext.plan_audio`` when this build has them
(they read the probe and the settings and return a ``vidext.plan.Plan``),
else the engine's own retime plan for Interpolate.  The app never works a
plan out itself, so the frames and duration it announces are the run's.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..media.probe import MediaInfo


@dataclass(frozen=True)
class _Plan:
    """The fields of ``vidext.plan.Plan`` the app reads (for builds without ``vidext.plan_*``)."""

    duration_in_s: float
    duration_s: float
    rate: Fraction
    frames_out: int
    segment: tuple[float, float] | None

    @property
    def fps(self) -> float:
        return float(self.rate)


def plan(kind: str, info: MediaInfo, **settings):
    """``vidext.plan_<kind>(info, **settings)``; raises the engine's VidextError for bad settings."""
    import vidext

    fn = getattr(vidext, f"plan_{kind}", None)
    if fn is not None:
        return fn(info, **settings)
    return _ENGINE_STEPS[kind](info, **settings)


def _interpolate(info: MediaInfo, *, factor=None, fps=None, slowmo=None, start=None, end=None, **_):
    """The retime plan ``vidext.interpolate`` runs from, and the frame count it computes from it."""
    from ..interpolation.retime import plan_retime

    v = info.video
    in_start = Fraction(v.start_s).limit_denominator(10**6)
    in_end = in_start + Fraction(v.duration_s).limit_denominator(10**6)
    p = plan_retime(v.fps_nominal, in_start, in_end, factor=factor, fps=fps, slowmo=slowmo, start=start, end=end)
    duration = p.out_duration(in_start, in_end)
    segment = None if p.smooth_range is None else tuple(float(t - in_start) for t in p.smooth_range)
    return _Plan(float(in_end - in_start), float(duration), p.rate, int(round(duration * p.rate)), segment)


def _extend(info: MediaInfo, *, seconds, direction="forward", **_):
    from . import timeline  # until vidext.plan_extend is merged

    p = timeline.plan_extend(info, seconds=seconds, direction=direction)
    return _Plan(p.duration_in, p.duration_out, Fraction(p.fps_out).limit_denominator(1001), p.frames_out, None)


def _audio(info: MediaInfo, *, stretch=None, extend=None, direction="forward", audio_file=None, **_):
    from . import timeline  # until vidext.plan_audio is merged

    v = info.video
    dur = v.duration_s if v is not None else info.duration_s
    if audio_file is not None:
        return _Plan(dur, dur, v.fps_nominal if v else Fraction(0), v.frame_count or 0, None)
    p = timeline.plan_audio(dur, stretch=stretch, extend=extend, direction=direction)
    return _Plan(p.duration_in, p.duration_out, Fraction(0), 0, None)


_ENGINE_STEPS = {"interpolate": _interpolate, "extend": _extend, "audio": _audio}
