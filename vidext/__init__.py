"""vidext: make a clip longer and smoother without making it worse."""
from __future__ import annotations

__version__ = "0.1.0"

from .api import audio, evaluate, extend, interpolate, preview, probe_file  # noqa: E402
from .batch import batch  # noqa: E402  (the function; the package is vidext.batch.job etc.)
from .errors import VidextError  # noqa: E402

__all__ = ["__version__", "audio", "batch", "evaluate", "extend", "interpolate", "preview", "probe_file", "VidextError"]
