"""vidext interpolate INPUT -o OUTPUT [--factor N | --fps F] ..."""
from __future__ import annotations

from .. import api, config
from ..interpolation import INTERPOLATORS
from ..interpolation.flow import PRESETS
from .common import ProgressBar, add_output_options, report


def add_parser(sub) -> None:
    p = sub.add_parser("interpolate", help="new frames between real ones (N× or any fps)",
                       description="Raise the frame rate; the duration and the sound are kept.")
    p.add_argument("input")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--factor", type=float, help="N× the input frame rate (default 2)")
    target.add_argument("--fps", help="target frame rate, e.g. 60 or 59.94 or 60000/1001")
    p.add_argument("--quality", default=config.DEFAULT_QUALITY, choices=list(PRESETS),
                   help="speed/quality preset of the classical model (default balanced)")
    p.add_argument("--model", default=config.DEFAULT_MODEL, choices=INTERPOLATORS.names(),
                   help="interpolation backend (default dis: classical optical flow; rife: RIFE 4.25)")
    p.add_argument("--weights", metavar="PATH",
                   help="RIFE checkpoint file or folder (default: $VIDEXT_MODEL_DIR, the Hugging Face "
                        "cache, then a download)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                   help="where RIFE runs (default auto: CUDA when present)")
    add_output_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    bar = ProgressBar(not args.quiet)
    try:
        factor = args.factor
        if factor is not None and float(factor).is_integer():
            factor = int(factor)
        result = api.interpolate(args.input, args.output, factor=factor, fps=args.fps,
                                 quality=args.quality, model=args.model, weights=args.weights,
                                 device=args.device, codec=args.codec,
                                 crf=args.crf, progress=bar)
    finally:
        bar.close()
    report(result)
    return 0
