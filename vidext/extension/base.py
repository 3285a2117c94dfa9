"""The extender interface: new frames past one end of a clip.

An extender always works *away from a junction*: the clip is presented in
"generation order", with the frame at the junction last (for a forward
extension that is the clip as it is; for a backward extension the clip is
seen reversed, its first frame last).  So every strategy is written once, for
the forward case, and the job (:mod:`vidext.jobs.extend`) maps it to either
end and puts the new frames in play order.

Two kinds of extender:

- :class:`Repeater` reuses the clip's own frames (loop, ping-pong, freeze,
  seamless).  It returns a *schedule* — runs of clip frame indices and
  interpolated mixes between two clip frames — which the job renders by
  reading the file again, so nothing but a small index is held in memory.
- :class:`Synthesizer` makes new pixels (motion extrapolation, generative
  models) from the frames next to the junction and yields them in
  generation order.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, ClassVar, Iterator, Union

import numpy as np

from .. import config
from ..media.frame import Colour, Frame, PixelLayout

Planes = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Run:
    """``count`` clip frames from index ``start`` moving by ``step`` (+1, -1 or 0 = hold)."""

    start: int
    count: int
    step: int = 1

    def indices(self) -> range | list[int]:
        if self.step == 0:
            return [self.start] * self.count
        return range(self.start, self.start + self.count * self.step, self.step)


@dataclass(frozen=True)
class Mix:
    """One frame interpolated between clip frames ``a`` and ``b`` at fraction ``t``.

    ``shows``: the clip frame whose moment the picture stands for (a bridge
    frame stands for the loop-side frame it turns into), so that the sound
    can follow the picture; ``None`` when it stands for no real moment.
    """

    a: int
    b: int
    t: float
    shows: int | None = None


Op = Union[Run, Mix]


def schedule_length(ops: list[Op]) -> int:
    return sum(op.count if isinstance(op, Run) else 1 for op in ops)


@dataclass
class ClipView:
    """What an extender sees of the clip, in generation order (junction frame last).

    ``context`` holds the frames nearest the junction (junction frame last);
    ``thumbs`` a downscaled luma index of the last ``len(thumbs)`` frames
    (``None`` unless the extender asked for it); ``count`` the clip's frame
    count; ``rate`` its nominal frame rate.  ``shot_start``: the first frame
    (generation order) of the shot the junction belongs to — frames before it
    lie across a scene cut (:mod:`vidext.extension.shots`).  ``read(i)``: clip
    frame ``i`` (generation order) read again from the file, for extenders
    that measure what they would show (``None`` where no file is at hand);
    ``read_run(i, k)``: frames ``i … i+k-1`` (generation order) in one pass.
    """

    count: int
    rate: Fraction
    width: int
    height: int
    layout: PixelLayout
    colour: Colour
    context: list[Frame]
    thumbs: np.ndarray | None = None
    direction: str = "forward"        # which end of the real clip the junction is
    seed: int | None = None
    prompt: str | None = None
    extra: dict = field(default_factory=dict)
    shot_start: int = 0
    read: Callable[[int], Frame] | None = None
    read_run: Callable[[int, int], Iterator[Frame]] | None = None

    @property
    def junction(self) -> Frame:
        return self.context[-1]

    @property
    def shot_frames(self) -> int:
        """Frames of the junction's shot (junction included)."""
        return self.count - self.shot_start

    @property
    def index_offset(self) -> int:
        """Clip index of ``thumbs[0]``."""
        return self.count - (0 if self.thumbs is None else len(self.thumbs))

    def shot_thumbs(self) -> tuple[np.ndarray | None, int]:
        """The index pictures of the junction's shot, and the clip index of the first ((None, 0)
        without an index)."""
        if self.thumbs is None:
            return None, 0
        off = self.index_offset
        first = max(0, self.shot_start - off)
        return self.thumbs[first:], off + first


class Extender(ABC):
    """A strategy for new frames past the junction (see the module docstring)."""

    name: ClassVar[str]
    #: frames next to the junction the extender needs in memory
    context_frames: ClassVar[int] = 1
    #: whether it needs the downscaled luma index of the clip
    needs_index: ClassVar[bool] = False
    #: generative models: slower, seeded, limited to config.GENERATIVE_MAX_SECONDS
    generative: ClassVar[bool] = False
    #: may retime real frames next to the junction (a speed ramp, :meth:`Repeater.replaces`): the
    #: pipeline then plans each side before the original streams, so that it can withhold them
    retimes: ClassVar[bool] = False

    def describe(self) -> dict:
        """Parameters recorded in the output's sidecar."""
        return {"method": self.name}


class Repeater(Extender):
    """Extends with the clip's own frames, described as a schedule."""

    @abstractmethod
    def schedule(self, clip: ClipView, count: int) -> list[Op]:
        """Ops for exactly ``count`` new frames in generation order (indices 0..clip.count-1),
        plus :meth:`replaces` frames ahead of them where the extender retimes real frames."""

    def replaces(self, clip: ClipView, count: int) -> int:
        """Real frames next to the junction (the junction included) whose place the schedule takes:
        0, but for a speed ramp, which plays them slower (their pictures kept, their times changed)
        and schedules ``replaces + count`` frames in all."""
        return 0

    def positions(self, clip: ClipView, count: int) -> list[float] | None:
        """Where :meth:`replaces` is not 0: the clip moment (generation-order frame index, fractional)
        each scheduled frame shows, for the sound to follow; else None."""
        return None

    def gate(self, direction: str):
        """``holds(pair, a, b) -> bool``: whether the :class:`Mix` ops between file frames ``a`` and ``b``
        show the nearer real frame instead of a made picture (``pair``: the interpolator's
        ``between``); None: every mix is made."""
        return None

    def interpolator(self):
        """The interpolator that renders :class:`Mix` ops (classical DIS, no download)."""
        from ..interpolation import INTERPOLATORS
        return INTERPOLATORS.create("dis", quality="balanced")


class Chooser(Extender):
    """Picks, per edge, which extender to run (by measuring candidates on the clip)."""

    needs_index = True
    context_frames = config.MOTION_CONTEXT_FRAMES

    @abstractmethod
    def choose(self, clip: ClipView, count: int) -> Extender:
        """The extender to run for this edge (a :class:`Repeater` or :class:`Synthesizer`)."""


class Synthesizer(Extender):
    """Extends with new pictures made from the frames next to the junction."""

    @abstractmethod
    def synthesize(self, clip: ClipView, count: int) -> Iterator[Planes]:
        """Planes of exactly ``count`` new frames in generation order, at the clip's size and layout."""
