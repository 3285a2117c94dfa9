"""Which files a server may read or write: only those under folders it owns.

A web front end receives paths from strangers (uploads it staged itself,
results it made, and anything a crafted request names instead).
:func:`allowed_file` accepts a path only when it is a regular file whose
real location lies inside one of the allowed folders (the upload cache, the
app's own job folders); ``/etc/passwd``, ``..`` components, symlinks that
lead out, pipes and devices are refused with a one-line
:class:`PathRefused`.  It returns the resolved path, which is the one to
open (so a later swap of a symlink cannot redirect the read).
:func:`safe_name` turns user text into a file name that cannot climb out of
a folder nor be read as a command-line option.
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
import unicodedata
from typing import Iterable

from .errors import VidextError

_NAME_LIMIT = 80


class PathRefused(VidextError, PermissionError):
    """A path outside the folders this process may serve or read."""


def upload_root() -> str:
    """Where Gradio stages uploads (``GRADIO_TEMP_DIR``, else ``<tmp>/gradio``)."""
    return os.environ.get("GRADIO_TEMP_DIR") or os.path.join(tempfile.gettempdir(), "gradio")


def _plain(path) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise PathRefused(f"not a file path: {type(path).__name__}")
    text = os.fspath(path)
    if isinstance(text, bytes):
        raise PathRefused("not a file path: bytes")
    if not text or "\x00" in text:
        raise PathRefused("file path is empty or contains a NUL character")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise PathRefused("file path contains control characters")
    return text


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _real_roots(roots: Iterable[str]) -> list[str]:
    out = []
    for r in roots:
        r = os.path.realpath(_plain(r))
        if r == os.path.realpath(os.sep):
            raise ValueError("the file-system root cannot be an allowed folder")
        out.append(r)
    if not out:
        raise ValueError("no allowed folders given")
    return out


def allowed_file(path, roots: Iterable[str]) -> str:
    """The real path of ``path`` if it is a regular file inside one of ``roots``.

    Refused: empty paths, NUL or control characters, any ``..`` component
    (even one that would resolve back inside), paths whose real location
    (symlinks followed) lies outside every root, missing files, and anything
    that is not a regular file (folders, pipes, devices, sockets).
    """
    text = _plain(path)
    name = os.path.basename(text) or text
    if ".." in re.split(r"[\\/]", text):
        raise PathRefused(f"file path may not contain '..': {name}")
    real = os.path.realpath(text)
    if not any(_inside(real, root) for root in _real_roots(roots)):
        raise PathRefused(f"{name} is outside the folders this server reads from")
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise PathRefused(f"{name} does not exist") from None
    except OSError as exc:
        raise PathRefused(f"{name} cannot be read: {exc.strerror}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise PathRefused(f"{name} is not a regular file")
    return real


def allowed_output(path, roots: Iterable[str]) -> str:
    """The real path where an output may be written: its folder must exist inside ``roots``.

    The file itself may not exist yet; if it does, it must be a regular
    file (never a symlink leading elsewhere).
    """
    text = _plain(path)
    name = os.path.basename(text)
    if not name or name in (".", ".."):
        raise PathRefused("output path names no file")
    if ".." in re.split(r"[\\/]", text):
        raise PathRefused(f"output path may not contain '..': {name}")
    folder = os.path.realpath(os.path.dirname(os.path.abspath(text)))
    if not any(_inside(folder, root) for root in _real_roots(roots)):
        raise PathRefused(f"{name} would be written outside the folders this server writes to")
    if not os.path.isdir(folder):
        raise PathRefused(f"the folder of {name} does not exist")
    target = os.path.join(folder, name)
    if os.path.islink(target) or (os.path.lexists(target) and not os.path.isfile(target)):
        raise PathRefused(f"{name} exists and is not a regular file")
    return target


def safe_name(text: str, default: str = "clip", limit: int = _NAME_LIMIT) -> str:
    """A file-name stem from user text: no separators, no leading dot or dash, no control characters.

    Letters and digits of any script are kept (NFC-normalised); everything
    else becomes ``_``.  Never empty, never longer than ``limit`` characters.
    """
    stem = os.path.splitext(os.path.basename(str(text or "").replace("\\", "/")))[0]
    stem = unicodedata.normalize("NFC", stem)
    stem = "".join(ch if (ch.isalnum() or ch in "_-") else "_" for ch in stem)
    stem = re.sub(r"[_-]*_[_-]*", "_", stem).strip("_-.")[:limit]
    return stem or default
