"""vidext batch JOB INPUT... --out-dir DIR [the job's options] [--address A] [--chunk-seconds S] [--resume]"""
from __future__ import annotations

import sys

from ..api import batch as run_batch
from . import extend, interpolate
from .common import ProgressBar, add_encoding_options, report_streams

JOBS = {"interpolate": interpolate, "extend": extend}


def add_parser(sub) -> None:
    p = sub.add_parser("batch", help="one job over many files or one long film, on Ray (resumable)",
                       description="Run interpolate or extend over files and folders, in parallel on a "
                                   "local Ray runtime or a cluster; a long film can be split into chunks "
                                   "that join into exactly the frames of one run. Rerunning the same "
                                   "command redoes only what is missing or damaged.")
    jobs = p.add_subparsers(dest="job", metavar="JOB", parser_class=type(p))
    jobs.required = True
    for name, module in JOBS.items():
        j = jobs.add_parser(name, help=f"vidext {name} on every input",
                            description=f"vidext {name} on every input, outputs in --out-dir.")
        j.add_argument("inputs", nargs="+", metavar="INPUT", help="video files or folders of them")
        j.add_argument("--out-dir", required=True, help="folder of the outputs (NAME.EXT each), the manifest "
                                                        "and batch.json")
        module.add_options(j)
        add_encoding_options(j)
        j.add_argument("--address", default=None,
                       help="join the Ray cluster at ADDR (host:port of its head); default: start a local "
                            "runtime on this machine")
        j.add_argument("--workers", type=int, default=None,
                       help="at most this many workers (default: one per GPU for learned models, "
                            "else one per CPU)")
        if name == "interpolate":
            j.add_argument("--chunk-seconds", type=float, default=None, metavar="S",
                           help="split films longer than 1.5×S at scene cuts (else keyframes) near every "
                                "S seconds, run the chunks in parallel and join them")
        j.add_argument("--resume", action="store_true",
                       help="continue the batch in --out-dir (refused when there is none); a rerun of the "
                            "same command resumes too")
        j.set_defaults(run=run)


def run(args) -> int:
    bar = ProgressBar(not args.quiet)
    try:
        result = run_batch(args.job, args.inputs, args.out_dir, options=JOBS[args.job].options(args),
                           address=args.address, chunk_seconds=getattr(args, "chunk_seconds", None),
                           resume=args.resume, workers=args.workers, progress=bar)
    finally:
        bar.close()
    for f in result.files:
        if f.state == "failed":
            print(f"failed {f.input}: {f.error}")
            continue
        frames = f"{f.frames} frames" if f.frames is not None else "frames unknown"
        print(f"{f.state} {f.output}: {frames}, {f.chunks_run}/{f.chunks} chunk(s) run now, "
              f"{f.seconds:.1f} worker-s")
        report_streams(f)
    states = [f.state for f in result.files]
    print(f"batch: {len(states)} file(s): {states.count('done')} made, {states.count('kept')} already done, "
          f"{states.count('failed')} failed; {result.chunks_run}/{result.chunks_total} chunk(s) run on "
          f"{result.workers} worker(s) in {result.seconds:.1f} s; summary in {result.sidecar}")
    if result.failed:
        print(f"error: {len(result.failed)} of {len(states)} file(s) failed", file=sys.stderr)
        return 2
    return 0
