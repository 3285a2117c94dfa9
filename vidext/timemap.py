"""Retiming as a piecewise-linear map between input and output time.

Slow motion, segment retimes and extensions all move content in time; video
and audio follow the same :class:`TimeMap` so that they stay in sync.  Each
:class:`Piece` covers ``[in_start, in_end)`` of the input and is played
``stretch`` times slower (2 = half speed, 1 = untouched).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable

from .errors import ParameterError


@dataclass(frozen=True)
class Piece:
    in_start: Fraction
    in_end: Fraction
    stretch: Fraction
    out_start: Fraction

    @property
    def out_end(self) -> Fraction:
        return self.out_start + (self.in_end - self.in_start) * self.stretch


class TimeMap:
    """A monotonic, continuous map from output time to input time and back."""

    def __init__(self, pieces: Iterable[tuple]):
        built: list[Piece] = []
        out = None
        for in_start, in_end, stretch in pieces:
            a, b, s = Fraction(in_start), Fraction(in_end), Fraction(stretch)
            if s <= 0:
                raise ParameterError(f"a retime factor must be positive, got {float(s):g}")
            if b <= a:
                continue
            if built and a != built[-1].in_end:
                raise ParameterError("retime pieces must be contiguous")
            if out is None:
                out = a
            built.append(Piece(a, b, s, out))
            out = built[-1].out_end
        if not built:
            raise ParameterError("the retimed range is empty")
        self.pieces = tuple(built)

    @classmethod
    def uniform(cls, start, end, stretch=1) -> "TimeMap":
        return cls([(start, end, stretch)])

    @classmethod
    def segment(cls, start, end, seg_start, seg_end, stretch) -> "TimeMap":
        """Untouched outside ``[seg_start, seg_end)``, ``stretch``× slower inside it."""
        start, end = Fraction(start), Fraction(end)
        seg_start, seg_end = max(Fraction(seg_start), start), min(Fraction(seg_end), end)
        if seg_end <= seg_start:
            raise ParameterError(f"segment {float(seg_start):g}–{float(seg_end):g} s lies outside the clip "
                                 f"({float(start):g}–{float(end):g} s)")
        return cls([(start, seg_start, 1), (seg_start, seg_end, stretch), (seg_end, end, 1)])

    @property
    def in_start(self) -> Fraction:
        return self.pieces[0].in_start

    @property
    def in_end(self) -> Fraction:
        return self.pieces[-1].in_end

    @property
    def out_start(self) -> Fraction:
        return self.pieces[0].out_start

    @property
    def out_end(self) -> Fraction:
        return self.pieces[-1].out_end

    def piece_at_out(self, t: Fraction) -> Piece:
        for p in self.pieces:
            if t < p.out_end:
                return p
        return self.pieces[-1]

    def to_input(self, t_out) -> Fraction:
        """Input time shown at output time ``t_out``."""
        t = Fraction(t_out)
        p = self.piece_at_out(t)
        return p.in_start + (t - p.out_start) / p.stretch

    def to_output(self, t_in) -> Fraction:
        """Output time at which input time ``t_in`` is shown."""
        t = Fraction(t_in)
        for p in self.pieces:
            if t < p.in_end:
                return p.out_start + (max(t, p.in_start) - p.in_start) * p.stretch
        last = self.pieces[-1]
        return last.out_end + (t - last.in_end) * last.stretch

    def is_identity(self) -> bool:
        return all(p.stretch == 1 for p in self.pieces)
