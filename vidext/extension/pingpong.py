"""``pingpong``: the clip plays backwards, then forwards again, and so on."""
from __future__ import annotations

from .base import ClipView, Op, Repeater, Run


class PingPong(Repeater):
    """Back and forth without a repeated frame at either turn.

    After the last frame ``N-1`` comes ``N-2 … 0``, then ``1 … N-1``: each
    turning frame is shown once, so motion reverses without a stall.
    """

    name = "pingpong"

    def schedule(self, clip: ClipView, count: int) -> list[Op]:
        n = clip.count
        if n == 1:
            return [Run(0, count, 0)]
        ops: list[Op] = []
        left, backwards = count, True
        while left > 0:
            k = min(n - 1, left)
            ops.append(Run(n - 2, k, -1) if backwards else Run(1, k, 1))
            left -= k
            backwards = not backwards
        return ops
