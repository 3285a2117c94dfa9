"""One video job: read frames, compute new ones, encode, mux sound, finish atomically."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterable, Iterator

from ..errors import InputError
from .atomic import atomic_job_output
from .codecs import ALPHA_CODECS
from .frame import Frame
from .heap import job_heap
from .mux import AudioFeed, audio_mode
from .probe import MediaInfo
from .reader import FrameSource
from .runner import ProgressCallback, ProgressMeter, run_pipeline
from .writer import FrameSink

Compute = Callable[[Iterator[Frame], ProgressMeter], Iterable[tuple[tuple, Fraction]]]


@dataclass
class Transcoded:
    """What :func:`run_video_job` wrote: the complete sidecar record, where it is, and how long it took."""

    record: dict
    sidecar: str
    seconds: float
    #: (width, height) the picture was padded to for the encoder (odd sizes in 4:2:0), else None
    padded_to: tuple[int, int] | None = None


@job_heap()      # freed frame buffers reused while it runs (see vidext.media.heap)
def run_video_job(*, command: str, info: MediaInfo, output: str, compute: Compute, rate: Fraction,
                  total_frames: int | None, codec: str | None, crf: int | None, preset: str | None,
                  audio: AudioFeed | None, header: dict,
                  progress: ProgressCallback | None = None, stop: threading.Event | None = None,
                  size: tuple[int, int] | None = None,
                  details: Callable[[], dict] | None = None, timings: Callable[[], dict] | None = None,
                  codec_threads: int = 0,
                  window: tuple[Fraction, Fraction | None, bool] | None = None,
                  time_base: Fraction | None = None) -> Transcoded:
    """Stream ``info.path`` through ``compute`` into ``output`` (atomically) with a sidecar.

    ``header`` is the job's own part of the sidecar (:func:`vidext.media.atomic.sidecar_header`:
    tool, version, command, parameters, input); this adds what was written (``output``,
    ``timings``, ``skipped_input_frames``).

    ``window`` = (first, last, last_included) input times (last None = the
    end) reads only those frames (a part of a longer job).

    ``details`` (called once every frame and sample is written) returns what
    the job learnt while running (render statistics, how the sound was
    extended); it is merged into the record before the sidecar is written,
    so the sidecar on disk is complete the moment the output appears; ``timings`` (called then too)
    adds to its ``timings`` (the whole job's wall time so far, by stage).
    ``codec_threads``: threads of the decoder and of the encoder each (0: FFmpeg's
    choice; see :func:`vidext.media.runner.codec_threads`).
    ``time_base``: store frame times in this unit instead of one interval of ``rate`` (where the
    compute keeps frames at their own, uneven times; see :class:`~vidext.media.writer.FrameSink`).
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
                             container_ext=os.path.splitext(output)[1], threads=codec_threads,
                             time_base=time_base)
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
        record = {**header, **_written(info, output, sink, rate, last_time, audio, seconds, skipped)}
        if details is not None:
            record.update(details())
        if timings is not None:
            record["timings"].update(timings())
        sidecar.write(record)
    return Transcoded(record=record, sidecar=sidecar.path, seconds=seconds, padded_to=sink.padded_to)


def streams_record(audio, picture: tuple[list, list] = ([], [])) -> dict:
    """The sidecar's account of the streams beside the picture (:meth:`OutputStreams.record`): which sound
    tracks were written how, what else was kept, and ``dropped`` / ``converted`` (empty lists when
    nothing was); ``picture``: (converted, dropped) of the picture itself first (:func:`picture_fates`)."""
    record = {"dropped": [], "converted": [], **(audio.record() if hasattr(audio, "record") else {})}
    record["converted"] = list(picture[0]) + list(record["converted"])
    record["dropped"] = list(picture[1]) + list(record["dropped"])
    return record


def picture_fates(info: MediaInfo, output: str, sink) -> tuple[list, list]:
    """(converted, dropped) of the picture's alpha plane: the codec written instead of a container's
    default that would drop it, or the plane itself when the output's codec stores none (named, so the
    CLI's ``dropped:`` line and the app's "Not kept" say it)."""
    video, ext = info.video, os.path.splitext(output)[1].lower()
    converted, dropped = [], []
    if sink.alpha_switch is not None:
        default, chosen = sink.alpha_switch
        converted.append({"stream": video.index, "type": "video", "codec": default, "to": chosen,
                          "why": f"the pictures have an alpha plane (transparency): {chosen} keeps it, the "
                                 f"{ext} default ({default}) does not"})
    if sink.alpha_dropped:
        dropped.append(alpha_dropped(video.index, sink.spec.name, output))
    return converted, dropped


def alpha_dropped(stream: int, codec: str, output: str) -> dict:
    """``output.dropped``'s entry for an alpha plane the output's ``codec`` does not store."""
    ext = os.path.splitext(output)[1].lower()
    keep = ALPHA_CODECS.get(ext)
    return {"stream": stream, "type": "video", "codec": "alpha",
            "why": f"{codec} stores no alpha plane, so the output is opaque"
                   + (f" (--codec {keep} keeps it)" if keep else
                      f" ({ext} has no codec that keeps it: .mov, .mkv or .webm do)")}


def _written(info, output, sink, rate, last_time, audio, seconds, skipped) -> dict:
    frames_out = sink.frames_written
    duration = float(last_time[0] + 1 / rate) - info.video.start_s if last_time else 0.0
    return {
        "output": {"path": output, "codec": sink.spec.name, "pix_fmt": sink.pix_fmt, "fps": str(rate),
                   "frames": frames_out, "duration_s": duration, "audio": audio_mode(audio),
                   "size": [sink.width, sink.height],
                   # the encoded picture's size when padded (edges repeated) for the pixel format
                   "padded_to": list(sink.padded_to) if sink.padded_to else None,
                   # what the output's codec could not keep of the input's pictures, and why
                   "conversions": sink.conversions,
                   "colour": sink.colour.as_dict(),
                   # every other stream: the sound tracks written, what was kept, converted, dropped
                   **streams_record(audio, picture_fates(info, output, sink))},
        "timings": {"seconds": round(seconds, 3), "frames_per_second": round(frames_out / seconds, 2)
                    if seconds else None},
        "skipped_input_frames": skipped,
    }
