"""What every job returns: a :class:`Result`.

Every result carries the seconds the job took and turns into a JSON-ready dict
(``as_dict()``); front ends that show any job's result need nothing more.

- :class:`JobResult`: interpolate and extend (a video written through
  :func:`vidext.media.transcode.run_video_job`);
- :class:`AudioResult`: audio;
- :class:`vidext.evaluation.report.EvaluationReport`: evaluate (registered as a
  :class:`Result` by :mod:`vidext.jobs.evaluate`);
- :class:`vidext.jobs.batch.BatchResult`: batch.
"""
from __future__ import annotations

from abc import ABC
from dataclasses import asdict, dataclass, field
from fractions import Fraction

from ..media.atomic import write_sidecar
from ..media.playable import playable_rendition
from ..media.probe import MediaInfo
from ..media.transcode import Transcoded


class Result(ABC):
    """A finished job: how long it took (``seconds``) and everything it recorded (``as_dict()``)."""

    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class JobResult(Result):
    """What a video job (interpolate, extend) wrote and how long it took."""

    output: str
    sidecar: str
    frames_in: int
    frames_out: int
    fps: float
    duration_s: float
    seconds: float
    audio: str | None
    details: dict = field(default_factory=dict)
    #: (width, height) the picture was padded to for the encoder (odd sizes in 4:2:0), else None
    padded_to: tuple[int, int] | None = None
    #: ``<stem>.playable.mp4`` written beside the output (``playable=True`` and the output itself
    #: does not play everywhere), else None
    playable_path: str | None = None

    @property
    def frames_per_second(self) -> float:
        return self.frames_out / self.seconds if self.seconds > 0 else 0.0

    @classmethod
    def written(cls, info: MediaInfo, output: str, done: Transcoded, *, playable: bool = False) -> "JobResult":
        """The result of :func:`~vidext.media.transcode.run_video_job` on ``info`` into ``output``;
        ``playable``: with the rendition that plays everywhere (:func:`add_playable`)."""
        out = done.record["output"]
        result = cls(output=output, sidecar=done.sidecar, frames_in=info.video.frame_count or 0,
                     frames_out=out["frames"], fps=float(Fraction(out["fps"])),
                     duration_s=out["duration_s"], seconds=done.seconds, audio=out["audio"],
                     details=done.record, padded_to=done.padded_to)
        if playable:
            add_playable(result)
        return result


@dataclass
class AudioResult(Result):
    """What an audio job wrote."""

    output: str
    sidecar: str
    operation: str               # stretch | extend | remux
    duration_s: float            # of the written sound
    picture_s: float | None      # of the picture (video outputs)
    codec: str
    seconds: float
    details: dict = field(default_factory=dict)
    #: ``<stem>.playable.mp4`` beside a video output that does not play everywhere (``playable=True``)
    playable_path: str | None = None


def add_playable(result: JobResult | AudioResult) -> None:
    """Write ``<stem>.playable.mp4`` beside ``result.output`` when the output does not play
    everywhere; record both in the sidecar (``details["playable"]``) and ``result.playable_path``."""
    result.details["playable"] = playable_rendition(result.output)
    result.playable_path = result.details["playable"]["path"]
    write_sidecar(result.output, result.details)

