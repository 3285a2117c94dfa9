"""Scene cuts and duplicate frames: which pairs must not be morphed, which frames not kept.

Both detectors look at one consecutive pair at a time on small luma
thumbnails, so they stream and cost well under a millisecond per frame.

* A **cut** scores high on either of two cues that camera motion leaves low:
  the Bhattacharyya distance between luma histograms (content replaced) and
  the decorrelation of small thumbnails, matched over shifts of up to
  ``SCENE_SHIFT_MARGIN`` of the picture (layout replaced).  A cut pair is never
  interpolated: output frames before the new shot hold the old one.
* A **duplicate** (animation on twos, a stalled capture) differs from the
  previous distinct frame by less than :data:`config.DUPLICATE_MAD` mean
  levels; it is dropped from the timeline and its time is interpolated
  between the distinct frames around it, so motion does not stutter.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .. import config
from ..errors import ParameterError
from ..media.frame import Frame

# Scene cuts (threshold: config.SCENE_THRESHOLD): a luma histogram and a thumbnail.
SCENE_THUMB_SIZE = (64, 36)     # thumbnail compared by normalised cross-correlation...
SCENE_SHIFT_MARGIN = 0.15       # ...over shifts up to this fraction of the picture (pans are not cuts)
SCENE_HIST_BINS = 32
# Duplicates (threshold: config.DUPLICATE_MAD) and static pairs are judged on the luma at 1/this size.
DUPLICATE_THUMB_DIVISOR = 4
# Static pairs: when no pixel of that 1/4-size luma changed by more than this many levels,
# nothing moved (beyond coding noise) and the pair is rendered as a blend, without the flow
# or the network (a max, not a mean: a small moving object keeps its pair interpolated).
STATIC_MAX_DIFF = 3.0


@dataclass
class _Signature:
    hist: np.ndarray     # normalised luma histogram
    thumb: np.ndarray    # small luma picture, float32
    small: np.ndarray    # luma at 1/DUPLICATE_THUMB_DIVISOR, float32 on the 8-bit scale


def _luma8(frame: Frame) -> np.ndarray:
    return frame.luma8()


def signature(frame: Frame) -> _Signature:
    y = _luma8(frame)
    h, w = y.shape
    d = DUPLICATE_THUMB_DIVISOR
    small = cv2.resize(y, (max(1, w // d), max(1, h // d)), interpolation=cv2.INTER_AREA)
    hist = cv2.calcHist([small], [0], None, [SCENE_HIST_BINS], [0, 256]).ravel()
    hist /= max(float(hist.sum()), 1.0)
    thumb = cv2.resize(small, SCENE_THUMB_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
    return _Signature(hist.astype(np.float32), thumb, small.astype(np.float32))


def _decorrelation(a: np.ndarray, b: np.ndarray) -> float:
    """1 − the best normalised correlation of a's centre anywhere within ±margin in b."""
    tw, th = SCENE_THUMB_SIZE
    mx, my = round(tw * SCENE_SHIFT_MARGIN), round(th * SCENE_SHIFT_MARGIN)
    centre = a[my:th - my, mx:tw - mx]
    if float(centre.std()) < 1.0 or float(b.std()) < 1.0:   # flat pictures: no layout to compare
        return 0.0
    best = float(cv2.matchTemplate(b, centre, cv2.TM_CCOEFF_NORMED).max())
    return 1.0 - max(0.0, min(1.0, best))


def cut_score(a: _Signature, b: _Signature) -> float:
    """0 = same shot, 1 = nothing in common (content or layout replaced)."""
    hist = min(1.0, float(cv2.compareHist(a.hist, b.hist, cv2.HISTCMP_BHATTACHARYYA)))
    return max(hist, _decorrelation(a.thumb, b.thumb))


def mean_abs_diff(a: _Signature, b: _Signature) -> float:
    return float(cv2.norm(a.small, b.small, cv2.NORM_L1)) / a.small.size


class SceneGate:
    """Stateful per-clip detector used by the renderer (one call per input frame)."""

    def __init__(self, scene_threshold: float | None = config.SCENE_THRESHOLD,
                 duplicate_mad: float | None = config.DUPLICATE_MAD,
                 static_max_diff: float = STATIC_MAX_DIFF):
        for name, v in (("scene_threshold", scene_threshold), ("duplicate threshold", duplicate_mad)):
            if v is not None and not 0 <= v <= (1 if name == "scene_threshold" else 255):
                raise ParameterError(f"{name} must be between 0 and {1 if name == 'scene_threshold' else 255}, "
                                     f"got {v}")
        self.scene_threshold = scene_threshold
        self.duplicate_mad = duplicate_mad
        self.static_max_diff = static_max_diff
        self._sigs: dict[int, _Signature] = {}

    def _sig(self, frame: Frame) -> _Signature:
        key = frame.time
        sig = self._sigs.get(key)
        if sig is None:
            if len(self._sigs) > 4:   # only the last few frames are ever compared
                self._sigs.pop(next(iter(self._sigs)))
            sig = self._sigs[key] = signature(frame)
        return sig

    def is_duplicate(self, prev: Frame, frame: Frame) -> bool:
        if self.duplicate_mad is None:
            return False
        return mean_abs_diff(self._sig(prev), self._sig(frame)) < self.duplicate_mad

    def is_static(self, prev: Frame, frame: Frame) -> bool:
        a, b = self._sig(prev).small, self._sig(frame).small
        return float(cv2.absdiff(a, b).max()) <= self.static_max_diff

    def cut_score(self, prev: Frame, frame: Frame) -> float | None:
        """The pair's cut score (:func:`cut_score`); None when cut detection is off."""
        if self.scene_threshold is None:
            return None
        return cut_score(self._sig(prev), self._sig(frame))

    def is_cut(self, prev: Frame, frame: Frame) -> bool:
        score = self.cut_score(prev, frame)
        return score is not None and score >= self.scene_threshold
