"""``motion``: continue the camera's global motion past the junction, easing it to a stop.

The per-frame motion between the last frames is estimated as a similarity
transform (pan, zoom, rotation): corners tracked with pyramidal Lucas–Kanade
(forward–backward checked), a RANSAC similarity fit per pair of frames.  The
steps are averaged in the Lie algebra (median of their matrix logarithms) so
that zoom and rotation compose correctly, then continued from the junction
frame: new frame k is the junction frame moved by ``expm(a_k · L)`` with
``a_k = (1 - r^k)/(1 - r)``, a motion easing to rest with half-life
``MOTION_HALF_LIFE_S`` (short: the camera settles, it does not go on for
seconds).  The whole continuation turns and zooms at most
``MOTION_MAX_TURN_DEG`` and ``MOTION_MAX_ZOOM`` (the rotation and zoom of the
step are scaled down to fit): extrapolated rotation and zoom are what spins a
handheld shot into a warped close-up no camera saw.

Nothing is smeared into the borders the junction frame did not see: they are
filled from the shot's own last frames where those saw them (a mosaic, each
frame registered to the junction by the steps already estimated), and the
view is cropped by the smallest zoom that keeps whatever no frame saw out of
the picture (at most ``MOTION_MAX_CROP``; a motion that would need more
travels less).  Each plane is warped at its own size, so 4:2:0 chroma and
10-bit planes need no conversion.
"""
from __future__ import annotations

from typing import Iterator

import cv2
import numpy as np

from .. import config
from ..media.frame import Frame
from .base import ClipView, Planes, Synthesizer
from .clip import thumbnail
from .scoring import ShotStats, probe_frames, score_continuation

MOTION_ANALYSIS_WIDTH = 480          # px: frames are tracked at this width at most
MOTION_MAX_CORNERS = 400
MOTION_HALF_LIFE_S = 0.25            # the motion eases to rest with this half-life (it travels ~0.36 s of motion)
MOTION_MAX_TURN_DEG = 1.0            # most the whole continuation rotates
MOTION_MAX_ZOOM = 0.02               # most the whole continuation zooms (a share of the picture's size)
MOTION_MAX_CROP = 1.25               # largest zoom that crops unseen borders out; a motion needing more travels less
MOTION_CROP_GRID = 480               # px: width of the coverage map the crop is found on (a coarse map
                                     # crops a grid pixel or two even where a step of one pixel needs less)


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


def step_transforms(frames: list[Frame]) -> list[np.ndarray | None]:
    """Full-resolution 3×3 similarity from each frame's coordinates to the next one's (None: untrackable)."""
    if len(frames) < 2:
        return []
    scale = min(1.0, MOTION_ANALYSIS_WIDTH / frames[0].width)
    grays = [_gray8(f, scale) for f in frames]
    s = np.diag([scale, scale, 1.0])
    out = []
    for a, b in zip(grays, grays[1:]):
        m = step_transform(a, b)
        out.append(None if m is None else np.linalg.inv(s) @ m @ s)  # analysis → full-resolution coordinates
    return out


#: a 3×3 whose linear part departs from a similarity's form by more than this (relative) has its
#: logarithm taken by SciPy's general logm
_SIMILAR_TOL = 1e-9


def log_similarity(m: np.ndarray) -> np.ndarray:
    """Matrix logarithm of a 2-D similarity ``[[a, -b, tx], [b, a, ty], [0, 0, 1]]`` (what
    ``estimateAffinePartial2D`` gives), in closed form: with ``z = a + ib`` the linear part's
    rotation and scale, ``α = log z`` and ``t = tx + i ty``, the logarithm is
    ``[[Re α, -Im α, Re u], [Im α, Re α, Im u], [0, 0, 0]]``, ``u = t α / (z - 1)`` (``t`` where
    ``z = 1``).  SciPy's general logm gives the same to rounding but costs 20-60 ms of CPU a call
    (a Schur decomposition through BLAS threads; five a clip, every time ``auto`` measures
    ``motion``).  Any other matrix goes to SciPy's logm."""
    a, b = (m[0, 0] + m[1, 1]) / 2, (m[1, 0] - m[0, 1]) / 2
    scale = max(abs(a), abs(b), 1e-300)
    if (abs(m[0, 0] - m[1, 1]) > _SIMILAR_TOL * scale or abs(m[1, 0] + m[0, 1]) > _SIMILAR_TOL * scale
            or m[2, 0] != 0 or m[2, 1] != 0 or m[2, 2] != 1 or (a <= 0 and b == 0)):
        from scipy.linalg import logm

        return np.real(logm(m))
    z1 = complex(a - 1.0, b)                                # z - 1, exact for z near 1
    alpha = np.log1p(z1)
    t = complex(m[0, 2], m[1, 2])
    u = t if z1 == 0 else t * alpha / z1
    return np.array([[alpha.real, -alpha.imag, u.real], [alpha.imag, alpha.real, u.imag], [0.0, 0.0, 0.0]])


def generator(steps: list[np.ndarray | None]) -> np.ndarray:
    """Lie-algebra generator ``L`` (3×3): the median of the steps' matrix logarithms (zeros: none)."""
    logs = [log_similarity(m) for m in steps if m is not None]
    if not logs:
        return np.zeros((3, 3))
    gen = np.median(np.stack(logs), axis=0)
    gen[2] = 0.0
    return gen


def estimate_motion(frames: list[Frame]) -> np.ndarray:
    """Lie-algebra generator ``L`` (3×3) of the per-frame motion at full resolution (zeros: none)."""
    return generator(step_transforms(frames))


def limited(gen: np.ndarray, travel: float) -> np.ndarray:
    """``gen`` with its rotation and zoom scaled so that ``travel`` steps of it turn at most
    ``MOTION_MAX_TURN_DEG`` and zoom at most ``MOTION_MAX_ZOOM``."""
    out = gen.copy()
    turn = 0.5 * (gen[1, 0] - gen[0, 1])           # a similarity's generator: [[s, -θ, tx], [θ, s, ty]]
    grow = 0.5 * (gen[0, 0] + gen[1, 1])
    t_max = np.radians(MOTION_MAX_TURN_DEG) / travel
    g_max = np.log1p(MOTION_MAX_ZOOM) / travel
    turn_l = float(np.clip(turn, -t_max, t_max))
    grow_l = float(np.clip(grow, -g_max, g_max))
    out[0, 0] = out[1, 1] = grow_l
    out[1, 0], out[0, 1] = turn_l, -turn_l
    return out


def _crop(covered: np.ndarray, max_zoom: float) -> tuple[float, float, float] | None:
    """(zoom, x0, y0): the smallest zoom (≥ 1) whose window of the picture's shape lies inside
    ``covered`` (bool, analysis grid), placed as near the centre as it can be; origin in grid
    pixels.  None when even ``max_zoom`` does not fit."""
    h, w = covered.shape
    bad = np.pad(np.cumsum(np.cumsum(~covered, 0, dtype=np.int32), 1), ((1, 0), (1, 0)))

    def fits(z: float):
        ww, wh = min(w, int(np.ceil(w / z))), min(h, int(np.ceil(h / z)))
        sums = bad[wh:, ww:] - bad[:-wh, ww:] - bad[wh:, :-ww] + bad[:-wh, :-ww]
        ys, xs = np.nonzero(sums == 0)
        if not len(xs):
            return None
        cx, cy = (w - ww) / 2, (h - wh) / 2
        k = int(np.argmin((xs - cx) ** 2 + (ys - cy) ** 2))
        return float(xs[k]), float(ys[k])

    if covered.all():
        return 1.0, 0.0, 0.0
    if fits(max_zoom) is None:
        return None
    lo, hi = 1.0, max_zoom
    for _ in range(12):
        mid = (lo + hi) / 2
        if fits(mid) is None:
            lo = mid
        else:
            hi = mid
    x0, y0 = fits(hi)
    return hi, x0, y0


class Motion(Synthesizer):
    """Continues the global pan/zoom/rotation of the last frames, easing it to a stop (see the module)."""

    name = "motion"
    context_frames = config.MOTION_CONTEXT_FRAMES
    needs_index = True          # what it made is scored against the shot, as auto scores it

    def __init__(self, half_life_s: float | None = MOTION_HALF_LIFE_S):
        self.half_life_s = half_life_s
        self.estimates: dict[str, dict] = {}

    def describe(self) -> dict:
        return {"method": self.name, "half_life_s": self.half_life_s, "motion": self.estimates,
                "summary": self.summary()}

    def summary(self) -> str:
        """A word per edge whose continuation fails the check auto would have made (it never pretends)."""
        parts = []
        for d, e in self.estimates.items():
            if e.get("passed") is False:
                parts.append(f"{d}: the continuation fails the seam check ({', '.join(e['failures'])}; "
                             f"cost {e['score']['cost']:.2f}); try --method auto")
        return "; ".join(parts)

    def _judge(self, clip: ClipView, made: list) -> None:
        """Score the first new pictures as auto scores a motion candidate; recorded with the estimates."""
        shot, _ = clip.shot_thumbs()
        if shot is None or len(shot) < 2 or not made or clip.direction not in self.estimates:
            return
        sc = score_continuation(ShotStats.of(shot), [shot[-2], shot[-1]], made)
        self.estimates[clip.direction].update(score=sc.as_dict(), passed=sc.passed, failures=sc.failures())

    def synthesize(self, clip: ClipView, count: int) -> Iterator[Planes]:
        from scipy.linalg import expm

        frames = clip.context
        steps = step_transforms(frames)
        measured = generator(steps)
        ratio = 0.5 ** (1.0 / (self.half_life_s * float(clip.rate))) if self.half_life_s else 1.0
        travel = (1 - ratio ** count) / (1 - ratio) if ratio < 1 else float(count)
        gen = limited(measured, travel)
        # each context frame's coordinates → the junction's (older frames fill what the junction did not see)
        to_junction, m = [np.eye(3)], np.eye(3)
        for step in reversed(steps):
            if step is None:
                break
            m = m @ step
            to_junction.append(m)
        sources = [(frames[-1 - j], a) for j, a in enumerate(to_junction)]
        amounts = [(1 - ratio ** k) / (1 - ratio) if ratio < 1 else float(k) for k in range(1, count + 1)]
        moves = [expm(a * gen) for a in amounts]
        crops, scale = self._crops(clip, sources, moves)
        if scale < 1.0:      # it would need more than MOTION_MAX_CROP: the camera travels less
            moves = [expm(a * scale * gen) for a in amounts]
            crops, _ = self._crops(clip, sources, moves, fixed=True)
        step = expm(measured)           # the camera's own step, as measured
        last = crops[-1] @ moves[-1] if moves else np.eye(3)
        self.estimates[clip.direction] = {
            "dx_px": round(float(step[0, 2]), 3), "dy_px": round(float(step[1, 2]), 3),
            "zoom": round(float(np.sqrt(abs(np.linalg.det(step[:2, :2])))), 5),
            "rotation_deg": round(float(np.degrees(np.arctan2(step[1, 0], step[0, 0]))), 4),
            "travel_steps": round(travel * scale, 3),
            "turned_deg": round(float(np.degrees(np.arctan2(last[1, 0], last[0, 0]))), 3),
            "crop_zoom": round(float(crops[-1][0, 0]) if moves else 1.0, 4),
            "mosaic_frames": len(sources)}
        probe = probe_frames(count, float(clip.rate))
        made = []
        for k, (move, crop) in enumerate(zip(moves, crops)):
            planes = self.warp(sources, crop @ move, clip)
            if clip.thumbs is not None and k < probe:
                made.append(thumbnail(Frame(planes, clip.junction.time, clip.layout, clip.colour)))
                if len(made) == min(probe, len(moves)):
                    self._judge(clip, made)
            yield planes

    def _crops(self, clip: ClipView, sources, moves, fixed: bool = False) -> tuple[list[np.ndarray], float]:
        """Per new frame, the crop (3×3, full resolution) that keeps unseen area out of the picture;
        and the share of the motion that fits within ``MOTION_MAX_CROP`` (1 when all of it does)."""
        w, h = clip.width, clip.height
        gw = min(w, MOTION_CROP_GRID)
        gh = max(4, round(h * gw / w))
        g = np.diag([gw / w, gh / h, 1.0])
        ones = np.ones((gh, gw), np.float32)

        def covered(move: np.ndarray) -> np.ndarray:
            union = np.zeros((gh, gw), bool)
            for _, to_j in sources:
                t = (g @ move @ to_j @ np.linalg.inv(g))[:2]
                union |= cv2.warpAffine(ones, t, (gw, gh), flags=cv2.INTER_LINEAR, borderValue=0) > 0.999
            return union

        crops, zoom = [], 1.0
        for move in moves:
            found = _crop(covered(move), MOTION_MAX_CROP)
            if found is None:
                if fixed:               # rounding at the limit: the largest crop, centred
                    found = (MOTION_MAX_CROP, gw * (1 - 1 / MOTION_MAX_CROP) / 2, gh * (1 - 1 / MOTION_MAX_CROP) / 2)
                else:
                    return [], self._fitting_share(covered, moves)
            z, x0, y0 = found
            if z < zoom and crops:      # never zoom back out: keep the last crop where it still fits
                z, x0, y0 = zoom, crops[-1][1], crops[-1][2]
            zoom = z
            crops.append((z, x0, y0))
        return [np.array([[z, 0.0, -z * x0 * w / gw], [0.0, z, -z * y0 * h / gh], [0.0, 0.0, 1.0]])
                for z, x0, y0 in crops], 1.0

    @staticmethod
    def _fitting_share(covered, moves) -> float:
        """The largest share of the final move whose uncovered area a MOTION_MAX_CROP crop hides."""
        from scipy.linalg import expm

        gen = log_similarity(moves[-1])
        lo, hi = 0.0, 1.0
        for _ in range(10):
            mid = (lo + hi) / 2
            if _crop(covered(expm(mid * gen)), MOTION_MAX_CROP) is None:
                hi = mid
            else:
                lo = mid
        return lo

    def warp(self, sources, m: np.ndarray, like: ClipView | None = None) -> Planes:
        """The junction frame (first of ``sources``: (frame, to-junction transform)) moved by the
        full-resolution transform ``m``; where it does not reach, older frames moved alike."""
        if not isinstance(sources, list):       # a single frame (warp(frame, m))
            sources = [(sources, np.eye(3))]
        junction = sources[0][0]
        h0, w0 = junction.height, junction.width
        out = []
        for p, plane in enumerate(junction.planes):
            ph, pw = plane.shape
            s = np.diag([pw / w0, ph / h0, 1.0])
            result, filled = None, None
            for frame, to_j in sources:
                mp = (s @ m @ to_j @ np.linalg.inv(s))[:2]
                warped = cv2.warpAffine(frame.planes[p], mp, (pw, ph), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE)
                if result is None:      # the junction, edge pixels replicated where nothing else reaches
                    result = warped
                    filled = cv2.warpAffine(np.ones((ph, pw), np.float32), mp, (pw, ph), flags=cv2.INTER_LINEAR,
                                            borderValue=0) > 0.999
                    if filled.all():
                        break
                    continue
                cover = cv2.warpAffine(np.ones((ph, pw), np.float32), mp, (pw, ph), flags=cv2.INTER_LINEAR,
                                       borderValue=0) > 0.999
                take = cover & ~filled
                result[take] = warped[take]
                filled |= cover
                if filled.all():
                    break
            out.append(result)
        return tuple(out)
