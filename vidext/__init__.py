"""vidext: make a clip longer and smoother without making it worse."""
from __future__ import annotations

__version__ = "0.1.0"

from .api import audio, interpolate, probe_file  # noqa: E402
from .errors import VidextError  # noqa: E402

__all__ = ["__version__", "audio", "interpolate", "probe_file", "VidextError"]
