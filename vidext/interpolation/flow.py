"""Classical interpolation with OpenCV's DIS optical flow.

Per pair: flow both ways on the luma plane at a preset-dependent scale, and a
forward–backward consistency weight per pixel (low where a pixel is occluded
or the flow is unreliable).  Per timestep: the intermediate-to-source flows
are approximated from the two pair flows (Jiang et al., Super SloMo, eq. 4),
each plane is backward-warped from both neighbours, and the two warps are
blended by time and consistency.  Every plane is warped at its own size, so
4:2:0 chroma needs no conversion and 10-bit stays 10-bit.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .. import config
from ..errors import ParameterError
from ..media.frame import Frame
from .base import Between, Interpolator, Planes


@dataclass(frozen=True)
class DISPreset:
    """How hard DIS works: OpenCV preset, resolution the flow is estimated at."""

    dis_preset: int
    flow_scale: float          # fraction of full resolution the flow is computed at
    min_flow_width: int        # never estimate flow on a picture narrower than this
    refine_iterations: int     # variational refinement iterations (0 = off)
    consistency_px: float      # forward–backward error (px) at which a pixel's weight halves


PRESETS = {
    "fast": DISPreset(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, 0.25, 160, 0, 2.0),
    "balanced": DISPreset(cv2.DISOPTICAL_FLOW_PRESET_FAST, 0.5, 320, 1, 1.5),
    "quality": DISPreset(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, 1.0, 320, 5, 1.0),
}
WEIGHT_FLOOR = 1e-3   # keeps the blend defined where both sides look occluded


def _to_u8(plane: np.ndarray, bits: int) -> np.ndarray:
    return plane if plane.dtype == np.uint8 else (plane >> (bits - 8)).astype(np.uint8)


def _grid(h: int, w: int) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.dstack([xs, ys])


def _sample(img: np.ndarray, flow: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """img(x + flow(x)) with bilinear sampling and replicated borders."""
    return cv2.remap(img, grid + flow, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class DISInterpolator(Interpolator):
    """Bidirectional DIS flow with occlusion-aware blending (CPU, no download)."""

    name = "dis"

    def __init__(self, quality: str = "balanced"):
        if quality not in PRESETS:
            raise ParameterError(f"unknown quality preset {quality!r}; choose one of: {', '.join(PRESETS)}")
        self.quality = quality
        self.preset = PRESETS[quality]
        self._dis = cv2.DISOpticalFlow_create(self.preset.dis_preset)
        if self.preset.refine_iterations:
            self._dis.setVariationalRefinementIterations(self.preset.refine_iterations)
        else:
            self._dis.setVariationalRefinementIterations(0)
        self._grids: dict[tuple[int, int], np.ndarray] = {}

    def describe(self) -> dict:
        p = self.preset
        return {"model": self.name, "quality": self.quality, "flow_scale": p.flow_scale,
                "dis_preset": int(p.dis_preset), "refine_iterations": p.refine_iterations}

    def grid(self, h: int, w: int) -> np.ndarray:
        key = (h, w)
        if key not in self._grids:
            self._grids[key] = _grid(h, w)
        return self._grids[key]

    def flow_size(self, width: int, height: int) -> tuple[int, int]:
        p = self.preset
        scale = max(p.flow_scale, min(1.0, p.min_flow_width / width))
        # OpenCV's DIS crashes the process on pictures under 32 rows (ultrafast/fast presets):
        # thin pictures are enlarged for the flow instead.
        scale = max(scale, config.DIS_MIN_SIDE / min(width, height))
        return (max(config.DIS_MIN_SIDE, round(width * scale)),
                max(config.DIS_MIN_SIDE, round(height * scale)))

    def between(self, a: Frame, b: Frame) -> Between:
        bits = a.layout.bits
        ya, yb = _to_u8(a.luma(), bits), _to_u8(b.luma(), bits)
        fw, fh = self.flow_size(a.width, a.height)
        if (fw, fh) != (a.width, a.height):
            ya = cv2.resize(ya, (fw, fh), interpolation=cv2.INTER_AREA)
            yb = cv2.resize(yb, (fw, fh), interpolation=cv2.INTER_AREA)
        f01 = self._dis.calc(ya, yb, None)
        f10 = self._dis.calc(yb, ya, None)
        return _FlowPair(self, a, b, f01, f10, a.width / fw)


class _FlowPair(Between):
    def __init__(self, owner: DISInterpolator, a: Frame, b: Frame, f01, f10, up: float):
        self.owner, self.a, self.b = owner, a, b
        self.f01, self.f10, self.up = f01, f10, up
        h, w = f01.shape[:2]
        g = owner.grid(h, w)
        # Forward–backward consistency, in full-resolution pixels.
        e0 = np.linalg.norm(f01 + _sample(f10, f01, g), axis=2) * up
        e1 = np.linalg.norm(f10 + _sample(f01, f10, g), axis=2) * up
        k = owner.preset.consistency_px
        self.w0 = 1.0 / (1.0 + (e0 / k) ** 2)
        self.w1 = 1.0 / (1.0 + (e1 / k) ** 2)

    def at(self, t: float) -> Planes:
        f01, f10 = self.f01, self.f10
        ft0 = (-(1 - t) * t) * f01 + (t * t) * f10
        ft1 = ((1 - t) * (1 - t)) * f01 + (-t * (1 - t)) * f10
        h, w = f01.shape[:2]
        g = self.owner.grid(h, w)
        v0 = (1 - t) * np.maximum(_sample(self.w0, ft0, g), WEIGHT_FLOOR)
        v1 = t * np.maximum(_sample(self.w1, ft1, g), WEIGHT_FLOOR)
        alpha = (v0 / (v0 + v1)).astype(np.float32)
        out = []
        for pa, pb in zip(self.a.planes, self.b.planes):
            ph, pw = pa.shape
            sx, sy = pw / w, ph / h
            if (ph, pw) == (h, w):
                m0, m1, al = ft0, ft1, alpha
            else:
                scale = np.array([sx, sy], np.float32)
                m0 = cv2.resize(ft0, (pw, ph), interpolation=cv2.INTER_LINEAR) * scale
                m1 = cv2.resize(ft1, (pw, ph), interpolation=cv2.INTER_LINEAR) * scale
                al = cv2.resize(alpha, (pw, ph), interpolation=cv2.INTER_LINEAR)
            gp = self.owner.grid(ph, pw)
            wa = _sample(pa, m0, gp).astype(np.float32)
            wb = _sample(pb, m1, gp).astype(np.float32)
            mix = wb + al * (wa - wb)
            out.append(np.clip(mix + 0.5, 0, self.a.layout.peak).astype(pa.dtype))
        return tuple(out)
