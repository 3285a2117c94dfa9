"""The one place where work overlaps: decode → compute → encode on threads.

Bounded queues keep memory flat for any clip length; a stop event ends every
stage; the first worker error is re-raised in the caller; threads are always
drained and joined.  FFmpeg (decode/encode) and OpenCV release the GIL, so
the stages really run at the same time.

Progress is reported here too: a :class:`ProgressMeter` counts one stage's
items (with a warm-up before any rate), a :class:`JobProgress` puts a job's
named stages (measuring, rendering, the playable copy ...) on one bar with
one time left, and both carry the evidence a job measures as it goes
(:class:`Point`).
"""
from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator, TypeVar

from ..errors import Cancelled

QUEUE_DEPTH = 8                 # frames buffered between decode, compute, encode
PROGRESS_INTERVAL_S = 0.25      # minimum time between progress callbacks


T = TypeVar("T")
U = TypeVar("U")

_END = object()


# --- progress ----------------------------------------------------------------------------------
# A stage's speed is measured after a warm-up: its first WARMUP_ITEMS items and its first WARMUP_S
# seconds (models load, caches and queues fill, the encoder buffers its look-ahead) are left out, and a
# time left is given only once ESTIMATE_MIN_ITEMS items over ESTIMATE_MIN_S seconds were measured after
# it: "estimating…" before (the first rate, 1 frame over a slow start, once read "783 s left" for 31 s).
WARMUP_S = 1.5
WARMUP_ITEMS = 2
ESTIMATE_MIN_ITEMS = 3
ESTIMATE_MIN_S = 1.0
# The rate is measured over the last RATE_WINDOW_S seconds (or since the warm-up, when shorter): a
# machine that gets busier or quieter mid-stage (another job starts or ends) is followed within seconds.
RATE_WINDOW_S = 6.0
ESTIMATING_QUIET_S = 2.0      # "estimating…" says how long the stage has run once it runs this long
HEARTBEAT_S = 1.0             # while a stage runs, a job reports at least this often (the time left counts down)
SERIES_MAX_POINTS = 4000      # per kind, points a job keeps for its result; past it, every other one goes
STAGE_OPEN_MAX = 0.98         # share of its bar a stage shows until it has ended (counted ≠ finished)
SPEED_MIN_S = 0.5             # a stage shorter than this leaves no speed for later jobs' estimates


@dataclass(frozen=True)
class Point:
    """One piece of evidence a job measured while it ran: ``y`` at ``x`` in the series ``kind``.

    ``x`` is seconds from the clip's first frame (interpolate, evaluate) or the candidate's place in
    the order they were measured (extend); ``y`` is None for a mark (a cut, a duplicate)."""

    x: float
    y: float | None
    kind: str


@dataclass(frozen=True)
class StageInfo:
    """One stage of a job as a report sees it."""

    name: str
    label: str
    state: str          # waiting | running | paused | done | skipped
    seconds: float      # wall seconds spent in it so far


@dataclass(frozen=True)
class Progress:
    """A progress report: what is done, of how much, how fast, how long to go.

    ``done``/``total``/``rate``/``eta`` are the current stage's (items in ``unit``, ``scale`` items
    per unit: the audio job counts tenths of a second); ``rate`` is measured after the stage's
    warm-up (0 before) and ``eta`` is None until then ("estimating…").  The ``job_*`` fields cover
    every stage of the job (:class:`JobProgress`): ``job_fraction`` of the bar, ``job_eta`` the time
    left for all of it (None while any part is unknown), ``then`` the stages to come whose time is not
    known yet.  ``points`` are the evidence measured since the last report (:class:`Point`).
    """

    done: int
    total: int | None
    rate: float          # items per second, measured after the warm-up (0 before)
    elapsed: float       # seconds
    eta: float | None    # seconds left in this stage, when the total is known and the rate measured
    stage: str = ""
    unit: str = "frames"
    scale: int = 1
    points: tuple = ()
    label: str = ""                    # the stage in words
    job_fraction: float | None = None
    job_elapsed: float | None = None
    job_eta: float | None = None
    then: tuple = ()                   # labels of stages still to come without an estimate
    stages: tuple = ()                 # StageInfo of every stage of the job
    finishing: float | None = None     # seconds since the stage counted its last item (it is closing)

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None

    @property
    def bar(self) -> float | None:
        """The share of the whole bar: the job's when known, else the stage's."""
        return self.job_fraction if self.job_fraction is not None else self.fraction

    def counts(self) -> str:
        """``120/240 frames``, ``3.2/10.0 s of sound``: the stage's count in its unit."""
        if self.scale != 1:
            done = f"{self.done / self.scale:.1f}"
            total = f"/{self.total / self.scale:.1f}" if self.total else ""
        else:
            done, total = f"{self.done}", (f"/{self.total}" if self.total else "")
        return f"{done}{total} {self.unit}".strip()

    def time_left(self) -> str:
        """``16 s left``, ``12 s left, then: playable copy``, ``estimating…``, ``finishing…``."""
        then = f", then: {', '.join(self.then)}" if self.then else ""
        closing = "finishing…"
        if self.finishing is not None and self.finishing >= ESTIMATING_QUIET_S / 2:
            closing = f"finishing… ({duration_words(self.finishing)})"     # still closing: it says so
        if self.job_eta is not None and not self.then:
            return closing if self.job_eta < 0.5 else f"{duration_words(self.job_eta)} left"
        if self.eta is not None:
            left = closing if self.eta < 0.5 else f"{duration_words(self.eta)} left"
            return left + then
        if self.total is None:          # nothing to count: how long it has run says it is alive
            return f"{duration_words(self.elapsed)} so far" + then
        if self.elapsed >= ESTIMATING_QUIET_S:
            return f"estimating… ({duration_words(self.elapsed)} so far)" + then
        return "estimating…" + then

    def share_words(self) -> str:
        """``54% of the job``: the whole job's share done (every stage: measuring, rendering, the copy
        ...), the figure the CLI's bar shows; "" when only a stage's own share is known, or at the end.
        Rounded down: 100% is said only by the job's end."""
        if self.job_fraction is None or (self.job_eta == 0 and self.job_fraction == 1.0):
            return ""
        return f"{int(min(1.0, max(0.0, self.job_fraction)) * 100 + 1e-9)}% of the job"

    def line(self) -> str:
        """The app's progress line: the job's share first and named, then :meth:`words` (the stage, its
        count, the time left, what comes next): ``54% of the job · measuring the methods on your clip ·
        5/9 test frames · estimating… (3 s so far), then: rendering``."""
        return " · ".join(w for w in (self.share_words(), self.words()) if w)

    def words(self) -> str:
        """The one line a person reads: the stage, its count, the time left (CLI and app alike)."""
        name = self.label or self.stage
        if self.job_eta == 0 and self.job_fraction == 1.0 and self.job_elapsed is not None:
            took = self.job_elapsed
            return f"done in {took:.1f} s" if took < 10 else f"done in {duration_words(took)}"
        parts = [name] if name else []
        if self.done or self.total:
            parts.append(self.counts())
        parts.append(self.time_left())
        return " · ".join(parts)


def stage_split(stages) -> str:
    """``measuring 3.1 s · rendering 8.0 s · playable copy 1.2 s``: where a finished job's time went
    (:attr:`Progress.stages`, or the sidecar's ``timings["stages"]`` as ``{name: seconds}``)."""
    if isinstance(stages, dict):
        items = list(stages.items())
    else:
        items = [(s.label or s.name, s.seconds) for s in stages if s.state == "done"]
    return " · ".join(f"{name} {seconds:.1f} s" for name, seconds in items if seconds >= 0.05)


def duration_words(seconds: float) -> str:
    """``8 s``, ``1 min 05 s``, ``1 h 02 min``: a time a person reads."""
    s = max(0, int(round(seconds)))
    if s < 90:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


ProgressCallback = Callable[[Progress], None]


class ProgressMeter:
    """Turns item counts into throttled :class:`Progress` callbacks, with a warm-up before any rate.

    ``point`` queues evidence for the next report (any thread); ``phase(name)`` says that work of
    another stage runs inside this one (extend chooses its method between frames) until
    ``phase(None)``.
    """

    def __init__(self, total: int | None, callback: ProgressCallback | None, stage: str = "", *,
                 unit: str = "frames", scale: int = 1):
        self.total, self.callback, self.stage = total, callback, stage
        self.unit, self.scale = unit, scale
        self.start = time.perf_counter()
        self.done = 0
        self._last = 0.0
        self._from: tuple[float, int] = (self.start, 0)  # (time, done) where the warm-up began
        self._mark: tuple[float, int] | None = None    # (time, done) where the warm-up ended
        self._recent: deque[tuple[float, int]] = deque()  # (time, done) since the warm-up, the window's
        self._points: list[Point] = []
        self._lock = threading.Lock()
        self._phase: str | None = None

    def advance(self, n: int = 1, force: bool = False) -> None:
        self.done += n
        now = time.perf_counter()
        if self._mark is None and self.done - self._from[1] >= WARMUP_ITEMS and now - self._from[0] >= WARMUP_S:
            self._mark = (now, self.done)
        if self._mark is not None and n:
            self._recent.append((now, self.done))
            while len(self._recent) > 2 and now - self._recent[1][0] >= RATE_WINDOW_S:
                self._recent.popleft()
        if self.callback is None:
            return
        if force or now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            self.callback(self.snapshot(now))

    def rate(self, now: float | None = None) -> float | None:
        """Items per second over the last :data:`RATE_WINDOW_S` after the warm-up; None until enough
        of them were measured."""
        if self._mark is None:
            return None
        now = time.perf_counter() if now is None else now
        t, d = self._mark
        if self.done - d < ESTIMATE_MIN_ITEMS or now - t < ESTIMATE_MIN_S:
            return None
        if self._recent and now - self._recent[0][0] >= ESTIMATE_MIN_S and self.done - self._recent[0][1] >= 1:
            t, d = self._recent[0]
        return (self.done - d) / (now - t)

    def point(self, x: float, y: float | None, kind: str) -> None:
        """Evidence for the series ``kind``; sent with the next report (see :class:`Point`)."""
        if self.callback is None:
            return
        with self._lock:
            self._points.append(Point(float(x), None if y is None else float(y), kind))

    def phase(self, name: str | None) -> None:
        """Work of stage ``name`` runs now inside this one (None: this stage's own again, warming up
        anew: the time the other work took is no measure of this one's speed)."""
        self._phase = name
        if name is None:
            self._from, self._mark = (time.perf_counter(), self.done), None
            self._recent.clear()
        self.advance(0, force=True)

    def snapshot(self, now: float | None = None) -> Progress:
        now = time.perf_counter() if now is None else now
        rate = self.rate(now)
        total = max(self.total, self.done) if self.total else None
        eta = (total - self.done) / rate if (total is not None and rate) else None
        with self._lock:
            points, self._points = tuple(self._points), []
        return Progress(self.done, total, rate or 0.0, now - self.start, eta, self._phase or self.stage,
                        self.unit, self.scale, points)

    def finish(self) -> None:
        if self.total is not None:
            self.total = self.done
        self._phase = None
        self.advance(0, force=True)


@dataclass(frozen=True)
class Stage:
    """One named step of a job and its share of the bar.

    ``weight``: its share (relative to the other stages').  ``total``: items it will count, when
    known before it starts; with ``key`` its speed (``work`` per item, e.g. megapixels per frame)
    is remembered when it ends, and a later job's stage of the same key is estimated from it
    before it starts (the playable copy's cost ∝ its frames at the encode rate measured).
    """

    name: str
    label: str
    weight: float = 1.0
    total: int | None = None
    work: float = 1.0
    key: str | None = None


class _Run:
    """A stage while the job runs."""

    def __init__(self, stage: Stage):
        self.stage = stage
        self.state = "waiting"
        self.seconds = 0.0
        self.since: float | None = None
        self.last: Progress | None = None       # its own work's last report
        self.last_at = 0.0
        self.phases = 0                          # a stage that runs inside another: times it ended
        self.full_at: float | None = None        # when its work counted its last item

    def fraction(self) -> float:
        """Its share done: 1 once ended, else at most :data:`STAGE_OPEN_MAX` (its last items counted,
        it may still be finishing: the bar never reads 100 % while a stage runs)."""
        if self.state == "done":
            return 1.0
        p = self.last
        if p is not None and p.job_fraction is not None:      # a job nested in this stage
            f = p.job_fraction
        elif self.stage.total and self.phases:                # a stage that runs inside another
            f = self.phases / self.stage.total
        else:
            f = p.fraction if p is not None and p.fraction is not None else 0.0
        return min(f, STAGE_OPEN_MAX)

    def spent(self, now: float) -> float:
        return self.seconds + (now - self.since if self.state == "running" and self.since is not None else 0.0)


class StageSink:
    """The progress callback of one stage of a :class:`JobProgress` (what :meth:`JobProgress.enter` returns)."""

    def __init__(self, job: "JobProgress", name: str):
        self.job, self.name = job, name

    def __call__(self, p: Progress) -> None:
        self.job._report(self.name, p)


class JobProgress:
    """One job's progress: named stages with their shares of the bar, each stage's own counts and
    warm-up (:class:`ProgressMeter`), the time left over all of them, the wall time of each.

    The job says which stage runs (:meth:`enter`: the one before it is done) and hands the stage's
    callback to the code doing the work, which reports through a :class:`ProgressMeter` as before;
    every report reaching ``callback`` is the job's (``job_fraction``, ``job_eta``, ``then``,
    ``stages``).  While a stage runs and reports nothing, the last report is sent again every
    :data:`HEARTBEAT_S` with its time left counted down.  Stages never entered are skipped by
    :meth:`finish`, which returns the timings.  A job run inside a stage of another (the app's
    evaluate and its report page) reports as that stage.  Points (evidence) pass through and are
    kept, thinned past :data:`SERIES_MAX_POINTS` per kind, for the result (:meth:`series`).
    """

    speeds: dict[str, float] = {}       # stage key → work per second, measured by the last job that ran it
    _speeds_lock = threading.Lock()

    def __init__(self, callback: ProgressCallback | None, stages: Iterable[Stage], *,
                 heartbeat_s: float | None = HEARTBEAT_S):
        self.callback = callback
        self.t0 = time.perf_counter()
        self.runs = {s.name: _Run(s) for s in stages}
        self.current: str | None = None
        self._series: dict[str, list[list]] = {}
        self._lock = threading.RLock()
        self._sent_at = 0.0
        self._bar = 0.0
        self._nested = isinstance(callback, StageSink)
        self._halt = threading.Event()
        self._beat: threading.Thread | None = None
        self._errors: list[BaseException] = []
        self._heartbeat_s = None if (callback is None or self._nested) else heartbeat_s
        self.finished: dict | None = None

    # -- the job's side ----------------------------------------------------------------------
    def plan(self, stages: Iterable[Stage]) -> None:
        """The job's stages, once it knows them (its clock runs from its start, checks included)."""
        with self._lock:
            self.runs = {s.name: _Run(s) for s in stages}

    def enter(self, name: str, total: int | None = None, define: Stage | None = None) -> StageSink:
        """Stage ``name`` starts now (the running one is done); returns its progress callback.

        ``total``: its items, when the job knows them only now; ``define``: the stage, when the job
        did not plan it (found needed as it ran)."""
        with self._lock:
            if name not in self.runs and define is not None:
                self.runs[name] = _Run(define)
            run = self.runs[name]
            if total is not None:
                run.stage = Stage(**{**run.stage.__dict__, "total": total})
            now = time.perf_counter()
            if self.current is not None and self.current != name:
                self._end(self.runs[self.current], now)
            for r in self.runs.values():   # a stage run inside the one ending ends with it
                if r.state == "paused" and r is not run:
                    self._end(r, now)
            self._start(run, now)
        self._send(run.last or Progress(0, run.stage.total, 0.0, 0.0, None, name), force=True)
        if self._heartbeat_s and self._beat is None:
            self._beat = threading.Thread(target=self._heartbeat, name="vidext-progress", daemon=True)
            self._beat.start()
        return StageSink(self, name)

    def skip(self, name: str) -> None:
        with self._lock:
            run = self.runs[name]
            if run.state == "waiting":
                run.state = "skipped"

    def finish(self) -> dict:
        """The job is over: the running stage done, stages never entered skipped; the timings
        (``seconds`` the whole job took, ``stages``: each stage's seconds)."""
        self._stop_heartbeat()
        with self._lock:
            now = time.perf_counter()
            for r in self.runs.values():
                if r.state in ("running", "paused"):
                    self._end(r, now)
                elif r.state == "waiting":
                    r.state = "skipped"
            self.current = None
            self.finished = {"seconds": round(now - self.t0, 3),
                             "stages": {n: round(r.seconds, 3) for n, r in self.runs.items() if r.state == "done"}}
        if self.callback is not None:
            self._send(None, force=True)
        if self._errors:
            raise self._errors[0]
        return self.finished

    def timings(self) -> dict:
        """The job's wall time so far and each stage's seconds (those begun): what a sidecar written
        before the job ends records."""
        with self._lock:
            now = time.perf_counter()
            return {"seconds": round(now - self.t0, 3),
                    "stages": {n: round(r.spent(now), 3) for n, r in self.runs.items()
                               if r.state in ("running", "paused", "done")}}

    def close(self) -> None:
        """Stops the heartbeat (a failed or cancelled job); :meth:`finish` does it for a finished one."""
        self._stop_heartbeat()

    def __enter__(self) -> "JobProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def series(self) -> dict[str, list[list]]:
        """Every point the job's stages measured, by kind: ``{kind: [[x, y], ...]}`` in x order."""
        with self._lock:
            return {k: sorted(v, key=lambda xy: xy[0]) for k, v in self._series.items()}

    # -- the work's side ---------------------------------------------------------------------
    def _report(self, name: str, p: Progress) -> None:
        with self._lock:
            now = time.perf_counter()
            run = self.runs[name]
            nested = p.job_fraction is not None
            inner = p.stage if (not nested and p.stage in self.runs and p.stage != name) else None
            if inner is not None:                   # work of another stage runs inside this one
                if self.current != inner:
                    self._pause(run, now)
                    self._start(self.runs[inner], now)
                phase = self.runs[inner]
                # its counts are this stage's: the phase says only what runs and for how long
                phase.last, phase.last_at = Progress(0, None, 0.0, phase.spent(now), None, inner), now
                run.last = replace(p, stage=run.last.stage if run.last is not None else "", points=())
                shown = replace(phase.last, points=p.points)
            else:
                if self.current != name and self.current is not None and run.state == "paused":
                    phase = self.runs[self.current]       # the work inside it ended: back to this stage
                    phase.phases += 1
                    if phase.stage.total and phase.phases >= phase.stage.total:
                        self._end(phase, now)
                    else:
                        self._pause(phase, now)
                    self._start(run, now)
                run.last, run.last_at = p, now
                if p.total and p.done >= p.total and run.full_at is None:
                    run.full_at = now
                shown = p
            self._keep(p.points)
        self._send(shown, force=False)

    def _start(self, run: _Run, now: float) -> None:
        run.state, run.since = "running", now
        self.current = run.stage.name

    def _pause(self, run: _Run, now: float) -> None:
        if run.state == "running":
            run.seconds += now - run.since
        run.state = "paused"

    def _end(self, run: _Run, now: float) -> None:
        if run.state == "running":
            run.seconds += now - run.since
        run.state = "done"
        s = run.stage
        count = run.last.done if run.last is not None and run.last.stage == s.name else s.total
        if s.key and count and run.seconds >= SPEED_MIN_S:
            with self._speeds_lock:
                JobProgress.speeds[s.key] = count * s.work / run.seconds

    def _keep(self, points) -> None:
        for pt in points:
            kept = self._series.setdefault(pt.kind, [])
            kept.append([round(pt.x, 4), None if pt.y is None else round(pt.y, 5)])
            if len(kept) > SERIES_MAX_POINTS:
                del kept[1::2]

    def _estimate(self, run: _Run) -> float | None:
        s = run.stage
        with self._speeds_lock:
            speed = JobProgress.speeds.get(s.key) if s.key else None
        return s.total * s.work / speed if (speed and s.total) else None

    def _compose(self, p: Progress | None, now: float) -> Progress:
        """The report ``callback`` receives: the stage's own, with the job's figures."""
        runs = [r for r in self.runs.values() if r.state != "skipped"]
        weight = sum(r.stage.weight for r in runs) or 1.0
        bar = sum(r.stage.weight * r.fraction() for r in runs) / weight
        self._bar = bar = max(self._bar, min(1.0, bar))        # the bar never goes back
        left, known, then = 0.0, True, []
        for r in runs:
            if r.state == "done":
                continue
            if r.state == "waiting":
                est = self._estimate(r)
                if est is None:
                    then.append(r.stage.label)
                else:
                    left += est
                continue
            last = r.last
            if last is not None and last.job_fraction is not None:      # a nested job's own estimate
                eta = last.job_eta
            else:
                eta = last.eta if last is not None else None
            if eta is None:
                known = False
                continue
            if r.state == "running":
                eta = max(0.0, eta - (now - r.last_at))
            left += eta
        cur = self.runs.get(self.current) if self.current else None
        p = p or (cur.last if cur is not None else None) or Progress(0, None, 0.0, 0.0, None)
        stage = cur.stage if cur is not None else None
        nested = p.job_fraction is not None
        label = "done" if self.finished is not None else (
            (p.label if nested and p.label not in ("", "done") else stage.label) if stage is not None else p.label)
        stage_eta = p.job_eta if nested else p.eta
        if stage_eta is not None and cur is not None and cur.state == "running":
            stage_eta = max(0.0, stage_eta - (now - cur.last_at))
        elapsed = cur.spent(now) if cur is not None else p.elapsed
        finishing = now - cur.full_at if cur is not None and cur.full_at is not None else None
        infos = []
        for r in self.runs.values():
            if r.last is not None and r.last.job_fraction is not None and r.last.stages:
                infos += r.last.stages          # a job nested in this stage: its own stages
            else:
                infos.append(StageInfo(r.stage.name, r.stage.label, r.state, round(r.spent(now), 3)))
        infos = tuple(infos)
        name = "done" if self.finished is not None else (stage.name if stage is not None else p.stage)
        return replace(p, stage=name, label=label, eta=stage_eta,
                       elapsed=elapsed, finishing=finishing, job_fraction=1.0 if self.finished is not None else bar, job_elapsed=now - self.t0,
                       job_eta=(0.0 if self.finished is not None else (left if known and not then else None)),
                       then=tuple(then) if self.finished is None else (), stages=infos)

    def _send(self, p: Progress | None, force: bool) -> None:
        if self.callback is None:
            return
        with self._lock:
            now = time.perf_counter()
            report = self._compose(p, now)
            self._sent_at = now
            self.callback(report)

    def _heartbeat(self) -> None:
        try:
            while not self._halt.wait(self._heartbeat_s / 4):
                if time.perf_counter() - self._sent_at >= self._heartbeat_s and self.current is not None:
                    cur = self.runs[self.current]
                    last = cur.last
                    self._send(replace(last, points=()) if last is not None else None, force=True)
        except BaseException as exc:  # handed to the caller by finish(), never swallowed
            self._errors.append(exc)

    def _stop_heartbeat(self) -> None:
        self._halt.set()
        if self._beat is not None:
            self._beat.join()
            self._beat = None


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
