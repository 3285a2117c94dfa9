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
from ..media.playable import playable_rendition, will_play
from ..media.probe import MediaInfo, probe_video
from ..media.runner import JobProgress, ProgressCallback, Stage
from ..media.transcode import Transcoded

#: seconds per output frame and megapixel of the playable copy (decoding the output, H.264 veryfast):
#: about what the full run's own decoding and encoding cost (vidext.jobs.auto.CODEC_S_PER_MP); only its
#: share of the bar before the copy's own speed is measured
PLAYABLE_S_PER_MP = 0.03


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
    #: the evidence measured while the frames were made, by kind (``{kind: [[x, y], ...]}``; see
    #: :class:`vidext.media.runner.Point`): not in the sidecar, which stays small
    series: dict = field(default_factory=dict)

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


def add_playable(result: JobResult | AudioResult, job: JobProgress | None = None, write: bool = True) -> None:
    """Write ``<stem>.playable.mp4`` beside ``result.output`` when the output does not play
    everywhere; record both in the sidecar (``details["playable"]``, written again unless ``write``
    is False: :func:`finish_job` does it) and ``result.playable_path``.  ``job``: the copy is its
    ``playable`` stage (added when the job did not expect it)."""
    def progress() -> ProgressCallback | None:
        if job is None:
            return None
        v = probe_video(result.output).video
        return job.enter("playable", define=playable_stage(v.frame_count or 0, v.width, v.height))

    result.details["playable"] = playable_rendition(result.output, progress=progress)
    result.playable_path = result.details["playable"]["path"]
    if write:
        write_sidecar(result.output, result.details)


def playable_stage(frames: int, width: int, height: int) -> Stage:
    """The playable copy as a stage of a job: its frames, and its speed remembered for the next job."""
    mp = width * height / 1e6
    return Stage("playable", "playable copy", frames * mp * PLAYABLE_S_PER_MP, total=frames, work=mp,
                 key="playable")


def playable_stages(playable: bool, info: MediaInfo, output: str, codec: str | None, frames: int) -> list[Stage]:
    """``[the playable copy's stage]`` when one is asked for and the output will not play everywhere as
    written (:func:`vidext.media.playable.will_play`), else none: the progress never announces a copy
    that is not made (one found needed after all still runs as a stage: :func:`add_playable`)."""
    from ..errors import ParameterError
    from ..media.codecs import codec_for

    v = info.video
    if not playable or v is None:
        return []
    try:
        name = codec_for(codec, output).name
    except ParameterError:      # a copied picture whose codec the table does not pair with this container
        name = codec
    return [] if will_play(info, output, name) else [playable_stage(frames, v.width, v.height)]


def finish_job(result: Result, job: JobProgress) -> None:
    """The job is over: ``result.seconds`` becomes the wall time of all of it (measuring, rendering,
    the playable copy ...) and a video result gets the evidence measured (``series``).  The sidecar,
    written with the output (its ``timings`` then: :meth:`JobProgress.timings`), is written again
    with the final ones when a stage ran after it (the playable copy)."""
    t = job.finish()
    result.seconds = t["seconds"]
    if isinstance(result, JobResult):
        result.series = job.series()
    details = getattr(result, "details", None)
    timings = details.get("timings") if isinstance(details, dict) else None
    if timings is None or "playable" not in t["stages"]:
        return
    timings.update(seconds=t["seconds"], stages=t["stages"])
    write_sidecar(result.output, details)

