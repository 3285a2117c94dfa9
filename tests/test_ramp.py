"""Extensions that cannot break: the speed ramp."""
from __future__ import annotations

import json
import math
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

import vidext
from vidext.errors import ParameterError
from vidext.extension.ramp import RAMP_MIN_EASE_S, RAMP_MIN_SPEED, engine, plan_ramp, plan_stop
from vidext.media.synth import shifted, texture

from helpers import luma_frames, video_times

RATE = 25
W, H = 96, 64
SLOWEST = RAMP_MIN_SPEED[engine()]      # the limit measured for the engine that runs here


def pan_clip(path: str, frames: int, dx: float = 2.0, *, clicks_at: list[int] | None = None,
             flash: list[int] | None = None, sample_rate: int = 48000) -> str:
    """A lossless 4:4:4 pan (frame k = the texture moved k·dx px), optionally with a PCM click at the
    start of each frame in ``clicks_at`` and a bright corner on each frame in ``flash``."""
    tex = texture(H + 64, W + 64 + int(frames * dx), seed=7)
    with av.open(path, "w") as c:
        v = c.add_stream("ffv1", rate=RATE)
        v.width, v.height, v.pix_fmt = W, H, "yuv444p"
        a = c.add_stream("pcm_s16le", rate=sample_rate, layout="mono") if clicks_at is not None else None
        for k in range(frames):
            img = shifted(tex, 8 + dx * k, 16, H, W)
            if flash and k in flash:
                img[2:10, 2:10] = 255
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        if a is not None:
            n = round(frames / RATE * sample_rate)
            pcm = np.zeros(n, np.int16)
            for k in clicks_at:
                pcm[round(k / RATE * sample_rate)] = 30000
            for i in range(0, n, 1024):
                f = av.AudioFrame.from_ndarray(pcm[None, i:i + 1024], format="s16", layout="mono")
                f.sample_rate, f.pts = sample_rate, i
                for p in a.encode(f):
                    c.mux(p)
            for p in a.encode():
                c.mux(p)
    return path


def position(frame: np.ndarray, ref: np.ndarray) -> float:
    """How far (px) the content of ``frame`` has moved left of ``ref``'s."""
    win = cv2.createHanningWindow((ref.shape[1], ref.shape[0]), cv2.CV_32F)
    (dx, _), _ = cv2.phaseCorrelate(ref.astype(np.float32), frame.astype(np.float32), win)
    return -dx


# -- the plan ---------------------------------------------------------------------
@pytest.mark.parametrize("new", [1, 5, 25, 50])
def test_a_ramp_eases_from_full_speed_and_gives_exactly_the_frames_asked(new):
    plan = plan_ramp(new, 10_000, Fraction(RATE))
    pos = [0.0] + plan.positions()
    assert len(pos) - 1 == plan.replaced + new                 # K real frames become K + N
    assert pos[-1] == plan.replaced                            # the last frame is the junction itself
    steps = np.diff(pos)
    assert np.all(steps > 0)                                   # the picture never stops nor turns back
    assert np.all(np.diff(steps) <= 1e-9)                      # it only slows (an ease, no lurch)
    assert steps[0] == pytest.approx(1.0, abs=0.05)            # full speed where the ramp begins
    assert steps[-1] >= SLOWEST - 0.02                  # never slower than the measured limit
    # it retimes no more than it needs: it reaches the slowest speed, or it is the shortest ease
    assert plan.end_speed == pytest.approx(SLOWEST, abs=0.05) or \
        plan.length == math.ceil(RAMP_MIN_EASE_S * RATE)


def test_a_short_shot_is_retimed_whole_at_the_limit_or_refused():
    need = plan_ramp(50, 10_000, Fraction(RATE)).replaced
    plan = plan_ramp(50, need - 20, Fraction(RATE))               # the whole (shorter) shot
    pos = [0.0] + plan.positions()
    assert plan.replaced == need - 20 and pos[-1] == plan.replaced
    assert np.all(np.diff(pos) >= SLOWEST - 1e-9)         # an ease, then the limit speed
    with pytest.raises(ParameterError, match="cannot add 2.00 s to a shot of 0.80 s"):
        plan_ramp(50, 19, Fraction(RATE))


def test_an_eased_stop_slows_to_rest_then_holds():
    plan = plan_stop(30, 200, Fraction(RATE))
    pos = [0.0] + plan.positions()
    assert len(pos) - 1 == plan.replaced + 30 and plan.held == 30 - plan.replaced
    steps = np.diff(pos)
    assert steps[0] == pytest.approx(1.0, abs=0.05) and np.all(np.diff(steps) <= 1e-9)
    assert np.all(steps[-plan.held:] == 0) and pos[-1] == plan.replaced


# -- the picture ----------------------------------------------------------------------
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_every_new_frame_lies_between_its_neighbouring_real_frames(tmp_path, direction):
    n, new = 40, 10
    src = pan_clip(str(tmp_path / "pan.mkv"), n)
    out = str(tmp_path / "o.mkv")
    plan = vidext.plan_extend(src, seconds=new / RATE, direction=direction, method="ramp")
    k = plan.details["retimed"][direction]
    assert f"{k} frames" in plan.summary and "pictures kept, times changed" in plan.summary
    r = vidext.extend(src, out, seconds=new / RATE, direction=direction, method="ramp", codec="ffv1")
    assert r.frames_out == plan.frames_out == n + new
    assert video_times(out) == [Fraction(i, RATE) for i in range(n + new)]
    retimed = r.details["extension"]["retimed"][direction]
    assert retimed["count"] == k
    ins, outs = luma_frames(src), luma_frames(out)
    if direction == "backward":              # mirror, so that "the anchor comes first" reads the same
        ins, outs = ins[::-1], outs[::-1]
    anchor = n - 1 - k
    for i in range(anchor + 1):              # untouched: the same pictures at the same places
        assert np.array_equal(outs[i], ins[i])
    assert np.array_equal(outs[-1], ins[-1])  # the ramp ends on the real edge frame
    moments = [anchor + p for p in plan_ramp(new, n - 1, Fraction(RATE)).positions()]
    assert moments == sorted(moments)         # the picture's order never turns back
    for j, m in enumerate(moments, start=anchor + 1):
        lo = math.floor(m)
        if m == lo:                           # a real frame's moment: that very picture
            assert np.array_equal(outs[j], ins[lo])
            continue
        # its content lies between its two neighbouring real frames', where its moment says
        step = position(ins[lo + 1], ins[lo])
        got = position(outs[j], ins[lo])
        assert abs(step) > 1.5 and min(0, step) - 0.2 <= got <= max(0, step) + 0.2, (j, m, got, step)
        assert got == pytest.approx((m - lo) * step, abs=0.35), (j, m, got, step)


def test_the_sound_follows_the_retimed_picture(tmp_path):
    n, new = 50, 12
    flashes = [44]                             # inside the retimed stretch (the last ~32 frames)
    src = pan_clip(str(tmp_path / "click.mkv"), n, clicks_at=flashes, flash=flashes)
    out = str(tmp_path / "o.mkv")
    r = vidext.extend(src, out, seconds=new / RATE, method="ramp", codec="ffv1")
    said = r.details["audio_extension"]["forward"]
    assert said["method"] == "follow" and said["slowest"] > 1.5          # slowed, pitch kept (WSOLA)
    with av.open(out) as c:
        a = c.streams.audio[0]
        pcm = np.concatenate([f.to_ndarray().ravel() for f in c.decode(a)]).astype(np.float64)
        sr = a.codec_context.sample_rate
    assert abs(len(pcm) / sr - (n + new) / RATE) < 1 / RATE          # as long as the picture
    lumas = luma_frames(out)
    corner = [float(f[3:9, 3:9].mean()) for f in lumas]
    shown_at = int(np.argmax(corner)) / RATE                           # the flash frame's new time
    heard_at = float(np.argmax(np.abs(pcm))) / sr
    assert shown_at > flashes[0] / RATE + 0.05                         # it did move later...
    assert abs(heard_at - shown_at) <= 1 / RATE + 0.005, (heard_at, shown_at)  # ...and its click with it
