"""``auto``: per edge, measure what each method would show; keep the best that passes, else one that cannot break.

Candidates for an edge: ``seamless`` (its best loop in the edge's shot, bridge
rendered), ``motion`` (the first ``EXTEND_PROBE_S`` of extrapolated
frames), ``pingpong`` (turning at the shot's first frame, never across a cut)
and ``freeze``; ``svd``/``ltx`` join only where their weights resolve without a
download *and* a GPU is present.  Each is scored by
:mod:`vidext.extension.scoring` (junction step, stall, jerk, distance of new
pictures from the shot's real frames, loop length) on a reduced-size proxy
(:data:`PROXY_WIDTH`): only the winner is rendered at full size.

The lowest cost *among the candidates that pass* wins.  When none passes, the
job never writes the least-bad failure: it falls back to ``ramp`` (the edge
of the shot slows into the extra time; every new picture lies between two
neighbouring real frames, :mod:`vidext.extension.ramp`) where the shot is
long enough and the ramp's own score passes, else to ``freeze`` with an eased
stop — and says so in plain words.

What was chosen and why is recorded: ``describe()["auto"][direction]`` holds
every candidate's figures and the reason; ``describe()["summary"]`` one short
human sentence (the CLI prints it; the app can show it).
"""
from __future__ import annotations

import dataclasses

import cv2

from .. import config
from ..media.frame import Frame
from .base import Chooser, ClipView, Extender, Planes, Synthesizer
from .freeze import Freeze
from .motion import Motion
from .pingpong import PingPong
from .ramp import EasedFreeze, Ramp, RampTooShort, engine as ramp_engine
from .scoring import Score, ShotStats, probe_frames, score, score_continuation
from .seamless import Seamless

#: px: candidates are rendered and measured on frames at most this wide (the index pictures they are
#: scored on are 64 px wide); only the winner is rendered at full size
PROXY_WIDTH = 320



#: method chosen when every candidate's cost ties (the earlier the more conservative)
ORDER = ("seamless", "motion", "pingpong", "freeze", "svd", "ltx")


def generative_available(method: str) -> tuple[bool, str]:
    """Whether ``method`` (svd/ltx) can run here: weights resolve without a download and a GPU is present.
    A machine with no NVIDIA driver is known first, without importing the Hub's client or torch."""
    from ..errors import VidextError
    from ..models.device import no_cuda_driver

    from . import EXTENDERS

    if no_cuda_driver():
        return False, "no GPU (no NVIDIA driver)"
    model = EXTENDERS.entry(method).model or method
    try:
        from ..models import locate

        locate(model, download=False)
    except (VidextError, ImportError) as exc:
        return False, f"weights of {model} not at hand without a download"
    try:
        from ..models.device import cuda_available

        if not cuda_available():
            return False, "no GPU"
    except ImportError:
        return False, "torch is not installed"
    return True, ""


class _Replay(Synthesizer):
    """Plays frames a generative candidate already made while it was measured."""

    def __init__(self, inner: Synthesizer, planes: list[Planes]):
        self.inner, self.planes = inner, planes
        self.name = inner.name
        self.generative = True

    def describe(self) -> dict:
        return self.inner.describe()

    def synthesize(self, clip: ClipView, count: int):
        yield from self.planes[:count]


def _shrink(frame: Frame, width: int, height: int) -> Frame:
    shapes = frame.layout.plane_shapes(width, height)
    return frame.with_planes(tuple(cv2.resize(p, (w, h), interpolation=cv2.INTER_AREA)
                                   for p, (h, w) in zip(frame.planes, shapes)))


#: MB of proxy frames kept while candidates are measured, so that a frame two candidates read (the
#: loop search's frames near the edge, the ramp's probe) is decoded once: a file with few keyframes
#: decodes every read from far back (bigbuckbunny, one keyframe: each read decoded all 132 720p frames)
PROXY_CACHE_MB = 64


class _ProxyFrames:
    """The clip's frames at proxy size, read from ``read``/``read_run`` (full size) and shrunk; the
    frames read are kept (at most :data:`PROXY_CACHE_MB`, the oldest dropped) and served again."""

    def __init__(self, read, run, width: int, height: int):
        self._read, self._run, self.width, self.height = read, run, width, height
        self._kept: dict[int, Frame] = {}
        self._bytes = 0

    def _keep(self, i: int, frame: Frame) -> Frame:
        if i not in self._kept:
            self._kept[i] = frame
            self._bytes += sum(p.nbytes for p in frame.planes)
            while self._bytes > PROXY_CACHE_MB * 1e6 and len(self._kept) > 1:
                old = next(iter(self._kept))
                self._bytes -= sum(p.nbytes for p in self._kept.pop(old).planes)
        return self._kept[i]

    def read(self, i: int) -> Frame:
        if i in self._kept:
            return self._kept[i]
        return self._keep(i, _shrink(self._read(i), self.width, self.height))

    def read_run(self, i: int, k: int):
        j = i
        while j < i + k and j in self._kept:     # the kept head of the run
            yield self._kept[j]
            j += 1
        if j < i + k:
            for m, f in enumerate(self._run(j, i + k - j), start=j):
                yield self._keep(m, _shrink(f, self.width, self.height))


def proxy_view(clip: ClipView, width: int = PROXY_WIDTH) -> ClipView:
    """The clip as candidates are measured on it: frames at most ``width`` px wide (even sizes), each
    decoded once while candidates are measured (:class:`_ProxyFrames`)."""
    if clip.width <= width:
        return clip
    w = width - width % 2
    h = max(2, round(clip.height * w / clip.width / 2) * 2)
    read, run = clip.read, clip.read_run
    frames = _ProxyFrames(read, run, w, h) if read is not None and run is not None else None
    return dataclasses.replace(
        clip, width=w, height=h, context=[_shrink(f, w, h) for f in clip.context],
        read=None if read is None else (frames.read if frames is not None else (lambda i: _shrink(read(i), w, h))),
        read_run=None if run is None else (frames.read_run if frames is not None
                                           else (lambda i, k: (_shrink(f, w, h) for f in run(i, k)))))


class _Measured(dict):
    """Candidates by name; each one's score goes to ``report(method, worst, passed)`` (the job's live
    quality view) as it is measured."""

    def __init__(self, report=None):
        super().__init__()
        self.report = report

    def __setitem__(self, name: str, value) -> None:
        super().__setitem__(name, value)
        sc = value[1]
        if self.report is not None and sc is not None:
            self.report(name, float(sc.worst), bool(sc.passed))


class Auto(Chooser):
    """Chooses per edge, by measuring, among seamless, motion, pingpong, freeze (and svd/ltx where
    possible); falls back to ramp, then to freeze with an eased stop, when none passes."""

    name = "auto"
    retimes = True              # it may choose ramp

    def __init__(self, generative: bool = True):
        self.generative_allowed = generative
        self.decisions: dict[str, dict] = {}
        self.chosen: dict[str, Extender] = {}

    def describe(self) -> dict:
        out: dict = {"method": self.name, "auto": self.decisions,
                     "chosen": {d: e.describe() for d, e in self.chosen.items()}, "summary": self.summary()}
        for e in self.chosen.values():   # the chosen method's own records (loops, motion, ramps) at the usual keys
            for key in ("loops", "motion", "ramps"):
                if key in e.describe():
                    out.setdefault(key, {}).update(e.describe()[key])
        return out

    def summary(self) -> str:
        parts = []
        for d in ("backward", "forward"):
            if d in self.decisions:
                parts.append(f"{d}: {self.decisions[d]['chosen']} — {self.decisions[d]['reason']}")
        return "; ".join(parts)

    # -- measuring ---------------------------------------------------------------
    def choose(self, clip: ClipView, count: int) -> Extender:
        shot, shot_index = clip.shot_thumbs()
        rate = float(clip.rate)
        shot_s = clip.shot_frames / rate
        n = clip.count
        if shot is None or len(shot) < 2:
            return self._decide(clip, "freeze", Freeze(), {}, "a single frame: held")
        stats = ShotStats.of(shot)
        proxy = proxy_view(clip)
        pic = lambda i: shot[i - shot_index]  # noqa: E731  (index picture of clip frame i)
        head = [pic(n - 2), pic(n - 1)]
        candidates: dict[str, tuple[Extender, Score | None]] = _Measured(clip.extra.get("candidate"))
        seamless = Seamless(interpolator=ramp_engine())     # RIFE only where a GPU runs it: the cost stays near freeze's
        short = clip.shot_frames < seamless.min_loop(clip) + 2
        if not short:
            plan = seamless.plan(proxy)
            seamless._planned = {clip.direction: plan}
            candidates["seamless"] = (seamless, plan.score)
        motion = Motion()
        probe = probe_frames(count, rate)
        made = [self._thumb(proxy, p) for p in motion.synthesize(proxy, probe)]
        candidates["motion"] = (Motion(), score_continuation(stats, head, made))
        if not short and clip.shot_frames >= 3:
            seq = head + [pic(n - 2 - k) for k in range(min(3, clip.shot_frames - 2))]
            candidates["pingpong"] = (PingPong(within_shot=True),
                                      score(stats, seq, [False] * len(seq), 2 * (clip.shot_frames - 1) / rate))
        candidates["freeze"] = (Freeze(), score(stats, head + [pic(n - 1)] * 2, [False] * 4, 1 / rate))
        skipped = {}
        if self.generative_allowed:
            from . import EXTENDERS

            for g in EXTENDERS.generative():
                ok, why = generative_available(g)
                if not ok:
                    skipped[g] = why
                    continue
                if count > config.GENERATIVE_MAX_SECONDS * rate:
                    skipped[g] = f"longer than {config.GENERATIVE_MAX_SECONDS:g} s"
                    continue
                inner = EXTENDERS.create(g)
                planes = list(inner.synthesize(clip, count))
                made = [self._thumb(clip, p) for p in planes[:probe]]
                candidates[g] = (_Replay(inner, planes), score_continuation(stats, head, made))
        figures = {m: (sc.as_dict() if sc is not None else None) for m, (_, sc) in candidates.items()}
        said = self._situation(candidates, short, shot_s)
        passing = [m for m, (_, sc) in candidates.items() if sc is not None and sc.passed]
        if passing:
            best = min(passing, key=lambda m: (candidates[m][1].cost, ORDER.index(m) if m in ORDER else len(ORDER)))
            chosen, s = candidates[best]
            loop = candidates.get("seamless", (None, None))[1]
            if best != "seamless" and loop is not None:
                said.append(f"no seamless loop in the shot passes ({', '.join(loop.failures()) or 'it scored worse'})")
            passes = f"{best} passes (cost {s.cost:.2f})"
            if best == "seamless" and s.loop_s and count / rate > s.loop_s:   # a loop seen more than once
                passes += f"; its {s.loop_s:.2f} s loop plays {count / rate / s.loop_s:.1f} times"
            reason = "; ".join(said + [passes])
            return self._decide(clip, best, chosen, figures, reason, skipped=skipped, shot_s=shot_s)
        # nothing passes: never the least-bad failure, but the method that cannot break
        ramp = Ramp()
        try:
            rs = ramp.measure(proxy, count, stats, probe)
        except RampTooShort as exc:
            rs, too_short = None, str(exc).split(";")[0]
        else:
            too_short = None
        if rs is not None:
            figures["ramp"] = rs.as_dict()
            _Measured(clip.extra.get("candidate"))["ramp"] = (ramp, rs)
        nothing = "no candidate passes (" + "; ".join(
            (f"no seamless loop in the shot passes: {', '.join(sc.failures())}" if m == "seamless"
             else f"{m}: {', '.join(sc.failures())}")
            for m, (_, sc) in candidates.items() if sc is not None) + ")"
        if rs is not None and rs.passed:
            reason = "; ".join(said + [nothing, "so the edge is slowed instead (ramp, it cannot break: "
                                       + ramp.said(clip.direction) + ")"])
            return self._decide(clip, "ramp", ramp, figures, reason, skipped=skipped, shot_s=shot_s, fallback=True)
        why_not = (too_short if too_short is not None else
                   f"its own score fails: {', '.join(rs.failures())}" if rs is not None else "nothing to measure it on")
        stop = EasedFreeze()
        stop.plan(clip, count)
        reason = "; ".join(said + [nothing, f"a speed ramp cannot be used ({why_not})",
                                   "so the edge frame is held after an eased stop (freeze: "
                                   + stop.said(clip.direction) + ")"])
        return self._decide(clip, "freeze", stop, figures, reason, skipped=skipped, shot_s=shot_s, fallback=True)

    def _decide(self, clip: ClipView, name: str, extender: Extender, figures: dict, reason: str, *,
                skipped: dict | None = None, shot_s: float | None = None, fallback: bool = False) -> Extender:
        """Record the choice; ``fallback``: no candidate passed, so a method that cannot break was taken."""
        self.decisions[clip.direction] = {"chosen": name, "reason": reason, "candidates": figures,
                                          "not_considered": skipped or {}, "fallback": fallback,
                                          "shot_s": None if shot_s is None else round(shot_s, 3)}
        self.chosen[clip.direction] = extender
        return extender

    @staticmethod
    def _thumb(clip: ClipView, planes: Planes):
        from .clip import thumbnail

        return thumbnail(Frame(planes, clip.junction.time, clip.layout, clip.colour))

    @staticmethod
    def _situation(candidates: dict, short: bool, shot_s: float) -> list[str]:
        """What limits the choice before any figure (a short shot)."""
        if short:
            return [f"the shot is {shot_s:.2f} s, shorter than a {config.SEAMLESS_MIN_LOOP_S:g} s loop"]
        return []
