"""--model auto: the choice on a clip with a known winner, the rule, the frame budget, the records."""
from __future__ import annotations

import json
from fractions import Fraction

import pytest

import vidext
from vidext import config
from vidext._cli import main
from vidext.errors import ParameterError
from vidext.jobs.auto import Row, check_budget, choose, pick, synthesised_frames
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
    assert set(config.AUTO_CANDIDATES) <= set(rows)
    best = rows[c.chosen]
    assert best["psnr_y"] > rows["blend"]["psnr_y"] + 3 and best["lpips"] < rows["blend"]["lpips"]
    assert all(r["frames"] == rows["blend"]["frames"] > 0 for r in rows.values() if r["dropped"] is None)
    assert c.summary.startswith(f"auto chose {c.chosen}: LPIPS ") and "excerpt" in c.summary
    assert c.interpolator.describe()["quality"] == c.chosen
    assert len(c.excerpts) == config.AUTO_EXCERPTS and all(e["windows"] for e in c.excerpts)
    starts = [e["start_s"] for e in c.excerpts]
    assert starts == sorted(starts) and starts[-1] - starts[0] > 1.0       # spread over the 2.4 s clip


@pytest.mark.parametrize("budget", [0.3, 0.5, 1.0])
def test_the_budget_counts_frames_processed(pan, budget):
    c = choose(pan, probe_video(pan), new_frames=60, budget=budget)
    assert 0 < c.frames_measured <= int(budget * 60)
    assert c.frames_measured == sum(r["frames"] for r in c.table)
    assert c.budget["frames_allowed"] == int(budget * 60) and c.budget["fraction"] == budget


def test_too_small_a_budget_measures_nothing_and_says_so(pan):
    c = choose(pan, probe_video(pan), new_frames=60)          # 15% of 60 frames: 2 windows per method
    assert c.frames_measured == 0 and c.chosen == config.DEFAULT_QUALITY
    assert "without measuring" in c.summary


def _row(name, psnr_y, lpips, seconds):
    r = Row(name, Blend())
    r.psnr_y, r.lpips, r.times = [psnr_y], [lpips], [seconds]
    return r


def test_the_rule_perceptual_first_with_the_psnr_guard_and_ties_to_the_fastest():
    # quality is sharper but loses 0.8 dB: the guard keeps it from winning
    rows = [_row("fast", 31.0, 0.040, 0.05), _row("quality", 30.2, 0.030, 0.2), _row("blend", 28.0, 0.09, 0.001)]
    assert pick(rows, True)[0].name == "fast"
    # within 0.5 dB it wins on LPIPS
    rows[1].psnr_y = [30.6]
    chosen, other = pick(rows, True)
    assert (chosen.name, other.name) == ("quality", "fast")
    # an LPIPS tie goes to the faster method
    rows[1].lpips = [0.0395]
    assert pick(rows, True)[0].name == "fast"
    # without LPIPS: the best luma PSNR
    assert pick(rows, False)[0].name == "fast"


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
    assert abs(auto["budget"]["full_run_frames"] - r.details["stats"]["interpolated"]) <= 1   # the last frame is held
    assert main(["interpolate", pan, "-o", str(tmp_path / "c.mkv"), "--codec", "ffv1", "--model", "auto",
                 "--auto-budget", "0.5", "-q"]) == 0
    assert capsys.readouterr().out.startswith("auto chose ")
    with pytest.raises(ParameterError, match="auto_budget"):
        vidext.interpolate(pan, str(tmp_path / "x.mkv"), model="dis", auto_budget=0.2)
