"""Interpolation engine: accuracy, cuts, duplicates, retimes, segments, memory, preview."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import av
import numpy as np
import pytest

import vidext
from vidext import config
from vidext.errors import ParameterError
from vidext.interpolation.retime import plan_retime
from vidext.interpolation.scenes import SceneGate, cut_score, signature
from vidext.media.frame import Frame, working_layout
from vidext.media.synth import shifted, texture
from vidext._cli import main as cli_main

from helpers import ROOT, luma_frames, psnr, video_times, write_rgb

FFV1 = {"codec": "ffv1", "options": {}}


def moving(n: int, step=(4.0, 2.0), seed=0, w=320, h=180, start=0.0):
    tex = texture(h + 400, w + 400, seed)
    return [shifted(tex, step[0] * (start + k), step[1] * (start + k), h, w) for k in range(n)]


def yuv_luma(img: np.ndarray) -> np.ndarray:
    f = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
    return f.to_ndarray()[: img.shape[0]]


@pytest.mark.parametrize("step", [(4.0, 2.0), (24.0, 10.0)], ids=["small", "large"])
def test_midpoint_of_translation_is_near_the_true_image(tmp_path, step):
    src = write_rgb(str(tmp_path / "in.mkv"), moving(8, step))
    truth = [yuv_luma(img) for img in moving(7, step, start=0.5)]
    out = str(tmp_path / "o.mkv")
    blend = str(tmp_path / "b.mkv")
    vidext.interpolate(src, out, factor=2, codec="ffv1")
    vidext.interpolate(src, blend, factor=2, codec="ffv1", model="blend")
    got, mixed = luma_frames(out), luma_frames(blend)
    m = slice(16, -16)   # borders uncover new content
    ours = [psnr(got[2 * k + 1][m, m], truth[k][m, m]) for k in range(7)]
    base = [psnr(mixed[2 * k + 1][m, m], truth[k][m, m]) for k in range(7)]
    assert min(ours) > 32, ours
    assert np.mean(ours) > np.mean(base) + 8


def test_hard_cut_is_never_morphed(tmp_path):
    a, b = moving(6, seed=1), moving(6, seed=7)
    src = write_rgb(str(tmp_path / "cut.mkv"), a + b)
    out = str(tmp_path / "o.mkv")
    r = vidext.interpolate(src, out, factor=3, codec="ffv1")
    frames_in, frames_out = luma_frames(src), luma_frames(out)
    assert r.details["stats"]["cuts"] == 1
    # the two in-between slots across the cut hold the last frame of the first shot
    assert np.array_equal(frames_out[15], frames_in[5])
    assert np.array_equal(frames_out[16], frames_in[5]) and np.array_equal(frames_out[17], frames_in[5])
    assert np.array_equal(frames_out[18], frames_in[6])
    # within each shot in-between frames are made
    assert not np.array_equal(frames_out[1], frames_in[0]) and not np.array_equal(frames_out[19], frames_in[6])
    # and the detector can be switched off
    r = vidext.interpolate(src, str(tmp_path / "o2.mkv"), factor=3, codec="ffv1", scene_threshold=0)
    assert r.details["stats"]["cuts"] == 0


def test_cut_score_separates_shots_from_motion():
    layout = working_layout("gray")
    frame = lambda img, t: Frame((yuv_luma(img),), Fraction(t), layout)  # noqa: E731
    a = moving(3, step=(12.0, 6.0), seed=2)
    other = moving(1, seed=9)[0]
    same = cut_score(signature(frame(a[0], 0)), signature(frame(a[2], 1)))
    cut = cut_score(signature(frame(a[0], 0)), signature(frame(other, 1)))
    assert same < 0.2 < config.SCENE_THRESHOLD < cut


@pytest.mark.parametrize("codec", ["ffv1", "libx264"])
def test_duplicated_frames_leave_no_stutter(tmp_path, codec):
    distinct = moving(9, step=(6.0, 2.0))
    on_twos = [img for img in distinct for _ in range(2)]   # animation on twos
    src = str(tmp_path / ("twos.mkv" if codec == "ffv1" else "twos.mp4"))
    if codec == "ffv1":
        write_rgb(src, on_twos)
    else:
        with av.open(src, "w") as c:
            s = c.add_stream("libx264", rate=25)
            s.height, s.width = on_twos[0].shape[:2]
            s.pix_fmt, s.options = "yuv420p", {"crf": "16", "preset": "veryfast"}
            for img in on_twos:
                for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    c.mux(p)
            for p in s.encode():
                c.mux(p)
    out = str(tmp_path / "o.mkv")
    r = vidext.interpolate(src, out, factor=1, codec="ffv1")
    assert r.details["stats"]["duplicates"] == 9
    ys = [y.astype(np.float32) for y in luma_frames(out)]
    assert len(ys) == 18
    diffs = [float(np.abs(a - b).mean()) for a, b in zip(ys[:-2], ys[1:-1])]   # the last slot holds the end
    assert min(diffs) > 1.0, diffs
    kept = str(tmp_path / "kept.mkv")
    vidext.interpolate(src, kept, factor=1, codec="ffv1", dedupe=False)
    ys = luma_frames(kept)
    assert float(np.abs(ys[0].astype(np.float32) - ys[1]).mean()) < 1.0   # stutter when asked to keep it


def test_fractional_slowmo_and_fps_timestamps(tmp_path, clip):
    src = clip(frames=20, fps=25, tone_hz=None)
    out = str(tmp_path / "s.mp4")
    r = vidext.interpolate(src, out, slowmo=2.5)
    assert r.fps == 25 and r.frames_out == 50
    assert video_times(out) == [Fraction(k, 25) for k in range(50)]
    out = str(tmp_path / "f.mp4")
    r = vidext.interpolate(src, out, slowmo="1.5", fps="59.94")
    rate = Fraction(60000, 1001)
    n = int(np.ceil(Fraction(20, 25) * Fraction(3, 2) * rate))
    assert r.frames_out == n
    times = video_times(out)
    assert len(times) == n and all(abs(t - k / rate) < Fraction(1, 10**4) for k, t in enumerate(times))


def test_retime_plan_arithmetic():
    p = plan_retime(Fraction(25), Fraction(0), Fraction(2), slowmo="2.5")
    assert p.rate == 25 and p.timemap.out_end == 5 and p.stretch == Fraction(5, 2)
    p = plan_retime(Fraction(30000, 1001), Fraction(0), Fraction(10), factor=2)
    assert p.rate == Fraction(60000, 1001) and p.timemap is None
    p = plan_retime(Fraction(25), Fraction(0), Fraction(4), slowmo=3, start=1.01, end=2.02)
    s, e = p.smooth_range
    assert (s, e) == (Fraction(1), Fraction(2))
    assert p.timemap.to_output(4) == 6
    p = plan_retime(Fraction(25), Fraction(0), Fraction(4), slowmo="1.3", start=1, end=2)
    assert ((p.timemap.to_output(2) - 1) * 25).denominator == 1   # whole output frames inside
    for bad in ({"slowmo": 0}, {"slowmo": "x"}, {"slowmo": 2, "start": 3, "end": 2}):
        with pytest.raises(ParameterError):
            plan_retime(Fraction(25), Fraction(0), Fraction(4), **bad)


def test_segment_start_past_the_clip_says_so():
    """``--start 5`` on a 3.07 s clip: the message is about the start and the clip's length, not an end the
    user never typed (it said "the segment end (3.06973 s) must come after its start (5 s)")."""
    with pytest.raises(ParameterError) as e:
        plan_retime(Fraction(30000, 1001), Fraction(0), Fraction(3.07), slowmo=2, start=5)
    assert "start (5 s)" in str(e.value) and "3.07 s" in str(e.value) and "segment end" not in str(e.value)


def test_segment_retime_keeps_the_rest_bit_identical_and_sound_in_sync(tmp_path, clip):
    src = clip("seg.mkv", frames=25, fps=25, tone_hz=440.0, codec="ffv1", options={})
    out = str(tmp_path / "o.mkv")
    r = vidext.interpolate(src, out, slowmo=3, start=0.4, end=0.6, codec="ffv1")
    a, b = luma_frames(src), luma_frames(out)
    assert len(b) == 25 + 10
    for k in range(10):                       # before the segment
        assert np.array_equal(b[k], a[k])
    for k in range(15, 25):                   # after it, 10 frames later
        assert np.array_equal(b[k + 10], a[k])
    inside = b[10:25]
    assert all(not np.array_equal(x, y) for x, y in zip(inside[:-1], inside[1:]))
    assert video_times(out) == [Fraction(k, 25) for k in range(35)]
    assert r.audio == "re-encoded"
    with av.open(out) as c:
        s = c.streams.audio[0]
        samples = sum(f.samples for f in c.decode(s))
        assert abs(samples / s.rate - 35 / 25) < 0.03


def test_cli_slowmo_segment_and_options(tmp_path, clip):
    src = clip(frames=20, fps=25)
    out = str(tmp_path / "o.mp4")
    assert cli_main(["interpolate", src, "-o", out, "--slowmo", "2", "--start", "0.2", "--end", "0.6",
                     "--scene-threshold", "0.5", "--low-light", "--flow-smoothing", "--motion-blur", "-q"]) == 0
    side = json.loads(open(out + ".json").read())
    p = side["parameters"]
    assert p["slowmo"] == "2" and p["low_light"] and p["flow_smoothing"] and p["motion_blur"] == 0.5
    assert p["segment"] == [0.2, 0.6] and p["scene_threshold"] == 0.5
    assert len(video_times(out)) == 30
    assert cli_main(["interpolate", src, "-o", str(tmp_path / "x.mp4"), "--slowmo", "zero"]) == 2


def test_unknown_advanced_option_is_refused(tmp_path, clip):
    with pytest.raises(ParameterError, match="unknown option"):
        vidext.interpolate(clip(frames=4), str(tmp_path / "o.mp4"), warp_drive=True)
    with pytest.raises(ParameterError):
        SceneGate(scene_threshold=2)


_RSS = """
import resource, sys
import vidext
from vidext import config
vidext.interpolate(sys.argv[1], sys.argv[2], factor=2, quality="balanced")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_rss_kb(src: str, out: str) -> int:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", _RSS, src, out], env=env, capture_output=True, text=True,
                          check=True)
    return int(proc.stdout.split()[-1])


def test_peak_memory_does_not_grow_with_clip_length(tmp_path, clip):
    short = clip("short.mp4", frames=40, width=320, height=180)
    long = clip("long.mp4", frames=160, width=320, height=180)
    a = _peak_rss_kb(short, str(tmp_path / "a.mp4"))
    b = _peak_rss_kb(long, str(tmp_path / "b.mp4"))
    assert b <= a * 1.10, (a, b)


def test_preview_is_small_short_and_cached(tmp_path, clip, monkeypatch):
    monkeypatch.setenv("VIDEXT_CACHE", str(tmp_path / "cache"))
    src = clip(frames=100, fps=25, width=960, height=540)
    p1 = vidext.preview(src, fps=50)
    info = vidext.probe_file(p1)
    assert info.video.width == 480 and info.video.height == 270
    assert info.video.fps_nominal == 50 and info.video.duration_s <= 2.05
    stamp = os.stat(p1).st_ino, open(p1, "rb").read()
    assert vidext.preview(src, fps=50) == p1
    assert (os.stat(p1).st_ino, open(p1, "rb").read()) == stamp
    p3 = vidext.preview(src, fps=50, quality="fast")
    assert p3 != p1 and os.path.exists(p3)
    p4 = vidext.preview(src, slowmo=2, start=1.0, end=2.0)
    assert vidext.probe_file(p4).video.duration_s == pytest.approx(2.0, abs=0.05)
