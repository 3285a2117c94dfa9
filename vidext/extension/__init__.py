"""Extend: new frames past the last (or before the first) frame of a clip.

Backends register here by name (one file each); :func:`vidext.extend` runs
any of them.  The classical ones need no download and never import torch;
``svd`` and ``ltx`` load diffusers pipelines through :mod:`vidext.models`.
"""
from __future__ import annotations

from ..registry import Registry
from .base import Chooser, ClipView, Extender, Mix, Repeater, Run, Synthesizer

EXTENDERS: Registry[Extender] = Registry("extend method")
EXTENDERS.add("auto", "vidext.extension.auto:Auto", "measures the methods below per edge, keeps the best (default)")
EXTENDERS.add("seamless", "vidext.extension.seamless:Seamless",
              "video-texture loop inside the edge's shot, motion-compensated bridge")
EXTENDERS.add("loop", "vidext.extension.loop:Loop", "the clip starts over")
EXTENDERS.add("pingpong", "vidext.extension.pingpong:PingPong", "backwards then forwards, no repeated frame")
EXTENDERS.add("ramp", "vidext.extension.ramp:Ramp",
              "the edge of the shot slows into the new time (speed ramp, in-betweens of neighbouring frames)")
EXTENDERS.add("freeze", "vidext.extension.freeze:Freeze", "hold the last (first) frame")
EXTENDERS.add("motion", "vidext.extension.motion:Motion", "continue the camera's pan/zoom/rotation")
EXTENDERS.add("svd", "vidext.extension.svd:SVDExtender",
              "Stable Video Diffusion img2vid-xt from the edge frame (GPU, download)",
              generative=True, model="svd-xt")
EXTENDERS.add("ltx", "vidext.extension.ltx:LTXExtender",
              "LTX-Video conditioned on the last frames (GPU, download)", generative=True, model="ltx-video")

GENERATIVE = EXTENDERS.generative()

__all__ = ["EXTENDERS", "GENERATIVE", "Chooser", "ClipView", "Extender", "Mix", "Repeater", "Run", "Synthesizer"]
