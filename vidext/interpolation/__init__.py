"""Interpolation: new frames between real ones.

Backends register here by name; :mod:`vidext.jobs.interpolate` (behind :func:`vidext.interpolate`) runs any of them
over a file.  Classical ``dis`` needs no download and no torch.
"""
from __future__ import annotations

from .. import config
from ..registry import Registry
from .base import Between, Interpolator

INTERPOLATORS: Registry[Interpolator] = Registry("interpolation model")
INTERPOLATORS.add("dis", "vidext.interpolation.flow:DISInterpolator",
                  "OpenCV DIS optical flow, bidirectional, occlusion-aware (CPU, no download)")
INTERPOLATORS.add("blend", "vidext.interpolation.base:Blend", "50/50 cross-fade (baseline)")
INTERPOLATORS.add("rife", "vidext.interpolation.rife:RIFEInterpolator",
                  "RIFE 4.25 learned flow (torch; CPU or CUDA; weights from the Hub or --weights)",
                  model=config.RIFE_MODEL)
INTERPOLATORS.add("best", "vidext.interpolation.fusion:FusionInterpolator",
                  "every method at hand fused per pixel: RIFE 4.25 with test-time augmentation and DIS quality "
                  "(slowest; DIS alone without RIFE's weights)", model=config.RIFE_MODEL)

__all__ = ["INTERPOLATORS", "Between", "Interpolator"]
