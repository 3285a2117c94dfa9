"""``seamless``: a video-texture loop inside the edge's own shot, with a motion-compensated bridge.

After Schödl et al., *Video Textures* (SIGGRAPH 2000): the clip goes on from
an earlier frame ``j`` whose predecessor ``j-1`` looks like the junction frame
and moves like it.  Frames are compared on a downscaled luma index over a
short window of neighbours with binomial weights (so that the dynamics match,
not only the picture), plus an explicit frame-difference term.

Three rules keep the seam invisible:

1. **Stay in the shot.**  Candidates come only from the junction's own shot
   (``ClipView.shot_start``, found by the engine's cut detector), so the loop
   never replays a cut nor shows another shot.  Loops shorter than
   ``config.SEAMLESS_MIN_LOOP_S`` are not considered (the frames right before
   the junction always look most alike) unless the shot is shorter.
2. **Never cross-fade different content.**  The remaining mismatch is bridged
   by interpolation — DIS optical flow, or RIFE where its weights resolve
   (``SEAMLESS_INTERPOLATOR``) — both of which warp *both* ends to the
   in-between time before blending them: the first ``T`` new frames go from
   the junction frame to frame ``j+T`` (T+1 intervals: T+1 frames of motion
   plus the mismatch; T grows with the mismatch, measured in typical steps,
   between ``SEAMLESS_BRIDGE_S`` and ``SEAMLESS_BRIDGE_MAX_S``).
   Then ``j+T … N-1`` play untouched and the same bridge repeats: a loop of
   period ``N-j`` with no cut.  A near-exact match needs no bridge.
3. **Measure, don't pretend.**  The best ``SEAMLESS_CANDIDATES`` loop
   points by the index have their bridges rendered and scored by what a
   viewer sees (:mod:`vidext.extension.scoring`), and a bridge passes only
   when it joins near poses (:class:`LoopScore`: the junction and the frame
   the loop goes on from within ``EXTEND_INSIDE_LIMIT`` of the shot's median
   steps, the distance-to-real-frames yardstick of every candidate); the best
   score wins, and whether it passed is recorded
   (``loops[direction]["passed"]``) — the ``auto`` method never writes a loop
   that did not.  A loop played more than once in one extension is named
   (``loops[direction]["plays"]``, the summary).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import config
from ..interpolation.base import Interpolator
from ..media.frame import Frame
from .base import ClipView, Mix, Op, Repeater, Run
from .scoring import EXTEND_INSIDE_LIMIT, EXTEND_VISIBLE_LEVEL, Score, ShotStats, consecutive, score

# the bridge over the jump: which interpolator renders it, at which quality
SEAMLESS_INTERPOLATOR_QUALITY = "quality"
SEAMLESS_INTERPOLATOR = "auto"       # bridge frames: rife where its weights resolve (no download), else dis


# seamless: a video-texture loop (Schödl et al. 2000) with a DIS-interpolated bridge over the jump.
SEAMLESS_WINDOW = 4                  # frames compared (with binomial weights) so that motion matches too
SEAMLESS_MOTION_WEIGHT = 1.0         # weight of the frame-difference (motion) term beside appearance
SEAMLESS_BRIDGE_S = 0.2              # shortest interpolated transition over the jump
SEAMLESS_BRIDGE_MAX_S = 1.0          # longest: the bridge grows with the mismatch up to this
SEAMLESS_EXACT_MATCH = 0.1           # mismatch / typical frame difference below which no bridge is needed
SEAMLESS_CANDIDATES = 4              # best loop points (by the index) whose bridges are rendered and measured


_CHUNK = 1024  # candidates compared at once (bounds the temporary arrays)


def _mad(ref: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """Mean absolute difference of ``ref`` (h, w) against each picture of ``stack`` (k, h, w)."""
    return np.abs(stack.astype(np.int16) - ref.astype(np.int16)).mean(axis=(1, 2))


def _binomial(m: int) -> np.ndarray:
    """Weights for the junction frame and the m-1 before it: the upper half of a binomial kernel."""
    w = np.array([math.comb(2 * m - 2, m - 1 + k) for k in range(m)], dtype=np.float64)
    return w / w.sum()


def bridge_interpolator(name: str = SEAMLESS_INTERPOLATOR,
                        quality: str = SEAMLESS_INTERPOLATOR_QUALITY) -> Interpolator:
    """The interpolator that renders bridges: ``rife`` where its weights resolve without a download, else ``dis``."""
    from ..interpolation import INTERPOLATORS

    if name == "auto":
        name = "rife" if rife_available() else "dis"
    if name == "dis":
        return INTERPOLATORS.create("dis", quality=quality)
    return INTERPOLATORS.create(name)


def rife_available() -> bool:
    """Whether RIFE's weights resolve here with downloads off (no network call, no torch import)."""
    from ..errors import VidextError

    try:
        from ..models import locate

        locate(config.RIFE_MODEL, download=False)
    except (VidextError, ImportError):
        return False
    return True


@dataclass
class LoopScore(Score):
    """A loop's figures, plus how far apart the poses its bridge joins are: the junction frame and
    the frame the loop goes on from, in the shot's median steps.  A bridge between poses further
    apart than ``EXTEND_INSIDE_LIMIT`` steps morphs one into the other — a see-through double of
    whatever moved — which the index pictures' mean difference barely sees, so it fails here."""

    pose_steps: float = 0.0

    @property
    def worst(self) -> float:
        return max(super().worst, self.pose_steps / EXTEND_INSIDE_LIMIT)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "pose_steps": round(float(self.pose_steps), 3)}

    def failures(self) -> list[str]:
        out = super().failures()
        if self.pose_steps > EXTEND_INSIDE_LIMIT:
            out.append(f"the bridge joins poses {self.pose_steps:.1f} steps apart")
        return out


@dataclass
class LoopPlan:
    """Where the loop restarts (clip frame ``j``, generation order), its bridge, and how it scored."""

    j: int
    bridge: int
    mismatch: float
    typical: float
    score: Score | None = None
    considered: list[dict] = field(default_factory=list)

    def ops(self, n: int, count: int) -> list[Op]:
        target = self.j + self.bridge
        ops: list[Op] = []
        left = count
        while left > 0:
            for k in range(1, self.bridge + 1):
                if left == 0:
                    break
                ops.append(Mix(n - 1, target, k / (self.bridge + 1), shows=self.j - 1 + k))
                left -= 1
            if left == 0:
                break
            run = min(n - target, left)
            ops.append(Run(target, run, 1))
            left -= run
        return ops


class Seamless(Repeater):
    """Loops the edge's shot from its best-matching earlier frame, bridging the jump by interpolation."""

    name = "seamless"
    needs_index = True

    def __init__(self, quality: str = SEAMLESS_INTERPOLATOR_QUALITY,
                 interpolator: str = SEAMLESS_INTERPOLATOR):
        self.quality = quality
        self.interpolator_name = interpolator
        self.choices: dict[str, dict] = {}
        self._interpolator: Interpolator | None = None
        self._planned: dict[str, LoopPlan] = {}      # plans already measured (by ``auto``), per direction

    def describe(self) -> dict:
        used = self._interpolator.name if self._interpolator is not None else self.interpolator_name
        return {"method": self.name, "interpolator": used, "quality": self.quality, "loops": self.choices,
                "summary": self.summary()}

    def summary(self) -> str:
        """One line per edge: the loop, and whether it passed the measured gate (it never pretends)."""
        parts = []
        for d, c in self.choices.items():
            line = f"{d}: loop of {c['loop_frames']} frames in a shot of {c['shot_frames']}"
            if c.get("plays", 1) > 1:        # the same stretch seen again within one extension
                line += f", played {c['plays']:.1f} times"
            if "score" in c:
                sc = c["score"]
                line += (" passes" if c["passed"] else
                         " — no loop point passes the seam check (cost "
                         f"{sc['cost']:.2f}); try --method auto")
            parts.append(line)
        return "; ".join(parts)

    def interpolator(self) -> Interpolator:
        if self._interpolator is None:
            self._interpolator = bridge_interpolator(self.interpolator_name, self.quality)
        return self._interpolator

    def bridge_range(self, clip: ClipView) -> tuple[int, int]:
        """Fewest and most transition frames."""
        lo = max(2, round(SEAMLESS_BRIDGE_S * clip.rate))
        return lo, max(lo, round(SEAMLESS_BRIDGE_MAX_S * clip.rate))

    def min_loop(self, clip: ClipView) -> int:
        shortest, _ = self.bridge_range(clip)
        return max(shortest + 2, round(config.SEAMLESS_MIN_LOOP_S * clip.rate))

    # -- the search --------------------------------------------------------------
    def _costs(self, thumbs: np.ndarray, lo: int, hi: int, m: int) -> np.ndarray:
        n = len(thumbs)
        weights = _binomial(m)
        cost = np.empty(hi - lo + 1)
        junction_motion = thumbs[-1].astype(np.int16) - thumbs[-2].astype(np.int16)
        for c0 in range(lo, hi + 1, _CHUNK):
            c1 = min(hi + 1, c0 + _CHUNK)
            cand = np.arange(c0, c1)
            total = np.zeros(len(cand))
            for k, w in enumerate(weights):
                # the window never reaches before the shot: candidates too close to its start compare less
                total += w * _mad(thumbs[n - 1 - k], thumbs[np.maximum(cand - k, 0)])
            motion = thumbs[cand].astype(np.int16) - thumbs[cand - 1].astype(np.int16)
            total += SEAMLESS_MOTION_WEIGHT * np.abs(motion - junction_motion).mean(axis=(1, 2))
            cost[c0 - lo:c1 - lo] = total
        return cost

    def plan(self, clip: ClipView) -> LoopPlan:
        """The loop for this edge: candidates from the shot, bridges measured, the best kept."""
        thumbs, first = clip.shot_thumbs()
        n_all = clip.count
        if thumbs is None or len(thumbs) < 3 or n_all < 3:
            return LoopPlan(max(first, n_all - 1), 0, 0.0, 0.0)      # nothing to loop: the junction is held
        n = len(thumbs)
        steps = consecutive(thumbs)
        typical = float(np.median(steps)) if len(steps) else 0.0
        shortest, longest = self.bridge_range(clip)
        m = min(SEAMLESS_WINDOW, n - 1)
        hi = n - 1 - self.min_loop(clip)     # last candidate (local index of the frame matching the junction)
        lo = 1
        if hi < lo:                       # a shot shorter than the minimum loop: any loop past the bridge
            hi = n - 1 - (shortest + 2)
        if hi < lo:                       # too short for a search: the whole shot, bridged
            bridge = max(0, min(shortest, n - 2))
            plan = LoopPlan(first, bridge, float(_mad(thumbs[-1], thumbs[:1])[0]), typical)
            plan.score = self._measure(clip, plan, ShotStats.of(thumbs), first)
            return plan
        cost = self._costs(thumbs, lo, hi, m)
        picks = _local_minima(cost, SEAMLESS_CANDIDATES, spacing=max(2, m))
        stats = ShotStats.of(thumbs)
        plans = []
        for p in picks:
            best = lo + p
            mismatch = float(_mad(thumbs[-1], thumbs[best:best + 1])[0])
            bridge = longest
            if typical > 0 and mismatch <= SEAMLESS_EXACT_MATCH * typical or mismatch == 0:
                bridge = 0
            elif typical > 0:  # spread the mismatch so that no step is much above a typical one
                bridge = min(longest, max(shortest, math.ceil(mismatch / typical) - 1))
            j = first + best + 1
            bridge = min(bridge, n_all - j - 1)
            plans.append(LoopPlan(j, bridge, mismatch, typical))
            if clip.read is None:
                break                     # nothing to measure with: the index's best is taken
        read = _prefetched(clip, {n_all - 1} | {p.j + p.bridge for p in plans if p.bridge})
        for plan in plans:
            plan.score = self._measure(clip, plan, stats, first, read)
        chosen = min(plans, key=lambda p: p.score.cost if p.score is not None else 0.0)
        chosen.considered = [{"loop_start": p.j, "bridge_frames": p.bridge,
                              **(p.score.as_dict() if p.score is not None else {})} for p in plans]
        return chosen

    def _measure(self, clip: ClipView, plan: LoopPlan, stats: ShotStats, first: int,
                 read=None) -> Score | None:
        """Render the bridge (at the size of ``clip``'s frames) and score the seam a viewer would see."""
        if clip.read is None:
            return None
        read = read or clip.read
        from .clip import thumbnail

        n = clip.count
        t = lambda i: stats.thumbs[i - first]  # noqa: E731  (index picture of clip frame i)
        seq = [t(n - 2) if n - 2 >= first else t(n - 1), t(n - 1)]
        synthetic = [False, False]
        target = plan.j + plan.bridge
        if plan.bridge:
            a, b = read(n - 1), read(target)
            pair = self.interpolator().between(a, b)
            for k in range(1, plan.bridge + 1):
                seq.append(thumbnail(Frame(pair.at(k / (plan.bridge + 1)), a.time, a.layout, a.colour)))
                synthetic.append(True)
        seq += [t(i) for i in range(target, min(n, target + 2))]
        synthetic += [False] * (len(seq) - len(synthetic))
        s = score(stats, seq, synthetic, float((n - plan.j) / clip.rate))
        pose = plan.mismatch / max(stats.median, EXTEND_VISIBLE_LEVEL) if plan.bridge else 0.0
        return LoopScore(**vars(s), pose_steps=pose)

    def find_loop(self, clip: ClipView) -> tuple[int, int, float, float]:
        """(j, bridge, mismatch, typical): the loop restarts at clip frame ``j``."""
        p = self.plan(clip)
        return p.j, p.bridge, p.mismatch, p.typical

    def schedule(self, clip: ClipView, count: int) -> list[Op]:
        n = clip.count
        if n == 1:
            return [Run(0, count, 0)]
        plan = self._planned.get(clip.direction) or self.plan(clip)
        return self.schedule_plan(clip, plan, count)

    def schedule_plan(self, clip: ClipView, plan: LoopPlan, count: int) -> list[Op]:
        n = clip.count
        self.choices[clip.direction] = {
            "loop_start": plan.j, "loop_frames": n - plan.j, "bridge_frames": plan.bridge,
            "mismatch": round(plan.mismatch, 3), "typical_difference": round(plan.typical, 3),
            "shot_frames": clip.shot_frames, "plays": round(count / max(1, n - plan.j), 2),
            **({"score": plan.score.as_dict(), "passed": plan.score.passed} if plan.score is not None else {}),
            "considered": plan.considered}
        if plan.j >= n - 1:
            return [Run(n - 1, count, 0)]
        return plan.ops(n, count)


def _prefetched(clip: ClipView, indices: set[int]):
    """A reader of ``indices`` (generation order) that decodes them in one pass where ``clip`` can
    (a stream with few keyframes makes each random read decode from far back)."""
    if clip.read_run is None or len(indices) < 2:
        return clip.read
    lo, hi = min(indices), max(indices)
    got = {i: f for i, f in zip(range(lo, hi + 1), clip.read_run(lo, hi - lo + 1)) if i in indices}
    return lambda i: got[i] if i in got else clip.read(i)


def _local_minima(cost: np.ndarray, k: int, spacing: int) -> list[int]:
    """Indices of up to ``k`` lowest costs, at least ``spacing`` apart (the best first)."""
    order = np.argsort(cost, kind="stable")
    picks: list[int] = []
    for i in order:
        if all(abs(int(i) - p) >= spacing for p in picks):
            picks.append(int(i))
            if len(picks) == k:
                break
    return picks


def _mad_pairs(thumbs: np.ndarray) -> np.ndarray:
    """Mean absolute difference between consecutive index pictures."""
    return consecutive(thumbs)
