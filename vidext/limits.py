"""Refuse over-limit jobs from the probe, in milliseconds, before any work.

Every check reads only the probe (:class:`MediaInfo`) and the job's
parameters: no frame is decoded for a job that is refused.  Each message
names the quantity, the limit and the environment variable that sets it.
"""
from __future__ import annotations

import os

from .config import Limits
from .errors import InputError, LimitError
from .media.probe import MediaInfo

MIN_FRAME_SIDE = 16             # px: smaller pictures are refused (optical flow needs room to work)
# Demuxers of single pictures: one such frame is a still image, not a clip (animated GIFs are clips).
STILL_IMAGE_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe",
                       "j2k_pipe", "jpegls_pipe", "pgm_pipe", "ppm_pipe", "pam_pipe", "qoi_pipe",
                       "dpx_pipe", "exr_pipe", "svg_pipe", "jpegxl_pipe", "psd_pipe")


def check_upload(path: str, limits: Limits | None = None) -> None:
    """Refuse a file larger than ``VIDEXT_MAX_UPLOAD_MB``."""
    limits = limits or Limits.from_env()
    _check_size(os.path.getsize(path), limits)


def _num(x: float) -> str:
    """3 significant digits for small numbers, whole numbers above: 0.08, 4.1, 600, 36000."""
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def _check_size(size_bytes: int, limits: Limits) -> None:
    size_mb = size_bytes / 1e6
    if size_mb > limits.max_upload_mb:
        raise LimitError(f"file is {_num(size_mb)} MB; the limit is {_num(limits.max_upload_mb)} MB "
                         f"(VIDEXT_MAX_UPLOAD_MB)")


def is_still_image(info: MediaInfo) -> bool:
    """A single picture in an image format (PNG, JPEG ...), not a clip."""
    v = info.video
    return (v is not None and info.container in STILL_IMAGE_FORMATS
            and (v.frame_count or 0) <= 1)


def check_video(info: MediaInfo, limits: Limits | None = None, output_frames: int | None = None,
                output_fps: float | None = None, still_ok: bool = False) -> None:
    """Raise :class:`LimitError` (or :class:`InputError`) naming the first thing the job cannot do.

    ``still_ok`` lets a job that can start from one picture accept a still image.
    """
    limits = limits or Limits.from_env()
    name = os.path.basename(info.path)
    v = info.video
    if v is None:
        raise InputError(f"{name} has no video stream")
    if not still_ok and is_still_image(info):
        raise InputError(f"{name} is a still image ({info.container.removesuffix('_pipe')}), not a video")
    if v.frame_count == 0:
        raise InputError(f"the video stream of {name} has no frames")
    _check_size(info.size_bytes, limits)
    pixels = v.width * v.height
    if pixels > limits.max_pixels:
        raise LimitError(f"frame size {v.width}×{v.height} ({pixels / 1e6:.1f} MP) exceeds the limit of "
                         f"{limits.max_pixels / 1e6:.1f} MP per frame (VIDEXT_MAX_PIXELS)")
    if min(v.width, v.height) < MIN_FRAME_SIDE:
        raise InputError(f"frame size {v.width}×{v.height} is too small; each side must be at least "
                         f"{MIN_FRAME_SIDE} px")
    if v.duration_s > limits.max_duration_s:
        raise LimitError(f"duration {_num(v.duration_s)} s exceeds the limit of {_num(limits.max_duration_s)} s "
                         f"(VIDEXT_MAX_DURATION_S)")
    if output_fps is not None and output_fps > limits.max_fps:
        raise LimitError(f"output rate {output_fps:g} fps exceeds the limit of {limits.max_fps:g} fps "
                         f"(VIDEXT_MAX_FPS)")
    if output_frames is not None and output_frames > limits.max_output_frames:
        raise LimitError(f"the output would have {output_frames} frames; the limit is "
                         f"{limits.max_output_frames} (VIDEXT_MAX_OUTPUT_FRAMES)")
