"""``evaluate``: held-out reconstruction, temporal consistency and A/V offset of one clip.

Steps (one function each): (1) :func:`_check` the inputs and plan the
held-out split, (2) :func:`_prepare` the methods and metrics, (3)
:func:`_stream` the clip once — decode on its own thread, every consecutive
pair into the temporal analyser, the sampled held-out windows rebuilt by
each method and scored — (4) :func:`_av_offset`, (5) :func:`_build_report`
with its pictures and :func:`_write` the JSON / report folder.  At most
``factor + 1`` frames and one worst frame per method are held at a time.

**Sampling.**  By default ``config.EVALUATE_SAMPLE_WINDOWS`` held-out
windows are rebuilt, spread evenly over the clip (window ``⌊(i + ½)·W/S⌋``
of the W the clip has, i < S): systematic sampling, so every part of the
clip is represented; ``sample=None`` (CLI ``--exhaustive``) rebuilds every
window.  Each mean carries a confidence interval (see
:func:`vidext.evaluation.report.mean_interval`).
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from .. import config
from ..errors import DependencyError, InputError, ModelError, OutputError, ParameterError
from ..limits import check_video
from ..media.atomic import check_output_path
from ..media.frame import Frame
from ..media.probe import MediaInfo, probe_video
from ..media.reader import FrameSource
from ..media.runner import JobProgress, ProgressCallback, ProgressMeter, Stage, run_pipeline
from ..evaluation import METRICS
from ..evaluation.heldout import (METHODS, check_factor, expected_held_out, learned_names, parse_methods, sample_indices,
                      windows)
from ..evaluation.metrics import PSNR_CAP_DB, Metric, Picture, mse
from ..evaluation.pictures import heatmap, strip, write_report_dir
from ..evaluation.report import NOT_MEASURABLE, EvaluationReport, MethodResult
from ..evaluation.temporal import TemporalAnalyzer
from ..sound.sync import av_sync
from .result import Result

Result.register(EvaluationReport)   # evaluate's result: a Result like every job's


def parse_metrics(metrics) -> tuple[list[str], bool]:
    """Metric names and whether the list was given explicitly."""
    if metrics is None:
        return list(config.EVALUATE_METRICS), False
    items = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    names = [str(m).strip() for m in items if str(m).strip()]
    for n in names:
        if n not in METRICS:
            raise ParameterError(f"unknown metric {n!r}; choose from: {', '.join(METRICS.names())}")
    if len(set(names)) != len(names):
        raise ParameterError("each metric may be named once")
    return names, True


def _lpips_limit(lpips_frames: int | None, device: str, pixels: int) -> int | None:
    """Held-out frames the expensive metrics score per method (None: all).

    On a GPU every frame; on a CPU as many as :data:`config.LPIPS_CPU_PIXEL_BUDGET` pixels hold
    (an ST-LPIPS pass costs ~1.2 s per 720p picture on two cores), between
    :data:`config.LPIPS_CPU_MIN_FRAMES` and :data:`config.LPIPS_CPU_MAX_FRAMES`.
    """
    if lpips_frames is not None:
        if lpips_frames < 0:
            raise ParameterError(f"lpips_frames must be 0 (all) or positive, got {lpips_frames}")
        return lpips_frames or None
    if device == "cuda":
        return None
    fit = config.LPIPS_CPU_PIXEL_BUDGET // max(1, pixels)
    return max(config.LPIPS_CPU_MIN_FRAMES, min(config.LPIPS_CPU_MAX_FRAMES, fit))


def check_sample(sample) -> int | None:
    if sample is None:
        return None
    if isinstance(sample, bool) or int(sample) != sample or sample < 1:
        raise ParameterError(f"sample must be a whole number of held-out windows (at least 1), or None for all; "
                             f"got {sample!r}")
    return int(sample)


def sampled_windows(windows_total: int | None, sample: int | None) -> set[int] | None:
    """Indices of the held-out windows to rebuild, spread evenly; None: every window."""
    if sample is None or windows_total is None or windows_total <= sample:
        return None
    return {int((i + 0.5) * windows_total / sample) for i in range(sample)}


class _Evaluation:
    """The streaming pass: state updated frame by frame (on the compute thread)."""

    def __init__(self, factor, methods, metrics: list[Metric], lpips_stride: int, temporal: bool,
                 chosen: set[int] | None = None):
        self.factor = factor
        self.methods = methods                      # [(name, Interpolator, MethodResult)]
        self.metrics = metrics
        self.lpips_stride = lpips_stride
        self.chosen = chosen                        # windows to rebuild (None: all)
        self.temporal = TemporalAnalyzer() if temporal else None
        self.held_times: list[float] = []
        self.held_indices: list[int] = []
        self.held_spans: list[tuple[float, float]] = []   # times of the two kept frames around each
        self.census: list[bool] = []                      # per rebuilt frame: its window is across a jump
        self.frames_read = 0
        self.windows_seen = 0
        # method → (luma mse, time, ref rgb8, cand rgb8) of its worst rebuilt frame, preferring frames
        # whose kept neighbours are not across a jump (a scene cut no method can bridge)
        self.worst: dict[str, tuple] = {}
        self.worst_across: dict[str, tuple] = {}
        #: ``observe(time, value, method)``: each rebuilt frame's luma PSNR as it is scored (the live
        #: quality view)
        self.observe = None

    def _frames(self, frames: Iterator[Frame]) -> Iterator[Frame]:
        for f in frames:
            self.frames_read += 1
            if self.temporal is not None:
                self.temporal.add(f)
            yield f

    def compute(self, frames: Iterator[Frame]) -> Iterator[int]:
        done = 0
        for window in windows(self._frames(frames), self.factor):
            w = self.windows_seen
            self.windows_seen += 1
            # windows across a jump are a stratum of their own, rebuilt in full (rare, extreme frames)
            across = self.temporal is not None and self.temporal.recent_jump(self.factor)
            if self.methods and (self.chosen is None or w in self.chosen or across):
                self._rebuild(window, across)
            yield self.frames_read - done
            done = self.frames_read
        if self.frames_read > done:
            yield self.frames_read - done

    def _rebuild(self, window, across: bool) -> None:
        """Every method rebuilds the window's held-out frames; each is scored against the original."""
        prepared = {}       # method → its Between for this pair, made on first use (timed)
        originals = [window.a, *window.held, window.b]
        for j, (index, frame) in enumerate(zip(window.held_indices(), window.held), start=1):
            t = window.fraction(frame)
            ref = Picture(frame)
            ref.neighbours = (Picture(originals[j - 1]), Picture(originals[j + 1]))
            k = len(self.held_indices)
            self.held_indices.append(index)
            self.held_times.append(float(frame.time))
            self.held_spans.append((float(window.a.time), float(window.b.time)))
            self.census.append(across)
            cands = []
            for name, interp, result in self.methods:
                t0 = time.perf_counter()
                if name not in prepared:
                    prepared[name] = interp.between(window.a, window.b)
                planes = prepared[name].at(t)
                result.seconds += time.perf_counter() - t0
                result.frames += 1
                cand = Picture(frame.with_planes(planes))
                cands.append(cand)
                for metric in self.metrics:
                    if not metric.expensive:
                        result.scores[metric.name].append(metric.score(ref, cand))
                if self.observe is not None and result.scores.get("psnr_y"):
                    self.observe(float(frame.time), result.scores["psnr_y"][-1], name)
                self._track_worst(self.worst_across if across else self.worst, name, ref, cand, frame)
            for metric in self.metrics:
                if metric.expensive:        # every method's rebuild in one batch, or none on unsampled frames
                    scores = (metric.score_many(ref, cands) if k % self.lpips_stride == 0
                              else [None] * len(cands))
                    for (_, _, result), value in zip(self.methods, scores):
                        result.scores[metric.name].append(value)

    @staticmethod
    def _track_worst(worst: dict, name: str, ref: Picture, cand: Picture, frame: Frame) -> None:
        err = mse(ref.luma8, cand.luma8)
        if name not in worst or err > worst[name][0]:
            worst[name] = (err, float(frame.time), ref.rgb8.copy(), cand.rgb8.copy())


def _av_offset(path: str, has_audio: bool) -> tuple[float | None, str, dict | None]:
    """(offset s, note, full estimate) from :func:`vidext.sound.av_sync`, when the clip has sound.

    Below its stated confidence (``vidext.sound.sync.SYNC_MIN_CONFIDENCE``: too few events
    shared by picture and sound) there is no offset, only the words saying so.
    """
    if not has_audio:
        return None, "the clip has no sound", None
    try:
        est = av_sync(path)
        if not est.reliable:
            return None, NOT_MEASURABLE, est.as_dict()
        return float(est.offset_s), "positive: the sound comes later than the picture", est.as_dict()
    except (InputError, DependencyError, ParameterError) as exc:
        return None, f"could not be estimated: {exc}", None


@dataclass
class _Job:
    """Checked inputs and the held-out plan (step 1)."""

    input: str
    info: MediaInfo
    factor: int
    names: list[str]
    optional: set[str]
    metric_names: list[str]
    explicit_metrics: bool
    total: int | None
    max_frames: int | None
    json_path: str | None
    report_dir: str | None
    sample: int | None
    chosen: set[int] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def windows_total(self) -> int | None:
        return None if self.total is None else max(0, (self.total - 1) // self.factor)

    @property
    def held_total(self) -> int | None:
        """Held-out frames that will be rebuilt (all of them, or those of the sampled windows)."""
        if self.chosen is not None:
            return len(self.chosen) * (self.factor - 1)
        return expected_held_out(self.total, self.factor)


def _check(input, methods, factor, metrics, max_frames, json_path, report_dir, sample) -> _Job:
    """Step 1: every argument checked, the clip probed, the windows to rebuild chosen."""
    factor = check_factor(factor)
    names = parse_methods(methods)
    optional = set(learned_names()) if isinstance(methods, str) and methods.strip() == "all" else set()
    metric_names, explicit = parse_metrics(metrics)
    sample = check_sample(sample)
    if max_frames is not None and (int(max_frames) != max_frames or max_frames < 2):
        raise ParameterError(f"max_frames must be a whole number of at least 2, got {max_frames}")
    if json_path is not None:
        json_path = check_output_path(json_path, (input,))
    if report_dir is not None:
        report_dir = os.path.abspath(report_dir)
        if os.path.exists(report_dir) and not os.path.isdir(report_dir):
            raise OutputError(f"report folder is a file: {report_dir}")
        if not os.path.isdir(os.path.dirname(report_dir)):
            raise OutputError(f"the report folder's parent does not exist: {os.path.dirname(report_dir)}")
    info = probe_video(input)
    check_video(info)
    total = info.video.frame_count
    if max_frames is not None:
        total = min(total, max_frames) if total else max_frames
    if names and total is not None and total < factor + 1:
        raise InputError(f"a held-out {factor}x test needs at least {factor + 1} frames; "
                         f"{os.path.basename(input)} has {total}")
    job = _Job(input, info, factor, names, optional, metric_names, explicit, total, max_frames, json_path,
               report_dir, sample)
    job.chosen = sampled_windows(job.windows_total, sample)
    if sample is not None and job.windows_total is None:
        job.notes.append("the clip does not state its frame count: every held-out window was rebuilt")
    return job


def _prepare(job: _Job, lpips_frames: int | None, temporal: bool):
    """Step 2: the methods and metrics (a model that cannot load is skipped only when not asked for by name)."""
    interps = []
    for n in job.names:
        try:
            interps.append((n, METHODS.create(n)))
        except (DependencyError, ModelError) as exc:
            if n not in job.optional:       # asked for by name: say why it cannot run
                raise
            job.notes.append(f"{n} not evaluated: {exc}")
    metric_objs: list[Metric] = []
    lpips_info = None
    stride = 1
    for n in (job.metric_names if job.names else []):
        try:
            m = METRICS.create(n)
        except (DependencyError, ModelError) as exc:
            if job.explicit_metrics:
                raise
            job.notes.append(f"{n} not scored: {exc}")
            continue
        metric_objs.append(m)
        if m.expensive:         # LPIPS, VMAF: the same sample of frames for each
            stride, _ = sample_indices(job.held_total, _lpips_limit(lpips_frames, m.device,
                                                                  job.info.video.width * job.info.video.height))
            if m.name == "lpips":
                lpips_info = {**m.variant.as_dict(), "stride": stride}
    results = [MethodResult(n, i.describe(), scores={m.name: [] for m in metric_objs}) for n, i in interps]
    run = _Evaluation(job.factor, [(n, i, r) for (n, i), r in zip(interps, results)], metric_objs, stride,
                      temporal, job.chosen)
    return run, results, metric_objs, lpips_info


def _stream(job: _Job, run: _Evaluation, meter: ProgressMeter, stop) -> None:
    """Step 3: one pass over the clip."""
    start = job.info.video.start_s
    run.observe = lambda t, value, method: meter.point(t - start, value, method)
    with FrameSource(job.input, job.info) as source:
        frames = itertools.islice(source, job.max_frames) if job.max_frames else source
        run_pipeline(frames, run.compute, meter.advance, stop=stop)
    meter.finish()
    if job.names and not run.held_indices:
        raise InputError(f"{os.path.basename(job.input)} has too few frames for a held-out {job.factor}x test")


def _build_report(job: _Job, run: _Evaluation, results, metric_objs, lpips_info, av) -> EvaluationReport:
    """Step 5: the report, the flags for frames across jumps, each method's worst frame pictured."""
    offset, offset_note, sync = av
    notes = job.notes
    if lpips_info is not None:
        scored = sum(v is not None for v in results[0].scores["lpips"]) if results else 0
        lpips_info["frames_scored"] = scored
        lpips_info["sample"] = ("every rebuilt frame" if lpips_info["stride"] == 1 else
                                f"one rebuilt frame in {lpips_info['stride']}, the same frames for every method")
    v = job.info.video
    population = max(len(run.held_indices), expected_held_out(job.total, job.factor) or 0)
    for r in results:
        r.population, r.census = population, (run.census if job.chosen is not None else None)
    report = EvaluationReport(
        input=job.input, video={"width": v.width, "height": v.height, "fps": float(v.fps_nominal),
                                "frames": v.frame_count, "duration_s": v.duration_s, "pix_fmt": v.pix_fmt},
        factor=job.factor, frames_read=run.frames_read, held_out_times_s=run.held_times,
        held_out_indices=run.held_indices, metrics=[m.describe() for m in metric_objs], methods=results,
        lpips=lpips_info, temporal=run.temporal.result() if run.temporal else None,
        av_offset_s=offset, av_offset_note=offset_note, av_sync=sync, seconds=0.0, notes=notes,
        held_out_population=population,
        sampled_windows=None if job.chosen is None else len(job.chosen),
        windows_total=run.windows_seen)
    if report.temporal is not None and report.methods:
        cuts = [j.time_s for j in report.temporal.jumps]
        report.held_out_across_jump = [any(a < c <= b for c in cuts) for a, b in run.held_spans]
        n = sum(report.held_out_across_jump)
        if n:
            notes.append(f"{n} rebuilt frame(s) lie between kept frames across a detected jump (scene cut or "
                         "glitch): no method can rebuild them; they are included in the means")
    for r in results:
        worst = run.worst.get(r.name) or run.worst_across.get(r.name)
        if worst is not None:
            err, when, ref, cand = worst
            r.worst_time_s = when
            r.worst_psnr_y = min(PSNR_CAP_DB, 10 * np.log10(255.0 ** 2 / err)) if err > 0 \
                else PSNR_CAP_DB
            caption = f"{r.name}, worst frame t={when:.3f}s, PSNR-Y {r.worst_psnr_y:.2f} dB"
            if r.name not in run.worst:
                r.worst_across_jump = True
                caption += " (across a jump)"
            report.images[f"heatmap_{r.name}"] = heatmap(ref, cand, caption)
            report.images[f"strip_{r.name}"] = strip(ref, cand, caption)
    return report


def _write(report: EvaluationReport, job: _Job) -> None:
    if job.report_dir is not None:
        report.files.update(write_report_dir(report, job.report_dir))
    if job.json_path is not None:
        report.write_json(job.json_path)


def evaluate_file(input: str, *, methods=config.EVALUATE_METHODS, factor=2, json_path: str | None = None,
                  report_dir: str | None = None, max_frames: int | None = None, metrics=None,
                  lpips_frames: int | None = None, temporal: bool = True,
                  sample: int | None = config.EVALUATE_SAMPLE_WINDOWS,
                  progress: ProgressCallback | None = None,
                  stop: threading.Event | None = None) -> EvaluationReport:
    """Measure ``input``: see :func:`vidext.evaluate`."""
    progress_ = JobProgress(progress, [])      # the wait starts here
    job = _check(input, methods, factor, metrics, max_frames, json_path, report_dir, sample)
    progress_.plan(job_stages(job))
    with progress_:
        progress_.enter("loading")              # the caller hears at once, before models load
        run, results, metric_objs, lpips_info = _prepare(job, lpips_frames, temporal)
        meter = ProgressMeter(job.total, progress_.enter("scoring"), stage="evaluate")
        _stream(job, run, meter, stop)
        if job.info.audio:
            progress_.enter("sync")
        av = _av_offset(input, bool(job.info.audio))
        progress_.enter("report")
        report = _build_report(job, run, results, metric_objs, lpips_info, av)
        t = progress_.timings()      # the files written carry the time so far (the report's own write aside)
        report.seconds, report.stage_seconds = t["seconds"], t["stages"]
        _write(report, job)
        t = progress_.finish()
        report.seconds, report.stage_seconds = t["seconds"], t["stages"]
    return report


#: shares of evaluate's bar, in seconds on a CPU: loading the metrics (torch and LPIPS's network on first
#: use), per rebuilt frame and method (rebuilding, PSNR/SSIM, LPIPS on a sample), per frame read
#: (decoding, the temporal analysis), the sound's sync (whole-clip onsets) and the report (pictures,
#: figures, files)
EVALUATE_LOADING_S = 3.0
EVALUATE_S_PER_REBUILT = 0.1
EVALUATE_S_PER_FRAME = 0.01
EVALUATE_SYNC_S = 2.0
EVALUATE_REPORT_S = 2.0


def job_stages(job: _Job) -> list[Stage]:
    """Evaluate's stages: loading the methods and metrics, rebuilding and scoring (one pass over the
    clip, counted in frames read), the sound's sync (a clip with sound) and the report."""
    rebuilt = (job.held_total or 0) * max(1, len(job.names))
    scoring = rebuilt * EVALUATE_S_PER_REBUILT + (job.total or 0) * EVALUATE_S_PER_FRAME
    stages = [Stage("loading", "loading the methods and metrics", EVALUATE_LOADING_S),
              Stage("scoring", "rebuilding and scoring", max(scoring, 1.0), total=job.total)]
    if job.info.audio:
        stages.append(Stage("sync", "sound against picture", EVALUATE_SYNC_S))
    stages.append(Stage("report", "the report", EVALUATE_REPORT_S))
    return stages
