"""Extensions that cannot break: the speed ramp, auto's fallback, motion that eases to a stop without smearing."""
from __future__ import annotations

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

from helpers import luma_frames, video_times, write_rgb_clip

RATE = 25
W, H = 96, 64
SLOWEST = RAMP_MIN_SPEED[engine()]      # the limit measured for the engine that runs here


def pan_clip(path: str, frames: int, dx: float = 2.0, *, clicks_at: list[int] | None = None,
             flash: list[int] | None = None, sample_rate: int = 48000) -> str:
    """A lossless 4:4:4 pan (frame k = the texture moved k·dx px), optionally with a PCM click at the
    start of each frame in ``clicks_at`` and a bright corner on each frame in ``flash``."""
    tex = texture(H + 64, W + 64 + int(frames * dx), seed=7)
    images = []
    for k in range(frames):
        img = shifted(tex, 8 + dx * k, 16, H, W)
        if flash and k in flash:
            img[2:10, 2:10] = 255
        images.append(img)
    return write_rgb_clip(path, images, rate=RATE, sample_rate=sample_rate,
                          clicks_at=None if clicks_at is None else [k / RATE for k in clicks_at])


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
    plan = plan_ramp(50, need - 5, Fraction(RATE))                # the whole (shorter) shot, a shorter ease
    pos = [0.0] + plan.positions()
    assert plan.replaced == need - 5 and pos[-1] == plan.replaced
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


def test_a_pair_the_flow_cannot_follow_holds_a_real_frame_instead_of_a_double(tmp_path):
    # a pan whose white square jumps far between two frames of the retimed stretch: no flow follows it,
    # so a made picture there would show the square twice, see-through (the bikes car); the ramp holds
    n, new, jump = 40, 10, 36                          # the square jumps between frames 36 and 37
    tex = texture(H + 64, W + 64 + 2 * n, seed=7)
    here, there = (slice(26, 36), slice(14, 24)), (slice(26, 36), slice(64, 74))
    images = []
    for k in range(n):
        img = shifted(tex, 8 + 2 * k, 16, H, W).copy()
        img[here if k <= jump else there] = 255
        images.append(img)
    src = write_rgb_clip(str(tmp_path / "jump.mkv"), images, rate=RATE)
    out = str(tmp_path / "o.mkv")
    r = vidext.extend(src, out, seconds=new / RATE, method="ramp", codec="ffv1")
    plan = plan_ramp(new, n - 1, Fraction(RATE))
    anchor = n - 1 - plan.replaced
    moments = [anchor + p for p in plan.positions()]
    inside = [j for j, m in enumerate(moments, start=anchor + 1) if jump < m < jump + 1]
    assert inside                                       # the ramp does pass through that pair
    assert [jump, jump + 1] in r.details["extension"]["ramps"]["forward"]["held_pairs"]
    ins, outs = luma_frames(src), luma_frames(out)

    def opacity(frame, where):                          # 1: the square is there, 0: it is not
        on, off = ins[jump if where is here else jump + 1], ins[jump + 1 if where is here else jump]
        return float((frame[where].mean() - off[where].mean()) / (on[where].mean() - off[where].mean()))
    for j in inside:
        a, b = opacity(outs[j], here), opacity(outs[j], there)
        assert not (0.15 < a < 0.85 and 0.15 < b < 0.85), (j, a, b)      # never half here, half there
        assert np.array_equal(outs[j], ins[jump]) or np.array_equal(outs[j], ins[jump + 1])
    held = {tuple(p) for p in r.details["extension"]["ramps"]["forward"]["held_pairs"]}
    assert held == {(jump, jump + 1)}                   # the pairs the flow follows are still made


def test_the_sound_follows_the_retimed_picture(tmp_path):
    n, new = 50, 12
    flashes = [44]                             # inside the retimed stretch (the last 25 frames)
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


# -- auto never writes a failing candidate ---------------------------------------------
def _never_a_failure(details: dict) -> None:
    for d in details["auto"].values():
        if d["chosen"] in d["candidates"] and d["chosen"] not in ("ramp",):
            fig = d["candidates"][d["chosen"]]
            assert fig is None or fig["passed"] or "eased stop" in d["reason"], d


def test_a_loop_passes_only_where_its_bridge_joins_near_poses():
    from vidext.extension.scoring import ShotStats, score
    from vidext.extension.seamless import LoopScore
    gray = [cv2.cvtColor(shifted(texture(H + 64, W + 64, 2), 0.7 * k, 0, H, W), cv2.COLOR_RGB2GRAY) for k in range(30)]
    shot = np.stack([cv2.resize(g, (64, 43), interpolation=cv2.INTER_AREA) for g in gray])
    stats = ShotStats.of(shot)
    good = score(stats, [shot[20], shot[21], shot[22], shot[23]], [False] * 4, 2.0)   # a clean seam
    assert good.passed
    near = LoopScore(**vars(good), pose_steps=1.5)
    far = LoopScore(**vars(good), pose_steps=3.0)            # the same seam, bridging poses 3 steps apart
    assert near.passed and not far.passed
    assert any("joins poses 3.0 steps apart" in f for f in far.failures())
    assert far.as_dict()["passed"] is False and far.as_dict()["pose_steps"] == 3.0


def test_auto_falls_back_to_a_ramp_when_nothing_passes(tmp_path):
    # a steady pan that never comes back: no loop joins near poses, a continued motion reveals
    # what the camera never saw, a ping-pong turns back, a freeze stops
    src = pan_clip(str(tmp_path / "pan.mkv"), 60, dx=3.0)
    r = vidext.extend(src, str(tmp_path / "o.mkv"), seconds=0.4, method="auto", codec="ffv1")
    ext = r.details["extension"]
    d = ext["auto"]["forward"]
    assert not any(f["passed"] for m, f in d["candidates"].items() if m != "ramp" and f)
    assert d["chosen"] == "ramp" and d["candidates"]["ramp"]["passed"] and d["fallback"] is True
    assert "no candidate passes" in d["reason"] and "slowed" in d["reason"]
    assert "pose_steps" in d["candidates"]["seamless"]
    assert ext["summary"].startswith("forward: ramp") and "retimed" in ext
    _never_a_failure(ext)


def test_a_forward_ramp_decodes_the_clip_no_more_than_its_two_passes(tmp_path, monkeypatch):
    # the indexing pass and the stream: auto measures its candidates on the frames the first pass kept,
    # and a forward ramp takes the real frames it retimes from the stream, never from the file again
    # (in a file with one keyframe, each read again decoded it from the start)
    import vidext.extension.clip as clipmod

    src = pan_clip(str(tmp_path / "pan.mkv"), 60, dx=3.0)
    reads = []
    decode_from = clipmod.ClipReader._decode_from
    monkeypatch.setattr(clipmod.ClipReader, "_decode_from", lambda self, i: (reads.append(i), decode_from(self, i))[1])
    for method in ("ramp", "auto"):
        out = str(tmp_path / f"{method}.mkv")
        r = vidext.extend(src, out, seconds=0.4, method=method, codec="ffv1")
        assert r.details["extension"]["summary"].startswith("forward: ramp") or method == "ramp"
        assert reads == [], (method, reads)
    assert np.array_equal(np.stack(luma_frames(str(tmp_path / "ramp.mkv"))),
                          np.stack(luma_frames(str(tmp_path / "auto.mkv"))))
    r = vidext.extend(src, str(tmp_path / "back.mkv"), seconds=0.4, direction="backward", method="ramp",
                      codec="ffv1")
    assert reads                                  # a backward ramp still reads its frames again


def test_auto_holds_after_an_eased_stop_where_no_ramp_fits(tmp_path):
    # the last shot is 6 frames: too short for any loop, and too short to slow into 1 s
    tex = texture(H + 64, W + 400, seed=3)
    other = [shifted(texture(H + 64, W + 64, seed=9), 4, 4, H, W)] * 30
    images = other + [shifted(tex, 8 + 3 * k, 16, H, W) for k in range(6)]
    from helpers import write_rgb
    src = write_rgb(str(tmp_path / "short.mkv"), images)
    out = str(tmp_path / "o.mkv")
    r = vidext.extend(src, out, seconds=1.0, method="auto", codec="ffv1")
    ext = r.details["extension"]
    d = ext["auto"]["forward"]
    assert d["chosen"] == "freeze" and ext["chosen"]["forward"].get("eased_stop") is True and d["fallback"]
    assert "a speed ramp cannot be used" in d["reason"] and "eased stop" in d["reason"]
    outs, ins = luma_frames(out), luma_frames(src)
    assert len(outs) == 36 + 25
    assert np.array_equal(outs[-1], ins[-1])                  # the edge frame, held
    shown = [position(f, ins[30]) for f in outs[30:]]
    assert np.all(np.diff(shown) > -0.15)                     # eased to rest: never back
    assert all(abs(s - shown[-1]) < 0.2 for s in shown[-10:])  # at rest at the end


# -- motion: no spin, no smear ---------------------------------------------------------
def test_the_log_of_a_camera_step_is_scipys_logm_in_closed_form():
    from scipy.linalg import expm, logm

    from vidext.extension.motion import log_similarity

    rng = np.random.default_rng(3)
    for turn, zoom in [(0.0, 1.0), (0.002, 1.001), (-0.01, 0.99), (0.8, 1.3), (3.0, 0.5)]:
        tx, ty = rng.normal(0, 6, 2)
        m = np.array([[zoom * math.cos(turn), -zoom * math.sin(turn), tx],
                      [zoom * math.sin(turn), zoom * math.cos(turn), ty], [0.0, 0.0, 1.0]])
        got = log_similarity(m)
        assert np.allclose(got, np.real(logm(m)), rtol=0, atol=1e-10), (turn, zoom)
        assert np.allclose(expm(got), m, rtol=0, atol=1e-10)
    shear = np.array([[1.0, 0.3, 2.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])     # not a similarity: SciPy's
    assert np.allclose(log_similarity(shear), np.real(logm(shear)))


def rotating_clip(path: str, frames: int = 10, degrees: float = 2.0) -> str:
    tex = texture(3 * H, 3 * W, seed=4)
    c = (1.5 * W, 1.5 * H)
    images = []
    for k in range(frames):
        m = cv2.getRotationMatrix2D(c, degrees * k, 1.0)
        m[:, 2] -= (W, H)
        images.append(cv2.warpAffine(tex, m, (W, H), flags=cv2.INTER_LINEAR))
    from helpers import write_rgb
    return write_rgb(path, images)


def test_motion_never_turns_beyond_its_eased_limit(tmp_path):
    from vidext.extension.motion import MOTION_MAX_TURN_DEG, step_transform
    src = rotating_clip(str(tmp_path / "turn.mkv"))
    out = str(tmp_path / "o.mkv")
    r = vidext.extend(src, out, seconds=2.0, method="motion", codec="ffv1")
    est = r.details["extension"]["motion"]["forward"]
    assert abs(est["rotation_deg"]) == pytest.approx(2.0, abs=0.3)     # the clip turns 2° a frame...
    outs = luma_frames(out)
    m = step_transform(outs[9], outs[-1])
    turned = abs(math.degrees(math.atan2(m[1, 0], m[0, 0])))
    assert turned <= MOTION_MAX_TURN_DEG + 0.2, turned                  # ...the continuation at most 1° in all
    assert abs(est["turned_deg"]) <= MOTION_MAX_TURN_DEG + 1e-6


def _sharpness(img: np.ndarray) -> np.ndarray:
    return np.abs(cv2.Laplacian(img.astype(np.float32), cv2.CV_32F))


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_motion_shows_no_smeared_border(tmp_path, direction):
    # the pan reveals what the camera never saw: cropped out, never filled with stretched edge pixels
    src = pan_clip(str(tmp_path / "pan.mkv"), 12, dx=3.0)
    out = str(tmp_path / "o.mkv")
    r = vidext.extend(src, out, seconds=0.8, method="motion", codec="ffv1", direction=direction)
    est = r.details["extension"]["motion"][direction]
    assert 1.0 < est["crop_zoom"] <= 1.25
    outs = luma_frames(out)
    new = outs[12:] if direction == "forward" else outs[:20]
    ins = luma_frames(src)
    inner = _sharpness(ins[0])[:, 20:-20].mean()
    for f in new:
        s = _sharpness(f)
        for edge in (s[:, :8], s[:, -8:]):
            assert edge.mean() > 0.4 * inner                  # texture to the edge (a smear is flat)


# -- cost: each frame decoded once while auto measures ----------------------------------
def test_auto_measures_on_proxy_frames_decoded_once():
    from vidext.extension.auto import PROXY_WIDTH, proxy_view
    from vidext.extension.base import ClipView
    from vidext.media.frame import Colour, Frame, PixelLayout

    layout = PixelLayout("yuv420p")
    decoded: list[int] = []

    def frame(i: int) -> Frame:
        decoded.append(i)
        return Frame(tuple(np.full(s, i, np.uint8) for s in layout.plane_shapes(640, 360)),
                     Fraction(i, RATE), layout, Colour())

    clip = ClipView(count=30, rate=Fraction(RATE), width=640, height=360, layout=layout, colour=Colour(),
                    context=[frame(29)], read=frame, read_run=lambda i, k: (frame(j) for j in range(i, i + k)))
    decoded.clear()
    proxy = proxy_view(clip)
    first = [f.planes[0][0, 0] for f in proxy.read_run(10, 20)]      # the loop search's frames
    again = [f.planes[0][0, 0] for f in proxy.read_run(25, 5)]       # the ramp's probe: already read
    assert first == list(range(10, 30)) and again == list(range(25, 30))
    assert proxy.read(12).planes[0][0, 0] == 12 and proxy.read(3).planes[0][0, 0] == 3
    assert sorted(decoded) == [3] + list(range(10, 30))               # each frame decoded once
    assert proxy.width == PROXY_WIDTH and proxy.read(3).width == PROXY_WIDTH
    part = [f.planes[0][0, 0] for f in proxy.read_run(8, 4)]         # 8, 9 new; 10, 11 kept
    assert part == [8, 9, 10, 11]


def test_auto_asks_nothing_of_the_hub_where_no_gpu_driver_is_loaded(monkeypatch):
    import vidext.models as models
    from vidext.extension import auto, ramp
    from vidext.models import device

    def locate(*a, **k):
        raise AssertionError("the weights were looked up (the Hub's client imported) on a machine without a GPU")
    monkeypatch.setattr(models, "locate", locate)
    monkeypatch.setattr(device, "no_cuda_driver", lambda: True)
    assert auto.generative_available("svd") == (False, "no GPU (no NVIDIA driver)")
    assert ramp.engine() == "dis"


def test_an_engine_that_cannot_judge_its_pairs_is_judged_by_dis(tmp_path):
    """RIFE (on a GPU) says nothing of doubles: DIS fast judges its pairs on the same frames, so the jump
    is held there too and a pair the flow follows is not."""
    from vidext.extension.ramp import doubles
    from vidext.interpolation.base import Between
    from vidext.media.reader import FrameSource

    class Silent(Between):          # a network's pair: pictures, no word on doubles
        def __init__(self, a, b):
            self.a, self.b = a, b

        def at(self, t):
            return self.a.planes

    tex = texture(H + 64, W + 64 + 80, seed=7)
    images = []
    for k in range(6):
        img = shifted(tex, 8 + 2 * k, 16, H, W).copy()
        img[(slice(26, 36), slice(14, 24)) if k <= 3 else (slice(26, 36), slice(64, 74))] = 255
        images.append(img)
    src = write_rgb_clip(str(tmp_path / "jump.mkv"), images, rate=RATE)
    with FrameSource(src) as s:
        f = list(s)
    assert Silent(f[3], f[4]).doubled() is None
    assert doubles(Silent(f[3], f[4])) and not doubles(Silent(f[1], f[2]))
