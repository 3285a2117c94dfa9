"""Starting the app: offline-safe environment, launch settings, ``vidext serve``.

Start-up makes no network call: Gradio analytics are off, nothing touches
the Hugging Face Hub (weights are only looked up locally, and
``HF_HUB_OFFLINE`` is honoured by the model layer), server-side rendering
(which would start Node) is off.  Only files the app wrote or received as
uploads are served: no ``allowed_paths`` beyond the app's own work root
when that root lies outside the system temp folder.
"""
from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

from .. import config
from ..config import Limits
from ..errors import DependencyError


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


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([path, folder]) == folder


def launch_kwargs(workroot: str, limits: Limits | None = None, host: str | None = None,
                  port: int | None = None, quiet: bool = False) -> dict:
    """Keyword arguments for ``Blocks.launch``."""
    limits = limits or Limits.from_env()
    allowed = [] if _inside(workroot, tempfile.gettempdir()) else [workroot]
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


def find_app_file() -> Path:
    """``app.py``: $VIDEXT_APP_FILE, else the current folder, else the source checkout."""
    candidates = [os.environ.get("VIDEXT_APP_FILE"), Path.cwd() / "app.py",
                  Path(__file__).resolve().parents[2] / "app.py"]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c).resolve()
    raise DependencyError("app.py not found (looked in $VIDEXT_APP_FILE, the current folder and the "
                          "source checkout); run from the vidext folder or set VIDEXT_APP_FILE")


def load_app(path: Path | None = None):
    """Import ``app.py`` as a module (it defines ``build_demo()`` and ``main()``)."""
    offline_environment()
    path = path or find_app_file()
    spec = importlib.util.spec_from_file_location("vidext_app", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve(host: str | None = None, port: int | None = None, public: bool = False) -> None:
    """Run the app until interrupted."""
    if public:
        public_limits()
    load_app().main(host=host, port=port)
