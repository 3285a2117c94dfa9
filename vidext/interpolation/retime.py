"""From user settings (factor, fps, slow motion, segment) to an output rate and a TimeMap.

Segment edges are snapped to input frames and the segment's stretch to whole
output frames, so that with the input's own rate every output frame outside
the segment falls exactly on an input frame and is copied untouched.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from .. import config
from ..errors import ParameterError
from ..timemap import TimeMap
from .timeline import output_rate


@dataclass(frozen=True)
class RetimePlan:
    rate: Fraction                                   # output frame rate
    timemap: TimeMap | None                          # None: output time = input time
    smooth_range: tuple[Fraction, Fraction] | None   # input range where frames are made
    stretch: Fraction                                # effective slow-motion factor inside the range

    @property
    def retimed(self) -> bool:
        return self.timemap is not None and not self.timemap.is_identity()

    def out_duration(self, in_start: Fraction, in_end: Fraction) -> Fraction:
        if self.timemap is None:
            return in_end - in_start
        return self.timemap.to_output(in_end) - self.timemap.to_output(in_start)

    def as_dict(self) -> dict:
        return {"output_rate": str(self.rate), "slowmo": str(self.stretch),
                "segment": None if self.smooth_range is None else [float(x) for x in self.smooth_range]}


def _fraction(value, what: str) -> Fraction:
    try:
        f = Fraction(str(value)).limit_denominator(10**6)
    except (ValueError, ZeroDivisionError) as exc:
        raise ParameterError(f"{what} {value!r} is not a number") from exc
    if not math.isfinite(float(f)):
        raise ParameterError(f"{what} must be finite, got {value!r}")
    return f


#: a segment end this little past the clip's end is its end: the length shown to two decimals (3.07 s
#: for a 3.0697 s clip) or half a frame, whichever is more (the end snaps to a frame anyway)
END_SLACK_S = Fraction(1, 200)


def plan_retime(input_rate: Fraction, in_start: Fraction, in_end: Fraction, *, factor=None, fps=None,
                slowmo=None, start=None, end=None) -> RetimePlan:
    """Work out the output rate, the time map and the range in-between frames are made in.

    ``start`` and ``end`` are seconds from the clip's first frame (``in_start`` on the file's
    own clock), as a player shows them: an MPEG-TS, MPEG-PS or offset MP4 file whose clock
    starts later still has its segment where the viewer saw it.  ``smooth_range`` is on the
    file's clock."""
    stretch = Fraction(1) if slowmo is None else _fraction(slowmo, "slowmo")
    if not 0 < stretch <= config.MAX_SLOWMO:
        raise ParameterError(f"slowmo must be above 0 and at most {config.MAX_SLOWMO:g}, got {slowmo}")
    if slowmo is not None and factor is None and fps is None:
        rate = input_rate                     # slow motion keeps the frame rate
    else:
        rate = output_rate(input_rate, factor, fps)
    if start is None and end is None:
        if stretch == 1:
            return RetimePlan(rate, None, None, stretch)
        return RetimePlan(rate, TimeMap.uniform(in_start, in_end, stretch), None, stretch)
    step = 1 / input_rate
    s = in_start if start is None else in_start + _fraction(start, "start")
    e = in_end if end is None else in_start + _fraction(end, "end")
    clip_s = float(in_end - in_start)
    if start is not None and s < in_start:
        raise ParameterError(f"the segment start ({float(s - in_start):g} s) is before the clip's first frame: "
                             f"start and end are seconds from it, 0 to {clip_s:.2f} s")
    if start is not None and s >= in_end:
        raise ParameterError(f"the segment start ({float(s - in_start):g} s) is at or past the clip's end "
                             f"({clip_s:.2f} s)")
    if end is not None and e > in_end + max(step / 2, END_SLACK_S):
        raise ParameterError(f"the segment end ({float(e - in_start):g} s) is past the clip's end ({clip_s:.2f} s); "
                             f"leave the end out to run to the clip's end")
    if e <= s:
        raise ParameterError(f"the segment end ({float(e - in_start):g} s) must come after its start "
                             f"({float(s - in_start):g} s)")
    # Snap to input frames (times from the first frame).
    s = min(max(in_start + round((s - in_start) / step) * step, in_start), in_end)
    e = min(max(in_start + round((e - in_start) / step) * step, in_start), in_end)
    if e <= s:
        raise ParameterError(f"segment {start}–{end} s holds no whole input frame interval "
                             f"(the clip is 0–{float(in_end - in_start):g} s)")
    length = (e - s) * stretch
    frames = max(1, round(length * rate))
    stretch = Fraction(frames) / rate / (e - s)
    timemap = TimeMap.segment(in_start, in_end, s, e, stretch)
    return RetimePlan(rate, timemap, (s, e), stretch)
