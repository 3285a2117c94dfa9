"""The live quality view: the evidence a job measures while it runs, drawn as one plot that updates.

The engine sends it as points (:class:`vidext.media.runner.Point`) through the progress callback;
the tab's relay gathers them (:class:`vidext.webapp.jobs.ProgressRelay`) and the tab redraws this plot
about twice a second while the job runs, then once more with everything.  What is drawn, per job:

- interpolate: while ``auto`` measures the methods on excerpts, each one's luma PSNR on every held-out frame
  (series ``tried:<method>``); once rendering reports, per in-between, the share of the picture whose motion the method could not follow
  (``occlusion``; a method that estimates no motion: how much the picture changes between the two real
  frames, ``change``, with the cut threshold), cuts, repeated frames and still pairs marked;
- extend: each candidate's score as it is measured (1 is where a viewer notices), ✗ on those that fail;
- evaluate: each rebuilt frame's luma PSNR per method as it is scored.

The plot is a small SVG (with an HTML legend that wraps on a phone), built here as a pure function of
the points: a redraw costs the browser a swap of a few kilobytes, not a charting library's re-render
(on a busy two-core machine plotly's redraw every second held the page's updates back by seconds).
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from .. import config
from ..evaluation.labels import method_name
from ..jobs.auto import TRIED

MAX_SHOWN = 400          # points per line drawn; more are put in buckets (each bucket's worst shown)
WIDTH, HEIGHT = 380, 200         # the SVG's own units: it scales to the column's width (a phone's 360 px
LEFT, RIGHT, TOP, BOTTOM = 34, 10, 20, 32   # keeps its 12-unit text about 11 px tall)
#: Okabe & Ito's colour-blind-safe set, in the order the evaluate charts use it
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
MARK_KINDS = ("cut", "duplicate", "still")
#: the marks, in the legend's words, and how they are drawn
MARK_WORDS = {"cut": "scene cut (held, never morphed)", "duplicate": "repeated frame (replaced)",
              "still": "nothing moved (blended)"}
MARK_COLOURS = {"cut": "#D55E00", "duplicate": "#CC79A7", "still": "#999999"}
RULE_COLOUR = "#999"     # a threshold's dashed line (its words are in the legend)
HEADROOM_NAMED = 1.2     # the y axis' top over the highest point when points carry names (extend's)
LABEL_RISE = 11          # a point's name: its baseline this far above the point (a ✗ reaches 6 up; descenders 3)


@dataclass(frozen=True)
class View:
    """How one job's evidence reads: the title and the axes."""

    title: str
    x: str
    y: str
    from_zero: bool = True       # the y axis starts at 0 (a PSNR's does not: its span is what reads)


VIEWS = {
    "interpolate": View("Where the motion is hard to follow", "seconds into the clip",
                        "picture the motion misses (%)"),
    # auto, before rendering: the methods as they are tried on held-out frames of the clip
    "tried": View("The methods, tried on frames of your clip", "seconds into the clip",
                  "PSNR (dB), higher is closer", from_zero=False),
    # a method that estimates no motion (RIFE, cross-fade): how much the picture changes instead
    "change": View("How much the picture changes", "seconds into the clip", "change between frames (%)"),
    "extend": View("The candidates, as they are measured", "measured, in order",
                   "score (above 1: a viewer notices)"),
    "evaluate": View("Each rebuilt frame as it is scored", "seconds into the clip", "PSNR (dB), higher is closer",
                     from_zero=False),
}


def gather(points) -> dict[str, list[tuple[float, float | None]]]:
    """Points → ``{kind: [(x, y), ...]}`` in x order (the same shape as a result's ``series``)."""
    out: dict[str, list] = {}
    for p in points:
        x, y, kind = (p.x, p.y, p.kind) if hasattr(p, "kind") else p
        out.setdefault(kind, []).append((x, y))
    return {k: sorted(v, key=lambda xy: xy[0]) for k, v in out.items()}


def thin(xy: list, most: int = MAX_SHOWN, worst=max) -> list:
    """At most ``most`` points: consecutive ones put in equal buckets, each shown by its ``worst``
    value at the bucket's middle (a peak is never averaged away)."""
    if len(xy) <= most:
        return list(xy)
    size = -(-len(xy) // most)
    out = []
    for i in range(0, len(xy), size):
        chunk = [p for p in xy[i:i + size] if p[1] is not None]
        if chunk:
            out.append((chunk[len(chunk) // 2][0], worst(y for _, y in chunk)))
    return out


@dataclass
class _Line:
    name: str
    xy: list
    colour: str
    dots: bool = False
    labels: list | None = None       # text beside each point (extend's method names)
    crossed: set | None = None       # x of the points drawn as ✗


def plot(job: str, series: dict) -> str | None:
    """The live plot of ``series`` (``{kind: [(x, y), ...]}``) for ``job`` as HTML (an SVG and its
    legend); None when there is nothing to draw."""
    if job not in VIEWS or not any(series.values()):
        return None
    drawn = {"interpolate": _interpolate, "extend": _extend, "evaluate": _evaluate}[job](series)
    if drawn is None:
        return None
    view, lines, marks, rule = drawn
    points = [xy for line in lines for xy in line.xy if xy[1] is not None]
    if not points:
        return None
    xs = [x for x, _ in points] + [x for pts in marks.values() for x, _ in pts]
    x0, x1 = min(xs + [0.0]), max(xs)
    if job == "extend":             # candidates 1..n, each with room for its name
        x0, x1 = 0.5, x1 + 0.5
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = max([y for _, y in points] + ([rule[0]] if rule else []))
    y0 = min([y for _, y in points] + ([0.0] if view.from_zero else []))
    # headroom: a named point's name sits above it, under the y axis' title
    y1 = y1 * (HEADROOM_NAMED if any(line.labels for line in lines) else 1.08) if y1 > 0 else 1.0
    if y1 <= y0:
        y1 = y0 + 1
    sx = lambda x: LEFT + (x - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT)  # noqa: E731
    sy = lambda y: TOP + (1 - (y - y0) / (y1 - y0)) * (HEIGHT - TOP - BOTTOM)  # noqa: E731
    parts = [_axes(x0, x1, y0, y1, sx, sy, view, whole=job == "extend")]
    if rule:        # its words go to the legend: in the plot they would lie where points can be
        y, _ = rule
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="{RULE_COLOUR}" '
                     f'stroke-dasharray="4 3"/>')
    for kind, pts in marks.items():
        colour = MARK_COLOURS[kind]
        for x, _ in pts[:: max(1, -(-len(pts) // MAX_SHOWN))]:
            if kind == "cut":
                parts.append(f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                             f'stroke="{colour}" stroke-width="1.5"/>')
            else:
                r = 3.5 if kind == "duplicate" else 2.5
                parts.append(f'<circle cx="{sx(x):.1f}" cy="{HEIGHT - BOTTOM - 5}" r="{r}" fill="{colour}"/>')
    for line in lines:
        xy = [(x, y) for x, y in line.xy if y is not None]
        if len(xy) > 1 and not line.labels:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in xy)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{line.colour}" stroke-width="1.6"/>')
        if line.dots or len(xy) == 1 or line.labels:
            for i, (x, y) in enumerate(xy):
                cx, cy = sx(x), sy(y)
                if line.crossed and x in line.crossed:
                    parts.append(f'<path d="M{cx - 5:.1f},{cy - 5:.1f}L{cx + 5:.1f},{cy + 5:.1f}M{cx - 5:.1f},'
                                 f'{cy + 5:.1f}L{cx + 5:.1f},{cy - 5:.1f}" stroke="{line.colour}" stroke-width="2"/>')
                else:
                    parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{4 if line.labels else 2.2}" '
                                 f'fill="{line.colour}"/>')
                if line.labels:
                    anchor = "end" if cx > WIDTH - 50 else "start" if cx < LEFT + 30 else "middle"
                    parts.append(f'<text x="{cx:.1f}" y="{cy - LABEL_RISE:.1f}" text-anchor="{anchor}" class="vx-live-note">'
                                 f'{html.escape(line.labels[i])}</text>')
    legend = [(line.name, line.colour) for line in lines if line.xy and not line.labels]
    legend += [(MARK_WORDS[k], MARK_COLOURS[k]) for k, pts in marks.items() if pts]
    legend += [(rule[1], None)] if rule else []
    n = len(points) + sum(len(v) for v in marks.values())
    return (f'<figure class="vx-live-plot"><figcaption>{html.escape(view.title)}</figcaption>'
            f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{html.escape(view.title)}" '
            f'data-points="{n}" preserveAspectRatio="xMidYMid meet">' + "".join(parts) + "</svg>"
            + ('<div class="vx-live-legend">' + "".join(
                f'<span><i {_swatch(c)}></i>{html.escape(name)}</span>' for name, c in legend) + "</div>"
               if legend else "") + "</figure>")


def _swatch(colour: str | None) -> str:
    """A legend's swatch: a square of the line's colour, or (None) the dashed threshold line."""
    return (f'style="background:{colour}"' if colour else
            f'class="vx-live-rule" style="border-top:2px dashed {RULE_COLOUR}"')


def _axes(x0, x1, y0, y1, sx, sy, view: View, whole: bool = False) -> str:
    out = [f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM}" stroke="#bbb"/>',
           f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#bbb"/>']
    for v in _ticks(y0, y1):
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" stroke="#eee"/>'
                   f'<text x="{LEFT - 4}" y="{sy(v) + 4:.1f}" text-anchor="end" class="vx-live-tick">{v:g}</text>')
    for v in _ticks(x0, x1):
        if whole and v != int(v):      # candidates are counted: no half marks
            continue
        out.append(f'<text x="{sx(v):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
                   f'class="vx-live-tick">{v:g}</text>')
    out.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 2}" text-anchor="end" class="vx-live-axis">'
               f'{html.escape(view.x)}</text>')
    out.append(f'<text x="2" y="{TOP - 7}" class="vx-live-axis">{html.escape(view.y)}</text>')
    return "".join(out)


def _ticks(lo: float, hi: float, most: int = 5) -> list[float]:
    """A few round values between ``lo`` and ``hi``."""
    span = hi - lo
    step = 10 ** int(f"{span / most:e}".split("e")[1])
    for m in (1, 2, 5, 10):
        if span / (step * m) <= most:
            step *= m
            break
    first = -(-lo // step) * step
    return [round(first + k * step, 10) for k in range(int((hi - first) // step) + 1)]


def _interpolate(series: dict):
    occ = series.get("occlusion") or []
    marks = {k: series.get(k) or [] for k in MARK_KINDS}
    if occ:
        xy = [(x, 100 * y) for x, y in thin(occ)]
        return VIEWS["interpolate"], [_Line("picture the motion misses", xy, COLOURS[0])], marks, None
    change = thin(series.get("change") or [])
    if not change:
        return _tried(series)
    xy = [(x, 100 * y) for x, y in change]
    return (VIEWS["change"], [_Line("change between real frames", xy, COLOURS[0])], marks,
            (100 * config.SCENE_THRESHOLD, "a cut above this line"))


def _tried(series: dict):
    """Before rendering reports: the candidates' held-out scores as ``auto`` measures them."""
    lines = _method_lines({k[len(TRIED):]: v for k, v in sorted(series.items()) if k.startswith(TRIED)})
    return (VIEWS["tried"], lines, {}, None) if lines else None


def _extend(series: dict):
    fails = {x for x, _ in series.get("fails") or []}
    pts = sorted(((x, y, kind) for kind, xy in series.items() if kind != "fails" for x, y in xy),
                 key=lambda p: p[0])
    if not pts:
        return None
    line = _Line("candidates", [(x, y) for x, y, _ in pts], COLOURS[0], labels=[k for _, _, k in pts],
                 crossed=fails)
    return VIEWS["extend"], [line], {}, (1.0, "passes at or below this line")


def _evaluate(series: dict):
    lines = _method_lines(series)
    return (VIEWS["evaluate"], lines, {}, None) if lines else None


def _method_lines(series: dict) -> list[_Line]:
    """One dotted line of PSNRs per method (``{method: [(x, y), ...]}``), named as the tables name it
    (a bucket of many shows its worst)."""
    return [_Line(method_name(kind), thin(pts, worst=min), COLOURS[i % len(COLOURS)], dots=True)
            for i, (kind, pts) in enumerate(series.items()) if pts]
