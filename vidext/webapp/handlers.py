"""What each tab's Run button does, free of Gradio: map the form to a vidext call.

Each ``run_*`` function takes the uploaded file, the job folder and the
settings, checks the limits before any work, calls the public vidext function
and returns an :class:`Outcome` the UI presents.  They raise only
:class:`~vidext.errors.VidextError` subclasses for anything a user can cause.
Arguments and results are plain values, so the functions also run in a
ZeroGPU worker process.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any

from .. import api, config
from ..config import Limits
from ..errors import ParameterError
from ..limits import check_video
from ..media.codecs import ALPHA_CODECS, has_alpha
from ..media.runner import JobProgress, Stage
from ..security import allowed_output, safe_name
from . import capabilities, plans, present
from .jobs import check_input

_AUDIO_EXTS = (".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus")


@dataclass
class Outcome:
    """A finished job as the app shows it."""

    output: str | None                     # the main (faithful) result file
    details: dict[str, Any]                # JSON for API clients (no server paths)
    playable: str | None = None            # a file the browser plays: ``output`` itself or its playable copy
    files: list[str] = field(default_factory=list)   # extra downloads (sidecar, report, pictures)
    summary: str = ""                      # what the result is, in plain words (Markdown)
    figures: dict[str, Any] = field(default_factory=dict)   # interactive charts (plotly), evaluate only
    page: str | None = None                # a page that opens in the browser (the evaluation report)

    def paths(self) -> list[str]:
        """Every file the outcome names (checked to lie in the job folder)."""
        return [p for p in (self.output, self.playable, self.page, *self.files) if p]


def safe_stem(path: str, limit: int = 48) -> str:
    """A file-name stem from an uploaded name (:func:`vidext.security.safe_name`): no folder, no option."""
    return safe_name(path, default="clip", limit=limit)


def set_only(**options) -> dict[str, Any]:
    """The options that were set: ``None`` means "not set" and is left out, so the engine's own default applies.

    The engine refuses an option name it does not know with a message naming
    it (each job's ``check_settings``); nothing is dropped here but ``None``.
    """
    return {k: v for k, v in options.items() if v is not None}


#: what the sidecar's ``output`` says of the streams beside the picture, handed on to API callers as it
#: is: the sound tracks written and how, what else was kept, and what was converted or dropped and why
STREAM_KEYS = ("audio_tracks", "streams_kept", "chapters", "converted", "dropped")


def describe(result, root: str) -> dict[str, Any]:
    """A JSON-friendly summary of a vidext result, server paths reduced to file names; a video or sound
    job's account of its other streams (:data:`STREAM_KEYS`, from the sidecar's ``output``) with it:
    nothing is dropped without the API caller told."""
    if hasattr(result, "as_dict"):
        data = {k: v for k, v in result.as_dict().items() if k != "details"}  # the sidecar holds those
        record = (getattr(result, "details", None) or {}).get("output")
        if isinstance(record, dict) and "dropped" in record:
            data.update({k: record[k] for k in STREAM_KEYS if k in record})
    elif dataclasses.is_dataclass(result):
        data = {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name != "details"}
        fps = getattr(result, "frames_per_second", None)
        if fps is not None:
            data["frames_per_second"] = round(fps, 2)
    else:
        data = {"result": str(result)}
    return _strip_paths(data, root)


def _strip_paths(value, root: str):
    # A JSON output with a "path" key would be taken for a file by Gradio's clients: call it "file".
    if isinstance(value, dict):
        return {("file" if k == "path" else k): _strip_paths(v, root) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strip_paths(v, root) for v in value]
    if isinstance(value, str) and os.path.isabs(value):
        return os.path.basename(value)
    if isinstance(value, float):
        return round(value, 4)
    return value


def _none_if(value, *empty):
    return None if value in empty else value


def _crf(value) -> int | None:
    """A CRF from a form (sliders send floats); 0 or empty means the codec's default."""
    return int(value) if value else None


def _out(folder: str, src: str, tag: str, ext: str) -> str:
    """The output path in the job folder: the upload's name made safe, never a path the request gave."""
    return allowed_output(os.path.join(folder, f"{safe_stem(src)}-{tag}{ext}"), [folder])


#: the app's codec choice by default: H.264 (plays everywhere), or a codec that keeps the clip's alpha
APP_CODEC_AUTO = "auto"
APP_CODEC_AUTO_WORDS = "auto: h264 (plays everywhere), or prores 4444 (.mov) when the clip has transparency"
APP_ALPHA_CODEC = ALPHA_CODECS[".mov"]


def app_codec(codec: str | None, info) -> str:
    """The codec a job of the app writes: ``auto`` (or nothing) is H.264, or ProRes 4444 for a clip with
    an alpha plane (a browser plays neither transparency nor ProRes: the playable copy shows it)."""
    if codec not in (None, "", APP_CODEC_AUTO):
        return codec
    alpha = info.video is not None and has_alpha(info.video.pix_fmt)
    return APP_ALPHA_CODEC if alpha else config.DEFAULT_CODEC


def _video_ext(codec: str) -> str:
    from ..media.codecs import CODECS

    spec = CODECS.get(codec)
    if spec is None:
        raise ParameterError(f"unknown codec {codec!r}; choose one of: {', '.join(CODECS)}")
    return spec.containers[0]


# --- Interpolate ---------------------------------------------------------------

def _video_outcome(result, folder: str, notes: dict | None = None) -> Outcome:
    """A finished video job: the faithful file, the one the browser plays, and a plain summary.

    The job was asked for a playable copy: one is written exactly when the
    output itself does not play everywhere, so the player gets that copy or
    the output.
    """
    playable = result.playable_path or result.output
    details = describe(result, folder)
    record = (result.details or {}).get("output") or {}
    words = {"duration_s": result.duration_s, "frames_out": result.frames_out, "fps": result.fps,
             "audio": present.sound_fate(result.details, result.audio), "seconds": result.seconds,
             "streams": present.streams_words(record), "tracks": len(record.get("audio_tracks") or []),
             **(notes or {})}
    if not result.audio:
        words["audio"] = None
    extra = [p for p in (playable,) if p and p != result.output]
    summary = present.result_words(words)
    if record.get("pix_fmt") and has_alpha(record["pix_fmt"]):     # said: a browser shows no transparency
        summary += (f"\n\n**Transparency kept:** the download is {record.get('codec', '')} with its alpha plane; "
                    "the player shows the picture without it.")
    picture = ((result.details or {}).get("playable") or {}).get("picture")
    if picture and result.playable_path:        # the player shows a copy whose picture differs (HDR → SDR)
        summary += f"\n\nThe player shows a copy: {picture}."
    return Outcome(result.output, details, playable, [*extra, *[p for p in (result.sidecar,) if p]], summary)


def interpolate_needs_gpu(*, model: str = config.DEFAULT_MODEL, **_) -> bool:
    if model == "auto":  # it may choose a learned model when one is at hand
        return any(capabilities.learned(m).available for m in capabilities.learned_methods())
    return model in capabilities.learned_methods()


def run_interpolate(video: str, folder: str, *, factor: float | None = config.APP_DEFAULT_FACTOR,
                    fps: float | None = None, slowmo: float | None = None, start: float | None = None,
                    end: float | None = None, quality: str = config.DEFAULT_QUALITY,
                    model: str = config.DEFAULT_MODEL, codec: str = APP_CODEC_AUTO,
                    crf: int | None = None, scene_threshold: float | None = None,
                    low_light: bool = False, flow_smoothing: bool = False, motion_blur: float = 0.0,
                    dedupe: bool = True, limits: Limits | None = None,
                    progress=None, stop=None) -> Outcome:
    """More frames (``factor``× or a typed ``fps``, which wins), slow motion, on the clip or ``start``–``end``.

    A segment narrower than the clip is passed on with or without slow motion
    (without, only that part gets new frames).  ``scene_threshold`` None
    leaves the engine's default (0 turns cut detection off); the advanced
    options are passed only when they differ from the engine's defaults.
    """
    limits = limits or Limits.from_env()
    info = check_input(video, limits)
    timing = present.interpolate_settings(factor, fps, slowmo, start, end, info.video.duration_s)
    codec = app_codec(codec, info)
    output = _out(folder, video, "smooth" if timing["slowmo"] is None else "slowmo", _video_ext(codec))
    advanced = {"low_light": True if low_light else None, "flow_smoothing": True if flow_smoothing else None,
                "motion_blur": float(motion_blur) if motion_blur else None, "dedupe": None if dedupe else False}
    # the upload's probe and the server's limits are handed on: the job plans and checks once
    result = api.interpolate(info, output, limits=limits, **set_only(
        **timing, quality=quality, model=model, codec=codec, crf=_crf(crf),
        scene_threshold=None if scene_threshold in (None, "") else float(scene_threshold),
        progress=progress, stop=stop, **advanced), playable=True)
    notes = {"auto_summary": present.auto_words((result.details or {}).get("auto")),
             "audio_note": (result.details or {}).get("audio_note")}
    return _video_outcome(result, folder, notes)


# --- Extend --------------------------------------------------------------------

def extend_needs_gpu(*, method: str = config.DEFAULT_EXTEND_METHOD, audio_method: str | None = None, **_) -> bool:
    return method in capabilities.generative_methods() or audio_method in capabilities.generative_methods()


def run_extend(video: str, folder: str, *, seconds: float, direction: str = "forward",
               method: str = config.DEFAULT_EXTEND_METHOD, seed: int | None = None, audio_method: str | None = None,
               prompt: str | None = None, quantize: str | None = None,
               codec: str = APP_CODEC_AUTO, crf: int | None = None,
               limits: Limits | None = None, progress=None, stop=None) -> Outcome:
    """``seconds`` of new frames after the end, before the start, or both."""
    limits = limits or Limits.from_env()
    info = check_input(video, limits)
    codec = app_codec(codec, info)
    output = _out(folder, video, "extended", _video_ext(codec))
    # the upload's probe and the server's limits are handed on: the job plans and checks once
    result = api.extend(info, output, limits=limits, **set_only(
        seconds=seconds, direction=direction, method=method, seed=_none_if(seed, -1),
        audio_method=_none_if(audio_method, ""), prompt=_none_if(prompt, ""),
        quantize=_none_if(quantize, "", "none"), codec=codec, crf=_crf(crf), progress=progress, stop=stop),
        playable=True)
    # method auto: what it chose at each edge and why, in plain words
    return _video_outcome(result, folder, {"auto_summary": present.extend_choice_words(
        (result.details or {}).get("extension"))})


# --- Audio ---------------------------------------------------------------------

def audio_needs_gpu(*, method: str | None = None, **_) -> bool:
    return method in capabilities.generative_methods()


def run_audio(media: str, folder: str, *, stretch: float | None = None, extend: float | None = None,
              direction: str = "forward", method: str = "loop", prompt: str | None = None,
              audio_file: str | None = None, seed: int | None = None,
              limits: Limits | None = None, progress=None, stop=None) -> Outcome:
    """A sound file: time-stretch (pitch kept) or continue it.  A video: put another sound on it.

    Only the settings that fit the file are used (a video's stretch and
    continuation sliders do not apply: its sound is retimed by Interpolate
    and Extend, which move the picture too).
    """
    limits = limits or Limits.from_env()
    info = check_input(media, limits, need_video=False)
    is_video = info.video is not None
    if is_video:
        check_video(info, limits)
    if audio_file:
        check_input(audio_file, limits, need_video=False)
    chosen = present.audio_settings(is_video=is_video, stretch=stretch, extend=extend, audio_file=audio_file)
    plan = plans.plan("audio", info, direction=direction, **chosen)
    if is_video:
        check_video(info, limits, output_frames=plan.frames_out)
    ext = os.path.splitext(media)[1].lower()
    if not is_video and ext not in _AUDIO_EXTS:
        ext = ".wav"
    elif is_video:
        ext = ext if ext in (".mp4", ".mov", ".mkv") else ".mp4"
    output = _out(folder, media, "audio", ext)
    result = api.audio(media, output, **set_only(
        **chosen, direction=direction if "extend" in chosen else None,
        method=method if "extend" in chosen else None,
        prompt=_none_if(prompt, ""), seed=_none_if(seed, -1), progress=progress, stop=stop),
        playable=is_video)      # a video that does not play everywhere gets its copy, as in the other tabs
    playable = result.playable_path or result.output
    extra = [p for p in (result.playable_path,) if p and p != result.output]
    said = {**chosen, "direction": direction}
    details = describe(result, folder)
    return Outcome(result.output, details, playable, [*extra, *[p for p in (result.sidecar,) if p]],
                   present.sound_result_words(details, said,
                                              present.streams_words((result.details or {}).get("output"))))


# --- Evaluate ------------------------------------------------------------------

#: the report page's share of the Evaluate tab's bar (its charts and pictures, written after the measuring)
PAGE_SHARE = 0.1

def evaluate_needs_gpu(*, methods=(), **_) -> bool:
    return any(m in capabilities.evaluate_learned() for m in methods or ())


def run_evaluate(video: str, folder: str, *, methods=capabilities.EVALUATE_CLASSICAL, factor: int = 2,
                 max_frames: int | None = None, limits: Limits | None = None,
                 progress=None, stop=None) -> Outcome:
    """Held-out reconstruction scores of each method on this clip: tables, charts, pictures, report page.

    The report names the clip by its file name, never by the server's path
    of the upload.
    """
    from ..evaluation.pictures import write_report_dir

    limits = limits or Limits.from_env()
    check_input(video, limits)
    methods = tuple(methods or ())
    if not methods:
        raise ParameterError("choose at least one method to evaluate")
    # the page is a stage of the person's wait too: the engine's job runs inside this one's first stage
    job = JobProgress(progress, [Stage("measuring", "measuring", 1.0 - PAGE_SHARE),
                                 Stage("page", "the report page", PAGE_SHARE)])
    with job:
        report = api.evaluate(video, **set_only(methods=methods, factor=int(factor), max_frames=_none_if(max_frames, 0),
                                                progress=job.enter("measuring"), stop=stop))
        job.enter("page")
        report.input = os.path.basename(video)
        report_dir = os.path.join(folder, "report")
        written = write_report_dir(report, report_dir)
        report.files = {k: os.path.basename(v) for k, v in written.items()}
        json_path = allowed_output(os.path.join(folder, "evaluation.json"), [folder])
        report.write_json(json_path)
        job.finish()
    with open(json_path, encoding="utf-8") as f:
        details = _strip_paths(json.load(f), folder)
    pictures = sorted(p for p in written.values() if p.endswith(".png"))
    page = written.get("report")
    return Outcome(json_path, details, None, pictures, present.evaluate_words(details),
                   dict(getattr(report, "figures", {}) or {}), page)


def method_rows(report: dict) -> list[list]:
    """Rows (method, metric means…, frames/s) of the API's results table, from the JSON report.

    Accepts ``{"methods": {name: {...}}}`` or ``{"methods": [{"method"|"name": ..}]}``;
    columns are the scalar fields the report holds, in its order.
    """
    methods = report.get("methods") if isinstance(report, dict) else None
    if isinstance(methods, dict):
        items = list(methods.items())
    elif isinstance(methods, list):
        items = [(m.get("method") or m.get("name") or "?", m) for m in methods if isinstance(m, dict)]
    else:
        return []
    columns: list[str] = []
    for _, m in items:
        for k, v in m.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in columns:
                columns.append(k)
    rows = [["method", *columns]]
    for name, m in items:
        rows.append([name, *[m.get(c) for c in columns]])
    return rows


# --- Preview -------------------------------------------------------------------

def run_preview(video: str, folder: str, *, factor: float | None = config.APP_DEFAULT_FACTOR,
                fps: float | None = None, slowmo: float | None = None, start: float | None = None,
                end: float | None = None, quality: str = config.DEFAULT_QUALITY,
                model: str = config.DEFAULT_MODEL, limits: Limits | None = None,
                progress=None, stop=None) -> Outcome:
    """A low-resolution excerpt of what Interpolate would give (``vidext.preview``, cached there).

    The excerpt is copied into the job folder: the app serves only files of
    its own folders and uploads, whatever cache ``vidext.preview`` keeps.
    """
    import shutil

    limits = limits or Limits.from_env()
    info = check_input(video, limits)
    timing = present.interpolate_settings(factor, fps, slowmo, start, end, info.video.duration_s)
    cached = api.preview(video, **set_only(**timing, quality=quality, model=model))
    del progress, stop  # a preview takes a couple of seconds; it is not cancelled or tracked
    output = _out(folder, video, "preview", os.path.splitext(cached)[1] or ".mp4")
    shutil.copyfile(cached, output)
    return Outcome(output, {}, output)
