"""Helpers the tests share (fixtures stay in conftest.py): paths, real assets, reading clips back,
PSNR, writing lossless clips, sound whose events line up with the picture's, and a moving matte
(a square with an alpha channel) with the checks every output of it goes through."""
from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

from fetch_assets import asset_dir  # noqa: E402

RATE = 48000  # sample rate of the sound made here


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


def encode_all(container, stream, frames) -> None:
    """Encode every frame of ``frames`` into ``stream`` of the open ``container``, then flush it."""
    for f in frames:
        for p in stream.encode(f):
            container.mux(p)
    for p in stream.encode():
        container.mux(p)


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


def tone(seconds: float, hz: float = 440.0, amp: float = 0.3, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def add_clicks(x: np.ndarray, times, amp: float = 0.6, rate: int = RATE) -> np.ndarray:
    x = x.copy()
    for t in times:
        i = int(round(t * rate))
        x[i:i + 16] += amp * np.hanning(16)
    return x


def events_clip(path: str, offset: float, fps: int = 25, seconds: float = 6.0, seed: int = 1) -> str:
    """Frames whose brightness jumps at random moments (a cut); a click each jump, ``offset`` s later."""
    rng = np.random.default_rng(seed)
    flashes = np.sort(rng.choice(np.arange(10, int(seconds * fps) - 10), 8, replace=False))
    with av.open(path, "w") as c:
        v = c.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = 64, 64, "yuv420p"
        a = c.add_stream("aac", rate=RATE)
        a.layout = "mono"
        for k in range(int(seconds * fps)):
            img = np.full((64, 64, 3), 230 if np.searchsorted(flashes, k, side="right") % 2 else 20, np.uint8)
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        x = tone(seconds, 200, 0.05)
        x = add_clicks(x, [f / fps + offset for f in flashes if f / fps + offset < seconds - 0.1], 0.8)
        for i in range(0, len(x), 1024):
            fr = av.AudioFrame.from_ndarray(x[None, i:i + 1024], format="fltp", layout="mono")
            fr.rate, fr.pts, fr.time_base = RATE, i, Fraction(1, RATE)   # with timestamps the encoder's delay is undone
            for p in a.encode(fr):
                c.mux(p)
        for p in a.encode():
            c.mux(p)
    return path


def write_rgb_clip(path: str, images, *, rate: int = 25, clicks_at: list[float] | None = None,
                   sample_rate: int = 48000) -> str:
    """Lossless RGB frames (FFV1, 4:4:4) at ``rate`` with, optionally, a mono PCM track of
    single-sample clicks at the given seconds."""
    images = list(images)
    h, w = images[0].shape[:2]
    with av.open(path, "w") as c:
        v = c.add_stream("ffv1", rate=rate)
        v.width, v.height, v.pix_fmt = w, h, "yuv444p"
        a = c.add_stream("pcm_s16le", rate=sample_rate, layout="mono") if clicks_at is not None else None
        for img in images:
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        if a is not None:
            n = round(len(images) / rate * sample_rate)
            pcm = np.zeros(n, np.int16)
            for t in clicks_at:
                pcm[round(t * sample_rate)] = 30000
            for i in range(0, n, 1024):
                f = av.AudioFrame.from_ndarray(pcm[None, i:i + 1024], format="s16", layout="mono")
                f.sample_rate, f.pts = sample_rate, i
                for p in a.encode(f):
                    c.mux(p)
            for p in a.encode():
                c.mux(p)
    return path


# --- a moving matte: alpha in every codec that carries it ----------------------------------------

MATTE_W, MATTE_H = 96, 64
MATTE_FPS = 25
ALPHA_SOURCES = {      # name: (encoder, pixel format, extension, options); lossy ones within 2 levels
    "prores4444": ("prores_ks", "yuva444p10le", ".mov", {"profile": "4"}),
    "ffv1": ("ffv1", "yuva420p", ".mkv", None),
    "png": ("png", "rgba", ".mov", None),
    "qtrle": ("qtrle", "argb", ".mov", None),
    "vp9": ("libvpx-vp9", "yuva420p", ".webm", None),     # alpha as a second layer, read by libvpx
}


def matte_clip(path: str, codec: str, pix_fmt: str, *, frames: int = 30, colour_moves: bool = True,
               options: dict | None = None) -> str:
    """An opaque square moving 2 px a frame right over a transparent background, at 25 fps.

    With ``colour_moves`` the square's colour is a grey ramp (R = G = B) that moves with it over a
    background of R - B = 120: the colour alone says how much of the square each pixel shows
    (:func:`alpha_from_colour`), so an output's alpha can be checked against its own picture."""
    with av.open(path, "w") as c:
        s = c.add_stream(codec, rate=MATTE_FPS)
        s.width, s.height, s.pix_fmt = MATTE_W, MATTE_H, pix_fmt
        if options:
            s.options = options
        encode_all(c, s, (_at(matte_frame(k, pix_fmt, colour_moves), k) for k in range(frames)))
    return path


def _at(frame: av.VideoFrame, pts: int) -> av.VideoFrame:
    frame.pts = pts
    return frame


def matte_frame(k: float, pix_fmt: str, colour_moves: bool = True, alpha_at: float | None = None) -> av.VideoFrame:
    """Frame ``k`` of :func:`matte_clip` (a half ``k``: the square halfway); ``alpha_at``: the alpha plane
    of another frame's (a picture whose alpha did not move with it)."""
    rgba = np.zeros((MATTE_H, MATTE_W, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 200, (np.arange(MATTE_W) * 2)[None, :], 80
    x, xa = round(10 + 2 * k), round(10 + 2 * (k if alpha_at is None else alpha_at))
    rgba[20:44, xa:xa + 24, 3] = 255
    if colour_moves:
        rgba[20:44, x:x + 24, :3] = (np.arange(24) * 9 + 20)[None, :, None]
    return av.VideoFrame.from_ndarray(rgba, format="rgba").reformat(format=pix_fmt)


def alphas(path: str) -> list[np.ndarray]:
    """Each frame's alpha on the 8-bit scale, as vidext reads it (VP9's alpha layer through libvpx)."""
    from vidext.media.frame import to_u8
    from vidext.media.probe import probe
    from vidext.media.reader import FrameSource

    with FrameSource(path, probe(path)) as source:
        return [to_u8(f.planes[-1], f.layout.bits) for f in source]


def centre(alpha: np.ndarray) -> float:
    """Mean column of the opaque (over half) pixels; -1 when none."""
    cols = np.nonzero(alpha > 128)[1]
    return float(cols.mean()) if cols.size else -1.0


def may_be_realtime() -> bool:
    """Whether a thread of this process may make itself real-time (root, CAP_SYS_NICE), as SVT-AV1 tries to."""
    import os
    import threading

    allowed = []

    def attempt():
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
            allowed.append(True)
        except (AttributeError, OSError):
            allowed.append(False)
    t = threading.Thread(target=attempt)     # a throwaway thread: it ends with the attempt
    t.start()
    t.join()
    return allowed[0]
