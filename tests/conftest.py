"""Shared fixtures: synthetic clips made in tmp_path, real assets when fetched."""
from __future__ import annotations

import os
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Gradio stages uploads by content hash in one temp folder: a private one per test session, so that
# sessions running side by side on one machine never clean away each other's uploads.
os.environ.setdefault("GRADIO_TEMP_DIR", __import__("tempfile").mkdtemp(prefix="vidext-gradio-"))
# RIFE's calibration cache: the session's own, never the user's ~/.cache (a choice measured while the
# suite loads the machine must not decide the user's runs).
# vidext's cache folder (its model folder, the preview cache): the session's own, so that no test
# finds the weights set-up placed in the developer's ~/.cache/vidext/models.
os.environ.setdefault("VIDEXT_CACHE", __import__("tempfile").mkdtemp(prefix="vidext-cache-"))
os.environ.setdefault("VIDEXT_CALIBRATION_FILE", os.path.join(__import__("tempfile").mkdtemp(prefix="vidext-cal-"),
                                                              "calibration.json"))

from fetch_assets import asset_dir  # noqa: E402

from vidext.media.synth import make_clip  # noqa: E402


@pytest.fixture
def clip(tmp_path):
    """Factory: ``clip(name, **make_clip_kwargs)`` → path of a synthetic clip."""
    def make(name: str = "in.mp4", **kw) -> str:
        return make_clip(str(tmp_path / name), **kw)
    return make


def asset(*parts: str) -> Path:
    """Path of a fetched asset, or skip the test naming how to fetch it."""
    p = asset_dir().joinpath(*parts)
    if not p.exists():
        pytest.skip(f"asset {'/'.join(parts)} not fetched (run: python scripts/fetch_assets.py)")
    return p


def video_times(path: str) -> list[Fraction]:
    """Presentation times (s) of every decoded video frame."""
    with av.open(path) as c:
        s = c.streams.video[0]
        return [Fraction(f.pts) * s.time_base for f in c.decode(s)]


def luma_frames(path: str) -> list[np.ndarray]:
    """All Y planes of a (short) clip — tests only, on tiny clips."""
    from vidext.media.frame import planes_from_av, working_layout
    with av.open(path) as c:
        s = c.streams.video[0]
        out = []
        for f in c.decode(s):
            out.append(planes_from_av(f, working_layout(f.format.name))[0])
        return out


def audio_packets(path: str) -> list[bytes]:
    with av.open(path) as c:
        if not c.streams.audio:
            return []
        return [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(peak * peak / mse)


def write_rgb(path: str, images, fps=25) -> str:
    """A lossless FFV1 yuv420p clip from RGB uint8 images."""
    rate = Fraction(fps)
    with av.open(path, "w") as c:
        s = c.add_stream("ffv1", rate=rate)
        s.height, s.width = images[0].shape[:2]
        s.pix_fmt = "yuv420p"
        for img in images:
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path
