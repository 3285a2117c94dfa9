"""The evaluation as a person reads it: the verdict, the ★, the names and colours, the report page."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

import vidext
from vidext.evaluation.labels import method_name
from vidext.evaluation.page import score_table, sound_line
from vidext.evaluation.report import NOT_MEASURABLE, MethodResult
from vidext.evaluation.verdict import MEANINGFUL, difference, stars, verdict

METRICS = [{"name": "psnr_y", "unit": "dB", "higher_is_better": True},
           {"name": "lpips", "unit": "", "higher_is_better": False}]


def _method(name, psnr, fps, lpips=None, population=None):
    m = MethodResult(name, {}, frames=len(psnr), seconds=len(psnr) / fps)
    m.scores = {"psnr_y": list(psnr)}
    if lpips is not None:
        m.scores["lpips"] = list(lpips)
    m.population = population or len(psnr)
    return m


def _content(n=30, seed=0):
    """Per-frame scores that vary a lot from frame to frame (the clip's content), as real ones do."""
    return 32 + 3 * np.random.default_rng(seed).standard_normal(n)


def test_a_small_steady_lead_counts_although_each_mean_has_a_wide_interval():
    base = _content()
    noise = np.random.default_rng(1).standard_normal(30) * 0.1
    a = _method("rife", base + 0.8 + noise, 10, population=100)
    b = _method("fast", base, 30, population=100)
    ia, ib = a.interval("psnr_y"), b.interval("psnr_y")
    assert ia[0] < ib[1]                                    # the means' own intervals overlap...
    d = difference(a, b, "psnr_y", True)
    assert d.outcome == "better" and d.low > 0.5            # ...frame by frame, the lead is clear
    v = verdict([a, b], METRICS)
    assert v.leaders == ["rife"] and [k for k, _ in v.behind] == ["fast"]
    assert v.text() == "RIFE comes closest to the real frames; Flow (fast) is 0.8 dB worse and 3.0× quicker."
    assert stars([a, b], METRICS)["psnr_y"] == "rife"


def test_no_star_and_indistinguishable_within_the_noise():
    base = _content()
    rng = np.random.default_rng(2)
    a = _method("balanced", base + rng.standard_normal(30) * 1.0 + 0.02, 30, population=100)
    b = _method("rife", base + rng.standard_normal(30) * 1.0, 2, population=100)
    c = _method("blend", base - 2.0, 600, population=100)
    v = verdict([a, b, c], METRICS)
    assert set(v.leaders) == {"balanced", "rife"} and [k for k, _ in v.behind] == ["blend"]
    assert stars([a, b, c], METRICS)["psnr_y"] is None      # 32.07 over 32.05 is no win
    text = v.text()
    assert text.startswith("Flow (balanced) and RIFE are indistinguishable here (Flow (balanced) is 15× quicker "
                           "than RIFE)")
    assert re.search(r"; Cross-fade is 2\.\d dB worse and 20× quicker\.$", text), text


def test_an_exact_but_tiny_difference_is_no_difference():
    base = _content()
    a = _method("fast", base + MEANINGFUL["psnr_y"] / 2, 30)  # every frame scored: the interval is 0 wide
    b = _method("balanced", base, 30)
    assert a.interval("psnr_y") == (a.mean("psnr_y"), a.mean("psnr_y"))
    assert difference(a, b, "psnr_y", True).outcome == "same"
    v = verdict([a, b], METRICS)
    assert v.behind == [] and "are all indistinguishable here" in v.text()


def test_lower_is_better_metrics_and_frames_scored_by_one_method_only():
    a = _method("fast", _content(), 30, lpips=[0.05, None, 0.06, None, 0.05] + [None] * 25)
    b = _method("quality", _content(), 10, lpips=[0.15, None, 0.16, None, 0.17] + [None] * 25)
    d = difference(a, b, "lpips", False)
    assert d.frames == 3 and d.gain == pytest.approx(0.1073, abs=1e-3) and d.outcome == "better"
    c = _method("rife", _content(), 5, lpips=[None] * 30)
    assert difference(a, c, "lpips", False) is None


def test_the_tables_are_the_same_cells_in_the_app_and_the_page():
    report = {"methods": [{"name": "blend", "psnr_y": 30.123, "lpips": 0.2, "frames_per_second": 900.0,
                           "interval": {"psnr_y": [29.0, 31.246], "lpips": [0.2, 0.2]}},
                          {"name": "fast", "psnr_y": 35.5, "lpips": 0.1, "frames_per_second": 40.04,
                           "interval": {"psnr_y": [34.5, 36.5]}}],
              "stars": {"psnr_y": "fast", "lpips": None, "frames_per_second": "blend"}}
    cols, rows = score_table(report)
    assert [c.heading() for c in cols] == ["PSNR (dB) ↑", "LPIPS ↓", "Speed (frames/s) ↑"]
    assert [n for n, _ in rows] == ["Cross-fade", "Flow (fast)"]
    blend, fast = rows[0][1], rows[1][1]
    assert (blend[0].value, blend[0].plus_minus, blend[0].star) == ("30.12", "1.12", False)
    assert blend[1].plus_minus == "" and blend[2].star and fast[0].star and not fast[1].star


def test_sound_line_never_nests_brackets():
    line = sound_line({"av_offset_s": None, "av_offset_note": NOT_MEASURABLE})
    assert line.startswith("Sound vs picture: not measurable on this clip") and "((" not in line
    assert not re.search(r"\([^)]*\(", line)
    assert sound_line({"av_offset_s": 0.04, "av_sync": {"flagged": True}}) == \
        "Sound vs picture: +40 ms, the sound comes late; more than a frame: check the sync."


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.text, self.tags = [], {}, []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        where = self.stack[-1] if self.stack else ""
        self.text.setdefault(where, []).append(data)


def test_the_report_page_is_a_page_with_the_verdict_table_charts_and_pictures(tmp_path, clip):
    src = clip(frames=13, width=192, height=112, tone_hz=None)
    r = vidext.evaluate(src, methods="blend,fast", metrics="psnr_y,ssim", report_dir=str(tmp_path / "rep"),
                        json_path=str(tmp_path / "r.json"))
    data = json.loads((tmp_path / "r.json").read_text())
    said = data["verdict"]["text"]
    assert said == r.verdict().text() and "Cross-fade" in said and "Flow (fast)" in said
    page = (tmp_path / "rep" / "report.html").read_text()
    parsed = _Page()
    parsed.feed(page)
    headings = [t.strip() for t in parsed.text.get("h2", [])]
    assert headings[:4] == ["Scores", "Charts", "Each method's worst frame", "The clip itself"]
    assert said in " ".join(parsed.text.get("p", []))
    assert any(tag == "table" for tag, _ in parsed.tags) and "<pre" not in page
    visible = " ".join(t for tag, texts in parsed.text.items() if tag not in ("script", "style") for t in texts)
    assert "--exhaustive" not in visible and "(z " not in visible and str(tmp_path) not in page
    assert sum(1 for tag, a in parsed.tags if tag == "img" and a.get("src", "").startswith("data:image/png")) == 4
    assert page.count("Plotly.newPlot") == 3 and "<script src" not in page
    assert r.summary().splitlines()[0] == r.verdict().text(name=str)   # the CLI leads with the same verdict


def _lab(hex_colour):
    import cv2

    rgb = np.array([[[int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]]], np.uint8)
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)[0, 0]


def test_charts_name_methods_as_the_table_does_in_distinct_colours(clip):
    src = clip(frames=9, width=192, height=112, tone_hz=None)
    r = vidext.evaluate(src, methods="duplicate,blend,fast,balanced,quality", metrics="psnr_y")
    for key in ("per_frame", "quality_speed"):
        shown = [t for t in r.figures[key].data if t.showlegend is not False]
        assert [t.name for t in shown] == [method_name(m.name) for m in r.methods], key
        colours = [t.marker.color for t in shown]
        for i in range(len(colours)):
            for j in range(i + 1, len(colours)):
                assert np.linalg.norm(_lab(colours[i]) - _lab(colours[j])) > 25, (colours[i], colours[j])
    titles = [a.text for a in r.figures["per_frame"].layout.annotations]
    assert titles == ["PSNR, higher is better"]
