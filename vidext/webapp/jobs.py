"""Jobs of the web app: one folder each, a stop event, progress relayed, files swept.

A job writes only inside its own folder under the app's work root.  A failed
or cancelled job removes its folder at once; a finished one is kept for the
user to download and swept after ``APP_FILE_MAX_AGE_S``.  Cancellation from
Gradio (the Cancel button, ``Job.cancel()`` in gradio_client, a closed tab)
arrives as the cancellation of the event's coroutine; :func:`run_cancellable`
turns it into the ``stop`` event the vidext pipeline obeys, and waits for the
pipeline to wind down and clean up before it reports back.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import config
from ..config import Limits
from ..errors import Cancelled
from ..limits import check_upload, check_video
from ..media.probe import MediaInfo, probe
from ..media.runner import Progress
from ..media.scheduling import kept_scheduling
from ..security import allowed_file, upload_root

log = logging.getLogger(__name__)
_JOB_PREFIX = "job-"


def default_root() -> str:
    return config.APP_WORKDIR or os.path.join(tempfile.gettempdir(), "vidext-app")


@dataclass
class Job:
    """One request's folder and stop event."""

    folder: str
    stop: threading.Event = field(default_factory=threading.Event)

    def path(self, name: str) -> str:
        """A file inside the job folder (``name`` is ours, never user text)."""
        if os.path.basename(name) != name or name.startswith("."):
            raise ValueError(f"not a plain file name: {name!r}")
        return os.path.join(self.folder, name)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def confine(self, outcome):
        """``outcome`` (``.output``, ``.playable``, ``.page``, ``.files``), every file checked to lie in this job's folder.

        The paths become real paths; a file outside the folder (a bug, or a
        link planted in the folder) is refused and the job folder removed.
        """
        try:
            for name in ("output", "playable", "page"):
                path = getattr(outcome, name, None)
                if path:
                    setattr(outcome, name, allowed_file(path, [self.folder]))
            outcome.files = [allowed_file(p, [self.folder]) for p in outcome.files]
        except Exception:
            self.discard()
            raise
        return outcome


class Workspace:
    """The app's work root: creates job folders and sweeps old ones."""

    def __init__(self, root: str | None = None, max_age_s: float | None = None):
        self.root = os.path.abspath(root or default_root())
        self.max_age_s = config.APP_FILE_MAX_AGE_S if max_age_s is None else max_age_s
        os.makedirs(self.root, exist_ok=True)
        self._timer: threading.Thread | None = None
        self._halt = threading.Event()

    def roots(self) -> list[str]:
        """The folders a request may name files in: Gradio's uploads and this work root."""
        return [upload_root(), self.root]

    def admit(self, path: str) -> str:
        """The real path of a file a request names, if the app received or made it; else PathRefused."""
        return allowed_file(path, self.roots())

    def new_job(self) -> Job:
        return Job(tempfile.mkdtemp(prefix=_JOB_PREFIX, dir=self.root))

    def jobs(self) -> list[str]:
        return sorted(os.path.join(self.root, n) for n in os.listdir(self.root) if n.startswith(_JOB_PREFIX))

    def sweep(self, now: float | None = None) -> int:
        """Remove job folders older than ``max_age_s``; returns how many went."""
        now = time.time() if now is None else now
        removed = 0
        for folder in self.jobs():
            try:
                age = now - os.stat(folder).st_mtime
            except FileNotFoundError:
                continue
            if age > self.max_age_s:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    def start_sweeper(self, interval_s: float | None = None) -> None:
        """Sweep every ``interval_s`` seconds on a daemon thread until :meth:`stop_sweeper`."""
        interval_s = config.APP_SWEEP_INTERVAL_S if interval_s is None else interval_s
        if self._timer is not None:
            return

        def loop() -> None:
            while not self._halt.wait(interval_s):
                try:
                    n = self.sweep()
                except OSError as exc:  # a sweep that fails is retried next time
                    log.warning("vidext app: sweeping %s failed: %s", self.root, exc)
                    continue
                if n:
                    log.info("vidext app: removed %d old job folder(s)", n)

        self._timer = threading.Thread(target=loop, name="vidext-sweeper", daemon=True)
        self._timer.start()

    def stop_sweeper(self) -> None:
        self._halt.set()
        if self._timer is not None:
            self._timer.join(timeout=5)
            self._timer = None


def gradio_cache_schedule() -> tuple[int, int]:
    """``delete_cache`` for gr.Blocks: (every, older than) in seconds."""
    return int(config.APP_SWEEP_INTERVAL_S), int(config.APP_FILE_MAX_AGE_S)


class ProgressRelay:
    """A vidext ProgressCallback that drives a ``gr.Progress``-like callable, and keeps what the job
    measured for the live quality view.

    The bar is the whole job's share done (every stage: measuring, rendering, the playable copy ...)
    and its line what a person reads (:meth:`vidext.media.runner.Progress.line`: the job's share first and
    named, since Gradio's own percentage after the line is hidden, :data:`vidext.webapp.ui.common.JS`).  The pipeline
    reports from its own worker threads, which do not carry the event's context; the relay keeps
    the context it was created in (inside the event) and reports through a copy of it.  ``points``
    gathers every :class:`~vidext.media.runner.Point` (``version`` counts the reports that brought
    some); ``started`` is when the person's wait began (the click, when known).
    """

    def __init__(self, target: Callable[..., Any] | None, desc: str = "", started: float | None = None):
        self.target, self.desc = target, desc
        self.started = time.time() if started is None else started
        self._ctx = contextvars.copy_context()
        self._lock = threading.Lock()
        self.last: Progress | None = None
        self.points: list = []
        self.version = 0

    @property
    def waited(self) -> float:
        """Seconds since the wait began."""
        return time.time() - self.started

    def __call__(self, p: Progress) -> None:
        self.last = p
        if p.points:
            with self._lock:
                self.points.extend(p.points)
                self.version += 1
        if self.target is None:
            return
        text = p.line() if (p.label or p.stage) else f"{self.desc}: {p.line()}"
        share = p.bar
        with self._lock:
            self._ctx.copy().run(self.target, share, desc=text, unit="frames")


async def run_cancellable(job: Job, fn: Callable[..., Any], /, *args, **kwargs) -> Any:
    """Run ``fn(*args, stop=job.stop, **kwargs)`` on a worker thread (its CPU scheduling as it was
    after the job: :func:`vidext.media.scheduling.kept_scheduling`).

    If the awaiting task is cancelled, the job's stop event is set, the worker
    is awaited until the pipeline has wound down, the job folder is removed,
    and the cancellation propagates.  A failure also removes the folder.
    """
    ctx = contextvars.copy_context()
    loop = asyncio.get_running_loop()

    def work():
        # the pool's thread goes back as the job found it: one a library left real-time (as SVT-AV1
        # does the thread that opens it) would keep the CPU from the event loop in every later job
        with kept_scheduling():
            return ctx.run(fn, *args, stop=job.stop, **kwargs)

    future = loop.run_in_executor(None, work)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        job.stop.set()
        try:
            await _finish(future)
        finally:
            job.discard()
        raise
    except BaseException:
        job.discard()
        raise


async def _finish(future) -> None:
    """Wait for a stopped worker, even if this task is cancelled again meanwhile."""
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            continue
        except (Cancelled, Exception):  # the worker's own error is moot: the caller cancelled
            return


def check_input(path: str | None, limits: Limits | None = None, *, need_video: bool = True,
                roots: list[str] | None = None) -> MediaInfo:
    """Upload size, then the probe's limits; raises VidextError subclasses.

    With ``roots``, a path outside those folders is refused (PathRefused) before it is opened.
    """
    from ..errors import InputError

    if not path:
        raise InputError("no file given: upload a clip first")
    if roots is not None:
        path = allowed_file(path, roots)
    limits = limits or Limits.from_env()
    check_upload(path, limits)
    info = probe(path)
    if need_video:
        check_video(info, limits)
    elif info.video is None and not info.audio:
        raise InputError(f"{os.path.basename(path)} has neither video nor audio")
    return info
