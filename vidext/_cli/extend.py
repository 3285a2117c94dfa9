"""vidext extend INPUT -o OUTPUT --seconds S [--direction ...] [--method ...] ..."""
from __future__ import annotations

from .. import api, config
from ..extension import EXTENDERS
from ..models.quantization import SPELLINGS
from ..sound.continuation import CONTINUATIONS
from .common import ProgressBar, add_output_options, report


def add_parser(sub) -> None:
    p = sub.add_parser("extend", help="new frames past the last (or before the first) frame",
                       description="Make a clip longer: the original is kept untouched and new frames "
                                   "are added at one end or both.")
    p.add_argument("input")
    add_options(p)
    add_output_options(p)
    p.set_defaults(run=run)


def add_options(p) -> None:
    """The job's own options (shared with ``vidext batch extend``)."""
    p.add_argument("--seconds", type=float, required=True, help="seconds of new frames per end")
    p.add_argument("--direction", default="forward", choices=list(config.EXTEND_DIRECTIONS),
                   help="which end(s) to extend (default forward: after the last frame)")
    p.add_argument("--method", default=config.DEFAULT_EXTEND_METHOD, choices=EXTENDERS.names(),
                   help="; ".join(f"{n}: {EXTENDERS.summary(n)}" for n in EXTENDERS))
    p.add_argument("--seed", type=int, default=None, help="random seed (generative methods)")
    p.add_argument("--prompt", default=None, help="text describing the continuation (ltx, musicgen)")
    p.add_argument("--quantize", default=None, choices=[k for k in SPELLINGS if k],
                   help="weight quantization of the generative models")
    p.add_argument("--audio-method", default=config.DEFAULT_EXTEND_AUDIO,
                   choices=["follow", *CONTINUATIONS.names()],
                   help="how the sound is extended: follow (default) replays the sound of the footage the "
                        "picture replays, in sync; loop: its own music-aware loop point")


def options(args) -> dict:
    """Keyword arguments of :func:`vidext.extend` from the parsed options."""
    return dict(seconds=args.seconds, direction=args.direction, method=args.method, seed=args.seed,
                audio_method=args.audio_method, prompt=args.prompt, quantize=args.quantize, codec=args.codec,
                crf=args.crf, playable=getattr(args, "playable", False))


def run(args) -> int:
    bar = ProgressBar(not args.quiet)
    try:
        result = api.extend(args.input, args.output, progress=bar, **options(args))
    finally:
        bar.close()
    report(result)
    summary = result.details.get("extension", {}).get("summary")
    if summary:
        print(f"{args.method}: {summary}")
    return 0
