"""A quick look at what a full interpolation run would give, for the app.

The excerpt (``PREVIEW_SECONDS`` from the segment start, or from the
beginning) is scaled to ``PREVIEW_WIDTH`` pixels wide and run through
:func:`vidext.interpolate`'s job with the same settings, video only.  Results are
cached by input file (path, size, modification time) and settings in
``$VIDEXT_CACHE/preview`` (default ``~/.cache/vidext/preview``), keeping the
newest ``PREVIEW_CACHE_ENTRIES``.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from fractions import Fraction
from pathlib import Path

from .._version import __version__
from ..errors import InputError, ParameterError
from ..media.excerpt import write_excerpt
from ..media.probe import probe_video

# Preview for the app: a short low-resolution excerpt, cached.
PREVIEW_SECONDS = 2.0
PREVIEW_WIDTH = 480
PREVIEW_CACHE_ENTRIES = 32


_NOT_SETTINGS = {"progress", "stop", "output"}


def cache_dir() -> Path:
    root = Path(os.environ.get("VIDEXT_CACHE", Path.home() / ".cache" / "vidext"))
    return root / "preview"


def _key(input: str, settings: dict) -> str:
    st = os.stat(input)
    blob = json.dumps({"path": os.path.abspath(input), "size": st.st_size, "mtime": st.st_mtime_ns,
                       "settings": settings, "version": __version__, "seconds": PREVIEW_SECONDS,
                       "width": PREVIEW_WIDTH}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def preview(input: str, **settings) -> str:
    """Path of a low-resolution excerpt interpolated with ``settings`` (cached)."""
    from .interpolate import run_interpolation

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
    t1 = t0 + Fraction(PREVIEW_SECONDS).limit_denominator(1000)
    if end is not None:
        t1 = min(t1, begin + Fraction(str(end)))
    with tempfile.TemporaryDirectory(prefix="vidext-preview-") as tmp:
        excerpt = os.path.join(tmp, "excerpt.mp4")
        if write_excerpt(info, excerpt, t0, t1, PREVIEW_WIDTH) < 2:
            raise InputError(f"{os.path.basename(input)}: fewer than two frames in the preview window "
                             f"{float(t0):g}–{float(t1):g} s")
        # the job writes atomically: a cancelled preview leaves nothing in the cache
        run_interpolation(excerpt, str(target), progress=settings.get("progress"), stop=settings.get("stop"),
                    **{"codec": "h264", **kept})
    for old in sorted(folder.glob("*.mp4"), key=lambda p: p.stat().st_mtime)[:-PREVIEW_CACHE_ENTRIES]:
        old.unlink(missing_ok=True)
        Path(str(old) + ".json").unlink(missing_ok=True)
    Path(str(target) + ".json").unlink(missing_ok=True)
    return str(target)
