"""Which method is best on this clip, and whether the difference matters: the evaluation's verdict.

Every method rebuilt the same held-out frames, so two methods are compared
frame by frame: the per-frame difference of a score, its clip-wide mean and
its confidence interval are estimated exactly like a method's own mean
(:func:`vidext.evaluation.stats.estimate`: the sample's strata, Student t,
finite-population correction).  Comparing on the same frames tells apart
differences far smaller than each mean's own ± (which mostly measures how
the clip's frames differ from each other, the same for every method).

A method is **better** than another on a metric when the whole interval of
the difference lies on its side of zero *and* the difference is at least
:data:`MEANINGFUL` (a difference measured exactly can still be too small
to see); **worse** the other way round; otherwise the two are
**indistinguishable here**.  The verdict reads the primary metric
(:data:`PRIMARY`: luma PSNR, scored on every rebuilt frame); a column's ★
(:func:`stars`) goes to a method only when it is better than every other on
that column.  Speed (rebuilt frames per second, one run) has no interval:
speeds closer than :data:`SPEED_RATIO` are "about the same".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .labels import joined, method_name
from .stats import estimate

PRIMARY = ("psnr_y", "psnr", "ssim", "ms_ssim", "vmaf", "lpips")   # the verdict's metric: the first measured

#: smallest difference of a metric's clip-wide mean that counts, even when measured exactly: 0.1 dB is
#: a fifth of the ~0.5 dB usually quoted as the smallest visible PSNR change; the others alike
MEANINGFUL = {"psnr_y": 0.1, "psnr": 0.1, "ssim": 0.002, "ms_ssim": 0.002, "lpips": 0.005, "vmaf": 1.0}
SPEED_RATIO = 1.25          # speeds of one run closer than this ratio are "about the same" (timing noise)


@dataclass(frozen=True)
class Difference:
    """Method ``a`` against ``b`` on one metric, over the frames both scored."""

    metric: str
    gain: float                 # a's mean minus b's, signed so that positive means ``a`` is better
    low: float | None           # confidence interval of ``gain`` (None: too few frames to tell)
    high: float | None
    frames: int

    @property
    def outcome(self) -> str:
        """``better``, ``worse``, ``same`` (within the interval or too small to matter) or ``unclear``."""
        if self.low is None:
            return "unclear"
        floor = MEANINGFUL.get(self.metric, 0.0)
        if self.low > 0 and self.gain >= floor:
            return "better"
        if self.high < 0 and self.gain <= -floor:
            return "worse"
        return "same"

    def as_dict(self) -> dict:
        return {"metric": self.metric, "gain": self.gain, "interval": None if self.low is None else
                [self.low, self.high], "frames": self.frames, "outcome": self.outcome}


def difference(a, b, metric: str, higher_is_better: bool) -> Difference | None:
    """``a`` against ``b`` (:class:`~vidext.evaluation.report.MethodResult`) frame by frame; None when
    no frame was scored by both."""
    va, vb = a.scores.get(metric) or [], b.scores.get(metric) or []
    d = [x - y if x is not None and y is not None else None for x, y in zip(va, vb)]
    n = sum(1 for x in d if x is not None)
    if n == 0:
        return None
    mean, iv = estimate(d, a.census, a.population)
    sign = 1.0 if higher_is_better else -1.0
    if iv is None:
        return Difference(metric, sign * mean, None, None, n)
    lo, hi = sorted((sign * iv[0], sign * iv[1]))
    return Difference(metric, sign * mean, lo, hi, n)


def _better(metrics: list[dict]) -> dict[str, bool]:
    return {m["name"]: bool(m.get("higher_is_better", True)) for m in metrics}


def stars(methods, metrics: list[dict]) -> dict[str, str | None]:
    """Per metric (and ``frames_per_second``): the method better than every other beyond the noise, or None."""
    out: dict[str, str | None] = {}
    higher = _better(metrics)
    for metric, up in higher.items():
        scored = [m for m in methods if m.mean(metric) is not None]
        out[metric] = None
        if len(scored) < 2:
            continue
        best = max(scored, key=lambda m: m.mean(metric) if up else -m.mean(metric))
        diffs = [difference(best, m, metric, up) for m in scored if m is not best]
        if all(d is not None and d.outcome == "better" for d in diffs):
            out[metric] = best.name
    speeds = sorted(((m.frames_per_second, m.name) for m in methods if m.frames_per_second), reverse=True)
    out["frames_per_second"] = (speeds[0][1] if len(speeds) > 1 and speeds[0][0] >= SPEED_RATIO * speeds[1][0]
                                else None)
    return out


def _times(ratio: float) -> str:
    return f"{ratio:.1f}×" if ratio < 9.95 else f"{ratio:.0f}×"


def speed_words(fps: float | None, than: float | None) -> str:
    """"3× quicker", "2.5× slower", "about as quick" (empty when a speed is missing)."""
    if not fps or not than:
        return ""
    r = fps / than
    if r >= SPEED_RATIO:
        return f"{_times(r)} quicker"
    if r <= 1 / SPEED_RATIO:
        return f"{_times(1 / r)} slower"
    return "about as quick"


@dataclass
class Verdict:
    """The verdict on the primary metric: the leading methods (the best and those indistinguishable from
    it) and every other one's difference from the best."""

    metric: str
    unit: str
    best: str
    leaders: list[str]
    behind: list[tuple[str, Difference]]        # worse than the best, best first
    unclear: list[str]                          # too few frames to tell from the best
    speeds: dict[str, float | None]
    frames: int

    def text(self, name: Callable[[str], str] = method_name) -> str:
        """One or two sentences, e.g. "RIFE and Flow (balanced) are indistinguishable here; Flow (fast) is
        0.8 dB worse and 3.1× quicker."."""
        lead = sorted(self.leaders + self.unclear, key=lambda k: -(self.speeds.get(k) or 0))
        if len(lead) == 1 and not self.behind:
            return f"Only {name(lead[0])} was measured."
        if len(lead) == 1:
            parts = [f"{name(self.best)} comes closest to the real frames"]
        else:
            every = " all" if not self.behind else ""
            parts = [f"{joined(name(k) for k in lead)} are{every} indistinguishable here"]
            quick, slow = lead[0], lead[-1]
            said = speed_words(self.speeds.get(quick), self.speeds.get(slow))
            if said and said != "about as quick":
                parts[0] += f" ({name(quick)} is {said} than {name(slow)})"
        reference = lead[0]               # the quickest of the leaders: what the others would replace
        for key, d in self.behind:
            size = f"{abs(d.gain):.1f} dB" if self.unit == "dB" else f"{abs(d.gain):.3g}"
            clause = f"{name(key)} is {size} worse"
            said = speed_words(self.speeds.get(key), self.speeds.get(reference))
            if said:
                clause += f" and {said}" if said != "about as quick" else ", at about the same speed"
            parts.append(clause)
        text = "; ".join(parts) + "."
        if self.unclear:
            text += (f" ({joined(name(k) for k in self.unclear)}: too few frames to tell apart from "
                     f"{name(self.best)}.)")
        return text

    def as_dict(self) -> dict:
        return {"metric": self.metric, "best": self.best, "leaders": self.leaders, "unclear": self.unclear,
                "behind": {k: d.as_dict() for k, d in self.behind}, "frames": self.frames,
                "meaningful": MEANINGFUL.get(self.metric), "text": self.text()}


def verdict(methods, metrics: list[dict]) -> Verdict | None:
    """The :class:`Verdict` of ``methods`` (MethodResults) on the primary metric; None without scores."""
    higher = _better(metrics)
    units = {m["name"]: m.get("unit", "") for m in metrics}
    metric = next((k for k in PRIMARY if k in higher and any(m.mean(k) is not None for m in methods)), None)
    if metric is None:
        return None
    up = higher[metric]
    scored = [m for m in methods if m.mean(metric) is not None]
    best = max(scored, key=lambda m: m.mean(metric) if up else -m.mean(metric))
    leaders, behind, unclear = [best.name], [], []
    for m in scored:
        if m is best:
            continue
        d = difference(m, best, metric, up)
        if d is None or d.outcome == "unclear":
            unclear.append(m.name)
        elif d.outcome == "worse":
            behind.append((m.name, d))
        else:                       # "same" (never "better": best has the highest mean)
            leaders.append(m.name)
    behind.sort(key=lambda item: -item[1].gain)
    frames = max((sum(1 for x in m.scores.get(metric) or [] if x is not None) for m in scored), default=0)
    return Verdict(metric, units.get(metric, ""), best.name, leaders, behind, unclear,
                   {m.name: m.frames_per_second for m in methods}, frames)
