"""What the app shows, as pure functions of plain values (no Gradio, no files).

The form's values become the engine's settings here (a typed target fps wins
over the multiplier, a segment narrower than the clip is passed on, "0" and
"1" mean "not set"), the engine's plans and results become one-line
summaries, and an evaluation report becomes tables a person reads at a
glance.  The tab builders (:mod:`vidext.webapp.ui`) call these and only lay
out what they return, so everything a user reads is unit-tested here.
"""
from __future__ import annotations

from .. import config
from ..errors import ParameterError
from ..extension.scoring import EXTEND_INSIDE_LIMIT
from ..media.streamwords import fit_words, main_track, stream_fates

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


def length_words(seconds: float) -> str:
    """A length as people say it (a limit, not a clock): ``10 min``, ``1 min 30 s``, ``1 h 30 min``, ``45 s``."""
    total = int(round(max(0.0, float(seconds))))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    parts = [f"{h} h" if h else "", f"{m} min" if m else "", f"{s} s" if s and not h else ""]
    return " ".join(p for p in parts if p) or "0 s"


def limits_line(limits) -> str:
    """The server's limits, the line under the app's title."""
    return (f"Files up to {limits.max_upload_mb:g} MB and {length_words(limits.max_duration_s)} long, frames up "
            f"to {limits.max_pixels / 1e6:.1f} megapixels, results up to {limits.max_fps:g} fps.")


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
    width, height = v.display_size      # as it plays: a phone's portrait clip is portrait
    return (f"{width}×{height} · {clip_rate_words(v)} · {format_time(v.duration_s)}{frames} · "
            f"{sound_words(info.audio)}")


def clip_rate_words(v) -> str:
    """``25 fps``; a variable-rate clip's real average rate, not its nominal one: ``2.26 fps on average
    (variable)`` for 68 frames over 29.6 s nominally at 15 fps."""
    if v.variable_frame_rate and getattr(v, "gapped", False):
        return f"{float(v.rate):.4g} fps with frames missing ({v.fps_measured:.3g} on average)"
    if v.variable_frame_rate:
        return f"{float(v.rate):.3g} fps on average (variable)"
    return f"{float(v.rate):.4g} fps"


def waiting_plan(info_line: str | None, ask: str) -> str:
    """The plan line while there is no usable file: ``ask`` for one, or, once a file was refused (the line
    under the upload says why), ask for another."""
    if info_line and info_line.lstrip().startswith("⚠"):
        return "Choose another file: the one above cannot be used."
    return ask


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


def rate_words(settings: dict, input_fps: float, variable: bool = False) -> str:
    """How the output rate was chosen, in the screen's words (``input_fps``: the clip's rate as it plays,
    a variable-rate clip's real average, :attr:`vidext.media.probe.VideoInfo.rate`)."""
    clip = f"the clip's average {input_fps:.3g} fps" if variable else f"the clip's {input_fps:.4g} fps"
    if settings.get("fps") is not None:
        said = f"the {settings['fps']:g} fps typed replaces the multiplier"
    elif settings.get("factor") is not None:
        said = f"{settings['factor']:g}× {clip}"
    else:
        said = clip
    if variable:
        said += " (its frames come at varying times; the output's are evenly spaced)"
    return said


#: the plan line's words for model auto: what runs before the rendering
AUTO_FIRST = "first the models are tried on a few frames of your clip (a few seconds) and the best is kept"


def vfr_extend_words(rate: float, gapped: bool = False) -> str:
    """What an extension of a variable-rate clip does with time, said in the plan line (``gapped``: its
    frames lie on the nominal grid with some missing, and the new ones continue that grid)."""
    if gapped:
        return f"new frames on the clip's {rate:.4g} fps grid; its own frames keep their times"
    return (f"new frames {1 / rate:.2f} s apart (the clip's average {rate:.3g} fps); "
            "its own frames keep their varying times")


def plan_words(plan, settings: dict | None = None, input_fps: float | None = None, variable: bool = False) -> str:
    """The plan line: what the run will write, said before it runs."""
    line = f"**{plan.duration_in_s:.2f} s → {plan.duration_s:.2f} s**"
    if plan.frames_out:
        line += f" · {plan.frames_out} frames at {plan.fps:.4g} fps"
    if settings is not None and input_fps is not None and plan.frames_out:
        line += f": {rate_words(settings, input_fps, variable)}"
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

AUDIO_DEFAULT_STRETCH = 2.0  # what the Audio tab proposes for a sound file, and what /audio does unasked


def audio_settings(*, is_video: bool, stretch=None, extend=None, audio_file=None) -> dict:
    """The form → ``vidext.audio`` settings; only what fits the file (sound vs video) is used.

    The stretch starts at :data:`AUDIO_DEFAULT_STRETCH` (the tab's proposal, the API's default); a
    continuation (``extend``) replaces that proposal, as moving the tab's continue slider resets the
    stretch; a stretch of 1 means "unchanged".
    """
    if not _unset(extend, 0) and stretch is not None and float(stretch) == AUDIO_DEFAULT_STRETCH:
        stretch = None
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
    if "audio_file" in settings:     # the plan measured the chosen sound: cut, padded or as long
        fit = {"as": plan.details.get("fit"), "source_s": plan.details.get("sound_s")}
        return f"**The picture is kept as it is; the chosen sound replaces its sound**, {fit_words(fit, plan.duration_s)}"
    line = f"**{plan.duration_in_s:.2f} s → {plan.duration_s:.2f} s**"
    if "stretch" in settings:
        return line + f" · stretched {settings['stretch']:g}×, pitch kept"
    where = {"forward": "after the end", "backward": "before the start", "both": "on both sides"}[direction]
    return line + f" · {settings['extend']:g} s of new sound {where}"


# --- Why: the engine's choices in plain words, its figures one click away --------

def details_block(summary: str, body: str) -> str:
    """Figures a person may want, folded away under ``summary`` (an HTML details element)."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def auto_words(auto: dict | None) -> str | None:
    """What ``model auto`` chose for Interpolate and why, in plain words; the measurements folded below."""
    if not isinstance(auto, dict) or not auto.get("chosen"):
        return None
    chosen = auto["chosen"]
    rows = [r for r in auto.get("table") or [] if isinstance(r, dict) and r.get("frames") and not r.get("dropped")]
    summary = str(auto.get("summary") or "")
    if not rows:
        why = ("the run makes no new frames" if "no new frames" in summary else
               "every excerpt tried lay across a scene cut" if "cut" in summary else
               "comparing models would have taken too long on this clip")
        return f"**Model: {method_name(chosen)}**, the default, without a comparison: {why}."
    excerpts = sum(1 for e in auto.get("excerpts") or [] if isinstance(e, dict) and e.get("windows")) or 1
    took = auto.get("seconds")
    tried = (f"after {len(rows)} models were tried on {excerpts} short excerpt{'s' if excerpts != 1 else ''} "
             f"of your clip" + (f" ({took:.0f} s)" if isinstance(took, (int, float)) else ""))
    cost = {r["method"]: r.get("estimated_seconds_per_frame") or 0 for r in rows}
    quicker = [m for m in cost if m != chosen and cost[m] < cost.get(chosen, 0)]
    if not quicker:
        why = "no slower model looked visibly better."
    else:
        why = f"the quickest is kept unless a slower one looks visibly better, and {method_name(chosen)} did."
    line = f"**Model: {method_name(chosen)}**, {tried}: {why}"
    table = markdown_table(
        ["Model", "PSNR (dB) ↑", "LPIPS ↓", "seconds a frame", "frames measured"],
        [[("**" + method_name(r["method"]) + "**") if r["method"] == chosen else method_name(r["method"]),
          _fmt(r.get("psnr_y"), 2), _fmt(r.get("lpips"), 3), _fmt(r.get("seconds_per_frame"), 3),
          str(r.get("frames", ""))] for r in auto.get("table") or [] if isinstance(r, dict)])
    body = "\n\n".join(x for x in (table, f"The engine's own words: {summary}" if summary else "",
                                    f"Rule: {auto['rule']}" if auto.get("rule") else "") if x)
    return line + "\n\n" + details_block("The measurements", body)


def _fmt(value, decimals: int) -> str:
    return "–" if not isinstance(value, (int, float)) or isinstance(value, bool) else f"{value:.{decimals}f}"


#: Extend's ways of making new frames, in the words of a person watching
EXTEND_WAYS = {"seamless": "a seamless loop (part of the shot plays again, joined with no visible seam)",
               "motion": "the camera's motion carried on", "pingpong": "the shot played backwards from its edge",
               "freeze": "the edge frame held", "ramp": "the edge of the shot slowed down into the new time",
               "svd": "new frames made by a generative model (SVD)",
               "ltx": "new frames made by a generative model (LTX-Video)"}
_EDGES = {"backward": "Before the start", "forward": "After the end"}


def _extend_problems(candidates: dict) -> list[str]:
    """What a viewer would notice in the candidates that failed, each said once."""
    said: list[str] = []
    for figures in candidates.values():
        if not isinstance(figures, dict) or figures.get("passed"):
            continue
        for key, words in (("junction", "a visible jump where the new part starts"),
                           ("stall", "the motion would stop or turn back"), ("jerk", "the view would lurch")):
            if (figures.get(key) or 0) > 1 and words not in said:
                said.append(words)
        if (figures.get("inside_worst") or 0) > EXTEND_INSIDE_LIMIT:
            words = "new pictures unlike any real frame"
            if words not in said:
                said.append(words)
    return said


#: where a way chosen by hand keeps the record of its own measured check, per edge (the sidecar's ``extension``),
#: and what it is called then (not "with no visible seam" when its check found one)
_OWN_CHECKS = {"seamless": ("loops", "the shot looped back to an earlier frame (seamless)"),
               "motion": ("motion", "the camera's motion carried on (motion)")}


def _own_check_words(extension: dict) -> str | None:
    """A way chosen by hand whose own check of what a viewer sees failed at an edge: said, as the CLI
    says it (no word when it passed or was not measured)."""
    method = extension.get("method")
    if method not in _OWN_CHECKS:
        return None
    key, way = _OWN_CHECKS[method]
    records = extension.get(key)
    if not isinstance(records, dict):
        return None
    lines = []
    for edge in ("backward", "forward"):
        r = records.get(edge)
        if not isinstance(r, dict) or r.get("passed") is not False:
            continue
        problems = _extend_problems({method: r.get("score") or {"passed": False}})
        seen = f" ({'; '.join(problems)})" if problems else ""
        lines.append(f"**{_EDGES[edge]}:** {way}, but it fails the check of what a "
                     f"viewer sees{seen}; *auto* measures every way and keeps one that passes.")
    return "\n\n".join(lines) or None


def extend_choice_words(extension: dict | None) -> str | None:
    """What Extend's ``auto`` chose at each edge and why, in plain words; the figures folded below.  A way
    chosen by hand: a word only where its own check failed."""
    decisions = (extension or {}).get("auto") if isinstance(extension, dict) else None
    if not isinstance(decisions, dict) or not decisions:
        return _own_check_words(extension) if isinstance(extension, dict) else None
    lines, reasons, rows = [], [], []
    for edge in ("backward", "forward"):
        d = decisions.get(edge)
        if not isinstance(d, dict):
            continue
        chosen, candidates = d.get("chosen"), d.get("candidates") or {}
        way = EXTEND_WAYS.get(chosen, chosen)
        tried = len(candidates)
        mine = candidates.get(chosen) if isinstance(candidates.get(chosen), dict) else None
        if not candidates:
            why = "the clip has a single frame"
        elif mine is not None and mine.get("passed"):
            why = (f"of the {tried} ways tried, it looked the most natural" if tried > 1 else "it looks natural")
        else:
            problems = _extend_problems(candidates)
            seen = f" ({'; '.join(problems)})" if problems else ""
            if chosen == "ramp":
                why = f"none of the {tried} ways tried would look right{seen}, so the shot slows down instead"
            else:
                way = "the edge frame held after the motion eases to a stop"
                why = (f"none of the {tried} ways tried would look right{seen}, and the shot is too short to "
                       "slow down")
        lines.append(f"**{_EDGES.get(edge, edge)}:** {way}: {why}.")
        if d.get("reason"):
            reasons.append(f"{_EDGES.get(edge, edge)}: {d['reason']}")
        for name, f in candidates.items():
            if isinstance(f, dict):
                rows.append([_EDGES.get(edge, edge).lower(), name, _fmt(f.get("junction"), 2), _fmt(f.get("stall"), 2),
                             _fmt(f.get("jerk"), 2), _fmt(f.get("inside_worst"), 2), _fmt(f.get("cost"), 2),
                             "yes" if f.get("passed") else "no"])
    table = markdown_table(["edge", "way", "jump", "stall", "lurch", "distance", "cost", "passes"], rows)
    body = "\n\n".join(x for x in (
        "Each way is scored on what a viewer sees over the seam; a score above 1 is noticeable "
        "(jump: the largest step against the shot's own; stall: motion stopping; lurch: changes of motion "
        "against the shot's own; distance: new pictures from the nearest real frame); the lowest cost among "
        "those that pass wins." if rows else "", table, "\n\n".join(reasons)) if x)
    return "\n\n".join(lines) + ("\n\n" + details_block("The measurements", body) if body else "")


#: what happened to the sound (the main track's ``as`` in the sidecar, else the output's ``audio``)
SOUND_FATES = {"copied": "sound kept as it was", "retimed": "sound slowed with the picture, pitch kept",
               "extended": "sound continued over the new part", "re-encoded": "sound kept (re-encoded)"}


def sound_fate(details: dict | None, mode: str | None) -> str | None:
    """How the main sound track was written (``retimed``, ``extended`` ...), from a job's sidecar details;
    ``mode`` (``copied``/``re-encoded``) when the details do not say; None: no sound."""
    if not mode:
        return None
    main = main_track((details or {}).get("output") if isinstance(details, dict) else None)
    if main is not None and main.get("as"):
        return str(main["as"])
    return mode


#: how the result says what became of the streams beside the picture (the CLI's ``kept:`` ... lines)
FATE_HEADS = {"kept": "Also kept", "converted": "Converted", "dropped": "Not kept"}


def streams_words(output: dict | None) -> str | None:
    """What the job kept beside the picture and its sound, what it converted and what it could not keep,
    each with why, from the sidecar's ``output`` record: the CLI's words
    (:func:`vidext.media.streamwords.stream_fates`), one line each; None when there is nothing to say."""
    lines = [f"**{FATE_HEADS[fate]}:** {words}" for fate, words in stream_fates(output)]
    return "\n\n".join(lines) or None


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
        tracks = r.get("tracks") or 0
        parts.append(SOUND_FATES.get(str(audio), f"sound {audio}") + (f" ({tracks} tracks)" if tracks > 1 else ""))
    elif "audio" in r:
        parts.append("no sound")
    line = "**Done:** " + " · ".join(parts)
    notes = [n for n in (r.get("streams"), r.get("auto_summary"), r.get("audio_note")) if n]
    for n in notes:
        line += f"\n\n{n}"
    return line     # the time the person waited follows, from the tab's event (took_words)


def sound_result_words(r: dict, settings: dict | None = None, streams: str | None = None) -> str:
    """A finished Audio job: what happened to the sound, in the words of the tab's settings; ``streams``:
    what became of the other tracks, subtitles and chapters (:func:`streams_words`)."""
    settings = settings or {}
    op = r.get("operation")
    if op == "stretch":
        what = f"sound stretched {settings['stretch']:g}×, pitch kept" if settings.get("stretch") else \
            "sound stretched, pitch kept"
    elif op == "extend":
        where = {"forward": "after the end", "backward": "before the start", "both": "on both sides"}
        what = "sound continued" + (f" by {settings['extend']:g} s {where.get(settings.get('direction'), '')}"
                                    if settings.get("extend") else "")
    elif op == "remux":
        main, picture = main_track(r), r.get("picture_s")
        what = "the picture kept as it was, the chosen sound put on it" + (
            f", {fit_words(main, picture)}" if main is not None and isinstance(picture, (int, float)) else "")
    else:
        what = f"sound: {op}"
    line = f"**Done:** {what.rstrip()} · {r.get('duration_s', 0):.2f} s"
    if streams:
        line += f"\n\n{streams}"
    return line     # the time the person waited follows, from the tab's event (took_words)


def took_words(waited_s: float, stages=()) -> str:
    """The time a person waited for a result, from their click to the result, and where it went:
    ``<small>Took 42.3 s: measuring the methods on your clip 8.1 s · rendering 30.2 s · playable copy
    3.9 s.</small>`` (``stages``: the job's last progress report's, :func:`vidext.media.runner.stage_split`)."""
    from ..media.runner import stage_split

    split = stage_split(stages)
    return f"<small>Took {waited_s:.1f} s" + (f": {split}" if split else "") + ".</small>"


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

def method_name(key: str) -> str:
    """A method's name as the table, the charts' legends and the verdict say it."""
    from ..evaluation.labels import method_name as name

    return name(key)


def score_table(report: dict) -> tuple[list[str], list[list[str]]]:
    """(headings, rows) of the evaluation's means, each with its ± under it; ★ only for a method better
    than every other beyond the noise (the report's ``stars``, :mod:`vidext.evaluation.verdict`)."""
    from ..evaluation.page import APP_COLUMNS
    from ..evaluation.page import score_table as cells

    cols, rows = cells(report, APP_COLUMNS)
    out = []
    for name, row in rows:
        texts = []
        for c in row:
            text = f"**{c.value} ★**" if c.star else c.value
            texts.append(text + (f"<br><small>±&nbsp;{c.plus_minus}</small>" if c.plus_minus else ""))
        out.append([name, *texts])
    return ["Method", *[c.heading() for c in cols]], out


def markdown_table(headings: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return ""
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def evaluate_words(report: dict) -> str:
    """What the Evaluate tab shows: the verdict first, the table with ±, what the signs mean, and the
    clip's own figures and the sound's offset one click away."""
    from ..evaluation.page import APP_COLUMNS, clip_rows, method_line, reading_notes, sound_line, verdict_text
    from ..evaluation.page import score_table as cells

    out = []
    said = verdict_text(report)
    if said:
        out.append(f"**Verdict:** {said}")
    table = markdown_table(*score_table(report))
    if table:
        out.append(table)
        notes = [method_line(report), *reading_notes(report, cells(report, APP_COLUMNS)[0])]
        out.append("<small>" + " ".join(n for n in notes if n) + "</small>")
    more = []
    rows = clip_rows(report)
    if rows:
        more.append(markdown_table(["The clip itself", ""], [[k, v] for k, v in rows]))
    sound = sound_line(report)
    if sound:
        more.append(sound)
    if more:
        out.append("<details><summary>The clip itself: motion, flicker, jumps, sound</summary>\n\n"
                   + "\n\n".join(more) + "\n\n</details>")
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
