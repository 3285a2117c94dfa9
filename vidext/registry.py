"""One registry idiom for every kind of backend: name → factory, with what the front ends need to know.

Interpolators, extenders, audio stretchers and continuations, metrics and
held-out methods each have one :class:`Registry`.  An entry names its factory
by import path (optional, heavy backends cost nothing until asked for) and
carries its metadata: a one-line summary, whether it is generative, whether
it needs a GPU to be practical, the :mod:`vidext.models` weights it loads
and, for a preset of a backend, the options its factory is called with.
The CLI's choices, the app's method lists and its capability checks are read
from the registries by the front ends (top-down: this module knows none of
them); adding a backend is one class and one ``add`` line.

Every registry, the weights' one (:data:`vidext.models.MODELS`) included, is
a :class:`Catalogue`: names in the order added, ``entry(name)`` with its
metadata (an unknown name raises :class:`ParameterError` listing the
choices), ``entries()``, ``summary(name)``, ``name in``, iteration.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterator, Mapping, TypeVar

from .errors import ParameterError

T = TypeVar("T")
E = TypeVar("E")


@dataclass(frozen=True)
class Entry:
    """One registered backend."""

    name: str
    target: str                    # "module:attribute" of the factory
    summary: str = ""
    generative: bool = False       # makes new content from a learned generative model
    needs_gpu: bool = False        # impractically slow without a GPU
    model: str | None = None       # vidext.models name of the weights it loads (None: none)
    options: tuple[tuple[str, Any], ...] = ()   # keyword arguments the factory is called with (a preset)


class Catalogue(Generic[E]):
    """Names → entries of one kind, in the order added; unknown names raise a clear error."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, E] = {}

    def _table(self) -> Mapping[str, Any]:
        """Name → stored entry: what every lookup reads (a registry that shows another's entries widens it)."""
        return self._entries

    def names(self) -> list[str]:
        return list(self._table())

    def entry(self, name: str) -> E:
        """The entry of ``name``; an unknown name raises :class:`ParameterError` listing the choices."""
        table = self._table()
        try:
            return table[name]
        except (KeyError, TypeError):
            raise ParameterError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(table)}") from None

    def entries(self) -> list[E]:
        return [self.entry(n) for n in self._table()]

    def summary(self, name: str) -> str:
        return self.entry(name).summary

    def __contains__(self, name) -> bool:
        return name in self._table()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._table())


class Registry(Catalogue[Entry], Generic[T]):
    """Maps backend names to factories, each :class:`Entry` with its metadata."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self._loaded: dict[str, Callable[..., T]] = {}

    def add(self, name: str, target: str, summary: str = "", *, generative: bool = False,
            needs_gpu: bool | None = None, model: str | None = None,
            options: Mapping[str, Any] | None = None) -> None:
        """Register ``target`` ("module:attribute") under ``name``; generative implies ``needs_gpu``.

        ``options`` are keyword arguments the factory is always called with
        (``options={"quality": "fast"}``: a preset of a backend under its own name).
        """
        self._entries[name] = Entry(name, target, summary, generative,
                                    generative if needs_gpu is None else needs_gpu, model,
                                    tuple((options or {}).items()))

    def remove(self, name: str) -> None:
        """Unregister ``name``, added here by :meth:`add` (a plug-in's entry, a test's stand-in)."""
        if name not in self._entries:
            raise ParameterError(f"no {self.kind} {name!r} was added here; added: {', '.join(self._entries)}")
        del self._entries[name]
        self._loaded.pop(name, None)

    def is_generative(self, name: str) -> bool:
        """Whether ``name`` is a registered generative backend (False for unknown names)."""
        return name in self and self.entry(name).generative

    def generative(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries() if e.generative)

    def classical(self) -> tuple[str, ...]:
        """The names that are neither generative nor learned (no weights, no GPU)."""
        return tuple(e.name for e in self.entries() if not e.generative and not e.model)

    def learned(self) -> dict[str, str]:
        """Backend name → the :mod:`vidext.models` weights it loads."""
        return {e.name: e.model for e in self.entries() if e.model}

    def get(self, name: str) -> Callable[..., T]:
        entry = self.entry(name)
        if name not in self._loaded:
            import importlib

            module, _, attr = entry.target.partition(":")
            self._loaded[name] = getattr(importlib.import_module(module), attr)
        return self._loaded[name]

    def create(self, name: str, *args, **kwargs) -> T:
        """A new backend: the factory of ``name`` called with its entry's options, then ``kwargs``."""
        return self.get(name)(*args, **{**dict(self.entry(name).options), **kwargs})
