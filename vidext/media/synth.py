"""Synthetic clips with known motion and a known tone: samples and test fixtures."""
from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np

from .codecs import audio_encoder
from .mux import PcmEncoder


def texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth, trackable RGB texture (blurred noise plus a few sharp shapes)."""
    rng = np.random.default_rng(seed)
    noise = rng.random((height // 4 + 1, width // 4 + 1, 3)).astype(np.float32)
    img = cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)
    img = cv2.GaussianBlur(img, (0, 0), 2.0)
    img = (img - img.min()) / (np.ptp(img) + 1e-6)
    img = (img * 200 + 25).astype(np.uint8)
    for _ in range(12):
        c = tuple(int(v) for v in rng.integers(0, 255, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        cv2.circle(img, (x, y), int(rng.integers(4, max(5, min(height, width) // 8))), c, -1, cv2.LINE_AA)
    return img


def shifted(tex: np.ndarray, dx: float, dy: float, height: int, width: int) -> np.ndarray:
    """The window of ``tex`` moved by (dx, dy) pixels (sub-pixel, bilinear)."""
    m = np.float32([[1, 0, -dx], [0, 1, -dy]])
    return cv2.warpAffine(tex, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def make_clip(path: str, *, frames: int = 50, fps=25, width: int = 320, height: int = 180,
              motion: tuple[float, float] = (3.0, 1.0), tone_hz: float | None = 440.0,
              sample_rate: int = 48000, codec: str = "libx264", pix_fmt: str = "yuv420p",
              seed: int = 0, options: dict | None = None) -> str:
    """Write a clip whose frame k is the texture shifted by k × ``motion``.

    With ``tone_hz`` a mono sine tone of the clip's duration is muxed as AAC
    (PCM for .mov / .mkv when asked by ``codec='ffv1'``).
    """
    rate = Fraction(fps).limit_denominator(1001) if not isinstance(fps, Fraction) else fps
    tex = texture(height + 64, width + 64, seed)
    with av.open(path, "w") as c:
        v = c.add_stream(codec, rate=rate)
        v.width, v.height, v.pix_fmt = width, height, pix_fmt
        v.options = dict(options or ({"crf": "12", "preset": "veryfast"} if codec == "libx264" else {}))
        a = None
        if tone_hz is not None:
            a = c.add_stream("aac", rate=sample_rate)
            a.layout = "mono"
        for k in range(frames):
            img = shifted(tex, motion[0] * k, motion[1] * k, height, width)
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        if a is not None:
            n = int(round(frames / float(rate) * sample_rate))
            t = np.arange(n) / sample_rate
            y = (0.3 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
            for i in range(0, n, 1024):
                fr = av.AudioFrame.from_ndarray(y[None, i:i + 1024], format="fltp", layout="mono")
                fr.rate, fr.pts, fr.time_base = sample_rate, i, Fraction(1, sample_rate)
                for p in a.encode(fr):
                    c.mux(p)
            for p in a.encode():
                c.mux(p)
    return path


def write_audio(path: str, x: np.ndarray, rate: int, codec: str | None = None) -> str:
    """Write (channels, samples) float audio to ``path`` (tests, benchmarks, samples)."""
    x = np.atleast_2d(np.asarray(x, np.float32))
    codec = codec or audio_encoder(path)
    layout = {1: "mono", 2: "stereo"}.get(x.shape[0], "stereo")

    with av.open(path, "w") as c:
        enc = PcmEncoder(c, codec, rate, layout)
        for i in range(0, x.shape[1], 4096):
            enc.encode(x[:, i:i + 4096])
        enc.encode(None)
    return path
