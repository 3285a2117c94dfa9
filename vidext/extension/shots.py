"""Shots: where the clip's scene cuts are, so that an extension stays in the edge's own shot.

The cuts are found with the engine's own detector
(:func:`vidext.interpolation.scenes.cut_score`, threshold
``config.SCENE_THRESHOLD``), one consecutive pair at a time while the clip
streams past, so only the list of cut positions is kept.
"""
from __future__ import annotations

from .. import config
from ..interpolation.scenes import cut_score, signature
from ..media.frame import Frame


class ShotTracker:
    """Observes frames in order and remembers where a new shot starts."""

    def __init__(self, threshold: float = config.SCENE_THRESHOLD):
        self.threshold = threshold
        self.cuts: list[int] = []       # indices of frames that start a new shot
        self.count = 0
        self._prev = None

    def observe(self, frame: Frame) -> None:
        sig = signature(frame)
        if self._prev is not None and cut_score(self._prev, sig) >= self.threshold:
            self.cuts.append(self.count)
        self._prev = sig
        self.count += 1

    def shot_start(self, direction: str) -> int:
        """First frame, in generation order (junction last), of the shot at ``direction``'s end."""
        n = self.count
        if direction == "forward":
            return self.cuts[-1] if self.cuts else 0
        # generation order is the clip reversed: the first shot ends at frame cuts[0] - 1 → index n - cuts[0]
        return n - self.cuts[0] if self.cuts else 0

    def shot_of(self, index: int) -> int:
        """Which shot (0, 1, …) clip frame ``index`` (file order) belongs to."""
        import bisect

        return bisect.bisect_right(self.cuts, index)
