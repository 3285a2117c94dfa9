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
        return cls(
            max_pixels=int(_env_float("VIDEXT_MAX_PIXELS", 4096 * 2304)),
            max_duration_s=_env_float("VIDEXT_MAX_DURATION_S", 4 * 3600),
            max_output_frames=int(_env_float("VIDEXT_MAX_OUTPUT_FRAMES", 2_000_000)),
            max_upload_mb=_env_float("VIDEXT_MAX_UPLOAD_MB", 4096),
            max_fps=_env_float("VIDEXT_MAX_FPS", 480),
        )

# --- models (vidext/models) ---------------------------------------------------
MODEL_CACHE_SIZE = int(_env_float("VIDEXT_MODEL_CACHE_SIZE", 2))  # loaded models kept per process
HASH_BLOCK_BYTES = 1 << 20      # read size when checking a weight file's sha256

# --- RIFE (vidext/interpolation/rife) -----------------------------------------
RIFE_MODEL = "rife-4.25"                  # registry name of the checkpoint (vidext/models)
RIFE_SCALES = (1.0, 0.5, 0.25)            # flow resolution choices (1 = the network's native scales)
RIFE_HALF_SCALE_ABOVE_PIXELS = 2560 * 1440  # larger frames (4K) estimate flow at scale 0.5
RIFE_GPU_BATCH = 8                        # timesteps per forward pass on CUDA
