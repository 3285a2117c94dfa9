"""What a user or an operator tunes: environment settings, limits, and the defaults a user sees.

Every other threshold lives, named, beside the one module that uses it (the WSOLA frame in
:mod:`vidext.sound.stretch`, the SSIM window in :mod:`vidext.evaluation.metrics` ...).  This
module keeps the settings read from the environment (``VIDEXT_*``), the limits a job checks, the
defaults and choices the CLI, the Python API and the app show, and the few constants that modules
of different packages share (each says who reads it).

Limits meant for a public deployment read environment variables
(``VIDEXT_MAX_*``, ``VIDEXT_APP_*``) so that an operator can raise or lower
them without code.  They are read when used, never at import: a malformed
value fails the job (or the app's start) that needs it with a
:class:`~vidext.errors.ParameterError` naming the variable and the form it
accepts, and never breaks ``import vidext``.  The upper-case names of those
settings (``config.APP_QUEUE_MAX_SIZE`` ...) still read as values: they are
computed on each access (see :data:`_FROM_ENV`).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from .errors import ParameterError


def _env_number(name: str, default: float, *, whole: bool = False, minimum: float = 0.0,
                positive: bool = False):
    """The number in environment variable ``name`` (``default`` when unset or blank)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    form = ("a whole number" if whole else "a number") + (" above 0" if positive else f" of at least {minimum:g}")
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problem = "is not a number"
    elif not (value >= minimum and (value > 0 or not positive) and (not whole or value.is_integer())):
        problem = "is out of range"
    else:
        return int(value) if whole else value
    raise ParameterError(f"{name}={raw!r} {problem}; accepted form: {form}, e.g. {name}={default:g}")


def env_choice(name: str, choices: tuple[str, ...], what: str) -> str:
    """The word in environment variable ``name``, one of ``choices`` (case ignored; the first when unset
    or blank); ``what`` names the kind in the error."""
    raw = os.environ.get(name, "").strip().lower() or choices[0]
    if raw not in choices:
        raise ParameterError(f"{name}={raw!r} is not a {what}; accepted: {', '.join(choices)}")
    return raw


# --- limits a job checks (VIDEXT_MAX_*) ------------------------------------------
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
            max_pixels=int(_env_number("VIDEXT_MAX_PIXELS", 4096 * 2304, positive=True)),
            max_duration_s=_env_number("VIDEXT_MAX_DURATION_S", 10 * 60, positive=True),
            max_output_frames=int(_env_number("VIDEXT_MAX_OUTPUT_FRAMES", 36_000, positive=True)),
            max_upload_mb=_env_number("VIDEXT_MAX_UPLOAD_MB", 1024, positive=True),
            max_fps=_env_number("VIDEXT_MAX_FPS", 240, positive=True),
        )


# --- encoding --------------------------------------------------------------
DEFAULT_CODEC = "h264"

# --- memory (vidext/media/heap.py) ---------------------------------------------
HEAP_MODES = ("reuse", "system")


def heap_mode() -> str:
    """``VIDEXT_HEAP``: ``reuse`` (default: freed memory kept for the next frame) or ``system`` (glibc's own)."""
    return env_choice("VIDEXT_HEAP", HEAP_MODES, "heap mode")


# --- interpolation -----------------------------------------------------------
DEFAULT_QUALITY = "balanced"
DEFAULT_MODEL = "dis"
# shared by plan.py, interpolation/pipeline.py and batch/plan.py (the plan counts what the pipeline writes):
TIME_EPSILON = 1e-6             # seconds: output times this close to an input frame reuse it
# Scene cuts: score in [0, 1] from luma-histogram distance and thumbnail
# decorrelation between consecutive frames; at or above the threshold the pair
# is a cut and is never morphed (frames are held from their own side).
SCENE_THRESHOLD = 0.5
# Duplicates (animation on twos, stalls): a frame whose luma differs from the
# previous distinct frame by less than this mean absolute level (8-bit scale,
# thumbnail at 1/4 size) is dropped from the timeline and its time interpolated.
DUPLICATE_MAD = 0.15
# Motion-blur synthesis (off by default): in-between pictures averaged over the shutter.
MOTION_BLUR_SHUTTER = 0.5       # default shutter (fraction of an output frame interval) when on
MAX_SLOWMO = 64                 # largest --slowmo factor accepted
RIFE_MODEL = "rife-4.25"        # --model rife: the registry name of its checkpoint (vidext/models)

# --- evaluation (issue 8) ------------------------------------------------------
EVALUATE_METHODS = ("blend", "fast", "balanced", "quality")   # default held-out methods
EVALUATE_METRICS = ("psnr_y", "psnr", "ssim", "lpips")    # docs/measuring.md's figures; ms_ssim, vmaf on request
EVALUATE_MAX_FACTOR = 8         # held-out factor: keep 1 frame of N, rebuild the N-1 between
EVALUATE_SAMPLE_WINDOWS = 24    # default: held-out windows spread evenly over the clip (None/--exhaustive: all)
EVALUATE_CONFIDENCE = 0.95      # confidence level of the interval shown beside each mean (Student t over frames)
LPIPS_CPU_MAX_FRAMES = 6        # without a GPU, LPIPS (and VMAF) score at most this many held-out frames per method,
LPIPS_CPU_MIN_FRAMES = 3        # at least this many,
LPIPS_CPU_PIXEL_BUDGET = 3 * 1280 * 720   # and as many as this many pixels hold (720p: 3, bikes 640×272: 6)
# --- --model auto (vidext/jobs/auto.py; its thresholds live there) ---------------
AUTO_BUDGET = 0.10              # measuring may take this fraction of the full run's estimated time
#                                 (or auto.FLOOR_S seconds, whichever is larger)


# --- web app (vidext/webapp, app.py) -------------------------------------------
# Queue: its length, and how many CPU jobs run at once (GPU jobs run one at a time: vidext/webapp/ui/common.py).
def app_queue_max_size() -> int:
    return _env_number("VIDEXT_APP_QUEUE_SIZE", 16, whole=True, positive=True)


def app_cpu_concurrency() -> int:
    return _env_number("VIDEXT_APP_CPU_JOBS", max(1, (os.cpu_count() or 2) // 2), whole=True, positive=True)


# Files: job folders (outputs) and Gradio's cache are swept on a schedule.
def app_workdir() -> str | None:
    return os.environ.get("VIDEXT_APP_WORKDIR") or None   # None: <system temp>/vidext-app


def app_sweep_interval_s() -> float:
    return _env_number("VIDEXT_APP_SWEEP_S", 600, positive=True)


def app_file_max_age_s() -> float:
    return _env_number("VIDEXT_APP_FILE_AGE_S", 3600, positive=True)


APP_EXTEND_MAX_S = 30.0          # the Extend and Audio tabs' seconds slider reaches this
# Interpolate tab choices.
APP_FACTORS = (2, 3, 4, 8)
APP_DEFAULT_FACTOR = 2
APP_SLOWMO_MAX = 8.0
# Generative models (SVD, LTX-Video, MusicGen) are offered only with a GPU.
APP_GENERATIVE_NEEDS_GPU = True
# Seconds of GPU a ZeroGPU Space grants each kind of job (spaces.GPU(duration=...)).
APP_ZEROGPU_DURATION_S = {"interpolate": 120, "extend": 300, "audio": 180, "evaluate": 180}
# Limits a public demo (the Space) starts with unless its operator sets them.
APP_PUBLIC_LIMITS = {
    "VIDEXT_MAX_UPLOAD_MB": "200",
    "VIDEXT_MAX_DURATION_S": "120",
    "VIDEXT_MAX_PIXELS": str(1920 * 1080),
    "VIDEXT_MAX_OUTPUT_FRAMES": "20000",
    "VIDEXT_MAX_FPS": "240",
}
APP_DEFAULT_PORT = 7860


# --- audio (vidext/sound) ------------------------------------------------------
STRETCH_MIN, STRETCH_MAX = 0.125, 8.0  # `vidext audio --stretch` factors (output/input duration; measured 1/8–8)
DEFAULT_STRETCHER = "wsola"
# shared by vidext/media (pcm, remux) and vidext/sound (feeds):
AUDIO_BLOCK_S = 0.25            # samples produced per step by the audio feeds
AUDIO_LOOKBACK_S = 2            # decoded seconds kept behind the read position
AUDIO_EXTEND_MAX_S = 600        # longest audio continuation on either side


# --- models (vidext/models) ---------------------------------------------------
def model_cache_size() -> int:
    """Loaded models kept per process."""
    return _env_number("VIDEXT_MODEL_CACHE_SIZE", 2, whole=True, minimum=1)


# --- extend (new frames past the ends) ----------------------------------------
DEFAULT_EXTEND_METHOD = "auto"       # measures seamless/motion/pingpong/freeze per edge, keeps the best
DEFAULT_EXTEND_AUDIO = "follow"      # the sound replays with the picture (loop: music-aware, by choice)
EXTEND_DIRECTIONS = ("forward", "backward", "both")
EXTEND_MAX_SECONDS = 600.0           # new seconds per side, classical methods (= AUDIO_EXTEND_MAX_S)
GENERATIVE_MAX_SECONDS = 60.0        # new seconds per side, generative methods (slow: minutes per second)
# Shared by modules of vidext/extension (each method's own thresholds live in its module):
# the shortest seamless loop (seamless.py, auto.py, scoring.py)
SEAMLESS_MIN_LOOP_S = 1.0            # shortest loop accepted (else every clip "loops" on its last frames)
# motion (motion.py; base.py's Chooser asks for as many frames)
MOTION_CONTEXT_FRAMES = 6            # last frames the motion is estimated from


# --- reliability: bad input, temp files -----------------------------------------
# Temp outputs (".NAME.RANDOM.part.EXT") untouched this long are debris of a killed job and are
# removed when the next job starts in that folder; a live job rewrites its file far more often.
def stale_part_age_s() -> float:
    return _env_number("VIDEXT_STALE_PART_AGE_S", 3600)


# --- settings read from the environment when used --------------------------------
#: upper-case name → reader; ``config.NAME`` calls the reader on each access (PEP 562)
_FROM_ENV = {
    "APP_QUEUE_MAX_SIZE": app_queue_max_size,
    "APP_CPU_CONCURRENCY": app_cpu_concurrency,
    "APP_WORKDIR": app_workdir,
    "APP_SWEEP_INTERVAL_S": app_sweep_interval_s,
    "APP_FILE_MAX_AGE_S": app_file_max_age_s,
    "MODEL_CACHE_SIZE": model_cache_size,
    "STALE_PART_AGE_S": stale_part_age_s,
}


def __getattr__(name: str):
    reader = _FROM_ENV.get(name)
    if reader is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return reader()
