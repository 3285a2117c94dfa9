"""Progress a person can trust: one job-level model (vidext.media.runner) used by every job.

Named stages with their own share of the bar, a warm-up before any time left ("estimating…"), the bar
never full while a stage runs, the final figure the wall time with its split by stage, and the evidence
each job measures sent as points while it runs.  The clock is a fake one wherever a figure depends on it.
"""
from __future__ import annotations

import json
import threading
from dataclasses import replace

import numpy as np
import pytest

import vidext
from vidext.media import runner
from vidext.media.runner import JobProgress, Point, Progress, ProgressMeter, Stage


class Clock:
    """``time.perf_counter`` for the runner, moved by hand."""

    def __init__(self, monkeypatch):
        self.now = 1000.0
        monkeypatch.setattr(runner.time, "perf_counter", lambda: self.now)

    def tick(self, seconds: float) -> None:
        self.now += seconds


# --- one stage: the meter ----------------------------------------------------------------------

def test_no_time_left_before_the_warm_up_then_the_measured_rate(monkeypatch):
    """A slow first item (models load) gives no wild first estimate: "estimating…" until items were
    measured after the warm-up, then the time left from their rate only."""
    clock = Clock(monkeypatch)
    got: list[Progress] = []
    meter = ProgressMeter(100, got.append, "rendering")
    clock.tick(30.0)                       # the first frame takes 30 s (a model loading)
    meter.advance(force=True)
    assert got[-1].eta is None and got[-1].words() == "rendering · 1/100 frames · estimating… (30 s so far)"
    for _ in range(runner.WARMUP_ITEMS + runner.ESTIMATE_MIN_ITEMS + 2):
        clock.tick(0.5)
        meter.advance(force=True)
    p = got[-1]
    assert p.rate == pytest.approx(2.0) and p.eta == pytest.approx((100 - p.done) / 2.0)
    assert p.words().endswith(f"{round(p.eta)} s left")


def test_counts_say_their_unit():
    p = Progress(32, 80, 0.0, 1.0, None, "sound", unit="s of sound", scale=10)
    assert p.counts() == "3.2/8.0 s of sound"
    assert "frames" not in p.words()


# --- a job: stages on one bar ------------------------------------------------------------------

def _stages():
    return [Stage("measuring", "measuring the methods", 1.0), Stage("rendering", "rendering", 3.0, total=10),
            Stage("playable", "playable copy", 1.0, total=10, key="test-playable")]


def test_every_stage_has_its_share_and_the_bar_is_never_full_while_one_runs(monkeypatch):
    clock = Clock(monkeypatch)
    JobProgress.speeds.pop("test-playable", None)
    got: list[Progress] = []
    job = JobProgress(got.append, _stages(), heartbeat_s=None)
    m = ProgressMeter(4, job.enter("measuring"), "auto")
    for _ in range(4):
        clock.tick(1.0)
        m.advance(force=True)
    assert got[-1].stage == "measuring" and got[-1].then == ("rendering", "playable copy")
    assert got[-1].bar < 0.2                           # its share: 1 of 5, never full before it ends
    m = ProgressMeter(10, job.enter("rendering"), "interpolate")
    assert got[-1].bar == pytest.approx(0.2)
    for _ in range(10):
        clock.tick(0.5)
        m.advance(force=True)
    m.finish()
    assert 0.7 < got[-1].bar < 0.8 and got[-1].label == "rendering"
    m = ProgressMeter(10, job.enter("playable"), "playable")
    for _ in range(10):
        clock.tick(0.2)
        m.advance(force=True)
    assert got[-1].bar < 1.0                           # every frame counted, the file not closed yet
    clock.tick(0.3)
    timings = job.finish()
    bars = [p.bar for p in got]
    assert bars == sorted(bars) and bars[-1] == 1.0     # it never goes back; full at the end only
    assert timings == {"seconds": pytest.approx(11.3), "stages": {"measuring": pytest.approx(4.0),
                                                                  "rendering": pytest.approx(5.0),
                                                                  "playable": pytest.approx(2.3)}}
    assert got[-1].words() == "done in 11 s"
    assert JobProgress.speeds["test-playable"] == pytest.approx(10 / 2.3)    # remembered for the next job


def test_a_stage_to_come_is_estimated_from_the_speed_measured_before(monkeypatch):
    """With the playable copy's speed known (a job before), the time left covers it: no "then"."""
    clock = Clock(monkeypatch)
    JobProgress.speeds["test-playable"] = 5.0       # frames per second
    got: list[Progress] = []
    job = JobProgress(got.append, _stages()[1:], heartbeat_s=None)
    m = ProgressMeter(10, job.enter("rendering"), "interpolate")
    for _ in range(9):
        clock.tick(1.0)
        m.advance(force=True)
    p = got[-1]
    assert p.then == () and p.job_eta == pytest.approx(p.eta + 10 / 5.0)
    assert p.words() == f"rendering · 9/10 frames · {round(p.job_eta)} s left"
    job.finish()


def test_the_apps_line_says_the_jobs_share_first_and_names_it():
    """The app's line (Gradio's own trailing percentage hidden): "then: rendering - 53.6%" read as
    rendering being half done, while the figure was the whole job's.  The job's share comes first, named,
    then the stage, its own count, the time left and what comes next: the CLI's words."""
    p = Progress(5, 9, 0.0, 3.2, None, "measuring", unit="test frames", label="measuring the methods on your clip",
                 job_fraction=0.536, job_elapsed=3.4, then=("rendering",))
    assert p.line() == ("53% of the job · measuring the methods on your clip · 5/9 test frames · "
                        "estimating… (3 s so far), then: rendering")
    assert p.line().endswith(p.words())                 # the stage's words, as the CLI says them
    assert replace(p, job_fraction=0.9999).share_words() == "99% of the job"     # 100 % only at the end
    assert replace(p, job_fraction=None).line() == p.words()       # only a stage's share known: its count says it
    done = replace(p, job_fraction=1.0, job_eta=0.0, job_elapsed=12.0)
    assert done.line() == done.words() == "done in 12 s"


def test_stages_never_entered_are_skipped_and_take_no_share(monkeypatch):
    Clock(monkeypatch)
    got: list[Progress] = []
    job = JobProgress(got.append, _stages(), heartbeat_s=None)
    m = ProgressMeter(10, job.enter("rendering"), "interpolate")
    m.advance(10, force=True)
    assert got[-1].bar == pytest.approx(0.6 * runner.STAGE_OPEN_MAX)   # 3 of 5, measuring never ran yet
    job.finish()
    assert [(s.name, s.state) for s in got[-1].stages] == [("measuring", "skipped"), ("rendering", "done"),
                                                           ("playable", "skipped")]


def test_work_of_another_stage_inside_one_is_its_own_stage(monkeypatch):
    """extend chooses its method between frames: "choosing" shows while it runs, the rendering's count
    and rate wait, and the rendering warms up again after it."""
    clock = Clock(monkeypatch)
    got: list[Progress] = []
    job = JobProgress(got.append, [Stage("choosing", "choosing how to extend", 1.0, total=2),
                                   Stage("rendering", "rendering", 1.0, total=20)], heartbeat_s=None)
    m = ProgressMeter(20, job.enter("rendering"), "extend")
    m.phase("choosing")
    clock.tick(3.0)
    m.point(1, 0.5, "motion")
    m.phase(None)
    assert [p.stage for p in got] == ["rendering", "choosing", "rendering"]
    assert got[1].done == 0 and got[1].label == "choosing how to extend"
    assert got[-1].points == (Point(1.0, 0.5, "motion"),)
    for _ in range(20):
        clock.tick(0.1)
        m.advance(force=True)
    m.phase("choosing")
    clock.tick(2.0)
    m.phase(None)
    m.finish()
    t = job.finish()
    assert t["stages"] == {"choosing": pytest.approx(5.0), "rendering": pytest.approx(2.0)}


def test_a_job_inside_a_stage_of_another_reports_as_that_stage(monkeypatch):
    """The app's evaluate: the engine's job (loading, scoring) runs inside the tab's first stage, the
    report page after it; the split names the engine's stages and the page."""
    clock = Clock(monkeypatch)
    got: list[Progress] = []
    outer = JobProgress(got.append, [Stage("measuring", "measuring", 9.0), Stage("page", "the report page", 1.0)],
                        heartbeat_s=None)
    inner = JobProgress(outer.enter("measuring"), [Stage("loading", "loading", 1.0),
                                                   Stage("scoring", "scoring", 1.0, total=4)])
    inner.enter("loading")
    clock.tick(1.0)
    m = ProgressMeter(4, inner.enter("scoring"), "evaluate")
    m.advance(4, force=True)
    assert got[-1].label == "scoring" and got[-1].bar == pytest.approx(0.9 * runner.STAGE_OPEN_MAX)
    clock.tick(1.0)
    inner.finish()
    outer.enter("page")
    clock.tick(0.5)
    outer.finish()
    assert got[-1].bar == 1.0
    assert runner.stage_split(got[-1].stages) == "loading 1.0 s · scoring 1.0 s · the report page 0.5 s"


def test_a_running_stage_reports_without_news(monkeypatch):
    """A long item (a model loading, a slow frame) still changes what a person sees: the job's last
    report is sent again with its time so far."""
    got: list[Progress] = []
    beat = threading.Event()

    def seen(p):
        got.append(p)
        if len(got) >= 3:
            beat.set()

    job = JobProgress(seen, _stages(), heartbeat_s=0.05)
    job.enter("measuring")
    assert beat.wait(30)
    job.finish()
    n = len(got)
    assert all(p.stage == "measuring" for p in got[:3])
    assert len(got) == n                               # the heartbeat stopped with the job


def test_points_are_sent_with_the_next_report_and_kept_thinned(monkeypatch):
    Clock(monkeypatch)
    monkeypatch.setattr(runner, "SERIES_MAX_POINTS", 8)
    got: list[Progress] = []
    job = JobProgress(got.append, [Stage("rendering", "rendering")], heartbeat_s=None)
    m = ProgressMeter(20, job.enter("rendering"), "interpolate")
    for k in range(20):
        m.point(k / 10, k / 100, "occlusion")
    m.point(1.0, None, "cut")
    m.advance(force=True)
    assert len(got[-1].points) == 21 and got[-1].points[-1] == Point(1.0, None, "cut")
    m.advance(force=True)
    assert got[-1].points == ()
    job.finish()
    series = job.series()
    assert series["cut"] == [[1.0, None]] and len(series["occlusion"]) <= 8
    assert series["occlusion"][0] == [0.0, 0.0]


# --- the jobs ----------------------------------------------------------------------------------

def _stage_names(got: list[Progress]) -> list[str]:
    names = []
    for p in got:
        if p.stage and (not names or names[-1] != p.stage):
            names.append(p.stage)
    return names


def test_interpolate_names_its_stages_and_sends_what_each_in_between_showed(tmp_path, clip):
    """A 4:4:4 clip into MP4: rendering, then the playable copy (announced from the start); the
    flow's share it could not follow per in-between, the cut marked; the wall time split by stage in
    the sidecar and the result."""
    a = clip("a.mkv", frames=12, width=96, height=64, codec="libx264", pix_fmt="yuv444p", seed=1, tone_hz=None)
    b = clip("b.mkv", frames=12, width=96, height=64, codec="libx264", pix_fmt="yuv444p", seed=7, tone_hz=None,
             motion=(-4.0, 2.0))
    cut = str(tmp_path / "cut.mkv")
    _join(a, b, cut)
    got: list[Progress] = []
    out = str(tmp_path / "o.mp4")
    r = vidext.interpolate(cut, out, factor=2, model="dis", progress=got.append, playable=True)
    assert _stage_names(got) == ["rendering", "playable", "done"]
    assert got[0].then == ("playable copy",)
    assert r.playable_path and r.series["cut"] and len(r.series["cut"]) == 1
    assert 11.0 < r.series["cut"][0][0] * 25 < 13.0                # at the second clip's first frame
    occ = r.series["occlusion"]
    assert len(occ) == 22 and all(0 <= y <= 1 for _, y in occ)       # one per in-between (no pair at the cut)
    sidecar = json.loads(open(out + ".json").read())
    t = sidecar["timings"]
    assert set(t["stages"]) == {"rendering", "playable"} and t["seconds"] == r.seconds
    assert sum(t["stages"].values()) <= t["seconds"]
    assert got[-1].words().startswith("done in")


def _join(a: str, b: str, out: str) -> None:
    """Two clips one after the other (the second shot starts at frame 12): a scene cut."""
    from fractions import Fraction

    import av

    k = 0
    with av.open(out, "w") as o:
        s = o.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 96, 64, "yuv444p"
        s.options = {"crf": "12", "preset": "ultrafast"}
        for path in (a, b):
            with av.open(path) as c:
                for f in c.decode(video=0):
                    g = f.reformat(format="yuv444p")
                    g.pts, g.time_base = k, Fraction(1, 25)
                    k += 1
                    for p in s.encode(g):
                        o.mux(p)
        for p in s.encode():
            o.mux(p)


def test_a_copy_that_is_not_needed_is_never_announced(tmp_path, clip):
    src = clip("c.mp4", frames=10, width=64, height=48, tone_hz=None)
    got: list[Progress] = []
    r = vidext.interpolate(src, str(tmp_path / "o.mp4"), factor=2, model="blend", progress=got.append,
                           playable=True)
    assert r.playable_path is None and all(not p.then for p in got)
    assert _stage_names(got) == ["rendering", "done"]
    assert "occlusion" not in r.series and r.series["change"]      # a cross-fade estimates no motion


def test_interpolate_auto_sends_each_method_as_it_is_tried(tmp_path, clip):
    """While auto measures (before rendering says anything) the live view has evidence: each
    candidate's luma PSNR on each held-out frame, the same figures the measurement table averages."""
    from vidext.jobs.auto import TRIED
    from vidext.webapp import live

    src = clip("c.mp4", frames=40, width=96, height=64, tone_hz=None)
    got: list[Progress] = []
    r = vidext.interpolate(src, str(tmp_path / "o.mp4"), factor=2, model="auto", progress=got.append)
    measuring = [pt for p in got if p.stage == "measuring" for pt in p.points]
    assert measuring and all(pt.kind.startswith(TRIED) for pt in measuring)
    table = {row["method"]: row for row in r.details["auto"]["table"]}
    for method, row in table.items():
        ys = [pt.y for pt in measuring if pt.kind == TRIED + method]
        assert len(ys) == row["frames"] and np.mean(ys) == pytest.approx(row["psnr_y"], abs=1e-3)
    before = live.gather(measuring)
    drawn = live.plot("interpolate", before)
    assert "tried on frames of your clip" in drawn and 'data-points="%d"' % len(measuring) in drawn
    after = live.plot("interpolate", live.gather([pt for p in got for pt in p.points]))
    assert "motion misses" in after        # once rendering reports, its evidence is what is drawn


def test_extend_auto_chooses_as_a_stage_and_sends_each_candidate(tmp_path, clip):
    src = clip("c.mp4", frames=30, width=96, height=64, tone_hz=None)
    got: list[Progress] = []
    r = vidext.extend(src, str(tmp_path / "o.mp4"), seconds=0.4, method="auto", progress=got.append)
    assert "choosing" in _stage_names(got) and _stage_names(got)[-1] == "done"
    measured = {k for k, v in r.series.items() if k != "fails" and v}
    assert {"motion", "freeze"} <= measured
    figures = r.details["extension"]["auto"]["forward"]["candidates"]
    failed = {x for x, _ in r.series.get("fails", [])}
    for method in measured:         # each candidate once, marked failed exactly when its figures say so
        (x, worst), = r.series[method]
        assert (x in failed) == (not figures[method]["passed"]) and (worst > 1) == (x in failed)
    assert set(r.details["timings"]["stages"]) == {"choosing", "rendering"}


def test_extend_backward_auto_says_choosing_while_it_reads_the_clip_for_the_choice(tmp_path, clip, monkeypatch):
    """Extending before the start, every side is planned before a frame is written: while the clip is
    read for the choice, the line says "choosing how to extend", not "rendering 0/N frames"."""
    from vidext.extension import pipeline

    src = clip("c.mp4", frames=30, width=96, height=64, tone_hz=None)
    got: list[Progress] = []
    shown_while_reading = []
    observe = pipeline.ClipIndex.observe

    def observed(self, frame):
        shown_while_reading.append(got[-1].stage)
        return observe(self, frame)

    monkeypatch.setattr(pipeline.ClipIndex, "observe", observed)
    vidext.extend(src, str(tmp_path / "o.mp4"), seconds=0.4, method="auto", direction="backward",
                  progress=got.append)
    assert shown_while_reading and set(shown_while_reading) == {"choosing"}, set(shown_while_reading)
    assert _stage_names(got)[-1] == "done"


def test_evaluate_names_its_stages_and_sends_each_scored_frame(tmp_path, clip):
    src = clip("c.mp4", frames=13, width=96, height=64, tone_hz=None)
    got: list[Progress] = []
    report = vidext.evaluate(src, methods="blend,fast", metrics="psnr_y", progress=got.append)
    assert _stage_names(got) == ["loading", "scoring", "report", "done"]
    pts = [pt for p in got for pt in p.points]
    assert {pt.kind for pt in pts} == {"blend", "fast"}
    assert sorted(pt.y for pt in pts if pt.kind == "fast") == pytest.approx(
        sorted(report.method("fast").scores["psnr_y"]))
    assert report.seconds >= got[-1].stages[1].seconds
    timings = report.as_dict()["timings"]
    assert set(timings["stages"]) == {"loading", "scoring", "report"} and timings["seconds"] == round(report.seconds, 3)


def test_audio_counts_seconds_of_sound(tmp_path):
    from helpers import tone
    from vidext.media.synth import write_audio

    src = write_audio(str(tmp_path / "t.wav"), np.stack([tone(2.0)]), 48000)
    got: list[Progress] = []
    r = vidext.audio(src, str(tmp_path / "o.wav"), stretch=2, progress=got.append)
    counted = [p for p in got if p.total]
    assert counted and all(p.unit == "s of sound" for p in counted)
    assert all("frames" not in p.words() for p in got)
    assert counted[-1].counts() == "4.0/4.0 s of sound"
    assert r.details["timings"]["stages"].keys() == {"sound"}


def test_the_rate_follows_a_machine_that_gets_quicker(monkeypatch):
    """Another job ends mid-stage and frames come 4× quicker: within the rate's window the time left
    follows (a rate since the start would still say three times too much)."""
    clock = Clock(monkeypatch)
    got: list[Progress] = []
    meter = ProgressMeter(400, got.append, "rendering")
    for _ in range(40):
        clock.tick(0.4)
        meter.advance(force=True)
    for _ in range(60):
        clock.tick(0.1)
        meter.advance(force=True)
    assert got[-1].rate == pytest.approx(10.0) and got[-1].eta == pytest.approx(30.0)


def test_a_stage_that_counted_everything_says_how_long_it_has_been_closing(monkeypatch):
    clock = Clock(monkeypatch)
    got: list[Progress] = []
    job = JobProgress(got.append, [Stage("rendering", "rendering", total=10)], heartbeat_s=None)
    m = ProgressMeter(10, job.enter("rendering"), "interpolate")
    for _ in range(10):
        clock.tick(0.5)
        m.advance(force=True)
    clock.tick(3.0)                     # the encoder writes the frames it holds
    job._send(None, force=True)         # what the heartbeat sends
    assert got[-1].words() == "rendering · 10/10 frames · finishing… (3 s)"
    job.finish()


def test_the_api_answer_carries_the_series(tmp_path, clip):
    """What /interpolate answers gradio_client (the handler's details): the evidence the live plot drew."""
    from vidext.webapp import handlers

    src = clip("c.mp4", frames=10, width=64, height=48, tone_hz=None)
    out = handlers.run_interpolate(src, str(tmp_path), factor=2, model="dis")
    series = out.details["series"]
    assert len(series["occlusion"]) == 9 and len(series["change"]) == 9
    assert all(isinstance(x, float) and 0 <= y <= 1 for x, y in series["occlusion"])
