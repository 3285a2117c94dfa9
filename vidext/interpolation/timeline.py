"""Where output frames fall in time, from timestamps (never frame counts)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ..errors import ParameterError

# Common NTSC-style rates are recognised from their decimal spelling.
_NAMED_RATES = {"23.976": Fraction(24000, 1001), "29.97": Fraction(30000, 1001),
                "59.94": Fraction(60000, 1001), "119.88": Fraction(120000, 1001),
                "47.952": Fraction(48000, 1001)}


def parse_rate(value) -> Fraction:
    """A frame rate from a number or text ("60", "59.94", "30000/1001")."""
    if isinstance(value, Fraction):
        rate = value
    else:
        text = str(value).strip()
        if text in _NAMED_RATES:
            return _NAMED_RATES[text]
        try:
            rate = Fraction(text).limit_denominator(1001)
        except (ValueError, ZeroDivisionError) as exc:
            raise ParameterError(f"frame rate {value!r} is not a number") from exc
    if not rate > 0 or not _finite(rate):
        raise ParameterError(f"frame rate must be positive and finite, got {value!r}")
    return rate


def _finite(x: Fraction) -> bool:
    try:
        return math.isfinite(float(x))
    except OverflowError:
        return False


def output_rate(input_rate: Fraction, factor=None, fps=None) -> Fraction:
    """The output frame rate for ``--factor N`` (N× the input) or ``--fps F``."""
    if factor is not None and fps is not None:
        raise ParameterError("give either a factor or a target fps, not both")
    if fps is not None:
        return parse_rate(fps)
    try:
        f = Fraction(str(factor)) if factor is not None else Fraction(2)
    except (ValueError, ZeroDivisionError) as exc:
        raise ParameterError(f"factor must be a number, got {factor!r}") from exc
    if not _finite(input_rate * f):
        raise ParameterError(f"factor {factor!r} is too large")
    if f < 1:
        raise ParameterError(f"factor must be at least 1, got {factor}")
    return input_rate * f


@dataclass(frozen=True)
class Span:
    """A run of a longer clip's frames rendered on its own (one chunk of a distributed job).

    Output frames stay on the whole clip's grid (frame 0 aligned to ``origin``,
    the clip's first frame).  A span renders exactly the output frames shown
    from its first frame up to, not including, ``last`` (the next span's first
    frame), so spans join without a gap or a repeat.  Spans share that
    boundary frame (one frame of overlap) unless the span ends at a scene
    ``cut``: then the pair across it is known to be held, not morphed, and the
    old shot is held up to ``last`` without reading the new shot's frame.  The
    last span (``last`` None) runs to the clip's end like a whole render.
    """

    origin: Fraction              # input time of the clip's first frame
    first: Fraction               # input time of the span's first frame
    last: Fraction | None = None  # input time of the next span's first frame, None: the end
    cut: bool = False             # a scene cut at ``last``: that frame is not read

    def __post_init__(self):
        if self.first < self.origin or (self.last is not None and self.last <= self.first):
            raise ParameterError(f"span {float(self.first):g}–{self.last} s is empty or starts before "
                                 f"the clip ({float(self.origin):g} s)")


@dataclass(frozen=True)
class Timeline:
    """Output frame k is shown at ``start + k / rate`` seconds."""

    start: Fraction
    rate: Fraction

    def time(self, k: int) -> Fraction:
        return self.start + Fraction(k) / self.rate

    def count_before(self, end: Fraction) -> int:
        """How many output frames start strictly before ``end``."""
        if end <= self.start:
            return 0
        return math.ceil((end - self.start) * self.rate)
