"""The one place where work overlaps: decode → compute → encode on threads.

Bounded queues keep memory flat for any clip length; a stop event ends every
stage; the first worker error is re-raised in the caller; threads are always
drained and joined.  FFmpeg (decode/encode) and OpenCV release the GIL, so
the stages really run at the same time.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, TypeVar

from ..errors import Cancelled

QUEUE_DEPTH = 8                 # frames buffered between decode, compute, encode
PROGRESS_INTERVAL_S = 0.25      # minimum time between progress callbacks

T = TypeVar("T")
U = TypeVar("U")

_END = object()


@dataclass(frozen=True)
class Progress:
    """A progress report: what is done, of how much, how fast, how long to go."""

    done: int
    total: int | None
    rate: float          # items per second so far
    elapsed: float       # seconds
    eta: float | None    # seconds left, when the total is known
    stage: str = ""

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None


ProgressCallback = Callable[[Progress], None]


class ProgressMeter:
    """Turns item counts into throttled :class:`Progress` callbacks."""

    def __init__(self, total: int | None, callback: ProgressCallback | None, stage: str = ""):
        self.total, self.callback, self.stage = total, callback, stage
        self.start = time.perf_counter()
        self.done = 0
        self._last = 0.0

    def advance(self, n: int = 1, force: bool = False) -> None:
        self.done += n
        if self.callback is None:
            return
        now = time.perf_counter()
        if force or now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            elapsed = now - self.start
            rate = self.done / elapsed if elapsed > 0 else 0.0
            eta = (self.total - self.done) / rate if (self.total and rate > 0) else None
            total = max(self.total, self.done) if self.total else None
            self.callback(Progress(self.done, total, rate, elapsed, eta, self.stage))

    def finish(self) -> None:
        if self.total is not None:
            self.total = self.done
        self.advance(0, force=True)


def cores() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def codec_threads(compute_threads: int | None) -> int:
    """Threads for each codec (decoder, encoder) beside a compute stage using ``compute_threads``.

    The budget: compute keeps the threads it measured fastest with, the
    codecs get the cores left and at least one each, never FFmpeg's default
    (about cores + 1 frame threads per codec, which preempt the compute's
    threads: a stalled OpenMP thread stalls the whole parallel region).
    ``None`` (the compute does not say): 0, FFmpeg's own choice.
    """
    if compute_threads is None:
        return 0
    return max(1, cores() - compute_threads)


def ordered_map(fn: Callable[[T], U], items: Iterable[T], workers: int,
                stop: threading.Event | None = None) -> Iterator[U]:
    """``fn(x) for x in items``, up to ``workers`` calls at once, results in the items' order.

    For a compute stage whose items are independent (the in-between pictures of
    different input pairs): at most ``workers + 1`` items are in flight (one
    waits ready while the caller takes a result), so memory stays flat; the
    first error is re-raised here, in the caller's thread; on any exit (done,
    error, ``stop``, the consumer closing the generator) the calls not started
    are cancelled and the pool is joined.  ``workers`` ≤ 1: a plain loop on the
    caller's thread, no pool.
    """
    if workers <= 1:
        for item in items:
            if stop is not None and stop.is_set():
                raise Cancelled("the job was cancelled")
            yield fn(item)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    pending: deque = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vidext-pair")
    try:
        for item in items:
            if stop is not None and stop.is_set():
                raise Cancelled("the job was cancelled")
            pending.append(pool.submit(fn, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True)


class _Stage(threading.Thread):
    def __init__(self, name: str, target: Callable[[], None], errors: list, stop: threading.Event):
        super().__init__(name=f"vidext-{name}", daemon=True)
        self._work, self._errors, self._halt = target, errors, stop

    def run(self) -> None:
        try:
            self._work()
        except BaseException as exc:  # handed to the caller, never swallowed
            self._errors.append(exc)
            self._halt.set()


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _get(q: queue.Queue, stop: threading.Event):
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                return _END


def run_pipeline(source: Iterable[T], compute: Callable[[Iterator[T]], Iterable[U]],
                 sink: Callable[[U], None], *, stop: threading.Event | None = None,
                 depth: int = QUEUE_DEPTH) -> None:
    """Run ``sink(x) for x in compute(iter(source))`` with the three stages on threads.

    ``compute`` receives an iterator of source items and yields results (so it
    may keep state across items, e.g. the previous frame).  ``stop`` cancels
    the job: every stage ends promptly and :class:`Cancelled` is raised.
    """
    stop = stop or threading.Event()
    halt = threading.Event()          # internal: any stage failed or finished early
    errors: list[BaseException] = []
    q_in: queue.Queue = queue.Queue(maxsize=depth)
    q_out: queue.Queue = queue.Queue(maxsize=depth)

    class _Either:  # "stop or halt", passed where an Event is expected
        def is_set(self) -> bool:
            return stop.is_set() or halt.is_set()

    either = _Either()

    def read() -> None:
        try:
            for item in source:
                if not _put(q_in, item, either):
                    return
        finally:
            _put(q_in, _END, either)

    def items() -> Iterator[T]:
        while True:
            item = _get(q_in, either)
            if item is _END:
                return
            yield item

    def work() -> None:
        try:
            for result in compute(items()):
                if not _put(q_out, result, either):
                    return
        finally:
            _put(q_out, _END, either)

    stages = [_Stage("decode", read, errors, halt), _Stage("compute", work, errors, halt)]
    for s in stages:
        s.start()
    try:
        while True:
            item = _get(q_out, either)
            if item is _END:
                break
            sink(item)
    except BaseException:
        halt.set()
        raise
    finally:
        halt.set()  # done, failed or cancelled: every stage winds down now
        for s in stages:
            while s.is_alive():
                s.join(timeout=0.1)
                # unblock a producer waiting on a full queue
                for q in (q_in, q_out):
                    try:
                        q.get_nowait()
                    except queue.Empty:
                        pass
    if errors:
        raise errors[0]
    if stop.is_set():
        raise Cancelled("the job was cancelled")
