"""The interpolator interface: two frames in, any in-between time out.

``between(a, b)`` does the per-pair work once (optical flow, a network's
features); the returned :class:`Between` renders any timestep ``t`` in (0, 1)
from it, so N× output costs one flow estimate per pair.  Timestep scheduling,
scene-cut and duplicate gating live outside the backends
(:mod:`vidext.interpolation.pipeline`).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from ..media.frame import Frame

Planes = tuple[np.ndarray, ...]


class Between(ABC):
    """Renders frames between one pair."""

    @abstractmethod
    def at(self, t: float) -> Planes:
        """Planes of the picture at fraction ``t`` (0 = first frame, 1 = second)."""

    def at_many(self, ts: list[float]) -> list[Planes]:
        """The pictures at several fractions; backends that batch them (one pass for many) override this."""
        return [self.at(t) for t in ts]

    def occlusion(self) -> float | None:
        """Share (0–1) of the picture whose motion the backend could not follow between the pair
        (occluded, or the motion each way disagrees), from what it already computed; None when it
        does not estimate motion (the live quality view plots it per in-between)."""
        return None

    def doubled(self) -> float | None:
        """Share (0–1) of the picture the midpoint would show as a see-through double (the two
        neighbours' warps blended where they disagree), from what the backend already computed;
        None when it cannot say."""
        return None


class Interpolator(ABC):
    """A backend that synthesises in-between frames."""

    name: ClassVar[str]
    #: False for models that only produce the midpoint; the scheduler bisects for them.
    arbitrary_t: ClassVar[bool] = True

    @abstractmethod
    def between(self, a: Frame, b: Frame) -> Between:
        """Prepare rendering between ``a`` and ``b`` (same size and layout)."""

    @property
    def compute_threads(self) -> int | None:
        """Threads this backend computes with, when it manages them (the codecs get the rest):
        every concurrent pair's threads together."""
        return None

    @property
    def concurrency(self) -> int:
        """Input pairs the pipeline may render at once, on as many threads (1: one after the other).

        A backend that says more than 1 makes ``between(...).at_many(...)`` safe to call
        from several threads at once, on different pairs."""
        return 1

    def setup(self, width: int, height: int) -> None:
        """Get ready for frames of this size (e.g. choose how to run by measuring); before :meth:`describe`."""

    def describe(self) -> dict:
        """Parameters recorded in the output's sidecar."""
        return {"model": self.name}


class Blend(Interpolator):
    """Cross-fade of the two neighbours: the baseline every method must beat."""

    name = "blend"

    def between(self, a: Frame, b: Frame) -> Between:
        return _BlendPair(a, b)


class _BlendPair(Between):
    def __init__(self, a: Frame, b: Frame):
        self.a, self.b = a, b

    def at(self, t: float) -> Planes:
        out = []
        for pa, pb in zip(self.a.planes, self.b.planes):
            mix = (1.0 - t) * pa.astype(np.float32) + t * pb.astype(np.float32)
            out.append(np.clip(np.rint(mix), 0, self.a.layout.peak).astype(pa.dtype))
        return tuple(out)
