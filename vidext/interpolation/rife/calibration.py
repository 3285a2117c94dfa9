"""How RIFE runs on this machine: chosen by measuring, not by CPU flags, and cached on disk.

Two CPUs of one class can disagree: bf16 convolutions were 1.5× faster than
fp32 on one with AMX and *slower* on one with AVX512-BF16 but no AMX.  A full
calibration (:func:`choose`) times each candidate :class:`Setting` (precision,
memory format, intra-op threads, pairs at once) on a synthetic pair of the
class's size and keeps the fastest whose output matches the fp32 output
within :data:`RIFE_CALIBRATION_MIN_PSNR`; a faster one that does not is
rejected and recorded as such.  It takes seconds, and a busy machine skews
it, so a job never pays for it.  What a job does, per CPU and frame-size class
(:func:`calibrate`):

1. a **final** cached entry: used;
2. else the **table** of CPU families already measured (:data:`KNOWN`):
   used without timing;
3. else a cached **screened** entry, or a **provisional** one while the machine
   is still busy: used;
4. else a **screen** of about a second (:func:`screen`): fp32 against bf16
   (channels-last) at a small size, the cores shared out by rule
   (:func:`default_sharing`).  Decisive (one precision
   :data:`SCREEN_DECISIVE` × faster) on a quiet machine: final; else
   screened.

Anything measured while the load exceeds the cores is **provisional**: kept
for the busy hours (measuring again under load would be no better), never
reused as final, screened again as soon as a job starts on a quiet machine.
Full calibrations run on request (``VIDEXT_CALIBRATION=redo``) and in
:mod:`.precalibrate` (``python -m vidext.interpolation.rife.precalibrate``),
which the web app starts in the background at server start, at low priority,
once the machine is quiet (a Docker image or Space that restarts keeps its
entries in ``$VIDEXT_CALIBRATION_FILE`` on its volume).

The results are cached in ``calibration.json`` (``$VIDEXT_CALIBRATION_FILE``,
else ``$XDG_CACHE_HOME/vidext`` or ``~/.cache/vidext``), keyed by the CPU
model string, a hash of its flags, the torch version, the instruction sets the
kernels are allowed (:func:`kernel_isa`) and the size class, with the load
they were measured under and their status.

``$VIDEXT_CALIBRATION``: ``on`` (default), ``off`` (no measuring: fp32,
channels-last, every core) or ``redo`` (a full calibration now, replacing the entry).
``$VIDEXT_RIFE_PRECISION`` (fp32/bf16), ``$VIDEXT_RIFE_THREADS``, ``$VIDEXT_RIFE_WORKERS``
(pairs at once) and ``$VIDEXT_RIFE_CHANNELS_LAST`` (0/1) force a part of the choice; the
interpolator's ``precision`` argument forces the precision.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

from ... import config
from ...errors import ParameterError
from ...media.runner import cores

RIFE_MAX_WORKERS = 4                      # CPU: at most this many pairs at once (calibration tries 2 and this)
RIFE_WORKERS_MIN_OVERLAP = 0.9            # ... and keeps them unless, per pair, they take over this × one pair alone on
#   the same threads: the cores do not run them side by side (a CPU quota under the visible cores). Not a speed
#   ratio against one pair on all threads: in whole CLI runs (2 cores) pairs timed 0.92×, 1.06×, 1.145× and 1.32×
#   that alone were 53 %, 13 %, 28 % and 35 % faster in the run (model_cards/rife-4.25.md)
# The timed runs: measured once per CPU, torch and size class.
RIFE_CALIBRATION_SIZE_CLASSES = (400_000, 1_000_000, 2_200_000, 4_000_000)  # padded pixels: ≤SD, ≤720p, ≤1080p, ≤1440p
RIFE_CALIBRATION_MAX_PIXELS = 768 * 448   # larger frames are timed at this many pixels (same shape): kept short
RIFE_CALIBRATION_REPEATS = 2              # interleaved timed rounds per candidate (best kept), after a warm-up
RIFE_CALIBRATION_SCREEN_SIZE = (256, 128)  # every candidate runs once here first (padded size, multiples of 64)
RIFE_CALIBRATION_SCREEN_CUT = 2.0          # ... and one this many times slower than the fastest there is cut
RIFE_CALIBRATION_MIN_PSNR = 40.0          # dB, peak 1: a candidate's output against fp32's, else rejected


# The screen a job may run (about a second; see the module notes).
SCREEN_PIXELS = 384 * 256       # its picture, in the clip's shape: large enough that per-call overheads do not
#   decide (at 256x128 the Zen 4's bf16 and fp32 came out level; at 576x320, bf16 was 2-5x faster)
SCREEN_ROUNDS = 2               # interleaved timed passes per precision, after a warm-up (best kept)
SCREEN_DECISIVE = 1.25          # one precision this many times faster than the other: a final choice on a quiet machine
PRECALIBRATE_SIZES = ((640, 360), (1280, 720), (1920, 1080))   # size classes measured ahead (.precalibrate)

PRECISIONS = ("fp32", "bf16")
STATUSES = ("final", "screened", "provisional")
# part of the cache key: entries chosen by an older rule are measured again (v7: entries carry a status;
# v5: timed while glibc refaulted freed buffers, see vidext.media.heap; v4: pairs kept within 30 %)
CALIBRATION_VERSION = 7


@dataclass(frozen=True)
class Setting:
    """One way to run the network on the CPU: ``workers`` pairs at once, each on ``threads`` intra-op threads."""

    precision: str = "fp32"
    channels_last: bool = True
    threads: int = 1
    workers: int = 1

    def label(self) -> str:
        pairs = f" × {self.workers} pairs at once" if self.workers > 1 else ""
        return (f"{self.precision}, {'channels-last' if self.channels_last else 'NCHW'}, "
                f"{self.threads} thread(s){pairs}")


@dataclass
class Trial:
    """A measured candidate: best seconds per pass and output PSNR against fp32 (None: fp32 itself).

    ``screen``: seconds of one pass at the screening size; ``seconds`` is None for a
    candidate the screen cut (too slow there to be worth timing at the class's size).
    """

    setting: Setting
    seconds: float | None
    psnr: float | None
    accepted: bool
    screen: float | None = None


@dataclass
class Calibration:
    key: str
    chosen: Setting
    source: str                              # measured | screened | table | cache | off | forced
    trials: list[Trial] = field(default_factory=list)
    size: tuple[int, int] | None = None      # (width, height) measured at
    screen_size: tuple[int, int] | None = None
    status: str = "final"                    # final | screened | provisional (see the module notes)
    note: str = ""                           # the table's CPU family; why a status was given

    def as_dict(self) -> dict:
        r5 = lambda x: None if x is None else round(x, 5)  # noqa: E731
        return {"key": self.key, "chosen": asdict(self.chosen), "source": self.source, "size": self.size,
                "screen_size": self.screen_size, "status": self.status, "note": self.note,
                "trials": [{**asdict(t.setting), "seconds": r5(t.seconds), "screen_seconds": r5(t.screen),
                            "psnr_vs_fp32": None if t.psnr is None else round(t.psnr, 2),
                            "accepted": t.accepted} for t in self.trials]}


# --- the key ---------------------------------------------------------------------------------------
def cpu_identity() -> tuple[str, str]:
    """(model name, hash of the flags) from /proc/cpuinfo; ('unknown', '') where it cannot be read."""
    model, flags = "unknown", ""
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                name, _, value = line.partition(":")
                name = name.strip()
                if name == "model name" and model == "unknown":
                    model = value.strip()
                elif name == "flags" and not flags:
                    flags = " ".join(sorted(value.split()))
                if model != "unknown" and flags:
                    break
    return model, hashlib.sha1(flags.encode()).hexdigest()[:12] if flags else ""



def cpu_facts() -> dict:
    """Vendor, family, model number and flags of the first CPU in /proc/cpuinfo (empty where unreadable)."""
    facts: dict = {"vendor": None, "family": None, "model": None, "flags": frozenset()}
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                name, _, value = line.partition(":")
                name, value = name.strip(), value.strip()
                if name == "vendor_id" and facts["vendor"] is None:
                    facts["vendor"] = value
                elif name == "cpu family" and facts["family"] is None:
                    facts["family"] = int(value)
                elif name == "model" and facts["model"] is None:
                    facts["model"] = int(value)
                elif name == "flags" and not facts["flags"]:
                    facts["flags"] = frozenset(value.split())
                elif not line.strip() and facts["flags"]:
                    break                       # the first CPU is enough
    return facts


@dataclass(frozen=True)
class Known:
    """A CPU family whose precision full calibrations chose on a quiet machine: taken without timing."""

    label: str
    precision: str
    vendor: str | None = None           # /proc/cpuinfo vendor_id (None: any)
    family: int | None = None
    models: tuple[int, ...] = ()        # model numbers (empty: any)
    needs: tuple[str, ...] = ()         # flags that must all be present
    lacks: tuple[str, ...] = ()         # flags that must all be absent
    bf16_kernels: bool = False          # holds only where the kernels may use AVX-512 or more (not held below it)
    channels_last: bool = True

    def matches(self, facts: dict, isa: str) -> bool:
        flags = facts["flags"]
        if not flags or (self.vendor and facts["vendor"] != self.vendor):
            return False
        if self.family is not None and facts["family"] != self.family:
            return False
        if self.models and facts["model"] not in self.models:
            return False
        if not all(f in flags for f in self.needs) or any(f in flags for f in self.lacks):
            return False
        return not self.bf16_kernels or (isa.startswith("avx512") and isa.endswith("/auto"))


# Measured (docs/benchmarks.md, model_cards/rife-4.25.md; every one 2 cores, torch 2.14): the
# precision and memory format chosen by full calibrations on a quiet machine.  Channels-last won
# every time on all three; NCHW never.
KNOWN = (
    # bf16 channels-last, 1 thread x 2 pairs: whole CLI runs 3.08x / 3.59x the plain fp32 script
    Known("Intel Xeon with AMX", "bf16", vendor="GenuineIntel", needs=("amx_bf16",), bf16_kernels=True),
    # family 25 model 17 (Genoa): bf16 channels-last, 1 thread x 2 pairs on a quiet machine (3.45x / 4.17x);
    # the fp32 choices seen there were made while the machine was busy
    Known("AMD EPYC Zen 4 (AVX-512 bf16, no AMX)", "bf16", vendor="AuthenticAMD", family=25, models=(17,),
          needs=("avx512_bf16",), lacks=("amx_bf16",), bf16_kernels=True),
    # no bf16 instructions: bf16 convolutions 8-40x slower than fp32 (AMD EPYC Zen 3, and the Xeon with its
    # kernels held to AVX2)
    Known("no bf16 in hardware (AVX2)", "fp32", needs=("avx2",), lacks=("avx512_bf16", "amx_bf16")),
)


def from_table(isa: str | None = None, facts: dict | None = None) -> Known | None:
    """The :data:`KNOWN` family this CPU belongs to (its kernels as :func:`kernel_isa` says), if any."""
    facts = cpu_facts() if facts is None else facts
    isa = kernel_isa() if isa is None else isa
    return next((k for k in KNOWN if k.matches(facts, isa)), None)


def cpu_quota() -> float | None:
    """CPUs the cgroup lets this process use (cgroup v2 ``cpu.max``, v1 CFS quota), None when unlimited."""
    with contextlib.suppress(OSError, ValueError):
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    with contextlib.suppress(OSError, ValueError):
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
            quota = int(f.read())
        with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
            period = int(f.read())
        return None if quota <= 0 else quota / period
    return None


def default_sharing(n_cores: int, fixed: dict) -> tuple[int, int]:
    """(threads, pairs at once) without timing: two pairs at once, each on half the cores, as every
    full calibration chose on the CPUs measured (in whole runs the pairs were 13-53 % faster: see
    :func:`choose`); one pair on every core it may use where a CPU quota is below the cores seen
    (the pairs would not run side by side)."""
    quota = cpu_quota()
    if quota is not None and quota < n_cores and "workers" not in fixed:
        return fixed.get("threads", max(1, min(n_cores, int(quota)))), 1
    if "threads" in fixed:
        t = fixed["threads"]
        return t, fixed.get("workers", max(1, min(2, n_cores // t)))
    w = fixed.get("workers", 2 if n_cores >= 2 else 1)
    return max(1, n_cores // w), w


def size_class(width: int, height: int) -> str:
    """The frame-size class a calibration holds for (its upper bound in pixels)."""
    pixels = width * height
    for bound in RIFE_CALIBRATION_SIZE_CLASSES:
        if pixels <= bound:
            return f"le{bound}"
    return "larger"


def measured_size(width: int, height: int, multiple: int) -> tuple[int, int]:
    """The size timed for ``width``×``height`` (padded): the clip's shape at a size that stands for
    its whole class, so that the choice does not depend on which clip of the class came first.

    Half the class's upper bound, at most :data:`RIFE_CALIBRATION_MAX_PIXELS` (kept short):
    a 128×64 clip and a 640×320 one are both timed at 640×320, where per-call overheads no longer
    decide; anything from 720p up at the cap.  Rounded to whole multiples of ``multiple``.
    """
    bounds = RIFE_CALIBRATION_SIZE_CLASSES
    pixels = width * height
    bound = next((b for b in bounds if pixels <= b), bounds[-1])
    f = (min(RIFE_CALIBRATION_MAX_PIXELS, bound // 2) / pixels) ** 0.5
    return (max(multiple, round(width * f / multiple) * multiple),
            max(multiple, round(height * f / multiple) * multiple))


# oneDNN's ceiling on the instructions it uses (its documented variables, the older name second)
ONEDNN_ISA_VARIABLES = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")


def kernel_isa() -> str:
    """The instruction sets the kernels will use: PyTorch's own (``ATEN_CPU_CAPABILITY`` lowers it)
    and oneDNN's ceiling (``ONEDNN_MAX_CPU_ISA``; ``auto`` when not set).  Part of the key, so a
    run limited to fewer instructions than the CPU has is measured for what it runs, not handed
    the unlimited run's choice (bf16 that wins with AMX and loses without it)."""
    import torch

    onednn = next((os.environ[v] for v in ONEDNN_ISA_VARIABLES if os.environ.get(v)), "auto")
    return f"{torch.backends.cpu.get_cpu_capability().lower()}/{onednn.lower()}"


def machine_key(width: int, height: int) -> str:
    import torch

    model, flags = cpu_identity()
    return (f"cpu|{model}|{flags}|{cores()}|torch {torch.__version__}|isa {kernel_isa()}"
            f"|{size_class(width, height)}|v{CALIBRATION_VERSION}")


def cache_file() -> str:
    explicit = os.environ.get("VIDEXT_CALIBRATION_FILE")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "vidext", "calibration.json")


def _read_cache(path: str) -> dict:
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(path: str, key: str, entry: dict) -> None:
    """Add ``entry`` under ``key`` (atomically: a reader never sees half a file). Unwritable: kept in memory only."""
    data = _read_cache(path)
    data[key] = entry
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        tmp = f"{path}.{os.getpid()}.part"
        try:
            with open(tmp, "w") as f:
                json.dump(data, f, indent=1, sort_keys=True)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def load() -> float:
    """The 1-minute load average (0 where the system does not say)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def busy(value: float | None = None) -> bool:
    """Whether the load (default: :func:`load` now) exceeds the cores: what is measured then reflects
    the other jobs of the moment more than this CPU."""
    return (load() if value is None else value) > cores()


def cached_entry(key: str, path: str | None = None) -> tuple[Setting, str] | None:
    """The cached setting for ``key`` and its status (final, screened, provisional); None when
    absent or damaged.  An entry without a status, or measured under a load above the cores,
    is provisional whatever it says."""
    entry = _read_cache(path or cache_file()).get(key)
    if not isinstance(entry, dict):
        return None
    try:
        s = Setting(**entry["chosen"])
    except (KeyError, TypeError):
        return None
    if s.precision not in PRECISIONS or not 1 <= int(s.threads) <= cores() or \
            not 1 <= int(s.workers) <= max(1, cores() // int(s.threads)):
        return None
    status = entry.get("status")
    if status not in STATUSES or busy(float(entry.get("load", 0) or 0)):
        status = "provisional"
    return s, status


def cached_choice(key: str, path: str | None = None) -> Setting | None:
    """The cached setting for ``key`` when it is final (see :func:`cached_entry`), else None."""
    hit = cached_entry(key, path)
    return hit[0] if hit is not None and hit[1] == "final" else None


# --- forced parts ----------------------------------------------------------------------------------
def forced(precision: str | None = None) -> dict:
    """The parts of the setting fixed by the caller or the environment (name → value)."""
    out: dict = {}
    env = os.environ.get("VIDEXT_RIFE_PRECISION", "").strip()
    p = precision if precision not in (None, "auto") else (env or None)
    if p is not None:
        if p not in PRECISIONS:
            raise ParameterError(f"RIFE precision on the CPU must be one of {', '.join(PRECISIONS)}, got {p!r}")
        out["precision"] = p
    raw = os.environ.get("VIDEXT_RIFE_THREADS", "").strip()
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= cores():
            raise ParameterError(f"VIDEXT_RIFE_THREADS={raw!r}: give a whole number from 1 to {cores()}")
        out["threads"] = int(raw)
    raw = os.environ.get("VIDEXT_RIFE_WORKERS", "").strip()
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= cores():
            raise ParameterError(f"VIDEXT_RIFE_WORKERS={raw!r}: give a whole number from 1 to {cores()}")
        out["workers"] = int(raw)
    raw = os.environ.get("VIDEXT_RIFE_CHANNELS_LAST", "").strip()
    if raw:
        if raw not in ("0", "1"):
            raise ParameterError(f"VIDEXT_RIFE_CHANNELS_LAST={raw!r}: give 0 or 1")
        out["channels_last"] = raw == "1"
    return out


def mode() -> str:
    return config.env_choice("VIDEXT_CALIBRATION", ("on", "off", "redo"), "calibration mode")


# --- measuring -------------------------------------------------------------------------------------
def candidates(fixed: dict, n_cores: int) -> list[Setting]:
    """Precision × memory format at every core (the threads and pairs at once are swept afterwards,
    for the winner)."""
    out = []
    w = fixed.get("workers", 1)
    for p in ([fixed["precision"]] if "precision" in fixed else PRECISIONS):
        for cl in ([fixed["channels_last"]] if "channels_last" in fixed else (True, False)):
            out.append(Setting(p, cl, fixed.get("threads", max(1, n_cores // w)), w))
    return out


def thread_options(n_cores: int) -> list[int]:
    return sorted({n_cores, max(1, n_cores - 1), max(1, n_cores // 2)}, reverse=True)


def worker_options(n_cores: int, fixed: dict) -> list[tuple[int, int]]:
    """(threads, workers) with several pairs at once that share the cores out: 2 and up to
    :data:`RIFE_MAX_WORKERS` pairs (each pair's intermediate pictures are held at once)."""
    if "threads" in fixed:
        t = fixed["threads"]
        return [(t, w) for w in range(2, min(RIFE_MAX_WORKERS, n_cores // t) + 1)]
    return sorted({(n_cores // w, w) for w in (2, RIFE_MAX_WORKERS) if 2 <= w <= n_cores},
                  key=lambda tw: tw[1])


def output_psnr(ref, out) -> float:
    """PSNR (peak 1) of ``out`` against ``ref``, float arrays of pictures in [0, 1]."""
    import numpy as np

    mse = float(np.mean((np.asarray(out, np.float64) - np.asarray(ref, np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))


Runner = Callable[..., tuple[float, object]]   # (setting, limit=None) → (seconds of one pass, output picture)


def _timed(run: Runner, settings: list[Setting], rounds: int) -> tuple[dict, dict]:
    """Best seconds and last output per setting, the settings interleaved round by round
    (so that a burst of load from elsewhere hits every candidate, not just one)."""
    best: dict = {}
    outs: dict = {}
    for _ in range(rounds):
        for s in settings:
            seconds, outs[s] = run(s)
            best[s] = min(best.get(s, float("inf")), seconds)
    return best, outs


def _screen(screen: Runner, reference: Setting, settings: list[Setting], cut: float) -> tuple[dict, dict]:
    """One warmed pass of every setting at the screening size: (seconds, PSNR against ``reference``).

    The reference goes first; a later setting whose untimed warm-up pass alone
    takes twice the cut over the fastest so far is not run again (its warm-up time stands).
    A setting the cut would drop is run once more and keeps its faster pass: one
    pass is one sample, and a burst of load from elsewhere once had AMX bf16 at
    0.057 s here against 0.013 s in the calibrations before and after it, which cut
    the setting that then ran the whole CLI 20 % faster than the one chosen.
    """
    seconds: dict = {}
    outs: dict = {}
    for s in [reference] + [s for s in settings if s != reference]:
        limit = 2 * cut * min(seconds.values()) if seconds else None
        seconds[s], outs[s] = screen(s, limit)
    for s in settings:
        if seconds[s] > cut * min(seconds.values()):
            seconds[s] = min(seconds[s], screen(s, None)[0])
    return seconds, {s: None if s.precision == "fp32" else output_psnr(outs[reference], outs[s]) for s in settings}


def choose(run: Runner, fixed: dict, n_cores: int, min_psnr: float = RIFE_CALIBRATION_MIN_PSNR,
           rounds: int = RIFE_CALIBRATION_REPEATS, screen: Runner | None = None,
           cut: float = RIFE_CALIBRATION_SCREEN_CUT) -> tuple[Setting, list[Trial]]:
    """Measure the candidates with ``run`` and pick the fastest whose output matches fp32's.

    Precision × memory format at every core first; then, for the winner,
    fewer threads, and several pairs at once on a share of the cores each
    (:func:`worker_options`; timed as seconds per pair while the group runs).
    Pairs at once are chosen whenever the cores run them side by side (see
    :func:`_side_by_side`), however they compare with one pair on every
    core in this timing: in whole runs they were faster every time (below).
    When the screen and the timed passes disagree on which precision is
    faster, the two are timed again (:func:`_settle`).  The fp32
    output is the reference every other precision is held to (PSNR ≥
    ``min_psnr``, peak 1); one below is rejected unless its precision was forced.

    ``screen``: a runner on a small picture, run first, once per candidate:
    a candidate more than ``cut`` times slower there than the fastest is not
    timed at the class's size (bf16 without hardware support is 8-40x slower
    than fp32, and timing it at 720p cost a first run most of a minute).
    """
    first = candidates(fixed, n_cores)
    reference = next((s for s in first if s.precision == "fp32"), Setting("fp32", first[0].channels_last,
                                                                         first[0].threads))
    trials: list[Trial] = []
    quick: dict = {}
    if screen is not None and len(first) > 1:
        quick, quick_psnr = _screen(screen, reference, first, cut)
        fastest = min(quick[s] for s in first)
        kept = [s for s in first if quick[s] <= cut * fastest]
        trials += [Trial(s, None, quick_psnr[s], False, quick[s]) for s in first if s not in kept]
        first = kept
        if reference not in first:          # still the PSNR reference, not a candidate
            reference = min((s for s in quick if s.precision == "fp32"), key=quick.get)
    extra = [] if reference in first else [reference]
    seconds, outs = _timed(run, extra + first, rounds)
    _settle(run, seconds, quick, first, rounds)
    measured = []
    for s in first:
        p = None if s.precision == "fp32" else output_psnr(outs[reference], outs[s])
        # a forced precision is the caller's choice: its PSNR is recorded, not held against it
        measured.append(Trial(s, seconds[s], p, p is None or bool(p >= min_psnr) or "precision" in fixed,
                              quick.get(s)))
    trials = measured + trials
    best = min((t for t in measured if t.accepted), key=lambda t: t.seconds)
    p, cl, w = best.setting.precision, best.setting.channels_last, best.setting.workers
    fewer = [] if "threads" in fixed else [Setting(p, cl, k, w) for k in thread_options(n_cores // w)
                                           if k != best.setting.threads]
    if "workers" not in fixed:
        fewer += [Setting(p, cl, t, k) for t, k in worker_options(n_cores, fixed)]
    if fewer:
        again, _ = _timed(run, [best.setting] + fewer, rounds)
        best.seconds = min(best.seconds, again[best.setting])
        trials += [Trial(s, again[s], best.psnr, True) for s in fewer]
        best = min((t for t in trials if t.accepted), key=lambda t: t.seconds)
        if best.setting.workers == 1 and "workers" not in fixed:
            # pairs at once whenever the cores run them side by side: in a whole run the decoder and
            # the encoder share the cores, and one stalled thread holds up a pair's whole intra-op team
            # at every parallel region, but only its own pass among independent workers; and the
            # pipeline's serial steps between passes leave a team's other cores idle, not a worker's.
            # Whole CLI runs, 2 cores, 1 thread x 2 pairs against 2 threads x 1 pair, where this
            # timing had the pairs 0.92x, 1.06x, 1.145x and 1.32x as fast per pair: 53 %, 13 %, 28 %
            # and 35 % faster (bf16 and fp32, 640x272 and 720p; model_cards/rife-4.25.md)
            group = [t for t in trials if t.accepted and t.setting.workers > 1 and _side_by_side(t, trials)]
            if group:
                best = min(group, key=lambda t: t.seconds)
    return best.setting, trials


def _side_by_side(group: Trial, trials: list[Trial]) -> bool:
    """Whether ``group`` (several pairs at once) ran its pairs in parallel: per pair, under
    :data:`RIFE_WORKERS_MIN_OVERLAP` × one pair alone on the same threads (when that was
    timed).  Not so where a CPU quota gives the process fewer cores than it can see."""
    s = group.setting
    alone = [t.seconds for t in trials if t.seconds is not None and t.setting ==
             Setting(s.precision, s.channels_last, s.threads, 1)]
    return not alone or group.seconds < RIFE_WORKERS_MIN_OVERLAP * min(alone)


def _settle(run: Runner, seconds: dict, quick: dict, settings: list[Setting], rounds: int) -> None:
    """Time again, in place, the fastest setting of each precision when the screen and the timed
    passes rank them in opposite orders (a burst of load from elsewhere during one candidate's
    passes: AMX bf16 once timed 0.063 s a pass against 0.040 s in the next two calibrations, beside
    fp32's 0.062 s, while the screen had it 20 % ahead)."""
    tops = []
    for p in PRECISIONS:
        mine = [s for s in settings if s.precision == p and s in quick]   # every one of them was timed
        if mine:
            tops.append(min(mine, key=seconds.get))
    if len(tops) != 2:
        return
    a, b = tops
    if (seconds[a] < seconds[b]) == (quick[a] < quick[b]):
        return
    again, _ = _timed(run, [a, b], rounds)
    for s in (a, b):
        seconds[s] = min(seconds[s], again[s])


def calibration_pair(width: int, height: int, seed: int = 0):
    """Two pictures of a reproducible smooth scene, the second moved a few pixels: (2, 3, H, W) float32 in [0, 1].

    Smooth multi-scale texture (like ordinary footage, unlike white noise on
    which any flow is ambiguous) panning by (3, 2) px, with a disc moving the
    other way over it, so the network sees motion and an occlusion.
    """
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    w, h = width + 16, height + 16
    img = np.zeros((h, w, 3), np.float32)
    for cell, weight in ((64, 0.5), (16, 0.3), (4, 0.2)):
        coarse = rng.random((h // cell + 2, w // cell + 2, 3), dtype=np.float32)
        img += weight * cv2.resize(coarse, (w + 2 * cell, h + 2 * cell), interpolation=cv2.INTER_CUBIC)[:h, :w]
    img = np.clip(img, 0, 1)
    a, b = img[8:8 + height, 8:8 + width].copy(), img[6:6 + height, 5:5 + width].copy()
    r = max(4, min(width, height) // 8)
    cx, cy = width // 2, height // 2
    cv2.circle(a, (cx - 4, cy), r, (0.9, 0.2, 0.1), -1, lineType=cv2.LINE_AA)
    cv2.circle(b, (cx + 4, cy + 1), r, (0.9, 0.2, 0.1), -1, lineType=cv2.LINE_AA)
    return np.stack([a, b]).transpose(0, 3, 1, 2).copy()


def torch_runner(network: Callable[[Setting], object], width: int, height: int, nets: dict | None = None) -> Runner:
    """A :data:`Runner` timing one pass of ``network(setting)`` (features of both frames, flows,
    merge) on :func:`calibration_pair` at ``width``×``height`` (already a padded size);
    a setting's first call also runs one untimed warm-up pass; when that pass alone took more
    than ``limit`` seconds, its time is returned instead of a timed pass (it was measured slow)."""
    import torch

    pair = torch.from_numpy(calibration_pair(width, height))
    t = torch.tensor([0.5])
    warm: set = set()
    nets = {} if nets is None else nets   # one network per (precision, memory format), shared between runners

    def one(net):
        c0, c1 = net.features(pair[:1]), net.features(pair[1:])
        return net(pair[:1], pair[1:], t, c0=c0, c1=c1)

    def together(net, s: Setting) -> tuple[float, object]:
        """Seconds per pass with ``s.workers`` pairs at once, as the pipeline runs them: on
        ``s.workers`` threads that each run a warm-up pass (a new thread's first pass pays for
        its memory and its OpenMP team), wait for the others, then one timed pass."""
        import threading

        from ...media.runner import ordered_map

        ready = threading.Barrier(s.workers, timeout=600)

        def worker(_):
            torch.set_num_threads(s.threads)
            with torch.inference_mode():
                one(net)
                ready.wait()
                t0 = time.perf_counter()
                out = one(net)
                return t0, time.perf_counter(), out

        done = list(ordered_map(worker, range(s.workers), s.workers))
        return (max(d[1] for d in done) - min(d[0] for d in done)) / s.workers, done[-1][2]

    def run(s: Setting, limit: float | None = None) -> tuple[float, object]:
        kind = (s.precision, s.channels_last)
        net = nets[kind] if kind in nets else nets.setdefault(kind, network(s))
        if s.workers > 1:
            seconds, out = together(net, s)
            return seconds, out[0].clamp(0, 1).numpy()
        before = torch.get_num_threads()
        torch.set_num_threads(s.threads)
        try:
            with torch.inference_mode():
                if s not in warm:
                    t0 = time.perf_counter()
                    out = one(net)
                    warm.add(s)
                    if limit is not None and time.perf_counter() - t0 > limit:
                        return time.perf_counter() - t0, out[0].clamp(0, 1).numpy()
                t0 = time.perf_counter()
                out = one(net)
                seconds = time.perf_counter() - t0
        finally:
            torch.set_num_threads(before)
        return seconds, out[0].clamp(0, 1).numpy()

    return run


def screen(network: Callable[[Setting], object], width: int, height: int, fixed: dict, n_cores: int,
           multiple: int = 64, rounds: int = SCREEN_ROUNDS) -> tuple[Setting, list[Trial], bool, tuple[int, int]]:
    """About a second: fp32 against bf16 (channels-last unless forced) at :data:`SCREEN_PIXELS`
    in the clip's shape, each on its share of the cores (:func:`default_sharing`), one warm-up and
    ``rounds`` interleaved timed passes (best kept); bf16 must match fp32's output
    (:data:`RIFE_CALIBRATION_MIN_PSNR`) unless forced.  A precision whose warm-up pass alone takes
    :data:`RIFE_CALIBRATION_SCREEN_CUT` × the other's is not timed further (bf16 without hardware
    support).  Returns the setting, the trials, whether one precision was
    :data:`SCREEN_DECISIVE` × faster, and the size timed."""
    threads, workers = default_sharing(n_cores, fixed)
    f = min(1.0, (SCREEN_PIXELS / (width * height)) ** 0.5)
    size = (max(multiple, round(width * f / multiple) * multiple),
            max(multiple, round(height * f / multiple) * multiple))
    cl = fixed.get("channels_last", True)
    precisions = [fixed["precision"]] if "precision" in fixed else list(PRECISIONS)
    settings = [Setting(p, cl, threads, 1) for p in dict.fromkeys(["fp32", *precisions])]
    run = torch_runner(network, *size)
    best: dict = {}
    outs: dict = {}
    for r in range(rounds):
        for s in settings:
            if r and best.get(s, 0) > RIFE_CALIBRATION_SCREEN_CUT * min(best.values()):
                continue                                    # far slower on its warm-up: not worth timing
            limit = RIFE_CALIBRATION_SCREEN_CUT * min(best.values()) if best else None
            seconds, outs[s] = run(s, limit)
            best[s] = min(best.get(s, float("inf")), seconds)
    reference = settings[0]
    trials = []
    for s in settings:
        p = None if s.precision == "fp32" else output_psnr(outs[reference], outs[s])
        ok = p is None or p >= RIFE_CALIBRATION_MIN_PSNR or "precision" in fixed
        trials.append(Trial(Setting(s.precision, cl, threads, workers), None, p, ok, best[s]))
    accepted = [t for t in trials if t.accepted and t.setting.precision in precisions]
    chosen = min(accepted, key=lambda t: t.screen)
    rivals = [t.screen for t in accepted if t is not chosen]
    decisive = not rivals or min(rivals) >= SCREEN_DECISIVE * chosen.screen
    return chosen.setting, trials, decisive, size


def calibrate(network: Callable[[Setting], object], width: int, height: int, *, precision: str | None = None,
              path: str | None = None, multiple: int = 64, full: bool = False) -> Calibration:
    """The :class:`Setting` for frames of ``width``×``height`` (padded to ``multiple``) on this CPU.

    ``network(setting)`` returns the prepared :class:`IFNet` for a setting
    (cached by the caller).  A job's path (see the module notes): a final cached entry, else the
    table, else a screened or (still busy) provisional entry, else a screen of about a second.
    ``full`` (or ``VIDEXT_CALIBRATION=redo``): a full calibration now.  Cached per
    :func:`machine_key`; see the module doc for the environment variables.
    """
    fixed = forced(precision)
    n = cores()
    key = machine_key(width, height)
    m = mode()
    if m == "off" or len(fixed) == 4 or ("precision" in fixed and "threads" in fixed):
        s = Setting(fixed.get("precision", "fp32"), fixed.get("channels_last", True), fixed.get("threads", n),
                    fixed.get("workers", 1))
        return Calibration(key, s, "off" if m == "off" and not fixed else "forced")
    path = path or cache_file()
    if fixed:
        key += "|" + ",".join(f"{k}={v}" for k, v in sorted(fixed.items()))
    full = full or m == "redo"
    if not full:
        hit = cached_entry(key, path)
        if hit is not None and hit[1] == "final":
            return Calibration(key, hit[0], "cache")
        known = None if "precision" in fixed else from_table()
        if known is not None:
            threads, workers = default_sharing(n, fixed)
            s = Setting(known.precision, fixed.get("channels_last", known.channels_last), threads, workers)
            return Calibration(key, s, "table", note=known.label)
        if hit is not None and (hit[1] == "screened" or busy()):
            return Calibration(key, hit[0], "cache", status=hit[1])
    before = load()
    if full:
        size = measured_size(width, height, multiple)
        sw, sh = RIFE_CALIBRATION_SCREEN_SIZE
        small = (max(multiple, sw // multiple * multiple), max(multiple, sh // multiple * multiple))
        nets: dict = {}
        quick = torch_runner(network, *small, nets) if small[0] * small[1] < size[0] * size[1] else None
        chosen, trials = choose(torch_runner(network, *size, nets), fixed, n, screen=quick)
        result = Calibration(key, chosen, "measured", trials, size, small if quick else None)
    else:
        chosen, trials, decisive, size = screen(network, width, height, fixed, n, multiple)
        result = Calibration(key, chosen, "screened", trials, None, size,
                             status="final" if decisive else "screened",
                             note="" if decisive else f"neither precision {SCREEN_DECISIVE:g}x faster on the screen")
    under = max(before, load())
    if busy(under):
        result.status = "provisional"
        result.note = f"measured while the load ({under:.1f}) exceeded the {n} cores"
    _write_cache(path, key, {**result.as_dict(), "load": round(under, 2),
                             "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    return result
