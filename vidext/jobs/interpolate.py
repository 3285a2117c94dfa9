"""One interpolation job: check inputs → plan → run → result.

:func:`plan_interpolate` is the single planning source (the app's
prediction, the CLI's checks and the run all use it); :func:`run_interpolation`
is what :func:`vidext.interpolate` calls.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction

from .. import config
from ..errors import ParameterError
from ..config import Limits
from ..limits import check_video
from ..media.atomic import check_output_path, sidecar_header
from ..media.transcode import run_video_job
from ..media.mux import CopyAudio
from ..media.probe import MediaInfo
from ..media.streams import Carried, OutputStreams, dropped_stream, identity
from ..media.runner import ProgressCallback, Stage
from ..plan import Plan, frames_before, media_info, summary_line
from .result import JobResult, add_playable, finish_job, playable_stages
from ..interpolation import INTERPOLATORS
from ..interpolation.base import Interpolator
from ..interpolation.retime import RetimePlan, plan_retime
from ..interpolation.timeline import Span, Timeline

# x264/x265 speed preset per interpolation quality preset: the encoder is
# often the bottleneck on a CPU, so the fast preset does not wait for it.
ENCODER_PRESET = {"fast": "superfast", "balanced": "faster", "quality": "medium", "best": "medium"}


#: advanced options of :func:`vidext.interpolate` and their defaults
ADVANCED = {"low_light": False, "flow_smoothing": False, "motion_blur": 0.0, "dedupe": True,
            "duplicate_threshold": None}
#: models that take ``quality`` / the advanced flow options and no weights
CLASSICAL = INTERPOLATORS.classical()
#: ``quality="best"``: the model that fuses every method at hand (also ``model="best"``)
BEST = "best"
#: keyword arguments of :func:`vidext.interpolate` that set the output's timing, and those that set
#: only how it is written: neither is a setting of the interpolation itself (:func:`check_settings`)
TIMING = ("factor", "fps", "slowmo", "start", "end")
WRITING = ("output", "codec", "crf", "playable", "progress", "stop", "span", "limits")
#: seconds of model auto's one-off start-up (torch's import, LPIPS's network) beside its measuring
#: budget: only its share of the progress bar
AUTO_START_UP_S = 4.0


@dataclass(frozen=True)
class InterpolationSettings:
    """The checked settings of one job (everything but the file paths)."""

    quality: str
    model: str
    weights: str | None
    device: str | None
    motion_blur: float
    scene_threshold: float
    dedupe: bool
    duplicate_threshold: float | None
    low_light: bool
    flow_smoothing: bool
    auto_budget: float | None = None    # model "auto": see vidext.jobs.auto


def check_settings(*, quality: str = config.DEFAULT_QUALITY, model: str = config.DEFAULT_MODEL,
                   weights=None, device: str | None = None, scene_threshold: float | None = None,
                   auto_budget=None, **advanced) -> InterpolationSettings:
    """Validate the model and advanced options (no file is read, no model loaded)."""
    unknown = sorted(set(advanced) - set(ADVANCED))
    if unknown:
        raise ParameterError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(ADVANCED)}")
    opts = {**ADVANCED, **advanced}
    if quality == BEST:         # its own method: RIFE and DIS fused (vidext.interpolation.fusion)
        if model not in (config.DEFAULT_MODEL, BEST):
            raise ParameterError(f"quality 'best' is its own method (RIFE and DIS quality fused); "
                                 f"it does not apply to model {model!r}")
        model = BEST
    elif model == BEST:
        quality = BEST
    if model != "auto":
        INTERPOLATORS.entry(model)
    if auto_budget is not None:
        from .auto import check_budget

        if model != "auto":
            raise ParameterError(f"auto_budget applies to model='auto', not to {model!r}")
        auto_budget = check_budget(auto_budget)
    if model in CLASSICAL and (weights is not None or device is not None):
        raise ParameterError(f"weights and device apply to learned models (rife), not to {model!r}")
    motion_blur = float(opts["motion_blur"] or 0.0)
    if not 0 <= motion_blur <= 1:
        raise ParameterError(f"motion_blur is a shutter fraction between 0 and 1, got {motion_blur}")
    threshold = config.SCENE_THRESHOLD if scene_threshold is None else float(scene_threshold)
    dup = opts["duplicate_threshold"]
    return InterpolationSettings(
        quality=quality, model=model, weights=weights, device=device, motion_blur=motion_blur,
        scene_threshold=threshold, dedupe=bool(opts["dedupe"]),
        duplicate_threshold=(config.DUPLICATE_MAD if dup is None else float(dup)) if opts["dedupe"] else None,
        low_light=bool(opts["low_light"]), flow_smoothing=bool(opts["flow_smoothing"]), auto_budget=auto_budget)


def interpolation_settings(options: dict) -> dict:
    """The options of :func:`vidext.interpolate` that :func:`check_settings` takes (timing and
    writing options left out)."""
    return {k: v for k, v in options.items() if k not in TIMING and k not in WRITING}


def is_learned(model: str) -> bool:
    """Whether ``model`` may run a learned backend (wants a GPU): ``auto`` may choose one."""
    if model == "auto":
        return bool(INTERPOLATORS.learned())
    return INTERPOLATORS.entry(model).model is not None


def make_interpolator(s: InterpolationSettings) -> Interpolator:
    """The backend named by the settings (a learned one loads its weights here)."""
    if s.model == "dis":
        return INTERPOLATORS.create(s.model, quality=s.quality, low_light=s.low_light,
                                    flow_smoothing=s.flow_smoothing)
    if s.model in CLASSICAL:
        return INTERPOLATORS.create(s.model)
    if s.model == BEST:
        return INTERPOLATORS.create(BEST, weights=s.weights, device=s.device, fallback=True, low_light=s.low_light,
                                    flow_smoothing=s.flow_smoothing)
    return INTERPOLATORS.create(s.model, weights=s.weights, device=s.device)


def plan_interpolate(input: str | MediaInfo, *, factor=None, fps=None, slowmo=None, start=None, end=None,
                     **settings) -> Plan:
    """What :func:`vidext.interpolate` with these settings will write: a :class:`~vidext.plan.Plan`.

    ``input`` is a path or a :class:`~vidext.media.probe.MediaInfo` (the app
    probes once).  Takes the same keyword arguments as ``interpolate``; those
    that do not change the output's timing (quality, model, codec ...) are
    accepted and ignored, except that the advanced options are checked.
    ``plan.segment`` is ``start``–``end`` snapped to input frames;
    ``plan.details["retime"]`` is the :class:`~vidext.interpolation.retime.RetimePlan`.
    """
    check_settings(**interpolation_settings(settings))
    info = media_info(input)
    video = info.video
    in_start = Fraction(video.start_s).limit_denominator(10**6)
    in_end = in_start + Fraction(video.duration_s).limit_denominator(10**6)
    # a variable-rate clip's factor multiplies its real average rate (68 frames over 29.6 s, nominally
    # 15 fps, × 2: 136 frames, not 888); a typed fps stays the output's rate
    retime = plan_retime(video.rate, in_start, in_end, factor=factor, fps=fps, slowmo=slowmo,
                         start=start, end=end)
    frames = frames_before(retime.out_duration(in_start, in_end), retime.rate)
    duration = Fraction(frames) / retime.rate       # the last frame ends there: what the run writes
    segment = None if retime.smooth_range is None else tuple(float(t - in_start) for t in retime.smooth_range)
    line = summary_line(float(in_end - in_start), float(duration), frames, retime.rate)
    if retime.retimed:
        line += f" · slow motion {float(retime.stretch):.4g}×"
        if segment is not None:
            line += f" on {segment[0]:.2f}–{segment[1]:.2f} s"
    return Plan("interpolate", float(in_end - in_start), float(duration), retime.rate, frames, segment, line,
                {"retime": retime, "info": info})


def audio_feed(info: MediaInfo, retime: RetimePlan, input: str, out: str) -> tuple[OutputStreams, str | None]:
    """Everything the output carries beside the picture, through the picture's time map: every sound
    track (copied when the timing is unchanged, else retimed with the picture, pitch kept), subtitles,
    chapters, tags, attachments (:class:`~vidext.media.streams.OutputStreams`); and a note when the
    sound is left out."""
    timemap = retime.timemap if retime.retimed else None
    carried = Carried(info, out, timemap.to_output if timemap is not None else identity, rate=retime.rate)
    tracks, dropped, note = [], [], None
    usable = [a for a in info.audio if a.codec != "unknown"]
    dropped += [dropped_stream(info.stream(a.index), "its codec is one FFmpeg does not know")
                for a in info.audio if a.codec == "unknown"]
    if usable and timemap is None:
        tracks = [(CopyAudio(input, a.index, output_path=out), info.stream(a.index)) for a in usable]
    elif usable and config.STRETCH_MIN <= retime.stretch <= config.STRETCH_MAX:
        from ..sound.feeds import RetimedAudio

        tracks = [(RetimedAudio(input, timemap, out, stream_index=a.index), info.stream(a.index)) for a in usable]
    elif usable:   # slower than sound can be stretched and still be heard as itself
        note = (f"left out: slow motion {float(retime.stretch):g}x is outside the "
                f"{config.STRETCH_MIN:g}-{config.STRETCH_MAX:g}x range sound is time-stretched in")
        dropped += [dropped_stream(info.stream(a.index), note[len("left out: "):]) for a in usable]
    return OutputStreams(tracks, carried, dropped), note


def span_frames(span: Span, retime: RetimePlan, info: MediaInfo) -> int:
    """How many output frames a :class:`Span` of the clip makes (on the whole clip's grid)."""
    video = info.video
    in_end = Fraction(video.start_s).limit_denominator(10**6) + Fraction(video.duration_s).limit_denominator(10**6)
    to_out = retime.timemap.to_output if retime.timemap is not None else (lambda t: t)
    grid = Timeline(to_out(span.origin), retime.rate)
    last = in_end if span.last is None else span.last
    return grid.count_before(to_out(last)) - grid.count_before(to_out(span.first))


def job_stages(s: InterpolationSettings, info: MediaInfo, retime: RetimePlan, frames: int,
               playable: bool, output: str, codec: str | None) -> list[Stage]:
    """The stages of one interpolation, each with its share of the bar (its estimated seconds):
    measuring (model auto), rendering, the playable copy."""
    from .auto import COST_PER_FRAME, FLOOR_S, job_seconds, synthesised_frames

    v = info.video
    method = next(m for m in (s.model, s.quality, "rife") if m in COST_PER_FRAME)   # auto: its default preset
    new = synthesised_frames(frames, retime.rate, v.rate, retime.stretch)
    render = job_seconds(new, frames, v.width, v.height, method)
    stages = []
    if s.model == "auto":
        budget = config.AUTO_BUDGET if s.auto_budget is None else s.auto_budget
        stages.append(Stage("measuring", "measuring the methods on your clip",
                            max(budget * render, FLOOR_S) + AUTO_START_UP_S))
    stages.append(Stage("rendering", "rendering", render, total=frames))
    return stages + playable_stages(playable, info, output, codec, frames)


def run_interpolation(input: str | MediaInfo, output: str, *, factor=None, fps=None, slowmo=None, start=None,
                      end=None, limits: Limits | None = None,
                      codec: str | None = None, crf: int | None = None,
                      progress: ProgressCallback | None = None, stop: threading.Event | None = None,
                      span: Span | None = None, playable: bool = False, **settings) -> JobResult:
    """The job behind :func:`vidext.interpolate` (same arguments).

    ``input`` is a path or the caller's probe of it (the app probes every upload once and hands
    the probe on); ``limits`` are the caller's (default: the environment's).

    ``span``: only that part of the clip, on the whole clip's output grid and
    without sound (a chunk that :mod:`vidext.batch` joins with the others).
    """
    from ..media.codecs import codec_for
    from ..media.runner import JobProgress

    # 1. check inputs
    job = JobProgress(progress, [])     # the wait starts here; its stages are known once planned
    s = check_settings(**settings)
    info = media_info(input)
    input = info.path
    out = check_output_path(output, (input,))
    codec_for(codec, out)
    interpolator = make_interpolator(s) if s.model != "auto" else None
    # 2. plan
    plan = plan_interpolate(info, factor=factor, fps=fps, slowmo=slowmo, start=start, end=end, **settings)
    retime = plan.details["retime"]
    check_video(info, limits, output_frames=plan.frames_out, output_fps=plan.fps)
    total_frames = plan.frames_out if span is None else span_frames(span, retime, info)
    job.plan(job_stages(s, info, retime, total_frames, playable, out, codec))
    with job:
        auto = None
        if s.model == "auto":       # measure each method on excerpts of the clip, run the winner
            from .auto import choose_for_plan

            auto = choose_for_plan(input, info, retime, plan.frames_out, settings=s,
                                   progress=job.enter("measuring"), stop=stop)
            interpolator = auto.interpolator
        rendering = job.enter("rendering")
        interpolator.setup(info.video.width, info.video.height)   # e.g. RIFE's calibrated CPU setting
        result = _render(info, input, out, s, plan, retime, interpolator, auto, total_frames, span,
                         dict(factor=factor, fps=fps, start=start, end=end), codec, crf, rendering, stop,
                         job.timings)
        # 4. result
        if playable:
            add_playable(result, job, write=False)
        finish_job(result, job)
    return result


def _render(info, input, out, s, plan, retime, interpolator, auto, total_frames, span, timing, codec, crf,
            progress, stop, timings) -> JobResult:
    """Step 3: the frames (and every other stream) through :func:`run_video_job`."""
    from ..media.runner import codec_threads
    from ..interpolation.pipeline import RenderStats, render
    from ..interpolation.scenes import SceneGate

    # 3. run
    gate = SceneGate(s.scene_threshold or None, s.duplicate_threshold)
    stats = RenderStats()
    frame_duration = 1 / info.video.fps_nominal

    def compute(frames, meter):
        return render(frames, interpolator, plan.rate, frame_duration, stats, meter, timemap=retime.timemap,
                      gate=gate, smooth_range=retime.smooth_range, motion_blur=s.motion_blur, part=span)

    # a part of a batch is written without sound or other streams: the join adds them once
    audio, audio_note = (None, None) if span is not None else audio_feed(info, retime, input, out)

    def details() -> dict:      # known only once the frames are written; goes into the sidecar
        return {"stats": vars(stats), **({"audio_note": audio_note} if audio_note else {}),
                **({"auto": auto.as_dict()} if auto else {})}

    factor, fps = timing["factor"], timing["fps"]
    parameters = {"factor": None if factor is None else str(factor), "fps": None if fps is None else str(fps),
                  "start": timing["start"], "end": timing["end"], "scene_threshold": s.scene_threshold or None,
                  "span": None if span is None else [str(span.first), str(span.last), span.cut],
                  "dedupe": s.dedupe, "motion_blur": s.motion_blur,
                  **retime.as_dict(), **interpolator.describe()}
    done = run_video_job(
        command="interpolate", info=info, output=out, compute=compute, rate=plan.rate,
        total_frames=total_frames, codec=codec, crf=crf,
        preset=ENCODER_PRESET.get(auto.chosen if auto else s.quality),
        audio=audio, progress=progress, stop=stop, details=details, timings=timings,
        codec_threads=codec_threads(interpolator.compute_threads),
        window=None if span is None else (span.first, span.last, not span.cut),
        header=sidecar_header("interpolate", parameters=parameters, input=info.as_dict()))
    return JobResult.written(info, out, done)
