"""The public functions: what the CLI, the app and scripts call."""
from __future__ import annotations

import threading
from fractions import Fraction

from . import config
from .errors import ParameterError
from .limits import check_video
from .media.atomic import check_output_path, write_sidecar
from .media.job import JobResult, run_video_job
from .media.mux import CopyAudio
from .media.probe import MediaInfo, probe, probe_video
from .media.runner import ProgressCallback


def probe_file(path: str) -> MediaInfo:
    """Describe a media file (streams, size, rates, colour, duration)."""
    return probe(path)


_ADVANCED = {"low_light": False, "flow_smoothing": False, "motion_blur": 0.0, "dedupe": True,
             "duplicate_threshold": None}


def interpolate(input: str, output: str, *, factor=None, fps=None, slowmo=None, start=None, end=None,
                quality: str = config.DEFAULT_QUALITY, model: str = config.DEFAULT_MODEL, weights=None,
                device: str | None = None, auto_budget: float | None = None,
                codec: str = config.DEFAULT_CODEC, crf: int | None = None, scene_threshold: float | None = None,
                progress: ProgressCallback | None = None, stop: threading.Event | None = None,
                **advanced) -> JobResult:
    """Make ``input`` smoother (``factor``× its rate or ``fps``) and/or slower (``slowmo``).

    Without ``slowmo`` the duration is unchanged and the sound copied; output
    frames are aligned to the first input frame (with ``factor=2`` output frame
    2k is input frame k, 2k+1 lies halfway).  ``slowmo=K`` plays the clip (or
    the ``start``–``end`` segment, in input seconds) K times slower at the
    same rate unless ``factor``/``fps`` say otherwise; outside a segment frames
    are copied untouched.  Scene cuts (``scene_threshold`` in (0, 1], default
    ``config.SCENE_THRESHOLD``, 0 = off) are never morphed; duplicated frames
    are replaced by in-between ones.  ``advanced``: ``low_light``,
    ``flow_smoothing``, ``motion_blur`` (shutter fraction), ``dedupe``,
    ``duplicate_threshold``.  ``model="rife"`` uses RIFE 4.25: ``weights`` (a file or
    folder) overrides where its checkpoint comes from, ``device`` (auto/cpu/cuda[:N]) where it runs.
    ``model="auto"`` first measures each method on excerpts of the clip and runs the winner
    (:mod:`vidext.interpolation.auto`; ``auto_budget``: fraction of the full run's frames it may
    process, default ``config.AUTO_BUDGET``); the choice and the table are in ``details["auto"]``.
    """
    from .interpolation import INTERPOLATORS
    from .interpolation.pipeline import RenderStats, render
    from .interpolation.retime import plan_retime
    from .interpolation.scenes import SceneGate
    from .media.codecs import codec_for

    unknown = sorted(set(advanced) - set(_ADVANCED))
    if unknown:
        raise ParameterError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(_ADVANCED)}")
    opts = {**_ADVANCED, **advanced}
    out = check_output_path(output, (input,))
    codec_for(codec, out)
    if auto_budget is not None and model != "auto":
        raise ParameterError(f"auto_budget applies to model='auto', not to {model!r}")
    if model == "auto":
        interpolator = None         # measured and chosen once the run is planned (below)
    elif model in ("dis", "blend"):
        if weights is not None or device is not None:
            raise ParameterError(f"weights and device apply to learned models (rife), not to {model!r}")
        interpolator = (INTERPOLATORS.create(model, quality=quality, low_light=opts["low_light"],
                                             flow_smoothing=opts["flow_smoothing"])
                        if model == "dis" else INTERPOLATORS.create(model))
    else:
        interpolator = INTERPOLATORS.create(model, weights=weights, device=device)
    motion_blur = float(opts["motion_blur"] or 0.0)
    if not 0 <= motion_blur <= 1:
        raise ParameterError(f"motion_blur is a shutter fraction between 0 and 1, got {motion_blur}")
    threshold = config.SCENE_THRESHOLD if scene_threshold is None else float(scene_threshold)
    dup = opts["duplicate_threshold"]
    gate = SceneGate(threshold or None,
                     (config.DUPLICATE_MAD if dup is None else float(dup)) if opts["dedupe"] else None)
    info = probe_video(input)
    video = info.video
    in_start = Fraction(video.start_s).limit_denominator(10**6)
    in_end = in_start + Fraction(video.duration_s).limit_denominator(10**6)
    plan = plan_retime(video.fps_nominal, in_start, in_end, factor=factor, fps=fps, slowmo=slowmo,
                       start=start, end=end)
    rate = plan.rate
    total_frames = int(round(plan.out_duration(in_start, in_end) * rate))
    check_video(info, output_frames=total_frames, output_fps=float(rate))
    auto = None
    if model == "auto":
        from .interpolation.auto import choose_for_plan
        auto = choose_for_plan(input, info, plan, total_frames, budget=auto_budget, weights=weights, device=device,
                               dis_options={k: opts[k] for k in ("low_light", "flow_smoothing")},
                               progress=progress, stop=stop)
        interpolator = auto.interpolator
    stats = RenderStats()
    frame_duration = 1 / video.fps_nominal

    def compute(frames, meter):
        return render(frames, interpolator, rate, frame_duration, stats, meter, timemap=plan.timemap,
                      gate=gate, smooth_range=plan.smooth_range, motion_blur=motion_blur)

    audio, audio_note = None, None
    if info.audio:
        if plan.retimed:
            from .sound.feeds import RetimedAudio

            if config.STRETCH_MIN <= plan.stretch <= config.STRETCH_MAX:
                audio = RetimedAudio(input, plan.timemap, out)
            else:   # slower than sound can be stretched and still be heard as itself
                audio_note = (f"left out: slow motion {float(plan.stretch):g}x is outside the "
                              f"{config.STRETCH_MIN:g}-{config.STRETCH_MAX:g}x range sound is time-stretched in")
        else:
            audio = CopyAudio(input, output_path=out)
    result = run_video_job(
        command="interpolate", info=info, output=out, compute=compute, rate=rate,
        total_frames=total_frames, codec=codec, crf=crf, preset=config.ENCODER_PRESET.get(quality),
        audio=audio, progress=progress, stop=stop,
        parameters={"factor": None if factor is None else str(factor), "fps": None if fps is None else str(fps),
                    "start": start, "end": end, "scene_threshold": threshold or None,
                    "dedupe": bool(opts["dedupe"]), "motion_blur": motion_blur,
                    **plan.as_dict(), **interpolator.describe()})
    result.details["stats"] = vars(stats)
    if audio_note:
        result.details["audio_note"] = audio_note
    if auto is not None:
        result.details["auto"] = auto.as_dict()
        write_sidecar(out, result.details)
    return result


def preview(input: str, **interpolate_kwargs) -> str:
    """Path of a short low-resolution excerpt interpolated as :func:`interpolate` would (cached)."""
    from .interpolation.preview import preview as _preview
    return _preview(input, **interpolate_kwargs)

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
    info = probe_video(input)
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


def evaluate(input: str, *, methods=config.EVALUATE_METHODS, factor=2, json_path: str | None = None,
             report_dir: str | None = None, max_frames: int | None = None, metrics=None,
             lpips_frames: int | None = None, temporal: bool = True,
             sample: int | None = config.EVALUATE_SAMPLE_WINDOWS,
             progress: ProgressCallback | None = None, stop: threading.Event | None = None):
    """Honest quality numbers on ``input`` itself; returns an ``EvaluationReport``.

    Held-out reconstruction (MEASURING.md): frames 0, N, 2N, … are kept
    (N = ``factor``), every frame between is rebuilt by each of ``methods``
    (``blend``, ``duplicate``, the DIS presets ``fast``/``balanced``/``quality``,
    any registered model such as ``rife``; ``"none"`` skips this part) and
    scored against the original with ``metrics`` (default: luma PSNR, RGB
    PSNR, SSIM, MS-SSIM, LPIPS; per frame and mean) with each method's speed.
    Without a GPU LPIPS scores a sample of ``lpips_frames`` held-out frames
    (default ``config.LPIPS_CPU_MAX_FRAMES``; 0 = all).  Also: temporal
    consistency of the clip as it is (warp error, flicker, jumps with their
    times) and the audio–video offset.  ``json_path`` receives the numbers,
    ``report_dir`` the charts (HTML) and pictures (PNG).  Only the first
    ``max_frames`` frames are read when given.  The clip is streamed.  ``sample``: rebuild
    that many held-out windows spread evenly over the clip (default
    ``config.EVALUATE_SAMPLE_WINDOWS``; None = every window); each mean carries a
    confidence interval.  Progress is reported from the start.
    """
    from .evaluation.run import evaluate_file

    return evaluate_file(input, methods=methods, factor=factor, json_path=json_path, report_dir=report_dir,
                         max_frames=max_frames, metrics=metrics, lpips_frames=lpips_frames, temporal=temporal,
                         sample=sample, progress=progress, stop=stop)


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
