"""``loop``: the clip starts over (its first frame follows its last)."""
from __future__ import annotations

from .base import ClipView, Op, Repeater, Run


class Loop(Repeater):
    """Plays the clip again from the start, as often as needed (a plain cut at each wrap)."""

    name = "loop"

    def schedule(self, clip: ClipView, count: int) -> list[Op]:
        if clip.count == 1:
            return [Run(0, count, 0)]
        ops: list[Op] = []
        left = count
        while left > 0:
            n = min(clip.count, left)
            ops.append(Run(0, n, 1))
            left -= n
        return ops
