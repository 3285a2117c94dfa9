"""Refuse over-limit jobs from the probe, in milliseconds, before any work."""
from __future__ import annotations

import os

from .config import Limits
from .errors import InputError, LimitError
from .media.probe import MediaInfo


def check_upload(path: str, limits: Limits | None = None) -> None:
    limits = limits or Limits.from_env()
    size_mb = os.path.getsize(path) / 1e6
    if size_mb > limits.max_upload_mb:
        raise LimitError(f"file is {size_mb:.0f} MB; the limit is {limits.max_upload_mb:g} MB "
                         f"(VIDEXT_MAX_UPLOAD_MB)")


def check_video(info: MediaInfo, limits: Limits | None = None, output_frames: int | None = None,
                output_fps: float | None = None) -> None:
    """Raise :class:`LimitError` naming the first limit the job would exceed."""
    limits = limits or Limits.from_env()
    v = info.video
    if v is None:
        raise InputError(f"{os.path.basename(info.path)} has no video stream")
    pixels = v.width * v.height
    if pixels > limits.max_pixels:
        raise LimitError(f"frame size {v.width}×{v.height} ({pixels / 1e6:.1f} MP) exceeds the limit of "
                         f"{limits.max_pixels / 1e6:.1f} MP per frame (VIDEXT_MAX_PIXELS)")
    if v.duration_s > limits.max_duration_s:
        raise LimitError(f"duration {v.duration_s:.0f} s exceeds the limit of {limits.max_duration_s:.0f} s "
                         f"(VIDEXT_MAX_DURATION_S)")
    if output_fps is not None and output_fps > limits.max_fps:
        raise LimitError(f"output rate {output_fps:g} fps exceeds the limit of {limits.max_fps:g} fps "
                         f"(VIDEXT_MAX_FPS)")
    if output_frames is not None and output_frames > limits.max_output_frames:
        raise LimitError(f"the output would have {output_frames} frames; the limit is "
                         f"{limits.max_output_frames} (VIDEXT_MAX_OUTPUT_FRAMES)")
