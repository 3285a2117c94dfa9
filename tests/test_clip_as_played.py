"""Clips described as they play: a phone's rotation applied, a variable-rate clip's real average rate and
frame count, a plan that says (and a run that does) what happens on it, time marks that never overlap."""
from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

import vidext
from helpers import video_times
from vidext.media.probe import probe
from vidext.webapp import present, timeline


def _phone_clip(path: str, rotation: int = -90, width: int = 160, height: int = 96, frames: int = 10) -> str:
    """A clip stored landscape with a display rotation (a phone held upright): a white block at the
    stored picture's top-left corner, so which way it turns shows."""
    with av.open(path, "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.options = {"preset": "ultrafast"}
        s.set_display_rotation(rotation)
        for _ in range(frames):
            img = np.zeros((height, width, 3), np.uint8)
            img[: height // 3, : width // 4] = 255
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _vfr_clip(path: str) -> tuple[str, list[Fraction]]:
    """68 frames at irregular times over 29.6 s, nominally 15 fps (a phone's slow-light clip)."""
    rng = np.random.default_rng(3)
    steps = rng.uniform(0.2, 0.68, 67)
    ms = np.concatenate([[0], np.cumsum(steps / steps.sum() * 29.6)]) * 1000
    times = [Fraction(int(round(t)), 1000) for t in ms]
    return _timed_clip(path, times, 15), times


def _timed_clip(path: str, times: list[Fraction], nominal: int) -> str:
    """A lossless clip (FFV1 in MKV, nominally ``nominal`` fps) with a frame at each of ``times`` (ms)."""
    from helpers import encode_all
    from vidext.media.synth import shifted, texture

    tex = texture(64 + 40, 96 + 40)

    def frame(k: int, t: Fraction) -> av.VideoFrame:
        f = av.VideoFrame.from_ndarray(shifted(tex, 0.5 * k, 0.2 * k, 64, 96), format="rgb24")
        f.pts, f.time_base = int(t * 1000), Fraction(1, 1000)
        return f

    with av.open(path, "w") as c:
        s = c.add_stream("ffv1", rate=nominal)
        s.width, s.height, s.pix_fmt = 96, 64, "yuv420p"
        s.codec_context.time_base = Fraction(1, 1000)
        encode_all(c, s, (frame(k, t) for k, t in enumerate(times)))
    return path


@pytest.mark.parametrize("rotation", [-90, 90])
def test_a_phone_clip_is_described_and_drawn_upright(tmp_path, rotation):
    info = probe(_phone_clip(str(tmp_path / "phone.mp4"), rotation))
    assert (info.video.width, info.video.height, info.video.display_size) == (160, 96, (96, 160))
    assert present.clip_line(info).startswith("96×160 · 25 fps")
    strip = timeline.filmstrip(info)
    thumb = strip.image[:strip.thumb_height, :strip.thumb_width].astype(float)
    assert strip.thumb_height > strip.thumb_width              # portrait
    # turned as a player turns it (FFmpeg's autorotate): clockwise for -90, counter-clockwise for 90
    corner = thumb[:8, -8:] if rotation == -90 else thumb[-8:, :8]
    assert corner.mean() > 200 and thumb[:8, :8].mean() < 50


def test_time_marks_never_run_into_each_other(tmp_path):
    """A tall clip's thumbnails are narrow: a mark that would touch the one before is left out."""
    info = probe(_phone_clip(str(tmp_path / "tall.mp4"), -90, width=320, height=96, frames=40))
    strip = timeline.filmstrip(info)
    band = strip.image[strip.thumb_height:].max(axis=2) > 128
    cols = band.any(axis=0)
    runs, start, gap = [], None, 0
    for x, on in enumerate(cols):           # columns with ink, letters of one mark joined
        if on:
            if start is None or gap >= 8:
                runs.append([x, x])
            runs[-1][1] = x
            start, gap = x, 0
        else:
            gap += 1
    assert len(runs) >= 2
    assert all(b[0] - a[1] > timeline._LABEL_GAP - 2 for a, b in zip(runs, runs[1:]))


def test_a_variable_rate_clip_is_described_and_retimed_by_its_real_rate(tmp_path):
    """68 frames over 29.6 s, nominally 15 fps: "2.26 fps on average", and factor 2 makes about 136
    frames (2×), not 888 (the nominal 15 fps doubled); plan, run and words agree; a typed fps is still
    the output's rate."""
    path, times = _vfr_clip(str(tmp_path / "vfr.mkv"))
    info = probe(path)
    v = info.video
    assert v.variable_frame_rate and v.fps_nominal == 15 and v.frame_count == 68
    assert float(v.rate) == pytest.approx(67 / 29.6, rel=5e-3)
    line = present.clip_line(info)
    assert f"{float(v.rate):.3g} fps on average (variable)" in line and "(68 frames)" in line and "15 fps" not in line
    plan = vidext.plan_interpolate(info, factor=2)
    assert plan.rate == 2 * v.rate and 132 <= plan.frames_out <= 138
    words = present.plan_words(plan, {"factor": 2}, float(v.rate), v.variable_frame_rate)
    assert f"{plan.frames_out} frames" in words and "2× the clip's average" in words and "varying times" in words
    out = str(tmp_path / "o.mkv")
    r = vidext.interpolate(path, out, factor=2, model="blend", codec="ffv1")
    assert r.frames_out == plan.frames_out and r.fps == pytest.approx(float(plan.rate))
    got = video_times(out)
    # evenly spaced (to the millisecond Matroska keeps)
    assert len(got) == plan.frames_out and max(abs(t - k / plan.rate) for k, t in enumerate(got)) <= Fraction(1, 1000)
    typed = vidext.plan_interpolate(info, fps=30)
    assert typed.rate == 30 and typed.frames_out == pytest.approx(30 * v.duration_s, abs=1)


def test_a_steady_clip_keeps_its_nominal_rate(clip):
    info = probe(clip(frames=10, fps=Fraction(30000, 1001), tone_hz=None))
    assert info.video.rate == Fraction(30000, 1001) and "29.97 fps ·" in present.clip_line(info)


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_a_variable_rate_clip_is_extended_at_its_real_rate_and_keeps_its_times(tmp_path, direction):
    """2 s added to the 68 frames over 29.6 s: 5 new frames at the clip's average 2.26 fps (not 30 at the
    nominal 15); every real frame keeps its own time (shifted by the new part before it), to the ms."""
    from vidext.webapp.ui import extend as tab

    path, times = _vfr_clip(str(tmp_path / "vfr.mkv"))
    info = probe(path)
    rate = info.video.rate
    plan = vidext.plan_extend(info, seconds=2, direction=direction, method="freeze")
    assert plan.rate == rate and plan.frames_out == 68 + 5
    out = str(tmp_path / f"e-{direction}.mkv")
    r = vidext.extend(path, out, seconds=2, direction=direction, method="freeze", codec="ffv1")
    got = video_times(out)
    assert len(got) == r.frames_out == plan.frames_out
    shift = Fraction(5) / rate if direction == "backward" else 0
    real = got[5:] if direction == "backward" else got[:68]
    assert max(abs(g - (t + shift)) for g, t in zip(real, times)) <= Fraction(1, 1000)
    new = got[:6] if direction == "backward" else got[67:]          # the edge's real frame and the new ones
    assert all(abs((b - a) - 1 / rate) <= Fraction(1, 1000) for a, b in zip(new, new[1:]))
    assert abs(plan.duration_s - r.duration_s) <= 1 / float(rate)
    strip = timeline.filmstrip(info)
    line = tab.plan_view(strip, 2, direction, "freeze")[1]
    assert "73 frames at 2.26 fps" in line and "0.44 s apart" in line and "keep their varying times" in line


def test_a_steady_clip_with_frames_missing_keeps_its_grid(tmp_path):
    """Frames on a 25 fps grid with every third one missing (a camera that dropped frames): variable,
    but its rate is 25 (not the 16.7 average), described so, and an extension continues the grid."""
    times = [Fraction(k, 25) for k in range(30) if k % 3 != 2]
    path = _timed_clip(str(tmp_path / "gaps.mkv"), times, 25)
    v = probe(path).video
    assert v.variable_frame_rate and v.gapped and v.rate == 25
    assert present.clip_line(probe(path)).split(" · ")[1] == "25 fps with frames missing (17 on average)"
    out = str(tmp_path / "e.mkv")
    vidext.extend(path, out, seconds=0.2, method="freeze", codec="ffv1")
    got = video_times(out)
    assert got[:20] == times and got[20:] == [times[-1] + Fraction(k, 25) for k in range(1, 6)]
