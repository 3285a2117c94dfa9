"""FFmpeg audio filters on float blocks (PyAV's filter graphs), for the stretchers that use them."""
from __future__ import annotations

from fractions import Fraction

import numpy as np


class Atempo:
    """FFmpeg's ``atempo`` (chained when ``speed`` is below its 0.5 floor) over (channels, n) float32 blocks."""

    def __init__(self, rate: int, channels: int, speed: float):
        import av

        tempos = []
        while speed < 0.5:
            tempos.append(0.5)
            speed /= 0.5
        tempos.append(speed)
        self.rate = rate
        self.layout = {1: "mono", 2: "stereo"}.get(channels, "stereo")
        g = av.filter.Graph()
        node = self._src = g.add_abuffer(format="fltp", sample_rate=rate, layout=self.layout,
                                         time_base=Fraction(1, rate))
        for t in tempos:
            nxt = g.add("atempo", f"{t:.10f}")
            node.link_to(nxt)
            node = nxt
        sink = g.add("abuffersink")
        node.link_to(sink)
        g.configure()
        self._graph = g
        self._pts = 0

    def push(self, block: np.ndarray) -> list[np.ndarray]:
        """Feed one block; returns the (possibly empty) list of blocks the filter has ready."""
        import av

        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="fltp", layout=self.layout)
        frame.rate, frame.pts, frame.time_base = self.rate, self._pts, Fraction(1, self.rate)
        self._pts += block.shape[1]
        self._graph.push(frame)
        out = []
        while True:
            try:
                pulled = self._graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return out
            out.append(pulled.to_ndarray().astype(np.float32))
