"""Classical interpolation with OpenCV's DIS optical flow.

Per pair: a dominant translation (phase correlation on a small picture) is
removed first when large, then DIS flow is estimated both ways on a reduced
luma picture (flows are reused for every timestep of the pair), and a
forward–backward consistency weight per pixel (low where a pixel is occluded
or the flow is unreliable).  Per timestep: the intermediate-to-source flows
are approximated from the two pair flows (Jiang et al., Super SloMo, eq. 4),
each plane is backward-warped from both neighbours, and the two warps are
blended by time and consistency (OpenCV remap/blendLinear: no per-pixel
Python or NumPy float passes at full size).  Every plane is warped at its own size, so
4:2:0 chroma needs no conversion and 10-bit stays 10-bit.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import ParameterError
from ..media.frame import Frame, to_u8
from .base import Between, Interpolator, Planes

# DIS pairs rendered at once (each thread its own OpenCV DIS object), when the flow is not smoothed
# across pairs: 720p on 2 cores (AVX2 EPYC), fast 36 → 28 ms per pair, balanced 46 → 38 (issue 17).
DIS_WORKERS = 2
# Low-light option: applied only to the pictures the flow is estimated on.
LOW_LIGHT_DENOISE_H = 7.0       # non-local-means strength
LOW_LIGHT_CLAHE_CLIP = 2.0
LOW_LIGHT_CLAHE_TILES = 8
# Temporal flow smoothing (off by default: see bench/interpolation.py).
FLOW_SMOOTHING_WEIGHT = 0.3     # at most this share of the continued motion
FLOW_SMOOTHING_AGREE_PX = 1.0   # flow-resolution px where agreement falls off
# Large motion: a dominant translation found by phase correlation on a small
# luma picture is removed before DIS (whose pyramid misses pans of many patches).
GLOBAL_MOTION_WIDTH = 160       # px wide picture the translation is measured on
GLOBAL_MOTION_MIN_RESPONSE = 0.2  # phase-correlation peak below which no translation is trusted
GLOBAL_MOTION_MIN_PX = 4.0      # flow-resolution px below which DIS alone is used
DIS_MIN_SIDE = 32               # px: OpenCV's DIS segfaults on flow inputs with fewer rows (found by the corpus)
# A see-through double (:meth:`_FlowPair.doubled`): the fainter of the two blended warps differs from the
# picture by more than this many 8-bit levels (a layer of 24 levels shows on a flat wall: the bikes car), in
# patches that survive a 3x3 opening on the flow picture (thin lines along moving edges are no double).
DOUBLE_LEVELS = 24
_OPEN = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class DISPreset:
    """How hard DIS works: OpenCV preset, resolution the flow is estimated at."""

    dis_preset: int
    flow_scale: float          # fraction of full resolution the flow is computed at
    min_flow_width: int        # never estimate flow on a picture narrower than this
    max_flow_width: int        # nor wider (bounds time and memory at 4K)
    refine_iterations: int     # variational refinement iterations (0 = off)
    consistency_px: float      # forward–backward error (px) at which a pixel's weight halves
    finest_scale: int = 1      # DIS pyramid level the patches stop at (0 = the flow picture itself)
    interpolation: int = cv2.INTER_LINEAR   # how pixels are sampled when warping
    chroma_interpolation: int | None = None  # the same for chroma planes (None: as ``interpolation``)


PRESETS = {
    # Measured with bench/interpolation.py: the DIS pyramid level matters more than the
    # picture size, so the flow picture is small and DIS stops one level above it.
    # fast warps luma bicubically (+0.4 dB luma PSNR on bikes and bigbuckbunny over bilinear)
    # and chroma bilinearly, which keeps most of the speed.
    "fast": DISPreset(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, 0.25, 320, 480, 1, 2.0, finest_scale=1,
                      interpolation=cv2.INTER_CUBIC, chroma_interpolation=cv2.INTER_LINEAR),
    "balanced": DISPreset(cv2.DISOPTICAL_FLOW_PRESET_FAST, 0.5, 320, 960, 1, 1.5, finest_scale=1),
    "quality": DISPreset(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, 0.75, 320, 1440, 5, 1.0, finest_scale=1,
                         interpolation=cv2.INTER_CUBIC),
}
WEIGHT_FLOOR = 1e-3   # keeps the blend defined where both sides look occluded


def _grid(h: int, w: int) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.dstack([xs, ys])


def _sample(img: np.ndarray, flow: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """img(x + flow(x)) with bilinear sampling and replicated borders."""
    return cv2.remap(img, cv2.add(grid, flow), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


_SUM_CHANNELS = np.ones((1, 2), np.float32)


def _consistency(f: np.ndarray, back: np.ndarray, grid: np.ndarray, up: float, k: float) -> np.ndarray:
    """Per pixel 1 / (1 + (e/k)²), e = |f(x) + back(x + f(x))| in full-resolution px: 1 where the
    flow and the flow back agree, low where a pixel is occluded or the flow unreliable.
    The squared length straight from OpenCV (no square root, no NumPy temporaries)."""
    d = cv2.add(f, _sample(back, f, grid))
    e2 = cv2.transform(cv2.multiply(d, d), _SUM_CHANNELS)
    return 1.0 / (1.0 + e2 * np.float32((up / k) ** 2))


@dataclass(frozen=True)
class _Lift:
    """How a flow at (h, w) becomes a sampling map x + flow(x) at (ph, pw) in one resize.

    Bilinear resizing reproduces a linear ramp exactly, so the low-resolution ramp
    ``grid`` (where each low-resolution pixel centre lands at full size) is added
    to the scaled flow before the resize instead of the full-size grid after it:
    one full-size pass fewer per map.  Only where resize clamps to the edge (the
    outer ~scale/2 rows and columns) does the ramp fall short; ``cols`` and
    ``rows`` hold those strips and what they lack, added back after the resize.
    """

    size: tuple[int, int]     # (pw, ph), as OpenCV takes it
    scale: tuple[float, float, float, float]
    grid: np.ndarray
    cols: tuple      # (left count, its shortfall, right start, its shortfall) of the x channel
    rows: tuple      # the same for the y channel

    @classmethod
    def make(cls, h: int, w: int, ph: int, pw: int) -> "_Lift":
        sx, sy = pw / w, ph / h
        grid = _grid(h, w) * np.float32([sx, sy]) + np.float32([(sx - 1) / 2, (sy - 1) / 2])
        got = cv2.resize(grid, (pw, ph), interpolation=cv2.INTER_LINEAR)
        short_x = np.arange(pw, dtype=np.float32) - got[0, :, 0]
        short_y = np.arange(ph, dtype=np.float32) - got[:, 0, 1]
        return cls((pw, ph), (sx, sy, 0.0, 0.0), grid, _edges(short_x), _edges(short_y))

    def apply(self, flow: np.ndarray) -> np.ndarray:
        """x + flow(x) at the full size, from ``flow`` at the low one."""
        m = cv2.resize(cv2.add(cv2.multiply(flow, self.scale), self.grid), self.size, interpolation=cv2.INTER_LINEAR)
        left, lx, right, rx = self.cols
        top, ty, bottom, by = self.rows
        m[:, :left, 0] += lx
        m[:, right:, 0] += rx
        m[:top, :, 1] += ty[:, None]
        m[bottom:, :, 1] += by[:, None]
        return m


def _edges(short: np.ndarray, tol: float = 1e-3) -> tuple:
    """The leading and trailing runs of ``short`` above ``tol`` (the clamped edges) and their values."""
    ok = np.flatnonzero(np.abs(short) <= tol)
    if not len(ok):
        return len(short), short.copy(), len(short), short[:0].copy()
    first, last = int(ok[0]), int(ok[-1]) + 1
    return first, short[:first].copy(), last, short[last:].copy()


def _global_shift(ya: np.ndarray, yb: np.ndarray) -> tuple[float, float] | None:
    """The dominant translation a→b (flow-resolution px) when large and clear, else None."""
    h, w = ya.shape
    f = min(1.0, GLOBAL_MOTION_WIDTH / w)
    size = (max(8, round(w * f)), max(8, round(h * f)))
    a = cv2.resize(ya, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    b = cv2.resize(yb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    window = cv2.createHanningWindow(size, cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(a, b, window)
    dx, dy = dx / f, dy / f
    if response < GLOBAL_MOTION_MIN_RESPONSE or np.hypot(dx, dy) < GLOBAL_MOTION_MIN_PX:
        return None
    return float(dx), float(dy)


def _translate(img: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
    """img(x + shift), borders replicated."""
    m = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


class DISInterpolator(Interpolator):
    """Bidirectional DIS flow with occlusion-aware blending (CPU, no download).

    ``low_light`` denoises and equalises (CLAHE) the pictures the flow is
    estimated on, never the output pixels.  ``flow_smoothing`` blends each
    pair's forward flow with the motion continued from the previous pair
    where the two agree (constant-velocity prior).

    Pairs are independent without smoothing, so the pipeline renders up to
    :data:`DIS_WORKERS` of them at once (:attr:`concurrency`), each
    thread with its own OpenCV DIS (and CLAHE) object.
    """

    name = "dis"

    def __init__(self, quality: str = "balanced", *, low_light: bool = False, flow_smoothing: bool = False):
        if quality not in PRESETS:
            raise ParameterError(f"unknown quality preset {quality!r}; choose one of: {', '.join(PRESETS)}")
        self.quality = quality
        self.preset = PRESETS[quality]
        self.low_light = bool(low_light)
        self.flow_smoothing = bool(flow_smoothing)
        self._own = threading.local()     # per thread: the DIS and CLAHE objects (not thread-safe)
        self._grids: dict[tuple, np.ndarray | _Lift] = {}     # per size: grids and lifts
        self._grid_lock = threading.Lock()
        self._last: tuple | None = None   # (time of b, flow b→a) of the previous pair, for smoothing

    @property
    def concurrency(self) -> int:
        if self.flow_smoothing:             # each pair reads the previous pair's flow
            return 1
        from ..media.runner import cores

        return max(1, min(cores(), DIS_WORKERS))

    @property
    def _dis(self):
        dis = getattr(self._own, "dis", None)
        if dis is None:
            dis = self._own.dis = cv2.DISOpticalFlow_create(self.preset.dis_preset)
            dis.setVariationalRefinementIterations(self.preset.refine_iterations)
            dis.setFinestScale(self.preset.finest_scale)
        return dis

    @property
    def _clahe(self):
        if not self.low_light:
            return None
        clahe = getattr(self._own, "clahe", None)
        if clahe is None:
            clahe = self._own.clahe = cv2.createCLAHE(clipLimit=LOW_LIGHT_CLAHE_CLIP,
                                                      tileGridSize=(LOW_LIGHT_CLAHE_TILES,) * 2)
        return clahe

    def describe(self) -> dict:
        p = self.preset
        return {"model": self.name, "quality": self.quality, "flow_scale": p.flow_scale,
                "max_flow_width": p.max_flow_width, "dis_preset": int(p.dis_preset),
                "refine_iterations": p.refine_iterations, "finest_scale": p.finest_scale, "low_light": self.low_light,
                "flow_smoothing": self.flow_smoothing}

    def grid(self, h: int, w: int) -> np.ndarray:
        return self._cached((h, w), lambda: _grid(h, w))

    def lift(self, h: int, w: int, ph: int, pw: int) -> _Lift:
        """Flow at (h, w) to sampling maps at (ph, pw): see :class:`_Lift`."""
        return self._cached((h, w, ph, pw), lambda: _Lift.make(h, w, ph, pw))

    def _cached(self, key: tuple, make):
        with self._grid_lock:
            if key not in self._grids:
                if len(self._grids) > 16:   # sizes change only between clips
                    self._grids.clear()
                self._grids[key] = make()
            return self._grids[key]

    def flow_size(self, width: int, height: int) -> tuple[int, int]:
        p = self.preset
        scale = max(p.flow_scale, min(1.0, p.min_flow_width / width))
        scale = min(scale, p.max_flow_width / width)
        # OpenCV's DIS crashes the process on pictures under 32 rows (ultrafast/fast presets):
        # thin pictures are enlarged for the flow instead.
        scale = max(scale, DIS_MIN_SIDE / min(width, height))
        return (max(DIS_MIN_SIDE, round(width * scale)),
                max(DIS_MIN_SIDE, round(height * scale)))

    def _flow_input(self, plane: np.ndarray, bits: int, size: tuple[int, int]) -> np.ndarray:
        y = to_u8(plane, bits)
        if size != (y.shape[1], y.shape[0]):
            y = cv2.resize(y, size, interpolation=cv2.INTER_AREA)
        if self._clahe is not None:
            y = cv2.fastNlMeansDenoising(y, None, h=LOW_LIGHT_DENOISE_H, templateWindowSize=5,
                                         searchWindowSize=11)
            y = self._clahe.apply(y)
        return y

    def between(self, a: Frame, b: Frame) -> Between:
        bits = a.layout.bits
        size = self.flow_size(a.width, a.height)
        ya = self._flow_input(a.luma(), bits, size)
        yb = self._flow_input(b.luma(), bits, size)
        shift = _global_shift(ya, yb)
        if shift is None:
            f01 = self._dis.calc(ya, yb, None)
            f10 = self._dis.calc(yb, ya, None)
        else:   # coarse stage: a pan larger than DIS's pyramid can reach is removed first
            f01 = self._dis.calc(ya, _translate(yb, shift), None)
            f10 = self._dis.calc(yb, _translate(ya, (-shift[0], -shift[1])), None)
            f01 = cv2.add(f01, (shift[0], shift[1], 0.0, 0.0))
            f10 = cv2.add(f10, (-shift[0], -shift[1], 0.0, 0.0))
        if self.flow_smoothing:
            f01 = self._smooth(a, f01)
            self._last = (b.time, f10)
        return _FlowPair(self, a, b, f01, f10, a.width / size[0], (ya, yb))

    def _smooth(self, a: Frame, f01: np.ndarray) -> np.ndarray:
        """Blend f01 with -f10 of the previous pair (motion continued) where they agree."""
        last = self._last
        if last is None or last[0] != a.time or last[1].shape != f01.shape:
            return f01
        prior = -last[1]
        diff = np.sum((f01 - prior) ** 2, axis=2)
        w = (FLOW_SMOOTHING_WEIGHT * np.exp(-diff / FLOW_SMOOTHING_AGREE_PX ** 2))
        w = w.astype(np.float32)[..., None]
        return (f01 + w * (prior - f01)).astype(np.float32)


class _FlowPair(Between):
    def __init__(self, owner: DISInterpolator, a: Frame, b: Frame, f01, f10, up: float, lumas=None):
        self.owner, self.a, self.b = owner, a, b
        self.f01, self.f10, self.up = f01, f10, up
        self.lumas = lumas          # the 8-bit flow pictures of a and b
        h, w = f01.shape[:2]
        g = owner.grid(h, w)
        k = owner.preset.consistency_px
        self.w0 = _consistency(f01, f10, g, up, k)
        self.w1 = _consistency(f10, f01, g, up, k)

    def occlusion(self) -> float:
        """Share of flow pixels, both ways, whose forward–backward error passes the preset's
        ``consistency_px`` (weight under ½): counted on the small flow pictures already made."""
        under = np.count_nonzero(self.w0 < 0.5) + np.count_nonzero(self.w1 < 0.5)
        return under / (self.w0.size + self.w1.size)

    def doubled(self) -> float | None:
        """Share of the picture the midpoint would show as a see-through double: where the blend of the
        two warped flow pictures (by time and consistency, as :meth:`at` blends) leaves the fainter one
        at more than :data:`DOUBLE_LEVELS` levels, in patches (a 3x3 opening).  From the flows and
        consistency weights already made, on the small flow pictures (about a millisecond)."""
        if self.lumas is None:
            return None
        t = 0.5
        ft0, ft1, alpha = self._weights(t)
        g = self.owner.grid(*self.f01.shape[:2])
        wa = cv2.remap(self.lumas[0], cv2.add(g, ft0), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        wb = cv2.remap(self.lumas[1], cv2.add(g, ft1), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # the fainter layer's contrast: 2 min(alpha, 1 - alpha) |wa - wb|
        faint = cv2.multiply(cv2.min(alpha, cv2.subtract(1.0, alpha)), cv2.absdiff(wa, wb).astype(np.float32),
                             scale=2.0)
        seen = cv2.morphologyEx((faint > DOUBLE_LEVELS).astype(np.uint8), cv2.MORPH_OPEN, _OPEN)
        return cv2.countNonZero(seen) / seen.size

    def _weights(self, t: float):
        """Flows from the picture at ``t`` back to each neighbour, and the blend weight of ``a``."""
        h, w = self.f01.shape[:2]
        g = self.owner.grid(h, w)
        ft0 = cv2.addWeighted(self.f01, -(1 - t) * t, self.f10, t * t, 0.0)
        ft1 = cv2.addWeighted(self.f01, (1 - t) * (1 - t), self.f10, -t * (1 - t), 0.0)
        v0 = cv2.remap(self.w0, cv2.add(g, ft0), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        v1 = cv2.remap(self.w1, cv2.add(g, ft1), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        v0 = cv2.max(v0, WEIGHT_FLOOR) * np.float32(1 - t)
        v1 = cv2.max(v1, WEIGHT_FLOOR) * np.float32(t)
        return ft0, ft1, cv2.divide(v0, cv2.add(v0, v1))

    def at(self, t: float) -> Planes:
        # Flows from the in-between picture back to each neighbour (low resolution), and a's weight.
        ft0, ft1, alpha = self._weights(t)
        peak = self.a.layout.peak
        out = []
        done: dict[tuple[int, int], tuple] = {}
        preset = self.owner.preset
        for k, (pa, pb) in enumerate(zip(self.a.planes, self.b.planes)):
            ph, pw = pa.shape
            if (ph, pw) not in done:
                done[(ph, pw)] = self._maps(ft0, ft1, alpha, ph, pw)
            m0, m1, al, be = done[(ph, pw)]
            how = preset.interpolation
            if k and preset.chroma_interpolation is not None and (ph, pw) != self.a.planes[0].shape:
                how = preset.chroma_interpolation
            wa = cv2.remap(pa, m0, None, how, borderMode=cv2.BORDER_REPLICATE)
            wb = cv2.remap(pb, m1, None, how, borderMode=cv2.BORDER_REPLICATE)
            if pa.dtype == np.uint8:
                out.append(cv2.blendLinear(wa, wb, al, be))
            else:
                mix = wb.astype(np.float32) + al * (wa.astype(np.float32) - wb)
                out.append(np.clip(mix + 0.5, 0, peak).astype(pa.dtype))
        return tuple(out)

    def _maps(self, ft0, ft1, alpha, ph: int, pw: int):
        """Sampling maps and blend weights at a plane's own size."""
        h, w = ft0.shape[:2]
        if (ph, pw) == (h, w):
            gp = self.owner.grid(ph, pw)
            m0, m1, al = cv2.add(gp, ft0), cv2.add(gp, ft1), alpha
        else:
            lift = self.owner.lift(h, w, ph, pw)
            m0, m1 = lift.apply(ft0), lift.apply(ft1)
            al = cv2.resize(alpha, (pw, ph), interpolation=cv2.INTER_LINEAR)
        return m0, m1, al, cv2.subtract(1.0, al)
