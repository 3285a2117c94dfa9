"""What every job returns: one small protocol.

:class:`vidext.media.job.JobResult` (interpolate, extend),
:class:`vidext.sound.job.AudioResult` (audio) and
:class:`vidext.evaluation.report.EvaluationReport` (evaluate) all carry the
seconds the job took and turn into a JSON-ready dict; front ends that show
any job's result need nothing more.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Result(Protocol):
    """A finished job: how long it took and everything it recorded."""

    seconds: float

    def as_dict(self) -> dict: ...
