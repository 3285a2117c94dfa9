"""The app's logic without a server: timeline, plans, capabilities, jobs, handlers."""
from __future__ import annotations

import asyncio
import json
import os
import threading
import time

import numpy as np
import pytest

import vidext
from vidext.errors import Cancelled, LimitError, ParameterError
from vidext.media.probe import probe
from vidext.media.runner import Point, Progress, StageInfo
from vidext.webapp import capabilities as caps
from vidext.webapp import handlers, jobs, present, timeline, zerogpu


@pytest.fixture
def info(clip):
    return probe(clip("t.mp4", frames=50, fps=25, width=160, height=96))


def test_filmstrip_has_one_thumb_per_slice_with_time_marks(info):
    strip = timeline.filmstrip(info, count=5, height=40)
    assert strip.times == pytest.approx([0.2, 0.6, 1.0, 1.4, 1.8])
    h, w, _ = strip.image.shape
    assert h > 40 and w == 5 * strip.thumb_width + 4 * 2
    assert strip.thumb_width == 66  # 40 × 160/96, rounded to even
    # time marks tall enough to read once the strip is shrunk to a phone's width (~340 px)
    rows = np.nonzero(strip.image[40:].max(axis=(1, 2)) > 200)[0]
    assert (rows.max() - rows.min() + 1) * 340 / w >= 7
    # the synthetic texture moves: thumbnails differ from each other
    a = strip.image[:40, :strip.thumb_width].astype(int)
    b = strip.image[:40, -strip.thumb_width:].astype(int)
    assert np.abs(a - b).mean() > 5
    # a wide clip gets fewer thumbnails, so each stays visible
    assert timeline.thumb_count(1920, 1080) == 7 and timeline.thumb_count(2560, 1080) == 5


def test_time_marks_clear_the_drag_handles(clip):
    """The part's handles (14 css px, centred on the strip's ends) covered the first time mark: on the
    carphone clip the app showed ":00.2" for 0:00.2.  The marks stay clear of a handle's inner half at
    any width the strip is shown at, down to a phone's ~280 px."""
    strip = timeline.filmstrip(probe(clip("c.mp4", frames=92, fps=30, width=176, height=144)))
    band = strip.image[strip.thumb_height:]
    w = band.shape[1]
    cols = np.nonzero(band.max(axis=(0, 2)) > 200)[0]
    covered = 7 * w / 280                 # image px under a handle's inner half on a 280 px wide strip
    assert cols.min() > covered and cols.max() < w - covered


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


def test_the_apps_prediction_is_what_the_engine_writes(clip, tmp_path):
    """Slow motion 2.5× on 0.51–1.03 s of a 25 fps clip: the plan line's frames and duration are the output's."""
    from apphelpers import fps_duration

    from vidext.webapp.ui import interpolate as tab

    src = clip("p.mp4", frames=50, fps=25, width=96, height=64, tone_hz=None)
    strip = timeline.filmstrip(probe(src), count=4, height=32)
    _, note, line, ok = tab.plan_view(strip, 1, 0, 2.5, 0.51, 1.03)
    assert ok and note == ""
    assert "slow motion 2.5× on 0.52–1.04 s" in line  # the segment as the engine snaps it to frames
    out = handlers.run_interpolate(src, str(tmp_path), factor=1, slowmo=2.5, start=0.51, end=1.03, quality="fast")
    rate, duration, frames = fps_duration(out.output)
    assert f"{frames} frames at 25 fps" in line and f"→ {duration:.2f} s**" in line
    assert (frames, round(duration, 2)) == (69, 2.76)
    assert present.AUTO_FIRST not in line
    # model auto (the tab's default): the line says the models are tried on the clip before it renders
    assert tab.plan_view(strip, 1, 0, 2.5, 0.51, 1.03, model="auto")[2] == line + " · " + present.AUTO_FIRST


def test_typed_fps_replaces_the_multiplier_and_a_segment_smooths_alone():
    s = present.interpolate_settings(factor=2, fps=60, slowmo=1, start=0, end=0)
    assert s == {"factor": None, "fps": 60.0, "slowmo": None, "start": None, "end": None}
    assert present.rate_words(s, 25) == "the 60 fps typed replaces the multiplier"
    s = present.interpolate_settings(factor=2, fps=0, slowmo=1, start=0.2, end=0.6, duration_s=2.0)
    assert s == {"factor": 2, "fps": None, "slowmo": None, "start": 0.2, "end": 0.6}
    assert present.interpolate_settings(2, 0, 1, 0, 2.0, duration_s=2.0)["end"] is None  # the clip's end
    with pytest.raises(ParameterError, match="must come after its start"):
        present.interpolate_settings(2, 0, 1, 0.6, 0.4)
    with pytest.raises(ParameterError, match="choose a multiplier above 1, type a target fps"):
        present.interpolate_settings(1, 0, 1, 0, 0)


def test_segment_only_smoothing_runs_without_slow_motion(clip, tmp_path):
    from apphelpers import fps_duration

    import av

    src = clip("s.mp4", frames=25, fps=25, width=96, height=64, tone_hz=None)
    out = handlers.run_interpolate(src, str(tmp_path), factor=2, start=0.2, end=0.6, quality="fast", codec="ffv1")
    rate, duration, frames = fps_duration(out.output)
    assert rate == 50 and frames == 50 and abs(duration - 1.0) < 1e-3 and "at 50 fps" in out.summary
    with av.open(out.output) as c:
        pics = [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(video=0)]
    new = [k for k in range(1, 50, 2) if np.abs(pics[k] - pics[k - 1]).mean() > 0.5]  # odd frames that are not held
    assert new and min(new) >= 2 * 0.2 * 25 and max(new) <= 2 * 0.6 * 25  # made only inside 0.2–0.6 s


def test_evaluate_table_reads_at_a_glance():
    report = {"held_out": {"factor": 2, "rebuilt": 12},
              "methods": [{"name": "blend", "psnr_y": 30.123, "ssim": 0.91234, "lpips": 0.2, "frames_per_second": 900.0,
                           "interval": {"psnr_y": [29.623, 30.623]}},
                          {"name": "fast", "psnr_y": 35.5, "ssim": 0.95, "lpips": 0.1, "frames_per_second": 40.04}],
              "stars": {"psnr_y": "fast", "ssim": None, "lpips": "fast", "frames_per_second": "blend"},
              "verdict": {"text": "Flow (fast) comes closest to the real frames; Cross-fade is 5.4 dB worse and "
                                  "22× quicker."},
              "temporal": {"warp_error_mean": 1.234, "flicker_rms": 0.5, "jumps": []}, "av_offset_s": None,
              "av_offset_note": "the clip has no sound"}
    heads, rows = present.score_table(report)
    assert heads == ["Method", "PSNR (dB) ↑", "SSIM ↑", "LPIPS ↓", "Speed (frames/s) ↑"]
    assert rows[0] == ["Cross-fade", "30.12<br><small>±&nbsp;0.50</small>", "0.912", "0.200", "**900.0 ★**"]
    assert rows[1] == ["Flow (fast)", "**35.50 ★**", "0.950", "**0.100 ★**", "40.0"]   # no ★ the report denies
    text = present.evaluate_words(report)
    assert text.startswith("**Verdict:** Flow (fast) comes closest to the real frames")
    assert "psnr_y" not in text and "frames_per_second" not in text
    assert "Sound vs picture: not measured: the clip has no sound." in text and "1.23" in text


def test_result_lines_say_what_was_chosen_and_why_in_plain_words():
    auto = {"chosen": "quality", "summary": "auto chose quality: LPIPS 0.078 vs 0.082 (fast), PSNR-Y -0.0 dB, "
                                            "on 3 excerpts", "rule": "time weighed: ...", "seconds": 8.2,
            "excerpts": [{"windows": 1}, {"windows": 1}, {"windows": 1}],
            "table": [{"method": "blend", "psnr_y": 30.1, "lpips": 0.2, "frames": 3, "estimated_seconds_per_frame": 0.001},
                      {"method": "fast", "psnr_y": 31.0, "lpips": 0.082, "frames": 3,
                       "estimated_seconds_per_frame": 0.01},
                      {"method": "quality", "psnr_y": 31.0, "lpips": 0.078, "frames": 3,
                       "estimated_seconds_per_frame": 0.05, "chosen": True}]}
    line = present.auto_words(auto)
    first, folded = line.split("\n\n", 1)
    assert first == ("**Model: Flow (quality)**, after 3 models were tried on 3 short excerpts of your clip (8 s): "
                     "the quickest is kept unless a slower one looks visibly better, and Flow (quality) did.")
    assert folded.startswith("<details><summary>The measurements</summary>") and "LPIPS 0.078" in folded
    assert "LPIPS" not in first and "dB" not in first
    fastest = present.auto_words({**auto, "chosen": "blend"})
    assert fastest.split("\n\n")[0].endswith(": no slower model looked visibly better.")
    ext = {"auto": {"forward": {"chosen": "ramp", "reason": "no candidate passes (motion: the view lurches (1.0× the "
                                                            "shot's own changes of motion))",
                                "candidates": {"motion": {"junction": 0.5, "stall": 0.2, "jerk": 1.57, "cost": 1.57,
                                                          "passed": False},
                                               "freeze": {"junction": 0.0, "stall": 9.9, "jerk": 2.3, "cost": 10.2,
                                                          "passed": False}}}}}
    said = present.extend_choice_words(ext)
    first = said.split("\n\n")[0]
    assert first == ("**After the end:** the edge of the shot slowed down into the new time: none of the 2 ways tried "
                     "would look right (the view would lurch; the motion would stop or turn back), so the shot "
                     "slows down instead.")
    assert "cost" not in first and "1.57" in said.split("\n\n", 1)[1]
    ok = {"auto": {"backward": {"chosen": "seamless", "candidates": {"seamless": {"passed": True, "cost": 0.4},
                                                                     "freeze": {"passed": True, "cost": 0.9}}}}}
    assert present.extend_choice_words(ok).startswith(
        "**Before the start:** a seamless loop (part of the shot plays again, joined with no visible seam): of the 2 "
        "ways tried, it looked the most natural.")
    # what happened to the sound: the main track's own account, not "carried over"
    details = {"output": {"audio_tracks": [{"stream": 1, "as": "retimed"}]}}
    assert present.sound_fate(details, "re-encoded") == "retimed"
    assert "sound slowed with the picture, pitch kept" in present.result_words(
        {"duration_s": 2.0, "audio": present.sound_fate(details, "re-encoded")})
    assert present.sound_fate({}, None) is None and present.sound_fate({}, "copied") == "copied"
    assert present.sound_result_words({"operation": "stretch", "duration_s": 2.0}, {"stretch": 2.0}) == \
        "**Done:** sound stretched 2×, pitch kept · 2.00 s"


def test_a_chosen_way_that_fails_its_own_check_says_so():
    """Extend with *seamless* chosen by hand on a handheld clip (carphone): the job measured that no loop point
    passes and the CLI says so ("no loop point passes the seam check"); the app said nothing."""
    ext = {"method": "seamless", "loops": {"forward": {
        "loop_frames": 47, "shot_frames": 92, "passed": False,
        "score": {"junction": 1.154, "stall": 0.452, "jerk": 1.014, "inside_worst": 3.488, "cost": 3.418,
                  "passed": False}}}}
    said = present.extend_choice_words(ext)
    assert said is not None
    first = said.split("\n\n")[0]
    assert first.startswith("**After the end:** the shot looped back") and "no visible seam" not in first
    assert "a visible jump where the new part starts" in first and "new pictures unlike any real frame" in first
    assert "auto" in first
    passing = {"method": "seamless", "loops": {"forward": {"passed": True, "score": {"cost": 0.4, "passed": True}}}}
    assert present.extend_choice_words(passing) is None      # a passing loop needs no word
    assert present.extend_choice_words({"method": "loop"}) is None


def test_a_continuation_replaces_the_proposed_stretch():
    proposal = present.AUDIO_DEFAULT_STRETCH
    assert present.audio_settings(is_video=False, stretch=proposal) == {"stretch": proposal}
    assert present.audio_settings(is_video=False, stretch=proposal, extend=3) == {"extend": 3.0}
    with pytest.raises(ParameterError, match="either"):
        present.audio_settings(is_video=False, stretch=1.5, extend=3)
    with pytest.raises(ParameterError):
        present.audio_settings(is_video=False, stretch=1)        # 1 said out loud: unchanged, nothing to do
    with pytest.raises(ParameterError):
        present.audio_settings(is_video=True)


def test_words_name_no_codec_and_keep_speed_apart():
    class A:
        channels = 2
        codec = "mp3float"

    assert present.sound_words([A()]) == "stereo sound" and present.sound_words([]) == "no sound"
    words = present.result_words({"duration_s": 2.0, "frames_out": 120, "fps": 60.0, "audio": "copied",
                                  "seconds": 11.0})
    first, *rest = words.split("\n\n")
    assert first == "**Done:** 2.00 s · 120 frames at 60 fps · sound kept as it was"
    assert "11.0" not in words      # the wait is the tab's to say (took_words), from the click
    stages = (StageInfo("measuring", "measuring the methods on your clip", "done", 3.04),
              StageInfo("rendering", "rendering", "done", 7.51), StageInfo("playable", "playable copy", "skipped", 0))
    assert present.took_words(11.04, stages) == \
        "<small>Took 11.0 s: measuring the methods on your clip 3.0 s · rendering 7.5 s.</small>"
    assert present.downloads_words("/j/c-smooth.mp4", "/j/c-smooth.mp4") == ""  # one file: nothing to tell apart
    both = present.downloads_words("/j/c-smooth.mkv", "/j/c-smooth.playable.mp4")
    assert "**c-smooth.mkv** is the full-quality result" in both and "**c-smooth.playable.mp4** is a copy that plays" \
        in both and "/j/" not in both
    assert present.user_reason("svd", "needs a GPU (no CUDA GPU on this machine)").startswith("needs a graphics card")
    assert "VIDEXT_MODEL_DIR" not in present.user_reason("rife", "weights not found in $VIDEXT_MODEL_DIR")


def test_format_time():
    assert present.format_time(0) == "0:00.0"
    assert present.format_time(75.25) == "1:15.2"
    assert present.format_time(3725) == "1:02:05"


def test_limits_line_says_a_length_as_people_do():
    """The first screen said "Files up to 1024 MB and 10:00.0 long": a limit is a length, not a clock."""
    assert present.length_words(600) == "10 min"
    assert present.length_words(90) == "1 min 30 s"
    assert present.length_words(45) == "45 s"
    assert present.length_words(5400) == "1 h 30 min"
    assert present.length_words(7200) == "2 h"
    from vidext.config import Limits
    assert present.limits_line(Limits(max_upload_mb=1024, max_duration_s=600, max_pixels=9.4e6, max_fps=240,
                                       max_output_frames=100_000)) == (
        "Files up to 1024 MB and 10 min long, frames up to 9.4 megapixels, results up to 240 fps.")


@pytest.fixture
def no_weights(monkeypatch, tmp_path):
    """Weights looked up in empty folders only: nothing resolves."""
    monkeypatch.setenv("VIDEXT_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))


def test_capabilities_name_the_reason(no_weights):
    w = caps.weights("svd-xt")
    assert not w.available and "not found" in w.reason and "svd-xt" in w.reason
    rife = caps.learned("rife")
    assert not rife.available and rife.reason == caps.weights("rife-4.25").reason
    assert rife.label() == f"rife (unavailable: {rife.reason})"
    assert [f.name for f in caps.interpolation_models() if f.available] == ["auto", "dis", "blend"]


def test_generative_methods_without_weights_are_not_offered(no_weights, monkeypatch):
    monkeypatch.setattr(caps, "gpu", lambda: caps.Feature("gpu", True, "test GPU"))
    for f in caps.extend_methods():
        if f.name in caps.EXTEND_GENERATIVE:
            assert not f.available and "not found" in f.reason  # a GPU does not help without the weights
    assert caps.available(caps.extend_methods()) == list(caps.EXTEND_CLASSICAL)
    assert caps.available(caps.audio_methods()) == list(caps.AUDIO_CLASSICAL)


def test_generative_methods_with_weights_need_a_gpu(monkeypatch):
    monkeypatch.setattr(caps, "weights", lambda model: caps.Feature(model, True))
    monkeypatch.setattr(caps, "gpu", lambda: caps.Feature("gpu", False, "no CUDA GPU on this machine"))
    svd = caps.generative("svd")
    assert not svd.available and svd.reason == "needs a GPU (no CUDA GPU on this machine)"
    monkeypatch.setattr(caps, "gpu", lambda: caps.Feature("gpu", True, "test GPU"))
    assert caps.available(caps.extend_methods()) == [*caps.EXTEND_CLASSICAL, *caps.EXTEND_GENERATIVE]
    assert caps.available(caps.audio_methods()) == [*caps.AUDIO_CLASSICAL, *caps.AUDIO_GENERATIVE]


def test_an_unknown_option_is_refused_by_the_engine(clip, tmp_path):
    """The app passes options straight to the public functions: an unknown name is refused there, by name."""
    src = clip("c.mp4", frames=6, width=64, height=48, tone_hz=None)
    out = tmp_path / "o.mp4"
    with pytest.raises(ParameterError, match=r"unknown option\(s\) warp_speed; known: low_light"):
        vidext.api.interpolate(src, str(out), factor=2, warp_speed=9)
    with pytest.raises(ParameterError, match="warp_speed"):
        vidext.api.preview(src, factor=2, warp_speed=9)
    with pytest.raises(ParameterError, match="unknown interpolate option.*warp_speed"):
        vidext.api.batch("interpolate", [src], str(tmp_path / "b"), options={"warp_speed": 9})
    assert not out.exists() and not (tmp_path / "b").exists()


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
    points = (Point(0.5, 0.1, "occlusion"), Point(0.6, None, "cut"))
    relay(Progress(1, 4, 0.0, 0.5, None, "rendering", label="rendering", job_fraction=0.4, then=("playable copy",),
                   points=points))
    assert seen[0] == (0.5, "interpolate · 5/10 frames · 2 s left", "frames")     # a stage's share: its own
    assert seen[1] == (None, "interpolate: 3 frames · 3 s so far", "frames")
    assert seen[2] == (0.4, "40% of the job · rendering · 1/4 frames · estimating…, then: playable copy",
                       "frames")      # the job's share: said first, named
    assert relay.points == list(points) and relay.version == 1


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


def test_run_cancellable_hands_its_thread_back_with_the_scheduling_it_had(tmp_path):
    """A job whose library makes its thread real-time (SVT-AV1 does, where it may) leaves the pool's
    thread real-time for every later job, and every thread those start: the event loop then waits
    seconds for the interpreter lock.  The next job on the same pool thread finds it as it was."""
    from concurrent.futures import ThreadPoolExecutor

    from helpers import may_be_realtime

    from vidext.media.scheduling import policy

    if not may_be_realtime():
        pytest.skip("this process may not make a thread real-time")
    ws = jobs.Workspace(str(tmp_path / "w"))

    def realtime(folder, stop=None):
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        return threading.get_ident()

    def later(folder, stop=None):
        return threading.get_ident(), policy()

    async def two_jobs():
        asyncio.get_running_loop().set_default_executor(pool)
        first = await jobs.run_cancellable(ws.new_job(), realtime, "")
        return first, await jobs.run_cancellable(ws.new_job(), later, "")

    with ThreadPoolExecutor(max_workers=1) as pool:
        before = pool.submit(policy).result()
        first, (second, seen) = asyncio.run(two_jobs())
    assert first == second and seen == before


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
    root = os.path.join(tempfile.gettempdir(), "vidext-app")
    kw = launch_kwargs(root, lim, host="127.0.0.1", port=1234)
    # only the job folders are served as they are (the report page opens in the browser)
    assert kw["allowed_paths"] == [root] and kw["max_file_size"] == 50_000_000
    assert kw["ssr_mode"] is False and kw["mcp_server"] is False and kw["show_error"] is False


# --- The handlers against the real engine (calls recorded on the way through) --

def _recorded(monkeypatch, name):
    """vidext.api.<name> (what the handlers call) wrapped: each call's keyword arguments recorded, then the
    real function run."""
    real, calls = getattr(vidext.api, name), []

    def fn(*args, **kwargs):
        calls.append({k: v for k, v in kwargs.items() if k not in ("progress",)})
        return real(*args, **kwargs)

    monkeypatch.setattr(vidext.api, name, fn)
    return calls


def test_extend_handler_maps_the_form(clip, tmp_path, monkeypatch):
    calls = _recorded(monkeypatch, "extend")
    src = clip("e.mp4", frames=10, width=64, height=48)
    out = handlers.run_extend(src, str(tmp_path), seconds=0.5, direction="both", method="loop", seed=-1,
                              audio_method="loop", prompt="", quantize="none", codec="h264", crf=0.0,
                              stop=threading.Event())
    (call,) = calls
    assert not {"seed", "prompt", "quantize", "crf"} & set(call)  # "unset" in the form: the engine's defaults
    assert call["stop"] is not None and call["seconds"] == 0.5 and call["direction"] == "both"
    assert out.output == str(tmp_path / "e-extended.mp4") and out.playable
    assert out.details["frames_out"] == 10 + 2 * 12  # 0.5 s at 24 fps on each side
    assert "**Done:**" in out.summary and "fps" in out.summary
    handlers.run_extend(src, str(tmp_path), seconds=0.5, seed=7, method="freeze", crf=23.0)
    assert calls[-1]["seed"] == 7 and calls[-1]["crf"] == 23


def test_audio_handler_uses_only_what_fits_the_file(clip, tmp_path, monkeypatch):
    from test_app import _tone_wav

    calls = _recorded(monkeypatch, "audio")
    tone = _tone_wav(str(tmp_path / "tone.wav"))
    out = handlers.run_audio(tone, str(tmp_path), stretch=2.0, extend=0, direction="forward", method="loop",
                             prompt="", audio_file=None, seed=-1)
    assert calls[-1]["stretch"] == 2.0 and "extend" not in calls[-1] and "audio_file" not in calls[-1]
    assert out.output.endswith("tone-audio.wav") and out.playable == out.output
    assert "stretched" in out.summary
    with pytest.raises(ParameterError, match="set a time-stretch"):
        handlers.run_audio(tone, str(tmp_path), stretch=1, extend=0)
    # a video: the stretch slider does not apply; a replacement sound is what it needs
    src = clip("a.mp4", frames=10, width=64, height=48)
    with pytest.raises(ParameterError, match="choose a sound file to put on this video"):
        handlers.run_audio(src, str(tmp_path), stretch=2.0)
    out = handlers.run_audio(src, str(tmp_path), stretch=2.0, audio_file=tone)
    assert calls[-1]["audio_file"] == tone and "stretch" not in calls[-1]
    assert out.output.endswith("a-audio.mp4")


def test_evaluate_handler_names_no_server_path(clip, tmp_path, monkeypatch):
    src = clip("v.mp4", frames=9, width=64, height=48, tone_hz=None)
    job = tmp_path / "job"
    job.mkdir()
    out = handlers.run_evaluate(src, str(job), methods=["blend", "fast"], factor=2, max_frames=0)
    assert out.details["input"] == "v.mp4"
    page = open(out.page, encoding="utf-8").read()
    assert str(tmp_path) not in page and "v.mp4" in page
    assert str(tmp_path) not in open(out.output, encoding="utf-8").read()
    assert out.files and all(p.endswith(".png") for p in out.files)
    assert "quality_speed" in out.figures and "PSNR (dB) ↑" in out.summary and "★" in out.summary


def _events(demo) -> dict:
    return {fn.api_name: fn for fn in demo.fns.values() if fn.api_name}


def test_queue_groups_cpu_and_gpu_jobs(monkeypatch, tmp_path):
    pytest.importorskip("gradio")
    import app
    from vidext import config
    from vidext.webapp.ui.common import APP_CPU_CONCURRENCY_ID, APP_GPU_CONCURRENCY_ID

    demo = app.build_demo(jobs.Workspace(str(tmp_path / "a")))
    ev = _events(demo)
    assert {"interpolate", "extend", "audio", "evaluate"} <= set(ev)
    assert demo._queue.max_size == config.APP_QUEUE_MAX_SIZE
    for name in ("interpolate", "extend", "audio", "evaluate"):
        assert ev[name].concurrency_id == APP_CPU_CONCURRENCY_ID  # no GPU, no weights here
        assert ev[name].concurrency_limit == config.APP_CPU_CONCURRENCY
    # with a GPU and RIFE's weights at hand, Interpolate and Evaluate join the one-at-a-time GPU queue
    monkeypatch.setattr(caps, "gpu", lambda: caps.Feature("gpu", True, "test GPU"))
    monkeypatch.setattr(caps, "weights", lambda model: caps.Feature(model, model == "rife-4.25"))
    demo = app.build_demo(jobs.Workspace(str(tmp_path / "b")))
    ev = _events(demo)
    for name in ("interpolate", "evaluate"):
        assert ev[name].concurrency_id == APP_GPU_CONCURRENCY_ID and ev[name].concurrency_limit == 1
    assert ev["extend"].concurrency_id == APP_CPU_CONCURRENCY_ID  # svd/ltx weights absent


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

    monkeypatch.setattr(vidext.api, "preview", preview)
    src = clip("p.mp4", frames=48, width=64, height=48, tone_hz=None)
    job = tmp_path / "job"
    job.mkdir()
    out = handlers.run_preview(src, str(job), factor=2.0, fps=0, slowmo=1, start=0, end=2.0,
                               quality="fast", model="dis")
    assert calls == [dict(factor=2, quality="fast", model="dis")]  # unset options left to the defaults
    handlers.run_preview(src, str(job), factor=2, fps=60, start=0.5, end=1.0, quality="fast", model="dis")
    assert calls[-1] == dict(fps=60, start=0.5, end=1.0, quality="fast", model="dis")  # typed fps wins
    assert out.output == str(job / "p-preview.mp4") and open(out.output, "rb").read() == b"excerpt"


def test_the_result_line_and_the_api_name_what_was_converted_and_not_kept(tmp_path):
    """An MKV film (two sound tracks, SRT subtitles, PGS picture subtitles, chapters) made smoother in
    the app: its MP4 keeps both tracks and the chapters, converts the SRT to mov_text and cannot carry
    the PGS; the result line says so in the CLI's words, and the API's details carry the sidecar's
    ``dropped`` and ``converted`` records."""
    from fractions import Fraction

    from test_streams import Rich, Subs, Track, make_rich

    from vidext.media.streamwords import stream_fates

    film = Rich("film", ".mkv", (Track("aac", "eng", "English", disposition=("default",)),
                                 Track("libopus", "fra", "Commentary", "mono", ("comment",))),
                (Subs("subrip", "eng", "English"),),
                pgs=((Fraction(4, 25), True), (Fraction(12, 25), False)))
    src = make_rich(tmp_path, film)
    job = tmp_path / "job"
    job.mkdir()
    out = handlers.run_interpolate(src, str(job), factor=2, quality="fast", model="blend")
    assert out.output.endswith(".mp4")
    said = out.summary
    assert said.startswith("**Done:** 1.00 s · 50 frames at 50 fps · sound kept as it was (2 tracks)"), said
    assert "**Also kept:** 1 subtitle track, 3 chapters" in said, said
    assert '**Converted:** #3 SRT subtitles (eng, "English") → MP4 text (mov_text): the MP4 container ' \
           "carries no SRT subtitles; its text subtitles are mov_text" in said, said
    assert "**Not kept:** #4 PGS (Blu-ray) subtitles (eng): the MP4 container carries no PGS (Blu-ray) " \
           "picture subtitles" in said, said
    # the same lines as the CLI prints, from the same record
    with open(out.files[-1]) as f:
        record = json.load(f)["output"]
    assert [fate for fate, _ in stream_fates(record)] == ["kept", "converted", "dropped"]
    # the API's details: the sidecar's records, as JSON a client reads
    details = json.loads(json.dumps(out.details))
    assert [(d["stream"], d["codec"]) for d in details["dropped"]] == [(4, "hdmv_pgs_subtitle")]
    assert [(d["stream"], d["codec"], d["to"]) for d in details["converted"]] == [(3, "subrip", "mov_text")]
    assert [t["language"] for t in details["audio_tracks"]] == ["eng", "fra"] and details["chapters"] == 3
    # a job that keeps everything as it was says so in one line, with nothing "not kept"
    plain = handlers.run_interpolate(src, str(job), factor=2, quality="fast", model="blend", codec="ffv1")
    assert "Not kept" not in plain.summary and "Converted" not in plain.summary
    assert "**Also kept:** 2 subtitle tracks, 3 chapters" in plain.summary, plain.summary


def _text_boxes(svg: str) -> list[tuple[str, float, float, float, float]]:
    """Each SVG ``<text>``'s words and box (x0, y0, x1, y1) in the SVG's units, its glyphs taken as wide as
    0.6 of the font's 12 units (a generous width for the sans-serif the page draws them in)."""
    import html
    import re

    boxes = []
    for m in re.finditer(r'<text x="([\d.]+)" y="([\d.]+)"([^>]*)>([^<]*)</text>', svg):
        x, y, attrs, words = float(m.group(1)), float(m.group(2)), m.group(3), html.unescape(m.group(4))
        w = 0.6 * 12 * len(words)
        anchor = re.search(r'text-anchor="(\w+)"', attrs)
        x0 = {"end": x - w, "middle": x - w / 2}.get(anchor.group(1) if anchor else "start", x)
        boxes.append((words, x0, y - 10, x0 + w, y + 3))
    return boxes


def _mark_boxes(svg: str) -> list[tuple[str, float, float, float, float]]:
    """Each point's mark (a dot, or a ✗ drawn from its corner ``M x-5,y-5``) as a box, stroke included."""
    import re

    dots = [(float(m.group(1)), float(m.group(2)), float(m.group(3)))
            for m in re.finditer(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)"', svg)]
    crosses = [(float(m.group(1)) + 5, float(m.group(2)) + 5, 6.0) for m in re.finditer(r'<path d="M([\d.]+),([\d.]+)L', svg)]
    return [("mark", x - r, y - r, x + r, y + r) for x, y, r in dots + crosses]


@pytest.mark.parametrize("scores", [
    # the walk on carphone: ramp passed just under the threshold, at the right end, under its words
    {"seamless": 3.2, "motion": 1.9, "pingpong": 2.1, "freeze": 2.1, "ramp": 0.85},
    {"ramp": 1.05, "freeze": 0.98, "motion": 1.0, "seamless": 0.2},
    {"freeze": 0.4},
])
def test_the_extend_plots_words_never_overlap(scores):
    """Extend's live plot names each candidate above its point; the threshold's words ("passes at or
    below") lay where a point can be, under the ramp's name.  No two words or marks of the plot overlap (a
    name's descenders touched its ✗), and the threshold is still said (in the legend, by its dashed line)."""
    from vidext.webapp import live

    series = {m: [(i + 1, y)] for i, (m, y) in enumerate(scores.items())}
    series["fails"] = [(i + 1, y) for i, y in enumerate(scores.values()) if y > 1]
    drawn = live.plot("extend", series)
    boxes = _text_boxes(drawn)
    names = [b[0] for b in boxes]
    marks = _mark_boxes(drawn)
    assert len(marks) == len(scores)
    boxes += marks
    assert all(m in names for m in scores), names
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2]
            assert apart or a[0] == b[0] == "mark", (a, b)
    assert "passes at or below" in drawn.split("</svg>")[1] and 'stroke-dasharray="4 3"' in drawn
