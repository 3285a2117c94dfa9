"""Starting the web app inside the test process, on 127.0.0.1, for tests that drive it.

``running_app(root, ...)`` builds the app with its own work root, optional
build-time settings (``config`` values read by ``build_demo``, handlers
replaced by wrappers), launches it on a free loopback port and yields a
``dict`` with ``url``, ``demo``, ``workspace``, ``client`` (gradio_client)
and ``network`` (non-loopback connections attempted during start-up).
"""
from __future__ import annotations

import os
import socket
import time
from contextlib import contextmanager
from fractions import Fraction
from typing import Callable

import av
import pytest

from helpers import video_times


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoNetwork:
    """Records (and refuses) every connection attempt to a non-loopback address while active."""

    def __init__(self):
        self.attempts: list = []
        self._orig = socket.socket.connect

    def __enter__(self):
        orig, attempts = self._orig, self.attempts

        def connect(sock, address):
            host = address[0] if isinstance(address, tuple) else str(address)
            if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
                attempts.append(address)
                raise OSError(f"test: network call to {address} refused")
            return orig(sock, address)

        socket.socket.connect = connect
        return self

    def __exit__(self, *exc):
        socket.socket.connect = self._orig


@contextmanager
def running_app(root, *, env: dict[str, str] | None = None, settings: dict | None = None,
                handlers: dict[str, Callable[[Callable], Callable]] | None = None, patch=None):
    """The app on a free loopback port with its own work root under ``root``.

    ``env``: environment for the app's whole life (limits are read per request).
    ``settings``: ``vidext.config`` values in force while the Blocks are built
    (queue size, concurrency, cache schedule).  ``handlers``: name in
    ``vidext.webapp.handlers`` → a function wrapping it, in force while built.
    ``patch(monkeypatch)``: anything else to change while building.
    """
    from gradio_client import Client

    saved = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    import app
    from vidext import config
    from vidext.webapp import handlers as handler_module
    from vidext.webapp.jobs import Workspace

    workspace = Workspace(str(root / "work"))
    demo = None
    try:
        with NoNetwork() as guard, pytest.MonkeyPatch.context() as mp:
            for name, value in (settings or {}).items():
                assert hasattr(config, name), name
                mp.setattr(config, name, value)
            for name, wrap in (handlers or {}).items():
                mp.setattr(handler_module, name, wrap(getattr(handler_module, name)))
            if patch is not None:
                patch(mp)
            demo = app.build_demo(workspace)
            _, url, _ = app.launch(demo, host="127.0.0.1", port=free_port(), prevent_thread_lock=True, quiet=True)
        yield {"url": url, "demo": demo, "workspace": workspace, "client": Client(url, verbose=False),
               "network": guard.attempts, "root": root}
    finally:
        if demo is not None:
            demo.close()
        workspace.stop_sweeper()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def fps_duration(path: str) -> tuple[Fraction, float, int]:
    """(average frame rate, duration from the frame times, frame count) of a clip's video."""
    times = video_times(path)
    with av.open(path) as c:
        rate = c.streams.video[0].average_rate
    step = times[1] - times[0]
    return Fraction(rate), float(times[-1] - times[0] + step), len(times)


def wait_until(predicate: Callable[[], object], timeout_s: float, step_s: float = 0.05):
    """Poll ``predicate`` until it returns something true or ``timeout_s`` passes; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step_s)


# --- the browser tests' app and Chromium (Debian's package, driven by playwright; never `playwright install`)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@contextmanager
def app_for_browser(root):
    """The app on loopback for a browser test (skipped where Debian's chromium is missing)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} missing (apt-get install chromium)")
    with running_app(root) as srv:
        yield srv


@contextmanager
def chromium():
    """A headless Chromium, closed on exit."""
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()
