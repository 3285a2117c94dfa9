"""vidext sample OUTPUT: write a short synthetic clip with sound (to try things on)."""
from __future__ import annotations

from ..media.atomic import atomic_output, check_output_path
from ..media.synth import make_clip


def add_parser(sub) -> None:
    p = sub.add_parser("sample", help="write a synthetic test clip with sound")
    p.add_argument("output")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--fps", type=float, default=25)
    p.add_argument("--size", default="640x360", help="WIDTHxHEIGHT")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..errors import ParameterError

    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError as exc:
        raise ParameterError(f"--size must look like 640x360, got {args.size!r}") from exc
    if not (16 <= w <= 4096 and 16 <= h <= 4096 and w % 2 == 0 and h % 2 == 0):
        raise ParameterError("--size must be even and between 16 and 4096 on each side")
    if not (0 < args.seconds <= 600 and 1 <= args.fps <= 240):
        raise ParameterError("--seconds must be in (0, 600] and --fps in [1, 240]")
    out = check_output_path(args.output)
    with atomic_output(out) as tmp:
        make_clip(tmp, frames=max(2, round(args.seconds * args.fps)), fps=args.fps, width=w, height=h)
    print(out)
    return 0
