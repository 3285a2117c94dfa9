"""``evaluate``: held-out reconstruction, temporal consistency and A/V offset of one clip.

Steps: (1) check the inputs and plan the held-out split, (2) prepare the
methods and metrics, (3) stream the clip once — decode on its own thread,
every consecutive pair into the temporal analyser, every held-out window
rebuilt by each method and scored — (4) measure the A/V offset, (5) draw the
pictures and write the JSON / report folder.  At most ``factor + 1`` frames
and one worst frame per method are held at a time.
"""
from __future__ import annotations

import importlib
import itertools
import os
import threading
import time
from typing import Iterator

import numpy as np

from .. import config
from ..errors import DependencyError, InputError, ModelError, OutputError, ParameterError
from ..limits import check_video
from ..media.atomic import check_output_path
from ..media.frame import Frame
from ..media.probe import probe_video
from ..media.reader import FrameSource
from ..media.runner import ProgressCallback, ProgressMeter, run_pipeline
from . import METRICS
from .heldout import (check_factor, create_method, expected_held_out, learned_names, parse_methods,
                      sample_indices, windows)
from .metrics import Metric, Picture, mse
from .pictures import heatmap, strip, write_report_dir
from .report import EvaluationReport, MethodResult
from .temporal import TemporalAnalyzer


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


def _lpips_limit(lpips_frames: int | None, device: str) -> int | None:
    if lpips_frames is not None:
        if lpips_frames < 0:
            raise ParameterError(f"lpips_frames must be 0 (all) or positive, got {lpips_frames}")
        return lpips_frames or None
    return None if device == "cuda" else config.LPIPS_CPU_MAX_FRAMES


class _Evaluation:
    """The streaming pass: state updated frame by frame (on the compute thread)."""

    def __init__(self, factor, methods, metrics: list[Metric], lpips_stride: int, temporal: bool):
        self.factor = factor
        self.methods = methods                      # [(name, Interpolator, MethodResult)]
        self.metrics = metrics
        self.lpips_stride = lpips_stride
        self.temporal = TemporalAnalyzer() if temporal else None
        self.held_times: list[float] = []
        self.held_indices: list[int] = []
        self.held_spans: list[tuple[float, float]] = []   # times of the two kept frames around each
        self.frames_read = 0
        # method → (luma mse, time, ref rgb8, cand rgb8) of its worst rebuilt frame, preferring frames
        # whose kept neighbours are not across a jump (a scene cut no method can bridge)
        self.worst: dict[str, tuple] = {}
        self.worst_across: dict[str, tuple] = {}

    def _frames(self, frames: Iterator[Frame]) -> Iterator[Frame]:
        for f in frames:
            self.frames_read += 1
            if self.temporal is not None:
                self.temporal.add(f)
            yield f

    def compute(self, frames: Iterator[Frame]) -> Iterator[int]:
        done = 0
        for window in windows(self._frames(frames), self.factor):
            if not self.methods:
                yield self.frames_read - done
                done = self.frames_read
                continue
            across = self.temporal is not None and self.temporal.recent_jump(self.factor)
            prepared = {}       # method → its Between for this pair, made on first use (timed)
            for index, frame in zip(window.held_indices(), window.held):
                t = window.fraction(frame)
                ref = Picture(frame)
                k = len(self.held_indices)
                self.held_indices.append(index)
                self.held_times.append(float(frame.time))
                self.held_spans.append((float(window.a.time), float(window.b.time)))
                for name, interp, result in self.methods:
                    t0 = time.perf_counter()
                    if name not in prepared:
                        prepared[name] = interp.between(window.a, window.b)
                    planes = prepared[name].at(t)
                    result.seconds += time.perf_counter() - t0
                    result.frames += 1
                    cand = Picture(frame.with_planes(planes))
                    for metric in self.metrics:
                        scored = not metric.expensive or k % self.lpips_stride == 0
                        result.scores[metric.name].append(metric.score(ref, cand) if scored else None)
                    self._track_worst(self.worst_across if across else self.worst, name, ref, cand, frame)
            yield self.frames_read - done
            done = self.frames_read
        if self.frames_read > done:
            yield self.frames_read - done

    @staticmethod
    def _track_worst(worst: dict, name: str, ref: Picture, cand: Picture, frame: Frame) -> None:
        err = mse(ref.luma8, cand.luma8)
        if name not in worst or err > worst[name][0]:
            worst[name] = (err, float(frame.time), ref.rgb8.copy(), cand.rgb8.copy())


def _av_offset(path: str, has_audio: bool) -> tuple[float | None, str, dict | None]:
    """(offset s, note, full estimate) from the sound helper, when it is installed and there is sound."""
    if not has_audio:
        return None, "the clip has no sound", None
    try:   # through sys.modules, so a build (or a test) can provide its own
        sound = importlib.import_module("..sound", __package__)
    except ImportError:
        return None, "vidext.sound (audio helper) is not installed in this build", None
    try:
        detailed = getattr(sound, "av_sync", None)
        if detailed is not None:
            est = detailed(path)
            return float(est.offset_s), "positive: the sound comes later than the picture", est.as_dict()
        return float(sound.estimate_av_offset(path)), "positive: the sound comes later than the picture", None
    except (InputError, DependencyError, ParameterError) as exc:
        return None, f"could not be estimated: {exc}", None


def evaluate_file(input: str, *, methods=config.EVALUATE_METHODS, factor=2, json_path: str | None = None,
                  report_dir: str | None = None, max_frames: int | None = None, metrics=None,
                  lpips_frames: int | None = None, temporal: bool = True,
                  progress: ProgressCallback | None = None,
                  stop: threading.Event | None = None) -> EvaluationReport:
    """Measure ``input``: see :func:`vidext.evaluate`."""
    t_start = time.perf_counter()
    # 1. check inputs, plan
    factor = check_factor(factor)
    names = parse_methods(methods)
    optional = set(learned_names()) if isinstance(methods, str) and methods.strip() == "all" else set()
    metric_names, explicit = parse_metrics(metrics)
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

    # 2. methods and metrics
    notes: list[str] = []
    interps = []
    for n in names:
        try:
            interps.append((n, create_method(n)))
        except (DependencyError, ModelError) as exc:
            if n not in optional:       # asked for by name: say why it cannot run
                raise
            notes.append(f"{n} not evaluated: {exc}")
    metric_objs: list[Metric] = []
    lpips_info = None
    held_total = expected_held_out(total, factor)
    stride = 1
    for n in (metric_names if names else []):
        try:
            m = METRICS.create(n)
        except (DependencyError, ModelError) as exc:
            if explicit:
                raise
            notes.append(f"{n} not scored: {exc}")
            continue
        metric_objs.append(m)
        if m.expensive:
            stride, _ = sample_indices(held_total, _lpips_limit(lpips_frames, m.variant.device))
            lpips_info = {**m.variant.as_dict(), "stride": stride}
    results = [MethodResult(n, i.describe(), scores={m.name: [] for m in metric_objs}) for n, i in interps]
    run = _Evaluation(factor, [(n, i, r) for (n, i), r in zip(interps, results)], metric_objs, stride, temporal)

    # 3. one streaming pass
    meter = ProgressMeter(total, progress, stage="evaluate")
    with FrameSource(input, info) as source:
        frames = itertools.islice(source, max_frames) if max_frames else source
        run_pipeline(frames, run.compute, meter.advance, stop=stop)
    meter.finish()
    if names and not run.held_indices:
        raise InputError(f"{os.path.basename(input)} has too few frames for a held-out {factor}x test")
    if lpips_info is not None:
        scored = sum(v is not None for v in results[0].scores["lpips"]) if results else 0
        lpips_info["frames_scored"] = scored
        lpips_info["sample"] = ("every rebuilt frame" if stride == 1 else
                                f"one rebuilt frame in {stride}, the same frames for every method")

    # 4. A/V offset
    offset, offset_note, sync = _av_offset(input, bool(info.audio))

    # 5. pictures and files
    v = info.video
    report = EvaluationReport(
        input=input, video={"width": v.width, "height": v.height, "fps": float(v.fps_nominal),
                            "frames": v.frame_count, "duration_s": v.duration_s, "pix_fmt": v.pix_fmt},
        factor=factor, frames_read=run.frames_read, held_out_times_s=run.held_times,
        held_out_indices=run.held_indices, metrics=[m.describe() for m in metric_objs], methods=results,
        lpips=lpips_info, temporal=run.temporal.result() if run.temporal else None,
        av_offset_s=offset, av_offset_note=offset_note, av_sync=sync, seconds=0.0, notes=notes)
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
            r.worst_psnr_y = min(config.PSNR_CAP_DB, 10 * np.log10(255.0 ** 2 / err)) if err > 0 \
                else config.PSNR_CAP_DB
            caption = f"{r.name}, worst frame t={when:.3f}s, PSNR-Y {r.worst_psnr_y:.2f} dB"
            if r.name not in run.worst:
                r.worst_across_jump = True
                caption += " (across a jump)"
            report.images[f"heatmap_{r.name}"] = heatmap(ref, cand, caption)
            report.images[f"strip_{r.name}"] = strip(ref, cand, caption)
    report.seconds = time.perf_counter() - t_start
    if report_dir is not None:
        report.files.update(write_report_dir(report, report_dir))
    if json_path is not None:
        report.write_json(json_path)
    return report
