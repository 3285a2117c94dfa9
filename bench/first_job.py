"""What the first RIFE job on a fresh machine costs against a warm one (issue 39).

Whole ``vidext interpolate --model rife --factor 2`` commands on a 2 s 640x480 clip (vidext's own
sample), rows interleaved ``--repeat`` times (median and spread), the load average printed before
and after; wall and CPU seconds (user + system: less disturbed on a shared machine).  Rows, each with
its own calibration file, in a rotating order:

* ``warm``: the file holds this CPU's full calibration (run by round 0, which is not counted; made
  under load it is provisional, and the warm rows then take the table's or the screen's path);
* ``first``: a fresh, empty file every run: what a new machine or a restarted container pays
  (a CPU in the table of families already measured takes it without timing; others screen);
* ``first, screen``: the same with the table emptied: what a CPU not yet measured pays;
* ``first, full (before)``: the same with ``VIDEXT_CALIBRATION=redo``: the full calibration every
  first job used to run.

    .venv/bin/python bench/first_job.py [--repeat 3] [--seconds 2] [--size 640x480]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUN = ("import sys; from vidext.interpolation.rife import calibration as c; "
       "c.KNOWN = () if sys.argv[1] == 'screen' else c.KNOWN; "
       "from vidext._cli import main; sys.exit(main(sys.argv[2:]))")


def timed(args: list[str], env: dict, table: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one whole command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", RUN, table, *args], check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--size", default="640x480")
    args = ap.parse_args(argv)
    env0 = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory(prefix="vidext-first-") as tmp:
        clip = os.path.join(tmp, "clip.mp4")
        subprocess.run([sys.executable, "-m", "vidext", "sample", clip, "--seconds", str(args.seconds), "--fps", "25",
                        "--size", args.size], check=True, env=env0, stdout=subprocess.DEVNULL)
        out = os.path.join(tmp, "out.mp4")
        job = ["interpolate", clip, "-o", out, "--model", "rife", "--factor", "2", "-q"]
        warm_file = os.path.join(tmp, "warm.json")
        rows = {"warm": [], "first": [], "first, screen": [], "first, full (before)": []}
        print(f"load average before: {os.getloadavg()}")
        labels = list(rows)
        for r in range(args.repeat + 1):            # round 0 fills the warm file and is not counted
            for label in labels[r % len(labels):] + labels[:r % len(labels)]:   # each row in every position
                env = dict(env0)
                fresh = os.path.join(tmp, f"fresh-{r}-{len(label)}.json")
                env["VIDEXT_CALIBRATION_FILE"] = warm_file if label == "warm" else fresh
                if label.endswith("(before)") or (label == "warm" and r == 0):
                    env["VIDEXT_CALIBRATION"] = "redo"        # round 0: the warm file gets a full calibration
                seconds = timed(job, env, "screen" if label == "first, screen" else "table")
                if r:
                    rows[label].append(seconds)
        print(f"load average after: {os.getloadavg()}")
        warm = [statistics.median(x[i] for x in rows["warm"]) for i in (0, 1)]
        for label, xs in rows.items():
            w, c = [x[0] for x in xs], [x[1] for x in xs]
            print(f"{label:22} wall median {statistics.median(w):6.2f} s (min {min(w):.2f}, max {max(w):.2f}), "
                  f"{statistics.median(w) - warm[0]:+.2f} s against warm; CPU median {statistics.median(c):6.2f} s "
                  f"(min {min(c):.2f}, max {max(c):.2f}), {statistics.median(c) - warm[1]:+.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
