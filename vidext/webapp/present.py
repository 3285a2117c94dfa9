"""What the app shows, as pure functions of plain values (no Gradio, no files).

The form's values become the engine's settings here (a typed target fps wins
over the multiplier, a segment narrower than the clip is passed on, "0" and
"1" mean "not set"), the engine's plans and results become one-line
summaries, and an evaluation report becomes tables a person reads at a
glance.  The tab builders (:mod:`vidext.webapp.ui`) call these and only lay
out what they return, so everything a user reads is unit-tested here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .. import config
from ..errors import ParameterError

_EPS = 1e-6


# --- The clip ------------------------------------------------------------------

def format_time(seconds: float) -> str:
    """``m:ss.s`` (``h:mm:ss`` past an hour)."""
    seconds = max(0.0, float(seconds))
    if seconds >= 3600:
        h, rest = divmod(int(round(seconds)), 3600)
        return f"{h}:{rest // 60:02d}:{rest % 60:02d}"
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}"


def sound_words(audio) -> str:
    """"stereo sound", "mono sound", "no sound": never a codec name."""
    if not audio:
        return "no sound"
    ch = audio[0].channels
    kind = {1: "mono", 2: "stereo"}.get(ch, f"{ch}-channel")
    return f"{kind} sound"


def clip_line(info) -> str:
    """One line about an uploaded file, in the words a person uses."""
    v = info.video
    if v is None:
        return f"Sound file · {format_time(info.duration_s)} · {sound_words(info.audio)}"
    frames = f" ({v.frame_count} frames)" if v.frame_count else ""
    return (f"{v.width}×{v.height} · {float(v.fps_nominal):.4g} fps · {format_time(v.duration_s)}{frames} · "
            f"{sound_words(info.audio)}")


def problem(message: str) -> str:
    """An error as the app shows it: one line, marked, next to the control it concerns."""
    return f"⚠️ {message}"


# --- Interpolate ---------------------------------------------------------------

def _unset(value, *empty) -> bool:
    return value is None or value == "" or value in empty


def interpolate_settings(factor=None, fps=None, slowmo=None, start=None, end=None,
                         duration_s: float | None = None) -> dict:
    """The form → ``vidext.interpolate`` keyword arguments (factor, fps, slowmo, start, end).

    A typed target fps overrides the multiplier; a multiplier of 1 and slow
    motion of 1 mean "not set"; ``start`` 0 and an ``end`` of 0 or at the
    clip's end mean the clip's own edges.  A segment narrower than the clip
    is passed on with or without slow motion (smoothing only that part).
    Raises ParameterError in the screen's words when there is nothing to do
    or the segment is backwards.
    """
    fps = None if _unset(fps, 0) else float(fps)
    factor = None if fps is not None or _unset(factor, 0, 1) else factor
    if isinstance(factor, float) and factor.is_integer():
        factor = int(factor)
    slowmo = None if _unset(slowmo, 0, 1) else float(slowmo)
    start = None if _unset(start, 0) else float(start)
    end = None if _unset(end, 0) else float(end)
    if end is not None and duration_s is not None and end >= duration_s - _EPS:
        end = None
    if start is not None and end is not None and end <= start:
        raise ParameterError(f"the segment's end ({end:.2f} s) must come after its start ({start:.2f} s)")
    if factor is None and fps is None and slowmo is None:
        raise ParameterError("nothing to do: choose a multiplier above 1, type a target fps, or set slow motion")
    return {"factor": factor, "fps": fps, "slowmo": slowmo, "start": start, "end": end}


def rate_words(settings: dict, input_fps: float) -> str:
    """How the output rate was chosen, in the screen's words."""
    if settings.get("fps") is not None:
        return f"the {settings['fps']:g} fps typed replaces the multiplier"
    if settings.get("factor") is not None:
        return f"{settings['factor']:g}× the clip's {input_fps:.4g} fps"
    return f"the clip's {input_fps:.4g} fps"


def plan_words(plan, settings: dict | None = None, input_fps: float | None = None) -> str:
    """The plan line: what the run will write, said before it runs."""
    line = f"**{plan.duration_in_s:.2f} s → {plan.duration_s:.2f} s**"
    if plan.frames_out:
        line += f" · {plan.frames_out} frames at {plan.fps:.4g} fps"
    if settings is not None and input_fps is not None and plan.frames_out:
        line += f": {rate_words(settings, input_fps)}"
    if plan.segment is not None:
        a, b = plan.segment
        if settings and settings.get("slowmo"):
            line += f" · slow motion {settings['slowmo']:g}× on {a:.2f}–{b:.2f} s, the rest at normal speed"
        else:
            line += f" · new frames only on {a:.2f}–{b:.2f} s, the rest keeps its frames"
    elif settings and settings.get("slowmo"):
        line += f" · slow motion {settings['slowmo']:g}× throughout"
    return line


# --- Audio ---------------------------------------------------------------------

AUDIO_DEFAULT_STRETCH = 2.0  # what the Audio tab proposes for a sound file (the API's default stays 1)


def audio_settings(*, is_video: bool, stretch=None, extend=None, audio_file=None) -> dict:
    """The form → ``vidext.audio`` settings; only what fits the file (sound vs video) is used."""
    stretch = None if _unset(stretch, 0, 1) else float(stretch)
    extend = None if _unset(extend, 0) else float(extend)
    audio_file = None if _unset(audio_file) else audio_file
    if is_video:
        if audio_file is None:
            raise ParameterError("choose a sound file to put on this video")
        return {"audio_file": audio_file}
    if stretch is not None and extend is not None:
        raise ParameterError("choose either a time-stretch or seconds to continue, not both")
    if stretch is None and extend is None:
        raise ParameterError("set a time-stretch other than 1×, or seconds to continue the sound")
    return {"stretch": stretch} if stretch is not None else {"extend": extend}


def audio_plan_words(plan, settings: dict, direction: str = "forward") -> str:
    if "audio_file" in settings:
        return (f"**The picture is kept as it is; the chosen sound replaces its sound**, cut or padded with "
                f"silence to {plan.duration_s:.2f} s")
    line = f"**{plan.duration_in_s:.2f} s → {plan.duration_s:.2f} s**"
    if "stretch" in settings:
        return line + f" · stretched {settings['stretch']:g}×, pitch kept"
    where = {"forward": "after the end", "backward": "before the start", "both": "on both sides"}[direction]
    return line + f" · {settings['extend']:g} s of new sound {where}"


# --- Results -------------------------------------------------------------------

def result_words(r: dict) -> str:
    """A finished video job in plain words: what was written, then how long it took (apart)."""
    parts = []
    if r.get("duration_s") is not None:
        parts.append(f"{r['duration_s']:.2f} s")
    if r.get("frames_out"):
        parts.append(f"{r['frames_out']} frames at {r['fps']:.4g} fps")
    audio = r.get("audio")
    if audio:
        parts.append({"copied": "sound kept as it was", "retimed": "sound slowed with the picture, pitch kept",
                      "extended": "sound continued", "re-encoded": "sound carried over"}.get(str(audio), f"sound {audio}"))
    elif "audio" in r:
        parts.append("no sound")
    line = "**Done:** " + " · ".join(parts)
    notes = [n for n in (r.get("auto_summary"), r.get("audio_note")) if n]
    for n in notes:
        line += f"\n\n{n}"
    if r.get("seconds"):
        speed = f" ({r['frames_out'] / r['seconds']:.1f} frames per second)" if r.get("frames_out") else ""
        line += f"\n\n<small>Processing took {r['seconds']:.1f} s{speed}.</small>"
    return line


def sound_result_words(r: dict) -> str:
    what = {"stretch": "stretched, pitch kept", "extend": "continued", "remux": "put on the video"}
    line = f"**Done:** sound {what.get(r.get('operation'), r.get('operation', ''))} · {r.get('duration_s', 0):.2f} s"
    if r.get("seconds"):
        line += f"\n\n<small>Processing took {r['seconds']:.1f} s.</small>"
    return line


def downloads_words(faithful: str | None, playable: str | None) -> str:
    """Which download is which when there are two."""
    import os

    if not faithful:
        return ""
    if not playable or playable == faithful:
        return ""
    return (f"Two downloads: **{os.path.basename(faithful)}** is the full-quality result as you asked for it; "
            f"**{os.path.basename(playable)}** is a copy that plays in every browser and phone (shown above).")


# --- Evaluate ------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: str
    higher_is_better: bool
    decimals: int

    def heading(self) -> str:
        arrow = "↑" if self.higher_is_better else "↓"
        return f"{self.label} ({self.unit}) {arrow}" if self.unit else f"{self.label} {arrow}"


#: The table's columns: a few that read at a glance (colour PSNR and MS-SSIM are in the report page).
SCORE_COLUMNS = (
    Column("psnr_y", "PSNR", "dB", True, 2),
    Column("ssim", "SSIM", "", True, 3),
    Column("lpips", "LPIPS", "", False, 3),
    Column("frames_per_second", "Speed", "frames/s", True, 1),
)

METHOD_NAMES = {"blend": "Cross-fade (baseline)", "duplicate": "Repeat frame (baseline)",
                "fast": "Optical flow, fast", "balanced": "Optical flow, balanced",
                "quality": "Optical flow, quality", "rife": "RIFE 4.25 (learned)", "dis": "Optical flow"}


def method_name(key: str) -> str:
    return METHOD_NAMES.get(key, key)


def _methods(report: dict) -> list[tuple[str, dict]]:
    methods = report.get("methods") if isinstance(report, dict) else None
    if isinstance(methods, dict):
        return list(methods.items())
    if isinstance(methods, list):
        return [(m.get("method") or m.get("name") or "?", m) for m in methods if isinstance(m, dict)]
    return []


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def score_table(report: dict) -> tuple[list[str], list[list[str]]]:
    """(headings, rows) of the evaluation's means: labels, units, ↑/↓, the best of each column in bold ★.

    Only columns the report holds appear; numbers are rounded per metric.
    """
    items = _methods(report)
    cols = [c for c in SCORE_COLUMNS if any(_number(m.get(c.key)) is not None for _, m in items)]
    best = {}
    for c in cols:
        values = [_number(m.get(c.key)) for _, m in items]
        known = [v for v in values if v is not None]
        if len(known) > 1:
            best[c.key] = max(known) if c.higher_is_better else min(known)
    rows = []
    for name, m in items:
        row = [method_name(name)]
        for c in cols:
            v = _number(m.get(c.key))
            if v is None:
                row.append("–")
                continue
            text = f"{v:.{c.decimals}f}"
            if c.key in best and round(v, c.decimals) == round(best[c.key], c.decimals):
                text = f"**{text} ★**"
            row.append(text)
        rows.append(row)
    return ["Method", *[c.heading() for c in cols]], rows


def markdown_table(headings: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return ""
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def evaluate_words(report: dict) -> str:
    """The evaluation's tables and notes as Markdown (what the Evaluate tab shows)."""
    out = []
    held = report.get("held_out") or {}
    factor = held.get("factor")
    if factor:
        out.append(f"Every {factor}{'nd' if factor == 2 else 'th'} frame was kept and the "
                   f"{held.get('rebuilt', '?')} frames between were rebuilt by each method, then compared with "
                   "the real ones. PSNR (luma) and SSIM: closeness to the real frames; LPIPS: how different it "
                   "looks to people. ↑ higher is better, ↓ lower is better; ★ marks the best.")
    table = markdown_table(*score_table(report))
    if table:
        out.append(table)
    t = report.get("temporal") or {}
    if t:
        rows = []
        warp, flick = _number(t.get("mean_warp_error")), _number(t.get("flicker"))
        if warp is not None:
            rows.append(["Motion consistency: warp error (levels) ↓", f"{warp:.2f}"])
        if flick is not None:
            rows.append(["Flicker (levels RMS) ↓", f"{flick:.2f}"])
        jumps = t.get("jumps")
        if isinstance(jumps, list):
            times = ", ".join(f"{_number(j.get('time_s')) or 0:.2f} s" for j in jumps[:5] if isinstance(j, dict))
            rows.append(["Sudden jumps in the clip", f"{len(jumps)}" + (f" (at {times})" if times else "")])
        if rows:
            out.append("**The clip as it is**\n\n" + markdown_table(["Measure", "Value"], rows))
    offset = _number(report.get("av_offset_s"))
    if offset is not None:
        out.append(f"Sound vs picture: {offset * 1000:+.0f} ms")
    elif report.get("av_offset_note"):
        out.append(f"Sound vs picture: not measured ({report['av_offset_note']})")
    return "\n\n".join(out)


# --- What this server offers ---------------------------------------------------

def user_reason(feature_name: str, reason: str) -> str:
    """Why something is not offered, in a user's words (the operator's detail goes to the operator note)."""
    r = reason.lower()
    if "gpu" in r:
        return "needs a graphics card (GPU), which this server does not have"
    return "its model is not installed on this server"


def operator_note(features) -> str:
    """What an operator would do to offer the missing features (one collapsible note)."""
    lines = [f"- **{f.name}**: {f.reason}" for f in features if not f.available]
    if not lines:
        return ""
    return ("\n".join(lines) + "\n\nModels are looked up in `$VIDEXT_MODEL_DIR` and the Hugging Face cache, "
            "never downloaded while the app runs; fetch them ahead with "
            "`python -m vidext.webapp.prefetch NAME` (or the Docker build argument `PRELOAD_MODELS`).")


def scene_threshold_default() -> float:
    return config.SCENE_THRESHOLD
