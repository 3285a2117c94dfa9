"""Starting the app: offline-safe environment and launch settings (``vidext serve`` runs
:func:`vidext.webapp.ui.serve`).

Start-up makes no network call: Gradio analytics are off, nothing touches
the Hugging Face Hub (weights are only looked up locally, and
``HF_HUB_OFFLINE`` is honoured by the model layer), server-side rendering
(which would start Node) is off.  Only files the app wrote or received as
uploads are served: ``allowed_paths`` is the app's own work root (its job
folders) and nothing else.
"""
from __future__ import annotations

import os

from .. import config
from ..config import Limits


def offline_environment() -> None:
    """Environment for an offline-safe start; call before gradio is imported."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("GRADIO_RUN_HISTORY", "False")


def on_space() -> bool:
    """Running on a Hugging Face Space (it sets SPACE_ID)."""
    return bool(os.environ.get("SPACE_ID"))


def public_limits() -> None:
    """The conservative limits of a public demo, for variables the operator left unset."""
    for name, value in config.APP_PUBLIC_LIMITS.items():
        os.environ.setdefault(name, value)


def launch_kwargs(workroot: str, limits: Limits | None = None, host: str | None = None,
                  port: int | None = None, quiet: bool = False) -> dict:
    """Keyword arguments for ``Blocks.launch``."""
    limits = limits or Limits.from_env()
    allowed = [workroot]  # the job folders: results, and the report page opened in the browser
    kw = dict(
        server_name=host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",
        server_port=int(port or os.environ.get("GRADIO_SERVER_PORT") or config.APP_DEFAULT_PORT),
        max_file_size=int(limits.max_upload_mb * 1e6),
        allowed_paths=allowed,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        run_history=False,
        show_error=False,  # only gr.Error messages reach users; internal errors are logged
        quiet=quiet,
    )
    return kw
