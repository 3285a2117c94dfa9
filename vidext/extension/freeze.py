"""``freeze``: the junction frame is held."""
from __future__ import annotations

from .base import ClipView, Op, Repeater, Run


class Freeze(Repeater):
    """Holds the last frame (the first one, backwards) for the whole extension."""

    name = "freeze"

    def schedule(self, clip: ClipView, count: int) -> list[Op]:
        return [Run(clip.count - 1, count, 0)]
