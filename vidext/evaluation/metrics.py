"""Full-reference picture metrics: PSNR (RGB and luma), SSIM, MS-SSIM.

Every figure is defined so anyone can recompute it from the frames:

- ``psnr``: both frames converted to 8-bit RGB (the clip's own colour matrix
  and range, rounded to integers), MSE over all pixels and the three
  channels, ``10·log10(255² / MSE)``; an exact match counts as
  ``PSNR_CAP_DB``.
- ``psnr_y``: the same on the luma plane as decoded (Y of Y'CbCr; for RGB
  sources 0.299 R + 0.587 G + 0.114 B), scaled to 8 bits, peak 255.
- ``ssim``: Wang et al. 2004 on 8-bit RGB, 11×11 Gaussian window (σ 1.5),
  K1 0.01, K2 0.03, L 255, mean over the "valid" window positions of each
  channel, then over the three channels; no automatic downsampling.
- ``ms_ssim``: Wang et al. 2003, five scales with weights
  0.0448/0.2856/0.3001/0.2363/0.1333, 2×2 average downsampling (odd sizes
  padded symmetrically, as in the reference MATLAB code), contrast–structure
  terms clamped at 0; fewer scales (weights renormalised) when the picture
  is too small for five.

A metric sees a :class:`Picture`: a frame with lazily cached conversions, so
several metrics (and several methods against one original) convert once.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar

import cv2
import numpy as np

from ..media.frame import Frame, to_rgb

PSNR_CAP_DB = 100.0             # per-frame PSNR of an exact match (MSE 0) is counted as this
SSIM_WINDOW = 11                # Gaussian window (Wang et al. 2004): size, sigma, constants
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)   # Wang et al. 2003, five scales


class Picture:
    """A frame and the conversions metrics need, computed once each."""

    def __init__(self, frame: Frame):
        self.frame = frame
        self._rgb8: np.ndarray | None = None
        self._luma8: np.ndarray | None = None
        #: metric-specific derived data (e.g. a network's features of an original frame)
        self.cache: dict = {}
        #: the original frames on either side (held-out test), for metrics with a temporal feature (VMAF)
        self.neighbours: tuple[Picture, Picture] | None = None

    @property
    def rgb8(self) -> np.ndarray:
        """(H, W, 3) uint8 RGB, matrix- and range-aware."""
        if self._rgb8 is None:
            self._rgb8 = np.clip(np.rint(to_rgb(self.frame) * 255.0), 0, 255).astype(np.uint8)
        return self._rgb8

    @property
    def luma8(self) -> np.ndarray:
        """(H, W) luma on the 8-bit scale: the decoded Y plane itself for 8-bit video."""
        if self._luma8 is None:
            y = self.frame.luma()
            layout = self.frame.layout
            self._luma8 = y if layout.bits == 8 else y.astype(np.float64) * (255.0 / layout.peak)
        return self._luma8

    def region(self, top: int, left: int, height: int, width: int) -> "Picture":
        """The same picture cropped to a rectangle (8-bit RGB and luma); metrics score it like any other."""
        crop = Picture(self.frame)
        crop._rgb8 = np.ascontiguousarray(self.rgb8[top:top + height, left:left + width])
        crop._luma8 = np.ascontiguousarray(self.luma8[top:top + height, left:left + width])
        return crop


# --- the metric functions (plain arrays in, numbers out) ---------------------

def mse(a: np.ndarray, b: np.ndarray) -> float:
    d = a.astype(np.float64) - b.astype(np.float64)
    return float(np.mean(d * d))


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0, cap: float = PSNR_CAP_DB) -> float:
    """``10·log10(peak² / MSE)`` over every sample of ``a`` and ``b``; ``cap`` when they are equal."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    m = mse(a, b)
    if m == 0:
        return cap
    return min(cap, 10.0 * math.log10(peak * peak / m))


def _blur(x: np.ndarray) -> np.ndarray:
    k = SSIM_WINDOW
    return cv2.GaussianBlur(x, (k, k), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)


def _ssim_maps(x: np.ndarray, y: np.ndarray, peak: float) -> tuple[float, float]:
    """Mean SSIM and mean contrast–structure term of one channel (valid window positions).

    In float32 (four times faster than float64): the local (co)variances are taken on the
    pictures less a common offset, where float32 keeps them to ~1e-6 of the constants.
    """
    c1 = (SSIM_K1 * peak) ** 2
    c2 = (SSIM_K2 * peak) ** 2
    k = np.float32(0.5 * (float(x.mean()) + float(y.mean())))
    x, y = x - k, y - k                       # variances are shift-invariant; means are put back
    mx, my = _blur(x), _blur(y)
    sxx = _blur(x * x) - mx * mx
    syy = _blur(y * y) - my * my
    sxy = _blur(x * y) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    mx, my = mx + k, my + k
    lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    r = SSIM_WINDOW // 2   # positions whose window lies wholly inside the picture
    inner = (slice(r, -r), slice(r, -r))
    return float(np.mean((lum * cs)[inner], dtype=np.float64)), float(np.mean(cs[inner], dtype=np.float64))


def _channels(img: np.ndarray) -> list[np.ndarray]:
    """Each channel as contiguous float32: SSIM's blurs run ~4× faster than in float64 and the mean
    differs by ~1e-7 (measured at 720p)."""
    if img.ndim == 2:
        return [img.astype(np.float32)]
    return [np.ascontiguousarray(img[..., c], dtype=np.float32) for c in range(img.shape[2])]


def ssim(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """Mean SSIM over the channels of ``a`` and ``b`` ((H, W) or (H, W, C))."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if min(a.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs pictures at least {SSIM_WINDOW} pixels on each side")
    return float(np.mean([_ssim_maps(x, y, peak)[0] for x, y in zip(_channels(a), _channels(b))]))


def _halve(x: np.ndarray) -> np.ndarray:
    """2×2 average, odd sizes padded by repeating the last row/column."""
    h, w = x.shape
    if h % 2 or w % 2:
        x = np.pad(x, ((0, h % 2), (0, w % 2)), mode="symmetric")
    return 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])


def ms_ssim_scales(height: int, width: int) -> int:
    """How many of the five scales fit: the smallest must still hold one SSIM window."""
    n, side = 0, min(height, width)
    while n < len(MS_SSIM_WEIGHTS) and side >= SSIM_WINDOW:
        n += 1
        side = (side + 1) // 2
    return max(1, n)


def ms_ssim(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """Multi-scale SSIM, mean over channels (see the module notes for the exact recipe)."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if min(a.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f"MS-SSIM needs pictures at least {SSIM_WINDOW} pixels on each side")
    scales = ms_ssim_scales(*a.shape[:2])
    w = np.array(MS_SSIM_WEIGHTS[:scales], np.float64)
    if scales < len(MS_SSIM_WEIGHTS):      # the published five weights are used as they are
        w /= w.sum()
    values = []
    for x, y in zip(_channels(a), _channels(b)):
        total = 1.0
        for s in range(scales):
            full, cs = _ssim_maps(x, y, peak)
            if s == scales - 1:
                total *= max(full, 0.0) ** w[s]
            else:
                total *= max(cs, 0.0) ** w[s]
                x, y = _halve(x), _halve(y)
        values.append(total)
    return float(np.mean(values))


# --- the interface and the classical metrics ----------------------------------

class Metric(ABC):
    """A full-reference score of a rebuilt picture against the original."""

    name: ClassVar[str]
    label: ClassVar[str]
    unit: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True
    #: costly enough that, without a GPU, only a sample of frames is scored
    expensive: ClassVar[bool] = False
    device: str = "cpu"
    definition: ClassVar[str] = ""

    @abstractmethod
    def score(self, reference: Picture, candidate: Picture) -> float:
        """The metric of ``candidate`` against ``reference`` (same size)."""

    def score_many(self, reference: Picture, candidates: list[Picture]) -> list[float]:
        """Several candidates against one reference (a model-based metric batches them)."""
        return [self.score(reference, c) for c in candidates]

    def describe(self) -> dict:
        return {"name": self.name, "label": self.label, "unit": self.unit,
                "higher_is_better": self.higher_is_better, "definition": self.definition}


class RGBPSNR(Metric):
    name, label, unit = "psnr", "PSNR (RGB)", "dB"
    definition = (f"8-bit RGB (clip's own colour matrix and range), peak 255, MSE over all pixels and "
                  f"channels; per-frame PSNR averaged over frames; MSE 0 counts as {PSNR_CAP_DB:g} dB")

    def score(self, reference: Picture, candidate: Picture) -> float:
        return psnr(reference.rgb8, candidate.rgb8)


class LumaPSNR(Metric):
    name, label, unit = "psnr_y", "PSNR (luma)", "dB"
    definition = ("decoded luma plane scaled to 8 bits, peak 255; per-frame PSNR averaged over frames; "
                  f"MSE 0 counts as {PSNR_CAP_DB:g} dB")

    def score(self, reference: Picture, candidate: Picture) -> float:
        return psnr(reference.luma8, candidate.luma8)


class SSIM(Metric):
    name, label = "ssim", "SSIM"
    definition = (f"Wang et al. 2004 on 8-bit RGB: {SSIM_WINDOW}×{SSIM_WINDOW} Gaussian "
                  f"window σ {SSIM_SIGMA}, K1 {SSIM_K1}, K2 {SSIM_K2}, L 255, mean "
                  "over valid window positions per channel, then over channels; no downsampling")

    def score(self, reference: Picture, candidate: Picture) -> float:
        return ssim(reference.rgb8, candidate.rgb8)


class MSSSIM(Metric):
    name, label = "ms_ssim", "MS-SSIM"
    definition = ("Wang et al. 2003 on 8-bit RGB: SSIM window as for ssim, weights "
                  f"{'/'.join(str(w) for w in MS_SSIM_WEIGHTS)}, 2×2 average downsampling, "
                  "contrast–structure clamped at 0, mean over channels; fewer scales (weights "
                  "renormalised) when the picture is too small for five")

    def score(self, reference: Picture, candidate: Picture) -> float:
        return ms_ssim(reference.rgb8, candidate.rgb8)
