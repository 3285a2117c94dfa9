"""Every bad or awkward input gets a clear answer, on every front end; nothing is half-written.

Each input of the corpus (``tests/corpus.py``, made on the spot) goes through
the Python API (``vidext.probe_file``, ``vidext.interpolate``) and the CLI
(a subprocess with a timeout).  The answer is either a correct result —
checked against an independent decode of the input: frame count, frame
times, rate, duration — or a refusal in one line naming the problem (a
``VidextError``; exit code 2 and ``error: ...``), the limit named where one
applies.  Never a traceback, never a hang, never a file left in the folder.
The same corpus goes through the web API when the app is present.
"""
from __future__ import annotations

import faulthandler
import math
import os
import re
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import pytest

import corpus
import vidext
from vidext import config
from vidext.errors import InputError, LimitError, OutputError, ParameterError, VidextError

VIDEXT = [sys.executable, "-m", "vidext"]
TIMEOUT_S = 60          # per front-end call; a corpus clip takes well under a second
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Refused:
    error: type
    pattern: str        # searched in the one-line message


OK = None
NOT_MEDIA = Refused(InputError, r"cannot read \S+ as media: not a format FFmpeg recognises")
NOT_REGULAR = Refused(InputError, r"not a regular file")

# name → (probe answer, interpolate answer); OK means a correct result is required.
EXPECT: dict[str, tuple[Refused | None, Refused | None]] = {
    "zero_bytes": (Refused(InputError, r"empty \(0 bytes\)"),) * 2,
    "moov_missing": (NOT_MEDIA,) * 2,
    "cut_mid_frame": (OK, OK),
    "random_bytes": (NOT_MEDIA,) * 2,
    "text_file": (NOT_MEDIA,) * 2,
    "png_image": (OK, Refused(InputError, r"still\.png is a still image \(png\), not a video")),
    "audio_only": (OK, Refused(InputError, r"sound\.mp4 has no video stream")),
    "no_frames_mp4": (OK, Refused(InputError, r"has no video stream")),
    "no_frames_mkv": (Refused(InputError, r"ends before its media data"),) * 2,
    "one_frame": (OK, OK),
    "two_frames": (OK, OK),
    "claims_16384x16384_mov": (Refused(InputError, r"huge\.mov has no usable picture size"),) * 2,
    "claims_16384x16384_h264_header": (OK, OK),   # H.264's own header wins: a real 64×48 clip
    "claims_8192x8192_mkv": (OK, Refused(LimitError, r"8192×8192 .* limit of 9\.4 MP per frame "
                                                     r"\(VIDEXT_MAX_PIXELS\)")),
    "claims_8192x8192_mov": (Refused(LimitError, r"8192×8192 exceeds the limit of 9\.4 MP per frame "
                                                 r"\(VIDEXT_MAX_PIXELS\)"),) * 2,
    "claims_10_hours": (OK, Refused(LimitError, r"duration 36000 s exceeds the limit of 600 s "
                                                r"\(VIDEXT_MAX_DURATION_S\)")),
    "claims_1000_fps": (OK, Refused(LimitError, r"output rate 2000 fps exceeds the limit of 240 fps "
                                                r"\(VIDEXT_MAX_FPS\)")),
    "variable_frame_rate": (OK, OK),
    "rotation_90": (OK, OK),
    "odd_size": (OK, OK),   # 4:2:0 H.264 needs even sides: padded to 64×48 by edge replication
    "tiny_2x2": (OK, Refused(InputError, r"2×2 is too small; each side must be at least 16 px")),
    "ten_bit_422": (OK, OK),
    "alpha_prores_4444": (OK, OK),
    "alpha_png_in_mov": (OK, OK),
    "grey_only": (OK, OK),
    "corrupt_packets": (OK, OK),
    "all_packets_corrupt": (Refused(InputError, r"garbage\.mp4 has no decodable frames"),) * 2,
    "audio_5_1_aac": (OK, OK),
    "audio_7350_hz": (OK, OK),
    "audio_pcm_37800_hz_6ch": (OK, OK),
    "name_with_spaces": (OK, OK),
    "name_non_ascii": (OK, OK),
    "name_with_dotdot": (OK, OK),
    "name_starting_with_dash": (OK, OK),
    "mkv_named_mp4": (OK, OK),
    "vp9_webm": (OK, OK),
    "size_change_mid_stream": (OK, OK),
    "wide_strip_640x48": (OK, OK),
    "timestamp_gap_1h": (OK, Refused(LimitError, r"duration 3600 s exceeds the limit of 600 s")),
    "folder_not_file": (Refused(InputError, r"input is a folder"),) * 2,
    "missing_file": (Refused(InputError, r"input file not found"),) * 2,
    "named_pipe": (NOT_REGULAR,) * 2,
    "device_file": (NOT_REGULAR,) * 2,
}


def _out_props(info) -> dict:
    v = info.video
    return {"size": (v.width, v.height), "pix_fmt": v.pix_fmt, "rotation": v.rotation,
            "audio": [(a.codec, a.rate, a.channels) for a in info.audio]}


# What else a correct result must show (on top of frames, times, rate, duration).
OUTPUT_PROPS = {
    "rotation_90": {"rotation": 90},
    "ten_bit_422": {"pix_fmt": "yuv422p10le"},
    "grey_only": {"pix_fmt": "yuv420p"},              # this libx264 has no 4:0:0: neutral chroma added
    "alpha_prores_4444": {"pix_fmt": "yuv444p10le"},   # colour kept at full depth, alpha dropped
    "alpha_png_in_mov": {"pix_fmt": "yuv444p"},        # RGB into H.264: BT.709 4:4:4, tagged so (the sidecar
                                                       # names the conversion), alpha dropped
    "audio_5_1_aac": {"audio": [("aac", 48000, 6)]},
    "audio_7350_hz": {"audio": [("aac", 7350, 1)]},
    "audio_pcm_37800_hz_6ch": {"audio": [("aac", 44100, 6)]},
    "size_change_mid_stream": {"size": (64, 48)},
    "odd_size": {"size": (64, 48)},                    # 63×47 padded for 4:2:0 (sidecar: padded_to)
}


def test_corpus_is_large_enough():
    assert set(EXPECT) == set(corpus.GENERATORS)
    assert len(EXPECT) >= 30


# --- helpers -------------------------------------------------------------------------
@pytest.fixture
def watchdog():
    """A hang in-process ends the run with every thread's stack instead of blocking it."""
    faulthandler.dump_traceback_later(TIMEOUT_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def make_input(name: str, tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "work"
    folder.mkdir()
    return corpus.GENERATORS[name](folder), folder


def cli(*args, timeout: float = TIMEOUT_S, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("VIDEXT_DEBUG", None)
    return subprocess.run(VIDEXT + [str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                          env=full_env, **kw)


def assert_refused_api(exc: BaseException, want: Refused) -> None:
    msg = str(exc)
    assert isinstance(exc, want.error), f"{type(exc).__name__}: {msg}"
    assert msg and "\n" not in msg, repr(msg)
    assert re.search(want.pattern, msg), msg


def assert_refused_cli(p: subprocess.CompletedProcess, want: Refused) -> None:
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert re.search(want.pattern, lines[0]), lines[0]


def decodable_times(path: Path) -> list[Fraction]:
    """Presentation times of the frames an independent decode gets out of ``path``."""
    times: list[Fraction] = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        tb = Fraction(s.time_base.numerator, s.time_base.denominator)
        for pkt in c.demux(s):
            try:
                frames = pkt.decode()
            except av.InvalidDataError:
                continue
            for f in frames:
                t = Fraction(f.pts) * tb
                if not times or t > times[-1]:
                    times.append(t)
    return times


def expected_output(src: Path, factor: int = 2) -> tuple[Fraction, int, Fraction]:
    """(rate, frames, first time) of a correct ``--factor`` result: frames on the output grid
    from the first decodable input frame up to the end of the last one."""
    info = vidext.probe_file(str(src))
    rate = info.video.rate * factor         # the rate it plays at: a variable-rate clip's real average
    times = decodable_times(src)
    end = times[-1] + 1 / info.video.fps_nominal
    frames = math.ceil((end - times[0] - Fraction(config.TIME_EPSILON)) * rate)
    return rate, frames, times[0]


def assert_correct_output(name: str, src: Path, out: Path) -> None:
    """A finished job's output (with its sidecar) is the correct ``--factor 2`` result."""
    assert out.exists() and Path(str(out) + ".json").exists()
    check_video_output(name, src, out)


# The app's codec is ``auto``: a clip with transparency is written in ProRes 4444 (.mov), its alpha kept
# (the decoder reads ProRes 4444 as 12-bit), where the API and the CLI write the .mp4 they are asked for.
WEB_PROPS = {"alpha_prores_4444": {"pix_fmt": "yuva444p12le"}, "alpha_png_in_mov": {"pix_fmt": "yuva444p12le"}}


def check_video_output(name: str, src: Path, out: Path, props_over: dict | None = None) -> None:
    rate, frames, start = expected_output(src)
    times = decodable_times(out)
    assert len(times) == frames, (len(times), frames)
    first = round(start * rate) / rate
    assert times == [first + Fraction(k) / rate for k in range(frames)]
    info = vidext.probe_file(str(out))
    assert info.video.fps_nominal == rate
    assert info.video.duration_s == pytest.approx(frames / rate, abs=1e-6)
    props = _out_props(info)
    for key, want in {**OUTPUT_PROPS.get(name, {}), **(props_over or {})}.items():
        assert props[key] == want, (key, props[key], want)
    src_info = vidext.probe_file(str(src))
    if name not in OUTPUT_PROPS or "size" not in OUTPUT_PROPS[name]:
        assert props["size"] == (src_info.video.width, src_info.video.height)
    if src_info.audio and "audio" not in OUTPUT_PROPS.get(name, {}):
        assert [a.channels for a in info.audio] == [a.channels for a in src_info.audio]


# --- the corpus through the Python API and the CLI --------------------------------------
@pytest.mark.parametrize("name", sorted(EXPECT))
def test_api(name, tmp_path, watchdog):
    src, folder = make_input(name, tmp_path)
    want_probe, want_interp = EXPECT[name]
    before = listing(folder)
    try:
        info = vidext.probe_file(str(src))
    except VidextError as exc:
        assert want_probe is not OK, f"probe refused a good input: {exc}"
        assert_refused_api(exc, want_probe)
    else:
        assert want_probe is OK, f"probe accepted {name}"
        assert info.path == str(src) and info.size_bytes == src.stat().st_size
    out = folder / "api.mp4"
    try:
        result = vidext.interpolate(str(src), str(out))
    except VidextError as exc:
        assert want_interp is not OK, f"interpolate refused a good input: {type(exc).__name__}: {exc}"
        assert_refused_api(exc, want_interp)
        assert listing(folder) == before
        return
    assert want_interp is OK, f"interpolate accepted {name}"
    assert listing(folder) == before | {"api.mp4", "api.mp4.json", "api.mp4.xmp"}
    assert_correct_output(name, src, out)
    rate, frames, _ = expected_output(src)
    assert (result.frames_out, result.fps) == (frames, float(rate))
    assert result.duration_s == pytest.approx(frames / rate, abs=1e-9)
    if name == "odd_size":   # the padding is said in the result and in the sidecar
        assert result.padded_to == (64, 48) and result.details["output"]["padded_to"] == [64, 48]
    else:
        assert result.padded_to is None and result.details["output"]["padded_to"] is None


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_cli(name, tmp_path):
    src, folder = make_input(name, tmp_path)
    want_probe, want_interp = EXPECT[name]
    before = listing(folder)
    p = cli("probe", src, "--json")
    if want_probe is OK:
        assert p.returncode == 0 and not p.stderr.strip(), p.stderr
    else:
        assert_refused_cli(p, want_probe)
    out = folder / "cli.mp4"
    p = cli("interpolate", src, "-o", out)
    if want_interp is not OK:
        assert_refused_cli(p, want_interp)
        assert listing(folder) == before
        return
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("wrote ") and "Traceback" not in p.stderr
    assert ("padded to 64×48" in p.stdout) == (name == "odd_size"), p.stdout
    assert listing(folder) == before | {"cli.mp4", "cli.mp4.json", "cli.mp4.xmp"}
    assert_correct_output(name, src, out)


# --- outputs: where they may (not) go ------------------------------------------------------
@pytest.fixture
def good(tmp_path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return corpus.write_video(folder / "in.mp4")


@pytest.mark.parametrize("case,want", [
    ("missing_folder", Refused(OutputError, r"output folder does not exist")),
    ("same_as_input", Refused(OutputError, r"output path is the input file")),
    ("same_as_input_other_spelling", Refused(OutputError, r"output path is the input file")),
    ("same_as_input_via_symlink", Refused(OutputError, r"output path is the input file")),
    ("is_a_folder", Refused(OutputError, r"output path is a folder")),
    ("unknown_extension", Refused(ParameterError, r"cannot write a video to a \.txt file; use one of: \.mp4")),
    ("no_extension", Refused(ParameterError, r"extension-less file")),
    ("nul_in_name", Refused(OutputError, r"NUL")),
])
def test_bad_output_paths(case, want, good, watchdog):
    folder = good.parent
    (folder / "sub").mkdir()
    os.symlink(good, folder / "link.mp4")
    out = {
        "missing_folder": folder / "missing" / "o.mp4",
        "same_as_input": good,
        "same_as_input_other_spelling": folder / "sub" / ".." / "." / "in.mp4",
        "same_as_input_via_symlink": folder / "link.mp4",
        "is_a_folder": folder / "sub",
        "unknown_extension": folder / "o.txt",
        "no_extension": folder / "o",
        "nul_in_name": str(folder / "o\x00.mp4"),
    }[case]
    before = listing(folder)
    original = good.read_bytes()
    with pytest.raises(VidextError) as err:
        vidext.interpolate(str(good), str(out))
    assert_refused_api(err.value, want)
    if case != "nul_in_name":  # a NUL cannot reach a command line at all
        assert_refused_cli(cli("interpolate", good, "-o", out), want)
    assert listing(folder) == before and good.read_bytes() == original
    assert listing(folder / "sub") == set()


@pytest.mark.parametrize("out_name", ["my result (1).mp4", "résultat 結果.mp4", "-dash.mp4", "sub/../o.mp4"])
def test_awkward_output_names_work(out_name, good, watchdog):
    folder = good.parent
    (folder / "sub").mkdir()
    out = folder / out_name
    vidext.interpolate(str(good), str(out))
    assert_correct_output("good", good, Path(os.path.normpath(out)))
    p = cli("interpolate", good, "-o", out)
    assert p.returncode == 0, p.stderr


def test_existing_output_is_replaced_whole(good, watchdog):
    out = good.parent / "o.mp4"
    out.write_bytes(b"old")
    vidext.interpolate(str(good), str(out))
    assert_correct_output("good", good, out)


# --- a full disk --------------------------------------------------------------------------
_FSIZE = 30_000   # bytes: more than the sidecar, less than the video


def _small_disk():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)    # write() then fails with EFBIG instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (_FSIZE, _FSIZE))


@pytest.fixture
def bigger(tmp_path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return corpus.write_video(folder / "in.mp4", frames=12, width=320, height=240,
                              audio={"codec": "aac", "rate": 48000, "layout": "stereo"})


def test_full_disk_cli(bigger):
    folder = bigger.parent
    before = listing(folder)
    p = cli("interpolate", bigger, "-o", folder / "o.mp4", preexec_fn=_small_disk)
    assert_refused_cli(p, Refused(OutputError, r"cannot write o\.mp4: the file size limit was reached"))
    assert listing(folder) == before


def test_full_disk_api(bigger):
    folder = bigger.parent
    before = listing(folder)
    code = ("import sys, vidext\n"
            "try:\n"
            "    vidext.interpolate(sys.argv[1], sys.argv[2])\n"
            "except vidext.VidextError as exc:\n"
            "    print(type(exc).__name__, exc)\n")
    p = subprocess.run([sys.executable, "-c", code, str(bigger), str(folder / "o.mp4")], capture_output=True,
                       text=True, timeout=TIMEOUT_S, preexec_fn=_small_disk,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert p.stdout.strip() == "OutputError cannot write o.mp4: the file size limit was reached"
    assert listing(folder) == before


# --- limits: refused from the probe, before a single frame is decoded -----------------------
class DecodeCounter:
    """Counts pictures decoded by the probe and frame sources opened by jobs."""

    def __init__(self, monkeypatch):
        from vidext.media import probe as probe_mod
        from vidext.media import reader as reader_mod

        self.probe_frames = 0
        self.sources = 0
        first_frame = probe_mod.first_frame
        enter = reader_mod.FrameSource.__enter__

        def counting_first_frame(c, s, path):
            self.probe_frames += 1
            return first_frame(c, s, path)

        def counting_enter(source):
            self.sources += 1
            return enter(source)

        monkeypatch.setattr(probe_mod, "first_frame", counting_first_frame)
        monkeypatch.setattr(reader_mod.FrameSource, "__enter__", counting_enter)


@pytest.mark.parametrize("name,env,want", [
    ("claims_8192x8192_mkv", {}, r"VIDEXT_MAX_PIXELS"),
    ("claims_8192x8192_mov", {}, r"VIDEXT_MAX_PIXELS"),
    ("claims_10_hours", {}, r"VIDEXT_MAX_DURATION_S"),
    ("timestamp_gap_1h", {}, r"VIDEXT_MAX_DURATION_S"),
    ("claims_1000_fps", {}, r"VIDEXT_MAX_FPS"),
    ("two_frames", {"VIDEXT_MAX_PIXELS": "3000"}, r"64×48 \(0\.0 MP\) exceeds the limit of 0\.0 MP"),
    ("two_frames", {"VIDEXT_MAX_DURATION_S": "0.05"}, r"duration 0\.08 s exceeds the limit of 0\.05 s"),
    ("two_frames", {"VIDEXT_MAX_OUTPUT_FRAMES": "3"}, r"the output would have 4 frames; the limit is 3 "
                                                      r"\(VIDEXT_MAX_OUTPUT_FRAMES\)"),
    ("two_frames", {"VIDEXT_MAX_UPLOAD_MB": "0.001"}, r"the limit is 0\.001 MB \(VIDEXT_MAX_UPLOAD_MB\)"),
    ("two_frames", {"VIDEXT_MAX_FPS": "30"}, r"output rate 50 fps exceeds the limit of 30 fps"),
])
def test_over_limit_is_refused_before_decoding(name, env, want, tmp_path, monkeypatch, watchdog):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    src, folder = make_input(name, tmp_path)
    count = DecodeCounter(monkeypatch)
    with pytest.raises(LimitError, match=want):
        vidext.interpolate(str(src), str(folder / "o.mp4"))
    assert count.sources == 0, "a frame source was opened for a refused job"
    if "VIDEXT_MAX_PIXELS" in want or "MP" in want:
        assert count.probe_frames == 0, "the probe decoded a picture over the pixel limit"
    assert listing(folder) == {src.name}
    assert_refused_cli(cli("interpolate", src, "-o", folder / "o.mp4", env=env), Refused(LimitError, want))


def test_limit_env_var_must_be_a_number(monkeypatch):
    monkeypatch.setenv("VIDEXT_MAX_PIXELS", "lots")
    with pytest.raises(ValueError, match="VIDEXT_MAX_PIXELS='lots' is not a number"):
        config.Limits.from_env()


# --- faults: killed, failed, cancelled jobs ----------------------------------------------------
def _parts(folder: Path) -> list[str]:
    from vidext.media.atomic import is_part_file
    return sorted(n for n in listing(folder) if is_part_file(n))


def test_killed_job_leaves_no_output_and_the_next_job_sweeps_its_temp_file(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    proc, out = _start_slow_job(folder)
    src = folder / "in.mp4"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=TIMEOUT_S)
    assert not out.exists() and not Path(str(out) + ".json").exists()
    (part,) = _parts(folder)
    assert part.startswith(".o.") and part.endswith(".part.mp4")   # hidden, recognisable debris
    # A job starting now leaves a fresh temp file alone (it may be a live job's) ...
    assert cli("interpolate", src, "-o", folder / "o2.mp4").returncode == 0
    assert _parts(folder) == [part]
    # ... and sweeps it once it is older than the threshold.
    old = time.time() - config.STALE_PART_AGE_S - 60
    os.utime(folder / part, (old, old))
    assert cli("interpolate", src, "-o", folder / "o3.mp4").returncode == 0
    assert _parts(folder) == []
    assert listing(folder) == {"in.mp4", "o2.mp4", "o2.mp4.json", "o2.mp4.xmp", "o3.mp4", "o3.mp4.json", "o3.mp4.xmp"}


def _start_slow_job(folder: Path) -> tuple[subprocess.Popen, Path]:
    """A CLI job on a clip long enough to be caught mid-write; returns once its temp file has data."""
    # long enough (1600 output frames) that it cannot finish between detection and the signal
    src = corpus.write_video(folder / "in.mp4", frames=200, width=320, height=240)
    out = folder / "o.mp4"
    proc = subprocess.Popen(VIDEXT + ["interpolate", str(src), "-o", str(out), "--factor", "8",
                                      "--quality", "quality", "--codec", "h264", "--crf", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            # Ctrl-C as a terminal delivers it: a suite started in the background by
                            # a non-interactive shell hands its children SIGINT ignored, and Python
                            # (rightly) keeps it ignored, so the job would run to its end
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        parts = _parts(folder)
        if parts and (folder / parts[0]).stat().st_size > 0:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the job ended before it could be stopped"
    return proc, out


def test_interrupted_job_removes_its_temp_file(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    proc, out = _start_slow_job(folder)
    proc.send_signal(signal.SIGINT)          # Ctrl-C
    _, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 130 and err.strip().splitlines()[-1] == "error: interrupted", err
    assert "Traceback" not in err
    assert listing(folder) == {"in.mp4"}


def test_stale_sweep_touches_only_vidext_temp_files(tmp_path):
    from vidext.media.atomic import clean_stale_parts
    names = [".o.abcd1234.part.mp4", ".my clip.x_y9z8w7.part.mov", ".o.mp4.k2j3h4g5.part.json",
             "o.part.mp4", ".o.part.mp4", ".o.abc.part.mp4", "notes.txt", ".hidden", "clip.mp4"]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
        old = time.time() - 10_000
        os.utime(tmp_path / n, (old, old))
    (tmp_path / ".fresh.abcd1234.part.mp4").write_bytes(b"x")
    removed = sorted(os.path.basename(p) for p in clean_stale_parts(str(tmp_path), older_than_s=3600))
    assert removed == sorted(names[:3])
    assert listing(tmp_path) == set(names[3:]) | {".fresh.abcd1234.part.mp4"}


def test_job_failing_mid_way_removes_its_temp_files(good, monkeypatch, watchdog):
    from vidext.interpolation import flow

    calls = []
    real = flow.DISInterpolator.between

    def failing(self, a, b):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("simulated failure in the middle of the job")
        return real(self, a, b)

    monkeypatch.setattr(flow.DISInterpolator, "between", failing)
    folder = good.parent
    with pytest.raises(RuntimeError, match="simulated failure"):
        vidext.interpolate(str(good), str(folder / "o.mp4"))
    assert listing(folder) == {"in.mp4"}


def test_failing_sidecar_leaves_neither_file(good, monkeypatch, watchdog):
    from vidext.media import atomic

    def no_room(output, record):
        raise OutputError(f"cannot write {os.path.basename(output)}.json: no space left on the disk")

    monkeypatch.setattr(atomic, "write_sidecar", no_room)   # what every job's sidecar is written with
    with pytest.raises(OutputError, match="no space left"):
        vidext.interpolate(str(good), str(good.parent / "o.mp4"))
    assert listing(good.parent) == {"in.mp4"}


# --- security of the engine's own process use ----------------------------------------------------
def test_no_shell_anywhere_in_the_package():
    """Subprocesses (if any) get argument lists: no shell ever sees a file name."""
    offenders = []
    for path in list((ROOT / "vidext").rglob("*.py")) + [ROOT / "app.py"]:
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (r"shell\s*=\s*True", r"os\.system\(", r"os\.popen\(", r"commands\.getoutput",
                        r"subprocess\.\w+\(\s*f?[\"']"):
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert offenders == []


# --- a short fuzz run over mp4 headers (bench/fuzz_headers.py runs the long one) ---------------------
@pytest.mark.fuzz
def test_fuzzed_headers_get_clear_answers(tmp_path, monkeypatch, watchdog):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import fuzz_headers
    tally = fuzz_headers.fuzz(seed=10, examples=150, seconds=30, workdir=str(tmp_path))
    assert tally.tried > 0 and tally.probe_ok > 0 and tally.interpolated > 0
    assert [{k: v for k, v in f.items() if k != "input"} for f in tally.findings] == []
    assert os.environ.get("VIDEXT_MAX_OUTPUT_FRAMES") != fuzz_headers.FUZZ_LIMITS["VIDEXT_MAX_OUTPUT_FRAMES"]


# --- the corpus through the web API (the Gradio app on 127.0.0.1) ------------------------------------
APP = ROOT / "app.py"
# Inputs a browser or gradio_client cannot upload at all (nothing there, a folder, an endless stream).
NOT_UPLOADABLE = {"missing_file", "folder_not_file", "named_pipe", "device_file"}
WEB_CASES = sorted(set(EXPECT) - NOT_UPLOADABLE)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """``python app.py`` in its own process on a free loopback port, with its own folders."""
    pytest.importorskip("gradio_client")
    import urllib.request

    from gradio_client import Client

    root = tmp_path_factory.mktemp("web")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_SERVER_PORT": str(port), "GRADIO_TEMP_DIR": str(root / "gradio"),
           "VIDEXT_APP_WORKDIR": str(root / "work"), "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_OFFLINE": "1"}
    log = open(root / "server.log", "w")
    proc = subprocess.Popen([sys.executable, str(APP)], cwd=str(ROOT), env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail("the app did not start:\n" + (root / "server.log").read_text()[-3000:])
        time.sleep(0.25)
    try:
        yield {"client": Client(url, verbose=False), "url": url, "proc": proc, "work": root / "work",
               "log": root / "server.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _job_folders(work: Path) -> list[Path]:
    return sorted(p for p in work.iterdir() if p.is_dir()) if work.exists() else []


def _leftovers(work: Path) -> list[str]:
    """Files in the app's job folders that are temp files or half-written outputs."""
    from vidext.media.atomic import is_part_file
    return sorted(str(p) for p in work.rglob("*") if p.is_file() and is_part_file(p.name))


@pytest.mark.parametrize("name", WEB_CASES)
def test_web(name, web, tmp_path):
    """Run in order on one server: each request is also 'the next request' after the previous case."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    src, folder = make_input(name, tmp_path)
    want = EXPECT[name][1]
    assert web["proc"].poll() is None, "the server died"
    before = set(_job_folders(web["work"]))
    try:
        download, _watch, details = web["client"].predict(handle_file(str(src)), 2, api_name="/interpolate")
    except AppError as exc:
        assert want is not OK, f"the app refused a good input: {exc}"
        msg = str(exc)
        assert msg and "\n" not in msg.strip() and "Traceback" not in msg, msg
        assert re.search(want.pattern, msg), msg
        assert set(_job_folders(web["work"])) == before, "a failed job left its folder"
    else:
        assert want is OK, f"the app accepted {name}"
        check_video_output(name, src, Path(download), WEB_PROPS.get(name))
        assert isinstance(details, dict) and not any(os.path.isabs(str(v)) for v in details.values())
    assert _leftovers(web["work"]) == []
    # Gradio logs every gr.Error with its stack; an error that was not a VidextError is logged as internal.
    assert "internal error" not in web["log"].read_text()


def test_web_still_answers_after_the_corpus(web, good):
    from gradio_client import handle_file

    download, _watch, _details = web["client"].predict(handle_file(str(good)), 2, api_name="/interpolate")
    check_video_output("good", good, Path(download))
    assert web["proc"].poll() is None


@pytest.mark.parametrize("path", ["/etc/passwd", "/etc/../etc/passwd", "/proc/self/environ",
                                  "../../../../etc/passwd"])
def test_web_refuses_files_it_did_not_receive(web, path):
    from gradio_client.exceptions import AppError

    payload = {"path": path, "meta": {"_type": "gradio.FileData"}}
    with pytest.raises(Exception) as err:     # refused by Gradio's file checks or by vidext
        web["client"].predict(payload, 2, api_name="/interpolate")
    text = str(err.value)
    assert "root:" not in text and "PATH=" not in text
    if isinstance(err.value, AppError):
        assert "\n" not in text.strip()
    assert web["proc"].poll() is None


@pytest.mark.fuzz
def test_fuzzed_parameters_get_clear_answers(tmp_path, watchdog):
    """Any value of the interpolate options: a finished job or a one-line VidextError."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    src = corpus.write_video(tmp_path / "in.mp4", frames=3, width=32, height=32)
    number = st.one_of(st.none(), st.integers(-5, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                       st.sampled_from(["2", "59.94", "30000/1001", "1/0", "abc", "", "1e400", "-0"]))
    options = st.fixed_dictionaries({
        "factor": number, "fps": number,
        "quality": st.sampled_from(["fast", "balanced", "quality", "ultra", ""]),
        "codec": st.sampled_from(["h264", "h265", "prores", "ffv1", "vp9", ""]),
        "crf": st.one_of(st.none(), st.integers(-3, 60)),
        "ext": st.sampled_from([".mp4", ".mkv", ".mov", ".webm", ".txt", ""]),
    })

    @settings(max_examples=60, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(options)
    def run(o):
        out = tmp_path / ("o" + o.pop("ext"))
        for p in tmp_path.iterdir():
            if p.name != "in.mp4":
                p.unlink()
        try:
            r = vidext.interpolate(str(src), str(out), **o)
        except VidextError as exc:
            assert str(exc) and "\n" not in str(exc)
            assert listing(tmp_path) == {"in.mp4"}
        else:
            assert r.frames_out >= 1 and out.exists()

    run()


@pytest.mark.parametrize("quality", ["fast", "balanced", "quality"])
@pytest.mark.parametrize("size", [(192, 16), (640, 48), (1280, 100), (4000, 20), (16, 400)])
def test_optical_flow_survives_thin_pictures(quality, size):
    """OpenCV's DIS segfaulted on flow inputs under 32 rows (found by fuzzing a header to 192×16)."""
    import numpy as np

    from vidext.interpolation.flow import DISInterpolator
    from vidext.media.frame import Frame, working_layout

    w, h = size
    layout = working_layout("yuv420p")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 255, (h, w), dtype=np.uint8)
    uv = np.full(((h + 1) // 2, (w + 1) // 2), 128, np.uint8)
    a = Frame((y, uv, uv), Fraction(0), layout)
    b = Frame((np.roll(y, 2, axis=1), uv, uv), Fraction(1, 25), layout)
    mid = DISInterpolator(quality).between(a, b).at(0.5)
    assert [p.shape for p in mid] == [p.shape for p in a.planes]


def test_an_animated_webp_is_named_for_what_it_is(tmp_path):
    """FFmpeg's WebP decoder plays no animation: the refusal says so and how to get on."""
    import numpy as np

    from vidext.media.probe import probe

    path = str(tmp_path / "anim.webp")
    with av.open(path, "w", format="webp") as c:
        s = c.add_stream("libwebp_anim", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for k in range(3):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 40 * k, np.uint8), format="rgb24")
            f = f.reformat(format="yuv420p")
            f.pts = k
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    with pytest.raises(InputError, match="animated WebP.*convert it to GIF, MP4 or WebM"):
        probe(path)
