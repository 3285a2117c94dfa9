"""One video job: read frames, compute new ones, encode, mux sound, finish atomically."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Callable, Iterable, Iterator

from .._version import __version__
from ..errors import InputError
from .atomic import atomic_job_output
from .frame import Frame
from .heap import job_heap
from .mux import AudioFeed
from .probe import MediaInfo
from .reader import FrameSource
from .runner import ProgressCallback, ProgressMeter, run_pipeline
from .writer import FrameSink

Compute = Callable[[Iterator[Frame], ProgressMeter], Iterable[tuple[tuple, Fraction]]]


@dataclass
class JobResult:
    """What a finished job wrote and how long it took."""

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

    def as_dict(self) -> dict:
        return asdict(self)


@job_heap()      # freed frame buffers reused while it runs (see vidext.media.heap)
def run_video_job(*, command: str, info: MediaInfo, output: str, compute: Compute, rate: Fraction,
                  total_frames: int | None, codec: str | None, crf: int | None, preset: str | None,
                  audio: AudioFeed | None, parameters: dict,
                  progress: ProgressCallback | None = None, stop: threading.Event | None = None,
                  size: tuple[int, int] | None = None,
                  details: Callable[[], dict] | None = None, codec_threads: int = 0,
                  window: tuple[Fraction, Fraction | None, bool] | None = None,
                  playable: bool = False) -> JobResult:
    """Stream ``info.path`` through ``compute`` into ``output`` (atomically) with a sidecar.

    ``window`` = (first, last, last_included) input times (last None = the
    end) reads only those frames (a part of a longer job).

    ``details`` (called once every frame and sample is written) returns what
    the job learnt while running (render statistics, how the sound was
    extended); it is merged into the record before the sidecar is written,
    so the sidecar on disk is complete the moment the output appears.
    ``codec_threads``: threads of the decoder and of the encoder each (0: FFmpeg's
    choice; see :func:`vidext.media.runner.codec_threads`).
    ``playable``: an output that does not play in every browser and phone gets a rendition
    that does beside it (:func:`add_playable`).
    """
    t0 = time.perf_counter()
    video = info.video
    meter = ProgressMeter(total_frames, progress, stage=command)
    width, height = size or (video.width, video.height)
    last_time: list[Fraction] = []
    with atomic_job_output(output) as (tmp, sidecar):
        with FrameSource(info.path, info, threads=codec_threads) as source:
            sink = FrameSink(tmp, width=width, height=height, layout=source.layout, rate=rate,
                             codec=codec, crf=crf, preset=preset, colour=source.colour,
                             rotation=video.rotation, audio=audio,
                             container_ext=os.path.splitext(output)[1], threads=codec_threads)
            with sink:
                def write(item) -> None:
                    planes, t = item
                    sink.write(planes, t)
                    last_time[:1] = [t]

                frames = (source if window is None
                          else source.between(window[0], window[1], include_end=window[2]))
                run_pipeline(frames, lambda frames: compute(frames, meter), write, stop=stop)
            skipped = source.skipped
        if not sink.frames_written:
            raise InputError(f"no frame of {os.path.basename(info.path)} could be decoded")
        meter.finish()
        seconds = time.perf_counter() - t0
        record = _record(command, info, output, codec, sink, rate, last_time, audio, parameters,
                         seconds, skipped)
        if details is not None:
            record.update(details())
        sidecar.write(record)
    out = record["output"]
    result = JobResult(output=output, sidecar=sidecar.path, frames_in=video.frame_count or 0,
                       frames_out=out["frames"], fps=float(rate), duration_s=out["duration_s"],
                       seconds=seconds, audio=out["audio"], details=record, padded_to=sink.padded_to)
    if playable:
        add_playable(result)
    return result


def add_playable(result) -> None:
    """Write ``<stem>.playable.mp4`` beside ``result.output`` when the output does not play
    everywhere; record both in the sidecar (``details["playable"]``) and ``result.playable_path``."""
    from .atomic import write_sidecar

    result.details["playable"] = playable_rendition(result.output)
    result.playable_path = result.details["playable"]["path"]
    write_sidecar(result.output, result.details)


def playable_rendition(output: str) -> dict:
    """``{"path": <stem>.playable.mp4 or None, "reason": ...}``: the rendition written when ``output``
    does not play in every browser and phone (what the sidecar records as ``playable``)."""
    from .playable import playability, write_playable
    from .probe import probe

    plays, reason = playability(probe(output))
    return {"path": None if plays else write_playable(output), "reason": reason}


def _record(command, info, output, codec, sink, rate, last_time, audio, parameters, seconds,
            skipped) -> dict:
    frames_out = sink.frames_written
    duration = float(last_time[0] + 1 / rate) - info.video.start_s if last_time else 0.0
    audio_mode = None
    if audio is not None:
        audio_mode = "copied" if getattr(audio, "copied", False) else "re-encoded"
    return {
        "tool": "vidext", "version": __version__, "command": command,
        "parameters": parameters,
        "input": info.as_dict(),
        "output": {"path": output, "codec": sink.spec.name, "pix_fmt": sink.pix_fmt, "fps": str(rate),
                   "frames": frames_out, "duration_s": duration, "audio": audio_mode,
                   "size": [sink.width, sink.height],
                   # the encoded picture's size when padded (edges repeated) for the pixel format
                   "padded_to": list(sink.padded_to) if sink.padded_to else None,
                   # what the output's codec could not keep of the input's pictures, and why
                   "conversions": sink.conversions,
                   "colour": sink.colour.as_dict()},
        "timings": {"seconds": round(seconds, 3), "frames_per_second": round(frames_out / seconds, 2)
                    if seconds else None},
        "skipped_input_frames": skipped,
    }
