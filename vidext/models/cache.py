"""Loaded models kept per process, and one lock that serialises GPU work.

The app's queue runs jobs on worker threads; a model is loaded once and
shared, and every GPU section runs under :func:`gpu_section` so that two jobs
never fight over one GPU's memory.  CPU work is not serialised here.
"""
from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from typing import Callable, Hashable, Iterator, TypeVar

from .. import config

T = TypeVar("T")

_GPU_LOCK = threading.RLock()


def gpu_lock() -> threading.RLock:
    """The process-wide lock held while a model runs on a GPU (re-entrant)."""
    return _GPU_LOCK


@contextlib.contextmanager
def gpu_section(device) -> Iterator[None]:
    """Hold the GPU lock for the block when ``device`` is a CUDA device; no-op otherwise."""
    if getattr(device, "type", str(device).split(":")[0]) == "cuda":
        with _GPU_LOCK:
            yield
    else:
        yield


class ModelCache:
    """A small LRU of loaded models, keyed by whatever identifies a load.

    Concurrent requests for the same key load it once (the others wait);
    different keys load in parallel.  Beyond ``capacity`` the least recently
    used model is dropped (and CUDA's cached blocks released).
    """

    def __init__(self, capacity: int | None = None):
        self._capacity = capacity
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[Hashable, threading.Lock] = {}

    @property
    def capacity(self) -> int:
        """The size given, else ``VIDEXT_MODEL_CACHE_SIZE`` read now (config is read when used)."""
        return config.model_cache_size() if self._capacity is None else self._capacity

    @capacity.setter
    def capacity(self, value: int | None) -> None:
        self._capacity = value

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]  # type: ignore[return-value]
            value = load()
            with self._lock:
                self._items[key] = value
                self._items.move_to_end(key)
                evicted = []
                while len(self._items) > self.capacity:
                    evicted.append(self._items.popitem(last=False))
                self._loading.pop(key, None)
        if evicted:
            del evicted
            _release_cuda()
        return value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
        _release_cuda()


def _release_cuda() -> None:
    import sys

    torch = sys.modules.get("torch")  # only if something already imported it
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


MODEL_CACHE = ModelCache()   # capacity from VIDEXT_MODEL_CACHE_SIZE, read when used


def cached(key: Hashable, load: Callable[[], T]) -> T:
    """``load()`` once per process for ``key`` (see :class:`ModelCache`)."""
    return MODEL_CACHE.get(key, load)
