"""What every tab shares: the upload with its timeline, the Run/Cancel/status row and the job wiring.

Each tab's Run button drives a private UI event that never raises: a
problem becomes one line in the tab's status next to the Run button, and
progress is shown there only.  The public API (``/interpolate`` ...) is a
separate event on a hidden trigger with the same inputs: it raises
``gr.Error`` for gradio_client users and returns what it always returned.
"""
from __future__ import annotations

import contextvars
import inspect
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from ... import config
from ...errors import VidextError
from .. import capabilities as caps
from ...media.codecs import CODECS
from .. import handlers, jobs, live, present, timeline
from . import scrub

# Queue groups: GPU events share one concurrency id so that one job holds the GPU at a time; CPU events
# run config.APP_CPU_CONCURRENCY at once (each job already uses several threads).
APP_LIGHT_CONCURRENCY = 4       # timeline, preview and probe events (sub-second work)
APP_GPU_CONCURRENCY_ID = "gpu"
APP_CPU_CONCURRENCY_ID = "cpu"


log = logging.getLogger("vidext.app")

#: Layout fixes: the action row stays one row on a phone, wide tables scroll inside their box,
#: time labels and pictures keep their size and aspect ratio.
CSS = """
.vx-actions { flex-wrap: nowrap !important; align-items: center; }
.vx-actions > * { min-width: 0 !important; }
.vx-status { min-height: 2.2em; }
/* a job's progress (Gradio's tracker, drawn over the status) takes the height its words need, its bar and
   timer in the flow: laid over a one-line box it was cut at half a line, and a phone's line wraps to four */
.vx-status > .wrap:not(.hide) { position: relative !important; min-height: 2.2em; }
.vx-status > .wrap .progress-text.meta-text-center { position: static; transform: none; align-self: flex-end;
  padding-top: 0; padding-bottom: 0; }
.vx-status > .wrap .progress-level-inner { margin: 2px 0; width: 100%; overflow-wrap: anywhere; }
.vx-status > .wrap .progress-bar-wrap { width: 100%; margin-bottom: 4px; }
.vx-status > .wrap:not(.hide) ~ [data-testid="markdown-wrapper"].pending { display: none; }
.vx-live-plot { margin: 0; }
.vx-live-plot figcaption { font-weight: 600; font-size: 0.95em; margin-bottom: 2px; }
.vx-live-plot svg { width: 100%; max-width: 560px; height: auto; display: block; font-family: inherit; }
.vx-live-tick, .vx-live-note { font-size: 12px; fill: #555; }
.vx-live-note { paint-order: stroke; stroke: var(--background-fill-primary, #fff); stroke-width: 3px;
  stroke-linejoin: round; }
.vx-live-axis { font-size: 12px; fill: #333; }
.vx-live-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 0.85em; }
.vx-live-legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
.vx-live-legend i.vx-live-rule { width: 16px; height: 0; border-radius: 0; vertical-align: middle; }
.vx-table { max-width: 100%; }
.vx-table table { font-variant-numeric: tabular-nums; display: block; max-width: 100%; overflow-x: auto;
  background: linear-gradient(to right, var(--background-fill-primary) 30%, transparent) left / 32px 100% no-repeat local,
    linear-gradient(to left, var(--background-fill-primary) 30%, transparent) right / 32px 100% no-repeat local,
    radial-gradient(farthest-side at 0 50%, rgba(0,0,0,.28), transparent) left / 12px 100% no-repeat scroll,
    radial-gradient(farthest-side at 100% 50%, rgba(0,0,0,.28), transparent) right / 12px 100% no-repeat scroll; }
.vx-table td { white-space: nowrap; }
.vx-table th, .vx-table td { word-break: normal !important; overflow-wrap: normal !important; hyphens: none; }
.vx-table td small { opacity: 0.75; }
@media (max-width: 640px) { .vx-table th, .vx-table td:first-child { white-space: normal; }
  .vx-table th, .vx-table td { padding: 3px 4px !important; font-size: 0.85em; } }
.file-preview .filename { flex-wrap: wrap; }
.file-preview .filename .stem { white-space: normal !important; overflow-wrap: anywhere; text-overflow: clip !important; }
.vx-pictures figure { margin: 0 0 12px 0; }
.vx-pictures img { max-width: 100%; height: auto; display: block; }
.vx-pictures figcaption { font-size: 0.9em; opacity: 0.8; }
body, .gradio-container { overflow-x: hidden; }
.gradio-container { max-width: 100vw !important; }
@media (max-width: 640px) { .gradio-container { padding-left: 8px !important; padding-right: 8px !important; } }
"""

#: On page load: Gradio writes its own percentage after a job's progress line ("… then: rendering - 53.6%",
#: read as the last stage's share); the line already begins with the job's share, named
#: (:meth:`vidext.media.runner.Progress.line`), so that trailing figure and its dash are emptied in the
#: tabs' status boxes.  (Gradio has no setting for it; the bar under the line still shows the share.)
JS = r"""() => {
  const strip = () => document.querySelectorAll('.vx-status .progress-level-inner').forEach(el => {
    for (const n of el.childNodes)
      if (n.nodeType === 3 && /^\s*(-|[\d.]+%)\s*$/.test(n.nodeValue)) n.nodeValue = '';
  });
  new MutationObserver(strip).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def scroll_js(elem_id: str) -> str:
    """Bring the tab's result into view when it lies off screen (a phone's stacked layout)."""
    return (f"() => {{ const el = document.getElementById('{elem_id}'); if (!el) return; "
            "const r = el.getBoundingClientRect(); "
            "if (r.top > window.innerHeight * 0.6 || r.bottom < 0) el.scrollIntoView({behavior: 'smooth'}); }")


def message(exc: BaseException) -> str:
    """A failure as one plain line: the VidextError's message, else a pointer to the server log."""
    if isinstance(exc, VidextError):
        return str(exc)
    log.error("vidext app: internal error", exc_info=exc)
    return f"something went wrong on the server ({type(exc).__name__}); the server log has the details"


def api_error(exc: BaseException) -> gr.Error:
    """For gradio_client users: the same line, raised."""
    return gr.Error(message(exc), print_exception=False)


#: the running UI event's live view (set by :func:`wire_job`'s wrapper; unset for the public API)
_LIVE: contextvars.ContextVar = contextvars.ContextVar("vidext_live", default=None)
#: the live views of the UI jobs running now, by the key their Run click made (the tab's timer reads them)
_VIEWS: dict[str, "LiveView"] = {}
#: the stages of the UI jobs that finished, by that key, until the tab's unlock step says the wait
_FINISHED: dict[str, tuple] = {}
_FINISHED_MAX = 256      # a page closed before its unlock step leaves its entry: the oldest go past this
LIVE_REFRESH_S = 0.5     # the live quality view is redrawn at most this often while a job runs (a tick
                         # without new points answers nothing; a redraw swaps a few kB of SVG)


class LiveView:
    """What a running UI event shows beside its progress: the job's relay once it starts, and when
    the person's wait began (their click)."""

    def __init__(self, kind: str, started: float | None):
        self.kind, self.started = kind, started
        self.relay: jobs.ProgressRelay | None = None
        self.shown = 0

    @property
    def version(self) -> int:
        return self.relay.version if self.relay is not None else 0

    def plot(self):
        """The live plot as the tab shows it: hidden until there is something to draw."""
        self.shown = self.version
        drawn = live.plot(self.kind, live.gather(self.relay.points)) if self.relay is not None else None
        return gr.HTML(value=drawn, visible=drawn is not None)


def poll_live(clicked):
    """A tick of the tab's timer while its job runs: the plot again when new points came, else nothing."""
    view = _VIEWS.get((clicked or {}).get("key"))
    if view is None or view.version == view.shown:
        return gr.skip()
    return view.plot()


async def run_job(workspace: jobs.Workspace, fn, progress, kind: str, media: str, **settings):
    """One job: the files a request names must be uploads or the app's own; the files it returns, the job's.

    In a tab's UI event the relay is the live view's (its points, the job's stages, the click)."""
    view = _LIVE.get()
    media = workspace.admit(media) if media else media
    if settings.get("audio_file"):
        settings["audio_file"] = workspace.admit(settings["audio_file"])
    job = workspace.new_job()
    relay = jobs.ProgressRelay(progress, kind, started=view.started if view is not None else None)
    if view is not None:
        view.relay = relay
    return job.confine(await jobs.run_cancellable(job, fn, media, job.folder, progress=relay, **settings))


def queue(features) -> dict:
    """The concurrency group of a job event: the GPU queue when it may use the GPU."""
    if caps.uses_gpu(features):
        return dict(concurrency_id=APP_GPU_CONCURRENCY_ID, concurrency_limit=1)
    return dict(concurrency_id=APP_CPU_CONCURRENCY_ID, concurrency_limit=config.APP_CPU_CONCURRENCY)


LIGHT = dict(concurrency_id="light", concurrency_limit=APP_LIGHT_CONCURRENCY, show_progress="hidden",
             api_visibility="private")


def on_change(components: list, fn: Callable, inputs: list, outputs: list) -> None:
    """One event for a change of any of ``components``: runs one at a time, the latest settings last
    (separate events could finish out of order and show a stale plan)."""
    gr.on([c.change for c in components], fn, inputs, outputs, trigger_mode="always_last", **LIGHT)


def on_file(file: gr.File, fn: Callable, inputs, outputs) -> None:
    """``fn`` when a person chooses a file or clears it (not when an event sets the value)."""
    gr.on([file.upload, file.clear], fn, inputs, outputs, trigger_mode="always_last", **LIGHT)


def unavailable_lines(features) -> str:
    """What is not offered here, in a user's words (the operator's detail is in the operator note)."""
    return "\n".join(f"- *{f.name}*: {present.user_reason(f.name, f.reason)}" for f in features if not f.available)


# --- The clip ------------------------------------------------------------------

@dataclass
class Clip:
    file: gr.File
    info: gr.Markdown
    timeline: gr.HTML       # the filmstrip, with handles to drag on Interpolate and Extend (:mod:`.scrub`)
    strip: gr.State


def clip_input(tab: str, *, label: str = "Clip") -> Clip:
    """The upload, its one-line description (or the one problem with it) and the filmstrip timeline.

    No ``file_types`` filter: Gradio judges by the name's MIME type (an MPEG-TS ``.ts`` reads as
    TypeScript, ``.mka``/``.opus`` as nothing) and answers with its own message; vidext's probe
    accepts what FFmpeg opens and says in plain words why it refuses the rest."""
    file = gr.File(label=label, file_count="single", elem_id=f"{tab}-input",
                   height=110)
    info = gr.Markdown(elem_id=f"{tab}-clip-info")
    return Clip(file, info, scrub.timeline(f"{tab}-timeline"), gr.State())


def inspect_clip(path: str | None, roots: list[str], *, need_video: bool = True):
    """(filmstrip or None, the line under the upload, probe or None) for an upload; never raises."""
    if not path:
        return None, "", None
    try:
        info = jobs.check_input(path, need_video=need_video, roots=roots)
        strip = timeline.filmstrip(info) if info.video is not None else None
    except VidextError as exc:
        return None, present.problem(f"This file cannot be used: {exc}"), None
    return strip, present.clip_line(info), info



def clip_outputs(path: str | None, roots: list[str]):
    """What an upload shows: (filmstrip state, the line under it, the timeline), and the probe."""
    strip, line, info = inspect_clip(path, roots)
    return (strip, line, scrub.show(scrub.plain_value(strip))), info


def upload_plan(strip, line: str, ask: str):
    """The plan line an upload sets itself: none for a usable file (the plan event follows its filmstrip);
    ``ask`` for a first file, or, once one was refused, for another (no filmstrip before or after: the
    plan event, which follows the filmstrip, does not run)."""
    return gr.skip() if strip is not None else present.waiting_plan(line, ask)


def on_clip(clip: Clip, roots: list[str], plan: gr.Markdown, ask: str) -> None:
    """The usual upload event of a tab: filmstrip, clip line, timeline, and the plan line when the file
    cannot be used (:func:`upload_plan`)."""
    def shown(path):
        out = clip_outputs(path, roots)[0]
        return *out, upload_plan(out[0], out[1], ask)

    on_file(clip.file, shown, clip.file, [clip.strip, clip.info, clip.timeline, plan])


def result_outputs(tab: str):
    """The result column's parts of a tab that writes a video: the player, the downloads, the line
    saying which download is which, and the hidden outputs of the tab's API event."""
    watch = gr.Video(label="Result", interactive=False, elem_id=f"{tab}-result")
    files = gr.File(label="Download", interactive=False, file_count="multiple", visible=False,
                    elem_id=f"{tab}-download")
    which = gr.Markdown(elem_id=f"{tab}-which")
    return watch, files, which, gr.File(visible=False), gr.Video(visible=False), gr.JSON(visible=False)

# --- Run, Cancel, status -------------------------------------------------------

@dataclass
class Actions:
    run: gr.Button
    cancel: gr.Button
    status: gr.Markdown
    busy: gr.State     # a job of this tab is running (plan events then leave Run alone)
    ready: gr.State    # the settings make a valid plan
    api: gr.Button     # the hidden trigger of the tab's public API event
    live: gr.HTML | None = None      # the live quality view, under the status (hidden until it has points)
    clicked: gr.State | None = None  # {"at": when Run was clicked, "key": the job's live view}
    timer: gr.Timer | None = None    # ticks while the job runs: the live view is redrawn


def codec_controls():
    """The output's codec (``auto`` keeps an alpha channel, else H.264) and its CRF, in one row."""
    with gr.Row():
        codec = gr.Dropdown([handlers.APP_CODEC_AUTO, *CODECS], value=handlers.APP_CODEC_AUTO,
                            label="Codec", info=handlers.APP_CODEC_AUTO_WORDS)
        crf = gr.Slider(0, 51, value=0, step=1, label="Quality (CRF: h264, h265, vp9, av1)",
                        info="lower is better; 0: the codec's default")
    return codec, crf


def actions(tab: str, label: str) -> Actions:
    with gr.Row(elem_classes=["vx-actions"]):
        run = gr.Button(label, variant="primary", elem_id=f"{tab}-run", interactive=False, scale=3, min_width=80)
        cancel = gr.Button("Cancel", variant="secondary", size="md", elem_id=f"{tab}-cancel", visible=False,
                           scale=1, min_width=80)
    status = gr.Markdown(elem_id=f"{tab}-status", elem_classes=["vx-status"])
    plot = gr.HTML(visible=False, elem_id=f"{tab}-live", elem_classes=["vx-live"])
    api = gr.Button(visible=False, elem_id=f"{tab}-api")
    timer = gr.Timer(LIVE_REFRESH_S, active=False)
    return Actions(run, cancel, status, gr.State(False), gr.State(False), api, plot, gr.State(None), timer)


def run_state(ok: bool, busy: bool):
    """Run's state after a plan: clickable when the plan is valid and no job runs."""
    return gr.Button() if busy else gr.Button(interactive=bool(ok))


def wire_job(tab: str, acts: Actions, *, inputs: list, outputs: list, ui_fn: Callable, api_fn: Callable,
             api_outputs: list, queue_kw: dict, result_id: str, downloads=None) -> None:
    """Run → lock the tab's buttons, clear old results, run ``ui_fn``, unlock; Cancel → "Cancelled";
    another clip (``inputs[0]``) chosen or cleared → the old result and status cleared.

    ``ui_fn(*inputs)`` returns (status line, *outputs) and never raises.
    ``api_fn`` is the public endpoint ``/<tab>`` on the hidden trigger ``acts.api``, same inputs.
    ``downloads`` (one of ``outputs``) is hidden while it holds nothing.
    """
    acts.api.click(api_fn, inputs, api_outputs, api_name=tab, **queue_kw)
    cleared = [gr.update(value=None, visible=False) if c is downloads else None for c in outputs]
    hidden = gr.update(value=None, visible=False)     # the live plot, emptied (an update, not a new component)

    def lock():
        clicked = {"at": time.time(), "key": uuid.uuid4().hex}
        return (gr.Button(interactive=False), gr.Button(visible=True), "", True, *cleared, hidden, clicked,
                gr.Timer(active=True))

    def unlock(ready, status, clicked):
        # the result is on the page: the time the person waited, from their click, and where it went
        clicked = clicked or {}
        stages = _FINISHED.pop(clicked.get("key"), None)
        said = gr.skip() if stages is None or not isinstance(status, str) else \
            status + "\n\n" + present.took_words(time.time() - clicked["at"], stages)
        return gr.Button(interactive=bool(ready)), gr.Button(visible=False), False, gr.Timer(active=False), said

    def cancelled(ready):
        return (gr.Button(interactive=bool(ready)), gr.Button(visible=False),
                "Cancelled: the job was stopped and nothing was kept.", False, *cleared, hidden,
                gr.Timer(active=False))

    started = acts.run.click(lock, None, [acts.run, acts.cancel, acts.status, acts.busy, *outputs, acts.live,
                                          acts.clicked, acts.timer],
                             queue=False, show_progress="hidden", api_visibility="private")
    acts.timer.tick(poll_live, acts.clicked, acts.live, queue=False, show_progress="hidden",
                    api_visibility="private")
    job = started.then(with_live_view(ui_fn, tab, len(outputs)), [*inputs, acts.clicked],
                       [acts.status, *outputs, acts.live], show_progress="full",
                       show_progress_on=[acts.status], api_name=f"{tab}_ui", api_visibility="private",
                       **queue_kw)
    job.then(unlock, [acts.ready, acts.status, acts.clicked], [acts.run, acts.cancel, acts.busy, acts.timer, acts.status],
             queue=False, show_progress="hidden",
             api_visibility="private").then(None, None, None, js=scroll_js(result_id), api_visibility="private")
    acts.cancel.click(cancelled, acts.ready, [acts.run, acts.cancel, acts.status, acts.busy, *outputs, acts.live,
                                              acts.timer],
                      cancels=[job], queue=False, show_progress="hidden", api_visibility="private")

    def another_clip(busy):
        # The last result and its status line belong to the clip before: shown beside a new clip's
        # plan they read as its result ("Done: 11.00 s" under a 1.2 s clip).  A running job's own
        # result still arrives.
        if busy:
            return (gr.skip(),) * (2 + len(outputs))
        return "", *cleared, hidden

    on_file(inputs[0], another_clip, acts.busy, [acts.status, *outputs, acts.live])   # every tab's clip comes first


def with_live_view(ui_fn: Callable, kind: str, n_outputs: int) -> Callable:
    """``ui_fn`` with the live quality view: the same inputs and one more (``clicked``: when Run was
    clicked and the key of the job's view, which the tab's timer redraws from while it runs), the same
    outputs and one more (the plot, complete).  A job that finished leaves its stages for the unlock
    step, which ends the status line with the time the person waited (from the click until the result
    is on the page) and where it went."""

    async def run(*args):
        if has_progress:        # Gradio passes the inputs, then ``clicked``, then the gr.Progress
            *args, clicked, progress = args
            args = [*args, progress]
        else:
            *args, clicked = args
        clicked = clicked or {}
        view = LiveView(kind, clicked.get("at"))
        key = clicked.get("key")
        token = _LIVE.set(view)
        if key:
            _VIEWS[key] = view
        try:
            out = await ui_fn(*args)
        finally:
            _LIVE.reset(token)
            _VIEWS.pop(key, None)
        last = view.relay.last if view.relay is not None else None
        if key and last is not None and last.stage == "done":     # the unlock step says how long it took
            _FINISHED[key] = last.stages
            while len(_FINISHED) > _FINISHED_MAX:
                _FINISHED.pop(next(iter(_FINISHED)))
        return (*out, view.plot())

    params = list(inspect.signature(ui_fn).parameters.values())
    has_progress = bool(params) and isinstance(params[-1].default, gr.Progress)
    clicked = inspect.Parameter("clicked", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
    params = params[:-1] + [clicked, params[-1]] if has_progress else params + [clicked]
    run.__signature__ = inspect.Signature(params)
    return run


def download(paths) -> gr.File:
    """The Download box: shown with the result's files, hidden when there are none."""
    paths = [p for p in dict.fromkeys(paths or []) if p]
    return gr.File(value=paths or None, visible=bool(paths))


def failed(exc: BaseException, n_outputs: int) -> tuple[Any, ...]:
    """A UI job's answer to a failure: the one line in the status, the results cleared."""
    return (present.problem(message(exc)), *([None] * n_outputs))
