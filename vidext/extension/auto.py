"""``auto``: per edge, measure what each method would show and keep the best.

Candidates for an edge: ``seamless`` (its best loop in the edge's shot, bridge
rendered), ``motion`` (the first ``EXTEND_PROBE_S`` of extrapolated
frames), ``pingpong`` (turning at the shot's first frame, never across a cut)
and ``freeze``; ``svd``/``ltx`` join only where their weights resolve without a
download *and* a GPU is present.  Each is scored by
:mod:`vidext.extension.scoring` (junction step, stall, distance of new
pictures from the shot's real frames, loop length); the lowest cost wins.
A shot shorter than the minimum loop gets ``motion`` or ``freeze``, and says so.

What was chosen and why is recorded: ``describe()["auto"][direction]`` holds
every candidate's figures and the reason; ``describe()["summary"]`` one short
human sentence (the CLI prints it; the app can show it).
"""
from __future__ import annotations

from .. import config
from ..media.frame import Frame
from .base import Chooser, ClipView, Extender, Planes, Synthesizer
from .freeze import Freeze
from .motion import Motion
from .pingpong import PingPong
from .scoring import Score, ShotStats, score
from .seamless import Seamless

EXTEND_PROBE_S = 1.0                 # seconds of synthesised frames measured when auto compares methods


#: method chosen when every candidate's cost ties (the earlier the more conservative)
ORDER = ("seamless", "motion", "pingpong", "freeze", "svd", "ltx")


def generative_available(method: str) -> tuple[bool, str]:
    """Whether ``method`` (svd/ltx) can run here: weights resolve without a download and a GPU is present."""
    from ..errors import VidextError

    from . import EXTENDERS

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


class Auto(Chooser):
    """Chooses per edge, by measuring, among seamless, motion, pingpong, freeze (and svd/ltx where possible)."""

    name = "auto"

    def __init__(self, generative: bool = True):
        self.generative_allowed = generative
        self.decisions: dict[str, dict] = {}
        self.chosen: dict[str, Extender] = {}

    def describe(self) -> dict:
        out: dict = {"method": self.name, "auto": self.decisions,
                     "chosen": {d: e.describe() for d, e in self.chosen.items()}, "summary": self.summary()}
        for e in self.chosen.values():   # the chosen method's own records (loops, motion) at the usual keys
            for key in ("loops", "motion"):
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
        thumbs = clip.thumbs
        off = clip.index_offset
        first = max(0, clip.shot_start - off) if thumbs is not None else 0
        shot = thumbs[first:] if thumbs is not None else None
        rate = float(clip.rate)
        shot_s = clip.shot_frames / rate
        n = clip.count
        if shot is None or len(shot) < 2:
            return self._decide(clip, "freeze", Freeze(), {}, "a single frame: held")
        stats = ShotStats.of(shot)
        pic = lambda i: shot[i - (off + first)]  # noqa: E731  (index picture of clip frame i)
        head = [pic(n - 2), pic(n - 1)]
        candidates: dict[str, tuple[Extender, Score | None]] = {}
        seamless = Seamless()
        short = clip.shot_frames < seamless.min_loop(clip) + 2
        if not short:
            plan = seamless.plan(clip)
            seamless._planned = {clip.direction: plan}
            candidates["seamless"] = (seamless, plan.score)
        motion = Motion()
        probe = max(2, min(count, round(EXTEND_PROBE_S * rate)))
        made = [self._thumb(clip, p) for p in motion.synthesize(clip, probe)]
        candidates["motion"] = (Motion(), score(stats, head + made, [False, False] + [True] * len(made), None))
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
                candidates[g] = (_Replay(inner, planes),
                                 score(stats, head + made, [False, False] + [True] * len(made), None))
        ranked = sorted(candidates, key=lambda m: (candidates[m][1].cost if candidates[m][1] is not None
                                                   else float("inf"), ORDER.index(m) if m in ORDER else len(ORDER)))
        best = ranked[0]
        chosen, s = candidates[best]
        figures = {m: (sc.as_dict() if sc is not None else None) for m, (_, sc) in candidates.items()}
        reason = self._reason(best, s, candidates, short, shot_s, seamless)
        return self._decide(clip, best, chosen, figures, reason, skipped=skipped, shot_s=shot_s)

    def _decide(self, clip: ClipView, name: str, extender: Extender, figures: dict, reason: str, *,
                skipped: dict | None = None, shot_s: float | None = None) -> Extender:
        self.decisions[clip.direction] = {"chosen": name, "reason": reason, "candidates": figures,
                                          "not_considered": skipped or {},
                                          "shot_s": None if shot_s is None else round(shot_s, 3)}
        self.chosen[clip.direction] = extender
        return extender

    @staticmethod
    def _thumb(clip: ClipView, planes: Planes):
        from .clip import thumbnail

        return thumbnail(Frame(planes, clip.junction.time, clip.layout, clip.colour))

    @staticmethod
    def _reason(best: str, s: Score | None, candidates: dict, short: bool, shot_s: float,
                seamless: Seamless) -> str:
        said = []
        if short:
            said.append(f"the shot is {shot_s:.2f} s, shorter than a {config.SEAMLESS_MIN_LOOP_S:g} s loop")
        elif best != "seamless":
            sc = candidates["seamless"][1]
            why = ", ".join(sc.failures()) if sc is not None and sc.failures() else "it scored worse"
            said.append(f"no seamless loop in the shot passes ({why})")
        if s is not None:
            if s.passed:
                said.append(f"{best} passes (cost {s.cost:.2f})")
            else:
                said.append(f"{best} is the least visible (cost {s.cost:.2f}: {', '.join(s.failures())})")
        return "; ".join(said)
