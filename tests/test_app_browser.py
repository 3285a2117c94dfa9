"""The web app as a person uses it: Debian Chromium driven by Playwright, clicks and typing only.

Each test asserts what the person sees (status lines, plan lines, players,
the page's width) and, where it matters, what was written.  Screenshots of
every tab, desktop and phone (390×844), go to the test's temp folder and to
$VIDEXT_SCREENSHOT_DIR when set.  Clips are tiny so the module stays short.
"""
from __future__ import annotations

import glob
import os
import re

import pytest

from apphelpers import app_for_browser, fps_duration

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("gradio")

from vidext.media.synth import make_clip  # noqa: E402

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
JOB_S = 120_000      # ms: the longest a tiny job may take here (the machine is shared)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with app_for_browser(tmp_path_factory.mktemp("browser-app")) as srv:
        yield srv


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    from test_app import _tone_wav

    d = tmp_path_factory.mktemp("browser-media")
    bad = d / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000))
    return {"clip": make_clip(str(d / "small clip.mp4"), frames=25, fps=25, width=160, height=96),
            "slow": make_clip(str(d / "slow.mp4"), frames=96, width=480, height=272, tone_hz=None),
            "tone": _tone_wav(str(d / "tone.wav")), "bad": str(bad),
            "rich": make_clip(str(d / "rich.mp4"), frames=25, fps=25, width=160, height=96, pix_fmt="yuv444p")}


def _open(browser, server, viewport=DESKTOP):
    page = browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server["url"])
    page.wait_for_selector("#interpolate-input", timeout=30_000)
    return page, errors


def _upload(page, tab: str, path: str, settle: bool = True):
    """Choose a file as a person does: the × first when one is there already, then the new one."""
    box = page.locator(f"#{tab}-input")
    if box.locator("input[type=file]").count() == 0:
        box.get_by_label("Clear").first.click()
        page.wait_for_function(f"document.querySelector('#{tab}-clip-info').innerText.trim() === ''",
                               timeout=10_000)
    box.locator("input[type=file]").set_input_files(path)
    page.wait_for_function(f"document.querySelector('#{tab}-clip-info').innerText.trim().length > 0",
                           timeout=30_000)
    if not settle:
        return
    # the plan line follows the new file (and with it the controls the file sets)
    page.wait_for_function(f"!/Upload a/.test(document.querySelector('#{tab}-plan').innerText)", timeout=30_000)
    page.wait_for_timeout(500)


def _type(page, selector: str, value: str):
    box = page.locator(selector)
    box.fill(value)
    box.press("Tab")


def _wait_text(page, selector: str, pattern: str, timeout: int = 30_000) -> str:
    """The text of a Markdown line once it matches ``pattern`` (without any passing timer)."""
    page.wait_for_function(
        "([sel, pat]) => { const el = document.querySelector(sel); return el && new RegExp(pat).test(el.innerText); }",
        arg=[selector, pattern], timeout=timeout)
    md = page.locator(f"{selector} [data-testid=markdown]")
    return (md.first if md.count() else page.locator(selector)).inner_text()


def _run_and_wait(page, tab: str) -> str:
    page.wait_for_function(f"!document.querySelector('#{tab}-run').disabled", timeout=30_000)
    page.locator(f"#{tab}-run").click()
    return _wait_text(page, f"#{tab}-status", "Done|⚠", timeout=JOB_S)


def _newest_output(server, pattern: str) -> str:
    files = sorted(glob.glob(os.path.join(server["workspace"].root, "job-*", pattern)), key=os.path.getmtime)
    assert files, f"no {pattern} written"
    return files[-1]


def _visible_errors(page) -> list[str]:
    """Every error a person sees: toasts, and error lines (⚠) on the page."""
    toasts = [t.inner_text() for t in page.locator(".toast-body").all()]
    lines = [m for m in re.findall(r"⚠️?[^\n]*", page.inner_text("body"))]
    return toasts + lines


def test_typed_fps_gives_that_fps(server, browser, media, shots):
    page, errors = _open(browser, server)
    _upload(page, "interpolate", media["clip"])
    _type(page, "#interpolate-fps input", "60")   # the multiplier stays at its default of 2
    plan = _wait_text(page, "#interpolate-plan", "60 fps")
    assert "replaces the multiplier" in plan and "60 frames at 60 fps" in plan
    status = _run_and_wait(page, "interpolate")
    assert status.startswith("Done") and "at 60 fps" in status, status
    assert _visible_errors(page) == []
    page.wait_for_selector("#interpolate-result video", timeout=30_000)
    rate, duration, frames = fps_duration(_newest_output(server, "*-smooth.mp4"))
    assert rate == 60 and frames == 60 and abs(duration - 1.0) < 1e-3
    shots(page, "desktop-interpolate")
    # Another clip: the last result and its "Done" line belonged to the clip before, and go.
    _upload(page, "interpolate", media["slow"])
    page.wait_for_function("document.querySelector('#interpolate-status').innerText.trim() === ''",
                           timeout=10_000)
    assert page.locator("#interpolate-result video").count() == 0
    assert not page.locator("#interpolate-download").is_visible()
    assert errors == []


def test_defaults_of_every_tab_give_a_result(server, browser, media, shots):
    page, errors = _open(browser, server)
    ran = []
    for tab, label, upload, result in (("interpolate", "Interpolate", "clip", "#interpolate-result video"),
                                       ("extend", "Extend", "clip", "#extend-result video"),
                                       ("audio", "Audio", "tone", "#audio-result-audio audio"),
                                       ("evaluate", "Evaluate", "clip", "#evaluate-report-link")):
        page.get_by_role("tab", name=label).click()
        _upload(page, tab, media[upload])
        plan = page.inner_text(f"#{tab}-plan")
        assert "⚠" not in plan, plan
        status = _run_and_wait(page, tab)
        assert status.startswith("Done"), f"{tab}: {status}"
        page.wait_for_selector(result, state="attached", timeout=30_000)
        if tab == "evaluate":  # the charts are drawn in the page, interactive
            page.locator("#evaluate-plot-quality_speed").scroll_into_view_if_needed()
            page.wait_for_selector("#evaluate-plot-quality_speed svg.main-svg", state="attached", timeout=90_000)
            table = page.inner_text("#evaluate-table")
            # the verdict first, in the table's own names; the table with its ±
            verdict = re.match(r"Verdict: (.+)", table)
            assert verdict and "Cross-fade" in verdict.group(1) and "blend" not in table, table
            assert "PSNR (dB) ↑" in table and "psnr_y" not in table
            assert "±" in table or "LPIPS" not in table      # a sampled metric shows its interval
            with page.context.expect_page() as opened:  # the report page opens in the browser, not as a download
                page.locator("#evaluate-report-link").click()
            report = opened.value
            report.wait_for_load_state("domcontentloaded", timeout=60_000)
            assert report.url.endswith("report.html") and report.title() == "vidext evaluate"
            assert report.inner_text("h1") == "small clip.mp4"       # a page: heading, verdict, table
            assert report.inner_text(".verdict .lead") == verdict.group(1).strip()
            assert report.locator("table").count() >= 1 and report.locator("pre").count() == 0
            assert "/tmp/" not in report.inner_text("body") and "--exhaustive" not in report.inner_text("body")
            report.close()
        assert _visible_errors(page) == [], tab
        shots(page, f"desktop-{tab}")
        ran.append(tab)
    assert ran == ["interpolate", "extend", "audio", "evaluate"] and errors == []


def test_audio_tab_shows_only_what_fits_the_file(server, browser, media, shots):
    page, _ = _open(browser, server)
    page.get_by_role("tab", name="Audio").click()
    _upload(page, "audio", media["tone"])
    page.wait_for_selector("#audio-stretch", state="visible", timeout=10_000)
    assert not page.locator("#audio-replacement").is_visible()
    plan = _wait_text(page, "#audio-plan", "stretched")
    assert "1.00 s → 2.00 s" in plan  # a sound file comes with a useful change proposed
    _upload(page, "audio", media["clip"])
    page.wait_for_selector("#audio-replacement", state="visible", timeout=30_000)
    assert not page.locator("#audio-stretch").is_visible()
    assert "choose a sound file to put on this video" in _wait_text(page, "#audio-plan", "sound file")
    assert page.locator("#audio-run").is_disabled()
    # a 4:4:4 video given another sound: a playable copy is shown, as on the other tabs, and both offered
    _upload(page, "audio", media["rich"])
    page.locator("#audio-replacement input[type=file]").set_input_files(media["tone"])
    _wait_text(page, "#audio-plan", "replaces its sound")
    status = _run_and_wait(page, "audio")
    assert status.startswith("Done") and "the chosen sound put on it" in status, status
    page.wait_for_selector("#audio-result-video video", timeout=30_000)
    assert "plays in every browser and phone" in _wait_text(page, "#audio-which", "plays")
    assert page.locator("#audio-download .filename").count() == 2
    shots(page, "desktop-audio-video")


def test_cancel_says_cancelled_and_clears_the_result(server, browser, media, shots):
    page, _ = _open(browser, server)
    _upload(page, "interpolate", media["clip"])
    assert _run_and_wait(page, "interpolate").startswith("Done")
    page.wait_for_selector("#interpolate-result video", timeout=30_000)
    _upload(page, "interpolate", media["slow"])
    page.locator("#interpolate-factor input").fill("8")
    page.locator("#interpolate-factor input").press("Enter")
    _wait_text(page, "#interpolate-plan", "8× the clip")
    page.wait_for_function("!document.querySelector('#interpolate-run').disabled", timeout=30_000)
    page.locator("#interpolate-run").click()
    page.wait_for_selector("#interpolate-cancel", state="visible", timeout=10_000)
    assert page.locator("#interpolate-run").is_disabled()           # no second click while it runs
    assert page.locator("#interpolate-result video").count() == 0   # the old result is not shown as fresh
    counting = r"(measuring the methods on your clip|rendering) · \d+/\d+"    # the job's stage and count
    _wait_text(page, "#interpolate-status", counting, timeout=JOB_S)
    assert len(re.findall(counting, page.inner_text("body"))) == 1  # progress shown once
    shots(page, "desktop-interpolate-running")
    page.locator("#interpolate-cancel").click()
    status = _wait_text(page, "#interpolate-status", "Cancelled")
    assert "Cancelled" in status and _visible_errors(page) == []
    assert not page.locator("#interpolate-cancel").is_visible()
    page.wait_for_function("!document.querySelector('#interpolate-run').disabled", timeout=10_000)


def test_a_bad_file_gives_one_message(server, browser, media, shots):
    page, _ = _open(browser, server)
    _upload(page, "interpolate", media["bad"], settle=False)
    line = _wait_text(page, "#interpolate-clip-info", "cannot be used")
    page.wait_for_timeout(1500)  # anything else that would pop up has had its chance
    assert _visible_errors(page) == [line.strip()]
    assert page.locator("#interpolate-run").is_disabled()
    # the plan line no longer asks for a first upload: it asks for another file
    assert _wait_text(page, "#interpolate-plan", "another file") == "Choose another file: the one above cannot be used."
    shots(page, "desktop-bad-file")


def test_start_after_end_gives_one_message_by_the_segment(server, browser, media):
    page, _ = _open(browser, server)
    _upload(page, "interpolate", media["clip"])
    _type(page, "#interpolate-end input[type=number]", "0.4")
    _type(page, "#interpolate-start input[type=number]", "0.6")
    note = _wait_text(page, "#interpolate-segment-note", "must come after")
    page.wait_for_timeout(1500)
    assert _visible_errors(page) == [note.strip()]
    assert page.locator("#interpolate-run").is_disabled()
    # a part of the clip without slow motion: new frames only there
    _type(page, "#interpolate-start input[type=number]", "0.2")
    assert "new frames only on 0.20–0.40 s" in _wait_text(page, "#interpolate-plan", "new frames only")


def _slider(page, elem_id: str) -> float:
    return float(page.locator(f"#{elem_id} input[type=number]").input_value())


def _centre(box) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _mouse_drag(page, handle: str, to_x: float):
    x, y = _centre(page.locator(handle).bounding_box())
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(to_x, y + 3, steps=6)
    page.mouse.up()


def _touch_drag(page, handle: str, to_x: float):
    """A finger on the handle, moved sideways, lifted (touch events, as a phone sends them)."""
    x, y = _centre(page.locator(handle).bounding_box())
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for k in range(1, 7):
        cdp.send("Input.dispatchTouchEvent",
                 {"type": "touchMove", "touchPoints": [{"x": x + (to_x - x) * k / 6, "y": y + 2}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def _drag_both_timelines(page, media, drag, shots, name: str):
    """Interpolate: the part's ends dragged to about 1/4 and 3/4; Extend: the new part's edge to about
    half its range (15 s of 30).  Each time the sliders, the plan line and the drawing follow."""
    _upload(page, "interpolate", media["slow"])   # 96 frames at 25 fps: 3.84 s
    page.locator("#interpolate-timeline").scroll_into_view_if_needed()
    strip = page.locator("#interpolate-timeline .vx-strip").bounding_box()
    drag(page, "#interpolate-timeline [data-h=end]", strip["x"] + 0.75 * strip["width"])
    page.wait_for_function("+document.querySelector('#interpolate-end input[type=number]').value < 3.5",
                           timeout=15_000)
    drag(page, "#interpolate-timeline [data-h=start]", strip["x"] + 0.25 * strip["width"])
    page.wait_for_function("+document.querySelector('#interpolate-start input[type=number]').value > 0.5",
                           timeout=15_000)
    start, end = _slider(page, "interpolate-start"), _slider(page, "interpolate-end")
    assert abs(start - 0.96) < 0.1 and abs(end - 2.88) < 0.1, (start, end)
    plan = _wait_text(page, "#interpolate-plan", r"new frames only on (0\.[5-9]|[1-9])[\d.]*–")   # the new start
    a, b = (float(x) for x in re.search(r"new frames only on ([\d.]+)–([\d.]+) s", plan).groups())
    assert abs(a - start) < 0.05 and abs(b - end) < 0.05, plan
    dim = page.locator("#interpolate-timeline .vx-dim-l").bounding_box()   # the part before is dimmed
    assert abs(dim["width"] - 0.25 * strip["width"]) < 0.05 * strip["width"]
    shots(page, f"{name}-interpolate-dragged")
    page.get_by_role("tab", name="Extend").click()
    _upload(page, "extend", media["clip"])
    page.locator("#extend-timeline").scroll_into_view_if_needed()
    zone = page.locator("#extend-timeline .vx-fwd").bounding_box()
    drag(page, "#extend-timeline [data-h=fwd]", zone["x"] + 0.5 * zone["width"])
    page.wait_for_function("+document.querySelector('#extend-seconds input[type=number]').value > 10",
                           timeout=15_000)
    seconds = _slider(page, "extend-seconds")
    assert abs(seconds - 15) <= 1.5, seconds
    assert f"→ {1 + seconds:.2f} s" in _wait_text(page, "#extend-plan", f"{1 + seconds:.2f}")
    assert f"+{seconds:g} s" in page.inner_text("#extend-timeline .vx-fwd")
    # and the other way round: the slider typed, the drawing follows
    _type(page, "#extend-seconds input[type=number]", "3")
    page.wait_for_function("document.querySelector('#extend-timeline .vx-fwd').innerText.includes('+3 s')",
                           timeout=15_000)
    shots(page, f"{name}-extend-dragged")


def test_dragging_on_the_filmstrip_sets_the_segment_and_the_length(server, browser, media, shots):
    page, errors = _open(browser, server)
    _drag_both_timelines(page, media, _mouse_drag, shots, "desktop")
    assert errors == [] and _visible_errors(page) == []


def test_dragging_with_a_finger_on_a_phone(server, browser, media, shots):
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server["url"])
    page.wait_for_selector("#interpolate-input", timeout=30_000)
    _drag_both_timelines(page, media, _touch_drag, shots, "phone")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert errors == [] and _visible_errors(page) == []
    context.close()


def _fits(page, selector: str) -> bool:
    """The element's content is shown whole: nothing cut off sideways."""
    return page.evaluate(f"() => {{ const e = document.querySelector({selector!r}); "
                         "return e.scrollWidth <= e.clientWidth + 1; }")


def test_phone_layout(server, browser, media, shots):
    page, errors = _open(browser, server, PHONE)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width} px wide on a {PHONE['width']} px phone"
    for tab, label, upload in (("extend", "Extend", "clip"), ("audio", "Audio", "tone"),
                               ("evaluate", "Evaluate", "clip"), ("interpolate", "Interpolate", "clip")):
        page.get_by_role("tab", name=label).click()
        _upload(page, tab, media[upload])
        shots(page, f"phone-{tab}")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], tab
    # Cancel sits beside Run, small, and only while a job runs
    assert not page.locator("#interpolate-cancel").is_visible()
    _upload(page, "interpolate", media["slow"])
    page.locator("#interpolate-factor input").fill("8")
    page.locator("#interpolate-factor input").press("Enter")
    _wait_text(page, "#interpolate-plan", "8× the clip")
    page.locator("#interpolate-run").click()
    page.wait_for_selector("#interpolate-cancel", state="visible", timeout=10_000)
    run, cancel = page.locator("#interpolate-run").bounding_box(), page.locator("#interpolate-cancel").bounding_box()
    assert cancel["width"] < PHONE["width"] / 2 and abs(cancel["y"] - run["y"]) < 10
    shots(page, "phone-interpolate-running")
    page.locator("#interpolate-cancel").click()
    _wait_text(page, "#interpolate-status", "Cancelled")
    # a quick job: its result is brought into view
    _upload(page, "interpolate", media["clip"])
    page.locator("#interpolate-factor input").fill("2")
    page.locator("#interpolate-factor input").press("Enter")
    _wait_text(page, "#interpolate-plan", "2× the clip")
    assert _run_and_wait(page, "interpolate").startswith("Done")
    page.wait_for_selector("#interpolate-result video", timeout=30_000)
    page.wait_for_timeout(1500)  # the smooth scroll
    box = page.locator("#interpolate-result").bounding_box()
    assert box["y"] < PHONE["height"] and box["y"] + box["height"] > 0, "the result is not in view"
    shots(page, "phone-interpolate-done")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    # download names are read whole, not cut to "small_cl….mp4"
    names = page.locator("#interpolate-download .filename")
    assert names.count() >= 1
    for k in range(names.count()):
        assert names.nth(k).evaluate("e => e.scrollWidth <= e.clientWidth + 1"), names.nth(k).inner_text()
    # Evaluate on the phone: the verdict, a table shown whole (or one that visibly scrolls), titles whole
    page.get_by_role("tab", name="Evaluate").click()
    _upload(page, "evaluate", media["clip"])
    assert _run_and_wait(page, "evaluate").startswith("Done")
    page.wait_for_selector("#evaluate-plot-quality_speed svg.main-svg", state="attached", timeout=90_000)
    page.wait_for_timeout(1000)
    assert page.inner_text("#evaluate-table").startswith("Verdict: ")
    whole = _fits(page, "#evaluate-table table")
    shadow = page.evaluate("() => getComputedStyle(document.querySelector('#evaluate-table table')).backgroundImage")
    assert whole or "radial-gradient" in shadow, "the table is cut off with no sign that it scrolls"
    table = page.locator("#evaluate-table table").first.bounding_box()
    assert table["x"] >= 0 and table["x"] + table["width"] <= PHONE["width"]
    for key in ("quality_speed", "per_frame"):
        plot = page.locator(f"#evaluate-plot-{key}")
        plot.scroll_into_view_if_needed()
        svg = plot.locator("svg.main-svg").first.bounding_box()
        assert plot.locator(".gtitle").count() == 0          # no plotly title to clip: the label says it
        for k in range(plot.locator(".annotation-text").count()):   # subplot titles lie inside the chart
            t = plot.locator(".annotation-text").nth(k).bounding_box()
            assert t["x"] >= svg["x"] - 1 and t["x"] + t["width"] <= svg["x"] + svg["width"] + 1, key
        label = plot.locator("[data-testid=block-label]")
        if label.count():
            assert label.first.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), key
    shots(page, "phone-evaluate-done")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert errors == []
