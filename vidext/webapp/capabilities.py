"""What this deployment can run: models and methods — each with the reason when it cannot.

The app offers only what can run.  A learned model whose weights do not
resolve locally, a generative model without a GPU (or without torch): each is
shown disabled with a one-line reason.  Nothing here downloads anything or
calls the network (weights are looked up offline).
"""
from __future__ import annotations

import functools
import importlib.util
import os
from dataclasses import dataclass

from .. import config


@dataclass(frozen=True)
class Feature:
    """One thing the app may offer, and why not when it cannot."""

    name: str
    available: bool
    reason: str = ""

    def label(self) -> str:
        return self.name if self.available else f"{self.name} (unavailable: {self.reason})"


# --- the backend registries, gathered here, top-down ------------------------------------------

def registries() -> dict:
    """Every backend registry by the job option that picks from it (imports only the registries)."""
    from ..evaluation import METRICS
    from ..evaluation.heldout import METHODS
    from ..extension import EXTENDERS
    from ..interpolation import INTERPOLATORS
    from ..sound.continuation import CONTINUATIONS
    from ..sound.stretch import STRETCHERS

    return {"interpolate.model": INTERPOLATORS, "extend.method": EXTENDERS, "audio.method": CONTINUATIONS,
            "audio.stretcher": STRETCHERS, "evaluate.methods": METHODS, "evaluate.metrics": METRICS}


def learned_methods() -> dict[str, str]:
    """Interpolation backends that load weights → their :mod:`vidext.models` name (``{"rife": "rife-4.25"}``)."""
    from ..interpolation import INTERPOLATORS

    return INTERPOLATORS.learned()


def generative_methods() -> dict[str, str]:
    """Generative extend and audio methods → their :mod:`vidext.models` name (svd, ltx, musicgen)."""
    from ..extension import EXTENDERS
    from ..sound.continuation import CONTINUATIONS

    return {e.name: e.model for reg in (EXTENDERS, CONTINUATIONS) for e in reg.entries() if e.generative}


def quantize_choices() -> tuple[str, ...]:
    """The model layer's quantization modes (``int8``, ``nf4``)."""
    from ..models.quantization import MODES

    return tuple(MODES)


@functools.lru_cache(maxsize=1)
def gpu() -> Feature:
    """A CUDA GPU for learned/generative models (a ZeroGPU Space counts as one).

    torch is imported only when installed, and only here, never at start of
    the classical path.
    """
    if os.environ.get("SPACES_ZERO_GPU"):
        return Feature("gpu", True, "ZeroGPU")
    if importlib.util.find_spec("torch") is None:
        return Feature("gpu", False, "torch is not installed")
    import torch

    if not torch.cuda.is_available():
        return Feature("gpu", False, "no CUDA GPU on this machine")
    return Feature("gpu", True, torch.cuda.get_device_name(0))


def weights(model: str) -> Feature:
    """Whether the weights of ``model`` (a model-layer name) are at hand without a download.

    Looks where the model layer looks ($VIDEXT_MODEL_DIR, the Hugging Face
    cache) with downloads off: the app makes no network call at start.
    """
    from .. import models
    from ..errors import VidextError

    try:
        models.locate(model, download=False)
    except VidextError as exc:
        return Feature(model, False, str(exc))
    return Feature(model, True)


def learned(method: str, model: str | None = None) -> Feature:
    """A learned interpolation model (its weights: ``model``, else the registry's): offered when they resolve."""
    w = weights(model or learned_methods().get(method, method))
    return Feature(method, w.available, w.reason)


def generative(method: str) -> Feature:
    """A generative model (SVD, LTX-Video, MusicGen): needs its weights and a GPU."""
    w = weights(generative_methods().get(method, method))
    if not w.available:
        return Feature(method, False, w.reason)
    g = gpu()  # only now: a deployment without weights never imports torch
    if config.APP_GENERATIVE_NEEDS_GPU and not g.available:
        return Feature(method, False, f"needs a GPU ({g.reason})")
    return Feature(method, True)


def interpolation_models() -> list[Feature]:
    """``auto`` and every registered backend; learned ones only when their weights resolve."""
    from ..interpolation import INTERPOLATORS

    return [Feature("auto", True), *(learned(name) if name in learned_methods() else Feature(name, True)
                                     for name in INTERPOLATORS.names())]


def _methods():
    """(classical, generative) extend and audio methods and the classical held-out methods but the
    no-interpolation baseline, from the registries' metadata."""
    from ..evaluation.heldout import BASELINE, METHODS
    from ..extension import EXTENDERS
    from ..sound.continuation import CONTINUATIONS

    return (EXTENDERS.classical(), EXTENDERS.generative(),
            CONTINUATIONS.classical(), CONTINUATIONS.generative(),
            tuple(m for m in METHODS.classical() if m != BASELINE))


EXTEND_CLASSICAL, EXTEND_GENERATIVE, AUDIO_CLASSICAL, AUDIO_GENERATIVE, EVALUATE_CLASSICAL = _methods()


def evaluate_learned() -> dict[str, str]:
    """Held-out methods that load weights → their :mod:`vidext.models` name (``{"rife": "rife-4.25"}``)."""
    from ..evaluation.heldout import METHODS

    return METHODS.learned()


def extend_methods() -> list[Feature]:
    return [Feature(m, True) for m in EXTEND_CLASSICAL] + [generative(m) for m in EXTEND_GENERATIVE]


def audio_methods() -> list[Feature]:
    return [Feature(m, True) for m in AUDIO_CLASSICAL] + [generative(m) for m in AUDIO_GENERATIVE]


def evaluate_methods() -> list[Feature]:
    learned_models = [learned(m, model) for m, model in evaluate_learned().items()]
    return [Feature(m, True) for m in EVALUATE_CLASSICAL] + learned_models


def uses_gpu(features: list[Feature]) -> bool:
    """Whether an event offering ``features`` may put work on the GPU (→ the GPU queue)."""
    names = set(learned_methods()) | set(generative_methods())
    return any(f.available and f.name in names for f in features) and gpu().available


def available(features: list[Feature]) -> list[str]:
    return [f.name for f in features if f.available]


def unavailable_note(features: list[Feature]) -> str:
    """Markdown lines naming what is not offered and why ('' when everything is)."""
    return "\n".join(f"- **{f.name}** unavailable: {f.reason}" for f in features if not f.available)
