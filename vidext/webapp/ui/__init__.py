"""The Gradio page: one builder per tab, assembled by :func:`build_demo`.

``app.py`` (Spaces, Docker, ``python app.py``) and ``vidext serve`` both
start it through :func:`main`.  Importing this package sets the offline
environment before Gradio is imported.
"""
from __future__ import annotations

import logging

from ..server import offline_environment
from .. import zerogpu

offline_environment()  # before gradio is imported: no analytics call at start
zerogpu.prepare()      # on a ZeroGPU Space, `spaces` comes before torch

import gradio as gr  # noqa: E402

from ... import config  # noqa: E402
from ..._version import __version__  # noqa: E402
from ...config import Limits  # noqa: E402
from ...media.heap import reuse_freed_memory  # noqa: E402
from .. import capabilities as caps  # noqa: E402
from .. import jobs, present  # noqa: E402
from ..server import launch_kwargs, on_space, public_limits  # noqa: E402
from ..warmup import precalibrate_in_background  # noqa: E402
from . import audio, common, evaluate, extend, interpolate  # noqa: E402

INTRO = """# vidext
Make a clip longer and smoother without making it worse. **Interpolate** adds frames between real
ones (more fps, slow motion), **Extend** adds frames past the ends, **Audio** makes the sound follow,
**Evaluate** measures quality on your own clip."""

TABS = (interpolate, extend, audio, evaluate)


def _not_offered() -> list:
    """Everything this server cannot offer (models and methods), for the operator note."""
    features = [*caps.interpolation_models(), *caps.extend_methods(), *caps.audio_methods(),
                *caps.evaluate_methods()]
    seen, out = set(), []
    for f in features:
        if not f.available and f.name not in seen:
            seen.add(f.name)
            out.append(f)
    return out


def build_demo(workspace: jobs.Workspace | None = None, limits: Limits | None = None) -> gr.Blocks:
    workspace = workspace or jobs.Workspace()
    limits = limits or Limits.from_env()
    with gr.Blocks(title="vidext", delete_cache=jobs.gradio_cache_schedule(), analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        gr.Markdown(present.limits_line(limits), elem_id="limits")
        with gr.Tabs():
            for tab in TABS:
                tab.build(workspace, limits)
        note = present.operator_note(_not_offered())
        if note:
            with gr.Accordion("Operator note (for whoever runs this server)", open=False, elem_id="operator-note"):
                gr.Markdown(note)
        gr.Markdown(f"vidext {__version__} · the API: the **Use via API** link below, or docs/app.md in the repository.")
    demo.queue(max_size=config.APP_QUEUE_MAX_SIZE, default_concurrency_limit=config.APP_CPU_CONCURRENCY)
    demo.vidext_workspace = workspace  # for launch(): the sweeper and the served folder
    return demo


def launch(demo: gr.Blocks, host: str | None = None, port: int | None = None, **extra):
    """Start the sweeper and the server; returns what ``Blocks.launch`` returns."""
    ws: jobs.Workspace = demo.vidext_workspace
    ws.start_sweeper()
    return demo.launch(**{**launch_kwargs(ws.root, host=host, port=port), "css": common.CSS, "js": common.JS, **extra})


def main(host: str | None = None, port: int | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    reuse_freed_memory()    # before Gradio's threads start: they all share the one reused heap
    if on_space():
        public_limits()  # a public demo's limits unless the Space's settings define VIDEXT_MAX_*
    precalibrate_in_background()    # RIFE's CPU settings measured while nobody waits (vidext/webapp/warmup.py)
    launch(build_demo(), host=host, port=port)


def serve(host: str | None = None, port: int | None = None, public: bool = False) -> None:
    """``vidext serve``: run the app until interrupted (``public``: a public demo's limits where unset)."""
    if public:
        public_limits()
    main(host=host, port=port)
