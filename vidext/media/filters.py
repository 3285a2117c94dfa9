"""FFmpeg filters through PyAV's filter graphs: ``atempo`` on float sound blocks for the
stretchers that use it, ``bwdif`` on decoded pictures of interlaced streams."""
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
        self.layout = av.AudioLayout(f"{channels}c").name    # FFmpeg's usual layout of that many
        g = av.filter.Graph()
        # packed float, as every sound block crosses PyAV here (media.packed.from_block / to_blocks)
        node = self._src = g.add_abuffer(format="flt", sample_rate=rate, layout=self.layout,
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
        from .packed import from_block, to_blocks

        frame = from_block(block, self.layout)
        frame.rate, frame.pts, frame.time_base = self.rate, self._pts, Fraction(1, self.rate)
        self._pts += block.shape[1]
        self._graph.push(frame)
        return to_blocks(_ready(self._graph))


def _ready(graph) -> list:
    """Every frame the graph has ready now (none once it waits for input or has ended)."""
    import av

    out = []
    while True:
        try:
            out.append(graph.pull())
        except (av.BlockingIOError, av.EOFError):
            return out


# AVFieldOrder: 0 unknown, 1 progressive, 2-5 the interlaced orders (TT, BB, TB, BT)
INTERLACED_ORDERS = (2, 3, 4, 5)


def is_interlaced(stream) -> bool:
    """Whether the codec says ``stream`` is coded as interlaced fields."""
    return int(stream.codec_context.field_order or 0) in INTERLACED_ORDERS


class Deinterlace:
    """FFmpeg's ``bwdif`` over decoded pictures: each picture flagged interlaced becomes one
    progressive picture at its own time (``send_frame``: the frame rate stays), the field order
    read from the picture; progressive pictures pass through.  Pictures come out one behind
    (the filter looks at the next one); ``push(None)`` flushes.  A change of size or pixel format
    (spliced streams) flushes the graph and starts a new one."""

    def __init__(self):
        self._graph = None
        self._key = None

    def push(self, frame) -> list:
        import av

        out = []
        key = None if frame is None else (frame.width, frame.height, frame.format.name)
        if self._graph is not None and key != self._key:
            self._graph.push(None)
            out += self._pull()
            self._graph = None
        if frame is None:
            return out
        if self._graph is None:
            g = av.filter.Graph()
            src = g.add_buffer(width=frame.width, height=frame.height, format=frame.format.name,
                               time_base=frame.time_base)
            node = g.add("bwdif", "mode=send_frame:parity=auto:deint=interlaced")
            sink = g.add("buffersink")
            src.link_to(node)
            node.link_to(sink)
            g.configure()
            self._graph, self._key, self._tb = g, key, Fraction(frame.time_base)
        self._graph.push(frame)
        return out + self._pull()

    def _pull(self) -> list:
        out = _ready(self._graph)
        for frame in out:
            # bwdif halves the time base (it could send fields): times back on the stream's own
            if frame.pts is not None and frame.time_base is not None and frame.time_base != self._tb:
                frame.pts = round(Fraction(frame.pts) * frame.time_base / self._tb)
                frame.time_base = self._tb
        return out
