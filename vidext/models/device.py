"""Device and precision: CUDA in half precision when present, else CPU in fp32."""
from __future__ import annotations

from ..errors import ParameterError

PRECISIONS = ("auto", "fp32", "fp16", "bf16")


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def no_cuda_driver() -> bool:
    """True where CUDA certainly cannot run, known without importing torch (a second or more): a
    Linux machine with no NVIDIA kernel driver loaded.  False means: ask :func:`cuda_available`."""
    import os
    import sys

    return sys.platform.startswith("linux") and not os.path.exists("/proc/driver/nvidia/version")


def select_device(device: str | None = None):
    """A ``torch.device``: ``None``/``"auto"`` → CUDA when present, else CPU.

    Asking for CUDA where there is none is an error, not a silent CPU run.
    """
    import torch

    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ParameterError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ParameterError(f"device {device!r} asked for but CUDA is not available here; use cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ParameterError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type != "cpu":
        raise ParameterError(f"device {device!r} is not supported; use auto, cpu, cuda or cuda:N")
    return dev


def select_dtype(device, precision: str | None = None, *, cuda_default: str = "fp16"):
    """The compute dtype for ``device``.

    ``auto`` (or None): ``cuda_default`` (fp16, or bf16 for models trained in
    it, where the GPU supports bf16) on CUDA, fp32 on CPU.  Half precision on
    the CPU is refused: it is slower there than fp32 and loses accuracy.
    """
    import torch

    precision = precision or "auto"
    if precision not in PRECISIONS:
        raise ParameterError(f"unknown precision {precision!r}; choose one of: {', '.join(PRECISIONS)}")
    dev = torch.device(device)
    if precision == "auto":
        if dev.type != "cuda":
            return torch.float32
        if cuda_default == "bf16" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float16
    if dev.type != "cuda" and precision in ("fp16", "bf16"):
        raise ParameterError(f"precision {precision} is for CUDA; on {dev.type} use fp32")
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
