"""What this deployment can run: tabs, models, options — each with the reason when it cannot.

The app offers only what can run.  A tab whose function is missing from this
build, a learned model whose weights do not resolve locally, a generative
model without a GPU: each is shown disabled with a one-line reason.  Nothing
here downloads anything or calls the network (weights are looked up offline).
"""
from __future__ import annotations

import functools
import importlib.util
import inspect
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


TABS = ("interpolate", "extend", "audio", "evaluate")


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


def api_function(name: str):
    """The public vidext function ``name``, or None when this build lacks it."""
    from .. import api

    fn = getattr(api, name, None)
    return fn if callable(fn) else None


def tab(name: str) -> Feature:
    if api_function(name) is None:
        return Feature(name, False, f"vidext.{name} is not part of this build")
    return Feature(name, True)


def tabs() -> dict[str, Feature]:
    return {name: tab(name) for name in TABS}


def preview() -> Feature:
    if api_function("preview") is None:
        return Feature("preview", False, "vidext.preview is not part of this build")
    return Feature("preview", True)


def parameter(fn_name: str, param: str) -> Feature:
    """Whether vidext.<fn_name> takes ``param`` by name (an option the app may show)."""
    fn = api_function(fn_name)
    if fn is None:
        return Feature(param, False, f"vidext.{fn_name} is not part of this build")
    if param not in inspect.signature(fn).parameters:
        return Feature(param, False, f"this build's vidext.{fn_name} has no {param!r} option")
    return Feature(param, True)


def option(fn_name: str, name: str) -> Feature:
    """An advanced option of vidext.<fn_name>: a named parameter, or one its ``**options`` take.

    A function with ``**options`` validates the names itself (an unknown one
    is refused with the list of known ones), so the app may offer them.
    """
    fn = api_function(fn_name)
    if fn is None:
        return Feature(name, False, f"vidext.{fn_name} is not part of this build")
    params = inspect.signature(fn).parameters
    if name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return Feature(name, True)
    return Feature(name, False, f"this build's vidext.{fn_name} has no {name!r} option")


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
    try:
        models = importlib.import_module("vidext.models")
    except ImportError:
        return Feature(model, False, "the model layer (vidext.models) is not part of this build")
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


def auto_model() -> Feature:
    """``model="auto"`` (the engine picks the model per clip), when this build has it."""
    if importlib.util.find_spec("vidext.jobs.auto") is None:
        return Feature("auto", False, "this build's vidext.interpolate has no model 'auto'")
    return Feature("auto", True)


def default_model() -> str:
    """The Interpolate tab's model: ``auto`` when the build has it, else the engine's default."""
    return "auto" if auto_model().available else config.DEFAULT_MODEL


def interpolation_models() -> list[Feature]:
    """``auto`` (when built in) and every registered backend; learned ones only when their weights resolve."""
    from ..interpolation import INTERPOLATORS

    out = [auto_model()] if auto_model().available else []
    for name in INTERPOLATORS.names():
        if name == "auto":
            continue
        out.append(learned(name) if name in learned_methods() else Feature(name, True))
    return out


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
