"""The public functions: what the CLI, the app and scripts call."""
from __future__ import annotations

import threading
from fractions import Fraction

from . import config
from .errors import InputError
from .limits import check_video
from .media.atomic import check_output_path, write_sidecar
from .media.job import JobResult, run_video_job
from .media.mux import CopyAudio
from .media.probe import MediaInfo, probe
from .media.runner import ProgressCallback


def probe_file(path: str) -> MediaInfo:
    """Describe a media file (streams, size, rates, colour, duration)."""
    return probe(path)


def interpolate(input: str, output: str, *, factor=None, fps=None,
                quality: str = config.DEFAULT_QUALITY, model: str = config.DEFAULT_MODEL,
                codec: str = config.DEFAULT_CODEC, crf: int | None = None,
                progress: ProgressCallback | None = None,
                stop: threading.Event | None = None) -> JobResult:
    """Make ``input`` smoother: ``factor``× its frame rate, or ``fps`` frames per second.

    The duration is unchanged and the sound is copied untouched.  Output
    frames are aligned to the first input frame: with ``factor=2`` output
    frame 2k is input frame k and 2k+1 lies halfway to input frame k+1.
    """
    from .interpolation import INTERPOLATORS
    from .interpolation.pipeline import RenderStats, render
    from .interpolation.timeline import output_rate
    from .media.codecs import codec_for

    out = check_output_path(output, (input,))
    codec_for(codec, out)
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


def extend(input: str, output: str, *, seconds: float, direction: str = "forward",
           method: str = config.DEFAULT_EXTEND_METHOD, seed: int | None = None, audio_method: str = "loop",
           prompt: str | None = None, quantize: str | None = None, codec: str = config.DEFAULT_CODEC,
           crf: int | None = None, progress: ProgressCallback | None = None,
           stop: threading.Event | None = None) -> JobResult:
    """Make ``input`` longer: ``seconds`` of new frames after it, before it, or both.

    The original frames are kept untouched (decoded and encoded once, same
    size, rate, colour and bit depth); the new ones continue the clip's own
    frame grid.  ``method`` is one of :data:`vidext.extension.EXTENDERS`
    (classical ``seamless``/``loop``/``pingpong``/``freeze``/``motion``, or
    generative ``svd``/``ltx``, which take ``seed``, ``prompt`` (ltx) and
    ``quantize``).  The sound is extended to match (``audio_method``).
    """
    import math

    from .extension import EXTENDERS, GENERATIVE
    from .extension.job import extension_compute
    from .errors import ParameterError
    from .media.codecs import codec_for

    out = check_output_path(output, (input,))
    codec_for(codec, out)
    if direction not in config.EXTEND_DIRECTIONS:
        raise ParameterError(f"direction must be one of {', '.join(config.EXTEND_DIRECTIONS)}, got {direction!r}")
    generative = method in GENERATIVE
    limit = config.GENERATIVE_MAX_SECONDS if generative else config.EXTEND_MAX_SECONDS
    try:
        seconds = float(seconds)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"seconds must be a number, got {seconds!r}") from exc
    if not (math.isfinite(seconds) and 0 < seconds <= limit):
        raise ParameterError(f"seconds must be in (0, {limit:g}] for {method}, got {seconds:g}")
    if quantize not in (None, "none") and not generative:
        raise ParameterError(f"quantize applies to the generative methods ({', '.join(GENERATIVE)}) only")
    if seed is not None and not isinstance(seed, int):
        raise ParameterError(f"seed must be an integer, got {seed!r}")
    extender = (EXTENDERS.create(method, quantize=quantize) if generative else EXTENDERS.create(method))
    info = probe(input)
    if info.video is None:
        raise InputError(f"{input} has no video stream")
    rate = info.video.fps_nominal
    new = max(1, round(Fraction(seconds).limit_denominator(10**6) * rate))
    before = new if direction in ("backward", "both") else 0
    after = new if direction in ("forward", "both") else 0
    frames_in = info.video.frame_count or round(info.video.duration_s * float(rate))
    check_video(info, output_frames=frames_in + before + after)
    audio = None
    if info.audio:
        from .sound.feeds import ExtendedAudio

        audio = ExtendedAudio(input, out, before_s=float(Fraction(before) / rate),
                              after_s=float(Fraction(after) / rate), method=audio_method, prompt=prompt, seed=seed,
                              original_s=info.video.duration_s, start_s=info.video.start_s)
    stats: dict = {}
    compute = extension_compute(info=info, extender=extender, before=before, after=after, seed=seed,
                                prompt=prompt, stop=stop, stats=stats)
    result = run_video_job(
        command="extend", info=info, output=out, compute=compute, rate=rate,
        total_frames=frames_in + before + after, codec=codec, crf=crf, preset=None, audio=audio,
        progress=progress, stop=stop,
        parameters={"seconds": seconds, "direction": direction, "seed": seed, "prompt": prompt,
                    "audio_method": audio_method, "quantize": quantize, "frames_before": before,
                    "frames_after": after, **extender.describe()})
    result.details["extension"] = {**stats, **extender.describe()}
    if audio is not None:
        result.details["audio_extension"] = audio.details
    write_sidecar(out, result.details)
    return result


def audio(input: str, output: str, *, stretch=None, extend=None, direction: str = "forward",
          method: str = "loop", prompt: str | None = None, audio_file: str | None = None,
          seed: int | None = None, progress: ProgressCallback | None = None,
          stop: threading.Event | None = None, **method_options):
    """Change a sound, or put one on a video; returns a :class:`vidext.sound.job.AudioResult`.

    Exactly one of: ``stretch=K`` (audio file in, K× longer, pitch kept,
    0.125–8), ``extend=SEC`` (audio file in, SEC seconds of new sound
    ``direction`` forward/backward/both, ``method`` loop/musicgen/silence,
    ``prompt`` text for MusicGen), ``audio_file=FILE`` (video in: its
    picture copied, FILE's sound encoded once and cut or padded with silence
    to the picture's duration).  A video's own sound is retimed by
    ``interpolate(slowmo=...)`` and ``extend(...)``, which move the picture too.
    """
    from .sound.job import run_audio_job

    return run_audio_job(input, output, stretch=stretch, extend=extend, direction=direction, method=method,
                         prompt=prompt, audio_file=audio_file, seed=seed, progress=progress, stop=stop,
                         **method_options)
