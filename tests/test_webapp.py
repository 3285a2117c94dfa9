"""The app's logic without a server: timeline, plans, capabilities, jobs, handlers."""
from __future__ import annotations

import asyncio
import os
import threading
import time

import numpy as np
import pytest

import vidext
from vidext.errors import Cancelled, LimitError, ParameterError
from vidext.media.probe import probe
from vidext.media.runner import Progress
from vidext.webapp import capabilities as caps
from vidext.webapp import handlers, jobs, timeline, zerogpu


@pytest.fixture
def info(clip):
    return probe(clip("t.mp4", frames=50, fps=25, width=160, height=96))


def test_filmstrip_has_one_thumb_per_slice_with_time_marks(info):
    strip = timeline.filmstrip(info, count=5, height=40)
    assert strip.times == pytest.approx([0.2, 0.6, 1.0, 1.4, 1.8])
    h, w, _ = strip.image.shape
    assert h == 40 + 20 and w == 5 * strip.thumb_width + 4 * 2
    assert strip.thumb_width == 66  # 40 × 160/96, rounded to even
    # the synthetic texture moves: thumbnails differ from each other
    a = strip.image[:40, :strip.thumb_width].astype(int)
    b = strip.image[:40, -strip.thumb_width:].astype(int)
    assert np.abs(a - b).mean() > 5
    # time marks are drawn in the band under the thumbnails
    assert strip.image[40:].max() > 200


def test_timeline_draws_segment_and_extension(info):
    strip = timeline.filmstrip(info, count=4, height=32)
    plain = timeline.timeline_image(strip)
    assert np.array_equal(plain, strip.image)
    seg = timeline.timeline_image(strip, segment=(0.5, 1.0))
    w = strip.image.shape[1]
    left = slice(0, int(w * 0.2))
    assert seg[:28, left].mean() < strip.image[:28, left].mean() * 0.5  # dimmed outside
    both = timeline.timeline_image(strip, extend_s=1.0, direction="both")
    fwd = timeline.timeline_image(strip, extend_s=1.0, direction="forward")
    assert fwd.shape[1] > w and both.shape[1] > fwd.shape[1]
    # one second of extension is drawn to the clip's scale (the clip lasts 2 s) ...
    assert fwd.shape[1] - w == pytest.approx(w / 2 + 4, abs=2)
    # ... and a long one is capped at half the strip, so the clip keeps most of the picture
    long = timeline.timeline_image(strip, extend_s=30.0, direction="forward")
    assert long.shape[1] == fwd.shape[1]


def test_plans_give_duration_and_frames_before_running(info):
    p = timeline.plan_interpolate(info, factor=2)
    assert (p.duration_in, p.duration_out, p.fps_out, p.frames_out) == (2.0, 2.0, 50.0, 100)
    p = timeline.plan_interpolate(info, fps="60")
    assert p.frames_out == 120
    p = timeline.plan_interpolate(info, slowmo=3)
    assert p.duration_out == 6.0 and p.frames_out == 150
    p = timeline.plan_interpolate(info, slowmo=2, start=0.5, end=1.0)
    assert p.duration_out == 2.5 and p.frames_out == 63  # frames at k/25 s for k = 0..62
    p = timeline.plan_extend(info, seconds=1.5, direction="both")
    assert p.duration_out == 5.0 and p.frames_out == 125
    assert "2.00 s → **5.00 s**" in p.summary()
    p = timeline.plan_audio(2.0, stretch=1.5, fps=25)
    assert p.duration_out == 3.0 and p.frames_out == 75
    with pytest.raises(ParameterError):
        timeline.plan_extend(info, seconds=0)
    with pytest.raises(ParameterError):
        timeline.plan_interpolate(info, slowmo=2, start=5, end=6)  # segment outside the clip


def test_format_time():
    assert timeline.format_time(0) == "0:00.0"
    assert timeline.format_time(75.25) == "1:15.2"
    assert timeline.format_time(3725) == "1:02:05"


def test_capabilities_name_the_reason(monkeypatch):
    import vidext

    assert caps.tab("interpolate").available
    monkeypatch.delattr(vidext, "interpolate")
    t = caps.tab("interpolate")
    assert not t.available and "vidext.interpolate is not part of this build" in t.reason
    assert "unavailable" in t.label()


def test_parameter_support_follows_the_signature(monkeypatch):
    import vidext

    def fn(input, output, *, quality="balanced", **options):
        pass

    monkeypatch.setattr(vidext, "interpolate", fn)
    assert caps.option("interpolate", "motion_blur").available  # **options: the function validates names
    monkeypatch.undo()
    assert caps.parameter("interpolate", "quality").available
    f = caps.parameter("interpolate", "no_such_option")
    assert not f.available and "no 'no_such_option' option" in f.reason


def test_generative_methods_need_weights_and_gpu():
    for f in caps.extend_methods():
        if f.name in caps.EXTEND_GENERATIVE and not f.available:
            assert f.reason
    assert [f.name for f in caps.extend_methods() if f.available][:5] == list(caps.EXTEND_CLASSICAL)
    assert "dis" in caps.available(caps.interpolation_models())


def test_call_api_refuses_an_option_the_build_lacks(clip, tmp_path):
    src = clip("c.mp4", frames=6, width=64, height=48, tone_hz=None)
    with pytest.raises(ParameterError, match="warp_speed"):
        handlers.call_api("interpolate", src, str(tmp_path / "o.mp4"), factor=2, warp_speed=9)


def test_safe_stem_keeps_user_text_out_of_paths():
    assert handlers.safe_stem("/tmp/x/../../etc/My clip (1).mp4") == "My_clip_1"
    assert handlers.safe_stem("/tmp/...") == "clip"
    assert handlers.safe_stem("ça été.mov") == "ça_été"  # letters of any script are kept
    assert handlers.safe_stem("-rf;$(reboot).mp4") == "rf_reboot"


def test_run_interpolate_checks_limits_before_work(clip, tmp_path, monkeypatch):
    src = clip("c.mp4", frames=10, fps=10, width=64, height=48, tone_hz=None)
    from vidext.config import Limits

    lim = Limits(max_pixels=10**7, max_duration_s=100, max_output_frames=15, max_upload_mb=10, max_fps=240)
    with pytest.raises(LimitError, match="VIDEXT_MAX_OUTPUT_FRAMES"):
        handlers.run_interpolate(src, str(tmp_path), factor=2, limits=lim)
    assert os.listdir(tmp_path) == ["c.mp4"]
    out = handlers.run_interpolate(src, str(tmp_path), factor=1, fps=15, limits=lim)
    assert out.details["frames_out"] == 15 and out.playable


def test_progress_relay_reports_from_other_threads():
    seen = []

    def target(progress, desc=None, unit=None):
        seen.append((progress, desc, unit))

    relay = jobs.ProgressRelay(target, "interpolate")
    t = threading.Thread(target=relay, args=(Progress(5, 10, 2.0, 2.5, 2.5, "interpolate"),))
    t.start()
    t.join()
    relay(Progress(3, None, 1.0, 3.0, None, ""))
    assert seen[0] == ((5, 10), "interpolate: 5/10, 2 s left", "frames")
    assert seen[1] == (None, "interpolate: 3", "frames")


def test_run_cancellable_stops_the_job_and_removes_its_folder(tmp_path):
    ws = jobs.Workspace(str(tmp_path / "w"))
    job = ws.new_job()
    started = threading.Event()

    def work(folder, stop=None):
        with open(os.path.join(folder, "partial.mp4"), "wb") as f:
            f.write(b"x")
        started.set()
        while not stop.is_set():
            time.sleep(0.01)
        raise Cancelled("the job was cancelled")

    async def main():
        task = asyncio.ensure_future(jobs.run_cancellable(job, work, job.folder))
        while not started.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert job.stop.is_set()
    assert not os.path.exists(job.folder) and ws.jobs() == []


def test_run_cancellable_returns_and_keeps_a_finished_job(tmp_path):
    ws = jobs.Workspace(str(tmp_path / "w"))
    job = ws.new_job()

    def work(folder, n, stop=None):
        path = os.path.join(folder, "out.txt")
        with open(path, "w") as f:
            f.write(str(n))
        return path

    path = asyncio.run(jobs.run_cancellable(job, work, job.folder, 7))
    assert open(path).read() == "7"

    def fail(folder, stop=None):
        raise ParameterError("bad")

    job2 = ws.new_job()
    with pytest.raises(ParameterError):
        asyncio.run(jobs.run_cancellable(job2, fail, job2.folder))
    assert ws.jobs() == [job.folder]


def test_job_paths_are_plain_names(tmp_path):
    job = jobs.Workspace(str(tmp_path)).new_job()
    with pytest.raises(ValueError):
        job.path("../x")
    with pytest.raises(ValueError):
        job.path(".hidden")


def test_zerogpu_dispatch_is_a_plain_call_elsewhere(monkeypatch):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    fn = handlers.run_interpolate
    assert zerogpu.dispatcher("interpolate", fn, handlers.interpolate_needs_gpu) is fn


def test_zerogpu_sends_only_gpu_jobs_to_spaces(monkeypatch):
    calls = []
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    monkeypatch.setattr(zerogpu, "_gpu_version", lambda fn, duration: (
        lambda *a, **kw: calls.append(("gpu", duration, sorted(kw))) or "gpu"))

    def job(media, folder, *, model="dis", progress=None, stop=None):
        calls.append(("plain", model, stop is not None))
        return "plain"

    call = zerogpu.dispatcher("interpolate", job, handlers.interpolate_needs_gpu)
    assert call("a", "b", model="dis", stop=threading.Event()) == "plain"
    assert call("a", "b", model="rife", stop=threading.Event(), progress=print) == "gpu"
    # the GPU worker gets picklable arguments only: no stop event, no progress callback
    assert calls == [("plain", "dis", True), ("gpu", 120, ["model"])]


def test_method_rows_from_report(clip):
    """The table rows from the report vidext.evaluate really writes (not a hand-made dict)."""
    report = vidext.evaluate(clip(frames=9, width=64, height=48, tone_hz=None), methods="blend,fast",
                             metrics=["psnr_y", "ssim"], temporal=False)
    rows = handlers.method_rows(report.as_dict())
    header = rows[0]
    assert header[:3] == ["method", "psnr_y", "ssim"] and "frames_per_second" in header
    assert [r[0] for r in rows[1:]] == ["blend", "fast"]
    for row, m in zip(rows[1:], report.methods):
        assert row[1] == pytest.approx(m.mean("psnr_y")) and row[2] == pytest.approx(m.mean("ssim"))
        assert all(isinstance(v, (int, float)) or v is None for v in row[1:])
    assert handlers.method_rows({}) == []


def test_launch_settings_are_minimal(tmp_path):
    import tempfile

    from vidext.config import Limits
    from vidext.webapp.server import launch_kwargs

    lim = Limits(10**7, 60, 10**5, 50, 240)
    kw = launch_kwargs(os.path.join(tempfile.gettempdir(), "vidext-app"), lim, host="127.0.0.1", port=1234)
    assert kw["allowed_paths"] == [] and kw["max_file_size"] == 50_000_000
    assert kw["ssr_mode"] is False and kw["mcp_server"] is False and kw["show_error"] is False
    elsewhere = "/srv/vidext-work"
    assert launch_kwargs(elsewhere, lim)["allowed_paths"] == [elsewhere]


# --- The other tabs' handlers against the agreed signatures ----------------------
# Until the extend/audio/evaluate branches are merged, these check what the app
# sends to functions with exactly the agreed signatures (from the brief), and
# how it presents what they return.

def _agreed(calls, kind):
    import shutil
    from dataclasses import dataclass

    @dataclass
    class Result:
        output: str

        def as_dict(self):
            return {"output": self.output, "kind": kind}

    if kind == "extend":
        def fn(input, output, *, seconds, direction="forward", method="seamless", seed=None,
               audio_method="loop", prompt=None, quantize=None, codec="h264", crf=None,
               progress=None, stop=None):
            calls.append(dict(seconds=seconds, direction=direction, method=method, seed=seed,
                              audio_method=audio_method, prompt=prompt, quantize=quantize, codec=codec, crf=crf,
                              stop=stop is not None))
            shutil.copyfile(input, output)
            return Result(output)
    elif kind == "audio":
        def fn(input, output, *, stretch=None, extend=None, direction="forward", method="loop",
               prompt=None, audio_file=None, seed=None, progress=None, stop=None):
            calls.append(dict(stretch=stretch, extend=extend, direction=direction, method=method,
                              prompt=prompt, audio_file=audio_file, seed=seed))
            shutil.copyfile(input, output)
            return Result(output)
    else:
        def fn(input, *, methods=("blend", "fast", "balanced", "quality"), factor=2, json_path=None,
               report_dir=None, max_frames=None, progress=None, stop=None):
            import json

            calls.append(dict(methods=methods, factor=factor, max_frames=max_frames))
            os.makedirs(report_dir)
            with open(os.path.join(report_dir, "strip.png"), "wb") as f:
                f.write(b"\x89PNG")
            with open(json_path, "w") as f:
                json.dump({"input": input, "methods": {m: {"psnr": 30.0} for m in methods}}, f)
            return Result(json_path)
    return fn


def test_extend_handler_maps_the_form(clip, tmp_path, monkeypatch):
    import vidext

    calls = []
    monkeypatch.setattr(vidext, "extend", _agreed(calls, "extend"), raising=False)
    src = clip("e.mp4", frames=10, width=64, height=48)
    out = handlers.run_extend(src, str(tmp_path), seconds=1.5, direction="both", method="loop", seed=-1,
                              audio_method="loop", prompt="", quantize="none", codec="h264", crf=0.0,
                              stop=threading.Event())
    assert calls == [dict(seconds=1.5, direction="both", method="loop", seed=None, audio_method="loop",
                          prompt=None, quantize=None, codec="h264", crf=None, stop=True)]
    assert out.output == str(tmp_path / "e-extended.mp4") and out.details == {"output": "e-extended.mp4",
                                                                               "kind": "extend"}
    handlers.run_extend(src, str(tmp_path), seconds=1, seed=7, prompt="waves", quantize="int8", crf=23.0)
    assert calls[-1]["seed"] == 7 and calls[-1]["prompt"] == "waves" and calls[-1]["crf"] == 23


def test_audio_handler_maps_the_form(clip, tmp_path, monkeypatch):
    import vidext

    calls = []
    monkeypatch.setattr(vidext, "audio", _agreed(calls, "audio"), raising=False)
    src = clip("a.mp4", frames=10, width=64, height=48)
    out = handlers.run_audio(src, str(tmp_path), stretch=2.0, extend=0, direction="forward", method="loop",
                             prompt="", audio_file=None, seed=-1)
    assert calls == [dict(stretch=2.0, extend=None, direction="forward", method="loop", prompt=None,
                          audio_file=None, seed=None)]
    assert out.output.endswith("a-audio.mp4") and out.playable
    with pytest.raises(ParameterError, match="nothing to do"):
        handlers.run_audio(src, str(tmp_path), stretch=1, extend=0)


def test_evaluate_handler_presents_json_and_pictures(clip, tmp_path, monkeypatch):
    import vidext

    calls = []
    monkeypatch.setattr(vidext, "evaluate", _agreed(calls, "evaluate"), raising=False)
    src = clip("v.mp4", frames=10, width=64, height=48)
    out = handlers.run_evaluate(src, str(tmp_path), methods=["blend", "fast"], factor=2, max_frames=0)
    assert calls == [dict(methods=("blend", "fast"), factor=2, max_frames=None)]
    assert out.details["input"] == "v.mp4"  # server paths reduced to names
    assert [os.path.basename(f) for f in out.files] == ["strip.png"]
    assert handlers.method_rows(out.details) == [["method", "psnr"], ["blend", 30.0], ["fast", 30.0]]


def _events(demo) -> dict:
    return {fn.api_name: fn for fn in demo.fns.values() if fn.api_name}


def test_queue_groups_cpu_and_gpu_jobs(monkeypatch, tmp_path):
    pytest.importorskip("gradio")
    import app
    from vidext import config

    demo = app.build_demo(jobs.Workspace(str(tmp_path / "a")))
    ev = _events(demo)
    assert {"interpolate", "extend", "audio", "evaluate"} <= set(ev)
    assert demo._queue.max_size == config.APP_QUEUE_MAX_SIZE
    for name in ("interpolate", "extend", "audio", "evaluate"):
        assert ev[name].concurrency_id == config.APP_CPU_CONCURRENCY_ID  # no GPU, no weights here
        assert ev[name].concurrency_limit == config.APP_CPU_CONCURRENCY
    # with a GPU and RIFE's weights at hand, Interpolate and Evaluate join the one-at-a-time GPU queue
    monkeypatch.setattr(caps, "gpu", lambda: caps.Feature("gpu", True, "test GPU"))
    monkeypatch.setattr(caps, "weights", lambda model: caps.Feature(model, model == "rife-4.25"))
    from vidext.interpolation import INTERPOLATORS

    if "rife" not in INTERPOLATORS:  # the rife backend's branch registers it; its weights are what count here
        monkeypatch.setitem(INTERPOLATORS._entries, "rife", ("vidext.interpolation.rife:RIFE", "RIFE 4.25"))
    demo = app.build_demo(jobs.Workspace(str(tmp_path / "b")))
    ev = _events(demo)
    for name in ("interpolate", "evaluate"):
        assert ev[name].concurrency_id == config.APP_GPU_CONCURRENCY_ID and ev[name].concurrency_limit == 1
    assert ev["extend"].concurrency_id == config.APP_CPU_CONCURRENCY_ID  # svd/ltx weights absent


def test_preview_handler_copies_the_excerpt_into_the_job(clip, tmp_path, monkeypatch):
    import vidext

    cache = tmp_path / "cache"
    cache.mkdir()
    calls = []

    def preview(input, **interpolate_kwargs):  # the agreed signature: a cached low-res excerpt's path
        calls.append(interpolate_kwargs)
        path = cache / "excerpt.mp4"
        path.write_bytes(b"excerpt")
        return str(path)

    monkeypatch.setattr(vidext, "preview", preview, raising=False)
    assert caps.preview().available
    src = clip("p.mp4", frames=6, width=64, height=48, tone_hz=None)
    job = tmp_path / "job"
    job.mkdir()
    out = handlers.run_preview(src, str(job), factor=2.0, fps=0, slowmo=1, start=0.5, end=1.0,
                               quality="fast", model="dis")
    assert calls == [dict(factor=2, quality="fast", model="dis")]  # unset options left to the defaults
    assert out.output == str(job / "p-preview.mp4") and open(out.output, "rb").read() == b"excerpt"
