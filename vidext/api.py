"""The public functions: what the CLI, the app and scripts call."""
from __future__ import annotations

import threading
from fractions import Fraction

from . import config
from .errors import InputError, ParameterError
from .limits import check_video
from .media.atomic import check_output_path
from .media.job import JobResult, run_video_job
from .media.mux import CopyAudio
from .media.probe import MediaInfo, probe
from .media.runner import ProgressCallback


def probe_file(path: str) -> MediaInfo:
    """Describe a media file (streams, size, rates, colour, duration)."""
    return probe(path)


def interpolate(input: str, output: str, *, factor=None, fps=None,
                quality: str = config.DEFAULT_QUALITY, model: str = config.DEFAULT_MODEL,
                weights=None, device: str | None = None,
                codec: str = config.DEFAULT_CODEC, crf: int | None = None,
                progress: ProgressCallback | None = None,
                stop: threading.Event | None = None) -> JobResult:
    """Make ``input`` smoother: ``factor``× its frame rate, or ``fps`` frames per second.

    The duration is unchanged and the sound is copied untouched.  Output
    frames are aligned to the first input frame: with ``factor=2`` output
    frame 2k is input frame k and 2k+1 lies halfway to input frame k+1.
    ``model="rife"`` uses RIFE 4.25: ``weights`` (a file or folder) overrides
    where its checkpoint comes from, ``device`` (auto/cpu/cuda[:N]) where it runs.
    """
    from .interpolation import INTERPOLATORS
    from .interpolation.pipeline import RenderStats, render
    from .interpolation.timeline import output_rate
    from .media.codecs import codec_for

    out = check_output_path(output, (input,))
    codec_for(codec, out)
    if model == "rife":
        interpolator = INTERPOLATORS.create(model, weights=weights, device=device)
    elif weights is not None or device is not None:
        raise ParameterError(f"weights and device apply to learned models (rife), not to {model!r}")
    else:
        interpolator = INTERPOLATORS.create(model, quality=quality) if model == "dis" else INTERPOLATORS.create(model)
    info = probe(input)
    if info.video is None:
        raise InputError(f"{input} has no video stream")
    rate = output_rate(info.video.fps_nominal, factor, fps)
    total = Fraction(info.video.duration_s).limit_denominator(10**6) * rate
    total_frames = int(round(total))
    check_video(info, output_frames=total_frames, output_fps=float(rate))
    stats = RenderStats()
    frame_duration = 1 / info.video.fps_nominal

    def compute(frames, meter):
        return render(frames, interpolator, rate, frame_duration, stats, meter)

    audio = CopyAudio(input, output_path=out) if info.audio else None
    result = run_video_job(
        command="interpolate", info=info, output=out, compute=compute, rate=rate,
        total_frames=total_frames, codec=codec, crf=crf, preset=config.ENCODER_PRESET.get(quality),
        audio=audio, progress=progress, stop=stop,
        parameters={"factor": None if factor is None else str(factor), "fps": None if fps is None else str(fps),
                    "output_rate": str(rate), **interpolator.describe()})
    result.details["stats"] = vars(stats)
    return result
