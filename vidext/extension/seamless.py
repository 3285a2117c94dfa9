"""``seamless``: a video-texture loop with an interpolated bridge over the jump.

After Schödl et al., *Video Textures* (SIGGRAPH 2000): the clip goes on from
an earlier frame ``j`` whose predecessor ``j-1`` looks like the junction frame
and moves like it.  Frames are compared on a downscaled luma index over a
short window of neighbours with binomial weights (so that the dynamics match,
not only the picture), plus an explicit frame-difference term.  Loops shorter
than ``config.SEAMLESS_MIN_LOOP_S`` are not considered — the frames right
before the junction always look most alike.

The remaining mismatch is bridged: the first ``T`` new frames are DIS
interpolations from the junction frame to frame ``j+T`` (T+1 frame intervals
to cover T+1 frames of motion plus the mismatch; T grows with the mismatch,
measured in typical frame-to-frame differences, between
``config.SEAMLESS_BRIDGE_S`` and ``config.SEAMLESS_BRIDGE_MAX_S``), after which ``j+T … N-1``
play untouched and the same bridge repeats, so the extension is a loop of
period ``N-j`` with no cut.  When the best match is nearly exact
(``config.SEAMLESS_EXACT_MATCH``) no bridge is needed.
"""
from __future__ import annotations

import math

import numpy as np

from .. import config
from ..interpolation.base import Interpolator
from .base import ClipView, Mix, Op, Repeater, Run

_CHUNK = 1024  # candidates compared at once (bounds the temporary arrays)


def _mad(ref: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """Mean absolute difference of ``ref`` (h, w) against each picture of ``stack`` (k, h, w)."""
    return np.abs(stack.astype(np.int16) - ref.astype(np.int16)).mean(axis=(1, 2))


def _binomial(m: int) -> np.ndarray:
    """Weights for the junction frame and the m-1 before it: the upper half of a binomial kernel."""
    w = np.array([math.comb(2 * m - 2, m - 1 + k) for k in range(m)], dtype=np.float64)
    return w / w.sum()


class Seamless(Repeater):
    """Loops the clip from the best-matching earlier frame, bridging the jump with DIS."""

    name = "seamless"
    needs_index = True

    def __init__(self, quality: str = config.SEAMLESS_INTERPOLATOR_QUALITY):
        self.quality = quality
        self.choices: dict[str, dict] = {}

    def describe(self) -> dict:
        return {"method": self.name, "interpolator": "dis", "quality": self.quality, "loops": self.choices}

    def interpolator(self) -> Interpolator:
        from ..interpolation import INTERPOLATORS
        return INTERPOLATORS.create("dis", quality=self.quality)

    def bridge_range(self, clip: ClipView) -> tuple[int, int]:
        """Fewest and most transition frames."""
        lo = max(2, round(config.SEAMLESS_BRIDGE_S * clip.rate))
        return lo, max(lo, round(config.SEAMLESS_BRIDGE_MAX_S * clip.rate))

    def find_loop(self, clip: ClipView) -> tuple[int, int, float, float]:
        """(j, bridge, mismatch, typical): the loop restarts at clip frame ``j``."""
        thumbs = clip.thumbs
        n_all = clip.count
        if thumbs is None or len(thumbs) < 3 or n_all < 3:
            return 0, 0, 0.0, 0.0
        n, off = len(thumbs), clip.index_offset
        steps = _mad_pairs(thumbs)
        typical = float(np.median(steps)) if len(steps) else 0.0
        shortest, bridge = self.bridge_range(clip)
        m = min(config.SEAMLESS_WINDOW, n - 1)
        weights = _binomial(m)
        min_loop = max(shortest + 2, round(config.SEAMLESS_MIN_LOOP_S * clip.rate))
        hi = n - 1 - min_loop            # last candidate (local index of the frame matching the junction)
        lo = max(m - 1, 1)
        if hi < lo:                       # too short for the minimum loop: accept any loop past the bridge
            hi = n - 1 - (shortest + 2)
        if hi < lo:                       # too short for a search at all: the whole clip, bridged
            bridge = max(0, min(shortest, n_all - 2))
            return 0, bridge, float(_mad(thumbs[-1], thumbs[:1])[0]), typical
        cost = np.empty(hi - lo + 1)
        junction_motion = thumbs[-1].astype(np.int16) - thumbs[-2].astype(np.int16)
        for c0 in range(lo, hi + 1, _CHUNK):
            c1 = min(hi + 1, c0 + _CHUNK)
            cand = np.arange(c0, c1)
            total = np.zeros(len(cand))
            for k, w in enumerate(weights):
                total += w * _mad(thumbs[n - 1 - k], thumbs[cand - k])
            motion = thumbs[cand].astype(np.int16) - thumbs[cand - 1].astype(np.int16)
            total += config.SEAMLESS_MOTION_WEIGHT * np.abs(motion - junction_motion).mean(axis=(1, 2))
            cost[c0 - lo:c1 - lo] = total
        best = lo + int(np.argmin(cost))
        mismatch = float(_mad(thumbs[-1], thumbs[best:best + 1])[0])
        if typical > 0 and mismatch <= config.SEAMLESS_EXACT_MATCH * typical or mismatch == 0:
            bridge = 0
        elif typical > 0:  # spread the mismatch so that no step is much above a typical one
            bridge = min(bridge, max(shortest, math.ceil(mismatch / typical) - 1))
        j = off + best + 1
        bridge = min(bridge, n_all - j - 1)
        return j, bridge, mismatch, typical

    def schedule(self, clip: ClipView, count: int) -> list[Op]:
        n = clip.count
        if n == 1:
            return [Run(0, count, 0)]
        j, bridge, mismatch, typical = self.find_loop(clip)
        self.choices[clip.direction] = {
            "loop_start": j, "loop_frames": n - j, "bridge_frames": bridge,
            "mismatch": round(mismatch, 3), "typical_difference": round(typical, 3)}
        target = j + bridge
        ops: list[Op] = []
        left = count
        while left > 0:
            for k in range(1, bridge + 1):
                if left == 0:
                    break
                ops.append(Mix(n - 1, target, k / (bridge + 1)))
                left -= 1
            if left == 0:
                break
            run = min(n - target, left)
            ops.append(Run(target, run, 1))
            left -= run
        return ops


def _mad_pairs(thumbs: np.ndarray) -> np.ndarray:
    """Mean absolute difference between consecutive index pictures."""
    out = np.empty(max(0, len(thumbs) - 1))
    for c0 in range(0, len(out), _CHUNK):
        c1 = min(len(out), c0 + _CHUNK)
        a = thumbs[c0:c1].astype(np.int16)
        b = thumbs[c0 + 1:c1 + 1].astype(np.int16)
        out[c0:c1] = np.abs(b - a).mean(axis=(1, 2))
    return out
