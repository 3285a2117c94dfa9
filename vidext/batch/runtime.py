"""Ray: start or join a runtime, one worker actor per GPU (or CPU), tasks handed out as workers free up.

A worker is a long-lived actor, so a model is loaded once per worker (the
process-wide model cache keeps it) and not once per chunk.  A worker killed
mid-task is restarted by Ray and its task run again
(``BATCH_MAX_RETRIES``).  Workers report frame counts to a small
progress-board actor that the driver reads while it waits.
"""
from __future__ import annotations

import importlib
import os
import resource
import uuid
from dataclasses import dataclass, field
from typing import Callable

from ..errors import Cancelled, DependencyError, ParameterError

BATCH_MAX_RETRIES = 3               # times Ray restarts a killed worker and reruns its task
BATCH_POLL_S = 0.5                  # how often the driver reads the workers' progress


def _ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")   # no usage report is ever sent
    try:
        import ray
    except ImportError as exc:
        raise DependencyError("vidext batch runs on Ray: pip install ray==2.60.0") from exc
    return ray


def connect(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Join the cluster at ``address``, or start a local runtime on this machine.

    The local runtime has no dashboard and sends nothing anywhere.  Returns
    whether this call started the connection (and so must shut it down);
    an already connected process (a test, a notebook) keeps its runtime.
    """
    if address and address.rsplit(":", 1)[0].strip("[]") in ("127.0.0.1", "localhost", "::1"):
        # a head on this machine by its loopback address: Ray would rewrite the address to the
        # machine's main one (which the head may not listen on) unless told the cluster is this machine
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = _ray()
    if ray.is_initialized():
        return False
    common = {"log_to_driver": False, "configure_logging": False}
    try:
        if address:
            ray.init(address=address, **common)
        else:
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False,
                     _node_ip_address="127.0.0.1", **common)
    except ConnectionError as exc:
        raise ParameterError(f"cannot join the Ray cluster at {address}: {exc}") from exc
    return True


def shutdown() -> None:
    _ray().shutdown()


class Worker:
    """One job at a time in a long-lived process (a Ray actor)."""

    def __init__(self, board: str):
        import cv2
        import ray

        from ..media.heap import reuse_freed_memory

        reuse_freed_memory()    # this worker process's entry point: its jobs reuse freed frame buffers
        self.board = ray.get_actor(board)   # by name: a restarted worker finds it again
        # OpenCV's own thread pool takes every core by default: keep to this worker's share
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
        if cpus:
            cv2.setNumThreads(max(1, int(cpus)))

    def pid(self) -> int:
        return os.getpid()

    def run(self, task: dict) -> dict:
        from .manifest import sha256

        pid = os.getpid()

        def report(p) -> None:
            self.board.report.remote(task["id"], pid, p.done, p.total)

        self.board.report.remote(task["id"], pid, 0, None)
        # the task names the job function it runs ("module:function"): this runtime knows no job
        module, _, attr = task["call"].partition(":")
        call = getattr(importlib.import_module(module), attr)
        extra = {"span": task["span"]} if task.get("span") is not None else {}
        result = call(task["input"], task["output"], progress=report, **task["options"], **extra)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux
        return {"id": task["id"], "frames": result.frames_out, "seconds": result.seconds, "pid": pid,
                "peak_rss_mb": round(peak, 1), "audio": result.audio, "sha256": sha256(task["output"]),
                "details": result.details}


class Board:
    """Where workers post ``(pid, frames done, frames total)`` per task."""

    def __init__(self):
        self.state: dict = {}

    def report(self, task_id: str, pid: int, done: int, total) -> None:
        self.state[task_id] = (pid, done, total)

    def read(self) -> dict:
        return dict(self.state)


@dataclass
class Pool:
    """What the cluster gives a job: how many workers, with which resources each."""

    workers: int
    resources: dict = field(default_factory=dict)
    device: str = "cpu"


def plan_pool(learned: bool, limit: int | None = None, tasks: int | None = None) -> Pool:
    """One worker per GPU for learned models when the cluster has GPUs, else one per CPU."""
    ray = _ray()
    res = ray.cluster_resources()
    gpus, cpus = int(res.get("GPU", 0)), max(1, int(res.get("CPU", 1)))
    if learned and gpus:
        pool = Pool(gpus, {"num_gpus": 1, "num_cpus": 1}, "cuda")
    else:
        pool = Pool(cpus, {"num_cpus": 1}, "cpu")
    if limit is not None:
        if limit < 1:
            raise ParameterError(f"workers must be at least 1, got {limit}")
        pool.workers = min(pool.workers, limit)
    if tasks is not None:
        pool.workers = max(1, min(pool.workers, tasks))
    if pool.device == "cpu":   # fewer workers than CPUs: each takes its share (within one node)
        per_node = max(int(n.get("Resources", {}).get("CPU", 1)) for n in ray.nodes() if n.get("Alive"))
        pool.resources["num_cpus"] = max(1, min(per_node, cpus // pool.workers))
    return pool


@dataclass
class Outcome:
    task: dict
    result: dict | None = None
    error: BaseException | None = None


def run_tasks(tasks: list[dict], pool: Pool, *, on_done: Callable[[Outcome], None],
              on_poll: Callable[[dict], None] | None = None, stop=None) -> None:
    """Run every task on ``pool.workers`` actors; ``on_done`` for each as it finishes.

    A task's own error (bad input) is handed to ``on_done``, not raised: the
    other files go on.  ``on_poll`` receives the board (task id → (pid, done,
    total)) every ``BATCH_POLL_S``.  ``stop`` cancels: workers are
    killed and :class:`Cancelled` raised.
    """
    ray = _ray()
    name = f"vidext-board-{uuid.uuid4().hex}"
    board = ray.remote(num_cpus=0)(Board).options(name=name).remote()
    actor = ray.remote(max_restarts=BATCH_MAX_RETRIES,
                       max_task_retries=BATCH_MAX_RETRIES)(Worker)
    workers = [actor.options(**pool.resources).remote(name) for _ in range(pool.workers)]
    pending = list(tasks)
    inflight: dict = {}
    idle = list(workers)
    try:
        while pending or inflight:
            while idle and pending:
                w, t = idle.pop(), pending.pop(0)
                inflight[w.run.remote(t)] = (t, w)
            ready, rest = ray.wait(list(inflight), num_returns=1, timeout=BATCH_POLL_S)
            if ready and rest:   # every other one finished meanwhile too, without waiting
                ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
            for ref in ready:
                t, w = inflight.pop(ref)
                try:
                    on_done(Outcome(t, result=ray.get(ref)))
                except ray.exceptions.RayTaskError as exc:   # the job's own error, as raised in the worker
                    cause = getattr(exc, "cause", None)
                    on_done(Outcome(t, error=cause if isinstance(cause, BaseException) else exc))
                except ray.exceptions.RayActorError as exc:   # retries used up
                    on_done(Outcome(t, error=exc))
                    w = actor.options(**pool.resources).remote(name)
                    workers.append(w)
                idle.append(w)
            if on_poll is not None:
                on_poll(ray.get(board.read.remote()))
            if stop is not None and stop.is_set():
                raise Cancelled("the batch was cancelled")
    finally:
        for w in workers + [board]:
            ray.kill(w)

