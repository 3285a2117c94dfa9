"""RIFE 4.25: learned intermediate-flow interpolation (torch, weights via vidext.models).

:class:`~.interpolator.RIFEInterpolator` is registered as ``rife`` in
:data:`vidext.interpolation.INTERPOLATORS`; :mod:`.network` holds the IFNet.
"""
from __future__ import annotations

from .interpolator import RIFEInterpolator

__all__ = ["RIFEInterpolator"]
