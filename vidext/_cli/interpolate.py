"""vidext interpolate INPUT -o OUTPUT [--factor N | --fps F] [--slowmo K] [--start S --end E] ..."""
from __future__ import annotations

from .. import api, config
from ..interpolation import INTERPOLATORS
from ..interpolation.flow import PRESETS
from .common import ProgressBar, add_output_options, report


def add_parser(sub) -> None:
    p = sub.add_parser("interpolate", help="new frames between real ones (N×, any fps, slow motion)",
                       description="Raise the frame rate and/or slow the clip down; cuts are never morphed "
                                   "and duplicated frames are replaced by in-between ones.")
    p.add_argument("input")
    add_options(p)
    add_output_options(p)
    p.set_defaults(run=run)


def add_options(p) -> None:
    """The job's own options (shared with ``vidext batch interpolate``)."""
    target = p.add_mutually_exclusive_group()
    target.add_argument("--factor", type=float, help="N× the input frame rate (default 2, or 1 with --slowmo)")
    target.add_argument("--fps", help="target frame rate, e.g. 60 or 59.94 or 60000/1001")
    p.add_argument("--slowmo", help="play K times slower at the same frame rate (K may be fractional: 2.5)")
    p.add_argument("--start", type=float, help="segment start (s from the first frame): only this range is slowed or smoothed")
    p.add_argument("--end", type=float, help="segment end (s, at most the clip's length); the rest is copied "
                                             "untouched")
    p.add_argument("--quality", default=config.DEFAULT_QUALITY, choices=[*PRESETS, "best"],
                   help="speed/quality preset of the classical model (default balanced); best: the slowest "
                        "and best picture, RIFE (weights at hand) with test-time augmentation and DIS quality "
                        "fused per pixel")
    p.add_argument("--model", default=config.DEFAULT_MODEL, choices=["auto", *INTERPOLATORS.names()],
                   help="interpolation backend (default dis: classical optical flow); auto: measure blend, "
                        "the DIS presets and rife (weights on disk) on excerpts of the clip, run the best")
    p.add_argument("--auto-budget", type=float, default=None, metavar="FRACTION",
                   help=f"with --model auto: time it may spend measuring, as a fraction of the full run's "
                        f"estimated time (default {config.AUTO_BUDGET:g}; a few seconds are always allowed)")
    p.add_argument("--scene-threshold", type=float, default=None,
                   help=f"scene-cut sensitivity in (0, 1], lower finds more cuts; 0 = off "
                        f"(default {config.SCENE_THRESHOLD})")
    p.add_argument("--no-dedupe", dest="dedupe", action="store_false",
                   help="keep duplicated frames (default: replace them by in-between frames)")
    p.add_argument("--low-light", action="store_true",
                   help="denoise and equalise the pictures the motion is estimated on (not the output)")
    p.add_argument("--flow-smoothing", action="store_true", help="temporal smoothing of the motion field")
    p.add_argument("--motion-blur", type=float, nargs="?", const=config.MOTION_BLUR_SHUTTER, default=0.0,
                   metavar="SHUTTER", help=f"synthesise motion blur over SHUTTER of a frame interval "
                                           f"(default when given {config.MOTION_BLUR_SHUTTER})")
    p.add_argument("--weights", metavar="PATH",
                   help="RIFE checkpoint file or folder (default: vidext's model folder, $VIDEXT_MODEL_DIR or "
                        "~/.cache/vidext/models, where set-up places it; then the Hugging Face "
                        "cache, then a download)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                   help="where RIFE runs (default auto: CUDA when present)")


def _number(text):
    if text is None:
        return None
    try:
        v = float(text)
    except ValueError:
        return text          # the library names the problem
    return int(v) if v.is_integer() else text


def options(args) -> dict:
    """Keyword arguments of :func:`vidext.interpolate` from the parsed options."""
    factor = args.factor
    if factor is not None and float(factor).is_integer():
        factor = int(factor)
    advanced = {}
    for key in ("low_light", "flow_smoothing"):
        if getattr(args, key):
            advanced[key] = True
    if args.motion_blur:
        advanced["motion_blur"] = args.motion_blur
    if not args.dedupe:
        advanced["dedupe"] = False
    return dict(factor=factor, fps=args.fps, slowmo=_number(args.slowmo), start=args.start, end=args.end,
                quality=args.quality, model=args.model, weights=args.weights, device=args.device,
                codec=args.codec, crf=args.crf, scene_threshold=args.scene_threshold,
                playable=getattr(args, "playable", False), **advanced,
                **({"auto_budget": args.auto_budget} if getattr(args, "auto_budget", None) is not None else {}))


def run(args) -> int:
    bar = ProgressBar(not args.quiet)
    try:
        result = api.interpolate(args.input, args.output, progress=bar, **options(args))
    finally:
        bar.close()
    if "auto" in result.details:
        print(result.details["auto"]["summary"])
    report(result)
    return 0
