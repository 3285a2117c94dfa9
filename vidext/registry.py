"""One registry idiom for every kind of backend: name → factory, with what the front ends need to know.

Interpolators, extenders, audio stretchers and continuations, metrics and
held-out methods each have one :class:`Registry`.  An entry names its factory
by import path (optional, heavy backends cost nothing until asked for) and
carries its metadata: a one-line summary, whether it is generative, whether
it needs a GPU to be practical, and the :mod:`vidext.models` weights it
loads.  The CLI's choices, the app's method lists and its capability checks
are read from here; adding a backend is one class and one ``add`` line.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, Iterator, TypeVar

from .errors import ParameterError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """One registered backend."""

    name: str
    target: str                    # "module:attribute" of the factory
    summary: str = ""
    generative: bool = False       # makes new content from a learned generative model
    needs_gpu: bool = False        # impractically slow without a GPU
    model: str | None = None       # vidext.models name of the weights it loads (None: none)


class Registry(Generic[T]):
    """Maps backend names to factories; unknown names raise a clear error."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._loaded: dict[str, Callable[..., T]] = {}

    def add(self, name: str, target: str, summary: str = "", *, generative: bool = False,
            needs_gpu: bool | None = None, model: str | None = None) -> None:
        """Register ``target`` ("module:attribute") under ``name``; generative implies ``needs_gpu``."""
        self._entries[name] = Entry(name, target, summary, generative,
                                    generative if needs_gpu is None else needs_gpu, model)

    def names(self) -> list[str]:
        return list(self._entries)

    def entry(self, name: str) -> Entry:
        """The entry of ``name``; an unknown name raises :class:`ParameterError` listing the choices."""
        try:
            raw = self._entries[name]
        except (KeyError, TypeError):
            raise ParameterError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self._entries)}") from None
        # tests register stand-ins as plain ("module:attr", summary) tuples
        return raw if isinstance(raw, Entry) else Entry(name, *raw)

    def entries(self) -> list[Entry]:
        return [self.entry(n) for n in self._entries]

    def summary(self, name: str) -> str:
        return self.entry(name).summary

    def is_generative(self, name: str) -> bool:
        """Whether ``name`` is a registered generative backend (False for unknown names)."""
        return name in self._entries and self.entry(name).generative

    def generative(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries() if e.generative)

    def learned(self) -> dict[str, str]:
        """Backend name → the :mod:`vidext.models` weights it loads."""
        return {e.name: e.model for e in self.entries() if e.model}

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def get(self, name: str) -> Callable[..., T]:
        entry = self.entry(name)
        if name not in self._loaded:
            import importlib

            module, _, attr = entry.target.partition(":")
            self._loaded[name] = getattr(importlib.import_module(module), attr)
        return self._loaded[name]

    def create(self, name: str, *args, **kwargs) -> T:
        return self.get(name)(*args, **kwargs)


# --- every registry, and what the front ends derive from them ------------------------------------

def registries() -> dict[str, Registry]:
    """Every backend registry by the job option that picks from it (imports only the registries)."""
    from .evaluation import METRICS
    from .extension import EXTENDERS
    from .interpolation import INTERPOLATORS
    from .sound.continuation import CONTINUATIONS
    from .sound.stretch import STRETCHERS

    return {"interpolate.model": INTERPOLATORS, "extend.method": EXTENDERS, "audio.method": CONTINUATIONS,
            "audio.stretcher": STRETCHERS, "evaluate.metrics": METRICS}


def learned_methods() -> dict[str, str]:
    """Interpolation backends that load weights → their :mod:`vidext.models` name (``{"rife": "rife-4.25"}``)."""
    from .interpolation import INTERPOLATORS

    return INTERPOLATORS.learned()


def generative_methods() -> dict[str, str]:
    """Generative extend and audio methods → their :mod:`vidext.models` name (svd, ltx, musicgen)."""
    from .extension import EXTENDERS
    from .sound.continuation import CONTINUATIONS

    return {e.name: e.model for reg in (EXTENDERS, CONTINUATIONS) for e in reg.entries() if e.generative}


def classical_methods(registry: Registry) -> tuple[str, ...]:
    """The names of ``registry`` that are neither generative nor learned (no weights, no GPU)."""
    return tuple(e.name for e in registry.entries() if not e.generative and not e.model)
