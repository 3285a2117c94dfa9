"""``--model auto``: pick the interpolation method by measuring the user's own clip.

Before the full run, held-out windows (:mod:`vidext.evaluation.heldout` at 2×:
kept frames k and k+2 rebuild frame k+1) in :data:`EXCERPTS` short excerpts
spread evenly over the clip (or over the segment being smoothed) are rebuilt
by every candidate — ``blend`` (the floor), the DIS presets
``fast``/``balanced``/``quality``, and ``rife`` and ``best`` (RIFE with
test-time augmentation fused with DIS, :mod:`vidext.interpolation.fusion`)
whenever RIFE's weights are on disk (never downloaded here) — and scored with the metrics registry: luma
PSNR on the whole frame, LPIPS on a :data:`LPIPS_CROP`-pixel square at full
resolution where the motion between the kept frames is largest.  Windows
whose kept frames lie across a scene cut are skipped (the full run never
morphs them).

**Budget, in seconds of work.**  What measuring will cost is estimated
before it starts, from each candidate's known cost per frame
(:data:`COST_PER_FRAME`: fixed + per megapixel), LPIPS's cost per window and
decoding up to the last window; so is the full run with the default preset.
Measuring may take ``budget`` (``--auto-budget``, default
``config.AUTO_BUDGET``) × the full run's estimate, or :data:`FLOOR_S`
seconds, whichever is larger: at least :data:`MIN_WINDOWS` windows per
candidate whenever that fits, more (up to :data:`MAX_WINDOWS`) when the
budget allows.  When it does not fit, the costliest candidates are left out
first (:data:`LEAVE_OUT_FIRST`, said in the notes: ``best`` takes about
two and a half times RIFE's time, so it is measured where the budget allows it); when not even the
classical ones fit, nothing is measured and the default preset runs (said in
the summary).  The one-off start-up (importing torch and LPIPS's network,
RIFE's set-up) is recorded beside it, not counted against the windows.

**Rule: time is weighed.**  Candidates are ordered by their cost per frame
at the clip's size; the fastest is the choice until a slower one beats it by
a difference larger than the metrics' own noise between windows (see
:data:`PSNR_WINDOW_SD_DB`, :data:`LPIPS_WINDOW_SD`): the mean per-window
difference over the ``n`` windows both measured must exceed
:data:`Z` × sd / √n on luma PSNR or on LPIPS, without being that much worse
on the other.  So with three windows a slower method must win by about
1.1 dB or 0.015 LPIPS; with twelve, by 0.57 dB or 0.007.  When the lead of a
slower candidate is real-looking but within the noise, the two are measured
again on more windows elsewhere in the clip while the budget allows
(a second pass), then the rule is applied again.  Without LPIPS (no torch)
luma PSNR alone decides, and the summary says so.
"""
from __future__ import annotations

import math
import sys
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

#: the evidence measuring sends (series ``tried:<method>``: each candidate's luma PSNR on a held-out frame, at its
#: time in the clip), for the live view while the person waits through measuring
TRIED = "tried:"
CANDIDATES = ("blend", "fast", "balanced", "quality")   # always; plus rife and best when RIFE's weights are on disk
EXCERPTS = 3                # the first pass's windows lie in this many excerpts spread evenly over the clip
MIN_WINDOWS = 3             # per candidate: fewer cannot tell a method from the luck of the windows drawn
MAX_WINDOWS = 12            # per candidate, both passes together: beyond, the threshold shrinks slowly (1/√n)
LPIPS_CROP = 192            # LPIPS is scored on this square of full-resolution pixels where the motion is largest

# --- the budget (seconds of work) -----------------------------------------------------------------------
# Estimated cost of one rebuilt frame, per candidate: (fixed seconds, seconds per megapixel), one
# thread of the pipeline, on the 2-core AMD EPYC Zen 4 (avx512_bf16) the project is measured on, at
# 176x144, 640x272 and 1280x720 (carphone, bikes, bigbuckbunny; load average 2.1-2.4):
#   blend 0.0013 s/MP; fast 0.003 / 0.006 / 0.018 s; balanced 0.003 / 0.005 / 0.023 s;
#   quality 0.005 / 0.018 / 0.081 s; rife (bf16, 1 thread) 0.022 / 0.096 / 0.50 s; best 0.048 / 0.21 / 1.20 s.
# Command: .venv/bin/python bench/auto_evaluate.py --part costs.  Only an estimate: the windows' own
# times thin the plan when they run behind it.
COST_PER_FRAME = {"blend": (0.0, 0.0013), "fast": (0.003, 0.016), "balanced": (0.002, 0.023),
                  "quality": (0.003, 0.085), "rife": (0.015, 0.53),
                  "best": (0.03, 1.27)}     # two RIFE passes (one set of features), DIS quality and the fusion
LPIPS_S_PER_WINDOW = 0.07   # one batched LPIPS pass over the original's and every candidate's crop (Zen 4)
DECODE_S_PER_MP = 0.004     # decoding one input frame (H.264, 720p: 3 ms), per megapixel
CODEC_S_PER_MP = 0.03       # the full run's decoding and encoding, per output frame and megapixel
FLOOR_S = 6.0               # measuring may always take this many seconds of work ("a few seconds"):
#   three windows of every candidate, RIFE included, fit on a 2 s to 15 s clip up to 720p on the Zen 4
LEAVE_OUT_FIRST = ("best", "quality", "rife", "fast")   # when even MIN_WINDOWS do not fit: left out in this order

# --- the rule --------------------------------------------------------------------------------------------
# The metrics' own noise between windows: the standard deviation, over a clip's held-out windows, of
# the per-window difference of a score between two methods, median over every pair of fast, balanced,
# quality and rife and over bikes.mp4, bigbuckbunny.mp4 and carphone_pristine.mp4 (121 frames of each,
# 57-60 windows a clip; range 0.05-3.4 dB and 0.0006-0.083):
#   .venv/bin/python bench/auto_noise.py
PSNR_WINDOW_SD_DB = 0.98
LPIPS_WINDOW_SD = 0.0127
Z = 2.0                     # a slower method wins by more than Z standard errors of the mean difference


@dataclass
class Row:
    """One candidate's measurement: scores per window (keyed by the window's first frame index)."""

    name: str
    interpolator: Interpolator = field(repr=False)
    cost: float = 0.0                                       # estimated seconds per frame at the clip's size
    psnr_y: dict[int, float] = field(default_factory=dict)
    lpips: dict[int, float] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)    # seconds of the method's own compute, per frame
    dropped: str | None = None          # why it stopped being a candidate

    @property
    def frames(self) -> int:
        return len(self.psnr_y)

    def mean(self, metric: str, windows: set[int] | None = None) -> float | None:
        """The mean over the windows measured (``windows``: over those of them only)."""
        values = [v for k, v in getattr(self, metric).items() if windows is None or k in windows]
        return float(np.mean(values)) if values else None

    @property
    def seconds_per_frame(self) -> float | None:
        return float(np.median(self.times)) if self.times else None

    def as_dict(self, common: set[int] | None = None) -> dict:
        """The row; its means over the ``common`` windows (those every candidate measured) when given,
        so that the table compares like with like (a second pass adds windows to some rows only)."""
        spf = self.seconds_per_frame
        lp = self.mean("lpips", common)
        return {"method": self.name, "psnr_y": _round(self.mean("psnr_y", common), 3), "lpips": _round(lp, 4),
                "frames": self.frames, "lpips_frames": len(self.lpips),
                "seconds_per_frame": _round(spf, 4), "estimated_seconds_per_frame": _round(self.cost, 4),
                "dropped": self.dropped}


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


RULE = (f"time weighed: the fastest candidate wins unless a slower one is better by more than {Z:g} standard "
        f"errors of the per-window noise (luma PSNR {PSNR_WINDOW_SD_DB:g} dB, LPIPS {LPIPS_WINDOW_SD:g} per "
        "window, over the windows both measured) on one metric without being that much worse on the other")


def check_budget(budget) -> float:
    if budget is None:
        return config.AUTO_BUDGET
    try:
        b = float(budget)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"auto budget must be a fraction of the full run's time, got {budget!r}") from exc
    if not (math.isfinite(b) and 0 < b <= 1):
        raise ParameterError(f"auto budget must be a fraction of the full run's time in (0, 1], got {budget}")
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


def frame_cost(name: str, width: int, height: int) -> float:
    """Estimated seconds to rebuild one frame with candidate ``name`` (see :data:`COST_PER_FRAME`)."""
    fixed, per_mp = COST_PER_FRAME[name]
    return fixed + per_mp * width * height / 1e6


def job_seconds(new_frames: int, out_frames: int, width: int, height: int,
                method: str = config.DEFAULT_QUALITY) -> float:
    """Estimated seconds of the full run with ``method``: its frames plus decoding and encoding."""
    return new_frames * frame_cost(method, width, height) + out_frames * CODEC_S_PER_MP * width * height / 1e6


def measuring_seconds(costs: list[float], windows: int, decoded: int, width: int, height: int,
                      lpips: bool = True) -> float:
    """Estimated seconds of work to measure candidates of per-frame ``costs`` on ``windows`` windows,
    decoding ``decoded`` input frames to reach them."""
    per_window = sum(costs) + (LPIPS_S_PER_WINDOW if lpips else 0.0)
    return windows * per_window + decoded * DECODE_S_PER_MP * width * height / 1e6


def _candidates(weights, device, dis_options: dict, notes: list[str], width: int, height: int) -> list[Row]:
    from ..interpolation import INTERPOLATORS
    from ..models import locate

    rows = [Row(name, INTERPOLATORS.create("blend") if name == "blend" else
                INTERPOLATORS.create("dis", quality=name, **dis_options), frame_cost(name, width, height))
            for name in CANDIDATES]
    try:
        found = locate(config.RIFE_MODEL, weights, download=False)
        rows.append(Row("rife", INTERPOLATORS.create("rife", weights=found.path, device=device),
                        frame_cost("rife", width, height)))
        rows.append(Row("best", INTERPOLATORS.create("best", weights=found.path, device=device, **dis_options),
                        frame_cost("best", width, height)))
    except (ModelError, DependencyError, ImportError) as exc:
        if weights is not None:       # asked for by path: say why it cannot run
            raise
        notes.append(f"rife not measured: {str(exc).split(':')[0]} (weights not on this machine; "
                     "auto never downloads)")
    return rows


def window_starts(first: int, last: int, windows: int, groups: int = EXCERPTS, phase: float = 0.5,
                  taken: set[int] = frozenset()) -> list[int]:
    """First frame indices of ``windows`` held-out windows (frames s, s+1, s+2) inside frames
    ``first..last``, in ``groups`` runs of consecutive windows centred at (g + ``phase``)/groups of the
    span; none overlapping a start in ``taken`` (a window shares no frame with another's middle)."""
    free = [s for s in range(first, last - 1) if all(abs(s - t) >= 2 for t in taken)]
    if not free or windows <= 0:
        return []
    groups = max(1, min(groups, windows))
    out: list[int] = []
    for g in range(groups):
        n = windows // groups + (1 if g < windows % groups else 0)
        centre = first + (g + phase) * (last - first + 1) / groups
        # the n free starts nearest the centre, each 2 frames after the last (consecutive windows)
        pool = [s for s in free if all(abs(s - o) >= 2 for o in out)]
        pool.sort(key=lambda s: abs(s - centre))
        for s in pool:
            if n == 0:
                break
            if all(abs(s - o) >= 2 for o in out):
                out.append(s)
                n -= 1
    return sorted(out)


def _windows_at(source: Iterator, starts: list[int]):
    """(start, Window) for each start in ``starts``, in order, from one pass over ``source``; stops
    after the last.  ``starts`` may lose entries not yet reached while this runs (the plan thinned)."""
    from ..evaluation.heldout import Window

    recent: list = []
    for i, frame in enumerate(source):
        if not starts or i > max(starts) + 2:
            return
        recent = (recent + [frame])[-3:]
        if i >= 2 and i - 2 in starts:
            yield i - 2, Window(recent[0], recent[2], [recent[1]], i - 2)


def _thin(starts: list[int], done: set[int], keep: int) -> bool:
    """Remove one window not yet measured from the excerpt that has the most still to come, so the
    plan keeps its spread; never below ``keep`` windows in all.  False when none can go."""
    todo = [s for s in starts if s not in done]
    if len(starts) <= keep or not todo:
        return False
    groups: list[list[int]] = []
    for s in sorted(starts):
        if groups and s - groups[-1][-1] <= 2:
            groups[-1].append(s)
        else:
            groups.append([s])
    # an excerpt keeps at least one window: the plan's spread over the clip is what it thins last
    open_ = [g for g in groups if len(g) > 1 and any(s not in done for s in g)]
    if not open_:
        return False
    group = max(open_, key=lambda g: (sum(1 for s in g if s not in done), len(g)))
    starts.remove([s for s in group if s not in done][-1])
    return True


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


# --- the rule ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """How a slower candidate compares with a faster one on the windows both measured."""

    windows: int
    psnr_gain: float                 # dB, slower minus faster (positive: the slower is better)
    psnr_threshold: float
    lpips_gain: float | None         # faster minus slower LPIPS (positive: the slower is better)
    lpips_threshold: float | None

    @property
    def better(self) -> bool:
        """Visibly better: past the noise on one metric, not past it the wrong way on the other."""
        p_ok, p_win = self.psnr_gain > -self.psnr_threshold, self.psnr_gain > self.psnr_threshold
        if self.lpips_gain is None:
            return p_win
        l_ok, l_win = self.lpips_gain > -self.lpips_threshold, self.lpips_gain > self.lpips_threshold
        return (p_win and l_ok) or (l_win and p_ok)

    @property
    def ahead(self) -> bool:
        """Ahead on some metric and not behind past the noise on the other, but not :attr:`better`."""
        if self.better:
            return False
        gains = [(self.psnr_gain, self.psnr_threshold)]
        if self.lpips_gain is not None:
            gains.append((self.lpips_gain, self.lpips_threshold))
        return any(g > 0 for g, _ in gains) and all(g > -t for g, t in gains)


def compare(slower: Row, faster: Row, perceptual: bool) -> Verdict | None:
    """The :class:`Verdict` of ``slower`` against ``faster`` (None: no window in common)."""
    common = sorted(set(slower.psnr_y) & set(faster.psnr_y))
    if not common:
        return None
    dp = float(np.mean([slower.psnr_y[k] - faster.psnr_y[k] for k in common]))
    tp = Z * PSNR_WINDOW_SD_DB / math.sqrt(len(common))
    dl = tl = None
    both = sorted(set(slower.lpips) & set(faster.lpips)) if perceptual else []
    if both:
        dl = float(np.mean([faster.lpips[k] - slower.lpips[k] for k in both]))
        tl = Z * LPIPS_WINDOW_SD / math.sqrt(len(both))
    return Verdict(len(common), dp, tp, dl, tl)


def pick(rows: list[Row], perceptual: bool) -> tuple[Row, Row | None]:
    """The winner by :data:`RULE`, and the runner-up it is reported against: the slower candidate
    ahead of it within the noise, else the other candidate with the best luma PSNR."""
    live = sorted((r for r in rows if r.frames and r.dropped is None), key=lambda r: r.cost)
    chosen = live[0]
    for r in live[1:]:
        v = compare(r, chosen, perceptual)
        if v is not None and v.better:
            chosen = r
    others = [r for r in live if r is not chosen]
    closest = max(others, key=lambda r: r.mean("psnr_y")) if others else None
    return chosen, (rival(rows, chosen, perceptual) or closest)


def rivals(rows: list[Row], chosen: Row, perceptual: bool) -> list[Row]:
    """The slower candidates ahead of ``chosen`` but within the noise, furthest ahead first."""
    ahead = []
    for r in rows:
        if r is chosen or r.dropped or not r.frames or r.cost <= chosen.cost:
            continue
        v = compare(r, chosen, perceptual)
        if v is not None and v.ahead:
            ahead.append((v.psnr_gain / v.psnr_threshold + ((v.lpips_gain or 0) / (v.lpips_threshold or 1)), r))
    return [r for _, r in sorted(ahead, key=lambda x: -x[0])]


def rival(rows: list[Row], chosen: Row, perceptual: bool) -> Row | None:
    """The slower candidate furthest ahead of ``chosen`` within the noise, if any."""
    ahead = rivals(rows, chosen, perceptual)
    return ahead[0] if ahead else None


def _summary(chosen: Row, other: Row | None, perceptual: bool, excerpts: int) -> str:
    text = f"auto chose {chosen.name}"
    if other is not None:
        v = compare(other, chosen, perceptual) if other.cost > chosen.cost else compare(chosen, other, perceptual)
        if v is not None:
            sign = 1 if other.cost > chosen.cost else -1     # differences written as chosen minus other
            dp = -sign * v.psnr_gain
            if perceptual and v.lpips_gain is not None:
                both = set(chosen.lpips) & set(other.lpips)       # the pair's own windows, as the rule
                text += (f": LPIPS {chosen.mean('lpips', both):.3f} vs {other.mean('lpips', both):.3f} "
                         f"({other.name}), PSNR-Y {dp:+.2f} dB")
            else:
                text += f" (no LPIPS: luma PSNR alone) over {other.name}: PSNR-Y {dp:+.2f} dB"
            if other.cost > chosen.cost:
                text += (f"; {other.name} is slower and not better by more than the noise "
                         f"({v.psnr_threshold:.2f} dB"
                         + (f", {v.lpips_threshold:.3f} LPIPS" if v.lpips_threshold is not None else "")
                         + f" over {v.windows} windows)")
    return text + f", on {excerpts} excerpt{'s' if excerpts != 1 else ''}"


# --- measuring ------------------------------------------------------------------------------------------
def choose_for_plan(input: str, info: MediaInfo, plan, total_frames: int, *, settings, progress=None,
                    stop=None) -> AutoChoice:
    """:func:`choose` for an interpolation job: its ``RetimePlan``, output frames and checked settings."""
    span, smooth = None, None
    if plan.smooth_range is not None:
        lo, hi = plan.smooth_range
        span = (float(lo), float(hi))
        out = (plan.timemap.to_output(hi) - plan.timemap.to_output(lo)) if plan.timemap is not None else hi - lo
        smooth = int(round(out * plan.rate))
    new = synthesised_frames(total_frames, plan.rate, info.video.rate, plan.stretch, smooth)
    return choose(input, info, new_frames=new, out_frames=total_frames, span=span, budget=settings.auto_budget,
                  weights=settings.weights, device=settings.device, progress=progress, stop=stop,
                  dis_options={"low_light": settings.low_light, "flow_smoothing": settings.flow_smoothing})


class _Scorer:
    """Scores one window for a set of rows: PSNR-Y on the whole frame, LPIPS on the motion crop."""

    def __init__(self, notes: list[str]):
        from ..evaluation import METRICS

        self.psnr_y = METRICS.create("psnr_y")
        try:
            self.lpips = METRICS.create("lpips")
        except (DependencyError, ModelError, ImportError) as exc:
            self.lpips = None
            notes.append(f"LPIPS unavailable ({exc}): chosen by luma PSNR alone")

    def window(self, start: int, win, rows: list[Row], meter: ProgressMeter) -> None:
        from ..evaluation.metrics import Picture

        held = win.held[0]
        t = win.fraction(held)
        ref = Picture(held)
        box = motion_box(win.a, win.b, LPIPS_CROP) if self.lpips is not None else None
        crops = []
        for row in rows:
            t0 = time.perf_counter()
            planes = row.interpolator.between(win.a, win.b).at(t)
            row.times.append(time.perf_counter() - t0)
            cand = Picture(held.with_planes(planes))
            row.psnr_y[start] = self.psnr_y.score(ref, cand)
            meter.point(float(held.time), row.psnr_y[start], TRIED + row.name)     # the live view's evidence
            if box is not None:
                crops.append(cand.region(*box))
        if box is not None:     # one batched forward pass for the original and every method's rebuild
            for row, d in zip(rows, self.lpips.score_many(ref.region(*box), crops)):
                row.lpips[start] = d
        meter.advance()         # one window, every candidate: items of one size (a rate that holds)


def _measure(input: str, info: MediaInfo, starts: list[int], rows: list[Row], scorer: _Scorer,
             meter: ProgressMeter, excerpts: list[dict], stop, limit_s: float | None = None) -> float:
    """Rebuild and score the windows at ``starts`` with ``rows``; returns the seconds it took.

    ``limit_s``: when, at the rate measured so far (from the second window on: the first holds the
    warm-up), the windows left would end past this many seconds, windows not yet reached are
    dropped evenly from the excerpts (:func:`_thin`), never below :data:`MIN_WINDOWS`.
    """
    t0 = time.perf_counter()
    plan = sorted(starts)
    done: set[int] = set()
    first_window = None
    with FrameSource(input, info) as source:
        for start, win in _windows_at(source, plan):
            if stop is not None and stop.is_set():
                raise Cancelled("auto: stopped while measuring")
            ex = _excerpt_of(excerpts, start)
            ex["start_s"] = float(win.a.time) if ex["start_s"] is None else min(ex["start_s"], float(win.a.time))
            ex["end_s"] = float(win.b.time) if ex["end_s"] is None else max(ex["end_s"], float(win.b.time))
            done.add(start)
            if cut_score(signature(win.a), signature(win.b)) >= config.SCENE_THRESHOLD:
                ex["skipped_cuts"] += 1
                continue
            scorer.window(start, win, rows, meter)
            ex["windows"] += 1
            spent = time.perf_counter() - t0
            first_window = spent if first_window is None else first_window
            measured = ex_count = sum(e["windows"] for e in excerpts)
            if limit_s is not None and measured >= 2:
                rate = (spent - first_window) / max(1, ex_count - 1)
                while spent + rate * sum(1 for s in plan if s not in done) > limit_s and \
                        _thin(plan, done, MIN_WINDOWS):
                    pass
            # the count to go: the windows still planned (thinned, or a window across a cut skipped)
            meter.total = meter.done + sum(1 for s in plan if s not in done)
    return time.perf_counter() - t0


def _excerpt_of(excerpts: list[dict], start: int) -> dict:
    """The excerpt record a window belongs to: the one whose frames it continues, else a new one."""
    for ex in excerpts:
        if ex["first_frame"] - 2 <= start <= ex["last_frame"] + 2:
            ex["first_frame"], ex["last_frame"] = min(ex["first_frame"], start), max(ex["last_frame"], start)
            return ex
    ex = {"start_s": None, "end_s": None, "windows": 0, "skipped_cuts": 0, "first_frame": start,
          "last_frame": start}
    excerpts.append(ex)
    return ex


def _fit(rows: list[Row], allowed: float, first: int, last: int, width: int, height: int, lpips: bool,
         ) -> tuple[int, list[int], str | None]:
    """Windows per candidate that the allowance holds (leaving out candidates per
    :data:`LEAVE_OUT_FIRST` when even :data:`MIN_WINDOWS` do not fit), their starts, and why
    nothing can be measured (None when something can)."""
    if len(window_starts(first, last, MIN_WINDOWS)) < MIN_WINDOWS:
        return 0, [], f"the clip (or segment) holds fewer than {MIN_WINDOWS} held-out windows"
    while True:
        live = [r for r in rows if r.dropped is None]
        best_n, best_starts = 0, []
        for n in range(MIN_WINDOWS, MAX_WINDOWS + 1):
            starts = window_starts(first, last, n)
            if len(starts) < n:
                break
            cost = measuring_seconds([r.cost for r in live], n, max(starts) + 3 - first, width, height, lpips)
            if cost > allowed:
                break
            best_n, best_starts = n, starts
        if best_n:
            return best_n, best_starts, None
        out = next((r for name in LEAVE_OUT_FIRST for r in live if r.name == name), None)
        if out is None:
            return 0, [], (f"{MIN_WINDOWS} held-out windows per method would take more than the "
                           f"{allowed:.1f} s allowed")
        est = measuring_seconds([r.cost for r in live], MIN_WINDOWS, 0, width, height, lpips)
        out.dropped = (f"left out: {MIN_WINDOWS} windows of every candidate would take about {est:.1f} s of "
                       f"work, over the {allowed:.1f} s allowed")


def choose(input: str, info: MediaInfo, *, new_frames: int, out_frames: int | None = None,
           span: tuple[float, float] | None = None, budget=None, weights=None, device: str | None = None,
           dis_options: dict | None = None, progress: ProgressCallback | None = None,
           stop: threading.Event | None = None) -> AutoChoice:
    """Measure each candidate on windows of ``input`` and pick one (see the module notes).

    ``new_frames``: frames the full run synthesises (see :func:`synthesised_frames`);
    ``out_frames``: frames it writes (default twice ``new_frames``);
    ``span``: the input seconds being smoothed (default: the whole clip).
    """
    t_start = time.perf_counter()
    fraction = check_budget(budget)
    notes: list[str] = []
    video = info.video
    width, height = video.width, video.height
    torch_before = "torch" in sys.modules
    rows = _candidates(weights, device, dis_options or {}, notes, width, height)
    out_frames = 2 * new_frames if out_frames is None else out_frames
    job = job_seconds(max(0, new_frames), max(0, out_frames), width, height)
    allowed = max(fraction * job, FLOOR_S)
    budget_info = {"fraction": fraction, "full_run_seconds_estimate": round(job, 2), "floor_seconds": FLOOR_S,
                   "allowed_seconds": round(allowed, 2),
                   "counted": "estimated seconds of measuring work (windows: decoding, every candidate, LPIPS) vs "
                              f"the larger of {fraction:g} x the full run's estimate with "
                              f"{config.DEFAULT_QUALITY} and {FLOOR_S:g} s"}
    default = next(r for r in rows if r.name == config.DEFAULT_QUALITY)
    fps = float(video.fps_nominal)
    count = video.frame_count or int(round(video.duration_s * fps))
    lo, hi = 0, count - 1
    if span is not None:
        lo = max(0, int(round((span[0] - video.start_s) * fps)))
        hi = min(count - 1, int(round((span[1] - video.start_s) * fps)))
    lpips_expected = _lpips_importable()
    n, starts, why = (_fit(rows, allowed, lo, hi, width, height, lpips_expected) if new_frames > 0 else
                      (0, [], "the run makes no new frames"))
    if not starts:
        summary = f"auto chose {default.name} without measuring: {why}"
        if "allowed" in why:
            summary += f" (the larger of {fraction:.0%} of the full run's {job:.1f} s and {FLOOR_S:g} s)"
        for r in rows:
            if r.dropped:
                notes.append(f"{r.name} {r.dropped}")
        return AutoChoice(default.name, [], summary, [], 0, budget_info, RULE, notes,
                          time.perf_counter() - t_start, default.interpolator)
    live = [r for r in rows if r.dropped is None]
    budget_info["estimated_seconds"] = round(measuring_seconds(
        [r.cost for r in live], n, max(starts) + 3 - lo, width, height, lpips_expected), 2)
    t_setup = time.perf_counter()
    scorer = _Scorer(notes)
    for r in live:
        r.interpolator.setup(width, height)     # e.g. RIFE's CPU setting: part of the start-up, not of a window
    start_up = time.perf_counter() - t_setup
    meter = ProgressMeter(len(starts), progress, stage="auto", unit="test frames")
    excerpts: list[dict] = []
    spent = _measure(input, info, starts, live, scorer, meter, excerpts, stop, limit_s=allowed)
    perceptual = scorer.lpips is not None and all(r.lpips for r in live if r.frames)
    measured = [r for r in live if r.frames]
    if not measured:
        meter.finish()
        summary = f"auto chose {default.name} without a measurement: every excerpt window lay across a cut"
        return AutoChoice(default.name, [r.as_dict() for r in rows], summary, _public(excerpts), 0,
                          budget_info, RULE, notes, time.perf_counter() - t_start, default.interpolator)
    chosen, _ = pick(rows, perceptual)
    # second pass: the slower candidates ahead of the choice but within the noise get more windows, with it
    first_pass = set(measured[0].psnr_y)
    ahead = rivals(rows, chosen, perceptual)
    if ahead and spent < allowed:
        pair = [chosen, *ahead]
        per_window = spent / max(1, len(measured[0].psnr_y)) * sum(r.cost for r in pair) / sum(r.cost for r in live)
        more = min(MAX_WINDOWS - min(r.frames for r in pair), int((allowed - spent) / max(per_window, 1e-3)))
        extra = window_starts(lo, hi, more, phase=0.0, taken=first_pass) if more > 0 else []
        if extra:
            notes.append(f"{', '.join(r.name for r in ahead)} ahead of {chosen.name} within the noise after "
                         f"{chosen.frames} windows: measured with it on {len(extra)} more")
            meter.total += len(extra)
            spent += _measure(input, info, extra, pair, scorer, meter, excerpts, stop, limit_s=allowed - spent)
            chosen, _ = pick(rows, perceptual)
    meter.finish()
    _, other = pick(rows, perceptual)
    frames_measured = sum(r.frames for r in rows)
    used = sum(1 for ex in excerpts if ex["windows"])
    summary = _summary(chosen, other, perceptual, used)
    for r in rows:
        if r.dropped:
            notes.append(f"{r.name} {r.dropped}")
    if scorer.lpips is not None:
        notes.append(f"LPIPS ({scorer.lpips.variant.label}) on a {LPIPS_CROP}-pixel square at full "
                     f"resolution where the motion is largest, on every window")
    common = set.intersection(*(set(r.psnr_y) for r in measured))
    notes.append(f"the table's means are over the {len(common)} windows every candidate measured; the rule "
                 "compares each pair on every window both measured")
    budget_info.update({"windows_planned": n, "windows_measured": max(r.frames for r in rows),
                        "spent_seconds": round(spent, 2),
                        "start_up_seconds": round(start_up, 2),
                        "start_up": "LPIPS's network" + (", torch's import" if not torch_before else "")
                                    + (" and RIFE's set-up" if any(r.name == "rife" for r in live) else "")})
    table = [r.as_dict(common) for r in rows]
    for d in table:
        d["chosen"] = d["method"] == chosen.name
    return AutoChoice(chosen.name, table, summary, _public(excerpts), frames_measured, budget_info, RULE, notes,
                      time.perf_counter() - t_start, chosen.interpolator)


def _public(excerpts: list[dict]) -> list[dict]:
    """The excerpt records in time order, without the frame bookkeeping."""
    keep = ("start_s", "end_s", "windows", "skipped_cuts")
    return [{k: ex[k] for k in keep} for ex in sorted(excerpts, key=lambda e: e["first_frame"])]


def _lpips_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None
