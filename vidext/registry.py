"""A tiny name → factory registry, one instance per kind of backend."""
from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from .errors import ParameterError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps backend names to factories; unknown names raise a clear error.

    Factories are registered by import path so that optional, heavy backends
    (torch, diffusers) cost nothing until they are asked for.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, tuple[str, str]] = {}
        self._loaded: dict[str, Callable[..., T]] = {}

    def add(self, name: str, target: str, summary: str = "") -> None:
        """Register ``target`` ("module:attribute") under ``name``."""
        self._entries[name] = (target, summary)

    def names(self) -> list[str]:
        return list(self._entries)

    def summary(self, name: str) -> str:
        return self._entries[name][1]

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def get(self, name: str) -> Callable[..., T]:
        if name not in self._entries:
            raise ParameterError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self._entries)}")
        if name not in self._loaded:
            import importlib

            module, _, attr = self._entries[name][0].partition(":")
            self._loaded[name] = getattr(importlib.import_module(module), attr)
        return self._loaded[name]

    def create(self, name: str, *args, **kwargs) -> T:
        return self.get(name)(*args, **kwargs)
