"""A quick look at what a full interpolation run would give, for the app.

The excerpt (``config.PREVIEW_SECONDS`` from the segment start, or from the
beginning) is scaled to ``config.PREVIEW_WIDTH`` pixels wide and run through
:func:`vidext.interpolate` with the same settings, video only.  Results are
cached by input file (path, size, modification time) and settings in
``$VIDEXT_CACHE/preview`` (default ``~/.cache/vidext/preview``), keeping the
newest ``config.PREVIEW_CACHE_ENTRIES``.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from fractions import Fraction
from pathlib import Path

import av

from .. import __version__, config
from ..errors import InputError, ParameterError
from ..media.probe import open_input, probe, probe_video

_NOT_SETTINGS = {"progress", "stop", "output"}


def cache_dir() -> Path:
    root = Path(os.environ.get("VIDEXT_CACHE", Path.home() / ".cache" / "vidext"))
    return root / "preview"


def _key(input: str, settings: dict) -> str:
    st = os.stat(input)
    blob = json.dumps({"path": os.path.abspath(input), "size": st.st_size, "mtime": st.st_mtime_ns,
                       "settings": settings, "version": __version__, "seconds": config.PREVIEW_SECONDS,
                       "width": config.PREVIEW_WIDTH}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _write_excerpt(input: str, path: str, t0: Fraction, t1: Fraction) -> int:
    """Frames of ``input`` shown in [t0, t1), scaled down, as a near-lossless h264 clip."""
    info = probe(input)
    video = info.video
    w = min(config.PREVIEW_WIDTH, video.width)
    h = max(2, round(video.height * w / video.width / 2) * 2)
    w -= w % 2
    n = 0
    with open_input(input) as src, av.open(path, "w") as dst:
        stream = src.streams.video[0]
        stream.thread_type = "AUTO"
        tb = Fraction(stream.time_base.numerator, stream.time_base.denominator)
        rate = video.fps_nominal
        out = dst.add_stream("libx264", rate=rate)
        out.width, out.height, out.pix_fmt = w, h, "yuv420p"
        out.options = {"crf": "10", "preset": "ultrafast"}
        out.codec_context.time_base = 1 / rate
        last = None
        for frame in src.decode(stream):
            if frame.pts is None:
                continue
            t = frame.pts * tb
            if t < t0:
                continue
            if t >= t1:
                break
            small = frame.reformat(width=w, height=h, format="yuv420p")
            pts = round((t - t0) * rate)
            if last is not None and pts <= last:
                continue
            small.pts, small.time_base, last = pts, 1 / rate, pts
            for p in out.encode(small):
                dst.mux(p)
            n += 1
        for p in out.encode():
            dst.mux(p)
    return n


def preview(input: str, **settings) -> str:
    """Path of a low-resolution excerpt interpolated with ``settings`` (cached)."""
    from ..api import interpolate

    if not os.path.isfile(input):
        raise InputError(f"input file not found: {os.path.basename(input)}")
    unknown = _NOT_SETTINGS & set(settings)
    if "output" in unknown:
        raise ParameterError("preview chooses its own output path; drop 'output'")
    kept = {k: v for k, v in settings.items() if k not in _NOT_SETTINGS}
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{_key(input, kept)}.mp4"
    if target.exists():
        os.utime(target)
        return str(target)
    info = probe_video(input)
    begin = Fraction(info.video.start_s).limit_denominator(10**6)
    start, end = kept.pop("start", None), kept.pop("end", None)
    t0 = begin + Fraction(str(start)) if start is not None else begin
    t1 = t0 + Fraction(config.PREVIEW_SECONDS).limit_denominator(1000)
    if end is not None:
        t1 = min(t1, begin + Fraction(str(end)))
    with tempfile.TemporaryDirectory(prefix="vidext-preview-") as tmp:
        excerpt = os.path.join(tmp, "excerpt.mp4")
        if _write_excerpt(input, excerpt, t0, t1) < 2:
            raise InputError(f"{os.path.basename(input)}: fewer than two frames in the preview window "
                             f"{float(t0):g}–{float(t1):g} s")
        # interpolate() writes atomically: a cancelled preview leaves nothing in the cache
        interpolate(excerpt, str(target), progress=settings.get("progress"), stop=settings.get("stop"),
                    **{"codec": "h264", **kept})
    for old in sorted(folder.glob("*.mp4"), key=lambda p: p.stat().st_mtime)[:-config.PREVIEW_CACHE_ENTRIES]:
        old.unlink(missing_ok=True)
        Path(str(old) + ".json").unlink(missing_ok=True)
    Path(str(target) + ".json").unlink(missing_ok=True)
    return str(target)
