"""Fetch model weights ahead of time: ``python -m vidext.webapp.prefetch NAME ...``.

The Docker image runs it at build time for the models named in its
``PRELOAD_MODELS`` build argument, so the container starts with them in its
model cache.  Each model is looked up where the model layer looks
($VIDEXT_MODEL_DIR, the Hugging Face cache) and downloaded at its pinned
revision only when missing.  Exit status 2 and one line per failure.
"""
from __future__ import annotations

import sys


def prefetch(names: list[str]) -> list[str]:
    """Resolve each model (downloading what is missing); returns one line per model."""
    from ..models import locate

    lines = []
    for name in names:
        found = locate(name)
        lines.append(f"{name}: {found.source} {found.path}")
    return lines


def main(argv: list[str] | None = None) -> int:
    from ..errors import VidextError

    names = [n for arg in (sys.argv[1:] if argv is None else argv) for n in arg.replace(",", " ").split()]
    status = 0
    for name in names:
        try:
            print(prefetch([name])[0])
        except VidextError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())
