"""``pingpong``: the clip plays backwards, then forwards again, and so on."""
from __future__ import annotations

from .base import ClipView, Op, Repeater, Run


class PingPong(Repeater):
    """Back and forth without a repeated frame at either turn.

    After the last frame ``N-1`` comes ``N-2 … 0``, then ``1 … N-1``: each
    turning frame is shown once, so motion reverses without a stall.  With
    ``within_shot`` (as ``auto`` runs it) the far turn is the first frame of
    the junction's shot, so no cut is replayed.
    """

    name = "pingpong"

    def __init__(self, within_shot: bool = False):
        self.within_shot = within_shot

    def describe(self) -> dict:
        return {"method": self.name, "within_shot": self.within_shot}

    def schedule(self, clip: ClipView, count: int) -> list[Op]:
        s = clip.shot_start if self.within_shot else 0
        n = clip.count - s
        if n == 1:
            return [Run(clip.count - 1, count, 0)]
        ops: list[Op] = []
        left, backwards = count, True
        while left > 0:
            k = min(n - 1, left)
            ops.append(Run(s + n - 2, k, -1) if backwards else Run(s + 1, k, 1))
            left -= k
            backwards = not backwards
        return ops
