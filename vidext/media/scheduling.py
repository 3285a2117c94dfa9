"""Opening an encoder leaves the threads' CPU scheduling as it was.

SVT-AV1 (``libsvtav1``, vidext's AV1 encoder) switches the thread that opens it to real-time
scheduling, ``SCHED_FIFO`` at priority 99, wherever the process is allowed to (root in a container,
or CAP_SYS_NICE), and never switches it back; the encoder's own threads, created from that thread,
are real-time too.  On Linux a thread inherits its creator's scheduling, so every thread the opener
starts afterwards is real-time as well: in the web app the opener is a worker thread of the job
pool, reused by every later job.  A real-time thread is never preempted by a normal one, and
real-time threads of one priority take no turns: a job thread running Python then kept the
interpreter lock and a CPU for about a second at a time while Gradio's event loop (which sends the
progress line) and the browser's renderer waited.  Measured in the test process after the
conformance tests (one AV1 input among them is enough): 13 of its 18 threads ``SCHED_FIFO``, and the
event loop sent no progress for 1.28 s of the audio tab's 1.3 s job; with the encoder opened through
:func:`open_encoder`, every thread ``SCHED_OTHER`` and that job's progress sent every 0.27 s at most.

Where the process may not raise its priority (an ordinary user) the encoder's switch fails and it
runs at normal priority, as it does here once put back: this is the setting the encoder is used in
almost everywhere.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger(__name__)

_TASKS = "/proc/self/task"
#: the policies that preempt normal threads (SCHED_FIFO, SCHED_RR)
REALTIME = frozenset(getattr(os, name) for name in ("SCHED_FIFO", "SCHED_RR") if hasattr(os, name))


def _supported() -> bool:
    return hasattr(os, "sched_getscheduler") and os.path.isdir(_TASKS)


def threads() -> set[int]:
    """The ids of this process's threads (Linux), empty where they cannot be listed."""
    try:
        return {int(t) for t in os.listdir(_TASKS)}
    except OSError:
        return set()


def policy(tid: int = 0) -> tuple[int, int] | None:
    """(policy, priority) of thread ``tid`` (0: the calling thread); None once it is gone."""
    try:
        return os.sched_getscheduler(tid), os.sched_getparam(tid).sched_priority
    except OSError:
        return None


@contextmanager
def kept_scheduling() -> Iterator[None]:
    """The calling thread's scheduling put back after the block, and every thread the block started
    that came out real-time (while the caller was not) given the caller's scheduling."""
    if not _supported():
        yield
        return
    before = policy()
    known = threads()
    try:
        yield
    finally:
        if before is not None:
            _restore(before, known)


def _restore(before: tuple[int, int], known: set[int]) -> None:
    mode, priority = before
    param = os.sched_param(priority)
    put_back = []
    if policy() != before:
        put_back.append(0)
    if mode not in REALTIME:
        put_back += [t for t in threads() - known if (p := policy(t)) is not None and p[0] in REALTIME]
    for tid in put_back:
        try:
            os.sched_setscheduler(tid, mode, param)
        except OSError as exc:      # a thread that ended meanwhile; lowering one's own priority is allowed
            log.debug("scheduling of thread %s not put back: %s", tid or "(this one)", exc)
    if put_back:
        log.debug("encoder threads put back to scheduling policy %d: %d", mode, len(put_back))


def open_encoder(codec_context) -> None:
    """Open ``codec_context`` (PyAV's), leaving the threads' scheduling as it was (:func:`kept_scheduling`)."""
    with kept_scheduling():
        codec_context.open()
