"""The engine's plans as the app asks for them: what a job will write, before it runs.

The engine is the one planning source: ``vidext.plan_interpolate``,
``vidext.plan_extend`` and ``vidext.plan_audio`` read the probe and the
settings and return a :class:`vidext.plan.Plan`; the job runs from the same
plan, so the frames and duration the app announces are the run's.  The app
never works a plan out itself.
"""
from __future__ import annotations

from .. import api
from ..media.probe import MediaInfo


def plan(kind: str, info: MediaInfo, **settings):
    """``vidext.plan_<kind>(info, **settings)``; raises the engine's VidextError for bad settings."""
    return getattr(api, f"plan_{kind}")(info, **settings)
