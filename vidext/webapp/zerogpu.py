"""ZeroGPU support: GPU jobs run under ``spaces.GPU(duration=...)`` on a ZeroGPU Space.

On a ZeroGPU Space (``SPACES_ZERO_GPU`` set) a GPU function runs in a worker
process that holds a GPU for at most its ``duration``; its arguments travel
by pickling, so the stop event and the progress callback stay behind (the
duration bounds the job instead).  Everywhere else the function is called
as it is, with cancellation and progress.
"""
from __future__ import annotations

import functools
import os
from typing import Callable

from .. import config


def on_zerogpu() -> bool:
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true", "yes")


def prepare() -> None:
    """On ZeroGPU, import ``spaces`` before anything imports torch (it patches CUDA init)."""
    if on_zerogpu():
        import spaces  # noqa: F401


@functools.lru_cache(maxsize=None)
def _gpu_version(fn: Callable, duration: int) -> Callable:
    import spaces

    return spaces.GPU(duration=duration)(fn)


def dispatcher(kind: str, fn: Callable, needs_gpu: Callable[..., bool]) -> Callable:
    """``fn`` itself, or on ZeroGPU a function that sends GPU jobs to ``spaces.GPU``.

    ``needs_gpu(**kwargs)`` decides per call (a classical job never takes the
    GPU quota).  Call this at start-up: ZeroGPU wants its functions decorated
    before the app launches.
    """
    if not on_zerogpu():
        return fn
    gpu_fn = _gpu_version(fn, int(config.APP_ZEROGPU_DURATION_S.get(kind, 120)))

    @functools.wraps(fn)
    def call(*args, progress=None, stop=None, **kwargs):
        if needs_gpu(**kwargs):
            return gpu_fn(*args, **kwargs)
        return fn(*args, progress=progress, stop=stop, **kwargs)

    return call
