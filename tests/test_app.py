"""The web app end to end: launched on 127.0.0.1, driven through gradio_client.

Each api_name is called with a small synthetic clip and its output checked
(fps, duration, frames, sound, JSON).
"""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

import av
import pytest

from apphelpers import fps_duration, running_app
from helpers import audio_packets

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import handle_file  # noqa: E402

from vidext.media.synth import make_clip  # noqa: E402

LIMITS = {"VIDEXT_MAX_UPLOAD_MB": "1", "VIDEXT_MAX_DURATION_S": "5"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a free loopback port with small limits and its own work root."""
    with running_app(tmp_path_factory.mktemp("app"), env=LIMITS) as srv:
        yield srv


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory):
    """1 s, 25 fps, 160×96, with a 440 Hz tone."""
    return make_clip(str(tmp_path_factory.mktemp("clips") / "small clip.mp4"), frames=25, fps=25,
                     width=160, height=96)


def test_start_makes_no_network_call(server):
    assert server["network"] == []


def test_page_and_api_names(server):
    with urllib.request.urlopen(server["url"], timeout=10) as r:
        assert r.status == 200
    api = server["client"].view_api(return_format="dict", print_info=False)
    names = set(api["named_endpoints"])
    assert {"/interpolate", "/extend", "/audio", "/evaluate"} <= names
    # helper events (timeline, plans, preview) are not part of the public API
    assert len(names) == 4
    params = [p["parameter_name"] for p in api["named_endpoints"]["/interpolate"]["parameters"]]
    assert params[:4] == ["video", "factor", "fps", "slowmo"]


def test_interpolate_api_factor(server, small_clip):
    download, watch, details = server["client"].predict(handle_file(small_clip), 2, api_name="/interpolate")
    assert watch is not None and os.path.basename(download) == "small_clip-smooth.mp4"
    rate, duration, frames = fps_duration(download)
    assert rate == 50 and frames == 50
    assert abs(duration - 1.0) < 1e-3
    assert audio_packets(download) == audio_packets(small_clip)  # sound copied untouched
    assert details["frames_out"] == 50 and details["fps"] == 50 and details["audio"] == "copied"
    # what became of the other streams reaches the client: nothing dropped or converted here
    assert details["dropped"] == [] and details["converted"] == [] and len(details["audio_tracks"]) == 1
    assert not any(os.path.isabs(str(v)) for v in details.values())  # no server paths leak


def test_interpolate_api_fps_lossless(server, small_clip):
    download, watch, details = server["client"].predict(
        handle_file(small_clip), factor=1, fps=30, codec="ffv1", api_name="/interpolate")
    assert download.endswith(".mkv")
    rate, duration, frames = fps_duration(download)
    assert rate == 30 and frames == 30 and abs(duration - 1.0) < 1e-3
    with av.open(watch) as c:  # the player gets an H.264 4:2:0 copy
        v = c.streams.video[0]
        assert watch.endswith(".mp4") and v.codec_context.name == "h264" and v.format.name == "yuv420p"
    assert fps_duration(watch)[2] == 30


def test_interpolate_api_rejects_nothing_to_do(server, small_clip):
    with pytest.raises(gradio_client.exceptions.AppError, match="nothing to do"):
        server["client"].predict(handle_file(small_clip), factor=1, api_name="/interpolate")


def test_interpolate_api_slow_motion(server, small_clip):
    download, _, _ = server["client"].predict(handle_file(small_clip), factor=1, slowmo=2, api_name="/interpolate")
    rate, duration, frames = fps_duration(download)
    assert rate == 25 and frames == 50 and abs(duration - 2.0) < 1e-3
    assert audio_packets(download)


def test_extend_api(server, small_clip):
    download, watch, details = server["client"].predict(
        handle_file(small_clip), seconds=1, direction="forward", method="loop", api_name="/extend")
    rate, duration, frames = fps_duration(download)
    assert rate == 25 and frames == 50 and abs(duration - 2.0) < 1e-3
    assert audio_packets(download), "the extension keeps a sound track"
    assert isinstance(details, dict)


def _tone_wav(path: str, seconds: float = 1.0, rate: int = 48000) -> str:
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    y = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    with av.open(path, "w") as c:
        s = c.add_stream("pcm_s16le", rate=rate)
        s.layout = "mono"
        frame = av.AudioFrame.from_ndarray(y[None, :], format="fltp", layout="mono")
        frame.rate = rate
        for p in s.encode(frame):
            c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _sound_seconds(path: str) -> float:
    with av.open(path) as c:
        a = c.streams.audio[0]
        return sum(f.samples for f in c.decode(a)) / a.rate


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    return _tone_wav(str(tmp_path_factory.mktemp("sound") / "tone.wav"))


def test_audio_api_stretch(server, tone):
    download, watch, listen, details = server["client"].predict(handle_file(tone), stretch=2, api_name="/audio")
    assert download.endswith(".wav") and watch is None and listen is not None
    assert abs(_sound_seconds(download) - 2.0) < 0.02
    assert details["operation"] == "stretch"


def test_audio_api_with_only_a_sound_file_does_what_the_tab_proposes(server, tone):
    """The tab proposes a 2× stretch on upload; the endpoint called with the file alone does the same."""
    download, watch, listen, details = server["client"].predict(handle_file(tone), api_name="/audio")
    assert details["operation"] == "stretch" and abs(_sound_seconds(download) - 2.0) < 0.02
    download, _, _, details = server["client"].predict(handle_file(tone), extend=1, api_name="/audio")
    assert details["operation"] == "extend" and abs(_sound_seconds(download) - 2.0) < 0.05


def test_every_endpoint_defaults_to_its_tabs_values(server):
    """Each public endpoint's parameters default to what its tab shows for a file just uploaded."""
    import inspect

    from vidext import config

    # where the API's "not given" stands for the tab's value
    same = {("/interpolate", "scene_threshold"): (None, config.SCENE_THRESHOLD),
            ("/audio", "audio_file"): (None, None)}
    checked = 0
    for fn in server["demo"].fns.values():
        if fn.api_name not in ("interpolate", "extend", "audio", "evaluate"):
            continue
        params = [p for p in inspect.signature(fn.fn).parameters.values() if p.name != "progress"][1:]
        for p, component in zip(params, fn.inputs[1:]):
            api_default, tab_value = same.get((f"/{fn.api_name}", p.name), (p.default, component.value))
            assert p.default == api_default, (fn.api_name, p.name)
            shown = component.value if (f"/{fn.api_name}", p.name) not in same else tab_value
            if isinstance(shown, float) and isinstance(api_default, (int, float)):
                shown = type(api_default)(shown)
            assert api_default == shown or (api_default is None and shown == tab_value), \
                (fn.api_name, p.name, api_default, component.value)
            checked += 1
    assert checked >= 20


def test_audio_api_replaces_the_sound_of_a_video(server, small_clip, tone, tmp_path):
    download, watch, listen, details = server["client"].predict(
        handle_file(small_clip), audio_file=handle_file(tone), api_name="/audio")
    assert download.endswith(".mp4") and watch is not None and listen is None
    rate, duration, frames = fps_duration(download)
    assert rate == 25 and frames == 25  # the picture is copied
    assert abs(_sound_seconds(download) - 1.0) < 0.05
    assert details["operation"] == "remux"
    # a video that does not play everywhere (H.264 4:4:4) gets its playable copy, as on the other tabs
    rich = make_clip(str(tmp_path / "rich.mp4"), frames=25, fps=25, width=160, height=96, pix_fmt="yuv444p")
    download, watch, listen, details = server["client"].predict(
        handle_file(rich), audio_file=handle_file(tone), api_name="/audio")
    assert watch is not None and watch != download and watch.endswith(".playable.mp4")
    with av.open(watch) as c:
        v = c.streams.video[0]
        assert v.codec_context.name == "h264" and v.format.name == "yuv420p" and c.streams.audio


def test_evaluate_api(server, small_clip):
    report_file, html, table, pictures, report = server["client"].predict(
        handle_file(small_clip), methods=["blend", "fast"], factor=2, api_name="/evaluate")
    with open(report_file, encoding="utf-8") as f:
        on_disk = json.load(f)
    assert on_disk.keys() == report.keys()
    text = json.dumps(report).lower()
    assert "blend" in text and "fast" in text and "psnr" in text


def test_over_limit_upload_names_the_limit(server, tmp_path):
    big = make_clip(str(tmp_path / "big.mp4"), frames=40, width=640, height=360, tone_hz=None,
                    options={"crf": "0", "preset": "ultrafast"})
    assert os.path.getsize(big) > 1e6
    # gradio_client checks the server's limit before sending ...
    with pytest.raises(Exception, match=r"exceeds the maximum file size of 1000000 bytes"):
        server["client"].predict(handle_file(big), api_name="/interpolate")
    # ... and the server refuses a raw upload over it without storing it
    boundary = "vidextboundary"
    with open(big, "rb") as f:
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.mp4\"\r\n"
                f"Content-Type: video/mp4\r\n\r\n").encode() + f.read() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(server["url"].rstrip("/") + "/gradio_api/upload", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code == 413
    assert "maximum allowed size of 1000000 bytes" in err.value.read().decode()


def test_upload_limit_message_names_the_variable(tmp_path):
    from vidext.config import Limits
    from vidext.errors import LimitError
    from vidext.limits import check_upload

    path = tmp_path / "x.bin"
    path.write_bytes(b"0" * 3_000_000)
    with pytest.raises(LimitError, match=r"file is 3 MB; the limit is 1 MB \(VIDEXT_MAX_UPLOAD_MB\)"):
        check_upload(str(path), Limits(10**8, 10**4, 10**6, 1, 240))


def test_over_limit_duration_names_the_limit(server, tmp_path):
    long = make_clip(str(tmp_path / "long.mp4"), frames=60, fps=10, width=64, height=48, tone_hz=None)
    with pytest.raises(gradio_client.exceptions.AppError, match=r"limit of 5 s \(VIDEXT_MAX_DURATION_S\)"):
        server["client"].predict(handle_file(long), api_name="/interpolate")


def test_cancelled_job_leaves_no_files(server, tmp_path):
    ws = server["workspace"]
    clip = make_clip(str(tmp_path / "cancel.mp4"), frames=96, width=480, height=272, tone_hz=None)
    before = set(ws.jobs())
    job = server["client"].submit(handle_file(clip), factor=8, quality="quality", api_name="/interpolate")
    deadline = time.monotonic() + 60
    started = set()
    while time.monotonic() < deadline and not started:  # the job folder exists once the job runs
        started = set(ws.jobs()) - before
        time.sleep(0.05)
    assert started, "the job never started"
    (folder,) = started
    # wait until the pipeline reports progress (it reaches the client), then cancel
    progress = None
    while time.monotonic() < deadline and not progress:
        progress = job.status().progress_data
        time.sleep(0.05)
    assert progress, "no progress reached the client"
    unit = progress[-1]
    assert unit.progress is not None and 0 <= unit.progress < 1         # the whole job's share (every stage)
    # the line says that share first, named; model auto measures first, then renders
    share, stage = unit.desc.split(" · ")[:2]
    assert share == f"{int(unit.progress * 100 + 1e-9)}% of the job", unit.desc
    assert stage in ("measuring the methods on your clip", "rendering"), unit.desc
    job.cancel()
    while time.monotonic() < deadline and os.path.exists(folder):
        time.sleep(0.05)
    assert not os.path.exists(folder), "the cancelled job's folder (and partial output) is removed"
    assert set(ws.jobs()) == before
    # the server still answers
    with urllib.request.urlopen(server["url"], timeout=10) as r:
        assert r.status == 200


def test_serves_only_its_own_files(server):
    for path in ("/gradio_api/file=/etc/passwd", "/file=/etc/passwd",
                 f"/gradio_api/file={server['root']}/work"):
        try:
            with urllib.request.urlopen(server["url"].rstrip("/") + path, timeout=10) as r:
                body = r.read()
            assert b"root:" not in body
            assert r.status != 200 or b"<html" in body.lower()[:200]
        except urllib.error.HTTPError as exc:
            assert exc.code in (403, 404)


def test_sweep_removes_old_job_folders(tmp_path):
    from vidext.webapp.jobs import Workspace

    ws = Workspace(str(tmp_path / "w"), max_age_s=60)
    old, new = ws.new_job(), ws.new_job()
    with open(old.path("out.mp4"), "wb") as f:
        f.write(b"x")
    past = time.time() - 120
    os.utime(old.folder, (past, past))
    assert ws.sweep() == 1
    assert ws.jobs() == [new.folder]


def _docs_examples() -> list[tuple[str, str]]:
    """The gradio_client examples of docs/app.md, by API name."""
    import re

    from helpers import ROOT

    text = (ROOT / "docs" / "app.md").read_text()
    section = text.split("### The API from Python", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return [(re.search(r'api_name="(/\w+)"', b).group(1), b) for b in blocks]


def test_docs_have_a_client_example_for_each_api_name():
    assert sorted(name for name, _ in _docs_examples()) == ["/audio", "/evaluate", "/extend", "/interpolate"]


@pytest.mark.parametrize("api_name", ["/interpolate", "/extend", "/audio", "/evaluate"])
def test_docs_client_examples_run(server, small_clip, tone, tmp_path, monkeypatch, capsys, api_name):
    import shutil

    code = dict(_docs_examples())[api_name]
    shutil.copy(small_clip, tmp_path / "clip.mp4")
    shutil.copy(tone, tmp_path / "tone.wav")
    monkeypatch.chdir(tmp_path)
    exec(compile(code.replace("http://127.0.0.1:7860/", server["url"]), f"docs/app.md{api_name}", "exec"), {})
    assert capsys.readouterr().out.strip()
