"""``--quality best``: every method at hand, fused per pixel by their own evidence.

The slowest and best picture vidext makes.  Per pair and timestep:

1. **RIFE with test-time augmentation** (when its weights are at hand): the
   network run forwards at t and backwards, from the second frame to the
   first, at 1 − t (it reuses the frames' features).  The network is not
   time-symmetric, so each pass errs differently.  The two are averaged,
   the backward pass's fine detail (above :data:`BAND_PX`) only as far as the
   forward pass holds as much there (the detail gate of step 3): a plain
   average blurred the texture where one pass was softer and cost ST-LPIPS
   on bikes (0.0123 against RIFE's 0.0120).  Averaging only where the passes
   agree (step 3's agreement) kept ST-LPIPS as well but lost the average's
   gain on fast motion, where both passes are wrong and their mean is nearer
   the truth (bikes frames 100–106: +0.03 dB over RIFE against +0.41).
   Mirrored passes (:data:`TTA` may hold them) did not pay: +0.04 dB more on
   bigbuckbunny for twice RIFE's time, and a worse ST-LPIPS.
2. **DIS at its quality preset**: bidirectional classical flow with its own
   forward–backward consistency weights and occlusion-aware blend.
3. **Fusion by agreement, without blur**: one picture is the *base* (step
   4).  Where the two agree (their squared luma difference d², smoothed over
   :data:`AGREE_SIGMA_PX`, small against :data:`AGREE_K`), neither is wrong
   by a whole structure and the other's correction is taken with a share
   :data:`DIS_SHARE` · K / (d² + K); where they disagree, one of them
   followed the motion and the other did not, and the base is kept.  The
   correction's coarse part (a Gaussian of :data:`BAND_PX`) is taken as is;
   its fine part only as far as the other picture holds as much fine detail
   there as the base (their local energies above the band, ratio to the
   power :data:`DETAIL_POWER`, at most 1): averaging a blurrier picture in
   would blur the texture (ST-LPIPS worse) for a little PSNR.
4. **The base is measured on the clip itself** (:class:`Calibration`), not
   fixed: neither method wins everywhere (RIFE on bikes and bigbuckbunny, DIS
   on carphone, a small camera clip).  The input frames are real, so a pair
   whose first frame follows another (input frames p, a, b) rebuilds ``a``
   from ``p`` and ``b`` with both members, as a held-out frame is rebuilt,
   and fuses that picture twice, RIFE as the base and DIS as the base.  The
   first :data:`CALIBRATE_FIRST` such pairs do it, then one in
   :data:`CALIBRATE_EVERY`; how far DIS is the base is the logistic of the
   mean gain (dB of luma PSNR on the real frames) over
   :data:`PREFER_SCALE_DB`, RIFE before the first measurement.  Pairs are
   rendered in order, one at a time (RIFE's passes and DIS run at once
   instead), so the choice never depends on thread timing.  Cost: one more pair's work per measurement (6 of 20 pairs on the
   bench's 41 frames, about 1 in 8 on a long clip).

Without RIFE's weights, ``best`` is DIS at its quality preset alone (the
sidecar says so).

Steps 1–3 were chosen on held-out 2× windows of the first 41 frames of
bikes.mp4 and bigbuckbunny.mp4 (20 windows each), against RIFE alone, luma
PSNR / full-frame ST-LPIPS: both passes averaged +0.57 / +0.18 dB (ST-LPIPS
−0.0002 / +0.0005); with DIS averaged in everywhere they agree +0.82 / +0.40
dB but ST-LPIPS +0.0014 on bikes (DIS's picture is blurrier there); with the
fine part gated by detail +0.86 / +0.39 dB, ST-LPIPS −0.0002 / −0.0023; with
the same gate on the backward pass, ST-LPIPS no worse than RIFE's on either.
Step 4's settings (a choice of base rather than a share fitted by least
squares on the rebuilt frames, which did worse on all three clips;
:data:`CALIBRATE_FIRST`; :data:`PREFER_SCALE_DB`) were chosen on carphone
and bikes; bigbuckbunny only checked them.  Against the best single method
(``bench/interpolation.py --frames 41``; the table is in docs/methods.md):
bikes +0.74 dB, bigbuckbunny +0.39 dB, both with a lower ST-LPIPS; carphone
+0.04 dB over DIS ``quality``.  carphone is a phone shaken in a car: its
held-out frames lie 0.35 px (median) off the path through their neighbours,
at random from frame to frame, and shifting DIS's pictures by each frame's
true offset would gain 3.7 dB (``bench/jitter.py``).  That error is every
method's alike, and no weighting of these members recovers it: a per-pixel
share fitted to the truth itself over 4 px reaches 34.38 dB, +0.42.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from ..errors import DependencyError, ModelError
from ..media.frame import Frame
from .base import Between, Interpolator, Planes
from .flow import DISInterpolator

#: RIFE's passes, the first the base the others are folded onto: (mirrored, time-reversed)
TTA = ((False, False), (False, True))
DIS_PRESET = "quality"
DIS_SHARE = 0.5             # DIS's weight where the two methods agree
AGREE_K = 64.0              # 8-bit levels²: the two pictures' smoothed squared difference at which DIS's share halves
AGREE_SIGMA_PX = 1.5        # the squared difference is smoothed over this Gaussian (luma pixels)
BAND_PX = 3.0               # the correction's coarse part: a Gaussian of this many luma pixels; the rest is detail
DETAIL_SIGMA_PX = 2.0       # fine detail's energy is compared over this Gaussian
DETAIL_POWER = 4.0          # the detail gate: (DIS's detail energy / RIFE's, at most 1) to this power
_EPS = 1e-3                 # 8-bit levels²: keeps the ratio defined on flat areas
# Self-calibration (which method is the base), on triplets of the clip's own input frames
CALIBRATE_FIRST = 5         # the pairs after the first each rebuild their first frame from its neighbours ...
CALIBRATE_EVERY = 8         # ... then one pair in this many (a running estimate)
PREFER_SCALE_DB = 0.05      # DIS's base weight = logistic(mean dB by which DIS-as-base rebuilt the real frames better / this)


class FusionInterpolator(Interpolator):
    """RIFE 4.25 with test-time augmentation and DIS ``quality``, fused per pixel (see the module notes).

    ``weights``/``device``: RIFE's (see :class:`~vidext.interpolation.rife.RIFEInterpolator`).
    Without RIFE's weights at hand: a :class:`~vidext.errors.ModelError`, or with ``fallback``
    (what ``--quality best`` asks for) DIS alone, said in :meth:`describe`.
    ``low_light``/``flow_smoothing``: DIS's options.

    Which method is the base is measured on the clip itself (:class:`Calibration`): pairs
    are rendered one after the other (:attr:`concurrency` 1), each knowing the frame before
    it, so the result does not depend on thread timing.
    """

    name = "best"
    arbitrary_t = True

    def __init__(self, weights=None, device=None, *, fallback: bool = False, low_light: bool = False,
                 flow_smoothing: bool = False):
        self.dis = DISInterpolator(DIS_PRESET, low_light=low_light, flow_smoothing=flow_smoothing)
        self.rife = None
        self.note = None
        self.calibration = Calibration()
        self._last: tuple[Frame, Frame] | None = None    # the previous pair (a, b)
        self._pairs = 0                                  # pairs that followed on from the one before them
        try:
            from .rife import RIFEInterpolator

            self.rife = RIFEInterpolator(weights=weights, device=device)
            self.rife.flips = any(flip for flip, _ in TTA)
        except (ModelError, DependencyError, ImportError) as exc:
            if weights is not None or not fallback:     # asked for by path, or measured as itself: say why
                raise
            self.note = f"DIS {DIS_PRESET} alone: RIFE not at hand ({str(exc).split(':')[0]})"

    def setup(self, width: int, height: int) -> None:
        self.calibration = Calibration()       # a new clip: measured afresh
        self._last, self._pairs = None, 0
        if self.rife is not None:
            self.rife.setup(width, height)

    @property
    def compute_threads(self) -> int | None:
        return self.rife.compute_threads if self.rife is not None else None

    @property
    def concurrency(self) -> int:
        if self.rife is not None:
            return 1        # each pair reads the calibration the pairs before it left (RIFE's passes run at once)
        return self.dis.concurrency

    def describe(self) -> dict:
        out = {"model": self.name, "members": ([f"rife ({len(TTA)} passes fused)"] if self.rife else [])
               + [f"dis {DIS_PRESET}"], "dis": self.dis.describe(),
               "fusion": {"dis_share": DIS_SHARE, "agree_k": AGREE_K, "agree_sigma_px": AGREE_SIGMA_PX,
                          "band_px": BAND_PX, "detail_power": DETAIL_POWER,
                          "base": {"calibrate_first": CALIBRATE_FIRST, "calibrate_every": CALIBRATE_EVERY,
                                   "prefer_scale_db": PREFER_SCALE_DB}}}
        if self.rife is not None:
            out["rife"] = self.rife.describe()
            out["quality"] = "best"
        if self.note:
            out["note"] = self.note
        return out

    def between(self, a: Frame, b: Frame) -> Between:
        last, self._last = self._last, (a, b)
        if self.rife is not None and last is not None and last[1] is a:    # p, a, b: three input frames in a row
            self._pairs += 1
            k = self._pairs
            if k <= CALIBRATE_FIRST or (k - CALIBRATE_FIRST) % CALIBRATE_EVERY == 0:
                self._calibrate(last[0], a, b)
        return _FusedPair(self, a, b, self.calibration.prefer_dis)

    def _calibrate(self, p: Frame, a: Frame, b: Frame) -> None:
        """Rebuild the real frame ``a`` from ``p`` and ``b`` both ways (RIFE as the base, DIS as the base)."""
        t = float((a.time - p.time) / (b.time - p.time))
        if not 0.0 < t < 1.0:
            return
        learned, classical = _members(self, p, b, [t])[0]
        self.calibration.add(learned, classical, a.planes, a.layout)


class Calibration:
    """Which method the fused picture leans on, measured on the clip's own real frames.

    Each pair that follows on from the one before (input frames p, a, b) rebuilds the real
    frame ``a`` from ``p`` and ``b``, as a held-out frame is rebuilt, and fuses the two
    members' pictures of it both ways: RIFE as the base (DIS's share of the agreement) and
    DIS as the base (RIFE's).  :attr:`prefer_dis` is the logistic of the mean luma PSNR (dB)
    by which DIS as the base rebuilt them better, over :data:`PREFER_SCALE_DB`: 0 (RIFE the
    base) before any measurement.  No held-out frame is used: ``a`` is an input frame.
    """

    def __init__(self):
        self.gains_db: list[float] = []

    def add(self, learned: list[np.ndarray], classical: Planes, real: Planes, layout) -> float:
        """Score one rebuilt real frame both ways; returns the gain (dB) of DIS as the base."""
        rife_base = fuse(learned, classical, layout, prefer_dis=0.0)[0]
        dis_base = fuse(learned, classical, layout, prefer_dis=1.0)[0]
        gain = _psnr(dis_base, real[0], layout.peak) - _psnr(rife_base, real[0], layout.peak)
        self.gains_db.append(gain)
        return gain

    @property
    def prefer_dis(self) -> float:
        if not self.gains_db:
            return 0.0
        return float(1.0 / (1.0 + np.exp(-np.clip(np.mean(self.gains_db) / PREFER_SCALE_DB, -50, 50))))


def _psnr(x: np.ndarray, ref: np.ndarray, peak: int) -> float:
    err = x.astype(np.float64) - ref.astype(np.float64)
    return float(10 * np.log10(peak * peak / max(float(np.mean(err * err)), 1e-10)))


def _members(owner: FusionInterpolator, a: Frame, b: Frame, ts: list[float]) -> list[tuple[list, Planes]]:
    """Per t: RIFE's passes fused (float planes: the others folded onto the first by :func:`_onto`)
    and DIS's planes.

    Pairs come one at a time, so RIFE's passes run at once on as many threads as RIFE's calibrated
    workers (each with its calibrated intra-op threads), and DIS beside them."""
    rife = owner.rife
    workers = min(rife.concurrency, len(TTA))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vidext-best") as pool:
            jobs = [pool.submit(rife.render_float, a, b, list(ts), flip=flip, reverse=reverse)
                    for flip, reverse in TTA]
            pair = owner.dis.between(a, b)
            classical = [pair.at(t) for t in ts]
            passes = [job.result() for job in jobs]
    else:
        pair = owner.dis.between(a, b)
        classical = [pair.at(t) for t in ts]
        passes = [rife.render_float(a, b, list(ts), flip=flip, reverse=reverse) for flip, reverse in TTA]
    return [(_tta(passes, i, a.layout), d) for i, d in enumerate(classical)]


def _tta(passes: list, i: int, layout) -> list[np.ndarray]:
    """RIFE's passes at the ``i``-th t: the first with each other one folded on, everywhere, its fine
    detail only as far as the first holds as much (:func:`_onto` without the agreement)."""
    learned = list(passes[0][i])
    for other in passes[1:]:
        learned = _onto(learned, list(other[i]), layout, by_agreement=False)
    return learned


class _FusedPair(Between):
    def __init__(self, owner: FusionInterpolator, a: Frame, b: Frame, prefer_dis: float):
        self.owner, self.a, self.b, self.prefer_dis = owner, a, b, prefer_dis

    def at(self, t: float) -> Planes:
        return self.at_many([t])[0]

    def at_many(self, ts: list[float]) -> list[Planes]:
        if self.owner.rife is None:
            pair = self.owner.dis.between(self.a, self.b)
            return [pair.at(t) for t in ts]
        return [fuse(learned, classical, self.a.layout, self.prefer_dis)
                for learned, classical in _members(self.owner, self.a, self.b, ts)]


def fuse(learned: list[np.ndarray], classical: Planes, layout, prefer_dis: float = 0.0) -> Planes:
    """RIFE's float planes and DIS's planes, fused by agreement and detail (see the module notes).

    ``prefer_dis`` (0–1): how far DIS is the base.  With 0, RIFE's picture plus DIS's correction
    with a share :data:`DIS_SHARE` · K / (d² + K) where they agree (its fine part gated by
    detail); with 1 the mirror, DIS's picture plus RIFE's correction by the same rule; in
    between, the two mixed.
    """
    dis = [p.astype(np.float32) for p in classical]
    if prefer_dis <= 0.0:
        mixed = _onto(learned, dis, layout)
    elif prefer_dis >= 1.0:
        mixed = _onto(dis, learned, layout)
    else:
        mixed = [(1.0 - prefer_dis) * x + prefer_dis * y
                 for x, y in zip(_onto(learned, dis, layout), _onto(dis, learned, layout))]
    return tuple(np.clip(m + 0.5, 0, layout.peak).astype(p.dtype) for m, p in zip(mixed, classical))


def _onto(base: list[np.ndarray], other: list[np.ndarray], layout, by_agreement: bool = True) -> list[np.ndarray]:
    """``base`` plus ``other``'s correction where the two agree (everywhere without ``by_agreement``),
    with a share :data:`DIS_SHARE`: its coarse part as is, its fine part as far as ``other`` holds as
    much detail there as ``base`` (float planes)."""
    scale = (layout.peak / 255.0) ** 2         # the constants are in 8-bit levels
    full = base[0].shape
    same = [k for k, p in enumerate(base) if p.shape == full] if layout.is_rgb else [0]
    share: np.ndarray | float = DIS_SHARE        # without the agreement: the same share everywhere
    if by_agreement:
        d2 = sum((other[k] - base[k]) ** 2 for k in same) / (len(same) * scale)
        share = DIS_SHARE * AGREE_K / (cv2.GaussianBlur(d2, (0, 0), AGREE_SIGMA_PX) + AGREE_K)
    e_base = sum(_detail_energy(base[k]) for k in same)
    e_other = sum(_detail_energy(other[k]) for k in same)
    gate = np.minimum(e_other / (e_base + _EPS * scale * len(same)), 1.0) ** DETAIL_POWER

    def at(m, w: int, h: int):
        """A full-size map at a plane's size (a constant as it is)."""
        return m if np.isscalar(m) or m.shape == (h, w) else cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA)

    out = []
    for b_plane, o_plane in zip(base, other):
        h, w = b_plane.shape
        s, g = at(share, w, h), at(gate, w, h)
        corr = o_plane - b_plane
        coarse = cv2.GaussianBlur(corr, (0, 0), BAND_PX * w / full[1])
        out.append(b_plane + s * (coarse + g * (corr - coarse)))
    return out


def _detail_energy(plane: np.ndarray) -> np.ndarray:
    """Local energy of the detail above :data:`BAND_PX`, averaged over :data:`DETAIL_SIGMA_PX`."""
    fine = plane - cv2.GaussianBlur(plane, (0, 0), BAND_PX)
    return cv2.GaussianBlur(fine * fine, (0, 0), DETAIL_SIGMA_PX)
