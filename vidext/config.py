"""Defaults, thresholds and limits: every tunable number lives here, named.

Limits meant for a public deployment read environment variables
(``VIDEXT_MAX_*``) so that an operator can raise or lower them without code.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:  # a misconfigured server should say so at once
        raise ValueError(f"environment variable {name}={raw!r} is not a number") from exc


# --- encoding --------------------------------------------------------------
DEFAULT_CODEC = "h264"
DEFAULT_CRF = {"h264": 18, "h265": 20}
# x264/x265 speed preset per interpolation quality preset: the encoder is
# often the bottleneck on a CPU, so the fast preset does not wait for it.
ENCODER_PRESET = {"fast": "veryfast", "balanced": "faster", "quality": "medium"}

# --- pipeline ----------------------------------------------------------------
QUEUE_DEPTH = 8                 # frames buffered between decode, compute, encode
PROGRESS_INTERVAL_S = 0.25      # minimum time between progress callbacks
PROBE_SCAN_PACKETS = 200_000    # packets demuxed by probe to count frames / detect VFR
VFR_TOLERANCE = 0.02            # relative spread of frame intervals still called constant

# --- interpolation -----------------------------------------------------------
DEFAULT_QUALITY = "balanced"
DEFAULT_MODEL = "dis"
TIME_EPSILON = 1e-6             # seconds: output times this close to an input frame reuse it


@dataclass(frozen=True)
class Limits:
    """What a job may ask for; checked from the probe before any work starts."""

    max_pixels: int            # width × height of one frame
    max_duration_s: float      # input duration
    max_output_frames: int     # frames the job would write
    max_upload_mb: float       # file size accepted by the web app
    max_fps: float             # output frame rate

    @classmethod
    def from_env(cls) -> "Limits":
        # Defaults are safe for a public demo (a shared CPU, strangers' files); a self-hosted
        # deployment or a local user raises them through the environment.
        return cls(
            max_pixels=int(_env_float("VIDEXT_MAX_PIXELS", 4096 * 2304)),
            max_duration_s=_env_float("VIDEXT_MAX_DURATION_S", 10 * 60),
            max_output_frames=int(_env_float("VIDEXT_MAX_OUTPUT_FRAMES", 36_000)),
            max_upload_mb=_env_float("VIDEXT_MAX_UPLOAD_MB", 1024),
            max_fps=_env_float("VIDEXT_MAX_FPS", 240),
        )

# --- reliability: bad input, temp files -----------------------------------------
MIN_FRAME_SIDE = 16             # px: smaller pictures are refused (optical flow needs room to work)
DIS_MIN_SIDE = 32               # px: OpenCV's DIS segfaults on flow inputs with fewer rows (found by the corpus)
# Temp outputs (".NAME.RANDOM.part.EXT") untouched this long are debris of a killed job and are
# removed when the next job starts in that folder; a live job rewrites its file far more often.
STALE_PART_AGE_S = _env_float("VIDEXT_STALE_PART_AGE_S", 3600)
# Demuxers of single pictures: one such frame is a still image, not a clip (animated GIFs are clips).
STILL_IMAGE_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe",
                       "j2k_pipe", "jpegls_pipe", "pgm_pipe", "ppm_pipe", "pam_pipe", "qoi_pipe",
                       "dpx_pipe", "exr_pipe", "svg_pipe", "jpegxl_pipe", "psd_pipe")
