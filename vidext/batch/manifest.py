"""The batch's memory across runs: what each file and chunk is, whether it is done, its checksum.

``DIR/.vidext-batch/manifest.json`` is rewritten atomically after every
finished piece.  A piece counts as done only while its file is there with
the checksum recorded when it finished; anything missing, damaged or made
from other settings (the entry's key changes) is done again.
"""
from __future__ import annotations

import hashlib
import json
import os

from ..errors import OutputError
from ..media.atomic import atomic_output, output_error

BATCH_STATE_DIR = ".vidext-batch"   # in the output folder: the manifest and the chunks not yet joined


VERSION = 1


def sha256(path: str) -> str | None:
    """Checksum of a file, None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def entry_key(job: str, options: dict, path: str, chunk_seconds) -> str:
    """What an entry was made from: the job, its settings and the input file as it was."""
    st = os.stat(path)
    text = json.dumps([job, options, os.path.abspath(path), st.st_size, st.st_mtime_ns,
                       None if chunk_seconds is None else str(chunk_seconds)], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Manifest:
    """Entries per input file: ``{"key", "output", "sha256", "chunks": [{"part", "sha256", ...}]}``."""

    def __init__(self, out_dir: str):
        self.folder = os.path.join(out_dir, BATCH_STATE_DIR)
        self.path = os.path.join(self.folder, "manifest.json")
        self.files: dict[str, dict] = {}
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
            if data.get("version") == VERSION:
                self.files = data.get("files", {})
        except (OSError, ValueError):
            pass   # none yet, or damaged: everything is checked again

    def entry(self, path: str, key: str) -> dict:
        """The entry of input ``path``, fresh when it was made from something else."""
        e = self.files.get(path)
        if e is None or e.get("key") != key:
            e = self.files[path] = {"key": key}
        return e

    @staticmethod
    def valid(record: dict | None, file_path: str) -> bool:
        """Whether ``record`` says done and ``file_path`` still has its checksum."""
        return bool(record) and record.get("state") == "done" and record.get("sha256") is not None \
            and os.path.isfile(file_path) and sha256(file_path) == record["sha256"]

    def save(self) -> None:
        try:
            os.makedirs(self.folder, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {self.folder}: {exc.strerror or exc}") from exc
        with atomic_output(self.path) as tmp:
            try:
                with open(tmp, "w", encoding="utf-8") as f:
                    json.dump({"version": VERSION, "files": self.files}, f, indent=1, default=str)
            except OSError as exc:
                raise output_error(exc, self.path) from exc
