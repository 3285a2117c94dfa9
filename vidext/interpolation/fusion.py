"""``--quality best``: every method at hand, fused per pixel by their own evidence.

The slowest and best picture vidext makes.  Per pair and timestep:

1. **RIFE with test-time augmentation** (when its weights are at hand): the
   network run forwards at t and backwards, from the second frame to the
   first, at 1 − t (it reuses the frames' features), and the two float
   pictures averaged.  The network is not time-symmetric, so each pass errs
   differently.  Mirrored passes (:data:`TTA` may hold them) did not pay:
   +0.04 dB more on bigbuckbunny for twice RIFE's time, and a worse ST-LPIPS.
2. **DIS at its quality preset**: bidirectional classical flow with its own
   forward–backward consistency weights and occlusion-aware blend.
3. **Fusion by agreement, without blur**: where the two pictures agree
   (their squared luma difference d², smoothed over :data:`AGREE_SIGMA_PX`,
   small against :data:`AGREE_K`), neither is wrong by a whole structure and
   DIS's correction is taken with a share :data:`DIS_SHARE` · K / (d² + K):
   where they disagree, one of them followed the motion and the other did
   not, and RIFE (trained on occlusions) is kept.  The correction's coarse
   part (a Gaussian of :data:`BAND_PX`) is taken as is; its fine part only
   as far as DIS's picture holds as much fine detail there as RIFE's
   (their local energies above the band, ratio to the power
   :data:`DETAIL_POWER`, at most 1): averaging a blurrier picture in would
   blur the texture (ST-LPIPS worse) for a little PSNR.

Without RIFE's weights, ``best`` is DIS at its quality preset alone (the
sidecar says so).

Chosen on held-out 2× windows of the first 41 frames of bikes.mp4 and
bigbuckbunny.mp4 (20 windows each), against RIFE alone, luma PSNR / full-frame
ST-LPIPS: both passes averaged +0.57 / +0.18 dB (ST-LPIPS −0.0002 / +0.0005);
with DIS averaged in everywhere they agree +0.82 / +0.40 dB but ST-LPIPS
+0.0014 on bikes (DIS's picture is blurrier there); with the fine part gated
by detail (this module) +0.86 / +0.39 dB, ST-LPIPS −0.0002 / −0.0023.  On
carphone (not used to choose): +0.86 dB, −0.0005.  ``bench/interpolation.py``
reports it beside every other method.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..errors import DependencyError, ModelError
from ..media.frame import Frame
from .base import Between, Interpolator, Planes
from .flow import DISInterpolator

#: RIFE's passes averaged: (mirrored, time-reversed)
TTA = ((False, False), (False, True))
DIS_PRESET = "quality"
DIS_SHARE = 0.5             # DIS's weight where the two methods agree
AGREE_K = 64.0              # 8-bit levels²: the two pictures' smoothed squared difference at which DIS's share halves
AGREE_SIGMA_PX = 1.5        # the squared difference is smoothed over this Gaussian (luma pixels)
BAND_PX = 3.0               # the correction's coarse part: a Gaussian of this many luma pixels; the rest is detail
DETAIL_SIGMA_PX = 2.0       # fine detail's energy is compared over this Gaussian
DETAIL_POWER = 4.0          # the detail gate: (DIS's detail energy / RIFE's, at most 1) to this power
_EPS = 1e-3                 # 8-bit levels²: keeps the ratio defined on flat areas


class FusionInterpolator(Interpolator):
    """RIFE 4.25 with test-time augmentation and DIS ``quality``, fused per pixel (see the module notes).

    ``weights``/``device``: RIFE's (see :class:`~vidext.interpolation.rife.RIFEInterpolator`).
    Without RIFE's weights at hand: a :class:`~vidext.errors.ModelError`, or with ``fallback``
    (what ``--quality best`` asks for) DIS alone, said in :meth:`describe`.
    ``low_light``/``flow_smoothing``: DIS's options.
    """

    name = "best"
    arbitrary_t = True

    def __init__(self, weights=None, device=None, *, fallback: bool = False, low_light: bool = False,
                 flow_smoothing: bool = False):
        self.dis = DISInterpolator(DIS_PRESET, low_light=low_light, flow_smoothing=flow_smoothing)
        self.rife = None
        self.note = None
        try:
            from .rife import RIFEInterpolator

            self.rife = RIFEInterpolator(weights=weights, device=device)
            self.rife.flips = any(flip for flip, _ in TTA)
        except (ModelError, DependencyError, ImportError) as exc:
            if weights is not None or not fallback:     # asked for by path, or measured as itself: say why
                raise
            self.note = f"DIS {DIS_PRESET} alone: RIFE not at hand ({str(exc).split(':')[0]})"

    def setup(self, width: int, height: int) -> None:
        if self.rife is not None:
            self.rife.setup(width, height)

    @property
    def compute_threads(self) -> int | None:
        return self.rife.compute_threads if self.rife is not None else None

    @property
    def concurrency(self) -> int:
        if self.rife is not None:
            return min(self.rife.concurrency, self.dis.concurrency)
        return self.dis.concurrency

    def describe(self) -> dict:
        out = {"model": self.name, "members": ([f"rife ({len(TTA)} passes averaged)"] if self.rife else [])
               + [f"dis {DIS_PRESET}"], "dis": self.dis.describe(),
               "fusion": {"dis_share": DIS_SHARE, "agree_k": AGREE_K, "agree_sigma_px": AGREE_SIGMA_PX,
                          "band_px": BAND_PX, "detail_power": DETAIL_POWER}}
        if self.rife is not None:
            out["rife"] = self.rife.describe()
            out["quality"] = "best"
        if self.note:
            out["note"] = self.note
        return out

    def between(self, a: Frame, b: Frame) -> Between:
        return _FusedPair(self, a, b)


class _FusedPair(Between):
    def __init__(self, owner: FusionInterpolator, a: Frame, b: Frame):
        self.owner, self.a, self.b = owner, a, b
        self.dis = owner.dis.between(a, b)

    def at(self, t: float) -> Planes:
        return self.at_many([t])[0]

    def at_many(self, ts: list[float]) -> list[Planes]:
        classical = [self.dis.at(t) for t in ts]
        rife = self.owner.rife
        if rife is None:
            return classical
        passes = [rife.render_float(self.a, self.b, list(ts), flip=flip, reverse=reverse) for flip, reverse in TTA]
        out = []
        for i, dis_planes in enumerate(classical):
            mean = [sum(p[i][k] for p in passes) / len(passes) for k in range(len(dis_planes))]
            out.append(fuse(mean, dis_planes, self.a.layout))
        return out


def fuse(learned: list[np.ndarray], classical: Planes, layout) -> Planes:
    """RIFE's float planes and DIS's planes, fused by agreement and detail (see the module notes)."""
    scale = (layout.peak / 255.0) ** 2         # the constants are in 8-bit levels
    full = learned[0].shape
    same = [k for k, p in enumerate(classical) if p.shape == full] if layout.is_rgb else [0]
    diff = [classical[k].astype(np.float32) - learned[k] for k in same]
    d2 = sum(d * d for d in diff) / (len(same) * scale)
    share = DIS_SHARE * AGREE_K / (cv2.GaussianBlur(d2, (0, 0), AGREE_SIGMA_PX) + AGREE_K)
    e_rife = sum(_detail_energy(learned[k]) for k in same)
    e_dis = sum(_detail_energy(classical[k].astype(np.float32)) for k in same)
    gate = np.minimum(e_dis / (e_rife + _EPS * scale * len(same)), 1.0) ** DETAIL_POWER
    out = []
    for t_plane, d_plane in zip(learned, classical):
        h, w = d_plane.shape
        s, g = (share, gate) if (h, w) == full else (
            cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA) for m in (share, gate))
        corr = d_plane.astype(np.float32) - t_plane
        coarse = cv2.GaussianBlur(corr, (0, 0), BAND_PX * w / full[1])
        mixed = t_plane + s * (coarse + g * (corr - coarse))
        out.append(np.clip(mixed + 0.5, 0, layout.peak).astype(d_plane.dtype))
    return tuple(out)


def _detail_energy(plane: np.ndarray) -> np.ndarray:
    """Local energy of the detail above :data:`BAND_PX`, averaged over :data:`DETAIL_SIGMA_PX`."""
    fine = plane - cv2.GaussianBlur(plane, (0, 0), BAND_PX)
    return cv2.GaussianBlur(fine * fine, (0, 0), DETAIL_SIGMA_PX)
