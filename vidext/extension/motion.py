"""``motion``: continue the camera's global motion past the junction.

The per-frame motion between the last frames is estimated as a similarity
transform (pan, zoom, rotation): corners tracked with pyramidal Lucas–Kanade
(forward–backward checked), a RANSAC similarity fit per pair of frames.  The
steps are averaged in the Lie algebra (median of their matrix logarithms) so
that zoom and rotation compose correctly, then extrapolated from the junction
frame: new frame k is the junction frame moved by ``expm(a_k · L)``, where
``a_k = k`` for a steady motion or ``(1 - r^k)/(1 - r)`` for a motion easing
to rest with half-life ``MOTION_HALF_LIFE_S``.

Borders the camera never saw are filled with the mirrored picture, blurred
(``MOTION_FILL_BLUR_PX``) so that it reads as out-of-focus continuation
rather than as a reflection.  Each plane is warped at its own size, so 4:2:0
chroma and 10-bit planes need no conversion.
"""
from __future__ import annotations

from typing import Iterator

import cv2
import numpy as np

from .. import config
from ..media.frame import Frame
from .base import ClipView, Planes, Synthesizer

MOTION_ANALYSIS_WIDTH = 480          # px: frames are tracked at this width at most
MOTION_MAX_CORNERS = 400
MOTION_HALF_LIFE_S = 2.0             # the motion eases to rest with this half-life (None: never)
MOTION_FILL_BLUR_PX = 9.0            # blur of the mirrored fill in borders the camera never saw


_MIN_POINTS = 8
_FB_ERROR_PX = 1.0          # forward–backward tracking error (analysis px) above which a point is dropped
_RANSAC_PX = 1.0


def _gray8(frame: Frame, scale: float) -> np.ndarray:
    y = frame.luma8()
    if scale != 1.0:
        y = cv2.resize(y, (max(8, round(y.shape[1] * scale)), max(8, round(y.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA)
    return y


def step_transform(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """3×3 similarity mapping picture ``a``'s coordinates to ``b``'s, or None when untrackable."""
    pts = cv2.goodFeaturesToTrack(a, maxCorners=MOTION_MAX_CORNERS, qualityLevel=0.01, minDistance=6)
    if pts is None or len(pts) < _MIN_POINTS:
        return None
    fwd, st1, _ = cv2.calcOpticalFlowPyrLK(a, b, pts, None, winSize=(21, 21), maxLevel=3)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(b, a, fwd, None, winSize=(21, 21), maxLevel=3)
    ok = (st1.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm((back - pts).reshape(-1, 2), axis=1)
                                                    < _FB_ERROR_PX)
    if ok.sum() < _MIN_POINTS:
        return None
    m, inliers = cv2.estimateAffinePartial2D(pts[ok], fwd[ok], method=cv2.RANSAC,
                                             ransacReprojThreshold=_RANSAC_PX)
    if m is None or inliers is None or inliers.sum() < _MIN_POINTS:
        return None
    return np.vstack([m, [0.0, 0.0, 1.0]])


def estimate_motion(frames: list[Frame]) -> np.ndarray:
    """Lie-algebra generator ``L`` (3×3) of the per-frame motion at full resolution (zeros: none)."""
    from scipy.linalg import logm

    if len(frames) < 2:
        return np.zeros((3, 3))
    w = frames[0].width
    scale = min(1.0, MOTION_ANALYSIS_WIDTH / w)
    grays = [_gray8(f, scale) for f in frames]
    logs = []
    for a, b in zip(grays, grays[1:]):
        m = step_transform(a, b)
        if m is not None:
            logs.append(np.real(logm(m)))
    if not logs:
        return np.zeros((3, 3))
    gen = np.median(np.stack(logs), axis=0)
    gen[2] = 0.0
    # analysis coordinates → full resolution: translation scales, linear part does not
    gen[:2, 2] /= scale
    return gen


class Motion(Synthesizer):
    """Extrapolates the global pan/zoom/rotation of the last frames."""

    name = "motion"
    context_frames = config.MOTION_CONTEXT_FRAMES

    def __init__(self, half_life_s: float | None = MOTION_HALF_LIFE_S):
        self.half_life_s = half_life_s
        self.estimates: dict[str, dict] = {}

    def describe(self) -> dict:
        return {"method": self.name, "half_life_s": self.half_life_s, "motion": self.estimates}

    def synthesize(self, clip: ClipView, count: int) -> Iterator[Planes]:
        from scipy.linalg import expm

        gen = estimate_motion(clip.context)
        step = expm(gen)
        self.estimates[clip.direction] = {
            "dx_px": round(float(step[0, 2]), 3), "dy_px": round(float(step[1, 2]), 3),
            "zoom": round(float(np.sqrt(abs(np.linalg.det(step[:2, :2])))), 5),
            "rotation_deg": round(float(np.degrees(np.arctan2(step[1, 0], step[0, 0]))), 4)}
        ratio = 1.0
        if self.half_life_s:
            ratio = 0.5 ** (1.0 / (self.half_life_s * float(clip.rate)))
        src = clip.junction
        still = not np.any(gen)
        for k in range(1, count + 1):
            if still:
                yield src.planes
                continue
            amount = k if ratio == 1.0 else (1 - ratio ** k) / (1 - ratio)
            yield self.warp(src, expm(amount * gen))

    def warp(self, frame: Frame, m: np.ndarray) -> Planes:
        """``frame`` moved by the full-resolution transform ``m``; unseen borders filled."""
        out = []
        h0, w0 = frame.height, frame.width
        for plane in frame.planes:
            ph, pw = plane.shape
            s = np.diag([pw / w0, ph / h0, 1.0])
            mp = (s @ m @ np.linalg.inv(s))[:2]
            warped = cv2.warpAffine(plane, mp, (pw, ph), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
            cover = cv2.warpAffine(np.ones((ph, pw), np.float32), mp, (pw, ph), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            if cover.min() < 0.999:
                sigma = MOTION_FILL_BLUR_PX * pw / w0
                soft = cv2.GaussianBlur(warped, (0, 0), sigma, borderType=cv2.BORDER_REFLECT101)
                # feather the edge of the seen area so the blur fades in over a few pixels
                cover = cv2.GaussianBlur(cover, (0, 0), max(0.5, sigma / 3))
                mix = soft.astype(np.float32) + cover * (warped.astype(np.float32) - soft.astype(np.float32))
                warped = np.clip(mix + 0.5, 0, frame.layout.peak).astype(plane.dtype)
            out.append(warped)
        return tuple(out)
