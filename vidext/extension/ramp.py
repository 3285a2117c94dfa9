"""``ramp``: the edge of the shot slows into the extra time, the way an editor time-remaps a shot.

The last stretch of the shot plays slower and slower up to the junction: speed 1 where the ramp
begins, easing down (a raised-cosine ease of the playback speed) to an end speed at the edge.
Every new picture is made by the interpolation engine (RIFE where its weights resolve without a
download and a GPU runs it, else DIS: :func:`engine`) between two
*neighbouring* real frames of the shot, so it cannot melt, spin, show another shot or reveal a
border the camera never saw.  Where the engine says it cannot follow a pair's motion (its midpoint
would show a see-through double, :data:`RAMP_DOUBLE_SHARE`), that pair's frames show the nearer real
frame instead (:meth:`Ramp.gate`; the sidecar names the pairs).

**What is retimed.**  A ramp does not put frames after the junction only: it *replaces* the last
``K`` real frames of the shot (generation order, the junction included) by ``K + N`` frames
that play the same stretch of time slower, ``N`` being the frames asked for.  The frame before
them (the *anchor*) and everything before it are untouched, at their own times; the replaced
frames' *pictures* survive — the ramp's last frame is the junction frame itself, and any frame
whose moment falls on a real frame shows it — but their *times* change.  The output is as long
as with any other method (``N`` more frames per side), so :func:`vidext.jobs.extend.plan_extend`'s
counts hold; the pipeline withholds the ``K`` replaced originals (:meth:`Repeater.replaces`),
plans such a side before the original streams (:attr:`Extender.retimes`), and tells the sound
the side's time map (:meth:`ShownFrames.retime`), so the sound of the retimed stretch is
time-stretched with its pitch kept, as slow motion's is.

**The profile.**  Output frame ``u`` (``u = 0`` the anchor, ``u = K + N`` the junction) shows
the moment ``s(u)`` frames after the anchor.  The speed ``s'(u)`` eases from 1 to the end speed
``v`` over ``E`` frames, ``s'(u) = v + (1 - v) (1 + cos(pi u / E)) / 2``, then stays at ``v``; with
``s(K + N) = K``.  The speed eases over :data:`RAMP_EASE_S` down to the engine's measured limit
:data:`RAMP_MIN_SPEED` and stays there, which retimes the fewest real frames an ease of that length
allows, ``K = E / 2 + v N / (1 - v)``; a short extension is one ease ending at the limit,
``K = N (1 + v) / (1 - v)`` (never shorter than :data:`RAMP_MIN_EASE_S`).  When the shot is shorter
than that, the whole shot is retimed with the longest ease its end speed allows; when even that
cannot give ``N`` frames, the ramp says so (:class:`RampTooShort`) and ``auto`` falls back.

**Eased stop** (:class:`EasedFreeze`, ``auto``'s last resort): the motion of the last
:data:`RAMP_STOP_S` eases to rest (the same ease, down to speed 0) and the junction frame is held
for the rest of the extension: a freeze without a hard stop.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np

from ..errors import ParameterError
from ..interpolation.base import Interpolator
from .base import ClipView, Mix, Op, Repeater, Run
from .scoring import EXTEND_INSIDE_LIMIT, Score, ShotStats, score

#: slowest playback speed a ramp may reach, per interpolation engine.  A ramp at speed 1/F shows F - 1
#: made pictures between neighbouring real frames; the held-out test at factor F rebuilds F - 1 such
#: pictures (over F frames of motion: on the safe side) and compares them with the real ones.  The
#: limit is 1/F for the largest F whose rebuilt pictures stay within EXTEND_INSIDE_LIMIT (2) of the
#: shot's median frame-to-frame steps (90th percentile) on every shot of 40+ frames of bikes,
#: bigbuckbunny and carphone.  ``python bench/ramp_limits.py --methods balanced,quality,fast`` and
#: ``... --methods rife --factors 2,3,4,6 --rife-weights flownet.pkl``: DIS F=2 1.99 (worst shot,
#: bikes' people walking), F=3 2.35 -> 1/2; RIFE 4.25 F=4 1.99, F=6 2.46 -> 1/4.
RAMP_MIN_SPEED = {"dis": 1 / 2, "rife": 1 / 4}
#: shortest ease (s) from speed 1 to the end speed.  A cosine ease over E frames changes the picture's
#: motion by at most pi (1 - v) / (2 E) of a frame's motion per frame; the scoring sees a change of
#: apparent motion above the shot's own 95th-percentile change (at least EXTEND_JERK_FLOOR_PX).  The same
#: command, same shots: the fastest 95th-percentile motion (bikes, 1.06 index px a frame) against its own
#: changes (0.52 px) needs 0.10 s at v = 1/4.
RAMP_MIN_EASE_S = 0.10
#: the ease (s) a ramp takes where the shot allows: an editor's speed ramp, chosen (not measured) ten
#: times the measured minimum so that the slow-down reads as a deliberate ease; the speed then stays
#: at the limit, so that the ramp retimes no more of the shot than the seconds asked need
RAMP_EASE_S = 1.0
#: the eased stop of the last-resort freeze: the motion of the last frames eases to rest over this
RAMP_STOP_S = 0.5
#: DIS preset of the in-between pictures: fast (bench/ramp_limits.py: the three presets' held-out
#: figures agree within 0.1 step on every shot; at 720p fast costs 29 ms CPU a picture, balanced 47,
#: quality 153, and a ramp makes a hundred or more)
RAMP_QUALITY = "fast"
#: a pair of real frames whose midpoint the engine says would show more of the picture than this as a
#: see-through double (:meth:`~vidext.interpolation.base.Between.doubled`: the flow cannot follow the
#: motion there) gets no made picture: the ramp holds the nearer real frame instead.  Measured with DIS
#: fast on every pair of bikes, bigbuckbunny and carphone, midpoints looked at: the pair of bikes' first
#: shot where the white car leaves the frame (frames 1-2, the eased stop's fourth-last made picture
#: backward) shows a see-through car and pole at 0.0013; the other pairs of that edge (0-1, 2-7) and of
#: bikes' last shot, which look clean, are at most 0.0004.  The limit lies between (their geometric
#: mean, 0.0007, rounded up).  It also holds pairs whose midpoints looked acceptable: 19 of 131 pairs of
#: bigbuckbunny (the bunny's arm, up to 0.0039), 12 of 119 of carphone (the view out of the window, up to
#: 0.0054); bikes' car and walking shots (154 of 249 pairs) do show doubles.  A held pair repeats a real
#: frame in a slowed stretch: a small stutter, never a double.
RAMP_DOUBLE_SHARE = 0.0008
#: positions this close to a whole frame show that real frame
_ON_FRAME = 1e-6


def doubles(pair) -> bool:
    """Whether the engine says the pair's midpoint would show a see-through double (:data:`RAMP_DOUBLE_SHARE`).

    An engine that cannot say (RIFE on a GPU) is judged by DIS ``fast`` on the same two frames, the
    measure the limit was set with (a few milliseconds a pair beside a network's pass): where the flow
    cannot follow, the network's picture is not trusted either."""
    share = pair.doubled()
    if share is None and getattr(pair, "a", None) is not None and getattr(pair, "b", None) is not None:
        share = _judge().between(pair.a, pair.b).doubled()
    return share is not None and share > RAMP_DOUBLE_SHARE


@lru_cache(maxsize=1)
def _judge():
    """The DIS interpolator that judges the pairs of an engine that cannot judge its own."""
    from ..interpolation.flow import DISInterpolator

    return DISInterpolator(RAMP_QUALITY)


class RampTooShort(ParameterError):
    """The shot cannot give the frames asked without slowing below :data:`RAMP_MIN_SPEED`."""


@dataclass(frozen=True)
class RampPlan:
    """``replaced`` real frames (junction included) become ``replaced + new`` frames.

    ``ease``: output frames over which the speed eases from 1 to ``end_speed``; the speed then
    stays at ``end_speed`` up to the junction; ``held`` frames after that show the junction
    (the eased stop only).
    """

    new: int
    replaced: int
    ease: float
    end_speed: float
    held: int = 0

    @property
    def length(self) -> int:
        return self.replaced + self.new

    def position(self, u: float) -> float:
        """Moment shown by output frame ``u`` (0 = the anchor), in frames after the anchor."""
        e, v = self.ease, self.end_speed
        if u >= self.length - self.held:
            return float(self.replaced)
        if u <= e:
            return v * u + (1 - v) * (u / 2 + e / (2 * math.pi) * math.sin(math.pi * u / e))
        return e * (1 + v) / 2 + v * (u - e)

    def positions(self) -> list[float]:
        """Moment of each of the ``length`` frames after the anchor (the last is ``replaced``)."""
        out = []
        for u in range(1, self.length + 1):
            p = min(self.position(u), float(self.replaced))
            r = round(p)
            out.append(float(r) if abs(p - r) < _ON_FRAME else p)
        out[-1] = float(self.replaced)
        return out

    def speed(self, u: float) -> float:
        if u >= self.length - self.held:
            return 0.0
        if u <= self.ease:
            return self.end_speed + (1 - self.end_speed) * (1 + math.cos(math.pi * u / self.ease)) / 2
        return self.end_speed

    def ops(self, anchor: int) -> list[Op]:
        """Generation-order ops for the ``length`` frames after clip frame ``anchor``."""
        ops: list[Op] = []
        for p in self.positions():
            x = anchor + p
            i = math.floor(x)
            t = x - i
            if t == 0.0:
                last = ops[-1] if ops else None
                if isinstance(last, Run) and last.step == 0 and last.start == i:
                    ops[-1] = Run(i, last.count + 1, 0)
                elif isinstance(last, Run) and last.step == 1 and last.start + last.count == i:
                    ops[-1] = Run(last.start, last.count + 1, 1)
                elif isinstance(last, Run) and last.count == 1 and last.start == i:
                    ops[-1] = Run(i, 2, 0)
                else:
                    ops.append(Run(i, 1, 1))
            else:
                ops.append(Mix(i, i + 1, t))
        return ops

    def as_dict(self, rate: Fraction) -> dict:
        r = float(rate)
        return {"retimed_frames": self.replaced, "new_frames": self.new,
                "retimed_s": round(self.replaced / r, 3), "plays_s": round(self.length / r, 3),
                "ease_s": round(self.ease / r, 3), "end_speed": round(self.end_speed, 3),
                "held_frames": self.held}


def engine() -> str:
    """The interpolation engine of the in-between pictures: RIFE where its weights resolve without a
    download and a GPU runs it (on a CPU it takes about a second a 720p picture, and a ramp makes
    hundreds), else DIS."""
    from ..models.device import cuda_available, no_cuda_driver
    from .seamless import rife_available

    if no_cuda_driver() or not rife_available():      # the driver first: known without an import
        return "dis"
    try:
        return "rife" if cuda_available() else "dis"
    except ImportError:
        return "dis"


def plan_ramp(new: int, available: int, rate: Fraction, *, min_speed: float | None = None,
              min_ease_s: float = RAMP_MIN_EASE_S, ease_s: float = RAMP_EASE_S) -> RampPlan:
    """The ramp that gives ``new`` frames from at most ``available`` real frames before the junction's
    successor (the shot's frames but one: the anchor stays).  ``min_speed``: the engine's limit
    (default: :func:`engine`'s).  Raises :class:`RampTooShort`.

    Where the shot allows, the speed eases over ``ease_s`` down to the limit and stays there (a short
    extension is one ease, ending at the limit); the fewest real frames that gives are retimed.  A
    shorter shot is retimed whole, with the longest ease its end speed allows (at least ``min_ease_s``)."""
    v = float(RAMP_MIN_SPEED[engine()] if min_speed is None else min_speed)
    e_min = max(1.0, min_ease_s * float(rate))
    e_nat = max(e_min, ease_s * float(rate))
    whole_ease = math.ceil(new * (1 + v) / (1 - v) - 1e-9)        # one ease, ending at the limit
    if whole_ease + new <= e_nat:
        want = max(whole_ease, math.ceil(e_min) - new, 1)
    else:                                                          # an ease of e_nat, then the limit
        want = math.ceil(e_nat / 2 + v * new / (1 - v) - 1e-9)
    k = min(want, available)
    length = k + new
    ease = min(float(length), e_nat, 2 * (k - v * length) / (1 - v)) if k > 0 else 0.0
    if k < 1 or ease < min(e_min, length) - 1e-9:
        most = max(0.0, (available - e_min / 2) * (1 / v - 1))
        raise RampTooShort(
            f"a speed ramp cannot add {new / float(rate):.2f} s to a shot of {(available + 1) / float(rate):.2f} s "
            f"without slowing below {v:.2g}x (the most it can add there is {most / float(rate):.2f} s); "
            f"use --method auto or freeze")
    end = (k - ease / 2) / (length - ease / 2)
    return RampPlan(new, k, ease, end)


def plan_stop(new: int, available: int, rate: Fraction, stop_s: float = RAMP_STOP_S) -> RampPlan:
    """An eased stop: the last frames' motion eases to rest, then the junction is held."""
    k = max(0, min(available, round(stop_s * float(rate) / 2), new))
    return RampPlan(new, k, 2.0 * k, 0.0, held=new - k)


class RampScore(Score):
    """A ramp's figures: its slow-down is deliberate and eased, so ``stall`` (its end speed) is
    recorded but not failed; the ease is judged by ``jerk`` like any change of motion."""

    @property
    def worst(self) -> float:
        return max(self.junction, self.jerk, self.inside_worst / EXTEND_INSIDE_LIMIT)


class Ramp(Repeater):
    """Slows the last part of the shot into the extra time (see the module docstring)."""

    name = "ramp"
    needs_index = True          # the shot's first frame: a ramp never retimes across a cut
    retimes = True
    stop = False

    def __init__(self, quality: str = RAMP_QUALITY, interpolator: str | None = None):
        self.quality = quality
        self.interpolator_name = interpolator or engine()
        self._interpolator: Interpolator | None = None
        self.plans: dict[str, RampPlan] = {}
        self.rate: Fraction | None = None
        self.held: dict[str, list[list[int]]] = {}      # per side: pairs (file indices) held, not made

    def describe(self) -> dict:
        used = self._interpolator.name if self._interpolator is not None else self.interpolator_name
        ramps = {d: p.as_dict(self.rate) for d, p in self.plans.items()}
        for d, pairs in self.held.items():          # recorded as pairs are made, several at once
            ramps[d]["held_pairs"] = sorted(pairs)
        out = {"method": self.name, "interpolator": used, "quality": self.quality,
               "ramps": ramps, "summary": self.summary()}
        if self.stop:
            out["eased_stop"] = True
        return out

    def summary(self) -> str:
        return "; ".join(f"{d}: {self.said(d)}" for d in self.plans)

    def said(self, direction: str) -> str:
        """The retimed frames, in words."""
        p, r = self.plans[direction], float(self.rate)
        which = "last" if direction == "forward" else "first"
        if self.stop:
            if not p.replaced:
                return "the edge frame is held"
            return (f"the {which} {p.replaced} frames ({p.replaced / r:.2f} s) ease to a stop over "
                    f"{p.ease / r:.2f} s, then the edge frame is held {p.held / r:.2f} s")
        return (f"the {which} {p.replaced} frames ({p.replaced / r:.2f} s) are slowed to play "
                f"{p.length / r:.2f} s, easing to {p.end_speed:.2f}x speed at the edge; their pictures are kept "
                f"and every new picture lies between two neighbouring real frames")

    def interpolator(self) -> Interpolator:
        if self._interpolator is None:
            from .seamless import bridge_interpolator

            self._interpolator = bridge_interpolator(self.interpolator_name, self.quality)
        return self._interpolator

    def gate(self, direction: str):
        """Where the engine cannot follow a pair's motion (:data:`RAMP_DOUBLE_SHARE`), its pictures are
        the nearer real frame: returns ``holds(pair, a, b) -> bool``, which records the held pairs."""
        held = self.held.setdefault(direction, [])

        def holds(pair, a: int, b: int) -> bool:
            if not doubles(pair):
                return False
            held.append(sorted((a, b)))
            return True
        return holds

    # -- planning -----------------------------------------------------------------
    def plan(self, clip: ClipView, count: int) -> RampPlan:
        """This edge's ramp (raises :class:`RampTooShort` where the shot cannot give it)."""
        if clip.direction not in self.plans or self.plans[clip.direction].new != count:
            self.rate = clip.rate
            available = min(clip.shot_frames - 1, clip.extra.get("retime_limit", clip.shot_frames))
            plan = (plan_stop(count, available, clip.rate) if self.stop
                    else plan_ramp(count, available, clip.rate, min_speed=self.min_speed))
            self.plans[clip.direction] = plan
        return self.plans[clip.direction]

    @property
    def min_speed(self) -> float:
        return RAMP_MIN_SPEED.get(self.interpolator_name, max(RAMP_MIN_SPEED.values()))

    def replaces(self, clip: ClipView, count: int) -> int:
        return self.plan(clip, count).replaced

    def schedule(self, clip: ClipView, count: int) -> list[Op]:
        plan = self.plan(clip, count)
        anchor = clip.count - 1 - plan.replaced
        return plan.ops(anchor)

    def positions(self, clip: ClipView, count: int) -> list[float]:
        """Generation-order clip position shown by each scheduled frame (fractional frame index)."""
        plan = self.plan(clip, count)
        anchor = clip.count - 1 - plan.replaced
        return [anchor + p for p in plan.positions()]

    # -- measuring (auto) ----------------------------------------------------------
    def measure(self, clip: ClipView, count: int, stats: ShotStats, probe: int) -> RampScore | None:
        """Render the ramp's last ``probe`` frames, where it is slowest (from ``clip.read_run``, which
        ``auto`` hands reduced-size frames), and score them as a viewer sees them; None without a reader."""
        from ..media.frame import Frame
        from .clip import thumbnail

        plan = self.plan(clip, count)
        if plan.replaced < 1 or (clip.read_run is None and clip.read is None):
            return None
        n = clip.count
        anchor = n - 1 - plan.replaced
        pos = [float(anchor)] + [anchor + p for p in plan.positions()]
        window = pos[max(0, len(pos) - probe - 2):]
        first = math.floor(window[0])
        frames = (list(clip.read_run(first, n - first)) if clip.read_run is not None
                  else [clip.read(i) for i in range(first, n)])
        pairs: dict[int, object] = {}

        def picture(x: float) -> np.ndarray:
            i = math.floor(x)
            a = frames[i - first]
            if x == i:
                return thumbnail(a)
            if i not in pairs:
                pairs.clear()
                pair = self.interpolator().between(a, frames[i + 1 - first])
                pairs[i] = None if doubles(pair) else pair     # held, as the render holds it
            if pairs[i] is None:
                return thumbnail(a if x - i < 0.5 else frames[i + 1 - first])
            return thumbnail(Frame(pairs[i].at(x - i), a.time, a.layout, a.colour))

        seq = [picture(x) for x in window]
        s = score(stats, seq, [x != math.floor(x) for x in window], None)
        return RampScore(s.junction, s.stall, s.jerk, s.inside_worst, s.inside_p90, None, s.new_pictures)


class EasedFreeze(Ramp):
    """``freeze`` with an eased stop: the last motion eases to rest, then the edge frame is held
    (``auto``'s last resort: it shows no picture the shot did not come close to)."""

    name = "freeze"
    stop = True
