"""Shared fixtures (helpers the tests import live in helpers.py): synthetic clips made in tmp_path."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Gradio stages uploads by content hash in one temp folder: a private one per test session, so that
# sessions running side by side on one machine never clean away each other's uploads.
os.environ.setdefault("GRADIO_TEMP_DIR", __import__("tempfile").mkdtemp(prefix="vidext-gradio-"))
# vidext's cache folder (its model folder, the preview cache): the session's own, so that no test
# finds the weights set-up placed in the developer's ~/.cache/vidext/models.
os.environ.setdefault("VIDEXT_CACHE", __import__("tempfile").mkdtemp(prefix="vidext-cache-"))
# RIFE's calibration cache: the session's own, never the user's ~/.cache (a choice measured while the
# suite loads the machine must not decide the user's runs).
os.environ.setdefault("VIDEXT_CALIBRATION_FILE", os.path.join(__import__("tempfile").mkdtemp(prefix="vidext-cal-"),
                                                              "calibration.json"))

from vidext.media.synth import make_clip  # noqa: E402


@pytest.fixture
def clip(tmp_path):
    """Factory: ``clip(name, **make_clip_kwargs)`` → path of a synthetic clip."""
    def make(name: str = "in.mp4", **kw) -> str:
        return make_clip(str(tmp_path / name), **kw)
    return make


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for a browser test module (closed after it)."""
    from apphelpers import chromium

    with chromium() as b:
        yield b


@pytest.fixture
def shots(tmp_path):
    """``shot(page, name)``: a full-page screenshot of a browser test under its temp folder (and
    $VIDEXT_SCREENSHOT_DIR, to look at them after the run)."""
    import shutil

    extra = os.environ.get("VIDEXT_SCREENSHOT_DIR")

    def shot(page, name: str) -> str:
        path = str(tmp_path / f"{name}.png")
        page.screenshot(path=path, full_page=True)
        if extra:
            os.makedirs(extra, exist_ok=True)
            shutil.copy(path, os.path.join(extra, f"{name}.png"))
        return path
    return shot


@pytest.fixture(autouse=True)
def _scheduling_kept():
    """No test leaves the test process's thread with another CPU scheduling (an encoder that makes its
    thread real-time, as SVT-AV1 does when allowed): every thread started afterwards would inherit it,
    the web app a later test starts in this process among them (its event loop then starves)."""
    from vidext.media.scheduling import policy

    before = policy()
    yield
    after = policy()
    if after != before:
        os.sched_setscheduler(0, before[0], os.sched_param(before[1]))
        pytest.fail(f"the test left this thread's scheduling (policy, priority) {before} as {after}: open "
                    "encoders through vidext.media.scheduling.open_encoder (or kept_scheduling)")
