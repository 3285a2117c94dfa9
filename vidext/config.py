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

# --- audio (vidext/sound) ------------------------------------------------------
STRETCH_MIN, STRETCH_MAX = 0.125, 8.0  # `vidext audio --stretch` factors (output/input duration; measured 1/8–8)
AUDIO_RETIME_MAX = 64           # slow motion / speed-up the sound follows (beyond 8× it becomes a drone)
DEFAULT_STRETCHER = "wsola"
WSOLA_FRAME_S = 0.040           # analysis/synthesis frame (hop = half); ~2 pitch periods of a low voice
WSOLA_TOLERANCE_S = 0.010       # how far a frame may move to continue the waveform (max local drift)
AUDIO_CROSSFADE_S = 0.010       # crossfade where a stretched piece meets its neighbour
AUDIO_BLOCK_S = 0.25            # samples produced per step by the audio feeds
AUDIO_LOOKBACK_S = 2            # decoded seconds kept behind the read position
PVOC_FRAME_S = 0.046           # phase-vocoder frame (power of two in samples; hop = a quarter)
WSOLA_TRANSIENT_S = 0.020       # an attack is copied verbatim this long after its onset
WSOLA_TRANSIENT_GUARD_S = 0.004 # frames after an attack start this far past its onset (no echo)
ONSET_FRAME_S = 0.0015          # onset detector: short-frame energy of the high-passed signal...
ONSET_CONTEXT_S = 0.020         # ...against the mean of the frames in the preceding 20 ms
ONSET_RATIO = 12.0              # ~11 dB jump = an attack
ONSET_FLOOR = 1e-7              # energy floor so attacks out of near-silence count, noise in silence does not
ONSET_MIN_GAP_S = 0.050         # at most one onset per 50 ms
AUDIO_EXTEND_MAX_S = 600        # longest audio continuation on either side
LOOP_ANALYSIS_S = 30            # sound next to an edge searched for a loop point
LOOP_CONTEXT_S = 3.0            # stretch of sound compared (chroma + onsets) to pick the loop point
LOOP_MIN_S = 1.0                # shortest loop: avoids stutter-like repeats
LOOP_HOP_S = 0.0116             # feature hop (rounded to a power of two in samples)
LOOP_CHROMA_WEIGHT = 1.0        # loop score = w_c · chroma similarity + w_o · onset correlation
LOOP_ONSET_WEIGHT = 1.0
LOOP_LENGTH_BONUS = 0.05        # slight preference for longer loops (less audible repetition)
LOOP_ALIGN_WINDOW_S = 0.030     # waveform window matched to place the jump to the sample...
LOOP_ALIGN_SEARCH_S = 0.012     # ...within this distance of the feature-chosen point
LOOP_CROSSFADE_S = 0.025        # crossfade at a loop seam / continuation junction

# --- models (vidext/models) ---------------------------------------------------
MODEL_CACHE_SIZE = int(_env_float("VIDEXT_MODEL_CACHE_SIZE", 2))  # loaded models kept per process
HASH_BLOCK_BYTES = 1 << 20      # read size when checking a weight file's sha256
SYNC_MAX_S = 120                # audio–video offset: seconds analysed from the start
SYNC_GRID_S = 0.005             # common time grid of onset strength and motion energy
SYNC_MAX_LAG_S = 1.0            # offsets searched
SYNC_MEDIAN = 41                # grid points: events are rises above this running median
SYNC_WIDTH = 160                # frames are compared at this width
SYNC_MIN_CONFIDENCE = 0.2       # correlation below this: too few shared events to flag anything
MUSICGEN_MODEL = "musicgen-small"   # vidext.models spec used by --method musicgen
MUSICGEN_PROMPT_S = 10.0        # seconds of the clip's edge given to MusicGen as its audio prompt
MUSICGEN_GUIDANCE = 3.0         # classifier-free guidance scale (the model card's default)
MUSICGEN_CHUNK_S = 20.0         # new seconds per generate() call (prompt + chunk fit MusicGen's 30 s window)
MUSICGEN_MARGIN_S = 0.2         # generated beyond what is needed, then cut
MUSICGEN_MAX_GAIN = 8.0         # loudness matching never amplifies more than this
