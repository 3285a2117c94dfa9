"""Outputs appear complete or not at all.

A job writes into a hidden temporary file beside its target
(``.NAME.RANDOM.part.EXT``) and renames it into place only when complete;
any failure or cancellation removes it.  A process killed outright cannot
clean up, so every job first sweeps its output folder for such temporary
files left by earlier jobs that have not been touched for a while
(:func:`clean_stale_parts`).
"""
from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import tempfile
import time
from typing import Iterator

from .. import config
from .._version import __version__
from ..errors import OutputError

log = logging.getLogger(__name__)


def _umask() -> int:
    mask = os.umask(0)  # read once at import, in the importing thread
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()

# ".{stem}.{8 random chars from mkstemp}.part{ext}": nothing else in a folder is ever matched.
_PART = re.compile(r"^\.(.+)\.[a-z0-9_]{8}\.part(\.[A-Za-z0-9]{1,8})?$")

_WRITE_ERRORS = {
    errno.ENOSPC: "no space left on the disk",
    errno.EFBIG: "the file size limit was reached",
    errno.EDQUOT: "the disk quota was exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.EIO: "an input/output error occurred",
}


def output_error(exc: BaseException, output: str) -> OutputError:
    """One-line :class:`OutputError` for a failed write to ``output`` (never names the temp file)."""
    reason = _WRITE_ERRORS.get(getattr(exc, "errno", None))
    if reason is None:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    name = os.path.basename(output)
    part = _PART.match(name)
    if part:
        name = part.group(1) + (part.group(2) or "")
    return OutputError(f"cannot write {name}: {reason}")


def check_output_path(output: str, inputs: tuple[str, ...] = ()) -> str:
    """Validate where an output may go; returns its absolute path."""
    if not output or "\x00" in output:
        raise OutputError("output path is empty or contains a NUL character")
    out = os.path.abspath(output)
    if os.path.isdir(out):
        raise OutputError(f"output path is a folder: {output}")
    if os.path.exists(out) and not os.path.isfile(out):
        raise OutputError(f"output path exists and is not a regular file: {output}")
    folder = os.path.dirname(out)
    if not os.path.isdir(folder):
        raise OutputError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"output folder is not writable: {folder}")
    for src in inputs:
        if not src:
            continue
        same = os.path.abspath(src) == out or os.path.realpath(src) == os.path.realpath(out)
        if not same and os.path.exists(src) and os.path.exists(out):
            same = os.path.samefile(src, out)
        if same:
            raise OutputError("output path is the input file; choose another output name")
    return out


def is_part_file(name: str) -> bool:
    """Whether ``name`` (a base name) is one of vidext's temporary output files."""
    return bool(_PART.match(name))


def clean_stale_parts(folder: str, older_than_s: float | None = None) -> list[str]:
    """Remove vidext temp files in ``folder`` untouched for ``older_than_s`` seconds.

    These are left only by a process killed outright (a failed or cancelled
    job removes its own).  Returns the paths removed; errors (a file already
    gone, a read-only folder) are not the caller's problem and are ignored.
    """
    age = config.stale_part_age_s() if older_than_s is None else older_than_s
    now = time.time()
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not is_part_file(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if now - entry.stat(follow_symlinks=False).st_mtime < age:
                continue
            os.unlink(entry.path)
            removed.append(entry.path)
        except OSError:
            continue
    if removed:
        log.info("removed %d stale temporary file(s) in %s", len(removed), folder)
    return removed


@contextlib.contextmanager
def atomic_output(output: str) -> Iterator[str]:
    """Yield a temporary path beside ``output``; move it into place on success.

    On any exception (or cancellation) the temporary file is removed and
    ``output`` is left as it was.  The temp file keeps the extension so that
    the container format is inferred the same way.  Stale temp files of
    killed jobs in the same folder are swept first.
    """
    folder, name = os.path.split(os.path.abspath(output))
    stem, ext = os.path.splitext(name)
    clean_stale_parts(folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".part{ext}", dir=folder)
    except OSError as exc:
        raise output_error(exc, output) from exc
    os.close(fd)
    os.chmod(tmp, _FILE_MODE)  # mkstemp makes 0600; outputs get the usual mode (0644 under umask 022)
    try:
        yield tmp
        try:
            os.replace(tmp, output)
        except OSError as exc:
            raise output_error(exc, output) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def sidecar_header(command: str, **fields) -> dict:
    """The start of every sidecar (``OUTPUT.json``): who wrote it, which command, then ``fields``
    (``parameters``, ``input`` ...).  Every job's sidecar begins here."""
    return {"tool": "vidext", "version": __version__, "command": command, **fields}


def write_sidecar(output: str, record: dict, *, xmp: bool = True) -> str:
    """Write ``OUTPUT.json`` describing how ``output`` was made (atomically), and with ``xmp`` the same
    as ``OUTPUT.xmp`` for editing software (:mod:`vidext.media.xmp`); returns the JSON's path."""
    from .xmp import xmp_packet, xmp_path

    path = output + ".json"
    _write_text(path, json.dumps(record, indent=2, default=str) + "\n")
    if xmp:
        _write_text(xmp_path(output), xmp_packet(output, record))
    return path


def _write_text(path: str, text: str) -> None:
    with atomic_output(path) as tmp:
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise output_error(exc, path) from exc


class Sidecar:
    """Writes ``OUTPUT.json`` and ``OUTPUT.xmp`` from inside :func:`atomic_job_output`, before the output
    is renamed."""

    def __init__(self, output: str):
        self.output = output
        self.path: str | None = None

    def write(self, record: dict) -> str:
        self.path = write_sidecar(self.output, record)
        return self.path


@contextlib.contextmanager
def atomic_job_output(output: str) -> Iterator[tuple[str, Sidecar]]:
    """:func:`atomic_output` for a job's output and its complete sidecar.

    Yields ``(temp path, sidecar)``; the job writes the output into the temp
    path, then its final record with ``sidecar.write(record)``.  The sidecar
    goes into place just before the output: a job that fails writing it
    leaves neither, and the sidecar is removed if the output's rename fails.
    """
    sidecar = Sidecar(output)
    try:
        with atomic_output(output) as tmp:
            yield tmp, sidecar
    except BaseException:
        if sidecar.path is not None:
            from .xmp import xmp_path

            for path in (sidecar.path, xmp_path(output)):
                with contextlib.suppress(OSError):
                    os.unlink(path)
        raise
