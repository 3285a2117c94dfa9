"""What a viewer would see of an extension, measured against the shot's own motion.

Every figure is a mean absolute luma difference between downscaled pictures
(:func:`vidext.extension.clip.thumbnail`, 8-bit levels), set against the same
figure between the shot's own consecutive frames, so a calm shot and a busy
one are judged by their own standard:

- **junction**: the largest step over the seam (the junction frame, any new
  frames, and the real frames the extension goes on with), divided by the
  shot's 95th-percentile step.  Above 1: a jump the shot itself never makes.
- **stall**: motion stopping or turning back (freeze, ping-pong turn) shows as
  a two-frame step ``|f[k+1] − f[k−1]|`` far below the shot's own; the figure is
  ``EXTEND_PROGRESS_MIN`` divided by (seam two-step / the shot's median
  two-step).  Above 1: a visible stall or reversal.
- **jerk**: the camera's apparent motion (the dominant translation between
  consecutive pictures, by phase correlation) changing abruptly — a bridge
  that swings the view back, a loop that restarts a pan — is invisible to
  pixel differences on textured pictures (they saturate) but not to the eye.
  The figure is the largest change of that translation from one step to the
  next over the seam, divided by the shot's own 95th-percentile change
  (at least ``EXTEND_JERK_FLOOR_PX`` index pixels).
- **inside**: for every new picture that is not a real frame (a bridge frame,
  an extrapolated one), its distance to the *nearest* real frame of the shot,
  in the shot's median steps; ``inside_worst`` over 2 (``EXTEND_INSIDE_LIMIT``)
  means a picture the shot never came close to — a double exposure, a smear.
- **loop_s**: how long before the picture repeats (shorter is more noticeable).

Differences below ``EXTEND_VISIBLE_LEVEL`` levels count as that level,
so a still shot's sensor noise does not make every change look huge.
A candidate *passes* when junction, stall, jerk and inside/limit are all ≤ 1; its
``cost`` (lower is better) is the largest of the three plus
``EXTEND_LOOP_WEIGHT × min(1, SEAMLESS_MIN_LOOP_S / loop_s)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .. import config

# What a viewer sees (seamless.py, ramp.py and the app's words read these too): differences in 8-bit
# luma levels on the index pictures.
EXTEND_VISIBLE_LEVEL = 1.0           # differences below this count as this (sensor noise is not motion)
EXTEND_INSIDE_LIMIT = 2.0            # new pictures within this many median steps of a real frame of the shot
EXTEND_JERK_FLOOR_PX = 0.5           # index px: changes of apparent camera motion below this are not seen


EXTEND_PROBE_S = 1.0                 # seconds of synthesised frames measured (auto's candidates, motion's own check)
EXTEND_JERK_FRAMES = 2000            # last frames of a shot whose own changes of motion are measured
EXTEND_PROGRESS_MIN = 0.5            # two-frame progress below this share of the shot's own: a stall/reversal
EXTEND_LOOP_WEIGHT = 0.25            # cost of repeating after SEAMLESS_MIN_LOOP_S (less for longer loops)


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def mad_to_all(ref: np.ndarray, stack: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Distance of ``ref`` to every picture of ``stack`` (k, h, w)."""
    out = np.empty(len(stack))
    r = ref.astype(np.int16)
    for c0 in range(0, len(stack), chunk):
        out[c0:c0 + chunk] = np.abs(stack[c0:c0 + chunk].astype(np.int16) - r).mean(axis=(1, 2))
    return out


def consecutive(thumbs: np.ndarray, gap: int = 1, chunk: int = 1024) -> np.ndarray:
    """Distances between pictures ``gap`` apart."""
    n = max(0, len(thumbs) - gap)
    out = np.empty(n)
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        out[c0:c1] = np.abs(thumbs[c0 + gap:c1 + gap].astype(np.int16)
                            - thumbs[c0:c1].astype(np.int16)).mean(axis=(1, 2))
    return out


def velocity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dominant translation (dx, dy) from picture ``a`` to ``b``, in index pixels (phase correlation)."""
    win = _window(a.shape)
    (dx, dy), _ = cv2.phaseCorrelate(a.astype(np.float32), b.astype(np.float32), win)
    return np.array([dx, dy])


_WINDOWS: dict = {}


def _window(shape) -> np.ndarray:
    if shape not in _WINDOWS:
        _WINDOWS[shape] = cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)
    return _WINDOWS[shape]


def jerks(pictures) -> list[float]:
    """How much the translation changes from each step to the next."""
    v = [velocity(a, b) for a, b in zip(pictures, pictures[1:])]
    return [float(np.hypot(*(q - p))) for p, q in zip(v, v[1:])]


@dataclass
class ShotStats:
    """The shot's own frame-to-frame figures, the yardstick of every score."""

    thumbs: np.ndarray          # the shot's index pictures (generation order, junction last)
    median: float               # median step
    p95: float                  # 95th-percentile step
    two_step: float             # median distance between frames two apart
    jerk_p95: float = 0.0       # 95th percentile of the change of translation between steps (index px)

    @classmethod
    def of(cls, thumbs: np.ndarray) -> "ShotStats":
        steps = consecutive(thumbs, 1)
        twos = consecutive(thumbs, 2)
        own = jerks(thumbs[-EXTEND_JERK_FRAMES:])
        return cls(thumbs, float(np.median(steps)) if len(steps) else 0.0,
                   float(np.percentile(steps, 95)) if len(steps) else 0.0,
                   float(np.median(twos)) if len(twos) else 0.0,
                   float(np.percentile(own, 95)) if own else 0.0)

    def nearest(self, pic: np.ndarray) -> float:
        """Distance of ``pic`` to the nearest real frame of the shot."""
        return float(mad_to_all(pic, self.thumbs).min())


@dataclass
class Score:
    """One candidate's figures (see the module docstring)."""

    junction: float
    stall: float
    jerk: float
    inside_worst: float
    inside_p90: float
    loop_s: float | None        # None: the picture never repeats
    new_pictures: int           # pictures that are not real frames among those measured

    @property
    def worst(self) -> float:
        return max(self.junction, self.stall, self.jerk, self.inside_worst / EXTEND_INSIDE_LIMIT)

    @property
    def passed(self) -> bool:
        return self.worst <= 1.0

    @property
    def cost(self) -> float:
        repeat = 0.0 if self.loop_s is None else min(1.0, config.SEAMLESS_MIN_LOOP_S / max(self.loop_s, 1e-9))
        return self.worst + EXTEND_LOOP_WEIGHT * repeat

    def as_dict(self) -> dict:
        r = lambda v: None if v is None else round(float(v), 3)  # noqa: E731
        return {"junction": r(self.junction), "stall": r(self.stall), "jerk": r(self.jerk),
                "inside_worst": r(self.inside_worst),
                "inside_p90": r(self.inside_p90), "loop_s": r(self.loop_s), "cost": r(self.cost),
                "passed": self.passed}

    def failures(self) -> list[str]:
        """What a viewer would notice, in words."""
        out = []
        if self.junction > 1:
            out.append(f"a jump {self.junction:.1f}× the shot's largest steps")
        if self.stall > 1:
            out.append("motion stops or turns back")
        if self.jerk > 1:
            out.append(f"the view lurches ({self.jerk:.1f}× the shot's own changes of motion)")
        if self.inside_worst > EXTEND_INSIDE_LIMIT:
            out.append(f"new pictures {self.inside_worst:.1f} steps away from any real frame")
        return out


def probe_frames(count: int, rate: float) -> int:
    """How many of ``count`` new frames a continuation is measured on: :data:`EXTEND_PROBE_S` of
    them, at least 2."""
    return max(2, min(count, round(EXTEND_PROBE_S * rate)))


def score_continuation(stats: ShotStats, head: list[np.ndarray], made: list[np.ndarray]) -> Score:
    """A continuation's score: the last real index pictures (``head``, junction last), then the new ones."""
    return score(stats, head + made, [False] * len(head) + [True] * len(made), None)


def score(stats: ShotStats, sequence: list[np.ndarray], synthetic: list[bool], loop_s: float | None) -> Score:
    """Score the pictures a viewer sees over a seam.

    ``sequence``: index pictures in play order starting with the two real
    frames before the junction (junction second), then what the extension
    shows; ``synthetic`` flags the pictures that are not real frames.
    """
    floor = EXTEND_VISIBLE_LEVEL
    steps = [mad(a, b) for a, b in zip(sequence[1:], sequence[2:])]
    junction = max(steps) / max(stats.p95, floor) if steps else 0.0
    twos = [mad(a, b) for a, b in zip(sequence, sequence[2:])]
    progress = min((t + floor) / (stats.two_step + floor) for t in twos) if twos else 1.0
    stall = EXTEND_PROGRESS_MIN / max(progress, 1e-6)
    changes = jerks(sequence)
    jerk = max(changes) / max(stats.jerk_p95, EXTEND_JERK_FLOOR_PX) if changes else 0.0
    inside = [stats.nearest(p) / max(stats.median, floor) for p, s in zip(sequence, synthetic) if s]
    worst = max(inside) if inside else 0.0
    p90 = float(np.percentile(inside, 90)) if inside else 0.0
    if loop_s is not None and not math.isfinite(loop_s):
        loop_s = None
    return Score(junction, stall, jerk, worst, p90, loop_s, len(inside))
