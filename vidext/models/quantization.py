"""Quantized loading: bitsandbytes 8/4-bit on CUDA, torchao int8 weight-only on CPU.

diffusers' bitsandbytes quantizer refuses to run without a GPU, so on the CPU
the only mode offered is ``int8`` through torchao's ``Int8WeightOnlyConfig``
(diffusers then needs the pipeline loaded in float32).
"""
from __future__ import annotations

from ..errors import DependencyError, ParameterError

MODES = ("int8", "int4")
#: (mode, device type) → the package that does it: every deployment that offers a mode on a device
#: must install that package (tests/test_deploy.py reads each deployment's requirements against this)
BACKENDS = {("int8", "cuda"): "bitsandbytes", ("int4", "cuda"): "bitsandbytes", ("int8", "cpu"): "torchao"}
#: every spelling accepted from users (CLI ``--quantize``, the app, the API) → the mode (None: off)
SPELLINGS = {None: None, "none": None, "int8": "int8", "nf4": "int4", "int4": "int4"}


def check_quantize(value: str | None) -> str | None:
    """The quantization mode a user's spelling names (None, ``"int8"`` or ``"int4"``)."""
    try:
        return SPELLINGS[value]
    except (KeyError, TypeError):
        raise ParameterError(f"unknown quantization {value!r}; choose none, int8 or nf4 (= int4)") from None


def _check(mode: str, device) -> None:
    if mode not in MODES:
        raise ParameterError(f"unknown quantization {mode!r}; choose one of: {', '.join(MODES)}")
    if device.type != "cuda" and mode != "int8":
        raise ParameterError(f"quantization {mode} needs CUDA (bitsandbytes); on the CPU use int8")


def _bnb_kwargs(mode: str, compute_dtype) -> dict:
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as exc:
        raise DependencyError("8/4-bit quantization on CUDA needs bitsandbytes: "
                              "pip install bitsandbytes") from exc
    if mode == "int8":
        return {"load_in_8bit": True}
    return {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4", "bnb_4bit_compute_dtype": compute_dtype}


def _torchao_int8():
    try:
        from torchao.quantization import Int8WeightOnlyConfig
    except ImportError as exc:
        raise DependencyError("int8 quantization on the CPU needs torchao: pip install torchao") from exc
    return Int8WeightOnlyConfig()


def transformers_config(mode: str | None, device, compute_dtype=None):
    """``quantization_config=`` for a transformers ``from_pretrained`` (None: no quantization)."""
    if mode is None:
        return None
    _check(mode, device)
    import transformers

    if device.type == "cuda":
        return transformers.BitsAndBytesConfig(**_bnb_kwargs(mode, compute_dtype))
    return transformers.TorchAoConfig(quant_type=_torchao_int8())


def diffusers_config(mode: str | None, device, components: list[str], compute_dtype=None):
    """``quantization_config=`` for a diffusers pipeline: ``components`` are quantized.

    Name the heavy denoiser (``unet``/``transformer``) and, for large text
    encoders, those too; VAEs are best left in full precision.
    """
    if mode is None:
        return None
    _check(mode, device)
    if not components:
        raise ParameterError("diffusers quantization needs the components to quantize")
    from diffusers.quantizers import PipelineQuantizationConfig

    if device.type == "cuda":
        backend = "bitsandbytes_8bit" if mode == "int8" else "bitsandbytes_4bit"
        return PipelineQuantizationConfig(quant_backend=backend,
                                          quant_kwargs=_bnb_kwargs(mode, compute_dtype),
                                          components_to_quantize=list(components))
    import diffusers

    return PipelineQuantizationConfig(
        quant_mapping={c: diffusers.TorchAoConfig(_torchao_int8()) for c in components})
