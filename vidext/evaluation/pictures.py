"""Pictures of an evaluation: PNGs with OpenCV, interactive charts with plotly.

PNGs: the worst rebuilt frame's error heat-map (max |error| over R, G, B in
8-bit levels, colour scale 0 … ``HEATMAP_MAX_LEVELS``) and a strip
original | rebuilt | difference (|error| × ``DIFF_GAIN``).  Charts:
each metric per held-out frame for every method, quality against speed, and
the temporal-consistency curves.  ``report.html`` holds them all with
plotly.js and the pictures inline (one file that works offline); no browser
is needed to write anything.
"""
from __future__ import annotations

import os

import cv2
import numpy as np

from ..media.atomic import atomic_output
from .labels import method_name, metric_name

HEATMAP_MAX_LEVELS = 64         # error heat-map colour scale: 0 … this many 8-bit levels (clipped)
DIFF_GAIN = 4                   # the strip's difference panel shows |error| × this
PICTURE_MAX_WIDTH = 640         # PNG panels are scaled down to at most this wide

_BAND = 28          # caption band height (px)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _fit(img: np.ndarray, width: int = PICTURE_MAX_WIDTH) -> np.ndarray:
    h, w = img.shape[:2]
    if w <= width:
        return img
    return cv2.resize(img, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)


def _caption(img: np.ndarray, text: str) -> np.ndarray:
    band = np.full((_BAND, img.shape[1], 3), 24, np.uint8)
    cv2.putText(band, text.encode("ascii", "replace").decode(), (6, _BAND - 9), _FONT, 0.5, (235, 235, 235), 1,
                cv2.LINE_AA)
    return np.vstack([band, img])


def _inferno(levels: np.ndarray) -> np.ndarray:
    """8-bit levels (0 … HEATMAP_MAX_LEVELS, clipped) → RGB colours."""
    scaled = np.clip(levels.astype(np.float32) * (255.0 / HEATMAP_MAX_LEVELS), 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(scaled, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)


def error_levels(reference: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Per-pixel max |error| over R, G, B in 8-bit levels."""
    return np.max(np.abs(reference.astype(np.int16) - candidate.astype(np.int16)), axis=2).astype(np.uint8)


def heatmap(reference: np.ndarray, candidate: np.ndarray, caption: str) -> np.ndarray:
    """RGB picture of the error, a caption above and a colour bar below."""
    body = _fit(_inferno(error_levels(reference, candidate)))
    w = body.shape[1]
    ramp = _inferno(np.tile(np.linspace(0, HEATMAP_MAX_LEVELS, w, dtype=np.float32), (10, 1)))
    labels = np.full((20, w, 3), 24, np.uint8)
    cv2.putText(labels, "0", (4, 15), _FONT, 0.45, (235, 235, 235), 1, cv2.LINE_AA)
    right = f">= {HEATMAP_MAX_LEVELS} levels (max |error| over R,G,B)"
    (tw, _), _ = cv2.getTextSize(right, _FONT, 0.45, 1)
    cv2.putText(labels, right, (max(4, w - tw - 4), 15), _FONT, 0.45, (235, 235, 235), 1, cv2.LINE_AA)
    return np.vstack([_caption(body, caption), ramp, labels])


def strip(reference: np.ndarray, candidate: np.ndarray, caption: str) -> np.ndarray:
    """original | rebuilt | difference, side by side, each with its label."""
    diff = np.clip(np.abs(reference.astype(np.int16) - candidate.astype(np.int16)) * DIFF_GAIN, 0, 255)
    panels = [("original", reference), ("rebuilt: " + caption, candidate),
              (f"|difference| x {DIFF_GAIN}", diff.astype(np.uint8))]
    width = max(64, PICTURE_MAX_WIDTH)
    out = [_caption(_fit(img, width), label) for label, img in panels]
    gap = np.full((out[0].shape[0], 4, 3), 255, np.uint8)
    return np.hstack([out[0], gap, out[1], gap, out[2]])


def write_png(path: str, rgb: np.ndarray) -> str:
    with atomic_output(path) as tmp:
        if not cv2.imwrite(tmp, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
            raise OSError(f"cannot write {path}")
    return path


# --- charts --------------------------------------------------------------------

# Okabe & Ito's colour-blind-safe set: neighbours differ in hue and lightness (plotly's default drew the
# second and fourth methods in near-identical blue and purple)
_PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
_SYMBOLS = ("circle", "diamond", "square", "triangle-up", "cross", "star", "x", "hexagon")  # not by colour alone


def _heading(metric: dict) -> str:
    return f"{metric_name(metric['name'])}, {'higher' if metric['higher_is_better'] else 'lower'} is better"


def build_figures(report) -> dict:
    """Plotly figures for the report (only those with data)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figures = {}
    metrics = [m for m in report.metrics if any(r.scores.get(m["name"]) for r in report.methods)]
    if report.methods and metrics:
        # short titles (a phone's chart is ~360 px wide and plotly does not wrap them); the names are the
        # table's (vidext.evaluation.labels), the metrics' full names are in the report's notes
        fig = make_subplots(rows=len(metrics), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                            subplot_titles=[_heading(m) for m in metrics])
        for i, method in enumerate(report.methods):
            colour, name = _PALETTE[i % len(_PALETTE)], method_name(method.name)
            for row, m in enumerate(metrics, start=1):
                ys = method.scores.get(m["name"], [])
                sparse = m["name"] == "lpips"
                fig.add_trace(go.Scatter(
                    x=report.held_out_times_s, y=ys, name=name, legendgroup=method.name,
                    showlegend=row == 1, mode="markers" if sparse else "lines",
                    line={"color": colour, "width": 1.6}, marker={"color": colour, "size": 6},
                    connectgaps=False,
                    hovertemplate=f"{name}<br>%{{x:.3f}} s<br>{metric_name(m['name'])} %{{y:.4f}}<extra></extra>"),
                    row=row, col=1)
        if report.temporal is not None:      # where a scene cut or glitch makes a frame impossible to rebuild
            for j in report.temporal.jumps:
                fig.add_vline(x=j.time_s, line={"color": "#999", "dash": "dot", "width": 1})
        fig.update_xaxes(title_text="time of the rebuilt frame (s)", row=len(metrics), col=1)
        fig.update_annotations(font_size=13)
        height = 230 * len(metrics) + 150
        area = height - 80 - 110
        fig.update_layout(height=height, template="plotly_white", title="Each rebuilt frame's score",
                          margin={"l": 55, "r": 15, "t": 80, "b": 110},    # narrow margins: a phone's width
                          legend={"orientation": "h", "yanchor": "top", "y": -55 / area, "x": 0})
        figures["per_frame"] = fig

        has_lpips = any(r.mean("lpips") is not None for r in report.methods)
        primary = "psnr_y" if any(r.mean("psnr_y") is not None for r in report.methods) else metrics[0]["name"]
        label = {m["name"]: metric_name(m["name"]) for m in report.metrics}
        keys = [primary] + (["lpips"] if has_lpips and primary != "lpips" else [])
        better = {m["name"]: "higher" if m["higher_is_better"] else "lower" for m in report.metrics}
        # one metric a row over a shared speed axis: side by side, the long titles ran into each other in
        # the app's half-page column, and text beside each point overlapped wherever methods scored alike
        # (the legend, one symbol per method and the hover name them instead)
        fig = make_subplots(rows=len(keys), cols=1, shared_xaxes=True, vertical_spacing=0.14,
                            subplot_titles=[f"{label[k]}, {better[k]} is better" for k in keys])
        for i, r in enumerate(report.methods):
            fps = r.frames_per_second
            if fps is None:
                continue
            colour, name = _PALETTE[i % len(_PALETTE)], method_name(r.name)
            hover = "<br>".join(f"{label.get(k, k)}: {v:.4f}" for k, v in r.means().items() if v is not None)
            for row, key in enumerate(keys, start=1):
                fig.add_trace(go.Scatter(x=[fps], y=[r.mean(key)], mode="markers", name=name,
                                         legendgroup=r.name, showlegend=row == 1,
                                         marker={"size": 12, "color": colour,
                                                 "symbol": _SYMBOLS[i % len(_SYMBOLS)]},
                                         hovertext=[f"{name}<br>{fps:.1f} frames/s<br>{hover}"],
                                         hoverinfo="text"), row=row, col=1)
        fig.update_xaxes(type="log")
        fig.update_xaxes(title_text="rebuilt frames per second (log)", row=len(keys), col=1)
        fig.update_annotations(font_size=13)
        fig.update_layout(height=260 * len(keys) + 140, template="plotly_white", title="Quality against speed",
                          margin={"l": 55, "r": 15, "t": 80, "b": 50},
                          legend={"orientation": "h", "y": -0.18 if len(keys) > 1 else -0.3})
        figures["quality_speed"] = fig

    t = report.temporal
    if t is not None and t.score:
        x = t.times_s[1:]
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                            subplot_titles=["Change after motion (levels)", "Brightness step (flicker)"])
        fig.add_trace(go.Scatter(x=x, y=t.score, name="all pixels (jump score)",
                                 line={"width": 1.4, "color": _PALETTE[0]}), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=t.warp_error, name="where motion is visible (warp error)",
                                 line={"width": 1.4, "color": _PALETTE[1]}), 1, 1)
        if t.jumps:
            fig.add_trace(go.Scatter(x=[j.time_s for j in t.jumps], y=[j.score for j in t.jumps], mode="markers",
                                     name="jump", marker={"color": "red", "size": 11, "symbol": "x"}), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=t.luma_step, name="brightness step",
                                 line={"width": 1.4, "color": _PALETTE[2]}), 2, 1)
        fig.update_xaxes(title_text="time (s)", row=2, col=1)
        fig.update_annotations(font_size=13)
        fig.update_layout(height=560, template="plotly_white", title="The clip's own motion",
                          margin={"l": 55, "r": 15, "t": 80, "b": 50}, legend={"orientation": "h", "y": -0.15})
        figures["temporal"] = fig
    return figures


def _png_bytes(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError("cannot encode a PNG")
    return buf.tobytes()


def write_report_dir(report, folder: str) -> dict[str, str]:
    """Pictures (PNG) and one self-contained ``report.html`` into ``folder``: the verdict, the scores with
    their ±, the charts and the pictures, laid out as a page (:func:`vidext.evaluation.page.report_page`).

    The page carries plotly.js and the pictures inline, so it works offline
    and as a single downloaded file.  Returns name → path.
    """
    import base64
    import json

    import plotly.offline

    from .page import report_page
    from .stats import json_safe

    os.makedirs(folder, exist_ok=True)
    files: dict[str, str] = {}
    for name, img in report.images.items():
        files[name] = write_png(os.path.join(folder, f"{name}.png"), img)
    charts = []
    for fig in report.figures.values():
        shown = fig.__class__(fig)          # the page's heading carries the title
        title = shown.layout.title.text or ""
        shown.update_layout(title=None, margin={"t": 40})
        charts.append((title, shown.to_html(include_plotlyjs=False, full_html=False,
                                            config={"responsive": True, "displaylogo": False})))
    pictures = []
    for name, img in report.images.items():
        kind, _, method = name.partition("_")
        what = (f"original | rebuilt | difference × {DIFF_GAIN}" if kind == "strip" else
                f"where the error lies (brighter: larger, up to {HEATMAP_MAX_LEVELS} levels)")
        pictures.append((f"{method_name(method)}: {what}",
                         "data:image/png;base64," + base64.b64encode(_png_bytes(img)).decode()))
    data = json.loads(json.dumps(json_safe(report.as_dict()), default=str))
    page = report_page(data, charts, pictures, plotly.offline.get_plotlyjs())
    index = os.path.join(folder, "report.html")
    with atomic_output(index) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(page)
    files["report"] = index
    return files
