"""--model auto: the choice on a clip with a known winner, the time-weighed rule, the budget in seconds, the records."""
from __future__ import annotations

import json
from fractions import Fraction

import pytest

import vidext
from vidext import config
from vidext._cli import main
from vidext.errors import ParameterError
from vidext.jobs import auto
from vidext.jobs.auto import Row, check_budget, choose, pick, rival, synthesised_frames, window_starts
from vidext.interpolation.base import Blend
from vidext.interpolation.flow import PRESETS
from vidext.media.probe import probe_video


@pytest.fixture
def pan(clip):
    """A large textured pan (7, 2 px a frame), lossless: every DIS preset beats a cross-fade by far."""
    return clip("pan.mkv", frames=60, width=192, height=112, motion=(7.0, 2.0), codec="ffv1", options={},
                tone_hz=None)


def test_auto_picks_a_flow_method_on_a_large_pan_and_records_the_table(pan):
    info = probe_video(pan)
    c = choose(pan, info, new_frames=60, budget=0.5)
    assert c.chosen in PRESETS
    rows = {r["method"]: r for r in c.table}
    assert set(auto.CANDIDATES) <= set(rows)
    best = rows[c.chosen]
    assert best["psnr_y"] > rows["blend"]["psnr_y"] + 3 and best["lpips"] < rows["blend"]["lpips"]
    assert all(r["frames"] >= auto.MIN_WINDOWS for r in rows.values() if r["dropped"] is None)
    assert c.summary.startswith(f"auto chose {c.chosen}: LPIPS ") and "excerpt" in c.summary
    assert c.interpolator.describe()["quality"] == c.chosen
    assert len(c.excerpts) >= auto.EXCERPTS and all(e["windows"] for e in c.excerpts)
    starts = [e["start_s"] for e in c.excerpts]
    assert starts == sorted(starts) and starts[-1] - starts[0] > 1.0       # spread over the 2.4 s clip


def test_a_short_clip_is_measured_within_the_floor_in_seconds(pan):
    """The issue's case: a 2-3 s upload, the default budget.  Counted in frames, 15 % of it allowed
    fewer than 3 windows per method and nothing was measured; in seconds of work, the floor holds them."""
    c = choose(pan, probe_video(pan), new_frames=60)
    assert c.frames_measured >= auto.MIN_WINDOWS * len(auto.CANDIDATES)
    assert c.budget["allowed_seconds"] == auto.FLOOR_S > c.budget["full_run_seconds_estimate"] * c.budget["fraction"]
    assert c.budget["estimated_seconds"] <= c.budget["allowed_seconds"]
    assert "without measuring" not in c.summary


def test_without_the_floor_too_small_a_budget_measures_nothing_and_says_so(pan, monkeypatch):
    monkeypatch.setattr(auto, "FLOOR_S", 0.0)
    c = choose(pan, probe_video(pan), new_frames=60, budget=0.001)
    assert c.frames_measured == 0 and c.chosen == config.DEFAULT_QUALITY
    assert "without measuring" in c.summary and "allowed" in c.summary
    assert {"quality", "fast"} <= {n.split()[0] for n in c.notes}        # left out, in order, before giving up


def _rows(**costs):
    return {name: Row(name, Blend(), cost) for name, cost in costs.items()}


def test_the_budget_leaves_the_costliest_out_first_and_grows_the_windows_with_the_allowance():
    rows = _rows(blend=0.0, fast=0.01, balanced=0.02, quality=0.2, rife=1.0)
    per_window = sum(r.cost for r in rows.values()) + auto.LPIPS_S_PER_WINDOW
    few, starts, why = auto._fit(list(rows.values()), 3.5 * per_window, 0, 599, 100, 100, True)
    assert (few, len(starts), why) == (3, 3, None) and not any(r.dropped for r in rows.values())
    many, starts, _ = auto._fit(list(rows.values()), 100 * per_window, 0, 599, 100, 100, True)
    assert many == auto.MAX_WINDOWS == len(starts)
    # room for 3 windows of everything but quality: quality is left out, rife stays
    n, _, _ = auto._fit(list(rows.values()), 3.5 * (per_window - 0.2), 0, 599, 100, 100, True)
    assert n == 3 and rows["quality"].dropped and not rows["rife"].dropped
    # a short clip: fewer than 3 windows exist at all
    assert auto._fit(list(_rows(blend=0.0, balanced=0.02).values()), 100.0, 0, 5, 100, 100, True)[2]


def test_window_starts_spread_without_overlap():
    s = window_starts(0, 299, 9)
    assert len(s) == 9 and all(b - a >= 2 for a, b in zip(s, s[1:]))
    assert s[0] < 100 <= s[3] < 200 <= s[6]                                # three excerpts, one per third
    more = window_starts(0, 299, 6, phase=0.0, taken=set(s))
    assert len(more) == 6 and all(abs(m - t) >= 2 for m in more for t in s)


def _row(name, cost, psnr_y, lpips):
    r = Row(name, Blend(), cost)
    r.psnr_y = dict(enumerate(psnr_y))
    r.lpips = {k: v for k, v in enumerate(lpips) if v is not None}
    r.times = [cost] * len(psnr_y)
    return r


def test_the_rule_weighs_time_a_slower_method_wins_only_past_the_noise():
    # the app's case: quality's LPIPS 0.078 against fast's 0.082 at the same PSNR, on 3 windows: fast
    fast = _row("fast", 0.01, [31.0, 30.0, 32.0], [0.080, 0.084, 0.082])
    quality = _row("quality", 0.2, [31.0, 30.0, 32.0], [0.076, 0.080, 0.078])
    assert pick([fast, quality], True)[0].name == "fast"
    assert rival([fast, quality], fast, True) is quality           # ahead, within the noise
    # 2 dB ahead on every window: past 2 x 0.98 / sqrt(3) = 1.13 dB
    quality.psnr_y = {k: v + 2.0 for k, v in fast.psnr_y.items()}
    assert pick([fast, quality], True)[0].name == "quality"
    # ... unless it is that much worse perceptually
    quality.lpips = {k: v + 0.03 for k, v in fast.lpips.items()}
    assert pick([fast, quality], True)[0].name == "fast"
    # +0.8 dB is noise on 3 windows, a real lead on 12 (threshold 0.57 dB)
    for n, winner in ((3, "fast"), (12, "quality")):
        f = _row("fast", 0.01, [30.0] * n, [0.05] * n)
        q = _row("quality", 0.2, [30.8] * n, [0.05] * n)
        assert pick([f, q], True)[0].name == winner, n
    # the fastest of equals wins, whatever the order given; without LPIPS, luma PSNR alone
    a, b = _row("balanced", 0.02, [30.0] * 3, [0.05] * 3), _row("fast", 0.01, [30.1] * 3, [0.05] * 3)
    assert pick([a, b], True)[0].name == "fast" and pick([a, b], False)[0].name == "fast"
    slow_better = _row("rife", 1.0, [33.0] * 3, [None] * 3)
    assert pick([b, slow_better], False)[0].name == "rife"


def test_budget_and_synthesised_frames_arithmetic():
    assert check_budget(None) == config.AUTO_BUDGET
    for bad in (0, -0.1, 1.5, "x", float("nan")):
        with pytest.raises(ParameterError, match="budget"):
            check_budget(bad)
    assert synthesised_frames(200, Fraction(50), Fraction(25), Fraction(1)) == 100       # 2x
    assert synthesised_frames(125, Fraction(30), Fraction(24), Fraction(1)) == 100       # 24 -> 30: 4 in 5 new
    assert synthesised_frames(100, Fraction(25), Fraction(25), Fraction(4)) == 75        # 4x slow motion


def test_interpolate_auto_records_the_choice_in_the_result_sidecar_and_cli(tmp_path, pan, capsys):
    out = str(tmp_path / "o.mkv")
    r = vidext.interpolate(pan, out, factor=2, model="auto", auto_budget=0.5, codec="ffv1")
    auto = r.details["auto"]
    assert set(auto) >= {"chosen", "table", "summary", "excerpts", "frames_measured", "budget"}
    assert r.details["parameters"]["quality"] == auto["chosen"]
    assert json.loads(open(r.sidecar).read())["auto"]["chosen"] == auto["chosen"]
    assert auto["budget"]["allowed_seconds"] >= auto["budget"]["estimated_seconds"] > 0
    assert main(["interpolate", pan, "-o", str(tmp_path / "c.mkv"), "--codec", "ffv1", "--model", "auto",
                 "--auto-budget", "0.5", "-q"]) == 0
    assert capsys.readouterr().out.startswith("auto chose ")
    with pytest.raises(ParameterError, match="auto_budget"):
        vidext.interpolate(pan, str(tmp_path / "x.mkv"), model="dis", auto_budget=0.2)
