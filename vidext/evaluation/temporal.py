"""Temporal consistency of any video, no ground truth needed.

For each pair of consecutive frames (on the luma plane scaled to 8 bits and
to at most ``TEMPORAL_FLOW_WIDTH`` pixels wide), DIS optical flow is
estimated both ways; the earlier frame is warped onto the later one, and
pixels failing the forward–backward check (Sundaram et al. 2010) count as
occluded.  Per transition:

- ``warp_error``: mean |later − warped earlier| over non-occluded pixels
  (8-bit levels): what motion does not explain.  Lower is steadier.
- ``luma_step``: the signed mean of that residual over non-occluded pixels:
  a brightness change motion cannot explain.  ``flicker`` is its RMS over
  the clip (frame-to-frame luminance jitter, panning does not count).
- ``score``: mean |residual| over all pixels; a transition is a **jump** when
  its score stands out from its neighbours' (robust z-score against the
  median and MAD of ``JUMP_WINDOW`` transitions on each side above
  ``JUMP_Z`` and at least ``JUMP_MIN_EXCESS`` levels above the
  median): scene cuts, glitches, extension seams.

Frames are seen one at a time; only the previous one is kept.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from ..media.frame import Frame

TEMPORAL_FLOW_WIDTH = 480       # consecutive-frame flow is estimated at most this wide
OCCLUSION_ALPHA = 0.01          # forward–backward check (Sundaram et al. 2010): |f + b|² > α(|f|² + |b|²) + β
OCCLUSION_BETA = 0.5
JUMP_WINDOW = 12                # transitions on each side that form a transition's local baseline
JUMP_Z = 6.0                    # robust z-score (local median / MAD) above which a transition is a jump
JUMP_MIN_EXCESS = 3.0           # ... and at least this many 8-bit levels above the local median
JUMP_LIST = 5                   # worst transitions listed in the report
JUMP_MAD_FLOOR = 0.5            # 8-bit levels: the spread floor that keeps a still clip's z-scores finite


@dataclass
class Transition:
    """One consecutive-frame transition that stands out (or is among the worst)."""

    time_s: float          # time of the later frame: where the viewer sees the change
    from_time_s: float
    score: float           # motion-compensated mean |difference|, 8-bit levels
    baseline: float        # median score of the neighbouring transitions
    z: float
    jump: bool

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TemporalResult:
    frames: int
    times_s: list[float] = field(default_factory=list)          # per frame
    luma_mean: list[float] = field(default_factory=list)        # per frame
    warp_error: list[float] = field(default_factory=list)       # per transition (into frame k+1)
    luma_step: list[float] = field(default_factory=list)        # per transition
    score: list[float] = field(default_factory=list)            # per transition
    occluded: list[float] = field(default_factory=list)         # per transition, fraction of pixels
    worst: list[Transition] = field(default_factory=list)
    flow_size: tuple[int, int] | None = None

    @property
    def jumps(self) -> list[Transition]:
        return [t for t in self.worst if t.jump]

    @property
    def mean_warp_error(self) -> float | None:
        return float(np.mean(self.warp_error)) if self.warp_error else None

    @property
    def flicker(self) -> float | None:
        return float(math.sqrt(np.mean(np.square(self.luma_step)))) if self.luma_step else None

    @property
    def flicker_max(self) -> float | None:
        return float(np.max(np.abs(self.luma_step))) if self.luma_step else None

    def summary(self) -> dict:
        return {"frames": self.frames, "transitions": len(self.score),
                "warp_error_mean": self.mean_warp_error, "flicker_rms": self.flicker,
                "flicker_max": self.flicker_max,
                "flow_size": list(self.flow_size) if self.flow_size else None,
                "jumps": [t.as_dict() for t in self.jumps],
                "worst_transitions": [t.as_dict() for t in self.worst]}

    def as_dict(self) -> dict:
        return {**self.summary(), "per_frame": {"time_s": self.times_s, "luma_mean": self.luma_mean},
                "per_transition": {"time_s": self.times_s[1:], "warp_error": self.warp_error,
                                   "luma_step": self.luma_step, "score": self.score,
                                   "occluded": self.occluded}}


def _luma8(frame: Frame) -> np.ndarray:
    return frame.luma8()


class TemporalAnalyzer:
    """Feed frames in order with :meth:`add`; :meth:`result` gives the figures."""

    def __init__(self):
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._prev: np.ndarray | None = None
        self._grid: np.ndarray | None = None
        self._size: tuple[int, int] | None = None
        self.result_ = TemporalResult(frames=0)

    def _small(self, y: np.ndarray) -> np.ndarray:
        h, w = y.shape
        if self._size is None:
            scale = min(1.0, TEMPORAL_FLOW_WIDTH / w)
            self._size = (max(8, round(w * scale)), max(8, round(h * scale)))
            ys, xs = np.mgrid[0:self._size[1], 0:self._size[0]].astype(np.float32)
            self._grid = np.dstack([xs, ys])
            self.result_.flow_size = self._size
        if (w, h) == self._size:
            return y
        return cv2.resize(y, self._size, interpolation=cv2.INTER_AREA)

    def _warp(self, img: np.ndarray, flow: np.ndarray) -> np.ndarray:
        return cv2.remap(img, self._grid + flow, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def add(self, frame: Frame) -> None:
        r = self.result_
        y = _luma8(frame)
        r.frames += 1
        r.times_s.append(float(frame.time))
        r.luma_mean.append(float(np.mean(y)))
        cur = self._small(y)
        prev, self._prev = self._prev, cur
        if prev is None:
            return
        back = self._dis.calc(cur, prev, None)     # cur(x) ≈ prev(x + back(x))
        fwd = self._dis.calc(prev, cur, None)
        warped = self._warp(prev.astype(np.float32), back)
        residual = cur.astype(np.float32) - warped
        fwd_at = self._warp(fwd, back)
        err = np.sum((back + fwd_at) ** 2, axis=2)
        bound = OCCLUSION_ALPHA * (np.sum(back ** 2, axis=2) + np.sum(fwd_at ** 2, axis=2)) \
            + OCCLUSION_BETA
        valid = err <= bound
        ab = np.abs(residual)
        if valid.any():
            r.warp_error.append(float(np.mean(ab[valid])))
            r.luma_step.append(float(np.mean(residual[valid])))
        else:
            r.warp_error.append(float(np.mean(ab)))
            r.luma_step.append(float(np.mean(residual)))
        r.score.append(float(np.mean(ab)))
        r.occluded.append(float(1.0 - np.mean(valid)))

    def recent_jump(self, transitions: int) -> bool:
        """Whether one of the last ``transitions`` looks like a jump against those before it.

        A causal version of the jump test (only earlier transitions as the
        baseline), usable while streaming; the report's jump list uses both sides.
        """
        s = np.asarray(self.result_.score, np.float64)
        w = JUMP_WINDOW
        for k in range(max(0, len(s) - transitions), len(s)):
            if judge(s[k], s[max(0, k - w):k])[2]:
                return True
        return False

    def result(self) -> TemporalResult:
        r = self.result_
        r.worst = find_jumps(r.score, r.times_s)
        return r


def judge(score: float, neighbours: np.ndarray) -> tuple[float, float, bool]:
    """(baseline, robust z-score, is a jump) of one transition's score against its neighbours'."""
    if len(neighbours) == 0:
        base, spread = 0.0, JUMP_MAD_FLOOR
    else:
        base = float(np.median(neighbours))
        spread = 1.4826 * float(np.median(np.abs(neighbours - base))) + JUMP_MAD_FLOOR
    z = (score - base) / spread
    return base, float(z), bool(z > JUMP_Z and score - base > JUMP_MIN_EXCESS)


def find_jumps(scores: list[float], times_s: list[float], limit: int = JUMP_LIST) -> list[Transition]:
    """The ``limit`` transitions that stand out most from their neighbours, jumps flagged.

    ``scores[k]`` is the transition from frame k to frame k+1 (``times_s`` per frame).
    """
    s = np.asarray(scores, np.float64)
    n = len(s)
    if n == 0:
        return []
    out = []
    w = JUMP_WINDOW
    for k in range(n):
        base, z, jump = judge(s[k], np.concatenate([s[max(0, k - w):k], s[k + 1:k + 1 + w]]))
        out.append(Transition(time_s=times_s[k + 1], from_time_s=times_s[k], score=float(s[k]),
                              baseline=base, z=z, jump=jump))
    out.sort(key=lambda t: t.z, reverse=True)
    jumps = [t for t in out if t.jump]
    rest = [t for t in out if not t.jump]
    return jumps + rest[:max(0, limit - len(jumps))]
