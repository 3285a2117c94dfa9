"""Nothing in the file is lost (issue 37): every sound track, subtitle, chapter, tag and attachment
follows the picture through every job, or is named where it cannot.

The inputs are the real camera clip of the conformance matrix (:mod:`formats`: bikes.mp4 with the
film's sound; the other tracks real speech and music, a reading of Sense and Sensibility for the
commentary and Sonic Pi's loops; the synthetic texture and tones when the assets are not fetched)
packed as people's films are:
an MKV with three sound tracks (AAC English default, Opus French commentary, FLAC German), SRT,
styled ASS and WebVTT subtitles, three chapters, a title, a creation time and a font attached; an
MP4 with three sound tracks (AAC, AC-3 commentary, MP3), ``mov_text`` subtitles, chapters and tags.
Every job runs on them and each output is read back on its own (never through vidext's probe of it):
every track there with its language, title and dispositions; every cue and chapter at the time the
picture's map puts it (within one output frame); the file's tags kept; every stream that is not
there named in the sidecar's ``output.dropped``.  Picture subtitles (DVD, DVB and PGS in an MKV, their
packets written by hand) go through every job too: the same pictures at their mapped times.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
import pytest
from av.subtitles.subtitle import SubtitleSet
from formats import have_assets, make_variant, variant

import vidext
from vidext.media.streams import shifted_timecode

FPS = 25
FRAMES = 25                     # one second: room for three cues and three chapters
X264 = {"preset": "ultrafast", "crf": "18"}
TAGS = {"title": "Bikes, with everything", "creation_time": "2020-06-01T12:00:00.000000Z",
        "comment": "a film as people pack them"}
CUES = [(Fraction(2, 25), Fraction(10, 25), "first cue"), (Fraction(11, 25), Fraction(18, 25), "second cue"),
        (Fraction(19, 25), Fraction(24, 25), "third cue")]
CHAPTERS = [(Fraction(0), Fraction(8, 25), "Opening"), (Fraction(8, 25), Fraction(16, 25), "Middle"),
            (Fraction(16, 25), Fraction(1), "End")]
ASS_HEADER = """[Script Info]
ScriptType: v4.00+
PlayResX: 384
PlayResY: 288

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, \
Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, \
MarginV, Encoding
Style: Default,DejaVu Sans,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0
Style: Shout,DejaVu Sans,22,&H00ffff,&Hffffff,&H0,&H0,1,1,0,0,100,100,0,0,1,2,0,8,10,10,10,0

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
"""
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@dataclass(frozen=True)
class Track:
    encoder: str
    language: str
    title: str
    layout: str = "stereo"
    disposition: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subs:
    encoder: str
    language: str
    title: str
    style: str = "Default"
    disposition: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rich:
    """A film packed with everything: the first sound track comes with the picture (aac)."""

    name: str
    ext: str
    tracks: tuple[Track, ...]
    subtitles: tuple[Subs, ...]
    attach: bool = False
    chapters: bool = True
    extra: dict = field(default_factory=dict)
    pgs: tuple[tuple[Fraction, bool], ...] = ()      # a PGS track last: (time, shows a picture / clears it)


MKV = Rich("mkv", ".mkv",
           (Track("aac", "eng", "English", disposition=("default",)),
            Track("libopus", "fra", "Commentary", "mono", ("comment",)),
            Track("flac", "deu", "Deutsch", "mono")),
           (Subs("subrip", "eng", "English", disposition=("default",)),
            Subs("ass", "deu", "Styled", "Shout", ("forced",)),
            Subs("webvtt", "fra", "Français")), attach=True)
MP4 = Rich("mp4", ".mp4",
           (Track("aac", "eng", "English", disposition=("default",)),
            Track("ac3", "fra", "Commentary", "mono", ("comment",)),
            Track("libmp3lame", "spa", "Español", "mono")),
           (Subs("mov_text", "eng", "English", disposition=("default",)),))
MKA = Rich("mka", ".mka", (Track("flac", "eng", "Music", disposition=("default",)),
                           Track("libopus", "fra", "Commentary", "mono", ("comment",))), (), )


def _tone(seconds: float, hz: float, layout: str) -> np.ndarray:
    n = int(round(seconds * 48000))
    y = 0.2 * np.sin(2 * np.pi * hz * np.arange(n) / 48000).astype(np.float32)
    return np.repeat(y[None], av.AudioLayout(layout).nb_channels, 0)


# the sound of each track after the first (which comes with the picture), when the assets are fetched
REAL_SOUND = {"Commentary": "sense_and_sensibility_01_austen_64kb-0880.wav", "Deutsch": "loop_amen.flac",
              "Español": "loop_amen.flac", "Music": "ambi_choir.flac"}


def _sound(title: str, seconds: float, hz: float, layout: str) -> np.ndarray:
    """(channels, samples) at 48 kHz: the real recording for ``title`` when fetched, else a tone."""
    from fetch_assets import asset_dir
    path = asset_dir() / "audio" / REAL_SOUND.get(title, "")
    if title not in REAL_SOUND or not path.exists():
        return _tone(seconds, hz, layout)
    from vidext.media.packed import to_blocks
    n = int(round(seconds * 48000))
    res = av.AudioResampler(format="flt", layout=layout, rate=48000)     # packed: see to_blocks
    parts = []
    with av.open(str(path)) as c:
        for f in c.decode(audio=0):
            parts += to_blocks(res.resample(f))
            if sum(p.shape[1] for p in parts) >= n:
                break
    parts += to_blocks(res.resample(None))
    x = np.concatenate(parts, axis=1)[:, :n]
    x = np.pad(x, ((0, 0), (0, n - x.shape[1])))         # a recording shorter than the picture: silence after
    x *= min(1.0, 0.8 / max(float(np.abs(x).max()), 1e-9))   # the amen break peaks over full scale
    return np.ascontiguousarray(x, dtype=np.float32)


def _encode_sound(c, stream, x: np.ndarray, layout: str) -> None:
    from vidext.media.packed import from_block
    fmt = stream.codec_context.format.name if stream.codec_context.format else "fltp"
    res = av.AudioResampler(format=fmt, layout=layout, rate=48000)
    for i in range(0, x.shape[1], 1024):
        fr = from_block(np.ascontiguousarray(x[:, i:i + 1024]), layout)
        fr.rate, fr.pts, fr.time_base = 48000, i, Fraction(1, 48000)
        for g in res.resample(fr):
            for p in stream.encode(g):
                c.mux(p)
    for g in res.resample(None):
        for p in stream.encode(g):
            c.mux(p)
    for p in stream.encode(None):
        c.mux(p)


def _set_disposition(stream, names) -> None:
    flags = 0
    for n in names:
        flags |= getattr(av.stream.Disposition, n)
    if flags:
        stream.disposition = av.stream.Disposition(flags)


def make_rich(folder, r: Rich) -> str:
    """Write ``r`` in ``folder`` from the real footage (the synthetic texture without the assets)."""
    path = os.path.join(str(folder), f"rich{r.ext}")
    audio_only = r.ext == ".mka"
    base = make_variant(os.path.join(str(folder), "base.mkv"),
                        variant("base", ext=".mkv", options=X264, audio="aac", frames=FRAMES, audio_only=audio_only),
                        synthetic=not have_assets())
    seconds = FRAMES / FPS
    with av.open(base) as src, av.open(path, "w", format="matroska" if r.ext in (".mkv", ".mka") else None) as c:
        c.metadata.update(TAGS)
        copies = []
        if not audio_only:
            v = c.add_stream_from_template(src.streams.video[0])
            copies.append((src.streams.video[0], v))
        made = []
        for k, t in enumerate(r.tracks):
            if k == 0 and not audio_only:
                s = c.add_stream_from_template(src.streams.audio[0])
                copies.append((src.streams.audio[0], s))
            else:
                s = c.add_stream(t.encoder, rate=48000)
                s.layout = t.layout
                made.append((s, t, 220.0 * (k + 1)))
            s.metadata["language"], s.metadata["title"] = t.language, t.title
            _set_disposition(s, t.disposition)
        subs = []
        for sub in r.subtitles:
            s = c.add_stream(sub.encoder)
            s.codec_context.subtitle_header = ASS_HEADER.encode()
            s.metadata["language"], s.metadata["title"] = sub.language, sub.title
            _set_disposition(s, sub.disposition)
            subs.append((s, sub))
        pgs = None
        if r.pgs:
            pgs = c.add_mux_stream("hdmv_pgs_subtitle")
            pgs.metadata["language"] = "eng"
        if r.attach:
            data = open(FONT, "rb").read() if os.path.exists(FONT) else b"\0\1\0\0" + bytes(60)
            c.add_attachment("DejaVuSans.ttf", "application/x-truetype-font", data)
        if r.chapters:
            c.set_chapters([{"id": k + 1, "start": int(a * 1000), "end": int(b * 1000), "time_base": Fraction(1, 1000),
                             "metadata": {"title": name}} for k, (a, b, name) in enumerate(CHAPTERS)])
        c.start_encoding()
        route = {s_in.index: s_out for s_in, s_out in copies}
        for pkt in src.demux([s_in for s_in, _ in copies]) if copies else ():
            if pkt.dts is None and pkt.pts is None:
                continue
            pkt.stream = route[pkt.stream.index]
            c.mux(pkt)
        for s, t, hz in made:
            _encode_sound(c, s, _sound(t.title, seconds, hz, t.layout), t.layout)
        for s, sub in subs:
            tb = s.time_base
            for a, b, text in CUES:
                cue = SubtitleSet.create(f"0,0,{sub.style},,0,0,0,,{text}".encode(), 0, int((b - a) / tb),
                                         int(a / tb))
                pkt = s.codec_context.encode_subtitle(cue)
                pkt.stream, pkt.time_base = s, tb
                pkt.pts = pkt.dts = int(a / tb)
                pkt.duration = int((b - a) / tb)
                c.mux(pkt)
        for t, show in r.pgs:
            pkt = av.Packet(pgs_display_set(192, 80, show))
            pkt.stream, pkt.time_base = pgs, pgs.time_base
            pkt.pts = pkt.dts = int(t / pgs.time_base)
            c.mux(pkt)
    return path


# --- reading an output back (PyAV, not vidext's probe) ------------------------------------------------

def _tags(stream) -> dict:
    t = {k.lower(): v for k, v in stream.metadata.items()}
    if "title" not in t and "name" in t:     # MP4 reads a track's title back as "name"
        t["title"] = t["name"]
    return t


def _flags(stream) -> set[str]:
    return {d.name for d in av.stream.Disposition if int(stream.disposition) & d.value}


def streams_of(path: str, kind: str) -> list:
    with av.open(path) as c:
        return [(s.index, _tags(s), _flags(s), s.codec_context.name if s.codec_context else None)
                for s in c.streams if s.type == kind and not (s.type == "data")]


def cues_of(path: str, index: int) -> list[tuple[Fraction, Fraction, str]]:
    """(start, end, text) of every cue of subtitle stream ``index`` (MP4's empty gap samples skipped)."""
    out = []
    with av.open(path) as c:
        s = c.streams[index]
        for pkt in c.demux(s):
            if pkt.pts is None or pkt.size <= 2:
                continue
            tb = Fraction(s.time_base.numerator, s.time_base.denominator)
            start = pkt.pts * tb
            texts = []
            got = s.codec_context.decode2(pkt)
            for rect in got or ():    # the ASS event's text without its override tags ({\\b1} ...)
                text = bytes(rect.ass).decode(errors="replace").split(",", 8)[-1]
                texts.append(re.sub(r"\{[^}]*\}", "", text))
            out.append((start, start + (pkt.duration or 0) * tb, " ".join(texts)))
    return out


def chapters_of(path: str) -> list[tuple[Fraction, Fraction, str]]:
    with av.open(path) as c:
        return [(ch["start"] * ch["time_base"], ch["end"] * ch["time_base"], ch["metadata"].get("title"))
                for ch in c.chapters()]


def file_tags(path: str) -> dict:
    with av.open(path) as c:
        return {k.lower(): v for k, v in c.metadata.items()}


def attachments_of(path: str) -> list[tuple[str, bytes]]:
    with av.open(path) as c:
        return [(s.name, bytes(s.data)) for s in c.streams if s.type == "attachment"]


# --- the jobs ----------------------------------------------------------------------------------------

def segment_map(a: Fraction, b: Fraction, k: Fraction):
    return lambda t: t if t < a else (a + (t - a) * k if t < b else t + (b - a) * (k - 1))


JOBS = {
    # name: (run(src, out), map of input to output time, output rate, whether the first chapter takes the new head)
    "interp2x": (lambda s, o: vidext.interpolate(s, o, factor=2, quality="fast"), lambda t: t, 2 * FPS),
    "fps60": (lambda s, o: vidext.interpolate(s, o, fps=60, quality="fast"), lambda t: t, 60),
    "slowmo_segment": (lambda s, o: vidext.interpolate(s, o, slowmo=2, start=0.2, end=0.6, quality="fast"),
                       segment_map(Fraction(1, 5), Fraction(3, 5), Fraction(2)), FPS),
    "extend_forward": (lambda s, o: vidext.extend(s, o, seconds=0.2, method="loop", direction="forward"),
                       lambda t: t, FPS),
    "extend_backward": (lambda s, o: vidext.extend(s, o, seconds=0.2, method="loop", direction="backward"),
                        lambda t: t + Fraction(1, 5), FPS),
    "extend_both": (lambda s, o: vidext.extend(s, o, seconds=0.2, method="loop", direction="both"),
                    lambda t: t + Fraction(1, 5), FPS),
    "audio_replace": (None, lambda t: t, FPS),
    # sound-only inputs (the MKA): the picture's jobs retime sound with a picture; these, sound alone
    "audio_stretch": (lambda s, o: vidext.audio(s, o, stretch=1.5), lambda t: Fraction(3, 2) * t, 1000),
    "audio_extend_both": (lambda s, o: vidext.audio(s, o, extend=0.5, direction="both"),
                          lambda t: t + Fraction(1, 2), 1000),
}
PICTURE_JOBS = [j for j in JOBS if not j.startswith("audio_") or j == "audio_replace"]


def _replace(src: str, out: str, folder) -> object:
    from vidext.media.synth import write_audio
    snd = write_audio(os.path.join(str(folder), "music.wav"), _tone(1.0, 330, "stereo"), 48000)
    return vidext.audio(src, out, audio_file=snd)


def check_output(src: str, out: str, to_output, fps_out: float, sidecar: dict, *, replaced: bool = False,
                 first_chapter_head: bool = True) -> list[str]:
    """Everything of ``src`` in ``out`` or named in the sidecar; what is wrong (empty: all well)."""
    problems = []
    tol = Fraction(1) / Fraction(fps_out).limit_denominator(1001) + Fraction(1, 1000)
    dropped = sidecar["output"]["dropped"]
    named = {d["stream"] for d in dropped if d.get("stream") is not None and d["type"] != "tag"}
    lost_tags = {(d["stream"], d["codec"]) for d in dropped if d["type"] == "tag"}
    converted = {d["stream"]: d for d in sidecar["output"]["converted"] if d.get("stream") is not None}
    # 1. every sound track, in order, with its language, title and dispositions
    a_in, a_out = streams_of(src, "audio"), streams_of(out, "audio")
    if replaced:     # the default track is replaced (and named); the others follow
        a_in = [x for x in a_in if x[0] not in named]
        a_out = a_out[1:]
    kept_in = [x for x in a_in if x[0] not in named]
    if len(kept_in) != len(a_out):
        problems.append(f"{len(a_in)} sound tracks in ({len(a_in) - len(kept_in)} named dropped), {len(a_out)} out")
    for (i, ti, fi, _), (o, to, fo, _) in zip(kept_in, a_out):
        for key in ("language", "title"):
            if ti.get(key) != to.get(key) and (i, key) not in lost_tags:
                problems.append(f"sound #{i}->#{o} {key} {ti.get(key)!r} -> {to.get(key)!r}")
        if (fi & {"default", "comment", "forced"}) - fo and (i, "disposition") not in lost_tags:
            problems.append(f"sound #{i}->#{o} dispositions {sorted(fi)} -> {sorted(fo)}")
    # 2. every subtitle stream, its cues at their mapped times
    s_in, s_out = streams_of(src, "subtitle"), streams_of(out, "subtitle")
    kept_s = [x for x in s_in if x[0] not in named]
    if len(kept_s) != len(s_out):
        problems.append(f"{len(s_in)} subtitle streams in ({len(s_in) - len(kept_s)} named dropped), {len(s_out)} out")
    for (i, ti, fi, ci), (o, to, fo, co) in zip(kept_s, s_out):
        for key in ("language", "title"):
            if ti.get(key) != to.get(key) and (i, key) not in lost_tags:
                problems.append(f"subtitle #{i}->#{o} {key} {ti.get(key)!r} -> {to.get(key)!r}")
        if ci != co and i not in converted:
            problems.append(f"subtitle #{i} {ci} became {co}, not named as converted")
        want, got = cues_of(src, i), cues_of(out, o)
        if len(want) != len(got):
            problems.append(f"subtitle #{i}: {len(want)} cues in, {len(got)} out")
        for (a, b, text), (x, y, text_out) in zip(want, got):
            if abs(to_output(a) - x) > tol or abs(to_output(b) - y) > tol:
                problems.append(f"subtitle #{i} cue {text!r} at {float(a):.3f}-{float(b):.3f} s: want "
                                f"{float(to_output(a)):.3f}-{float(to_output(b)):.3f}, got {float(x):.3f}-{float(y):.3f}")
            if text != text_out:
                problems.append(f"subtitle #{i} cue {text!r} came out as {text_out!r}")
    # 3. chapters at their mapped times
    ch_in, ch_out = chapters_of(src), chapters_of(out)
    if ch_in and not ch_out:
        if not any(d["type"] == "chapters" for d in dropped):
            problems.append("chapters lost, not named")
    elif len(ch_in) != len(ch_out):
        problems.append(f"{len(ch_in)} chapters in, {len(ch_out)} out")
    else:
        for k, ((a, b, name), (x, y, name_out)) in enumerate(zip(ch_in, ch_out)):
            start = a if (k == 0 and first_chapter_head) else to_output(a)
            if abs(start - x) > tol or abs(to_output(b) - y) > tol or name != name_out:
                problems.append(f"chapter {name!r} {float(a):.3f}-{float(b):.3f}: want {float(start):.3f}-"
                                f"{float(to_output(b)):.3f}, got {name_out!r} {float(x):.3f}-{float(y):.3f}")
    # 4. the file's tags
    tags = file_tags(out)
    for k, v in TAGS.items():
        if tags.get(k) != v and not any(d["type"] == "tag" and d["codec"].lower() == k for d in dropped):
            problems.append(f"tag {k} {v!r} -> {tags.get(k)!r}, not named")
    # 5. attachments kept or named
    att_in, att_out = attachments_of(src), attachments_of(out)
    if att_in and att_out != att_in and not any(d["type"] == "attachment" for d in dropped):
        problems.append(f"attachments {[n for n, _ in att_in]} -> {[n for n, _ in att_out]}, not named")
    return problems


def _run(tmp_path, rich: Rich, job: str, out_ext: str | None = None) -> tuple[str, str, dict, object]:
    src = make_rich(tmp_path, rich)
    out = str(tmp_path / f"out{out_ext or rich.ext}")
    run = JOBS[job][0]
    result = _replace(src, out, tmp_path) if job == "audio_replace" else run(src, out)
    with open(result.sidecar) as f:
        sidecar = json.load(f)
    return src, out, sidecar, result


def _check(tmp_path, rich: Rich, job: str, out_ext: str | None = None):
    src, out, sidecar, result = _run(tmp_path, rich, job, out_ext)
    _, to_output, fps_out = JOBS[job]
    problems = check_output(src, out, to_output, fps_out, sidecar, replaced=job == "audio_replace")
    assert not problems, f"{rich.name} → {out_ext or rich.ext} × {job}: " + "; ".join(problems)
    return src, out, sidecar, result


# The fast slice: each kind of map (identity, piecewise slow motion, shift), each container, a conversion.
FAST = [(MKV, "slowmo_segment", None), (MP4, "extend_backward", None), (MKV, "interp2x", ".mp4"),
        (MP4, "audio_replace", None), (MKA, "audio_extend_both", None)]
SLOW = [(r, j, None) for r in (MKV, MP4) for j in PICTURE_JOBS if (r, j, None) not in FAST] + \
       [(MKA, j, None) for j in ("audio_stretch", "audio_extend_both") if (MKA, j, None) not in FAST] + \
       [(MP4, "slowmo_segment", ".mkv"), (MKV, "extend_backward", ".webm"), (MKV, "extend_both", ".mp4"),
        (MKV, "fps60", ".mov"), (MKA, "audio_stretch", ".m4a"), (MKA, "audio_extend_both", ".ogg")]


@pytest.mark.parametrize("rich,job,out_ext", FAST, ids=[f"{r.name}-{j}-{e or r.ext}" for r, j, e in FAST])
def test_fast_slice(tmp_path, rich, job, out_ext):
    _check(tmp_path, rich, job, out_ext)


@pytest.mark.slow
@pytest.mark.assets
@pytest.mark.parametrize("rich,job,out_ext", SLOW, ids=[f"{r.name}-{j}-{e or r.ext}" for r, j, e in SLOW])
def test_matrix(tmp_path, rich, job, out_ext):
    if not have_assets():
        pytest.skip("real footage not fetched (run: python scripts/fetch_assets.py)")
    _check(tmp_path, rich, job, out_ext)


def test_matrix_covers_every_job_and_container():
    """Every job on the MKV and the MP4 (the sound-only ones on the MKA), each output container once."""
    cases = {(r.name, j) for r, j, e in FAST + SLOW if e is None}
    assert {(r, j) for r in ("mkv", "mp4") for j in PICTURE_JOBS} | \
           {("mka", j) for j in JOBS if j not in PICTURE_JOBS} <= cases
    assert {e or r.ext for r, _, e in FAST + SLOW} >= {".mkv", ".mp4", ".mov", ".webm", ".mka", ".m4a", ".ogg"}


def test_mkv_to_mkv_keeps_every_stream_untouched(tmp_path):
    """Same container, timing unchanged: every sound track and subtitle copied packet for packet, the
    font attached byte for byte, nothing dropped or converted; the CLI line says so."""
    from vidext._cli.common import audio_words
    src, out, sidecar, r = _check(tmp_path, MKV, "interp2x")
    assert sidecar["output"]["dropped"] == [] and sidecar["output"]["converted"] == []
    assert r.audio == "copied" and audio_words(r) == "copied (3 tracks)"
    for (i, *_), (o, *_) in zip(streams_of(src, "audio"), streams_of(out, "audio")):
        with av.open(src) as a, av.open(out) as b:
            assert [bytes(p) for p in a.demux(a.streams[i]) if p.size] == \
                   [bytes(p) for p in b.demux(b.streams[o]) if p.size]
    assert attachments_of(out) == attachments_of(src)
    assert [t["as"] for t in sidecar["output"]["audio_tracks"]] == ["copied"] * 3
    with av.open(out) as c:
        assert c.streams.video[0].metadata.get("ENCODER", "").startswith("vidext ")


def test_mkv_into_mp4_names_every_conversion_and_drop(tmp_path, capsys):
    """SRT, ASS and WebVTT become mov_text (named, ASS's styling loss said); Opus and FLAC are carried
    in MP4; the font cannot be: named, on the CLI line too."""
    from vidext._cli import main
    src = make_rich(tmp_path, MKV)
    out = str(tmp_path / "out.mp4")
    assert main(["interpolate", src, "-o", out, "--factor", "2", "--quality", "fast", "-q"]) == 0
    said = capsys.readouterr().out
    sidecar = json.load(open(out + ".json"))
    conv = {d["codec"]: d for d in sidecar["output"]["converted"]}
    assert set(conv) == {"subrip", "ass", "webvtt"} and {d["to"] for d in conv.values()} == {"mov_text"}
    assert "styling" in conv["ass"]["why"]
    (att,) = [d for d in sidecar["output"]["dropped"] if d["type"] == "attachment"]
    assert att["filename"] == "DejaVuSans.ttf" and "attachments" in att["why"]
    assert "audio copied (3 tracks)" in said
    assert "converted: #5 ASS subtitles (deu, \"Styled\") → MP4 text (mov_text)" in said
    assert "dropped: #7 attachment DejaVuSans.ttf" in said
    assert [c for *_, c in streams_of(out, "subtitle")] == ["mov_text"] * 3
    assert check_output(src, out, lambda t: t, 2 * FPS, sidecar) == []


def test_slow_motion_outside_the_stretch_range_names_every_track(tmp_path):
    """Sound is not stretched 16×: every track is named as dropped (not only the first), the cues and
    chapters still follow the picture."""
    src = make_rich(tmp_path, MP4)
    out = str(tmp_path / "out.mp4")
    r = vidext.interpolate(src, out, slowmo=16, model="blend")
    dropped = [d for d in r.details["output"]["dropped"] if d["type"] == "audio"]
    assert [d["stream"] for d in dropped] == [1, 2, 3] and all("16x" in d["why"] for d in dropped)
    assert streams_of(out, "audio") == []
    assert check_output(src, out, lambda t: 16 * t, FPS, r.details) == []


def test_sound_only_jobs_carry_every_track_and_the_chapters(tmp_path):
    """An MKA with two tracks and chapters: stretched, both tracks stretched and the chapters with them;
    extended before the start, both extended and the chapters shifted; into WAV (one track, no
    chapters) the second track and the chapters are named."""
    src = make_rich(tmp_path, MKA)
    for kw, to_output in (({"stretch": 1.5}, lambda t: Fraction(3, 2) * t),
                          ({"extend": 0.5, "direction": "backward"}, lambda t: t + Fraction(1, 2))):
        out = str(tmp_path / f"out-{next(iter(kw))}.mka")
        r = vidext.audio(src, out, **kw)
        assert [t["as"] for t in r.details["output"]["audio_tracks"]] == \
               (["retimed"] * 2 if "stretch" in kw else ["extended"] * 2)
        assert check_output(src, out, to_output, 1000, r.details, first_chapter_head="extend" in kw) == []
        with av.open(out) as c:
            lengths = [float(s.duration * s.time_base) if s.duration else float(c.duration / 1e6)
                       for s in c.streams.audio]
        assert lengths[0] == pytest.approx(1.5 if "stretch" in kw else 1.5, abs=0.06)
    wav = str(tmp_path / "out.wav")
    r = vidext.audio(src, wav, stretch=1.5)
    dropped = r.details["output"]["dropped"]
    assert [(d["type"], d.get("stream")) for d in dropped if d["type"] == "audio"] == [("audio", 1)]
    assert any(d["type"] == "chapters" for d in dropped)
    assert len(streams_of(wav, "audio")) == 1


@pytest.mark.parametrize("seconds,fit,words", [(3.0, "cut", "cut from 3.00 s to the picture's 1.00 s"),
                                               (0.5, "padded", "padded from 0.50 s with 0.50 s of silence")])
def test_a_sound_put_on_a_video_says_how_it_fits_and_names_the_tracks_kept(tmp_path, capsys, seconds, fit, words):
    """A 3 s sound put on a 1 s film with three sound tracks: the sidecar said the new sound was
    "extended" (it was cut), the plan "cut or padded", and the result named neither how the sound was
    fitted nor the two other tracks it kept; the plan, the sidecar, the CLI and the app say it now."""
    from vidext._cli import main
    from vidext.media.synth import write_audio
    from vidext.webapp import present
    from vidext.webapp.handlers import describe

    src = make_rich(tmp_path, MP4)
    snd = write_audio(str(tmp_path / "music.wav"), _tone(seconds, 330, "stereo"), 48000)
    plan = vidext.plan_audio(src, audio_file=snd)
    assert f"sound replaced by music.wav, {words}" in plan.summary
    out = str(tmp_path / "out.mp4")
    assert main(["audio", src, "--audio", snd, "-o", out, "-q"]) == 0
    said = capsys.readouterr().out
    tracks = json.load(open(out + ".json"))["output"]["audio_tracks"]
    assert [(t["as"], t.get("source_s")) for t in tracks] == [(fit, pytest.approx(seconds)), ("copied", None),
                                                              ("copied", None)]
    assert f"sound: music.wav, {words}" in said
    assert 'kept: #2 AC-3 sound (fra, "Commentary") as it was, #3 MP3 sound (spa, "Español") as it was' in said
    r = vidext.audio(src, str(tmp_path / "again.mp4"), audio_file=snd)
    app = present.sound_result_words(describe(r, str(tmp_path)), {"audio_file": snd},
                                     present.streams_words(r.details["output"]))
    assert words in app and '#2 AC-3 sound (fra, "Commentary") as it was' in app
    assert words in present.audio_plan_words(plan, {"audio_file": snd})


def test_the_playable_rendition_keeps_the_default_track(tmp_path):
    """The rendition that plays everywhere has one sound: the track marked default, not the first."""
    from vidext.media.playable import write_playable
    src = make_rich(tmp_path, MKV)
    moved = str(tmp_path / "moved.mkv")
    with av.open(src) as i, av.open(moved, "w") as o:      # the default flag moved to the third track
        pairs = []
        for s in i.streams:
            if s.type in ("video", "audio"):
                d = o.add_stream_from_template(s)
                d.metadata.update(s.metadata)
                if s.type == "audio":
                    d.disposition = av.stream.Disposition.default if s.index == 3 else av.stream.Disposition(0)
                pairs.append((s, d))
        route = {s.index: d for s, d in pairs}
        for pkt in i.demux([s for s, _ in pairs]):
            if pkt.dts is not None:
                pkt.stream = route[pkt.stream.index]
                o.mux(pkt)
    path = write_playable(moved, str(tmp_path / "p.mp4"))
    (track,) = streams_of(path, "audio")
    assert track[1].get("language") == "deu"


def test_timecode_moves_with_the_first_frame():
    assert shifted_timecode("01:00:00:10", Fraction(25), Fraction(25), Fraction(0)) == "01:00:00:10"
    # five frames made before the first: the new first frame is five frames earlier
    assert shifted_timecode("01:00:00:10", Fraction(25), Fraction(25), Fraction(-1, 5)) == "01:00:00:05"
    assert shifted_timecode("01:00:00:02", Fraction(25), Fraction(25), Fraction(-1, 5)) == "00:59:59:22"
    # twice the rate: the same instant counted at 50
    assert shifted_timecode("01:00:00:10", Fraction(25), Fraction(50), Fraction(0)) == "01:00:00:20"
    assert shifted_timecode("00:00:00;10", Fraction(30000, 1001), Fraction(60000, 1001), Fraction(0)) is None


def test_mov_timecode_is_kept_and_relabelled(tmp_path):
    """A QuickTime timecode track (its value on the picture) comes out on the picture's timecode track,
    five frames earlier when five frames are made before the first."""
    src = make_variant(str(tmp_path / "in.mov"), variant("tc", ext=".mov", options=X264, frames=10),
                       synthetic=True)
    tagged = str(tmp_path / "tc.mov")
    with av.open(src) as i, av.open(tagged, "w") as o:
        pairs = []
        for s in i.streams:
            d = o.add_stream_from_template(s)
            if s.type == "video":
                d.metadata["timecode"] = "10:00:00:00"
            pairs.append((s, d))
        route = {s.index: d for s, d in pairs}
        for pkt in i.demux([s for s, _ in pairs]):
            if pkt.dts is not None:
                pkt.stream = route[pkt.stream.index]
                o.mux(pkt)
    out = str(tmp_path / "out.mov")
    r = vidext.extend(tagged, out, seconds=0.2, method="freeze", direction="backward")
    with av.open(out) as c:
        assert c.streams.video[0].metadata.get("timecode") == "09:59:59:20"
        assert any(s.type == "data" and s.metadata.get("timecode") == "09:59:59:20" for s in c.streams)
    assert [d["to"] for d in r.details["output"]["converted"] if d["type"] == "timecode"] == ["09:59:59:20"]


# --- picture subtitles (PGS), written by hand: FFmpeg has no PGS encoder -----------------------------

def _segment(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + len(body).to_bytes(2, "big") + body


def _copy_with(i, o, add):
    """Every stream of the open input ``i`` into the open output ``o``, its packets copied, beside the
    streams ``add(o)`` makes (what it returns is returned)."""
    pairs = [(s, o.add_stream_from_template(s)) for s in i.streams]
    added = add(o)
    o.start_encoding()
    route = {s.index: d for s, d in pairs}
    for pkt in i.demux([s for s, _ in pairs]):
        if pkt.dts is not None:
            pkt.stream = route[pkt.stream.index]
            o.mux(pkt)
    return added


def pgs_display_set(width: int, height: int, show: bool) -> bytes:
    """One PGS display set (PCS, WDS, PDS, ODS, END) showing a 16×8 box of palette colour 1, or clearing
    the screen; the segment layout of Blu-ray subtitles as Matroska stores them (no "PG" headers)."""
    objects = b"\x00\x00\x00\x00" + (20).to_bytes(2, "big") + (10).to_bytes(2, "big") if show else b""
    pcs = (width.to_bytes(2, "big") + height.to_bytes(2, "big") + b"\x10" + b"\x00\x01" + b"\x80" + b"\x00\x00"
           + (b"\x01" if show else b"\x00") + objects)
    out = _segment(0x16, pcs)
    if show:
        out += _segment(0x17, b"\x01\x00" + (20).to_bytes(2, "big") + (10).to_bytes(2, "big")
                        + (16).to_bytes(2, "big") + (8).to_bytes(2, "big"))
        out += _segment(0x14, b"\x00\x00" + b"\x01\xeb\x80\x80\xff")          # colour 1: white, opaque
        line = b"\x00\x90\x01" + b"\x00\x00"              # a run of 16 pixels of colour 1, end of line
        rle = line * 8
        ods = (b"\x00\x00\x00\xc0" + (len(rle) + 4).to_bytes(3, "big") + (16).to_bytes(2, "big")
               + (8).to_bytes(2, "big") + rle)
        out += _segment(0x15, ods)
    return out + _segment(0x80, b"")


def test_picture_subtitles_keep_their_pictures_at_mapped_times(tmp_path):
    """PGS cues in MKV: copied into MKV with their times mapped through slow motion (the same pictures);
    into MP4, which cannot carry them, named as dropped."""
    base = make_variant(str(tmp_path / "base.mkv"), variant("b", ext=".mkv", options=X264, frames=FRAMES),
                        synthetic=True)
    src = str(tmp_path / "pgs.mkv")
    shows = [(Fraction(4, 25), True), (Fraction(12, 25), False), (Fraction(16, 25), True), (Fraction(20, 25), False)]
    with av.open(base) as i, av.open(src, "w") as o:
        def add(o):
            pgs = o.add_mux_stream("hdmv_pgs_subtitle")
            pgs.metadata["language"] = "eng"
            return pgs
        pgs = _copy_with(i, o, add)
        tb = pgs.time_base
        for t, show in shows:
            pkt = av.Packet(pgs_display_set(192, 80, show))
            pkt.stream, pkt.time_base = pgs, tb
            pkt.pts = pkt.dts = int(t / tb)
            o.mux(pkt)

    def pictures(path):
        with av.open(path) as c:
            s = c.streams.subtitles[0]
            out = []
            for pkt in c.demux(s):
                if pkt.pts is None:
                    continue
                subs = s.codec_context.decode2(pkt)
                rects = [(r.width, r.height, bytes(r.planes[0])) for r in subs or () if getattr(r, "width", 0)]
                out.append((pkt.pts * Fraction(s.time_base.numerator, s.time_base.denominator), rects))
            return out

    source = pictures(src)
    assert [len(r) for _, r in source] == [1, 0, 1, 0] and source[0][1][0][:2] == (16, 8)   # a valid stream
    out = str(tmp_path / "out.mkv")
    vidext.interpolate(src, out, slowmo=2, quality="fast")
    got = pictures(out)
    assert [r for _, r in got] == [r for _, r in source]
    assert [t for t, _ in got] == [2 * t for t, _ in source]
    r = vidext.interpolate(src, str(tmp_path / "out.mp4"), factor=2, quality="fast")
    (d,) = [d for d in r.details["output"]["dropped"] if d["type"] == "subtitle"]
    assert d["codec"] == "hdmv_pgs_subtitle" and "picture subtitles" in d["why"] and d["language"] == "eng"


# --- DVD and DVB picture subtitles, written by hand: PyAV encodes text subtitles only ------------------

SPU_TICK = Fraction(1024, 90000)        # a DVD subpicture's delays count these after its packet's time


def dvd_subpicture(stop_ticks: int | None, w: int = 16, h: int = 8, x: int = 20, y: int = 10) -> bytes:
    """One DVD subpicture (SPU): a w×h box of colour 1 shown at once and, with ``stop_ticks``, hidden that
    many 1024/90000 s later by its own "stop display" command (else its packet's duration ends it)."""
    line = bytes([0x04, 0x10])               # a 12-bit run of 16 pixels of colour 1, padded to the byte
    field = line * (h // 2)                  # interlaced: the top field's lines, then the bottom's
    x2, y2 = x + w - 1, y + h - 1
    show = (bytes([0x03, 0x32, 0x10, 0x04, 0xff, 0xf0, 0x05, x >> 4, ((x & 15) << 4) | (x2 >> 8), x2 & 255,
                   y >> 4, ((y & 15) << 4) | (y2 >> 8), y2 & 255, 0x06]) + (4).to_bytes(2, "big")
            + (4 + len(field)).to_bytes(2, "big") + bytes([0x01, 0xff]))
    first = 4 + 2 * len(field)               # the first control sequence, after the pictures
    second = first + 4 + len(show)
    seqs = (0).to_bytes(2, "big") + (second if stop_ticks is not None else first).to_bytes(2, "big") + show
    if stop_ticks is not None:
        seqs += stop_ticks.to_bytes(2, "big") + second.to_bytes(2, "big") + bytes([0x02, 0xff])
    body = field + field + seqs
    return (4 + len(body)).to_bytes(2, "big") + first.to_bytes(2, "big") + body


def _dvb_segment(kind: int, body: bytes) -> bytes:
    return bytes([0x0F, kind]) + (1).to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


def dvb_display_set(timeout_s: int, show: bool, version: int, w: int = 16, h: int = 8) -> bytes:
    """One DVB display set: a page with a w×h box of colour 1 that stays at most ``timeout_s`` seconds,
    or (``show`` False) an empty page that clears it; the segments as Matroska stores them."""
    region = (bytes([0, 0xFF]) + (20).to_bytes(2, "big") + (10).to_bytes(2, "big")) if show else b""
    out = _dvb_segment(0x10, bytes([timeout_s, version << 4 | (2 if show else 0) << 2 | 3]) + region)
    if show:
        out += _dvb_segment(0x11, bytes([0, 0x07]) + w.to_bytes(2, "big") + h.to_bytes(2, "big")
                            + bytes([0x4B, 0, 0, 0x03]) + bytes([0, 0, 0, 0, 0xF0, 0]))   # 4-bit, one object
        out += _dvb_segment(0x12, bytes([0, 0x0F, 1, 0x41, 235, 128, 128, 0]))   # colour 1: white, opaque
        line = bytes([0x11]) + bytes([0x11]) * (w // 2) + b"\x00\xf0"            # 16 pixels of 1, end, next line
        field = line * (h // 2)
        out += _dvb_segment(0x13, b"\x00\x00\x01" + len(field).to_bytes(2, "big") * 2 + field + field)
    return out + _dvb_segment(0x80, b"")


def bitmap_cues(path: str, kind: str) -> list[tuple[Fraction, Fraction | None, list]]:
    """(shown at, hidden at or None, pictures) of every packet of the file's ``kind`` subtitle stream, as
    FFmpeg's decoder reads them: its own end when it says one, else its packet's duration."""
    with av.open(path) as c:
        s = next(x for x in c.streams.subtitles if x.codec_context.name == {
            "dvd_subtitle": "dvdsub", "dvb_subtitle": "dvbsub", "hdmv_pgs_subtitle": "pgssub"}[kind])
        tb = Fraction(s.time_base.numerator, s.time_base.denominator)
        out = []
        for pkt in c.demux(s):
            if pkt.pts is None:
                continue
            subs = s.codec_context.decode2(pkt)
            start = pkt.pts * tb
            rects = [(r.width, r.height, bytes(r.planes[0])) for r in subs or () if getattr(r, "width", 0)]
            end = None
            if subs is not None and subs.end_display_time not in (0, 0xFFFFFFFF):    # (PGS: until the next)
                end = start + Fraction(subs.end_display_time, 1000)
            elif pkt.duration:
                end = start + pkt.duration * tb
            out.append((start, end, rects))
        return out


DVD_CUES = [(Fraction(4, 25), 36, 0), (Fraction(12, 25), None, 200), (Fraction(15, 25), 18, 0)]   # (at, stop, ms)
DVB_CUES = [(Fraction(3, 25), 1, True), (Fraction(9, 25), 0, False), (Fraction(14, 25), 2, True)]  # (at, s, shows)
PGS_CUES = [(Fraction(4, 25), True), (Fraction(12, 25), False), (Fraction(16, 25), True), (Fraction(20, 25), False)]


def make_bitmaps(folder, *, synthetic: bool, pgs: bool = False) -> str:
    """An MKV of the footage with DVD and DVB picture subtitles (and, with ``pgs``, a PGS track), their
    packets written by hand: PyAV encodes text subtitles only."""
    base = make_variant(os.path.join(str(folder), "base.mkv"),
                        variant("b", ext=".mkv", options=X264, frames=FRAMES), synthetic=synthetic)
    src = os.path.join(str(folder), "bitmaps.mkv")
    with av.open(base) as i, av.open(src, "w") as o:
        def add(o):
            vob, dvbs = o.add_mux_stream("dvd_subtitle"), o.add_mux_stream("dvb_subtitle")
            vob.metadata["language"], dvbs.metadata["language"] = "fra", "deu"
            blu = o.add_mux_stream("hdmv_pgs_subtitle") if pgs else None
            if blu is not None:
                blu.metadata["language"] = "eng"
            return vob, dvbs, blu
        vob, dvbs, blu = _copy_with(i, o, add)
        packets = [(t, vob, dvd_subpicture(stop), ms) for t, stop, ms in DVD_CUES]
        packets += [(t, dvbs, dvb_display_set(sec, show, k), 0) for k, (t, sec, show) in enumerate(DVB_CUES)]
        if blu is not None:
            packets += [(t, blu, pgs_display_set(192, 80, show), 0) for t, show in PGS_CUES]
        for t, s, data, ms in sorted(packets, key=lambda p: p[0]):
            pkt = av.Packet(data)
            pkt.stream, pkt.time_base = s, s.time_base
            pkt.pts = pkt.dts = int(t / s.time_base)
            pkt.duration = ms
            o.mux(pkt)
    return src


def test_dvd_and_dvb_subtitles_end_where_the_picture_map_puts_them(tmp_path):
    """DVD subpictures say inside themselves when they hide (a delay after their start) and DVB pages
    how long they may stay: slow motion on a segment maps those ends as it maps the starts (they once
    kept their input lengths: a cue slowed 2× vanished halfway), and an end from the packet's
    duration or from the next (clearing) packet follows too; the pictures are the same.  Into MP4,
    which carries DVD subpictures and no DVB, the DVB track is named."""
    src = make_bitmaps(tmp_path, synthetic=True)
    source = {k: bitmap_cues(src, k) for k in ("dvd_subtitle", "dvb_subtitle")}
    # a valid input: every picture decodes, each end where its own words put it
    assert [(e - a, len(r)) for a, e, r in source["dvd_subtitle"]] == \
           [(Fraction(409, 1000), 1), (Fraction(1, 5), 1), (Fraction(204, 1000), 1)]
    assert [(e and e - a, len(r)) for a, e, r in source["dvb_subtitle"]] == [(1, 1), (None, 0), (2, 1)]
    to_output = segment_map(Fraction(1, 5), Fraction(3, 5), Fraction(2))
    out = str(tmp_path / "out.mkv")
    vidext.interpolate(src, out, slowmo=2, start=0.2, end=0.6, quality="fast")
    tol = Fraction(1, FPS)
    for kind in ("dvd_subtitle", "dvb_subtitle"):
        got = bitmap_cues(out, kind)
        assert [r for *_, r in got] == [r for *_, r in source[kind]], kind      # the same pictures
        assert [a for a, *_ in got] == [to_output(a) for a, *_ in source[kind]], kind
        for (a, e, _), (x, y, _) in zip(source[kind], got):
            if e is None:
                assert y is None
            elif kind == "dvb_subtitle":    # whole seconds, rounded up: at least the mapped length
                assert y - x == -(-(to_output(e) - to_output(a)) // 1), (kind, float(a), float(e), float(y))
            else:
                assert abs(y - to_output(e)) <= tol, (kind, float(a), float(e), float(to_output(e)), float(y))
    # the first DVD cue ends inside the slowed segment: 0.409 s long in, 0.72 s long out
    (a, e, _), (x, y, _) = source["dvd_subtitle"][0], bitmap_cues(out, "dvd_subtitle")[0]
    assert y - x > Fraction(7, 10) and e - a < Fraction(1, 2)
    r = vidext.interpolate(src, str(tmp_path / "out.mp4"), slowmo=2, quality="fast")
    got = bitmap_cues(r.output, "dvd_subtitle")
    assert [r for *_, r in got] == [r for *_, r in source["dvd_subtitle"]]
    assert [(x, abs(y - 2 * e) <= tol) for (_, e, _), (x, y, _) in zip(source["dvd_subtitle"], got)] == \
           [(2 * a, True) for a, *_ in source["dvd_subtitle"]]
    (d,) = [d for d in r.details["output"]["dropped"] if d["type"] == "subtitle"]
    assert d["codec"] == "dvb_subtitle" and "DVB picture subtitles" in d["why"]


# --- batch: the chunked join carries everything exactly as a single run -------------------------------

@pytest.mark.slow
def test_batch_join_carries_everything_as_one_run(tmp_path):
    ray = pytest.importorskip("ray")
    from vidext.api import batch        # (the name vidext.batch is also the package's)

    src = make_rich(tmp_path, MKV)
    options = {"slowmo": 2, "start": 0.2, "end": 0.6, "quality": "fast", "codec": "ffv1"}
    single = vidext.interpolate(src, str(tmp_path / "single.mkv"), **options)
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    started = not ray.is_initialized()
    if started:
        ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
                 log_to_driver=False, configure_logging=False)
    try:
        result = batch("interpolate", [src], str(tmp_path / "out"), options=options, chunk_seconds=0.3)
    finally:
        if started:
            ray.shutdown()
    (f,) = result.files
    assert f.state == "done" and f.chunks >= 2, f
    out = f.output
    sidecar = json.load(open(out + ".json"))
    assert check_output(src, out, segment_map(Fraction(1, 5), Fraction(3, 5), Fraction(2)), FPS, sidecar) == []
    for kind in ("audio", "subtitle"):
        assert streams_of(out, kind) == streams_of(single.output, kind)
    for (o, *_), (s, *_) in zip(streams_of(out, "subtitle"), streams_of(single.output, "subtitle")):
        assert cues_of(out, o) == cues_of(single.output, s)
    assert chapters_of(out) == chapters_of(single.output)
    assert attachments_of(out) == attachments_of(single.output)
    assert file_tags(out) == {**file_tags(single.output)}
    assert sidecar["output"]["dropped"] == single.details["output"]["dropped"] == []


def test_cover_pictures_are_carried_or_named(tmp_path):
    """An MP3's cover comes out on the stretched MP3 (an untimed packet: muxed as it came); M4A (FFmpeg's
    ipod muxer) holds none: named, with what it was."""
    from test_conformance import _with_cover_art
    for ext, codec in ((".mp3", "libmp3lame"), (".m4a", "aac")):
        plain = make_variant(str(tmp_path / f"plain{ext}"), variant("s", ext=ext, audio=codec, audio_only=True,
                                                                    rate=44100), synthetic=True)
        src = _with_cover_art(plain, str(tmp_path / f"in{ext}"))
        r = vidext.audio(src, str(tmp_path / f"out{ext}"), stretch=1.5)
        covers = [s for s in streams_of(r.output, "video") if "attached_pic" in s[2]]
        dropped = [d for d in r.details["output"]["dropped"] if d.get("role") == "cover"]
        assert (len(covers), len(dropped)) == ((1, 0) if ext == ".mp3" else (0, 1)), (ext, covers, dropped)


def test_a_stream_the_muxer_leaves_out_is_named(tmp_path):
    """A sound track without a single packet: MP4's muxer writes no such track. The written file is read
    back and the missing track named, not left out in silence."""
    base = make_variant(str(tmp_path / "base.mkv"), variant("b", ext=".mkv", options=X264, frames=10),
                        synthetic=True)
    src = str(tmp_path / "empty-track.mkv")
    with av.open(base) as i, av.open(src, "w") as o:
        pairs = [(s, o.add_stream_from_template(s)) for s in i.streams]
        empty = o.add_stream("aac", rate=48000)
        empty.metadata["language"] = "fra"
        route = {s.index: d for s, d in pairs}
        for pkt in i.demux([s for s, _ in pairs]):
            if pkt.dts is not None:
                pkt.stream = route[pkt.stream.index]
                o.mux(pkt)
    r = vidext.interpolate(src, str(tmp_path / "out.mp4"), factor=2, quality="fast")
    assert len(streams_of(r.output, "audio")) == 1
    assert [d["codec"] for d in r.details["output"]["dropped"] if d["type"] == "audio"] == ["1 of 2"]


def test_pcm_and_every_conversion_are_named_as_people_know_them(tmp_path):
    """A WAV speech file continued into M4A said "converted: #0 pcm_s16le sound → AAC: the M4A container
    carries no pcm_s16le sound": FFmpeg's names, where every other line says "AAC", "SRT"."""
    from vidext.media.streamwords import codec_words
    assert codec_words("pcm_s16le") == "PCM 16-bit" and codec_words("pcm_f32le") == "PCM 32-bit float"
    assert codec_words("pcm_u8") == "PCM 8-bit" and codec_words("pcm_s24be") == "PCM 24-bit"
    src = str(tmp_path / "speech.wav")
    with av.open(src, "w") as c:
        a = c.add_stream("pcm_s16le", rate=16000, layout="mono")
        tone = (3000 * np.sin(np.arange(16000) * 0.05)).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(tone, format="s16", layout="mono")
        frame.sample_rate = 16000
        for pkt in [*a.encode(frame), *a.encode()]:
            c.mux(pkt)
    r = vidext.audio(src, str(tmp_path / "out.m4a"), extend=0.5)
    (conv,) = r.details["output"]["converted"]
    assert "pcm_s16le" not in conv["why"] and "PCM 16-bit" in conv["why"]


def test_a_zero_creation_date_is_not_blamed_on_the_container(tmp_path):
    """bigbuckbunny.mp4 (and many files from old encoders) says creation_time 1970-01-01T00:00:00, the zero
    date: MP4 and MOV write it as "no date", so it is not read back.  Every job on it said "the MP4 container
    has no place for the file's 'creation_time' tag", which is false (a real date is kept)."""
    from vidext.media.synth import make_clip
    src = make_clip(str(tmp_path / "in.mkv"), frames=6, width=64, height=48, codec="ffv1", options={},
                    tone_hz=None)
    dated = {}
    for name, when in (("zero", "1970-01-01T00:00:00.000000Z"), ("real", "2024-05-01T10:00:00.000000Z")):
        dated[name] = str(tmp_path / f"{name}.mkv")
        with av.open(src) as i, av.open(dated[name], "w") as o:
            o.metadata["creation_time"] = when
            d = o.add_stream_from_template(i.streams.video[0])
            for pkt in i.demux(i.streams.video[0]):
                if pkt.dts is not None:
                    pkt.stream = d
                    o.mux(pkt)
    r = vidext.interpolate(dated["real"], str(tmp_path / "real.mp4"), factor=2, quality="fast")
    assert not [d for d in r.details["output"]["dropped"] if d["codec"] == "creation_time"]   # a real date is kept
    r = vidext.interpolate(dated["zero"], str(tmp_path / "zero.mp4"), factor=2, quality="fast")
    (lost,) = [d for d in r.details["output"]["dropped"] if d["codec"] == "creation_time"]
    assert "no place" not in lost["why"] and "zero date" in lost["why"]


@pytest.mark.parametrize("direction", ["forward", "backward", "both"])
def test_cues_and_chapters_stay_on_their_pictures_through_a_speed_ramp(tmp_path, direction):
    """A ramp slows real frames at the edge (their pictures kept, their times changed): every cue and
    chapter boundary comes out at the time of the output frame that shows its input frame (found by
    picture, not by vidext's map), within one frame."""
    src = make_rich(tmp_path, MKV)
    out = str(tmp_path / "out.mkv")
    r = vidext.extend(src, out, seconds=0.4, method="ramp", direction=direction, codec="ffv1")
    for side in ("forward", "backward") if direction == "both" else (direction,):   # most of the clip retimed
        assert r.details["extension"]["retimed"][side]["count"] > (5 if direction == "both" else 10)

    def pictures(path):
        with av.open(path) as c:
            s = c.streams.video[0]
            return [(f.pts * s.time_base, f.to_ndarray(format="gray").astype(np.int16)) for f in c.decode(s)]

    shown_at = {}       # input frame time → time of the output frame most like it
    outs = pictures(out)
    for t, img in pictures(src):
        shown_at[t] = min(outs, key=lambda o: float(np.abs(o[1] - img).mean()))[0]
    step = Fraction(1, FPS) + Fraction(1, 1000)
    (i, *_), (o, *_) = streams_of(src, "subtitle")[0], streams_of(out, "subtitle")[0]
    cues = list(zip(cues_of(src, i), cues_of(out, o)))
    assert len(cues) == len(CUES)
    for (a, b, _), (x, y, _) in cues:     # a cue shows from its first picture until the picture at its end
        assert abs(x - shown_at[a]) <= step, ("start", float(a), float(x), float(shown_at[a]))
        assert abs(y - shown_at[b]) <= step, ("end", float(b), float(y), float(shown_at[b]))
    for (a, _, name), (x, _, name_out) in zip(chapters_of(src)[1:], chapters_of(out)[1:]):
        assert name == name_out and abs(x - shown_at[a]) <= step, (name, float(a), float(x))


def test_probe_lists_every_stream_chapter_and_tag(tmp_path, capsys):
    from vidext._cli import main
    src = make_rich(tmp_path, MKV)
    assert main(["probe", src]) == 0
    said = capsys.readouterr().out
    for line in ('audio #2: opus 48000 Hz mono (fra, "Commentary", comment)', 'subtitle #5: ass (deu, "Styled", forced)',
                 "attachment #7: DejaVuSans.ttf", "chapter 0.320–0.640 s: Middle", "title=Bikes, with everything"):
        assert line in said, (line, said)


# --- picture subtitles (DVD, DVB, PGS) through every job ----------------------------------------------

BITMAPS = ("dvd_subtitle", "dvb_subtitle", "hdmv_pgs_subtitle")


def bitmap_problems(src: str, out: str, to_output, fps_out: float, sidecar: dict) -> list[str]:
    """Every picture subtitle of ``src`` in ``out`` with the same pictures, shown at its mapped time and
    hidden at its mapped end (within one output frame; DVB's whole seconds rounded up), its language
    kept; or named in ``output.dropped``."""
    problems = []
    tol = Fraction(1) / Fraction(fps_out).limit_denominator(1001) + Fraction(1, 1000)
    named = {d["codec"] for d in sidecar["output"]["dropped"] if d["type"] == "subtitle"}
    decoder = {"dvd_subtitle": "dvdsub", "dvb_subtitle": "dvbsub", "hdmv_pgs_subtitle": "pgssub"}
    lang_in, lang_out = ({c: tags.get("language") for _, tags, _, c in streams_of(p, "subtitle")} for p in (src, out))
    for kind in BITMAPS:
        d = decoder[kind]
        if d not in lang_in:
            continue
        if kind in named:
            if d in lang_out:
                problems.append(f"{kind} named as dropped, yet there")
            continue
        if d not in lang_out:
            problems.append(f"{kind} lost, not named")
            continue
        if lang_out[d] != lang_in[d]:
            problems.append(f"{kind} language {lang_in[d]!r} -> {lang_out[d]!r}")
        want, got = bitmap_cues(src, kind), bitmap_cues(out, kind)
        if [r for *_, r in got] != [r for *_, r in want]:
            problems.append(f"{kind}: {len(want)} pictures in, {len(got)} out, or not the same")
            continue
        for (a, e, _), (x, y, _) in zip(want, got):
            if abs(x - to_output(a)) > tol:
                problems.append(f"{kind} cue at {float(a):.3f} s: want {float(to_output(a)):.3f}, got {float(x):.3f}")
            if (e is None) != (y is None):
                problems.append(f"{kind} cue at {float(a):.3f} s: end {e} became {y}")
            elif e is not None and kind == "dvb_subtitle":
                if y - x != -(-(to_output(e) - to_output(a)) // 1):
                    problems.append(f"{kind} cue at {float(a):.3f} s: shown {float(y - x):.3f} s, want "
                                    f"{float(to_output(e) - to_output(a)):.3f} rounded up")
            elif e is not None and abs(y - to_output(e)) > tol:
                problems.append(f"{kind} cue at {float(a):.3f} s: ends {float(y):.3f}, want {float(to_output(e)):.3f}")
    return problems


BITMAP_CASES = [(j, None) for j in PICTURE_JOBS] + [("interp2x", ".mp4"), ("extend_both", ".mov")]
BITMAP_FAST = [("extend_backward", None), ("interp2x", ".mp4")]


def _bitmap_case(tmp_path, job: str, out_ext: str | None) -> None:
    src = make_bitmaps(tmp_path, synthetic=not have_assets(), pgs=True)
    out = str(tmp_path / f"out{out_ext or '.mkv'}")
    result = _replace(src, out, tmp_path) if job == "audio_replace" else JOBS[job][0](src, out)
    sidecar = json.load(open(result.sidecar))
    _, to_output, fps_out = JOBS[job]
    problems = bitmap_problems(src, out, to_output, fps_out, sidecar)
    if out_ext in (".mp4", ".mov"):    # MP4 carries DVD subpictures only, MOV none: the others named, with why
        why = {d["codec"]: d["why"] for d in sidecar["output"]["dropped"] if d["type"] == "subtitle"}
        assert set(why) == {"dvb_subtitle", "hdmv_pgs_subtitle"} | ({"dvd_subtitle"} if out_ext == ".mov" else set())
        assert all("picture subtitles" in w for w in why.values()), why
    else:
        assert sidecar["output"]["dropped"] == [] or job == "audio_replace"
    assert not problems, f"bitmaps → {out_ext or '.mkv'} × {job}: " + "; ".join(problems)


@pytest.mark.parametrize("job,out_ext", BITMAP_FAST)
def test_picture_subtitles_fast_slice(tmp_path, job, out_ext):
    _bitmap_case(tmp_path, job, out_ext)


@pytest.mark.slow
@pytest.mark.assets
@pytest.mark.parametrize("job,out_ext", [c for c in BITMAP_CASES if c not in BITMAP_FAST])
def test_picture_subtitles_matrix(tmp_path, job, out_ext):
    if not have_assets():
        pytest.skip("real footage not fetched (run: python scripts/fetch_assets.py)")
    _bitmap_case(tmp_path, job, out_ext)
