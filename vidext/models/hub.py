"""Finding weights: an explicit path, vidext's model folder, the Hugging Face cache, then a download.

Order (the first that holds a complete copy wins):

1. ``weights=`` (CLI ``--weights``): a file, or a folder holding the model's
   files.  Given explicitly, it must be right: no silent fall-through.
2. vidext's own model folder, :func:`model_dir`: ``$VIDEXT_MODEL_DIR``, else
   ``models/`` in vidext's cache folder (``$VIDEXT_CACHE``, else
   ``$XDG_CACHE_HOME/vidext``, else ``~/.cache/vidext``), then ``<name>/``
   inside it (a single file may also sit there under its own base name).
   Set-up (``scripts/fetch_assets.py``) places the RIFE weights there with
   :func:`place`, so a set-up machine runs RIFE offline.
3. The Hugging Face cache (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else
   huggingface_hub's default), looked up with ``local_files_only``.
4. A download with huggingface_hub (progress bars on stderr, picked up by
   ``gr.Progress(track_tqdm=True)``), unless ``HF_HUB_OFFLINE`` is set.

Single-file models are checked against their sha256 wherever they come from.
Every failure is a :class:`~vidext.errors.ModelError` naming the model, the
places searched and how to provide the weights.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from .registry import ModelSpec, get_spec

HASH_BLOCK_BYTES = 1 << 20      # read size when checking a weight file's sha256
HUB_CONNECT_TIMEOUT_S = 5.0     # seconds to open a connection to the Hub before a download is called impossible


log = logging.getLogger(__name__)

_TRUE = {"1", "on", "yes", "true"}
_digests: dict[tuple[str, int, int], str] = {}
_digest_lock = threading.Lock()


@dataclass(frozen=True)
class Resolved:
    """Where a model's weights were found."""

    spec: ModelSpec
    path: Path           # the file of a single-file model, else the folder
    source: str          # "weights", "model_dir", "cache" or "download"
    revision: str | None  # the Hub commit, when the copy came from the Hub cache

    def as_dict(self) -> dict:
        return {"model": self.spec.name, "path": str(self.path), "source": self.source,
                "repo_id": self.spec.repo_id, "revision": self.revision}


def offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` forbids network access (read at call time)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def hub_cache_dir() -> str | None:
    """The Hub cache folder the environment asks for (None: huggingface_hub's default)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    return None


def pinned_revision(spec: ModelSpec) -> str:
    """The revision to ask the Hub for: an operator's override, the spec's pin, else ``main``."""
    env = "VIDEXT_REVISION_" + spec.name.upper().replace("-", "_").replace(".", "_")
    return os.environ.get(env) or spec.revision or "main"


def sha256_of(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) for the process."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _digest_lock:
        if key in _digests:
            return _digests[key]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(HASH_BLOCK_BYTES), b""):
            h.update(block)
    digest = h.hexdigest()
    with _digest_lock:
        _digests[key] = digest
    return digest


def verify(spec: ModelSpec, path: Path) -> None:
    """Reject a single file whose sha256 is not the spec's."""
    if spec.sha256 is None or not spec.single_file:
        return
    got = sha256_of(path)
    if got != spec.sha256:
        raise ModelError(
            f"model {spec.name!r}: {path} has sha256 {got[:16]}…, expected {spec.sha256[:16]}… "
            f"(a corrupt or different checkpoint); delete it or pass the right file with --weights")


def cache_root() -> Path:
    """vidext's cache folder: ``$VIDEXT_CACHE``, else ``$XDG_CACHE_HOME/vidext``, else ``~/.cache/vidext``."""
    if os.environ.get("VIDEXT_CACHE"):
        return Path(os.environ["VIDEXT_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vidext"


def model_dir() -> Path:
    """The folder vidext looks in before the Hugging Face cache (one sub-folder per model):
    ``$VIDEXT_MODEL_DIR``, else ``models`` in :func:`cache_root` (read at call time)."""
    explicit = os.environ.get("VIDEXT_MODEL_DIR")
    return Path(explicit).expanduser() if explicit else cache_root() / "models"


def place(name: str, source: str | os.PathLike, folder: str | os.PathLike | None = None) -> Path:
    """Put a single-file model's file where :func:`locate` finds it: ``folder`` (default
    :func:`model_dir`) ``/<name>/<file's base name>``, checked against the spec's sha256 first.

    A hard link where the two lie on one file system, else a copy; written under a temporary
    name and renamed, so an interrupted placement never leaves a partial file where it is looked
    for.  Already there with the right digest: left as it is.  Returns the placed path.
    """
    import shutil

    spec = get_spec(name)
    if not spec.single_file:
        raise ModelError(f"model {spec.name!r} has several files: place its folder in {model_dir()}/{spec.name}/")
    source = Path(source)
    if not source.is_file():
        raise ModelError(f"model {spec.name!r}: {source} does not exist")
    verify(spec, source)
    dest = Path(folder).expanduser() if folder is not None else model_dir()
    dest = dest / spec.name / Path(spec.filename).name
    if dest.is_file():
        with contextlib.suppress(ModelError):
            verify(spec, dest)
            return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    try:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        try:
            os.link(source, part)
        except OSError:                 # another file system, or links not allowed: a copy
            shutil.copyfile(source, part)
        verify(spec, part)
        os.replace(part, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    return dest


def _complete(spec: ModelSpec, folder: Path) -> bool:
    return folder.is_dir() and all((folder / rel).is_file() for rel in spec.must_have)


def _in_folder(spec: ModelSpec, folder: Path) -> Path | None:
    """The model inside ``folder``: its file (repo path or base name) or the folder itself."""
    if spec.single_file:
        for cand in (folder / spec.filename, folder / Path(spec.filename).name):
            if cand.is_file():
                return cand
        return None
    return folder if _complete(spec, folder) else None


def _explicit(spec: ModelSpec, weights: str | os.PathLike) -> Path:
    p = Path(weights).expanduser()
    if p.is_file():
        if not spec.single_file:
            raise ModelError(f"model {spec.name!r} has several files: --weights must be a folder "
                             f"holding {', '.join(spec.must_have)}, not the file {p}")
        return p
    if p.is_dir():
        found = _in_folder(spec, p)
        if found is None:
            want = Path(spec.filename).name if spec.single_file else ", ".join(spec.must_have)
            raise ModelError(f"model {spec.name!r}: {p} does not hold {want}")
        return found
    raise ModelError(f"model {spec.name!r}: weights path {p} does not exist")


def _snapshot_commit(path: Path) -> str | None:
    parts = path.parts   # …/snapshots/<commit>/… (not resolved: files are links into blobs/)
    for a, b in zip(parts, parts[1:]):
        if a == "snapshots" and len(b) == 40:
            return b
    return None


def _from_hub(spec: ModelSpec, revision: str, *, local_only: bool) -> Path | None:
    """Cache lookup (``local_only``) or download; None when the cache lacks it."""
    import huggingface_hub
    from huggingface_hub import errors as hf_errors

    kw = dict(repo_id=spec.repo_id, revision=revision, cache_dir=hub_cache_dir(),
              local_files_only=local_only)
    if os.environ.get("HF_ENDPOINT"):
        kw["endpoint"] = os.environ["HF_ENDPOINT"]
    try:
        if spec.single_file:
            return Path(huggingface_hub.hf_hub_download(filename=spec.filename, **kw))
        folder = Path(huggingface_hub.snapshot_download(allow_patterns=list(spec.files), **kw))
    except hf_errors.LocalEntryNotFoundError as exc:
        if local_only:
            return None
        raise ModelError(f"model {spec.name!r}: download from {spec.url} failed "
                         f"({_short(exc)}); {_how(spec)}") from exc
    except (OSError, ValueError, hf_errors.HfHubHTTPError) as exc:
        if local_only:
            return None
        raise ModelError(f"model {spec.name!r}: download from {spec.url} at revision {revision} "
                         f"failed ({_short(exc)}); {_how(spec)}") from exc
    if not _complete(spec, folder):
        if local_only:
            return None
        raise ModelError(f"model {spec.name!r}: the download from {spec.url} at revision {revision} "
                         f"lacks {', '.join(r for r in spec.must_have if not (folder / r).is_file())}")
    return folder


def hub_unreachable(timeout: float = HUB_CONNECT_TIMEOUT_S) -> str | None:
    """Why the Hub's host cannot be reached from here, or None when a connection opens.

    One TCP connection with a short timeout, before huggingface_hub's own
    retries (which spend ~25 s on a name that does not resolve).  Skipped
    (None) behind a proxy, where a direct connection says nothing.
    """
    import socket
    from urllib.parse import urlsplit

    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None
    url = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return f"the Hugging Face Hub ({host}:{port}) cannot be reached from this machine ({reason})"
    return None


def _short(exc: BaseException, limit: int = 240) -> str:
    """The exception's type and first sentences, cut at a word, never mid-word."""
    text = " ".join(str(exc).split())
    if len(text) > limit:
        cut = text[:limit]
        end = max(cut.rfind(". "), cut.rfind("; "))
        text = cut[:end + 1] if end > limit // 3 else cut[:cut.rfind(" ")] + " …"
    return f"{type(exc).__name__}: {text}"


def _how(spec: ModelSpec) -> str:
    where = Path(spec.filename).name if spec.single_file else "its files"
    return (f"provide it with --weights PATH (Python: weights=PATH), put {where} in "
            f"{model_dir() / spec.name}/ ($VIDEXT_MODEL_DIR), or allow a download from {spec.url}")


def locate(name: str, weights: str | os.PathLike | None = None, *,
           download: bool = True) -> Resolved:
    """Find ``name``'s weights (see the module docstring for the order)."""
    spec = get_spec(name)
    if weights is not None:
        path = _explicit(spec, weights)
        verify(spec, path)
        return Resolved(spec, path, "weights", None)
    folder = model_dir() / spec.name
    looked = [str(folder)]
    found = _in_folder(spec, folder)
    if found is not None:
        verify(spec, found)
        return Resolved(spec, found, "model_dir", None)
    revision = pinned_revision(spec)
    cache = hub_cache_dir() or "the default Hugging Face cache"
    looked.append(f"{cache} ({spec.repo_id}@{revision})")
    path = _from_hub(spec, revision, local_only=True)
    if path is not None:
        verify(spec, path)
        return Resolved(spec, path, "cache", _snapshot_commit(path))
    if offline() or not download:
        why = "HF_HUB_OFFLINE is set" if offline() else "downloads are off"
        raise ModelError(f"model {spec.name!r} not found (looked in {'; '.join(looked)}; {why}): "
                         f"{_how(spec)}")
    unreachable = hub_unreachable()
    if unreachable:
        raise ModelError(f"model {spec.name!r} not found (looked in {'; '.join(looked)}) and {unreachable}: "
                         f"{_how(spec)}")
    log.info("downloading %s from %s (revision %s)", spec.name, spec.url, revision)
    path = _from_hub(spec, revision, local_only=False)
    verify(spec, path)
    return Resolved(spec, path, "download", _snapshot_commit(path))


def resolve(name: str, weights: str | os.PathLike | None = None) -> Path:
    """Path of ``name``'s weights: its file (single-file models) or its folder."""
    return locate(name, weights).path
