"""Classical interpolation end to end: timing, counts, sound, accuracy."""
from __future__ import annotations

import json
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

import vidext
from vidext.errors import ParameterError
from vidext.interpolation import INTERPOLATORS
from vidext.interpolation.flow import PRESETS, DISInterpolator
from vidext.interpolation.timeline import Timeline, output_rate, parse_rate
from vidext.media.probe import probe
from vidext.media.reader import FrameSource

from helpers import audio_packets, luma_frames, psnr, video_times


def test_factor_two_doubles_rate_keeps_duration_and_sound(tmp_path, clip):
    src = clip(frames=50, fps=25)
    out = str(tmp_path / "o.mp4")
    r = vidext.interpolate(src, out, factor=2)
    assert r.frames_out == 100 and r.fps == 50
    times = video_times(out)
    assert times == [Fraction(k, 50) for k in range(100)]
    info_in, info_out = probe(src), probe(out)
    assert abs(info_out.video.duration_s - info_in.video.duration_s) <= 1 / 25
    assert r.audio == "copied"
    assert audio_packets(out) == audio_packets(src)
    sidecar = json.loads(open(out + ".json").read())
    assert sidecar["command"] == "interpolate" and sidecar["parameters"]["model"] == "dis"
    assert sidecar["output"]["frames"] == 100 and sidecar["input"]["video"]["frame_count"] == 50


def test_even_output_frames_are_the_input_frames(tmp_path, clip):
    src = clip(frames=10, fps=25, codec="ffv1", options={}, tone_hz=None)
    out = str(tmp_path / "o.mkv")
    vidext.interpolate(src, out, factor=2, codec="ffv1")
    a, b = luma_frames(src), luma_frames(out)
    for k in range(10):
        assert np.array_equal(b[2 * k], a[k])


def test_fps_60_from_25(tmp_path, clip):
    src = clip(frames=50, fps=25)
    out = str(tmp_path / "o.mp4")
    r = vidext.interpolate(src, out, fps=60)
    assert r.frames_out == 120
    assert video_times(out) == [Fraction(k, 60) for k in range(120)]
    assert audio_packets(out) == audio_packets(src)


def test_ntsc_to_60_places_frames_by_timestamp(tmp_path, clip):
    src = clip(frames=24, fps=Fraction(24000, 1001), tone_hz=None)
    out = str(tmp_path / "o.mp4")
    r = vidext.interpolate(src, out, fps="60")
    duration = Fraction(24 * 1001, 24000)
    assert r.frames_out == int(np.ceil(duration * 60))
    assert video_times(out)[-1] < duration


def test_variable_frame_rate_input(tmp_path):
    """Frames at irregular times come out on a regular grid, placed by timestamp."""
    from vidext.media.synth import shifted, texture
    path = str(tmp_path / "vfr.mkv")
    tex = texture(200, 360)
    times_ms = [0, 40, 80, 160, 200, 280, 320, 360, 440, 480]
    with av.open(path, "w") as c:
        s = c.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = 320, 160, "yuv420p"
        s.codec_context.time_base = Fraction(1, 1000)
        for t in times_ms:
            f = av.VideoFrame.from_ndarray(shifted(tex, 0.1 * t, 0, 160, 320), format="rgb24")
            f.pts, f.time_base = t, Fraction(1, 1000)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    info = probe(path)
    assert info.video.variable_frame_rate
    out = str(tmp_path / "o.mkv")
    vidext.interpolate(path, out, fps=50, codec="ffv1")
    times = video_times(out)
    assert times[0] == 0 and all(b - a == Fraction(1, 50) for a, b in zip(times, times[1:]))
    # The frame at 120 ms lies between the real ones at 80 and 160 ms: motion 12 px from frame 80 ms.
    with FrameSource(out) as s:
        frames = {f.time: f for f in s}
    y = frames[Fraction(120, 1000)].planes[0].astype(float)
    true = shifted(tex, 12, 0, 160, 320)
    true_y = 0.257 * true[..., 0] + 0.504 * true[..., 1] + 0.098 * true[..., 2] + 16
    assert psnr(y[8:-8, 24:-24], true_y[8:-8, 24:-24]) > 28


def _truth_pair(clip, codec="ffv1"):
    """Input at 25 fps moving (6, 2) px/frame, and the true half-way frames (moving (3, 1))."""
    opts = dict(codec=codec, options={}, tone_hz=None, width=320, height=176)
    src = clip("in.mkv", frames=8, motion=(6.0, 2.0), **opts)
    truth = clip("truth.mkv", frames=16, motion=(3.0, 1.0), **opts)
    return src, truth


@pytest.mark.parametrize("quality", list(PRESETS))
def test_midpoint_of_known_translation(tmp_path, clip, quality):
    src, truth = _truth_pair(clip)
    out = str(tmp_path / f"{quality}.mkv")
    vidext.interpolate(src, out, factor=2, codec="ffv1", quality=quality)
    blend = str(tmp_path / "blend.mkv")
    vidext.interpolate(src, blend, factor=2, codec="ffv1", model="blend")
    got, ref, bl = luma_frames(out), luma_frames(truth), luma_frames(blend)
    inner = (slice(12, -12), slice(20, -20))
    ours = np.mean([psnr(got[k][inner], ref[k][inner]) for k in range(1, 14, 2)])
    base = np.mean([psnr(bl[k][inner], ref[k][inner]) for k in range(1, 14, 2)])
    assert ours > 30, ours
    assert ours > base + 8, (ours, base)


def test_flow_reused_across_timesteps(clip):
    """One flow estimate per pair, whatever the number of timesteps."""
    with FrameSource(clip(frames=2, tone_hz=None)) as s:
        a, b = list(s)
    interp = DISInterpolator("fast")
    calls = []
    orig = interp._dis.calc
    interp._own.dis = type("Spy", (), {"calc": lambda self, *x: calls.append(1) or orig(*x)})()   # this thread's
    pair = interp.between(a, b)
    outs = [pair.at(t) for t in (0.25, 0.5, 0.75)]
    assert len(calls) == 2  # forward and backward, once
    assert all(o[0].shape == a.planes[0].shape for o in outs)


@pytest.mark.parametrize("low, full", [((180, 320), (720, 1280)), ((180, 320), (360, 640)),
                                       ((180, 320), (480, 854)), ((180, 320), (241, 427)),
                                       ((270, 480), (2160, 3840)), ((136, 320), (272, 640)),
                                       ((136, 320), (68, 200))])
def test_lifted_maps_are_the_grid_plus_the_resized_flow(low, full):
    """The one-resize sampling maps (flow.py's _Lift) match grid + scaled, resized flow everywhere,
    the clamped edge rows and columns included, for whole and odd scale factors, up and down."""
    from vidext.interpolation.flow import _grid, _Lift

    (h, w), (ph, pw) = low, full
    rng = np.random.default_rng(3)
    flow = (rng.standard_normal((h, w, 2)) * 4).astype(np.float32)
    got = _Lift.make(h, w, ph, pw).apply(flow)
    plain = cv2.resize(flow, (pw, ph), interpolation=cv2.INTER_LINEAR) * np.float32([pw / w, ph / h])
    want = _grid(ph, pw) + plain
    assert got.shape == want.shape and got.dtype == np.float32
    assert np.abs(got - want).max() < 2e-3     # remap samples at 1/32 px


def test_consistency_weight_is_one_over_one_plus_error_squared():
    from vidext.interpolation.flow import _consistency, _grid, _sample

    rng = np.random.default_rng(5)
    f = (rng.standard_normal((40, 64, 2)) * 3).astype(np.float32)
    back = (-f + rng.standard_normal((40, 64, 2)).astype(np.float32)).astype(np.float32)
    g = _grid(40, 64)
    e = np.linalg.norm(f + _sample(back, f, g), axis=2) * 4.0
    got = _consistency(f, back, g, 4.0, 2.0)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, 1 / (1 + (e / 2.0) ** 2), rtol=1e-5, atol=1e-6)


def test_presets_increase_accuracy_settings():
    f, b, q = (PRESETS[k] for k in ("fast", "balanced", "quality"))
    assert f.dis_preset < b.dis_preset < q.dis_preset  # ULTRAFAST < FAST < MEDIUM
    assert f.flow_scale <= b.flow_scale <= q.flow_scale
    assert f.refine_iterations <= b.refine_iterations <= q.refine_iterations


def test_rates_and_timeline():
    assert parse_rate("59.94") == Fraction(60000, 1001)
    assert parse_rate("30000/1001") == Fraction(30000, 1001)
    assert output_rate(Fraction(25), factor=2) == 50
    assert output_rate(Fraction(24000, 1001), fps="60") == 60
    with pytest.raises(ParameterError):
        output_rate(Fraction(25), factor=2, fps=60)
    with pytest.raises(ParameterError):
        parse_rate("-3")
    with pytest.raises(ParameterError):
        output_rate(Fraction(25), factor=0.5)
    tl = Timeline(Fraction(1, 10), Fraction(60))
    assert tl.time(6) == Fraction(1, 10) + Fraction(1, 10)
    assert tl.count_before(Fraction(1, 10) + 1) == 60


def test_registry_names_backends():
    assert {"dis", "blend"} <= set(INTERPOLATORS.names())
    with pytest.raises(ParameterError, match="unknown interpolation model"):
        INTERPOLATORS.get("nope")


def test_classical_path_does_not_import_torch(tmp_path, clip):
    import subprocess
    import sys
    src = clip(frames=6)
    code = ("import sys, vidext; vidext.interpolate(sys.argv[1], sys.argv[2], factor=2); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code, src, str(tmp_path / "o.mp4")], check=True)


def test_dis_pairs_at_once_give_the_frames_of_one_at_a_time(clip):
    """The pipeline renders DIS pairs on two threads (each its own DIS object): same frames,
    same order; smoothing across pairs keeps them in order, one at a time."""
    from vidext.interpolation.pipeline import RenderStats, render

    with FrameSource(clip(frames=12, tone_hz=None, motion=(3.0, 1.0))) as s:
        frames = list(s)
    class Pinned(DISInterpolator):
        def __init__(self, quality, workers):
            super().__init__(quality)
            self.workers = workers

        @property
        def concurrency(self):
            return self.workers

    outs = {}
    for quality in ("fast", "balanced"):
        for workers in (1, 2):
            interp = Pinned(quality, workers)
            outs[workers] = list(render(iter(frames), interp, Fraction(75), Fraction(1, 25), RenderStats()))
        assert len(outs[1]) == 3 * len(frames)
        for (p, t), (q, u) in zip(outs[1], outs[2]):
            assert t == u and all(np.array_equal(x, y) for x, y in zip(p, q))
    assert DISInterpolator("fast", flow_smoothing=True).concurrency == 1


def test_a_segment_outside_the_clip_is_refused_not_clamped(tmp_path, capsys):
    """``--start -1`` and ``--end 9`` on a 1.2 s clip were silently clamped to 0 and 1.2 s (the run
    slowed a part nobody asked for); each is now an error naming the problem and the limit.  An end
    typed as the length is shown (1.20 s for a clip a hair shorter) or within half a frame is the end."""
    from vidext._cli import main
    from vidext.interpolation.retime import plan_retime
    from vidext.jobs.interpolate import plan_interpolate
    from vidext.media.synth import make_clip

    src = make_clip(str(tmp_path / "c.mp4"), frames=30, fps=25, width=64, height=48, tone_hz=None)
    with pytest.raises(ParameterError, match=r"start \(-1 s\) is before the clip's first frame: .* 0 to 1\.20 s"):
        plan_interpolate(src, slowmo=2, start=-1, end=0.6)
    with pytest.raises(ParameterError, match=r"end \(9 s\) is past the clip's end \(1\.20 s\)"):
        plan_interpolate(src, slowmo=2, start=0.2, end=9)
    assert main(["interpolate", src, "-o", str(tmp_path / "o.mp4"), "--slowmo", "2", "--start", "-1",
                 "--end", "0.6", "-q"]) == 2
    assert "error: the segment start (-1 s) is before the clip's first frame" in capsys.readouterr().err
    assert plan_interpolate(src, slowmo=2, start=0.2, end=1.2).segment == pytest.approx((0.2, 1.2))
    shown = plan_retime(Fraction(30000, 1001), Fraction(0), Fraction(30697, 10000), slowmo=2, start=1, end=3.07)
    assert shown.smooth_range[1] == Fraction(30697, 10000)
    assert plan_retime(Fraction(25), Fraction(0), Fraction(6, 5), slowmo=2, start=0.2, end=1.219).smooth_range[1] \
        == Fraction(6, 5)


def test_a_segment_is_timed_from_the_first_frame_when_the_file_clock_starts_late(tmp_path):
    """Transport streams from cameras start their clock late (1.4 s from FFmpeg, hours from a
    camcorder): start/end count from the first frame, as a player and the app's filmstrip show
    them, not on the file's clock."""
    from formats import have_assets, make_variant, variant

    from vidext.jobs.interpolate import plan_interpolate
    from vidext.media.probe import probe

    src = make_variant(str(tmp_path / "in.ts"), variant("ts", ext=".ts", clock_s=1.4,
                                                                   options={"preset": "ultrafast"}),
                       synthetic=not have_assets())
    info = probe(src)
    assert info.video.start_s > 1.0                       # the muxer's clock offset
    plan = plan_interpolate(src, slowmo=2, start=0.2, end=0.4)
    assert plan.segment == pytest.approx((0.2, 0.4))
    out = str(tmp_path / "out.mp4")
    r = vidext.interpolate(src, out, slowmo=2, start=0.2, end=0.4, quality="fast")
    assert r.duration_s == pytest.approx(info.video.duration_s + 0.2, abs=0.041)
    assert r.details["stats"]["interpolated"] == 5       # 0.2 s at 25 fps made 0.4 s: 5 new frames
    with pytest.raises(ParameterError, match=r"start \(0\.7 s\) is at or past the clip's end \(0\.60 s\)"):
        plan_interpolate(src, slowmo=2, start=0.7, end=0.9)
