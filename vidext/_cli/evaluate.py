"""vidext evaluate INPUT [--methods ...] [--factor N] [--json PATH] [--report DIR] [--max-frames N]"""
from __future__ import annotations

from .. import api, config
from ..evaluation.heldout import METHODS
from .common import ProgressBar, took_words


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="held-out quality, temporal consistency and A/V offset of a clip",
                       description="Drop real frames, rebuild them with each method and score them against the "
                                   "originals (PSNR, SSIM, MS-SSIM, LPIPS, speed); measure the clip's temporal "
                                   "consistency and audio-video offset.")
    p.add_argument("input")
    p.add_argument("--methods", default=",".join(config.EVALUATE_METHODS),
                   help=f"comma-separated, from: {', '.join(METHODS.names())}; 'all' = blend, the DIS presets and "
                        "every model whose weights resolve; 'none' skips the held-out test "
                        f"(default {','.join(config.EVALUATE_METHODS)})")
    p.add_argument("--factor", type=float, default=2,
                   help=f"keep 1 frame in N and rebuild the others, N from 2 to {config.EVALUATE_MAX_FACTOR} "
                        "(default 2)")
    p.add_argument("--metrics", default=",".join(config.EVALUATE_METRICS),
                   help=f"comma-separated (default {','.join(config.EVALUATE_METRICS)})")
    p.add_argument("--lpips-frames", type=int, default=None,
                   help=f"held-out frames LPIPS scores per method (default: all on a GPU, "
                        f"on CPU {config.LPIPS_CPU_MIN_FRAMES} to {config.LPIPS_CPU_MAX_FRAMES} by frame size, "
                        f"3 at 720p; 0 = all)")
    depth = p.add_mutually_exclusive_group()
    depth.add_argument("--sample", type=int, default=config.EVALUATE_SAMPLE_WINDOWS, metavar="N",
                       help=f"rebuild N held-out windows spread evenly over the clip, each mean with a "
                            f"{config.EVALUATE_CONFIDENCE * 100:.0f}%% confidence interval "
                            f"(default {config.EVALUATE_SAMPLE_WINDOWS})")
    depth.add_argument("--exhaustive", action="store_true", help="rebuild every held-out window")
    p.add_argument("--no-temporal", action="store_true", help="skip the temporal-consistency pass")
    p.add_argument("--max-frames", type=int, default=None, help="read only the first N frames")
    p.add_argument("--json", dest="json_path", default=None, help="write the numbers here as JSON")
    p.add_argument("--report", dest="report_dir", default=None,
                   help="write charts (HTML) and pictures (PNG) into this folder")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    bar = ProgressBar(not args.quiet)
    metrics = None if args.metrics == ",".join(config.EVALUATE_METRICS) else args.metrics
    try:
        report = api.evaluate(args.input, methods=args.methods, factor=args.factor, json_path=args.json_path,
                              report_dir=args.report_dir, max_frames=args.max_frames, metrics=metrics,
                              lpips_frames=args.lpips_frames, temporal=not args.no_temporal,
                              sample=None if args.exhaustive else args.sample, progress=bar)
    finally:
        bar.close()
    print(report.summary())
    print(f"took {took_words(report.seconds, bar.last.stages if bar.last is not None else None)}")
    return 0
