"""End-to-end throughput and peak memory of `vidext interpolate` at 720p.

Runs the real CLI in a subprocess on synthetic 1280×720 25 fps clips of N and
4N frames (with sound) and prints output frames per second and the child's
peak resident memory: memory must not grow with clip length (streaming).

    .venv/bin/python bench/throughput.py [--frames 100] [--quality balanced] [--fps 50]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from vidext.media.synth import make_clip  # noqa: E402


def run_once(src: str, out: str, quality: str, fps: str) -> tuple[float, float]:
    code = ("import resource, sys; from vidext._cli import main; rc = main(sys.argv[1:]); "
            "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)")
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code, "interpolate", src, "-o", out, "--fps", fps,
                        "--quality", quality, "--quiet"], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode:
        raise SystemExit(p.stderr)
    rss_kb = int([l for l in p.stderr.splitlines() if l.startswith("MAXRSS")][0].split()[1])
    return wall, rss_kb / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--quality", default="balanced")
    ap.add_argument("--fps", default="50")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'clip':>22} {'in frames':>9} {'out frames':>10} {'wall s':>7} {'out fps':>8} {'peak MB':>8}")
        for mult in (1, 4):
            n = args.frames * mult
            src = make_clip(os.path.join(tmp, f"in{mult}.mp4"), frames=n, fps=25, width=1280, height=720,
                            motion=(4.0, 1.5))
            out = os.path.join(tmp, f"out{mult}.mp4")
            wall, peak = run_once(src, out, args.quality, args.fps)
            from vidext.media.probe import probe
            n_out = probe(out).video.frame_count
            print(f"{'1280x720 ' + args.quality:>22} {n:>9} {n_out:>10} {wall:>7.1f} {n_out / wall:>8.1f} {peak:>8.0f}")


if __name__ == "__main__":
    main()
