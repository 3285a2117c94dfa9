"""Held-out reconstruction: drop real frames, rebuild them, compare (docs/measuring.md).

For a factor N the clip's frames 0, N, 2N, … are kept as the input at 1/N of
the frame rate; each frame in between (index ``kN + j``, 0 < j < N) is held
out and rebuilt from its kept neighbours ``kN`` and ``(k+1)N`` at the
fraction of the way between them given by the three frames' timestamps (j/N
on a constant-rate clip).  Frames after the last kept one are not used.
Methods receive the decoded planes exactly as the interpolation pipeline
does, so no colour conversion happens before a method sees a frame.

The methods are :data:`METHODS`: the no-interpolation baseline
``duplicate``, ``blend``, each DIS preset, then every other interpolation
backend under its own name (a model registered in
:data:`vidext.interpolation.INTERPOLATORS` is a method with no line here).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..errors import ParameterError
from ..interpolation import INTERPOLATORS
from ..interpolation.base import Between, Interpolator, Planes
from ..interpolation.flow import PRESETS
from ..media.frame import Frame
from ..registry import Entry, Registry
from .. import config


class Duplicate(Interpolator):
    """Repeat the nearer kept frame: what a viewer sees with no interpolation at all."""

    name = "duplicate"

    def between(self, a: Frame, b: Frame) -> Between:
        return _Nearest(a, b)


class _Nearest(Between):
    def __init__(self, a: Frame, b: Frame):
        self.a, self.b = a, b

    def at(self, t: float) -> Planes:
        return self.a.planes if t <= 0.5 else self.b.planes


class MethodRegistry(Registry[Interpolator]):
    """Held-out methods: the entries added here, then every interpolation backend neither added nor hidden.

    The backends' entries are read when asked for, so a model registered
    later (a plug-in, a test's stand-in) is a method too, built by its own
    registry.
    """

    def __init__(self, backends: Registry[Interpolator], hidden: tuple[str, ...] = ()):
        super().__init__("method")
        self.backends = backends
        self.hidden = hidden

    def from_backends(self) -> list[str]:
        """The interpolation backends offered under their own names (e.g. ``rife``)."""
        return [n for n in self.backends if n not in self._entries and n not in self.hidden]

    def _table(self) -> dict[str, Entry]:
        return {**self._entries, **{n: self.backends.entry(n) for n in self.from_backends()}}

    def get(self, name: str):
        if name in self._entries:
            return super().get(name)
        self.entry(name)                # an unknown name: the error lists the methods
        return self.backends.get(name)


BASELINE = "duplicate"      # what a viewer sees with no interpolation; measured on request, not by "all"

METHODS = MethodRegistry(INTERPOLATORS, hidden=("dis",))     # DIS is measured as its presets
METHODS.add(BASELINE, "vidext.evaluation.heldout:Duplicate", "repeat the nearer kept frame (no interpolation)")
METHODS.add("blend", "vidext.interpolation.base:Blend", INTERPOLATORS.summary("blend"))
for _quality in PRESETS:
    METHODS.add(_quality, "vidext.interpolation.flow:DISInterpolator",
                f"DIS optical flow, {_quality} preset (CPU, no download)", options={"quality": _quality})


def method_names() -> list[str]:
    """Every method name ``evaluate`` accepts."""
    return METHODS.names()


def create_method(name: str) -> Interpolator:
    """An interpolator for a method name (see :data:`METHODS`); an unknown name raises :class:`ParameterError`."""
    return METHODS.create(name)


def learned_names() -> list[str]:
    """Registered models beyond blend and DIS (e.g. ``rife``): what ``all`` skips when they cannot load."""
    return METHODS.from_backends()


def parse_methods(methods) -> list[str]:
    """Method names from a sequence or comma-separated text.

    ``none`` (or nothing) skips the held-out test; ``all`` is blend, every DIS
    preset and every registered model whose weights resolve (see
    :func:`learned_names`).
    """
    if methods is None:
        return list(config.EVALUATE_METHODS)
    items = methods.split(",") if isinstance(methods, str) else list(methods)
    names = [str(m).strip() for m in items if str(m).strip()]
    if names in (["none"], []):
        return []
    if names == ["all"]:
        return [n for n in METHODS if n != BASELINE]
    for n in names:
        METHODS.entry(n)                # an unknown name: the error lists the methods
    if len(set(names)) != len(names):
        raise ParameterError("each method may be named once")
    return names


def check_factor(factor) -> int:
    try:
        f = int(float(factor))
        whole = float(factor) == f
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"factor must be a whole number, got {factor!r}") from exc
    if not whole or not 2 <= f <= config.EVALUATE_MAX_FACTOR:
        raise ParameterError(f"factor must be a whole number from 2 to {config.EVALUATE_MAX_FACTOR}, got {factor}")
    return f


@dataclass
class Window:
    """Two kept frames and the held-out frames between them."""

    a: Frame
    b: Frame
    held: list[Frame] = field(default_factory=list)
    index_a: int = 0                  # index of ``a`` in the original clip

    def fraction(self, frame: Frame) -> float:
        """Where ``frame`` lies between ``a`` and ``b``, from the timestamps."""
        return float((frame.time - self.a.time) / (self.b.time - self.a.time))

    def held_indices(self) -> list[int]:
        return [self.index_a + 1 + j for j in range(len(self.held))]


def windows(frames: Iterable[Frame], factor: int) -> Iterator[Window]:
    """Group a frame stream into held-out windows, holding at most ``factor + 1`` frames."""
    anchor: Frame | None = None
    index_a = 0
    held: list[Frame] = []
    for i, frame in enumerate(frames):
        if anchor is None:
            anchor, index_a = frame, i
        elif i - index_a == factor:
            yield Window(anchor, frame, held, index_a)
            anchor, index_a, held = frame, i, []
        else:
            held.append(frame)


def split_plan(n_frames: int, factor: int) -> tuple[list[int], list[tuple[int, int, int, Fraction]]]:
    """Kept frame indices and, for each held-out frame, (index, left kept, right kept, fraction).

    The plan for a constant-rate clip of ``n_frames``; :func:`windows` does
    the same on a stream (tested against each other).
    """
    last = (n_frames - 1) // factor * factor
    kept = list(range(0, last + 1, factor))
    held = [(i, i // factor * factor, i // factor * factor + factor, Fraction(i % factor, factor))
            for i in range(last) if i % factor]
    return kept, held


def expected_held_out(n_frames: int | None, factor: int) -> int | None:
    if n_frames is None:
        return None
    return len(split_plan(n_frames, factor)[1]) if n_frames > 0 else 0


def sample_indices(total: int | None, limit: int | None) -> tuple[int, int | None]:
    """(stride, count) for scoring every ``stride``-th held-out frame, at most about ``limit``."""
    if limit is None or total is None or total <= limit:
        return 1, total
    stride = -(-total // limit)
    return stride, -(-total // stride)


def as_planes(planes: Sequence[np.ndarray], like: Frame) -> Frame:
    return like.with_planes(tuple(planes))
