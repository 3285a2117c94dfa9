"""vidext probe INPUT [--json]"""
from __future__ import annotations

import json

from .. import api


def add_parser(sub) -> None:
    p = sub.add_parser("probe", help="describe a media file")
    p.add_argument("input")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    info = api.probe_file(args.input)
    if args.json:
        print(json.dumps(info.as_dict(), indent=2, default=str))
        return 0
    print(f"{info.path}: {info.container}, {info.duration_s:.3f} s, {info.size_bytes} bytes")
    v = info.video
    if v:
        rate = f"{float(v.fps_nominal):.3f} fps" + (" (variable)" if v.variable_frame_rate else "")
        print(f"  video #{v.index}: {v.codec} {v.width}×{v.height} {v.pix_fmt} ({v.bit_depth}-bit), {rate}, "
              f"{v.frame_count if v.frame_count is not None else '?'} frames, rotation {v.rotation}°, "
              f"colour {v.colour.as_dict()}")
    for a in info.audio:
        words = ", ".join(x for x in (a.language, f'"{a.title}"' if a.title else None, *a.disposition) if x)
        print(f"  audio #{a.index}: {a.codec} {a.rate} Hz {a.layout or a.channels}" + (f" ({words})" if words else ""))
    for s in info.streams:
        if s.type in ("video", "audio") and s.role in ("picture", ""):
            continue
        words = ", ".join(x for x in (s.language, f'"{s.title}"' if s.title else None, s.role, *s.disposition) if x)
        print(f"  {s.type} #{s.index}: {s.filename or s.codec or 'unknown'}" + (f" ({words})" if words else ""))
    for c in info.chapters:
        print(f"  chapter {float(c.start):.3f}–{float(c.end):.3f} s" + (f": {c.title}" if c.title else ""))
    if info.tags:
        print("  tags: " + ", ".join(f"{k}={v}" for k, v in info.tags.items()))
    return 0
