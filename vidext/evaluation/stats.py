"""The statistics of an evaluation: the clip-wide mean of a per-frame score and its confidence interval
from a sample of frames (also of a per-frame *difference* between two methods, :mod:`.verdict`)."""
from __future__ import annotations

import math

import numpy as np

from .. import config

CONFIDENCE_METHOD = (
    "stratified: held-out windows across a detected jump (scene cut, glitch) are all rebuilt, the others "
    "sampled evenly; the mean weights each stratum by its size in the clip; the interval is Student t over the "
    "sampled frames (sample standard deviation) with the finite-population correction sqrt(1 - n/N), so it "
    "bounds the mean an exhaustive run would give and is 0 wide when every frame was scored")


def json_safe(x):
    """``x`` with every NaN or infinity replaced by None (JSON has neither)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x


def _mean(values) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None


def mean_interval(values, population: int | None, level: float = config.EVALUATE_CONFIDENCE) -> tuple | None:
    """(low, high): a ``level`` confidence interval for the mean of ``population`` values, from a sample.

    Student t with the finite-population correction; (mean, mean) when the
    sample is the whole population; None with fewer than two values.
    """
    from scipy import stats

    v = np.array([x for x in values if x is not None], np.float64)
    n = len(v)
    if n == 0:
        return None
    m = float(v.mean())
    if population is not None and n >= population:
        return (m, m)
    if n < 2:
        return None
    fpc = math.sqrt(max(0.0, 1.0 - n / population)) if population else 1.0
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n) * fpc)
    return (m - half, m + half)


def estimate(values, census: list[bool] | None, population: int | None,
             level: float = config.EVALUATE_CONFIDENCE) -> tuple[float | None, tuple | None]:
    """(mean, interval) of the clip-wide mean from per-frame ``values`` (see :data:`CONFIDENCE_METHOD`).

    ``census[i]``: frame i belongs to the stratum rebuilt in full (windows
    across a jump).  Values with gaps (a metric scored on a subset) or no
    strata fall back to the plain mean and :func:`mean_interval`.
    """
    if census is None or population is None or any(x is None for x in values) or not any(census):
        return _mean(values), mean_interval(values, population, level)
    full = [x for x, c in zip(values, census) if c]
    rest = [x for x, c in zip(values, census) if not c]
    n_rest = population - len(full)
    if not rest or n_rest <= 0:
        m = _mean(values)
        return m, ((m, m) if len(values) >= population else None)
    mean = (sum(full) + n_rest * float(np.mean(rest))) / population
    iv = mean_interval(rest, n_rest, level)
    if iv is None:
        return mean, None
    half = (iv[1] - iv[0]) / 2 * n_rest / population
    return mean, (mean - half, mean + half)
