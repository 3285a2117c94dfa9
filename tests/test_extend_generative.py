"""Generative extend (SVD, LTX-Video) end to end with tiny random pipelines.

As diffusers' own tests do, the pipelines are built from small configs with
seeded random weights, saved with ``save_pretrained`` into a folder laid out
like the Hub repository, and found through ``$VIDEXT_MODEL_DIR`` by the real
model layer; ``vidext.extend`` then runs its real code on CPU in seconds.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

import vidext  # noqa: E402
from vidext.extension import generative, ltx, svd  # noqa: E402
from vidext.media.probe import probe  # noqa: E402

from helpers import luma_frames, video_times  # noqa: E402

RATE = 25


def tiny_svd(folder):
    from diffusers import (AutoencoderKLTemporalDecoder, EulerDiscreteScheduler, StableVideoDiffusionPipeline,
                           UNetSpatioTemporalConditionModel)
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=8, out_channels=4,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=16, num_attention_heads=2, projection_class_embeddings_input_dim=24,
        addition_time_embed_dim=8)
    scheduler = EulerDiscreteScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, interpolation_type="linear",
        num_train_timesteps=1000, prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002,
        steps_offset=1, timestep_spacing="leading", timestep_type="continuous", use_karras_sigmas=True)
    torch.manual_seed(0)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
                                       latent_channels=4, layers_per_block=1)
    torch.manual_seed(0)
    # the pipeline resizes its conditioning image to 224×224 for CLIP (FIELD-NOTES)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=16, projection_dim=16, num_hidden_layers=1, num_attention_heads=2, image_size=224,
        intermediate_size=16, patch_size=32))
    extractor = CLIPImageProcessor(crop_size=224, size=224)
    pipe = StableVideoDiffusionPipeline(vae=vae, image_encoder=encoder, unet=unet, scheduler=scheduler,
                                        feature_extractor=extractor)
    pipe.save_pretrained(str(folder), variant="fp16")
    return folder


def tiny_ltx(folder):
    from diffusers import (AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXConditionPipeline,
                           LTXVideoTransformer3DModel)
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=2, attention_head_dim=8,
        cross_attention_dim=16, num_layers=1, caption_channels=16)
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1), spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False), upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1), timestep_conditioning=False, patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False)
    torch.manual_seed(0)
    pieces = ["<pad>", "</s>", "<unk>"] + [f"▁{w}" for w in "the scene continues a cat runs sea".split()]
    tokenizer = T5Tokenizer(vocab=[(p, -float(i)) for i, p in enumerate(pieces)], extra_ids=0)
    encoder = T5EncoderModel(T5Config(vocab_size=len(pieces), d_model=16, d_kv=8, d_ff=32, num_layers=1,
                                      num_heads=2, relative_attention_num_buckets=8, pad_token_id=0,
                                      eos_token_id=1))
    pipe = LTXConditionPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=encoder,
                                tokenizer=tokenizer, transformer=transformer)
    pipe.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    tiny_svd(root / "svd-xt")
    tiny_ltx(root / "ltx-video")
    return root


@pytest.fixture
def tiny(model_dir, monkeypatch):
    """Route the model layer to the tiny folders and shrink the work to seconds on CPU."""
    from vidext.models import MODEL_CACHE

    monkeypatch.setenv("VIDEXT_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(svd, "SVD_SIZE", (32, 32))
    monkeypatch.setattr(svd, "SVD_CHUNK_FRAMES", 4)
    monkeypatch.setattr(svd, "SVD_STEPS", 2)
    monkeypatch.setattr(ltx, "LTX_SIZE", (32, 32))
    monkeypatch.setattr(ltx, "LTX_CHUNK_FRAMES", 9)
    monkeypatch.setattr(ltx, "LTX_CONTEXT_FRAMES", 5)
    monkeypatch.setattr(ltx, "LTX_STEPS", 2)
    yield
    MODEL_CACHE.clear()


@pytest.mark.parametrize("method", ["svd", "ltx"])
@pytest.mark.parametrize("direction", ["forward", "backward", "both"])
def test_generative_end_to_end(tmp_path, clip, tiny, method, direction):
    src = clip(frames=10, width=48, height=32)
    out = str(tmp_path / "o.mp4")
    r = vidext.extend(src, out, seconds=0.4, direction=direction, method=method, seed=7,
                      audio_method="silence")
    new = 10
    total = 10 + new * (2 if direction == "both" else 1)
    times = video_times(out)
    assert r.frames_out == total and times == [Fraction(k, RATE) for k in range(total)]
    v = probe(out).video
    assert (v.width, v.height, v.pix_fmt) == (48, 32, "yuv420p")
    ext = r.details["extension"]
    assert ext["model"] in ("svd-xt", "ltx-video") and set(ext["seeds"].values()) == {7}
    assert r.audio == "re-encoded"


@pytest.mark.parametrize("method", ["svd", "ltx"])
def test_generative_chains_chunks_and_is_reproducible(tmp_path, clip, tiny, method):
    src = clip(frames=10, width=48, height=32, tone_hz=None)
    outs = []
    for name, seed in (("a.mkv", 3), ("b.mkv", 3), ("c.mkv", 4)):
        out = str(tmp_path / name)
        vidext.extend(src, out, seconds=0.6, method=method, seed=seed, codec="ffv1")
        outs.append(luma_frames(out))
    a, b, c = outs
    assert len(a) == 10 + 15                     # 15 new frames: several chained chunks of 3 or 4
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert any(not np.array_equal(x, y) for x, y in zip(a[10:], c[10:]))


def test_quantize_int8_on_cpu_loads_through_torchao(tmp_path, clip, tiny):
    pytest.importorskip("torchao")
    src = clip(frames=6, width=48, height=32, tone_hz=None)
    out = str(tmp_path / "q.mp4")
    r = vidext.extend(src, out, seconds=0.12, method="svd", seed=1, quantize="int8")
    assert r.frames_out == 9 and r.details["extension"]["quantize"] == "int8"


def test_missing_weights_is_a_model_error(tmp_path, clip, monkeypatch):
    from vidext.errors import ModelError
    monkeypatch.setenv("VIDEXT_MODEL_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelError):
        vidext.extend(clip(frames=4, tone_hz=None), str(tmp_path / "o.mp4"), seconds=0.1, method="svd")
    assert not (tmp_path / "o.mp4").exists()


def test_working_size_fit_and_colour_match():
    from vidext.extension.generative import fit, match_colour, working_size
    assert working_size(1920, 1080, (1024, 576), 64) == (1024, 576)
    w, h = working_size(720, 1280, (1024, 576), 64)            # portrait keeps its aspect
    assert w % 64 == 0 and h % 64 == 0 and h > w and abs(w * h - 1024 * 576) < 0.15 * 1024 * 576
    rgb = np.random.default_rng(0).random((576, 1024, 3)).astype(np.float32)
    assert fit(rgb, 1280, 720).shape == (720, 1280, 3)
    assert fit(rgb, 500, 500).shape == (500, 500, 3)            # cover, then centre crop
    ref = np.full((8, 8, 3), [0.2, 0.5, 0.8], np.float32) + np.random.default_rng(1).normal(0, 0.05, (8, 8, 3))
    chunk = [np.clip(f * 0.5 + 0.3, 0, 1) for f in np.random.default_rng(2).random((3, 8, 8, 3))]
    out = np.stack(match_colour(chunk, ref))
    assert np.allclose(out.mean(axis=(0, 1, 2)), ref.mean(axis=(0, 1)), atol=0.03)


@pytest.mark.parametrize("method", ["svd", "ltx"])
def test_junction_is_bridged_and_colour_matched(tmp_path, clip, tiny, monkeypatch, method):
    # random tiny models make noise: the bridge and the colour match are what keep the edge smooth
    src = clip(frames=10, width=48, height=32, tone_hz=None)
    t = generative.GENERATIVE_TRANSITION_FRAMES

    def first_step(name):
        out = str(tmp_path / name)
        vidext.extend(src, out, seconds=0.4, method=method, seed=0, codec="ffv1")
        frames = [f.astype(np.float64) for f in luma_frames(out)]
        edge, new = frames[9], frames[10:]
        return np.abs(new[0] - edge).mean(), np.abs(new[t] - edge).mean(), np.mean(new) - edge.mean()

    bridged, far, brightness = first_step("bridged.mkv")
    assert bridged < 0.5 * far                      # the first new frame starts from the real one
    assert abs(brightness) < 8                       # colour matched to the last real frame
    monkeypatch.setattr(generative, "GENERATIVE_TRANSITION_FRAMES", 0)
    cut, _, _ = first_step("cut.mkv")
    assert cut > 2 * bridged                         # without the bridge the edge jumps
