"""vidext: make a clip longer and smoother without making it worse."""
from __future__ import annotations

from ._version import __version__
from .api import (audio, batch, evaluate, extend, interpolate, plan_audio, plan_extend, plan_interpolate,
                  preview, probe_file)
from .errors import VidextError

__all__ = ["__version__", "audio", "batch", "evaluate", "extend", "interpolate", "plan_audio", "plan_extend",
           "plan_interpolate", "preview", "probe_file", "VidextError"]
