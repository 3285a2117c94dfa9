"""``--model auto``: pick the interpolation method by measuring the user's own clip.

Before the full run, held-out frames (:mod:`vidext.evaluation.heldout` at 2×:
kept frames k and k+2 rebuild frame k+1) from ``config.AUTO_EXCERPTS``
short excerpts spread evenly over the clip (or over the segment being
smoothed) are rebuilt by every candidate — ``blend`` (the floor), the DIS
presets ``fast``/``balanced``/``quality`` and ``rife`` when its weights are
on disk (never downloaded here) and this device runs it at most
``config.AUTO_RIFE_MAX_SLOWDOWN``× the default preset's measured cost per
frame — and scored with the metrics registry: luma PSNR on the whole frame,
LPIPS on a ``config.AUTO_LPIPS_CROP``-pixel square at full resolution where
the motion between the kept frames is largest, on at most
``config.AUTO_LPIPS_WINDOWS`` windows (the same for every method: LPIPS
costs about a second a picture on a 2-core CPU).  Windows whose kept frames
lie across a scene cut are skipped (the full run never morphs them).

**Rule.**  Perceptual first, luma PSNR as the guard: among the methods whose
mean PSNR-Y is within ``config.AUTO_PSNR_GUARD_DB`` of the best, the lowest
mean LPIPS wins; LPIPS within ``config.AUTO_LPIPS_TIE`` of that counts as a
tie and the fastest tied method wins.  Without LPIPS (no torch) the best
PSNR-Y wins, and the summary says so.

**Budget.**  Counted in frames processed: the rebuilt frames of all
methods together are at most ``budget`` (default ``config.AUTO_BUDGET``) ×
the frames the full run synthesises; when that allows fewer than
``config.AUTO_MIN_WINDOWS`` windows per method nothing is measured and the
default preset is used (said in the summary).
"""
from __future__ import annotations

import itertools
import math
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterator

import cv2
import numpy as np

from .. import config
from ..errors import Cancelled, DependencyError, ModelError, ParameterError
from ..media.probe import MediaInfo
from ..media.reader import FrameSource
from ..media.runner import ProgressCallback, ProgressMeter
from ..interpolation.base import Interpolator
from ..interpolation.scenes import cut_score, signature


@dataclass
class Row:
    """One candidate's measurement."""

    name: str
    interpolator: Interpolator = field(repr=False)
    psnr_y: list[float] = field(default_factory=list)
    lpips: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)    # seconds of the method's own compute, per frame
    dropped: str | None = None          # why it stopped being a candidate

    @property
    def frames(self) -> int:
        return len(self.psnr_y)

    def mean(self, metric: str) -> float | None:
        values = getattr(self, metric)
        return float(np.mean(values)) if values else None

    @property
    def seconds_per_frame(self) -> float | None:
        return float(np.mean(self.times)) if self.times else None

    def as_dict(self) -> dict:
        spf = self.seconds_per_frame
        lp = self.mean("lpips")
        return {"method": self.name, "psnr_y": _round(self.mean("psnr_y"), 3), "lpips": _round(lp, 4),
                "frames": self.frames, "lpips_frames": len(self.lpips),
                "seconds_per_frame": _round(spf, 4), "dropped": self.dropped}


def _round(x, n):
    return None if x is None else round(x, n)


@dataclass
class AutoChoice:
    """What ``--model auto`` measured and chose; ``interpolator`` is ready for the full run."""

    chosen: str
    table: list[dict]
    summary: str
    excerpts: list[dict]
    frames_measured: int
    budget: dict
    rule: str
    notes: list[str]
    seconds: float
    interpolator: Interpolator = field(repr=False)

    def as_dict(self) -> dict:
        return {"chosen": self.chosen, "table": self.table, "summary": self.summary, "excerpts": self.excerpts,
                "frames_measured": self.frames_measured, "budget": self.budget, "rule": self.rule,
                "notes": self.notes, "seconds": round(self.seconds, 3)}


RULE = (f"perceptual first, luma PSNR as the guard: among methods within {config.AUTO_PSNR_GUARD_DB:g} dB "
        f"PSNR-Y of the best, the lowest LPIPS wins; LPIPS within {config.AUTO_LPIPS_TIE:g} is a tie, won by "
        "the fastest")


def check_budget(budget) -> float:
    if budget is None:
        return config.AUTO_BUDGET
    try:
        b = float(budget)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"auto budget must be a fraction of the full run, got {budget!r}") from exc
    if not (math.isfinite(b) and 0 < b <= 1):
        raise ParameterError(f"auto budget must be a fraction of the full run in (0, 1], got {budget}")
    return b


def synthesised_frames(total_frames: int, rate: Fraction, input_rate: Fraction, stretch: Fraction,
                       smooth_frames: int | None = None) -> int:
    """Frames the full run makes (not copies): output frames off the input's grid.

    Inside the range being smoothed (``smooth_frames`` output frames, else
    all) the output grid meets the input grid once every ``p`` output frames,
    ``p`` the numerator of (output rate × stretch / input rate) in lowest terms.
    """
    ratio = Fraction(rate) * Fraction(stretch) / Fraction(input_rate)
    inside = total_frames if smooth_frames is None else min(total_frames, smooth_frames)
    return int(inside - inside // ratio.limit_denominator(1000).numerator)


def _candidates(weights, device, dis_options: dict, notes: list[str]) -> list[Row]:
    from ..interpolation import INTERPOLATORS
    from ..models import locate

    rows = [Row(name, INTERPOLATORS.create("blend") if name == "blend" else
                INTERPOLATORS.create("dis", quality=name, **dis_options)) for name in config.AUTO_CANDIDATES]
    try:
        found = locate(config.RIFE_MODEL, weights, download=False)
        rows.append(Row("rife", INTERPOLATORS.create("rife", weights=found.path, device=device)))
    except (ModelError, DependencyError, ImportError) as exc:
        if weights is not None:       # asked for by path: say why it cannot run
            raise
        notes.append(f"rife not measured: {str(exc).split(':')[0]} (weights not on this machine; "
                     "auto never downloads)")
    return rows


def _plan_excerpts(first: int, last: int, windows_total: int) -> list[tuple[int, int]]:
    """(first frame index, windows) of each excerpt, evenly spread over frames ``first..last``."""
    span = last - first + 1
    count = min(config.AUTO_EXCERPTS, windows_total)
    if 2 * windows_total + 2 * count > span:        # a short clip: one run of consecutive windows
        count, windows_total = 1, min(windows_total, (span - 1) // 2)
    plan = []
    for e in range(count):
        n = windows_total // count + (1 if e < windows_total % count else 0)
        centre = first + (e + 0.5) * span / count
        start = int(min(max(first, round(centre - n)), last - 2 * n))
        plan.append((start, n))
    return plan


def _excerpt_windows(source: Iterator, plan: list[tuple[int, int]]):
    """(excerpt number, Window) for each planned window; decoding stops after the last excerpt."""
    from ..evaluation.heldout import windows

    frames = enumerate(source)
    for e, (start, n) in enumerate(plan):
        end = start + 2 * n
        chunk = (f for i, f in itertools.takewhile(lambda x, end=end: x[0] <= end, frames) if i >= start)
        yield from ((e, w) for w in windows(chunk, 2))


def motion_box(a, b, size: int) -> tuple[int, int, int, int]:
    """(top, left, h, w): the ``size`` square (clipped to the picture) where |luma a − luma b| sums highest."""
    ya, yb = a.luma(), b.luma()
    h, w = ya.shape
    bh, bw = min(size, h), min(size, w)
    step = 4
    diff = cv2.absdiff(ya[::step, ::step], yb[::step, ::step]).astype(np.float32)
    kh, kw = max(1, bh // step), max(1, bw // step)
    sums = cv2.boxFilter(diff, -1, (kw, kh), normalize=False, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    valid = sums[:max(1, diff.shape[0] - kh + 1), :max(1, diff.shape[1] - kw + 1)]
    y, x = np.unravel_index(int(np.argmax(valid)), valid.shape)
    return min(y * step, h - bh), min(x * step, w - bw), bh, bw


def pick(rows: list[Row], perceptual: bool) -> tuple[Row, Row | None]:
    """The winner by :data:`RULE` and the runner-up it is compared with."""
    live = [r for r in rows if r.frames and r.dropped is None]
    best_psnr = max(r.mean("psnr_y") for r in live)
    guarded = [r for r in live if r.mean("psnr_y") >= best_psnr - config.AUTO_PSNR_GUARD_DB]
    if perceptual:
        def key(r):
            return r.mean("lpips")
        top = min(key(r) for r in guarded)
        tied = [r for r in guarded if key(r) <= top + config.AUTO_LPIPS_TIE]
        chosen = min(tied, key=lambda r: (r.seconds_per_frame, key(r)))
        rest = sorted((r for r in live if r is not chosen), key=key)
    else:
        chosen = max(guarded, key=lambda r: r.mean("psnr_y"))
        rest = sorted((r for r in live if r is not chosen), key=lambda r: -r.mean("psnr_y"))
    return chosen, (rest[0] if rest else None)


def _summary(chosen: Row, other: Row | None, perceptual: bool, excerpts: int) -> str:
    text = f"auto chose {chosen.name}"
    if other is not None:
        dpsnr = chosen.mean("psnr_y") - other.mean("psnr_y")
        if perceptual:
            text += f": LPIPS {chosen.mean('lpips'):.3f} vs {other.mean('lpips'):.3f} ({other.name}), "
        else:
            text += f" (no LPIPS: luma PSNR alone) over {other.name}: "
        text += f"PSNR-Y {dpsnr:+.1f} dB"
    return text + f", on {excerpts} excerpt{'s' if excerpts != 1 else ''}"


def choose_for_plan(input: str, info: MediaInfo, plan, total_frames: int, *, settings, progress=None,
                    stop=None) -> AutoChoice:
    """:func:`choose` for an interpolation job: its ``RetimePlan``, output frames and checked settings."""
    span, smooth = None, None
    if plan.smooth_range is not None:
        lo, hi = plan.smooth_range
        span = (float(lo), float(hi))
        out = (plan.timemap.to_output(hi) - plan.timemap.to_output(lo)) if plan.timemap is not None else hi - lo
        smooth = int(round(out * plan.rate))
    new = synthesised_frames(total_frames, plan.rate, info.video.fps_nominal, plan.stretch, smooth)
    return choose(input, info, new_frames=new, span=span, budget=settings.auto_budget, weights=settings.weights,
                  device=settings.device, progress=progress, stop=stop,
                  dis_options={"low_light": settings.low_light, "flow_smoothing": settings.flow_smoothing})


def choose(input: str, info: MediaInfo, *, new_frames: int, span: tuple[float, float] | None = None,
           budget=None, weights=None, device: str | None = None, dis_options: dict | None = None,
           progress: ProgressCallback | None = None, stop: threading.Event | None = None) -> AutoChoice:
    """Measure each candidate on excerpts of ``input`` and pick one (see the module notes).

    ``new_frames``: frames the full run synthesises (see :func:`synthesised_frames`);
    ``span``: the input seconds being smoothed (default: the whole clip).
    """
    t_start = time.perf_counter()
    fraction = check_budget(budget)
    notes: list[str] = []
    rows = _candidates(weights, device, dis_options or {}, notes)
    allowed = int(fraction * max(0, new_frames))
    budget_info = {"fraction": fraction, "full_run_frames": int(new_frames), "frames_allowed": allowed,
                   "counted": "rebuilt frames of all methods together vs frames the full run synthesises"}
    default = next(r for r in rows if r.name == config.DEFAULT_QUALITY)
    video = info.video
    fps = float(video.fps_nominal)
    count = video.frame_count or int(round(video.duration_s * fps))
    lo, hi = 0, count - 1
    if span is not None:
        lo = max(0, int(round((span[0] - video.start_s) * fps)))
        hi = min(count - 1, int(round((span[1] - video.start_s) * fps)))
    windows_total = allowed // len(rows)
    plan = _plan_excerpts(lo, hi, windows_total) if windows_total >= config.AUTO_MIN_WINDOWS else []
    if not plan or sum(n for _, n in plan) < config.AUTO_MIN_WINDOWS:
        summary = (f"auto chose {default.name} without measuring: the budget ({fraction:.0%} of "
                   f"{new_frames} frames) allows fewer than {config.AUTO_MIN_WINDOWS} held-out frames "
                   f"per method")
        return AutoChoice(default.name, [], summary, [], 0, budget_info, RULE, notes,
                          time.perf_counter() - t_start, default.interpolator)

    from ..evaluation import METRICS
    from ..evaluation.metrics import Picture

    psnr_y = METRICS.create("psnr_y")
    try:
        lpips = METRICS.create("lpips")
    except (DependencyError, ModelError, ImportError) as exc:
        lpips = None
        notes.append(f"LPIPS unavailable ({exc}): chosen by luma PSNR alone")
    planned = sum(n for _, n in plan)
    lpips_at = {int(i * planned / config.AUTO_LPIPS_WINDOWS) for i in range(config.AUTO_LPIPS_WINDOWS)}
    meter = ProgressMeter(planned * len(rows), progress, stage="auto")
    excerpts = [{"start_s": None, "end_s": None, "windows": 0, "skipped_cuts": 0} for _ in plan]
    k = 0
    with FrameSource(input, info) as source:
        for e, win in _excerpt_windows(source, plan):
            if stop is not None and stop.is_set():
                raise Cancelled("auto: stopped while measuring")
            ex = excerpts[e]
            ex["start_s"] = float(win.a.time) if ex["start_s"] is None else ex["start_s"]
            ex["end_s"] = float(win.b.time)
            if cut_score(signature(win.a), signature(win.b)) >= config.SCENE_THRESHOLD:
                ex["skipped_cuts"] += 1
                continue
            held = win.held[0]
            t = win.fraction(held)
            ref = Picture(held)
            scored = lpips is not None and k in lpips_at
            box = motion_box(win.a, win.b, config.AUTO_LPIPS_CROP) if scored else None
            ref_crop = ref.region(*box) if scored else None
            live = [r for r in rows if not r.dropped]
            crops = []
            for row in live:
                t0 = time.perf_counter()
                planes = row.interpolator.between(win.a, win.b).at(t)
                row.times.append(time.perf_counter() - t0)
                cand = Picture(held.with_planes(planes))
                row.psnr_y.append(psnr_y.score(ref, cand))
                if scored:
                    crops.append(cand.region(*box))
                meter.advance()
            if scored:      # one batched forward pass for the original and every method's rebuild
                for row, d in zip(live, lpips.score_many(ref_crop, crops)):
                    row.lpips.append(d)
            _drop_slow(rows, default, k)
            ex["windows"] += 1
            k += 1
    meter.finish()
    frames_measured = sum(r.frames for r in rows)
    measured = [r for r in rows if r.frames and r.dropped is None]
    if not measured:
        summary = f"auto chose {default.name} without a measurement: every excerpt window lay across a cut"
        return AutoChoice(default.name, [r.as_dict() for r in rows], summary, excerpts, frames_measured,
                          budget_info, RULE, notes, time.perf_counter() - t_start, default.interpolator)
    perceptual = lpips is not None and all(r.lpips for r in measured)
    chosen, other = pick(rows, perceptual)
    used = sum(1 for ex in excerpts if ex["windows"])
    summary = _summary(chosen, other, perceptual, used)
    for r in rows:
        if r.dropped:
            notes.append(f"{r.name} left out: {r.dropped}")
    if lpips is not None:
        notes.append(f"LPIPS ({lpips.variant.label}) on a {config.AUTO_LPIPS_CROP}-pixel square at full "
                     f"resolution where the motion is largest, {len(chosen.lpips)} frame(s) per method")
    table = [r.as_dict() for r in rows]
    for d in table:
        d["chosen"] = d["method"] == chosen.name
    return AutoChoice(chosen.name, table, summary, excerpts, frames_measured, budget_info, RULE, notes,
                      time.perf_counter() - t_start, chosen.interpolator)


def _drop_slow(rows: list[Row], default: Row, k: int) -> None:
    """After two windows (the first includes warm-up), leave out a learned model too slow on this device."""
    if k != 1:
        return
    for r in rows:
        if r.name == "rife" and r.dropped is None and default.times and r.times:
            cost = min(r.times)
            ratio = cost / min(default.times)
            if ratio > config.AUTO_RIFE_MAX_SLOWDOWN:
                r.dropped = (f"{cost:.2f} s per frame on this device, {ratio:.0f}x "
                             f"{default.name}'s (limit {config.AUTO_RIFE_MAX_SLOWDOWN:g}x)")
