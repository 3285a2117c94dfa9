"""Extension without a visible seam: stays in the shot, never ghosts, chooses by measuring, sound in sync."""
from __future__ import annotations

import math
from fractions import Fraction

import av
import numpy as np
import pytest

import vidext
from vidext.extension.base import ClipView
from vidext.extension.scoring import ShotStats, mad, score
from vidext.extension.seamless import bridge_interpolator
from vidext.media.frame import Colour, Frame, working_layout
from vidext.media.synth import shifted, texture

from helpers import luma_frames, write_rgb_clip

RATE = 25
W, H = 96, 64


def circling(tex, frames: int, period: float, radius: float = 6.0, phase: float = 0.0):
    """A camera circling over ``tex``: periodic motion, so a shot has good loop points."""
    return [shifted(tex, 32 + radius * math.cos(2 * math.pi * k / period + phase),
                    32 + radius * math.sin(2 * math.pi * k / period + phase), H, W) for k in range(frames)]


def panning(tex, frames: int, dx: float):
    """A camera moving steadily one way: no frame comes back, no good loop point."""
    return [shifted(tex, 4 + dx * k, 16, H, W) for k in range(frames)]


def shot_of(frame: np.ndarray, originals: list[np.ndarray], bounds: list[int]) -> tuple[int, float, float]:
    """(shot of the nearest original frame, distance to it, distance to the nearest frame of another shot)."""
    d = np.array([mad(frame, o) for o in originals])
    k = int(np.argmin(d))
    shot = int(np.searchsorted(bounds, k, side="right")) - 1
    other = min(d[i] for i in range(len(originals))
                if int(np.searchsorted(bounds, i, side="right")) - 1 != shot)
    return shot, float(d[k]), float(other)


@pytest.fixture(scope="module")
def three_shots(tmp_path_factory):
    """Three hard-cut shots of different scenes (dark, mid, bright), each a circling camera (40, 45, 50 frames)."""
    path = str(tmp_path_factory.mktemp("shots") / "three.mkv")
    scene = lambda seed, level: texture(H + 64, W + 64, seed) // 2 + level  # noqa: E731
    images = (circling(scene(11, 0), 40, 17.3) + circling(scene(22, 64), 45, 13.7)
              + circling(scene(33, 128), 50, 15.1))
    return write_rgb_clip(path, images), [0, 40, 85], 135


@pytest.mark.parametrize("method", ["auto", "seamless"])
def test_extension_frames_come_only_from_the_edges_shot(tmp_path, three_shots, method):
    src, bounds, n = three_shots
    out = str(tmp_path / "o.mkv")
    r = vidext.extend(src, out, seconds=2.4, direction="both", method=method, codec="ffv1")
    assert r.details["extension"]["cuts"] == [40, 85]
    ins, outs = luma_frames(src), luma_frames(out)
    new = 60
    assert len(outs) == n + 2 * new
    for k in range(new):
        for frame, want in ((outs[k], 0), (outs[new + n + k], 2)):
            shot, near, other = shot_of(frame, ins, bounds)
            assert shot == want, (k, shot, near, other)
            assert near * 3 < other, (k, near, other)      # never a picture of another shot, nor a mix with one
    if method == "auto":
        auto = r.details["extension"]["auto"]
        assert set(auto) == {"backward", "forward"}
        for d in auto.values():
            assert d["chosen"] in d["candidates"] and d["reason"]
            assert {"junction", "stall", "inside_worst", "inside_p90", "loop_s", "cost", "passed"} <= set(
                d["candidates"][d["chosen"]])
        assert "forward: " in r.details["extension"]["summary"]


def test_a_shot_without_a_good_loop_point_falls_back_and_says_so(tmp_path):
    # first shot loops well; the last one is a steady pan that never comes back
    images = circling(texture(H + 64, W + 64, 5), 40, 16.0) + panning(texture(H + 400, W + 400, 6), 45, 4.0)
    src = write_rgb_clip(str(tmp_path / "pan_end.mkv"), images)
    out = str(tmp_path / "o.mkv")
    r = vidext.extend(src, out, seconds=1.0, method="seamless", codec="ffv1")
    loop = r.details["extension"]["loops"]["forward"]
    assert loop["passed"] is False and loop["loop_start"] >= 40           # measured, failed, still in the shot
    r = vidext.extend(src, out, seconds=1.0, method="auto", codec="ffv1")
    d = r.details["extension"]["auto"]["forward"]
    assert d["chosen"] != "seamless" and d["candidates"]["seamless"]["passed"] is False
    assert "no seamless loop in the shot passes" in d["reason"]
    # nothing passes (the continued pan would reveal what the camera never saw): the pan slows into
    # the new time instead of a failing candidate being written
    assert d["candidates"]["motion"]["passed"] is False and d["chosen"] == "ramp"
    assert r.details["extension"]["chosen"]["forward"]["method"] == "ramp"


def test_a_shot_shorter_than_the_minimum_loop_gets_motion_or_freeze(tmp_path):
    images = circling(texture(H + 64, W + 64, 5), 40, 16.0) + circling(texture(H + 64, W + 64, 8), 10, 16.0)
    src = write_rgb_clip(str(tmp_path / "short_end.mkv"), images)
    r = vidext.extend(src, str(tmp_path / "o.mkv"), seconds=0.4, method="auto", codec="ffv1")
    d = r.details["extension"]["auto"]["forward"]
    assert d["chosen"] in ("motion", "freeze") and set(d["candidates"]) == {"motion", "freeze"}
    assert "shorter than a 1 s loop" in d["reason"]


def _grey_frame(tex, dx: float) -> Frame:
    """A 4:4:4 frame of the texture shifted ``dx`` pixels right, neutral chroma."""
    import cv2
    y = cv2.cvtColor(shifted(tex, 20 + dx, 20, H, W), cv2.COLOR_RGB2GRAY)
    flat = np.full_like(y, 128)
    return Frame((y, flat, flat.copy()), Fraction(0), working_layout("yuv444p"), Colour())


def test_the_bridge_of_a_translation_is_a_translation_not_a_blend():
    tex = texture(H + 64, W + 64, 4)

    def frame(dx):
        return _grey_frame(tex, dx)

    a, b = frame(0.0), frame(12.0)
    pair = bridge_interpolator("dis").between(a, b)
    inner = (slice(8, -8), slice(16, -16))
    for t in (0.25, 0.5, 0.75):
        got = pair.at(t)[0][inner].astype(np.float64)
        truth = frame(12.0 * t).planes[0][inner].astype(np.float64)
        blend = ((1 - t) * a.planes[0] + t * b.planes[0])[inner]
        err, ghost = np.abs(got - truth).mean(), np.abs(blend - truth).mean()
        assert err < 2.0 and err * 4 < ghost, (t, err, ghost)


def test_bridges_use_rife_where_its_weights_resolve(tmp_path, monkeypatch):
    from helpers import asset
    from vidext.extension.seamless import rife_available
    weights = asset("rife", "flownet.pkl")
    monkeypatch.setenv("VIDEXT_MODEL_DIR", str(tmp_path / "none"))
    assert not rife_available() and bridge_interpolator("auto").name == "dis"
    (tmp_path / "models" / "rife-4.25").mkdir(parents=True)
    (tmp_path / "models" / "rife-4.25" / "flownet.pkl").symlink_to(weights)
    monkeypatch.setenv("VIDEXT_MODEL_DIR", str(tmp_path / "models"))
    assert rife_available()
    rife = bridge_interpolator("auto")
    assert rife.name == "rife"
    tex = texture(H + 64, W + 64, 4)

    def frame(dx):
        return _grey_frame(tex, dx)

    a, b = frame(0.0), frame(8.0)
    got = rife.between(a, b).at(0.5)[0][8:-8, 16:-16].astype(np.float64)
    truth = frame(4.0).planes[0][8:-8, 16:-16].astype(np.float64)
    blend = (0.5 * a.planes[0] + 0.5 * b.planes[0])[8:-8, 16:-16]
    assert np.abs(got - truth).mean() * 3 < np.abs(blend - truth).mean()


def test_score_sees_a_cross_fade_that_small_steps_hide():
    # a slow cross-fade between two different pictures has small steps, yet its pictures are far from real ones
    import cv2
    gray = lambda seed, dx: cv2.cvtColor(shifted(texture(96, 128, seed), dx, 0, 27, 64), cv2.COLOR_RGB2GRAY)  # noqa
    shot = np.stack([gray(1, 0.5 * k) for k in range(30)])   # a slow pan
    stats = ShotStats.of(shot)
    other = gray(2, 0)
    fade = [np.clip((1 - t) * shot[-1] + t * other, 0, 255).astype(np.uint8) for t in np.linspace(0.05, 0.95, 20)]
    s = score(stats, [shot[-2], shot[-1]] + fade, [False, False] + [True] * 20, 5.0)
    assert s.junction < 1.0                               # the step figure alone would pass it...
    assert s.inside_worst > 2.0 and not s.passed          # ...the distance from real frames does not
    real = score(stats, [shot[-2], shot[-1], shot[5], shot[6]], [False] * 4, 5.0)
    assert real.inside_worst == 0.0


# -- the sound follows the picture ------------------------------------------------
def clicks(path: str) -> tuple[list[float], int]:
    with av.open(path) as c:
        a = c.streams.audio[0]
        pcm = np.concatenate([f.to_ndarray().ravel() for f in c.decode(a)]).astype(np.float64)
        rate = a.codec_context.sample_rate
    pcm /= np.abs(pcm).max()
    peaks = np.flatnonzero(np.abs(pcm) > 0.5)
    groups = [int(peaks[0])] + [int(p) for q, p in zip(peaks, peaks[1:]) if p - q > rate // 50]
    return [g / rate for g in groups], rate


def marked(images, k):
    out = images[k].copy()
    out[2:10, 2:10] = 255          # a small flash in a corner (not a cut)
    return out


@pytest.mark.parametrize("method,direction", [("loop", "forward"), ("seamless", "forward"),
                                              ("seamless", "backward")])
def test_replayed_click_lands_on_the_replayed_flash(tmp_path, method, direction):
    images = circling(texture(H + 64, W + 64, 9), 60, 20.0)
    flash = 45 if direction == "forward" else 12
    images[flash] = marked(images, flash)
    src = write_rgb_clip(str(tmp_path / "click.mkv"), images, clicks_at=[flash / RATE])
    out = str(tmp_path / "o.mkv")
    r = vidext.extend(src, out, seconds=3.0, direction=direction, method=method, codec="ffv1")
    assert r.details["audio_extension"][direction]["method"] == "follow"
    lumas = luma_frames(out)
    shown = [k / RATE for k, f in enumerate(lumas) if f[3:9, 3:9].mean() > 200]
    heard, _ = clicks(out)
    assert len(shown) >= 2                                    # the flash was replayed
    assert len(heard) == len(shown), (shown, heard)
    for t, c in zip(shown, heard):
        assert abs(t - c) < 0.003, (shown, heard)             # within 3 ms


def test_follow_falls_back_to_the_loop_sound_when_nothing_is_replayed(tmp_path, clip):
    src = clip(frames=25)
    r = vidext.extend(src, str(tmp_path / "o.mp4"), seconds=0.48, method="freeze")
    d = r.details["audio_extension"]["forward"]
    assert d["method"] == "loop" and "does not replay" in d["why"]


def test_every_new_frame_is_said_in_the_view_contract():
    # ClipView.shot_frames counts the junction's shot
    layout = working_layout("yuv420p")
    edge = Frame((np.zeros((8, 8), np.uint8),) * 3, Fraction(0), layout)
    v = ClipView(count=50, rate=Fraction(RATE), width=8, height=8, layout=layout, colour=Colour(),
                 context=[edge], shot_start=35)
    assert v.shot_frames == 15


def test_follow_fallback_on_a_clip_longer_than_the_decoded_window(tmp_path, clip, monkeypatch):
    # the loop fallback analyses the last LOOP_ANALYSIS_S: that sound must not have been released
    from vidext import config
    monkeypatch.setattr(config, "AUDIO_LOOKBACK_S", 0.2)
    src = clip(frames=75)
    r = vidext.extend(src, str(tmp_path / "o.mp4"), seconds=0.4, method="freeze")
    assert r.details["audio_extension"]["forward"]["method"] == "loop"
