"""How a job's memory is reused: freed buffers stay in the process for the next frame.

A job allocates the same large buffers again for every frame (decoded pictures,
flow fields, a network's activations: 100 MB for one RIFE input at 720p).
glibc's ``malloc`` hands a freed block over its mmap threshold (128 kB, rising
with use to at most 32 MB) back to the kernel (``munmap``), and trims the heap's
free top, so the next frame faults every page of it in again, zeroed: 0.3–0.8
million page faults and 1.2–2.6 s of kernel time in one 125-frame RIFE run at
640×272, 1.7–2.3 million and 5–7 s in a 41-frame one at 1280×720 (2 cores,
``/usr/bin/time -v``).  One RIFE pass at 640×272, one thread, took 161–198 ms
with the faults and 140–152 ms without (model card, issue 17).

:func:`reuse_freed_memory` asks glibc to keep what is freed: every block from
the one heap (no ``mmap`` for large blocks, one arena for every thread, since a
thread's own arena would ``mmap`` whatever exceeds its 64 MB heaps) and no
trimming below :data:`HEAP_TRIM_MAX`.  The peak barely moves (the same
buffers, reused instead of refaulted: RIFE's peaks fell 1–6 %, a 720p classical
``quality`` job's rose 6 %); what stays resident after a job is given
back by :func:`give_back_freed_memory`, which :func:`job_heap` calls when the
last running job ends (a server's memory falls back between jobs).  Only the
process entry points call :func:`reuse_freed_memory` (``vidext`` CLI, ``vidext
serve`` / ``app.py``); the Docker image sets the same through ``GLIBC_TUNABLES``.

Other C libraries (musl, macOS) are left as they are.  ``VIDEXT_HEAP=system``
keeps glibc's defaults too.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import logging
import threading
from typing import Iterator

from .. import config

# Freed memory kept for reuse during a job: glibc trims the heap's free top
# only past this many bytes (mallopt's int limit), and the job gives the rest back when it ends.
HEAP_TRIM_MAX = 2**31 - 1


log = logging.getLogger(__name__)

# (mallopt parameter from glibc's malloc.h, the same setting's tunable name, value)
_SETTINGS = ((-4, "mmap_max", 0),                           # M_MMAP_MAX: no mmap for large blocks
             (-8, "arena_max", 1),                          # M_ARENA_MAX: one arena for every thread
             (-1, "trim_threshold", HEAP_TRIM_MAX))  # M_TRIM_THRESHOLD

#: the same settings for another process, read by glibc at its start (``GLIBC_TUNABLES=...``):
#: what ``bench/rife.py --anchor-reused-heap`` gives the plain script
TUNABLES = ":".join(f"glibc.malloc.{name}={value}" for _, name, value in _SETTINGS)

_lock = threading.Lock()
_state = {"set": None, "jobs": 0}    # set: None (not tried), True (glibc told), False (left as is)


@functools.cache
def _glibc():
    """The process's glibc, or None (another C library, or no ``mallopt``/``malloc_trim``)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ctypes.CDLL(None).gnu_get_libc_version      # glibc's own symbol: musl has mallopt as a stub
    except (OSError, AttributeError):
        return None
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):
        return None
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    libc.malloc_trim.argtypes = (ctypes.c_size_t,)
    return libc


def reuse_freed_memory() -> bool:
    """Keep freed blocks for reuse (see the module's text); True when glibc took the settings.

    Idempotent and cheap after the first call.  Best called before the process
    starts its threads (the CLI does so first): a thread that already has an
    arena of its own keeps it.
    """
    with _lock:
        if _state["set"] is None:
            _state["set"] = _apply()
        return _state["set"]


def _apply() -> bool:
    if config.heap_mode() == "system":
        return False
    libc = _glibc()
    if libc is None:
        return False
    done = all(libc.mallopt(param, value) == 1 for param, _, value in _SETTINGS)
    if not done:
        log.debug("glibc refused a malloc setting; its defaults stay")
    return done


def give_back_freed_memory() -> None:
    """Return the freed pages to the kernel (``malloc_trim``); nothing where the heap was not changed."""
    if _state["set"]:
        libc = _glibc()
        if libc is not None:
            libc.malloc_trim(0)


@contextlib.contextmanager
def job_heap() -> Iterator[None]:
    """Around one job: what the heap kept is given back when the last job running ends.

    It changes no allocator setting: that is the process's choice, made once at its entry point
    (the CLI, the server, the Docker image's ``GLIBC_TUNABLES``), never a side effect of a
    library call such as :func:`vidext.interpolate` in someone else's process.
    """
    with _lock:
        _state["jobs"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["jobs"] -= 1
            last = _state["jobs"] == 0
        if last:
            give_back_freed_memory()
