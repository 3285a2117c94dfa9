"""The public functions: what the CLI, the app and scripts call.

Each job is a module of its own with the same shape (check inputs → plan →
run → result); this file only names them:

- :func:`interpolate` → :mod:`vidext.jobs.interpolate`, :func:`extend` →
  :mod:`vidext.jobs.extend`, :func:`audio` → :mod:`vidext.jobs.audio`,
  :func:`evaluate` → :mod:`vidext.jobs.evaluate`, :func:`batch` → :mod:`vidext.jobs.batch`;
  plus :func:`probe_file`
  and :func:`preview`.
- :func:`plan_interpolate`, :func:`plan_extend`, :func:`plan_audio`: what a
  job will write (a :class:`vidext.plan.Plan`: ``frames_out``, ``rate``,
  ``duration_s``, ``segment``, ``summary``), from a path or a probe and the
  same keyword arguments as the job; the job runs from the same plan.

Every job returns a :class:`vidext.jobs.result.Result` (``seconds``, ``as_dict()``).
"""
from __future__ import annotations

import threading

from . import config
from .config import Limits
from .jobs.result import JobResult
from .media.probe import MediaInfo, probe
from .media.runner import ProgressCallback
from .plan import Plan


def probe_file(path: str) -> MediaInfo:
    """Describe a media file (streams, size, rates, colour, duration)."""
    return probe(path)


def plan_interpolate(input: str | MediaInfo, **kwargs) -> Plan:
    """What :func:`interpolate` will write with ``kwargs`` (its keyword arguments): frames, rate, duration.

    ``plan_interpolate(path_or_info, factor=None, fps=None, slowmo=None, start=None, end=None, **same as
    interpolate)`` → :class:`vidext.plan.Plan`; ``plan.segment`` is the slowed range snapped to input frames.
    """
    from .jobs.interpolate import plan_interpolate as _plan

    return _plan(input, **kwargs)


def plan_extend(input: str | MediaInfo, **kwargs) -> Plan:
    """What :func:`extend` will write: ``plan_extend(path_or_info, seconds=S, direction="forward",
    method="seamless", **same as extend)`` → :class:`vidext.plan.Plan`."""
    from .jobs.extend import plan_extend as _plan

    return _plan(input, **kwargs)


def plan_audio(input: str | MediaInfo, **kwargs) -> Plan:
    """What :func:`audio` will write: ``plan_audio(path_or_info, stretch=None, extend=None,
    direction="forward", audio_file=None, **same as audio)`` → :class:`vidext.plan.Plan`."""
    from .jobs.audio import plan_audio as _plan

    return _plan(input, **kwargs)


def interpolate(input: str | MediaInfo, output: str, *, factor=None, fps=None, slowmo=None, start=None, end=None,
                quality: str = config.DEFAULT_QUALITY, model: str = config.DEFAULT_MODEL, weights=None,
                device: str | None = None, auto_budget: float | None = None,
                codec: str | None = None, crf: int | None = None, scene_threshold: float | None = None,
                progress: ProgressCallback | None = None, stop: threading.Event | None = None,
                span=None, playable: bool = False, limits: Limits | None = None, **advanced) -> JobResult:
    """Make ``input`` smoother (``factor``× its rate or ``fps``) and/or slower (``slowmo``).

    Without ``slowmo`` the duration is unchanged and the sound copied; output
    frames are aligned to the first input frame (with ``factor=2`` output frame
    2k is input frame k, 2k+1 lies halfway).  ``slowmo=K`` plays the clip (or
    the ``start``–``end`` segment, in seconds from the first frame) K times slower at the
    same rate unless ``factor``/``fps`` say otherwise; outside a segment frames
    are copied untouched.  Scene cuts (``scene_threshold`` in (0, 1], default
    ``config.SCENE_THRESHOLD``, 0 = off) are never morphed; duplicated frames
    are replaced by in-between ones.  ``advanced``: ``low_light``,
    ``flow_smoothing``, ``motion_blur`` (shutter fraction), ``dedupe``,
    ``duplicate_threshold``.  ``model="rife"`` uses RIFE 4.25: ``weights`` (a file or
    folder) overrides where its checkpoint comes from, ``device`` (auto/cpu/cuda[:N]) where it runs.
    ``quality="best"`` (or ``model="best"``): the slowest and best picture, RIFE with test-time
    augmentation and DIS ``quality`` fused per pixel (:mod:`vidext.interpolation.fusion`; DIS alone
    without RIFE's weights).  ``model="auto"`` first measures each method on excerpts of the clip and runs the winner
    (:mod:`vidext.jobs.auto`; ``auto_budget``: the fraction of the full run's estimated time it may
    spend measuring, default ``config.AUTO_BUDGET``, and always at least a few seconds); the
    choice and the table are in ``details["auto"]``.
    ``span`` (a :class:`vidext.interpolation.timeline.Span`) renders one part
    of the clip on the whole clip's frame grid, without sound:
    :func:`vidext.batch` joins such parts into exactly the frames of a whole run.
    ``codec`` None: the output name's container decides (h264 for .mp4, vp9 for .webm ...).
    ``playable``: also write ``<stem>.playable.mp4`` (H.264 4:2:0 8-bit + AAC) when the output does
    not play in every browser and phone (``result.playable_path``, sidecar ``playable``).
    ``input`` may be a probe (:func:`probe_file`) already made: it is used, not made again;
    ``limits`` (a :class:`vidext.config.Limits`) replace the environment's ``VIDEXT_MAX_*``.
    """
    from .jobs.interpolate import run_interpolation

    return run_interpolation(input, output, factor=factor, fps=fps, slowmo=slowmo, start=start, end=end,
                             quality=quality, model=model, weights=weights, device=device, auto_budget=auto_budget,
                             codec=codec, crf=crf, scene_threshold=scene_threshold, progress=progress, stop=stop,
                             span=span, playable=playable, limits=limits, **advanced)


def preview(input: str, **interpolate_kwargs) -> str:
    """Path of a short low-resolution excerpt interpolated as :func:`interpolate` would (cached)."""
    from .jobs.preview import preview as _preview
    return _preview(input, **interpolate_kwargs)


def extend(input: str | MediaInfo, output: str, *, seconds: float, direction: str = "forward",
           method: str = config.DEFAULT_EXTEND_METHOD, seed: int | None = None,
           audio_method: str = config.DEFAULT_EXTEND_AUDIO,
           prompt: str | None = None, quantize: str | None = None, codec: str | None = None,
           crf: int | None = None, progress: ProgressCallback | None = None,
           stop: threading.Event | None = None, playable: bool = False,
           limits: Limits | None = None) -> JobResult:
    """Make ``input`` longer: ``seconds`` of new frames after it, before it, or both.

    The original frames are kept untouched (decoded and encoded once, same
    size, rate, colour and bit depth); the new ones continue the clip's own
    frame grid.  ``method`` is one of :data:`vidext.extension.EXTENDERS`:
    ``auto`` (default: measures the others per edge and keeps the best, see
    ``details["extension"]["auto"]`` and ``["summary"]``), classical
    ``seamless``/``loop``/``pingpong``/``freeze``/``motion``, or generative
    ``svd``/``ltx``, which take ``seed``, ``prompt`` (ltx) and ``quantize``.
    The sound is extended to match (``audio_method``): ``follow`` (default)
    replays the sound of the footage the picture replays, in sync; ``loop``
    (music-aware loop point), ``musicgen`` or ``silence`` by choice.  ``codec`` and
    ``playable``, a probe as ``input`` and ``limits`` as for :func:`interpolate`.
    """
    from .jobs.extend import run_extension

    return run_extension(input, output, seconds=seconds, direction=direction, method=method, seed=seed,
                         audio_method=audio_method, prompt=prompt, quantize=quantize, codec=codec, crf=crf,
                         progress=progress, stop=stop, playable=playable, limits=limits)


def evaluate(input: str, *, methods=config.EVALUATE_METHODS, factor=2, json_path: str | None = None,
             report_dir: str | None = None, max_frames: int | None = None, metrics=None,
             lpips_frames: int | None = None, temporal: bool = True,
             sample: int | None = config.EVALUATE_SAMPLE_WINDOWS,
             progress: ProgressCallback | None = None, stop: threading.Event | None = None):
    """Honest quality numbers on ``input`` itself; returns an ``EvaluationReport``.

    Held-out reconstruction (docs/measuring.md): frames 0, N, 2N, … are kept
    (N = ``factor``), every frame between is rebuilt by each of ``methods``
    (``blend``, ``duplicate``, the DIS presets ``fast``/``balanced``/``quality``,
    any registered model such as ``rife``; ``"none"`` skips this part) and
    scored against the original with ``metrics`` (default: luma PSNR, RGB
    PSNR, SSIM, LPIPS; MS-SSIM and VMAF on request; per frame and mean) with each method's speed.
    Without a GPU LPIPS scores a sample of ``lpips_frames`` held-out frames
    (default: 3 to 6 by frame size, ``config.LPIPS_CPU_*``; 0 = all).  Also: temporal
    consistency of the clip as it is (warp error, flicker, jumps with their
    times) and the audio–video offset.  ``json_path`` receives the numbers,
    ``report_dir`` the charts (HTML) and pictures (PNG).  Only the first
    ``max_frames`` frames are read when given.  The clip is streamed.  ``sample``: rebuild
    that many held-out windows spread evenly over the clip (default
    ``config.EVALUATE_SAMPLE_WINDOWS``; None = every window); each mean carries a
    confidence interval.  Progress is reported from the start.
    """
    from .jobs.evaluate import evaluate_file

    return evaluate_file(input, methods=methods, factor=factor, json_path=json_path, report_dir=report_dir,
                         max_frames=max_frames, metrics=metrics, lpips_frames=lpips_frames, temporal=temporal,
                         sample=sample, progress=progress, stop=stop)


def batch(job: str, inputs, out_dir: str, **kwargs):
    """Run ``job`` (``interpolate`` or ``extend``) on many files, or one long film in chunks, on Ray.

    ``batch(job, inputs, out_dir, options=None, address=None, chunk_seconds=None, resume=False,
    workers=None, progress=None, stop=None)`` → :class:`vidext.jobs.batch.BatchResult`; see
    :func:`vidext.jobs.batch.batch`.
    """
    from .jobs.batch import batch as _batch

    return _batch(job, inputs, out_dir, **kwargs)


def audio(input: str, output: str, *, stretch=None, extend=None, direction: str = "forward",
          method: str = "loop", prompt: str | None = None, audio_file: str | None = None,
          seed: int | None = None, progress: ProgressCallback | None = None,
          stop: threading.Event | None = None, playable: bool = False, **method_options):
    """Change a sound, or put one on a video; returns a :class:`vidext.jobs.result.AudioResult`.

    Exactly one of: ``stretch=K`` (audio file in, K× longer, pitch kept,
    0.125–8), ``extend=SEC`` (audio file in, SEC seconds of new sound
    ``direction`` forward/backward/both, ``method`` loop/musicgen/silence,
    ``prompt`` text for MusicGen), ``audio_file=FILE`` (video in: its
    picture copied, FILE's sound encoded once and cut or padded with silence
    to the picture's duration).  A video's own sound is retimed by
    ``interpolate(slowmo=...)`` and ``extend(...)``, which move the picture too.
    ``playable`` (video outputs) as for :func:`interpolate`.
    """
    from .jobs.audio import run_audio_job

    return run_audio_job(input, output, stretch=stretch, extend=extend, direction=direction, method=method,
                         prompt=prompt, audio_file=audio_file, seed=seed, progress=progress, stop=stop,
                         playable=playable, **method_options)
