"""Outputs appear complete or not at all."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import Iterator

from ..errors import OutputError


def check_output_path(output: str, inputs: tuple[str, ...] = ()) -> str:
    """Validate where an output may go; returns its absolute path."""
    out = os.path.abspath(output)
    if os.path.isdir(out):
        raise OutputError(f"output path is a folder: {output}")
    folder = os.path.dirname(out)
    if not os.path.isdir(folder):
        raise OutputError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"output folder is not writable: {folder}")
    for src in inputs:
        if src and os.path.exists(src) and os.path.exists(out) and os.path.samefile(src, out):
            raise OutputError("output path is the input file; choose another output name")
        if src and os.path.abspath(src) == out:
            raise OutputError("output path is the input file; choose another output name")
    return out


@contextlib.contextmanager
def atomic_output(output: str) -> Iterator[str]:
    """Yield a temporary path beside ``output``; move it into place on success.

    On any exception (or cancellation) the temporary file is removed and
    ``output`` is left as it was.  The temp file keeps the extension so that
    the container format is inferred the same way.
    """
    folder, name = os.path.split(os.path.abspath(output))
    stem, ext = os.path.splitext(name)
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".part{ext}", dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_sidecar(output: str, record: dict) -> str:
    """Write ``OUTPUT.json`` describing how ``output`` was made (atomically)."""
    path = output + ".json"
    with atomic_output(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=2, default=str)
            f.write("\n")
    return path
