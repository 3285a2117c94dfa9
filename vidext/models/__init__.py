"""The model layer: learned weights from the Hub, on the right device, shared.

Everything learned in vidext (RIFE for interpolation, SVD and LTX-Video for
extend, MusicGen for audio) goes through this package.  Importing it imports
neither torch nor huggingface_hub; they load when a function needs them.

Registry (:mod:`.registry`)
    ``ModelSpec(name, kind, library, repo_id, revision, files, licence, card,
    summary, sha256=None, required=(), variant=None)``; ``MODELS`` (name →
    spec, a :class:`vidext.registry.Catalogue` like every backend registry),
    ``register(spec)``, ``get_spec(name)``.  Registered: ``rife-4.25``,
    ``svd-xt``, ``ltx-video``, ``musicgen-small``.  Each has a model card in
    ``model_cards/``.

Finding weights (:mod:`.hub`)
    ``resolve(name, weights=None) -> Path``: the file of a single-file model,
    the folder of a multi-file one.  ``locate(name, weights=None, *,
    download=True) -> Resolved`` (``.path``, ``.source`` = weights / model_dir
    / cache / download, ``.revision``, ``.as_dict()`` for sidecars).  Order:
    ``weights=`` (CLI ``--weights``), ``model_dir()/<name>/`` (``$VIDEXT_MODEL_DIR``,
    else ``~/.cache/vidext/models``; ``place(name, file)`` puts a checked copy
    there, as set-up does for RIFE), the
    Hugging Face cache (``HF_HUB_CACHE`` / ``HF_HOME``, local files only),
    then a huggingface_hub download with progress bars unless
    ``HF_HUB_OFFLINE=1``.  Hub revision: ``$VIDEXT_REVISION_<NAME>``, else the
    spec's pinned commit, else ``main``.  Single files are checked against
    their sha256.  Failures raise :class:`~vidext.errors.ModelError` naming
    the model, where it looked and how to provide it.

Device and precision (:mod:`.device`)
    ``select_device(device=None)`` → CUDA when present, else CPU (asking for
    CUDA without it is a ``ParameterError``); ``select_dtype(device,
    precision=None, cuda_default="fp16")`` → fp16/bf16 on CUDA, fp32 on CPU.

Quantization (:mod:`.quantization`)
    ``transformers_config(mode, device, compute_dtype=None)`` and
    ``diffusers_config(mode, device, components, compute_dtype=None)``:
    mode ``int8`` / ``int4`` → bitsandbytes on CUDA (transformers
    ``BitsAndBytesConfig``, diffusers ``PipelineQuantizationConfig``);
    ``int8`` on CPU → torchao ``Int8WeightOnlyConfig``.

Sharing (:mod:`.cache`)
    ``cached(key, load)`` / ``MODEL_CACHE``: a per-process LRU of loaded
    models (``VIDEXT_MODEL_CACHE_SIZE``); ``gpu_section(device)`` holds the
    process-wide GPU lock (``gpu_lock()``) around GPU work so the app's queue
    can share one GPU.

Loading (:mod:`.loading`)
    ``load_diffusers(pipeline_cls, folder, *, device, precision, quantize,
    components, offload, variant, **kw)``, ``load_transformers(model_cls,
    folder, *, device, precision, quantize, **kw)`` and ``load_model(name,
    cls, *, weights=None, device=None, precision=None, quantize=None, **kw)``
    (resolve + load + cache).  For example::

        from diffusers import StableVideoDiffusionPipeline
        from vidext.models import load_model, gpu_section
        pipe = load_model("svd-xt", StableVideoDiffusionPipeline, offload="model")
        with gpu_section(pipe.device):
            frames = pipe(image, num_frames=25).frames[0]
"""
from __future__ import annotations

from .cache import MODEL_CACHE, ModelCache, cached, gpu_lock, gpu_section
from .hub import (Resolved, cache_root, hub_cache_dir, locate, model_dir, offline, pinned_revision, place, resolve,
                  sha256_of, verify)
from .registry import MODELS, ModelRegistry, ModelSpec, get_spec, register


def __getattr__(name: str):
    # torch-dependent helpers, imported on first use so the classical path stays torch-free.
    if name in ("select_device", "select_dtype", "cuda_available"):
        from . import device
        return getattr(device, name)
    if name in ("load_diffusers", "load_transformers", "load_model"):
        from . import loading
        return getattr(loading, name)
    if name in ("transformers_config", "diffusers_config"):
        from . import quantization
        return getattr(quantization, name)
    raise AttributeError(name)


__all__ = ["MODELS", "MODEL_CACHE", "ModelCache", "ModelRegistry", "ModelSpec", "Resolved", "cached", "get_spec",
           "gpu_lock", "gpu_section", "hub_cache_dir", "locate", "offline", "pinned_revision",
           "cache_root", "model_dir", "place", "register", "resolve", "sha256_of", "verify", "select_device", "select_dtype",
           "cuda_available", "load_diffusers", "load_transformers", "load_model",
           "transformers_config", "diffusers_config"]
