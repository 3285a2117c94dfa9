"""The app tells the truth while it works, as a person sees it in Debian Chromium (Playwright).

While a job runs the page is sampled every 100 ms (the progress line under Run, the live plot's points):
the time left never exceeds three times the time really left once it is estimated, the line never
stands still for more than two seconds, the live plot gains points while the job runs, and the time the
result line reports is within 10 % of the wait from the click.  Clips are described and drawn as they
play (a phone's portrait clip is portrait).  Screenshots of the tabs, desktop (1366×900) and phone
(390×844), go to the test's temp folder and to $VIDEXT_SCREENSHOT_DIR when set.
"""
from __future__ import annotations

import re

import av
import numpy as np
import pytest

from apphelpers import app_for_browser

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("gradio")

from vidext.media.synth import make_clip  # noqa: E402

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
JOB_MS = 240_000          # the longest a small job may take on a shared two-core machine
STALL_S = 2.0             # the progress line changes (or its stage does) at least this often ...
SAMPLING_S = 0.35         # ... give or take the sampling and one redraw of the page
SAMPLER_GAP_S = 1.0       # the page sampled nothing this long (its 100 ms timer starved): no stall counted
LEFT_FACTOR = 3.0         # "N s left" is at most 3× the time really left ...
LEFT_SLACK_S = 1.5        # ... plus the whole seconds it is rounded to and one report's lag
WAIT_TOLERANCE = 0.10     # the reported time against the wait from the click ...
SMALL_JOB_S = 1.0         # ... or, for a job of a few seconds, Gradio's own round trips (click, queue, answer)
SHARE = re.compile(r"^(\d+)% of the job · ")     # the progress line's first words: the whole job's share

RECORD = r"""([tab]) => {
  window.__rec = []; window.__cut = []; window.__clicked = null; window.__done = null;
  document.querySelector(`#${tab}-run`).addEventListener('click', () => { window.__clicked = performance.now(); },
                                                           {capture: true, once: true});
  window.__timer = setInterval(() => {
    const st = document.querySelector(`#${tab}-status`);
    const plot = document.querySelector(`#${tab}-live svg`);
    const n = plot ? Number(plot.dataset.points) : 0;
    const now = performance.now(), text = st ? st.innerText : '';
    // words of the status drawn outside its box (cut off by it, or over what lies below)
    const box = st ? st.getBoundingClientRect() : null;
    const cut = !st ? [] : [...st.querySelectorAll('*')].filter(e => e.childElementCount === 0 && e.innerText
      && e.innerText.trim() && e.getClientRects().length).filter(e => { const r = e.getBoundingClientRect();
        return r.bottom > box.bottom + 0.5 || r.top < box.top - 0.5 || r.right > box.right + 0.5 || r.left < box.left - 0.5; })
      .map(e => `${e.className}: ${e.innerText.trim().slice(0, 60)}`);
    if (cut.length) window.__cut.push([now, text, cut]);
    window.__rec.push([now, text, n]);
    if (window.__done === null && /^\s*(Done|⚠)/.test(text)) window.__done = now;
  }, 100);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with app_for_browser(tmp_path_factory.mktemp("progress-app")) as srv:
        yield srv


def _phone_clip(path: str) -> str:
    """Stored 160×96, shown upright (96×160) by its display rotation; grey with a white corner."""
    with av.open(path, "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 160, 96, "yuv420p"
        s.options = {"preset": "ultrafast"}
        s.set_display_rotation(-90)
        for k in range(25):
            img = np.full((96, 160, 3), 128, np.uint8)
            img[:32, : 40 + k] = 255
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    from helpers import tone
    from vidext.media.synth import write_audio

    d = tmp_path_factory.mktemp("progress-media")
    return {"moving": make_clip(str(d / "moving.mp4"), frames=100, width=480, height=272),
            "small": make_clip(str(d / "small.mp4"), frames=25, width=160, height=96),
            "phone": _phone_clip(str(d / "phone.mp4")), "tone": write_audio(str(d / "tone.wav"), np.stack([tone(40.0)]), 48000)}   # long enough to be seen


def _open(browser, server, viewport=DESKTOP, tab: str | None = None):
    page = browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server["url"])
    page.wait_for_selector("#interpolate-input", timeout=30_000)
    if tab is not None:
        page.get_by_role("tab", name=tab.capitalize()).click()
    return page, errors


def _upload(page, tab: str, path: str):
    page.locator(f"#{tab}-input input[type=file]").set_input_files(path)
    page.wait_for_function(f"document.querySelector('#{tab}-clip-info').innerText.trim().length > 0",
                           timeout=30_000)
    page.wait_for_function(f"!document.querySelector('#{tab}-run').disabled", timeout=30_000)
    page.wait_for_timeout(500)


def _run_recorded(page, tab: str, while_running=None) -> tuple[list, float, str]:
    """Click Run and sample the page until the result: [(seconds since the click, progress line, plot
    points)], the wait from the click to the result line (s), and that line.  ``while_running(page)``
    is called once the live plot shows, before the result."""
    page.evaluate(RECORD, [tab])
    page.locator(f"#{tab}-run").click()
    if while_running is not None:
        page.wait_for_selector(f"#{tab}-live svg", timeout=JOB_MS)
        while_running(page)
    page.wait_for_function("window.__done !== null", timeout=JOB_MS)
    # the time it took follows the result (said once the result is on the page)
    page.wait_for_function(f"/Took \\d/.test(document.querySelector('#{tab}-status').innerText)", timeout=30_000)
    rec, clicked, done_at, cut = page.evaluate(
        "() => { clearInterval(window.__timer); return [window.__rec, window.__clicked, window.__done, window.__cut]; }")
    # nothing of the progress area is cut off or drawn outside it (a phone's line wraps to several lines)
    cut = [c for c in cut if c[0] >= clicked]
    assert cut == [], cut[:3]
    # the line begins with the job's share, named, and no figure follows it ("then: rendering - 53.6%"
    # read as rendering's share); the share never goes back
    lines = [_line(text) for t, text, _ in rec if t >= clicked and t < done_at]
    running = [x for x in lines if " · " in x and not x.startswith("done in")]
    assert running, lines[-5:]
    unnamed = [x for x in running if not SHARE.match(x) or re.search(r"[\d.]+ ?%$", x)]
    assert unnamed == [], unnamed[:5]
    shares = [int(SHARE.match(x).group(1)) for x in running]
    assert shares == sorted(shares), shares
    samples = [((t - clicked) / 1000, _words(text), n) for t, text, n in rec if t >= clicked]
    status = page.inner_text(f"#{tab}-status")
    return samples, (done_at - clicked) / 1000, status


def _line(status_text: str) -> str:
    """The progress line as the page shows it (Gradio's own timer and queue line set apart; the result,
    which may show while Gradio's timer still fades, is none)."""
    return next((x for x in (y.strip() for y in status_text.splitlines())
                 if not x.startswith(("queue:", "Done", "Took", "⚠")) and (" · " in x or x.startswith("done in"))), "")


def _words(status_text: str) -> str:
    """The progress line's words after the job's share: the stage, its count, the time left."""
    for line in status_text.splitlines():
        line = line.strip()
        if line.startswith("queue:"):          # Gradio's own queue line, before the job starts
            continue
        if " · " in line or line.startswith("done in"):
            return SHARE.sub("", line)
    # no progress line yet: what else the status shows, never Gradio's queue line (its "1/1" is no count)
    return "\n".join(x.strip() for x in status_text.splitlines() if not x.strip().startswith("queue:")).strip()


def _seconds(text: str) -> float | None:
    """``12 s left`` → 12; ``1 min 05 s left`` → 65; None without a time left."""
    m = re.search(r"(?:(\d+) min )?(\d+) s left", text)
    return None if m is None else int(m.group(1) or 0) * 60 + int(m.group(2))


def _stage(words: str) -> str:
    return words.split(" · ")[0]


def test_progress_is_honest_and_the_live_view_grows(server, browser, media, shots):
    """The default settings (model auto) on a 4 s clip: measuring, rendering (and the playable copy
    when needed), each named; the time left honest once estimated; no stall; the live plot growing; the
    reported time the wait."""
    page, errors = _open(browser, server)
    _upload(page, "interpolate", media["moving"])
    samples, wait_s, status = _run_recorded(page, "interpolate",
                                            lambda p: shots(p, "progress-desktop-interpolate-running"))
    assert status.startswith("Done"), status
    running = [(t, w, n) for t, w, n in samples if t < wait_s and " · " in w]
    stages = [s for i, s in enumerate(_stage(w) for _, w, _ in running) if i == 0 or s != _stage(running[i - 1][1])]
    assert stages[:2] == ["measuring the methods on your clip", "rendering"], stages
    # the time left, once estimated, is never more than 3× the time really left (in that stage when more
    # stages follow without an estimate, else in the job)
    ends = {}
    for t, w, _ in running:
        ends[_stage(w)] = t
    estimated = [(t, w) for t, w, _ in running if _seconds(w) is not None]
    assert estimated, "no time left was ever given"
    for t, w in estimated:
        real = (ends[_stage(w)] if "then:" in w else wait_s) - t
        assert _seconds(w) <= LEFT_FACTOR * real + LEFT_SLACK_S, (t, w, real)
    assert not any(_seconds(w) is not None for t, w, _ in running if t < 1.0)    # no first wild estimate
    # never a stall: the line (or its stage) changes at least every 2 s (a pause of the page's own
    # sampling, a starved browser on a busy machine, starts the count again: it is no news withheld)
    last_t, last_w, prev_t = running[0][0], running[0][1], running[0][0]
    for t, w, _ in running[1:]:
        if t - prev_t > SAMPLER_GAP_S:
            last_t = t
        if w != last_w:
            assert t - last_t <= STALL_S + SAMPLING_S, (last_w, t - last_t)
            last_t, last_w = t, w
        prev_t = t
    assert wait_s - last_t <= STALL_S + SAMPLING_S + 1.0
    # the live plot gains points while the job runs, not only at its end
    growth = [n for t, _, n in samples if t < wait_s - 0.5]
    assert len({n for n in growth if n}) >= 2, growth[-20:]
    # the final figure is the wait, split by stage
    took = re.search(r"Took (\d+\.\d) s: (.*)\.", status)
    assert took and "rendering" in took.group(2) and "measuring" in took.group(2), status
    assert abs(float(took.group(1)) - wait_s) <= WAIT_TOLERANCE * wait_s, (took.group(1), wait_s)
    page.locator("#interpolate-live").scroll_into_view_if_needed()
    shots(page, "progress-desktop-interpolate")
    assert errors == []


def test_a_phone_clip_is_described_and_drawn_upright(server, browser, media, shots):
    page, errors = _open(browser, server, PHONE)
    _upload(page, "interpolate", media["phone"])
    assert page.inner_text("#interpolate-clip-info").startswith("96×160")
    size = page.evaluate("""() => {
      const img = document.querySelector('#interpolate-timeline img');
      const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
      const g = c.getContext('2d'); g.drawImage(img, 0, 0);
      const px = (x, y) => g.getImageData(x, y, 1, 1).data[0];
      let w = 0; while (w < c.width && px(w, 4) > 60) w++;          // the first thumbnail's width ...
      let h = 0; while (h < c.height && px(2, h) > 60) h++;         // ... and height (grey or white, gaps dark)
      return [w, h];
    }""")
    assert size[1] > 1.4 * size[0] > 0, size            # portrait: 160 tall for 96 wide
    shots(page, "progress-phone-interpolate-portrait")
    page.set_viewport_size(DESKTOP)
    shots(page, "progress-desktop-interpolate-portrait")
    assert errors == []


@pytest.mark.parametrize("tab, upload, stage, unit", [
    ("extend", "moving", "choosing how to extend", "frames"),     # on the 25-frame clip choosing takes ~50 ms
    ("evaluate", "small", "rebuilding and scoring", "frames"),
    ("audio", "tone", "writing the sound", "s of sound"),
])
def test_every_tab_names_its_stages_and_counts_its_own_unit(server, browser, media, shots, tab, upload, stage, unit):
    """On a phone: each tab's stages by name, in their own unit (sound in seconds, never frames), and
    the wait said with its split; the live view where the job measures something (extend, evaluate)."""
    page, errors = _open(browser, server, PHONE, tab)
    _upload(page, tab, media[upload])
    samples, wait_s, status = _run_recorded(page, tab)
    assert status.startswith("Done"), status
    seen = {_stage(w) for _, w, _ in samples}
    assert stage in seen, seen
    counted = [w for _, w, _ in samples if re.search(r"\d/\d", w)]
    assert counted and all(unit in w for w in counted) and not (unit != "frames" and any("frames" in w
                                                                                         for w in counted))
    took = re.search(r"Took (\d+\.\d) s", status)
    assert took and abs(float(took.group(1)) - wait_s) <= max(WAIT_TOLERANCE * wait_s, SMALL_JOB_S), (took, wait_s)
    if tab != "audio":
        page.wait_for_selector(f"#{tab}-live svg", timeout=30_000)
        page.locator(f"#{tab}-live").scroll_into_view_if_needed()
    shots(page, f"progress-phone-{tab}")
    page.set_viewport_size(DESKTOP)
    shots(page, f"progress-desktop-{tab}")
    assert errors == []
