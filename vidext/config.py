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

# --- evaluation (issue 8) ------------------------------------------------------
EVALUATE_METHODS = ("blend", "fast", "balanced", "quality")   # default held-out methods
EVALUATE_METRICS = ("psnr_y", "psnr", "ssim", "ms_ssim", "lpips")
EVALUATE_MAX_FACTOR = 8         # held-out factor: keep 1 frame of N, rebuild the N-1 between
PSNR_CAP_DB = 100.0             # per-frame PSNR of an exact match (MSE 0) is counted as this
SSIM_WINDOW = 11                # Gaussian window (Wang et al. 2004): size, sigma, constants
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)   # Wang et al. 2003, five scales
# torchvision's AlexNet weights, as the standard `lpips` package loads them from the torch hub cache.
LPIPS_ALEXNET_FILE = "alexnet-owt-7be5be79.pth"
LPIPS_CPU_MAX_FRAMES = 12       # without a GPU, LPIPS scores at most this many held-out frames per method
TEMPORAL_FLOW_WIDTH = 480       # consecutive-frame flow is estimated at most this wide
OCCLUSION_ALPHA = 0.01          # forward–backward check (Sundaram et al. 2010): |f + b|² > α(|f|² + |b|²) + β
OCCLUSION_BETA = 0.5
JUMP_WINDOW = 12                # transitions on each side that form a transition's local baseline
JUMP_Z = 6.0                    # robust z-score (local median / MAD) above which a transition is a jump
JUMP_MIN_EXCESS = 3.0           # ... and at least this many 8-bit levels above the local median
JUMP_LIST = 5                   # worst transitions listed in the report
HEATMAP_MAX_LEVELS = 64         # error heat-map colour scale: 0 … this many 8-bit levels (clipped)
DIFF_GAIN = 4                   # the strip's difference panel shows |error| × this
PICTURE_MAX_WIDTH = 640         # PNG panels are scaled down to at most this wide
JUMP_MAD_FLOOR = 0.5            # 8-bit levels: the spread floor that keeps a still clip's z-scores finite
