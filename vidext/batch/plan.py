"""Where a long film is split into chunks, so that the joined chunks equal one whole run.

A chunk is a run of input frames rendered on the whole film's output grid
(:class:`vidext.interpolation.timeline.Span`): it makes the output frames
shown from its ``first`` frame up to, not including, ``last``, where the next
chunk starts.  A chunk that ends at a scene cut stops before the new shot
(the pair across a cut is held, never morphed); any other chunk also reads
the frame at ``last`` (one frame of overlap) to make the in-between frames
of its last pair.  Every input pair is thus interpolated in exactly one chunk.

The renderer gates pairs (scene cuts held, duplicated frames dropped) one
pair at a time against the last *kept* frame.  The planner replays that
gating over the whole film once, so a split only ever falls on a frame the
whole run keeps: from there on both runs see the same pairs.  Splits go at
scene cuts (the cut pair is held, so nothing is morphed across the seam),
or failing a cut near the target length, at a keyframe (the chunk's reader
starts decoding right there), or failing that at the kept frame nearest
the target.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .. import config
from ..interpolation.scenes import SceneGate
from ..interpolation.timeline import Span
from ..media.concat import keyframe_times
from ..media.reader import FrameSource


@dataclass(frozen=True)
class Mark:
    """One input frame the whole run keeps."""

    time: Fraction
    cut: bool        # the pair ending here is a scene cut
    key: bool        # a keyframe: decoding can start here


@dataclass(frozen=True)
class Chunk:
    index: int
    span: Span
    split: str       # how the chunk ends: "cut", "keyframe", "frame" or "end"

    @property
    def seconds(self) -> Fraction | None:
        return None if self.span.last is None else self.span.last - self.span.first


def scan(path: str, info, gate: SceneGate, smooth_range=None, stop=None) -> list[Mark]:
    """Every kept frame of ``path`` with its cut and keyframe flags (decodes the film once)."""
    eps = Fraction(config.TIME_EPSILON)
    keys = set(keyframe_times(path))
    marks: list[Mark] = []
    prev = None
    with FrameSource(path, info) as source:
        for frame in source:
            if stop is not None and stop.is_set():
                from ..errors import Cancelled
                raise Cancelled("the batch was cancelled")
            if prev is None:
                marks.append(Mark(frame.time, False, frame.time in keys))
                prev = frame
                continue
            # the renderer's gating, pair by pair (vidext.interpolation.pipeline.render)
            smooth = smooth_range is None or (smooth_range[0] - eps <= prev.time
                                              and frame.time <= smooth_range[1] + eps)
            if smooth and gate.is_duplicate(prev, frame):
                continue
            marks.append(Mark(frame.time, gate.is_cut(prev, frame), frame.time in keys))
            prev = frame
    return marks


def split(marks: list[Mark], seconds: float) -> list[Chunk]:
    """Chunks of about ``seconds`` each, cut at scene cuts, else keyframes, else the nearest frame."""
    if not marks:
        return []
    length = Fraction(seconds).limit_denominator(10**6)
    origin = marks[0].time
    chunks: list[Chunk] = []
    i = 0
    while True:
        start = marks[i].time
        target = start + length
        if marks[-1].time - start < length * Fraction(3, 2):
            chunks.append(Chunk(len(chunks), Span(origin, start), "end"))
            return chunks
        lo, hi = start + length / 2, start + length * Fraction(3, 2)
        window = [j for j in range(i + 1, len(marks)) if lo <= marks[j].time <= hi]
        j, how = None, "frame"
        for kind in ("cut", "key"):
            picks = [j for j in window if getattr(marks[j], kind)]
            if picks:
                j = min(picks, key=lambda n: abs(marks[n].time - target))
                how = "cut" if kind == "cut" else "keyframe"
                break
        if j is None:
            j = min(window or [i + 1], key=lambda n: abs(marks[n].time - target))
        chunks.append(Chunk(len(chunks), Span(origin, start, marks[j].time, cut=how == "cut"), how))
        i = j
