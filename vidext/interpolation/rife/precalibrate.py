"""Full RIFE CPU calibrations ahead of the jobs: ``python -m vidext.interpolation.rife.precalibrate``.

A job never runs a full calibration (:mod:`.calibration`: it takes a cached
entry, the table of CPU families already measured, or a screen of about a
second).  This runs them for the common frame sizes, on this CPU, once the
machine is quiet: the web app starts it in the background at server start
(:mod:`vidext.webapp.warmup`); ``scripts/docker_steps.sh calibrate`` runs it
in a container.  Sizes that already hold a final entry are skipped.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time

from ... import config
from ...models import locate
from .calibration import PRECALIBRATE_SIZES, busy, cache_file, cached_choice, calibrate, forced, machine_key
from .interpolator import _dtype, load_network
from .network import MULTIPLE


def precalibrate(weights=None, sizes=PRECALIBRATE_SIZES, *, wait_s: float = 0.0, path: str | None = None,
                 poll_s: float = 5.0) -> list[str]:
    """Full calibrations for each size class in ``sizes`` that holds no final entry yet, on the CPU
    with the weights the model layer finds (``weights``: a path to use instead).  Waits up to
    ``wait_s`` in all for a quiet machine; a class measured while busy is provisional (and said so).
    One line per size."""
    found = locate(config.RIFE_MODEL, weights, download=False)
    lines = []
    deadline = time.monotonic() + wait_s
    for width, height in sizes:
        padded = (-(-width // MULTIPLE) * MULTIPLE, -(-height // MULTIPLE) * MULTIPLE)
        key = machine_key(*padded)
        fixed = forced()
        if fixed:
            key += "|" + ",".join(f"{k}={v}" for k, v in sorted(fixed.items()))
        if cached_choice(key, path) is not None:
            lines.append(f"{width}x{height}: final entry already cached")
            continue
        while busy() and time.monotonic() < deadline:
            time.sleep(poll_s)
        c = calibrate(lambda s: load_network(found.path, "cpu", _dtype(s.precision), s.channels_last),
                      *padded, path=path, full=True)
        lines.append(f"{width}x{height}: {c.chosen.label()} ({c.status}{': ' + c.note if c.note else ''})")
    return lines


def _exit_with(parent: int) -> None:
    """End this process (from a watcher thread) once ``parent`` is gone: a server's child does not
    outlive the server."""
    import threading

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="vidext-precalibrate-parent", daemon=True).start()


def _only_one(path: str):
    """An exclusive lock beside the calibration file (None when another process holds it)."""
    import fcntl

    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    f = open(path + ".precalibrate.lock", "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return None
    return f


def main(argv: list[str] | None = None) -> int:
    """``python -m vidext.interpolation.rife.precalibrate [--wait S] [--sizes WxH,...] [--nice N]``."""
    import argparse

    from ...errors import VidextError

    ap = argparse.ArgumentParser(description="Full RIFE CPU calibrations for the common frame sizes, cached "
                                             "for every later job (skips sizes already measured).")
    ap.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in PRECALIBRATE_SIZES))
    ap.add_argument("--wait", type=float, default=0.0, help="seconds to wait for a quiet machine first")
    ap.add_argument("--weights", help="RIFE checkpoint (default: where the model layer finds it)")
    ap.add_argument("--nice", type=int, default=0, help="lower this process's priority by N first")
    ap.add_argument("--parent", type=int, help="end when the process with this id ends (a server's child)")
    args = ap.parse_args(argv)
    if args.parent:
        _exit_with(args.parent)
    if args.nice:
        with contextlib.suppress(OSError):
            os.nice(args.nice)
    try:
        sizes = [tuple(int(v) for v in item.lower().split("x")) for item in args.sizes.split(",") if item]
        if not sizes or any(len(wh) != 2 or min(wh) < 1 for wh in sizes):
            raise ValueError(args.sizes)
    except ValueError:
        print(f"error: --sizes takes WxH,WxH,... (got {args.sizes!r})", file=sys.stderr)
        return 2
    lock = _only_one(cache_file())
    if lock is None:
        print("another pre-calibration is running on this calibration file: nothing to do")
        return 0
    try:
        for line in precalibrate(args.weights, sizes, wait_s=args.wait):
            print(line, flush=True)
    except VidextError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
