"""The Evaluate tab: real frames are dropped, rebuilt by each method and compared; tables, charts, pictures."""
from __future__ import annotations

import html
import os

import gradio as gr

from .. import capabilities as caps
from .. import handlers, jobs, present, zerogpu
from . import common

RESULT_ID = "evaluate-results"
ASK = "Upload a clip to measure the methods on it."
FIGURES = (("quality_speed", "Quality against speed"), ("per_frame", "Scores frame by frame"),
           ("temporal", "The clip's own motion over time"))


def report_link(page: str | None) -> str:
    """A link that opens the report page in a new browser tab (served from the job folder, inline)."""
    if not page:
        return ""
    return (f'<a href="{_file_url(page)}" target="_blank" rel="noopener" id="evaluate-report-link">Open the full report '
            f'(charts and pictures) in a new tab</a> · {html.escape(os.path.basename(page))}')


def _file_url(path: str) -> str:
    return "gradio_api/file=" + html.escape(path, quote=True)


def pictures_html(paths: list[str]) -> str:
    """Each method's worst frame (original | rebuilt | difference) at its own aspect ratio, with a caption."""
    out = []
    for p in paths:
        stem = os.path.splitext(os.path.basename(p))[0]
        if not stem.startswith("strip_"):
            continue  # the error heat-maps are in the report page
        name = present.method_name(stem[len("strip_"):])
        out.append(f'<figure><img src="{_file_url(p)}" alt="{html.escape(name)}" loading="lazy">'
                   f"<figcaption>{html.escape(name)}: its worst frame, original | rebuilt | difference"
                   "</figcaption></figure>")
    return "".join(out)


def fit_figure(fig):
    """A report figure for the page's column: no fixed width, and no title of its own (the plot's label,
    which wraps on a phone, says it; plotly's title does not wrap and was cut off there)."""
    if fig is None:
        return None
    fig = fig.__class__(fig)  # a copy: the report keeps its own
    # the tool bar stands on the right, clear of the plot's label (they overlapped on a phone)
    fig.update_layout(autosize=True, width=None, title=None, modebar={"orientation": "v"},
                      margin=dict(l=50, r=36, t=40, b=max(50, fig.layout.margin.b or 0)))
    return fig


def plan_view(strip, chosen, info_line=None) -> tuple[bool, str]:
    """(valid, plan line) for the chosen methods on the uploaded clip."""
    if strip is None:
        return False, present.waiting_plan(info_line, ASK)
    if not chosen:
        return False, present.problem("choose at least one method")
    names = ", ".join(present.method_name(m) for m in chosen)
    return True, f"Will compare {len(chosen)} method{'s' if len(chosen) > 1 else ''}: {names}."


def method_choices(features) -> list[tuple[str, str]]:
    return [(present.method_name(f.name), f.name) for f in features if f.available]


def build(workspace: jobs.Workspace, limits) -> None:
    methods = caps.evaluate_methods()
    run_fn = zerogpu.dispatcher("evaluate", handlers.run_evaluate, handlers.evaluate_needs_gpu)

    with gr.Tab("Evaluate", id="evaluate"):
        with gr.Row():
            with gr.Column(scale=2):
                clip = common.clip_input("evaluate")
                pick = gr.CheckboxGroup(method_choices(methods), value=list(caps.EVALUATE_CLASSICAL),
                                        label="Methods to compare", elem_id="evaluate-methods",
                                        info="real frames are dropped, rebuilt by each method, then compared "
                                             "with the originals")
                missing = common.unavailable_lines(methods)
                if missing:
                    gr.Markdown("Not offered here:\n" + missing)
                plan = gr.Markdown(plan_view(None, None)[1], elem_id="evaluate-plan")
                with gr.Accordion("Advanced", open=False):
                    factor = gr.Radio([("every other frame (2)", 2), ("three frames in four (4)", 4)], value=2,
                                      label="Frames rebuilt")
                    most = gr.Slider(0, 600, value=0, step=10, label="Use at most this many frames",
                                     info="0: the evaluation's default")
                acts = common.actions("evaluate", "Evaluate")
            with gr.Column(scale=3, elem_id=RESULT_ID):
                tables = gr.Markdown(elem_id="evaluate-table", elem_classes=["vx-table"])
                plots = [gr.Plot(label=label, visible=False, elem_id=f"evaluate-plot-{key}")
                         for key, label in FIGURES]
                pictures = gr.HTML(elem_id="evaluate-pictures", elem_classes=["vx-pictures"])
                link = gr.HTML(elem_id="evaluate-report")
                files = gr.File(label="Download", interactive=False, file_count="multiple", visible=False,
                                elem_id="evaluate-download")
                api_file = gr.File(visible=False)
                api_html = gr.File(visible=False)
                api_table = gr.Dataframe(visible=False, interactive=False)
                api_pictures = gr.Gallery(visible=False)
                api_details = gr.JSON(visible=False)

    roots = workspace.roots()

    common.on_clip(clip, roots, plan, ASK)

    def on_settings(strip, chosen, info_line, busy):
        ok, line = plan_view(strip, chosen, info_line)
        return common.run_state(ok, busy), ok, line

    common.on_change([clip.strip, pick], on_settings, [clip.strip, pick, clip.info, acts.busy],
                     [acts.run, acts.ready, plan])

    inputs = [clip.file, pick, factor, most]

    async def evaluate(video: str, methods: list[str] = list(caps.EVALUATE_CLASSICAL), factor: int = 2,
                       max_frames: int = 0, progress=gr.Progress()):
        """Honest quality numbers on your clip: real frames are dropped, rebuilt and compared.

        Args:
            video: the clip.
            methods: methods to compare: blend, fast, balanced, quality (and rife when present).
            factor: 2 rebuilds every other frame, 4 rebuilds three frames in four.
            max_frames: evaluate at most this many frames (0: the default).
        Returns:
            the JSON report file, the HTML report with charts, a table of mean scores per method, pictures,
            and the report itself.
        """
        try:
            out = await common.run_job(workspace, run_fn, progress, "evaluate", video, methods=methods,
                                       factor=factor, max_frames=max_frames, limits=limits)
        except Exception as exc:  # noqa: BLE001 - the API answers every failure with one line
            raise common.api_error(exc) from None
        rows = handlers.method_rows(out.details)
        table = gr.Dataframe(value=rows[1:], headers=rows[0]) if rows else None
        return out.output, out.page, table, out.files, out.details

    async def evaluate_ui(video, methods, factor, max_frames, progress=gr.Progress()):
        try:
            out = await common.run_job(workspace, run_fn, progress, "evaluate", video, methods=methods,
                                       factor=factor, max_frames=max_frames, limits=limits)
        except Exception as exc:  # noqa: BLE001 - shown as one line in the tab's status
            return (present.problem(common.message(exc)), "", *[gr.Plot(visible=False)] * len(plots), "", "",
                    None)
        shown = [gr.Plot(value=fit_figure(out.figures.get(key)), visible=key in out.figures) for key, _ in FIGURES]
        return ("**Done.** The verdict and the scores are below.", out.summary, *shown, pictures_html(out.files),
                report_link(out.page), common.download([out.output, out.page]))

    common.wire_job("evaluate", acts, inputs=inputs, outputs=[tables, *plots, pictures, link, files],
                    ui_fn=evaluate_ui, api_fn=evaluate,
                    api_outputs=[api_file, api_html, api_table, api_pictures, api_details],
                    queue_kw=common.queue(methods), result_id=RESULT_ID, downloads=files)
