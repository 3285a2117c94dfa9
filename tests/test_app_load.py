"""The web app under load and under attack, on 127.0.0.1 through gradio_client.

* 8 concurrent jobs (/interpolate and /extend mixed) all finish with the
  right output, each checked against its own input;
* jobs that may use the GPU share one concurrency group of size 1: read from
  the Blocks, and observed with in-flight counters around the handlers (no
  clock is asserted on);
* a full queue is refused with a message naming the queue's size, and the
  server goes on;
* a request naming a file the app did not receive or make is refused with a
  one-line message, and the server goes on;
* Gradio's cache (uploads, cached results) is cleaned on the app's schedule.

Every wait is bounded in count and time.
"""
from __future__ import annotations

import functools
import json
import os
import re
import threading
import urllib.error
import urllib.request
import uuid

import pytest

from apphelpers import fps_duration, running_app, wait_until

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402
from gradio_client.utils import QueueError  # noqa: E402

from vidext import config  # noqa: E402
from vidext.media.synth import make_clip  # noqa: E402
from vidext.security import PathRefused, upload_root  # noqa: E402
from vidext.webapp import capabilities as caps  # noqa: E402
from vidext.webapp.ui.common import APP_CPU_CONCURRENCY_ID, APP_GPU_CONCURRENCY_ID  # noqa: E402

FPS = 12
JOB_TIMEOUT_S = 120     # the longest any one request may take here
CPU_SLOTS = 2           # concurrency of the CPU group in the load server
GPU_PEER_WAIT_S = 0.4   # how long each GPU job looks out for a second one running beside it


class Gauge:
    """Counts the calls of wrapped handlers in flight, and the most at once.

    A call entering waits (at most ``peer_wait_s``) until ``want`` calls have
    been in flight together, so an overlap the queue allows is seen however
    fast the jobs are, and one it forbids has a window to show up in.
    """

    def __init__(self, want: int, peer_wait_s: float):
        self.want, self.peer_wait_s = want, peer_wait_s
        self.cond = threading.Condition()
        self.now = self.peak = self.calls = 0

    def wrap(self, fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            with self.cond:
                self.now += 1
                self.calls += 1
                self.peak = max(self.peak, self.now)
                self.cond.notify_all()
                self.cond.wait_for(lambda: self.peak >= self.want, timeout=self.peer_wait_s)
            try:
                return fn(*args, **kwargs)
            finally:
                with self.cond:
                    self.now -= 1
        return run


def _fake_gpu(mp):
    """A GPU and RIFE's weights "at hand": Interpolate and Evaluate join the GPU group (jobs still run DIS)."""
    mp.setattr(caps, "gpu", lambda: caps.Feature("gpu", True, "test GPU"))
    mp.setattr(caps, "weights", lambda model: caps.Feature(model, model == "rife-4.25"))


@pytest.fixture(scope="module")
def gauges():
    return {"gpu": Gauge(want=2, peer_wait_s=GPU_PEER_WAIT_S), "cpu": Gauge(want=CPU_SLOTS, peer_wait_s=30)}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, gauges):
    """The app with a (pretend) GPU group and two CPU slots; handlers counted."""
    with running_app(tmp_path_factory.mktemp("load"), settings={"APP_CPU_CONCURRENCY": CPU_SLOTS},
                     handlers={"run_interpolate": gauges["gpu"].wrap, "run_evaluate": gauges["gpu"].wrap,
                               "run_extend": gauges["cpu"].wrap},
                     patch=_fake_gpu) as srv:
        yield srv


def _events(demo) -> dict:
    return {fn.api_name: fn for fn in demo.fns.values() if fn.api_name}


def test_gpu_events_share_one_slot(loaded):
    ev = _events(loaded["demo"])
    gpu = {name for name, fn in ev.items() if fn.concurrency_id == APP_GPU_CONCURRENCY_ID}
    # the API events and the page's own Run events of the same tabs
    assert gpu == {"interpolate", "evaluate", "interpolate_ui", "evaluate_ui"}
    assert all(ev[name].concurrency_limit == 1 for name in gpu)
    assert ev["extend"].concurrency_id == APP_CPU_CONCURRENCY_ID
    assert ev["extend"].concurrency_limit == CPU_SLOTS


def test_eight_concurrent_jobs_complete_correctly(loaded, gauges, tmp_path):
    """4 × /interpolate (GPU group) and 4 × /extend (CPU group) at once; each output checked against its input."""
    client = loaded["client"]
    plans = []
    for i in range(8):
        frames = 4 + i  # every job has its own length: a mixed-up result would show
        src = make_clip(str(tmp_path / f"job {i}.mp4"), frames=frames, fps=FPS, width=64, height=48,
                        tone_hz=None, seed=i)
        if i % 2 == 0:
            job = client.submit(handle_file(src), 2, api_name="/interpolate")
            want = (2 * FPS, 2 * frames, frames / FPS)
        else:
            method, direction, sides = [("loop", "forward", 1), ("seamless", "backward", 1),
                                        ("pingpong", "both", 2), ("motion", "forward", 1)][i // 2]
            job = client.submit(handle_file(src), seconds=0.5, direction=direction, method=method,
                                api_name="/extend")
            want = (FPS, frames + sides * FPS // 2, frames / FPS + sides * 0.5)
        plans.append((f"job {i}", job, want))
    for name, job, (fps, frames, duration) in plans:
        download, _watch, details = job.result(timeout=JOB_TIMEOUT_S)
        assert os.path.basename(download).startswith("job_"), name
        got_fps, got_duration, got_frames = fps_duration(download)
        assert (got_fps, got_frames) == (fps, frames), name
        assert abs(got_duration - duration) < 1e-3, name
        assert isinstance(details, dict)
    # every job ran once; at most one on the GPU group, and the CPU group did run two side by side
    assert gauges["gpu"].calls == 4 and gauges["cpu"].calls == 4
    assert gauges["gpu"].peak == 1
    assert gauges["cpu"].peak == CPU_SLOTS
    assert loaded["workspace"].jobs(), "finished jobs keep their folders for download"


def test_gpu_jobs_are_serialised_across_endpoints(loaded, gauges, tmp_path):
    """/interpolate and /evaluate submitted together never run at the same time."""
    client = loaded["client"]
    src = make_clip(str(tmp_path / "e.mp4"), frames=6, fps=FPS, width=64, height=48, tone_hz=None)
    before = gauges["gpu"].calls
    jobs = [client.submit(handle_file(src), 2, api_name="/interpolate"),
            client.submit(handle_file(src), methods=["blend"], factor=2, api_name="/evaluate"),
            client.submit(handle_file(src), 3, api_name="/interpolate")]
    results = [j.result(timeout=JOB_TIMEOUT_S) for j in jobs]
    assert fps_duration(results[0][0])[2] == 12 and fps_duration(results[2][0])[2] == 18
    with open(results[1][0], encoding="utf-8") as f:
        assert "blend" in json.dumps(json.load(f))
    assert gauges["gpu"].calls == before + 3
    assert gauges["gpu"].peak == 1


# --- files the app did not receive or make --------------------------------------------------------------
def _file_data(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    assert text and "\n" not in text and "Traceback" not in text, text
    assert "root:" not in text and "PATH=" not in text, text
    return text


@pytest.mark.parametrize("path", ["/etc/passwd", "/etc/../etc/passwd", "/proc/self/environ"])
def test_paths_outside_are_refused(loaded, path):
    with pytest.raises(Exception) as err:  # Gradio's own file checks come first
        loaded["client"].predict(_file_data(path), 2, api_name="/interpolate")
    _one_line(err.value)


@pytest.fixture
def planted_link():
    """A link planted inside Gradio's upload folder that leads to /etc/passwd (Gradio lets it through)."""
    folder = os.path.join(upload_root(), f"vidext-test-{uuid.uuid4().hex}")
    os.makedirs(folder)
    link = os.path.join(folder, "passwd.mp4")
    os.symlink("/etc/passwd", link)
    try:
        yield link
    finally:
        os.unlink(link)
        os.rmdir(folder)


@pytest.mark.parametrize("api_name", ["/interpolate", "/extend"])
def test_link_out_of_the_upload_folder_is_refused(loaded, planted_link, api_name):
    before = set(loaded["workspace"].jobs())
    with pytest.raises(AppError) as err:
        if api_name == "/interpolate":
            loaded["client"].predict(_file_data(planted_link), 2, api_name=api_name)
        else:
            loaded["client"].predict(_file_data(planted_link), seconds=1, api_name=api_name)
    text = _one_line(err.value)
    # Gradio 6 copies the link's target into its cache before the app sees it: the app then gets a
    # regular file of its cache, which is no video (the request reads nothing back either way)
    assert re.fullmatch(r"passwd\.mp4 is outside the folders this server reads from"
                        r"|cannot read passwd\.mp4 as media: .*", text), text
    assert set(loaded["workspace"].jobs()) == before, "no job folder for a refused request"


def test_app_events_refuse_paths_outside(tmp_path, planted_link):
    """The app's own check, whatever Gradio let through: every job event refuses files it did not receive."""
    import asyncio

    import app
    import gradio as gr

    from vidext.webapp.jobs import Workspace

    ws = Workspace(str(tmp_path / "w"))
    events = _events(app.build_demo(ws))
    inside = make_clip(os.path.join(ws.root, "in.mp4"), frames=4, fps=FPS, width=64, height=48, tone_hz=None)
    calls = [("interpolate", dict(video="/etc/passwd"), "passwd is outside the folders"),
             ("interpolate", dict(video=planted_link), "passwd.mp4 is outside the folders"),
             ("interpolate", dict(video=os.path.join(ws.root, "..", "x.mp4")), "may not contain '..'"),
             ("interpolate", dict(video=str(tmp_path / "elsewhere.mp4")), "elsewhere.mp4 is outside the folders"),
             ("extend", dict(video="/proc/self/environ"), "environ is outside the folders"),
             ("evaluate", dict(video="/dev/zero"), "zero is outside the folders"),
             ("audio", dict(media="/etc/passwd"), "passwd is outside the folders"),
             ("audio", dict(media=inside, audio_file="/etc/shadow"), "shadow is outside the folders")]
    for name, kwargs, want in calls:
        with pytest.raises(gr.Error) as err:
            asyncio.run(events[name].fn(**kwargs))
        assert want in err.value.message, (name, kwargs, err.value.message)
    assert ws.jobs() == [], "no job folder for a refused request"


def test_server_still_answers_after_refusals(loaded, tmp_path):
    src = make_clip(str(tmp_path / "after.mp4"), frames=5, fps=FPS, width=64, height=48, tone_hz=None)
    download, _, _ = loaded["client"].predict(handle_file(src), 2, api_name="/interpolate")
    assert fps_duration(download)[2] == 10
    with urllib.request.urlopen(loaded["url"], timeout=10) as r:
        assert r.status == 200


def test_job_returns_only_files_of_its_folder(tmp_path):
    from vidext.webapp.handlers import Outcome
    from vidext.webapp.jobs import Workspace

    ws = Workspace(str(tmp_path / "w"))
    job = ws.new_job()
    with open(job.path("out.mp4"), "wb") as f:
        f.write(b"x")
    out = job.confine(Outcome(job.path("out.mp4"), {}, files=[job.path("out.mp4")]))
    assert out.output == os.path.realpath(job.path("out.mp4"))
    other = ws.new_job()
    with open(other.path("theirs.mp4"), "wb") as f:
        f.write(b"x")
    for bad in ("/etc/passwd", other.path("theirs.mp4")):
        with pytest.raises(PathRefused, match="outside the folders"):
            job.confine(Outcome(bad, {}))
        job = ws.new_job()
    with pytest.raises(PathRefused, match=r"'\.\.'"):
        job.confine(Outcome(job.folder + "/../" + os.path.basename(other.folder) + "/theirs.mp4", {}))
    assert os.path.exists(other.path("theirs.mp4"))


# --- a full queue -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_queue(tmp_path_factory):
    """The app with one CPU slot and room for one waiting job; /extend jobs wait for ``release``."""
    release = threading.Event()
    running = Gauge(want=1, peer_wait_s=0)

    def held(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            release.wait(timeout=JOB_TIMEOUT_S)
            return fn(*args, **kwargs)
        return running.wrap(run)

    with running_app(tmp_path_factory.mktemp("tiny"), settings={"APP_QUEUE_MAX_SIZE": 1, "APP_CPU_CONCURRENCY": 1},
                     handlers={"run_extend": held}) as srv:
        srv.update(release=release, running=running)
        try:
            yield srv
        finally:
            release.set()


def test_full_queue_answers_clearly(tiny_queue, tmp_path):
    srv, client = tiny_queue, tiny_queue["client"]
    queue = srv["demo"]._queue
    src = make_clip(str(tmp_path / "q.mp4"), frames=4, fps=FPS, width=64, height=48, tone_hz=None)
    first = client.submit(handle_file(src), seconds=0.5, method="loop", api_name="/extend")
    assert wait_until(lambda: srv["running"].now == 1, JOB_TIMEOUT_S), "the first job never started"
    second = client.submit(handle_file(src), seconds=0.5, method="loop", api_name="/extend")
    assert wait_until(lambda: len(queue) == 1, JOB_TIMEOUT_S), "the second job never queued"
    # a third: gradio_client's answer, and the server's own (it names the size)
    with pytest.raises(QueueError, match="Queue is full"):
        client.predict(handle_file(src), seconds=0.5, method="loop", api_name="/extend")
    fn_index = next(i for i, fn in srv["demo"].fns.items() if fn.api_name == "extend")
    body = json.dumps({"data": [None] * 10, "fn_index": fn_index, "session_hash": "loadtest"}).encode()
    req = urllib.request.Request(srv["url"].rstrip("/") + "/gradio_api/queue/join", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 503
    assert "Queue is full. Max size is 1" in err.value.read().decode()
    # the jobs let through finish; the queue takes work again
    srv["release"].set()
    for job in (first, second):
        download, _, _ = job.result(timeout=JOB_TIMEOUT_S)
        assert fps_duration(download)[2] == 10
    download, _, _ = client.predict(handle_file(src), seconds=1, method="loop", api_name="/extend")
    assert fps_duration(download)[2] == 16
    assert srv["running"].calls == 3 and srv["running"].peak == 1


# --- Gradio's cache ---------------------------------------------------------------------------------------
def test_cache_schedule_follows_the_config(tmp_path):
    pytest.importorskip("gradio")
    import app
    from vidext.webapp.jobs import Workspace, gradio_cache_schedule

    demo = app.build_demo(Workspace(str(tmp_path / "w")))
    assert demo.delete_cache == gradio_cache_schedule() == (int(config.APP_SWEEP_INTERVAL_S),
                                                          int(config.APP_FILE_MAX_AGE_S))
    every, age = demo.delete_cache
    assert 0 < every <= age


def test_gradio_cache_is_cleaned_on_schedule(tmp_path_factory, tmp_path):
    """Uploads and Gradio's copies of results go once older than the age, while the server runs."""
    with running_app(tmp_path_factory.mktemp("cache"),
                     settings={"APP_SWEEP_INTERVAL_S": 1, "APP_FILE_MAX_AGE_S": 2}) as srv:
        assert srv["demo"].delete_cache == (1, 2)
        src = make_clip(str(tmp_path / "c.mp4"), frames=5, fps=FPS, width=64, height=48, tone_hz=None)
        download, _, _ = srv["client"].predict(handle_file(src), 2, api_name="/interpolate")
        assert fps_duration(download)[2] == 10
        cached = sorted({f for files in srv["demo"].temp_file_sets for f in files})
        assert any(f.endswith("c.mp4") for f in cached) and any(f.endswith("c-smooth.mp4") for f in cached)
        assert all(f.startswith(os.path.realpath(upload_root())) for f in cached)
        gone = wait_until(lambda: not any(os.path.exists(f) for f in cached), 20, step_s=0.2)
        assert gone, [f for f in cached if os.path.exists(f)]
        assert srv["workspace"].jobs(), "the job's own folder is the sweeper's (older than APP_FILE_MAX_AGE_S)"
