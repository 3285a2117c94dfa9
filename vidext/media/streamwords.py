"""What a job kept, converted and dropped beside the picture, in words: one wording for every front end.

A video or sound job's sidecar says under ``output`` which streams it kept
(``streams_kept``, ``chapters``), which it converted and which it could not
keep, each with why (``converted``, ``dropped``: :mod:`vidext.media.streams`).
:func:`stream_fates` turns that record into lines a person reads; the CLI
prints them after its ``wrote ...`` line and the app shows them under its
result, so both say the same thing in the same words.  Pure functions of
plain values: no PyAV, no files.
"""
from __future__ import annotations

#: codecs as people know them (FFmpeg's names otherwise)
CODEC_WORDS = {
    "subrip": "SRT", "ass": "ASS", "ssa": "SSA", "webvtt": "WebVTT", "mov_text": "MP4 text (mov_text)",
    "text": "plain text", "hdmv_pgs_subtitle": "PGS (Blu-ray)", "dvd_subtitle": "VobSub (DVD)",
    "dvb_subtitle": "DVB", "xsub": "XSUB", "aac": "AAC", "ac3": "AC-3", "eac3": "E-AC-3", "mp3": "MP3",
    "opus": "Opus", "vorbis": "Vorbis", "flac": "FLAC", "alac": "ALAC", "dts": "DTS", "truehd": "TrueHD",
}
#: what a stream of each type is called, one and many
_TYPE_WORDS = {"audio": ("sound track", "sound tracks"), "subtitle": ("subtitle track", "subtitle tracks"),
               "attachment": ("attachment", "attachments"), "video": ("picture", "pictures"),
               "data": ("data track", "data tracks")}
#: the heads of the lines: what the CLI prints (the app says them its own way)
FATES = ("kept", "converted", "dropped")


#: how a sound track was written (the sidecar's ``audio_tracks[].as``), in words
TREATMENT_WORDS = {"copied": "as it was", "re-encoded": "re-encoded", "retimed": "retimed with the picture",
                   "extended": "continued", "cut": "cut to the picture", "padded": "padded with silence",
                   "whole": "as long as the picture"}


def main_track(output: dict | None) -> dict | None:
    """The sidecar's ``output`` record's main sound track: the default one, else the first; None: no sound."""
    tracks = (output or {}).get("audio_tracks") if isinstance(output, dict) else None
    tracks = [t for t in tracks if isinstance(t, dict)] if isinstance(tracks, list) else []
    return next((t for t in tracks if "default" in (t.get("disposition") or [])), tracks[0] if tracks else None)


def fit_words(track: dict, picture_s: float) -> str:
    """How a sound put on a picture was made to fit it (a track with ``as`` cut, padded or whole and
    its own length ``source_s``): ``cut from 8.00 s to the picture's 3.07 s``, ``padded from 1.00 s
    with 2.07 s of silence to the picture's 3.07 s``, ``as long as the picture (3.07 s)``."""
    how, have = track.get("as"), track.get("source_s")
    if not isinstance(have, (int, float)):
        return TREATMENT_WORDS.get(str(how), str(how))
    if how == "cut":
        return f"cut from {have:.2f} s to the picture's {picture_s:.2f} s"
    if how == "padded":
        return f"padded from {have:.2f} s with {picture_s - have:.2f} s of silence to the picture's {picture_s:.2f} s"
    return f"as long as the picture ({picture_s:.2f} s)"


def codec_words(codec: str | None) -> str:
    """``SRT`` for ``subrip``, ``PCM 16-bit`` for ``pcm_s16le``; a codec without a common name keeps FFmpeg's."""
    if codec and codec.startswith("pcm_") and codec[4:5] in ("s", "u", "f"):
        bits = "".join(ch for ch in codec[5:] if ch.isdigit())
        if bits:
            return f"PCM {bits}-bit" + (" float" if codec[4] == "f" else "")
    return CODEC_WORDS.get(codec or "", codec or "unknown")


def count_words(n: int, kind: str) -> str:
    """``1 subtitle track``, ``3 sound tracks``, ``2 chapters``."""
    one, many = _TYPE_WORDS.get(kind, (kind, kind + "s"))
    return f"{n} {one if n == 1 else many}"


def stream_words(d: dict) -> str:
    """A stream as the sidecar records it, in words: ``#3 SRT subtitles (eng, "Commentary")``,
    ``#2 Opus sound (fra)``, ``#7 attachment DejaVuSans.ttf``, ``timecode 01:00:00:10``."""
    kind, codec = d.get("type"), d.get("codec")
    if kind == "subtitle":
        what = f"{codec_words(codec)} subtitles"
    elif kind == "audio":
        what = f"{codec_words(codec)} sound"
    elif kind == "attachment":
        what = f"attachment {d.get('filename') or codec}"
    elif kind == "video" and codec == "alpha":
        what = "alpha plane (transparency) of the picture"
    elif kind == "video" and d.get("to"):
        what = f"{codec} video"
    elif kind == "video" and d.get("role") == "cover":
        what = f"cover picture ({codec})"
    elif kind == "data":
        what = f"{codec} data track"
    else:
        what = " ".join(str(x) for x in (kind, codec) if x)
    number = f"#{d['stream']} " if d.get("stream") is not None else ""
    extra = ", ".join(x for x in (d.get("language"), f'"{d["title"]}"' if d.get("title") else None) if x)
    return number + what + (f" ({extra})" if extra else "")


def stream_fates(output: dict | None) -> list[tuple[str, str]]:
    """(``kept`` / ``converted`` / ``dropped``, words) for the sidecar's ``output`` record: one ``kept``
    line naming every sound track written otherwise than the main one and counting what was carried
    beside the picture and its sound (subtitle tracks, attachments, chapters ...), then a line for
    every stream converted and every one dropped, each with why.
    Nothing: an output with nothing beside its picture and sound, all of it kept."""
    output = output if isinstance(output, dict) else {}
    out: list[tuple[str, str]] = []
    counts: dict[str, int] = {}
    # the main sound track's fate is the result's own line; a track written otherwise is named here
    # (a video's second track copied as it was beside a new sound put on it)
    main = main_track(output)
    parts = [f"{stream_words(t)} {TREATMENT_WORDS.get(str(t.get('as')), t.get('as'))}"
             for t in output.get("audio_tracks") or []
             if isinstance(t, dict) and t is not main and main is not None and t.get("as") != main.get("as")]
    for d in output.get("streams_kept") or []:
        if isinstance(d, dict):
            kind = "cover" if d.get("role") == "cover" else str(d.get("type"))
            counts[kind] = counts.get(kind, 0) + 1
    parts += [count_words(n, kind) if kind != "cover" else f"{n} cover picture{'s' if n > 1 else ''}"
              for kind, n in counts.items()]
    chapters = output.get("chapters")
    if isinstance(chapters, int) and chapters:
        parts.append(count_words(chapters, "chapter"))
    if parts:
        out.append(("kept", ", ".join(parts)))
    for d in output.get("converted") or []:
        if isinstance(d, dict):
            out.append(("converted", f"{stream_words(d)} → {codec_words(d.get('to'))}"
                        + (f": {d['why']}" if d.get("why") else "")))
    for d in output.get("dropped") or []:
        if isinstance(d, dict):
            out.append(("dropped", stream_words(d) + (f": {d['why']}" if d.get("why") else "")))
    return out
