"""The evaluation as a person reads it: the score table (means with ±, ★ only beyond the noise), the clip's
own figures and the sound's offset in plain words, and the report page (``report.html``) built from them.

Everything here reads the report's JSON form (:meth:`EvaluationReport.as_dict`), so the app's table
(:mod:`vidext.webapp.present`) and the page show the same cells, names and ★.
"""
from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass

from .labels import METHOD_NOTES, NOT_MEASURABLE, method_name, metric_meaning, metric_name


@dataclass(frozen=True)
class Column:
    key: str
    unit: str
    higher_is_better: bool
    decimals: int

    @property
    def label(self) -> str:
        return "Speed" if self.key == "frames_per_second" else metric_name(self.key)

    def heading(self) -> str:
        arrow = "↑" if self.higher_is_better else "↓"
        return f"{self.label} ({self.unit}) {arrow}" if self.unit else f"{self.label} {arrow}"


#: every column the page can show, in order; the app shows :data:`APP_COLUMNS`
COLUMNS = (Column("psnr_y", "dB", True, 2), Column("psnr", "dB", True, 2), Column("ssim", "", True, 3),
           Column("ms_ssim", "", True, 3), Column("lpips", "", False, 3), Column("vmaf", "", True, 1),
           Column("frames_per_second", "frames/s", True, 1))
APP_COLUMNS = ("psnr_y", "ssim", "lpips", "frames_per_second")


@dataclass(frozen=True)
class Cell:
    value: str              # "34.08" (or "–" when not measured)
    plus_minus: str = ""    # "0.95" (the 95 % half-width), "" when none or 0
    star: bool = False


def number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def methods_of(report: dict) -> list[dict]:
    methods = report.get("methods") if isinstance(report, dict) else None
    if isinstance(methods, dict):
        return [{"name": k, **v} for k, v in methods.items() if isinstance(v, dict)]
    if isinstance(methods, list):
        return [{"name": m.get("name") or m.get("method") or "?", **m} for m in methods if isinstance(m, dict)]
    return []


def score_table(report: dict, keys=None) -> tuple[list[Column], list[tuple[str, list[Cell]]]]:
    """(columns, [(method name, cells)]): only columns the report holds; ★ from the report's ``stars``
    (better than every other method beyond the noise, :mod:`vidext.evaluation.verdict`)."""
    items = methods_of(report)
    stars = report.get("stars") or {}
    cols = [c for c in COLUMNS if (keys is None or c.key in keys)
            and any(number(m.get(c.key)) is not None for m in items)]
    rows = []
    for m in items:
        cells = []
        for c in cols:
            v = number(m.get(c.key))
            if v is None:
                cells.append(Cell("–"))
                continue
            iv = (m.get("interval") or {}).get(c.key)
            half = (number(iv[1]) - number(iv[0])) / 2 if isinstance(iv, list) and len(iv) == 2 and \
                number(iv[0]) is not None and number(iv[1]) is not None else 0.0
            pm = f"{half:.{c.decimals}f}" if round(half, c.decimals) > 0 else ""
            cells.append(Cell(f"{v:.{c.decimals}f}", pm, stars.get(c.key) == m["name"]))
        rows.append((method_name(m["name"]), cells))
    return cols, rows


def verdict_text(report: dict) -> str:
    v = report.get("verdict") or {}
    return v.get("text") or ""


def method_line(report: dict) -> str:
    """How the held-out test works, said for this run."""
    held = report.get("held_out") or {}
    factor, rebuilt = held.get("factor"), held.get("rebuilt")
    if not factor:
        return ""
    kept = "every other frame was kept" if factor == 2 else f"one frame in {factor} was kept"
    sampled = held.get("sampled") or ""
    where = (f" ({sampled.split(',')[0]} of the clip, spread evenly)" if sampled and "exhaustive" not in sampled
             else "")
    return (f"{kept.capitalize()}; the {rebuilt} frames between{where} were rebuilt by each method and "
            "compared with the real ones.")


def reading_notes(report: dict, columns: list[Column]) -> list[str]:
    """What the table's signs mean, for the columns shown."""
    level = (report.get("confidence") or {}).get("level", 0.95)
    meanings = [f"{c.label}: {metric_meaning(c.key)}" for c in columns if metric_meaning(c.key)]
    out = []
    if meanings:
        out.append("; ".join(meanings) + ". ↑ higher is better, ↓ lower is better.")
    out.append(f"± is the range the whole clip's mean lies in ({level:.0%} confidence), from the frames "
               "measured. Methods are also compared frame by frame on the same frames, which tells smaller "
               "differences apart: ★ marks a method better than every other beyond that noise, and no ★ "
               "means no method is.")
    return out


def sound_line(report: dict) -> str:
    """"Sound vs picture: +40 ms (the sound comes late)"; never brackets inside brackets."""
    offset = number(report.get("av_offset_s"))
    sync = report.get("av_sync") or {}
    if offset is not None:
        ms = offset * 1000
        if abs(ms) < 0.5:
            return "Sound vs picture: in step."
        late = "the sound comes late" if ms > 0 else "the sound comes early"
        check = "; more than a frame: check the sync" if sync.get("flagged") else ""
        return f"Sound vs picture: {ms:+.0f} ms, {late}{check}."
    note = report.get("av_offset_note") or ""
    if note == NOT_MEASURABLE:
        return ("Sound vs picture: not measurable on this clip, too few moments where the sound and the "
                "picture change together.")
    if note:
        return f"Sound vs picture: not measured: {note}."
    return ""


def clip_rows(report: dict) -> list[tuple[str, str]]:
    """The clip's own figures (temporal pass): [(what, value)]."""
    t = report.get("temporal") or {}
    rows = []
    warp = number(t.get("warp_error_mean"))
    if warp is not None:
        rows.append(("Motion consistency: change left after following the motion (8-bit levels) ↓",
                     f"{warp:.2f}"))
    flicker = number(t.get("flicker_rms"))
    if flicker is not None:
        rows.append(("Flicker: brightness steps (levels, RMS) ↓", f"{flicker:.2f}"))
    jumps = t.get("jumps")
    if isinstance(jumps, list):
        times = ", ".join(f"{number(j.get('time_s')) or 0:.2f} s" for j in jumps[:5] if isinstance(j, dict))
        rows.append(("Sudden jumps (cuts, glitches)", f"{len(jumps)}" + (f", at {times}" if times else "")))
    return rows


# --- the page ------------------------------------------------------------------

_CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#dde1ea; --accent:#0072B2; --bg:#f6f7fa; }
* { box-sizing:border-box; }
body { margin:0; font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink);
       background:var(--bg); }
main { max-width:960px; margin:0 auto; padding:24px 16px 48px; }
header .kicker { margin:0; color:var(--muted); font-size:.85em; letter-spacing:.04em; text-transform:uppercase; }
h1 { margin:.1em 0 .2em; font-size:1.6em; overflow-wrap:anywhere; }
h2 { font-size:1.2em; margin:1.8em 0 .5em; }
.facts { color:var(--muted); margin:0; }
.verdict { background:#fff; border-left:5px solid var(--accent); border-radius:6px; padding:14px 18px;
           margin-top:20px; box-shadow:0 1px 2px rgba(0,0,0,.06); }
.verdict p { margin:.2em 0; } .verdict .lead { font-size:1.15em; font-weight:600; }
section.card { background:#fff; border-radius:6px; padding:4px 18px 14px; margin-top:16px;
               box-shadow:0 1px 2px rgba(0,0,0,.06); }
.table-wrap { overflow-x:auto; -webkit-overflow-scrolling:touch;
  background: linear-gradient(to right,#fff 30%,rgba(255,255,255,0)) left/40px 100% no-repeat local,
              linear-gradient(to left,#fff 30%,rgba(255,255,255,0)) right/40px 100% no-repeat local,
              radial-gradient(farthest-side at 0 50%,rgba(0,0,0,.25),transparent) left/12px 100% no-repeat scroll,
              radial-gradient(farthest-side at 100% 50%,rgba(0,0,0,.25),transparent) right/12px 100% no-repeat scroll; }
table { border-collapse:collapse; font-variant-numeric:tabular-nums; min-width:100%; }
th, td { padding:6px 10px; vertical-align:top; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
th:first-child, td:first-child { text-align:left; }
th { font-weight:600; color:var(--muted); font-size:.9em; }
td .pm { display:block; color:var(--muted); font-size:.8em; line-height:1.2; }
td.star { font-weight:700; } td.star::after { content:" ★"; color:#D55E00; }
.note { color:var(--muted); font-size:.9em; }
.hint { display:none; color:var(--muted); font-size:.85em; margin:.2em 0; }
figure { margin:12px 0 20px; } figure img { max-width:100%; height:auto; display:block; border-radius:4px; }
figcaption { color:var(--muted); font-size:.9em; margin-top:4px; }
dl { margin:0; } dt { font-weight:600; margin-top:.8em; } dd { margin:.2em 0 0; color:var(--muted); }
footer { color:var(--muted); font-size:.85em; margin-top:32px; }
.plot { width:100%; }
@media (max-width:640px) { .hint { display:block; } body { font-size:15px; } main { padding:16px 10px 32px; } th, td { padding:5px 6px; } }
"""


def _esc(text) -> str:
    return html.escape(str(text))


def _table_html(report: dict) -> str:
    cols, rows = score_table(report)
    if not rows:
        return ""
    head = "<tr><th>Method</th>" + "".join(f"<th>{_esc(c.heading())}</th>" for c in cols) + "</tr>"
    body = []
    for name, cells in rows:
        tds = "".join(
            ("<td class='star'>" if cell.star else "<td>") + _esc(cell.value)
            + (f" <span class='pm'>± {_esc(cell.plus_minus)}</span>" if cell.plus_minus else "") + "</td>"
            for cell in cells)
        body.append(f"<tr><td>{_esc(name)}</td>{tds}</tr>")
    notes = "".join(f"<p class='note'>{_esc(n)}</p>" for n in reading_notes(report, cols) if n)
    return (f"<section class='card'><h2>Scores</h2><p class='hint'>Swipe the table sideways for every column.</p>"
            f"<div class='table-wrap' role='region' tabindex='0' "
            f"aria-label='scores (scrolls sideways)'><table><thead>{head}</thead><tbody>{''.join(body)}</tbody>"
            f"</table></div>{notes}</section>")


def _measured_html(report: dict) -> str:
    """How it was measured: the details a reader may want, after everything else."""
    held = report.get("held_out") or {}
    items = []
    for m in methods_of(report):
        if m["name"] in METHOD_NOTES:
            items.append((method_name(m["name"]), METHOD_NOTES[m["name"]]))
    for metric in report.get("metrics") or []:
        items.append((f"{metric_name(metric.get('name', ''))}: {metric.get('label', '')}",
                      metric.get("definition", "")))
    if held.get("sampled"):
        items.append(("Frames measured", f"{held['sampled']}; {held.get('rebuilt', '?')} frames rebuilt of the "
                                         f"{held.get('population', '?')} an every-window run would rebuild"))
    if held.get("speed"):
        items.append(("Speed", held["speed"]))
    conf = report.get("confidence") or {}
    if conf.get("method"):
        items.append((f"The ± ({conf.get('level', 0.95):.0%})", conf["method"]))
    v = report.get("verdict") or {}
    if v.get("meaningful") is not None:
        items.append(("The verdict", f"{metric_name(v.get('metric', ''))} compared frame by frame over "
                                     f"{v.get('frames', '?')} frames; a difference counts when its interval "
                                     f"excludes zero and it is at least {v['meaningful']:g}"
                                     f"{' dB' if str(v.get('metric', '')).startswith('psnr') else ''}"))
    for n in report.get("notes") or []:
        items.append(("Note", n))
    dl = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(d)}</dd>" for k, d in items if d)
    return f"<section class='card'><h2>How this was measured</h2><dl>{dl}</dl></section>" if dl else ""


def report_page(report: dict, charts: list[tuple[str, str]], pictures: list[tuple[str, str]],
                plotly_js: str = "") -> str:
    """The whole ``report.html``: ``charts`` are (title, plotly div), ``pictures`` (caption, data URL)."""
    v = report.get("video") or {}
    facts = " · ".join(x for x in (
        f"{v['width']}×{v['height']}" if v.get("width") else "",
        f"{v['fps']:.4g} fps" if number(v.get("fps")) else "",
        f"{(report.get('held_out') or {}).get('frames_read', v.get('frames', '?'))} frames read",
        f"measured in {report['seconds']:.1f} s" if number(report.get("seconds")) else "") if x)
    verdict = verdict_text(report)
    name = os.path.basename(str(report.get("input") or "clip"))
    parts = [f"<header><p class='kicker'>vidext · evaluation</p><h1>{_esc(name)}</h1>"
             f"<p class='facts'>{_esc(facts)}</p></header>"]
    if verdict:
        parts.append(f"<section class='verdict' aria-label='verdict'><p class='lead'>{_esc(verdict)}</p>"
                     f"<p class='note'>{_esc(method_line(report))}</p></section>")
    parts.append(_table_html(report))
    if charts:
        parts.append("<section class='card'><h2>Charts</h2>" + "".join(
            f"<h3>{_esc(t)}</h3><div class='plot'>{div}</div>" for t, div in charts) + "</section>")
    if pictures:
        parts.append("<section class='card'><h2>Each method's worst frame</h2>" + "".join(
            f"<figure><img alt='{_esc(c)}' loading='lazy' src='{src}'><figcaption>{_esc(c)}</figcaption></figure>"
            for c, src in pictures) + "</section>")
    clip = clip_rows(report)
    sound = sound_line(report)
    if clip or sound:
        rows = "".join(f"<tr><td>{_esc(k)}</td><td>{_esc(x)}</td></tr>" for k, x in clip)
        parts.append("<section class='card'><h2>The clip itself</h2>"
                     + (f"<div class='table-wrap'><table><tbody>{rows}</tbody></table></div>" if rows else "")
                     + (f"<p>{_esc(sound)}</p>" if sound else "") + "</section>")
    parts.append(_measured_html(report))
    parts.append(f"<footer>{_esc(report.get('tool', 'vidext'))} {_esc(report.get('version', ''))}</footer>")
    script = f"<script>{plotly_js}</script>" if plotly_js else ""
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>vidext evaluate</title><style>{_CSS}</style>{script}</head><body><main>"
            + "".join(p for p in parts if p) + "</main></body></html>")
