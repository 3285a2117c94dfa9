"""Loading diffusers pipelines and transformers models from a resolved folder.

The generative helpers (SVD and LTX-Video for extend, MusicGen for audio)
call these rather than ``from_pretrained`` directly, so that device, dtype,
quantization, offload, the per-process cache and the Hub lookup behave the
same everywhere.  Files are always read locally (the folder comes from
:func:`vidext.models.resolve`), never fetched again by the library.
"""
from __future__ import annotations

import os

from ..errors import ModelError, ParameterError
from .cache import cached
from .device import select_device, select_dtype
from .hub import locate
from .quantization import diffusers_config, transformers_config

OFFLOAD = (None, "model", "sequential")


def _load_failed(cls, folder, exc: Exception) -> ModelError:
    text = " ".join(str(exc).split())[:200]
    return ModelError(f"cannot load {cls.__name__} from {folder} ({type(exc).__name__}: {text})")


def load_diffusers(pipeline_cls, folder: str | os.PathLike, *, device=None, precision: str | None = None,
                   quantize: str | None = None, components: list[str] | None = None,
                   offload: str | None = None, variant: str | None = None,
                   cuda_default: str = "fp16", **kwargs):
    """``pipeline_cls.from_pretrained(folder)`` placed on ``device`` in the chosen dtype.

    ``quantize``: None, ``"int8"`` (bitsandbytes on CUDA, torchao on CPU) or
    ``"int4"`` (CUDA only), applied to ``components`` (e.g. ``["unet"]``).
    ``offload``: None, ``"model"`` (whole sub-models to the GPU in turn) or
    ``"sequential"`` (layer by layer, least memory); CUDA only.
    """
    dev = select_device(device)
    if offload not in OFFLOAD:
        raise ParameterError(f"unknown offload {offload!r}; choose model or sequential")
    if offload and dev.type != "cuda":
        raise ParameterError("offload moves weights between CPU and GPU: it needs a CUDA device")
    dtype = select_dtype(dev, precision, cuda_default=cuda_default)
    qconf = diffusers_config(quantize, dev, components or [], compute_dtype=dtype)
    import torch

    if qconf is not None and dev.type == "cpu":
        dtype = torch.float32  # torchao int8 weight-only in diffusers wants fp32 around it
    try:
        pipe = pipeline_cls.from_pretrained(str(folder), dtype=dtype, quantization_config=qconf,
                                            variant=variant, local_files_only=True, **kwargs)
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        raise _load_failed(pipeline_cls, folder, exc) from exc
    if offload == "model":
        pipe.enable_model_cpu_offload(device=dev)
    elif offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=dev)
    elif not (qconf is not None and dev.type == "cuda"):  # bitsandbytes places its weights itself
        pipe.to(dev)
    return pipe


def load_transformers(model_cls, folder: str | os.PathLike, *, device=None, precision: str | None = None,
                      quantize: str | None = None, cuda_default: str = "fp16", **kwargs):
    """``model_cls.from_pretrained(folder)`` on ``device`` in the chosen dtype, in eval mode."""
    dev = select_device(device)
    dtype = select_dtype(dev, precision, cuda_default=cuda_default)
    qconf = transformers_config(quantize, dev, compute_dtype=dtype)
    extra = {}
    if qconf is not None and dev.type == "cuda":
        extra["device_map"] = {"": dev.index or 0}
    try:
        model = model_cls.from_pretrained(str(folder), dtype=dtype, quantization_config=qconf,
                                          local_files_only=True, **extra, **kwargs)
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        raise _load_failed(model_cls, folder, exc) from exc
    if "device_map" not in extra:
        model.to(dev)
    if hasattr(model, "eval"):
        model.eval()
    return model


def load_model(name: str, cls, *, weights=None, device=None, precision: str | None = None,
               quantize: str | None = None, **kwargs):
    """Resolve ``name`` (see :func:`vidext.models.locate`), load it with ``cls``, cache it.

    The library (diffusers or transformers) comes from the model's spec;
    ``kwargs`` go to :func:`load_diffusers` / :func:`load_transformers`.  The
    same request later in the process returns the same object.
    """
    found = locate(name, weights)
    loader = {"diffusers": load_diffusers, "transformers": load_transformers}.get(found.spec.library)
    if loader is None:
        raise ParameterError(f"model {name!r} is a {found.spec.library} checkpoint, not a pipeline")
    if found.spec.variant is not None:
        kwargs.setdefault("variant", found.spec.variant)
    dev = select_device(device)
    key = (name, str(found.path), cls.__module__ + "." + cls.__qualname__, str(dev), precision, quantize,
           tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
    return cached(key, lambda: loader(cls, found.path, device=dev, precision=precision,
                                      quantize=quantize, **kwargs))
