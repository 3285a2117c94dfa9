"""The one container/codec table: which file carries which picture and sound, and the defaults.

Everything that picks a container format, a video codec or a sound codec for
an output reads :data:`CONTAINERS` and :data:`CODECS`:

- a container (by file extension) names its FFmpeg muxer, the video codecs it
  carries (its default first: the output name decides the codec unless
  ``--codec`` says otherwise), the sound codecs it carries as they are (a
  source's sound in one of them is copied untouched) and the sound encoder used
  when sound must be encoded;
- a video codec names its encoder, its quality setting and its options.

Defaults: MP4/MOV/MKV/MPEG-TS → H.264 + AAC (plays everywhere); WebM → VP9 +
Opus (the WebM specification allows only VP8/VP9/AV1 with Vorbis/Opus); AVI →
MPEG-4 Part 2 + MP3, the DivX/Xvid pair that Windows Media Player, VLC, TVs and
set-top players have opened for twenty years (H.264 in AVI is not in the AVI
specification and many players refuse it; MJPEG is also universal but files
are ~4× larger); MXF → DNxHR + PCM.

Beside picture and sound a container names what else it carries (see
:mod:`vidext.media.streams`): subtitle codecs as they are and the one text
subtitles are converted to when theirs is not carried (MP4/MOV: ``mov_text``,
the only text track they hold; Matroska: SRT; WebM: WebVTT), chapters,
attachments (Matroska only), cover pictures, data tracks, and how many sound
tracks (WAV, FLAC, MP3 and ADTS hold one).  These come from FFmpeg's muxers as
checked by writing and reading back (chapters in Ogg come back misplaced and
count as not carried).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import av

from ..errors import ParameterError
from .frame import PixelLayout


@dataclass(frozen=True)
class ContainerSpec:
    ext: str
    format: str                          # FFmpeg muxer
    video: tuple[str, ...]               # vidext video codec names carried, the default first (() = sound only)
    audio: frozenset[str] | None         # sound codecs carried as they are (None: any)
    audio_encoder: str                   # encoder for sound that must be encoded
    summary: str = ""
    subtitles: frozenset[str] = frozenset()   # subtitle codecs carried as they are
    text_subtitles: str | None = None    # codec other text subtitles are converted to (None: none carried)
    chapters: bool = False
    attachments: bool = False
    covers: bool = False                 # attached pictures (cover art)
    data: frozenset[str] = frozenset()   # data-track codecs carried
    audio_tracks: int | None = None      # sound tracks it holds (None: any number)


_PCM = frozenset({"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_s16be", "pcm_s24be", "pcm_u8"})
_MP4_AUDIO = frozenset({"aac", "mp3", "opus", "ac3", "eac3", "flac", "alac"})
_ALL_VIDEO = ("h264", "h265", "vp9", "av1", "prores", "dnxhd", "ffv1", "mpeg4", "mjpeg")
#: subtitle codecs whose cues are text (decoded to ASS events: convertible to another text codec)
TEXT_SUBTITLES = frozenset({"subrip", "ass", "ssa", "webvtt", "mov_text", "text"})
#: subtitle codecs whose cues are pictures
BITMAP_SUBTITLES = frozenset({"hdmv_pgs_subtitle", "dvb_subtitle", "dvd_subtitle", "xsub"})
_MKV_SUBTITLES = frozenset({"subrip", "ass", "ssa", "webvtt", "text", "hdmv_pgs_subtitle", "dvb_subtitle",
                            "dvd_subtitle"})
_MP4_EXTRAS = dict(subtitles=frozenset({"mov_text"}), text_subtitles="mov_text", chapters=True, covers=True)
_MKV_EXTRAS = dict(subtitles=_MKV_SUBTITLES, text_subtitles="subrip", chapters=True, attachments=True, covers=True)

CONTAINERS: dict[str, ContainerSpec] = {
    c.ext: c for c in (
        ContainerSpec(".mp4", "mp4", ("h264", "h265", "av1", "vp9", "mpeg4"), _MP4_AUDIO, "aac",
                      "MP4: H.264 + AAC plays everywhere",
                      **{**_MP4_EXTRAS, "subtitles": frozenset({"mov_text", "dvd_subtitle"})},
                      data=frozenset({"bin_data"})),
        ContainerSpec(".m4v", "mp4", ("h264", "h265", "mpeg4"), frozenset({"aac", "mp3", "ac3", "eac3", "alac"}),
                      "aac", **_MP4_EXTRAS),
        ContainerSpec(".mov", "mov", ("h264", "h265", "prores", "dnxhd", "mjpeg", "mpeg4"),
                      frozenset({"aac", "mp3", "alac", "ac3", "eac3"}) | _PCM, "aac", "QuickTime", **_MP4_EXTRAS),
        ContainerSpec(".mkv", "matroska", _ALL_VIDEO, None, "aac", "Matroska: carries anything", **_MKV_EXTRAS),
        ContainerSpec(".webm", "webm", ("vp9", "av1"), frozenset({"opus", "vorbis"}), "libopus",
                      "WebM: VP9/AV1 + Opus/Vorbis only", subtitles=frozenset({"webvtt"}), text_subtitles="webvtt",
                      chapters=True),
        ContainerSpec(".avi", "avi", ("mpeg4", "mjpeg", "ffv1", "h264"),
                      frozenset({"mp3", "ac3", "pcm_s16le", "pcm_u8"}), "libmp3lame",
                      "AVI: MPEG-4 Part 2 + MP3 opens in every player that opens AVI"),
        ContainerSpec(".ts", "mpegts", ("h264", "h265"), frozenset({"aac", "mp3", "ac3", "eac3", "opus"}), "aac",
                      "MPEG transport stream", subtitles=frozenset({"dvb_subtitle", "dvb_teletext"}),
                      data=frozenset({"klv", "timed_id3"})),
        ContainerSpec(".mxf", "mxf", ("dnxhd",), frozenset({"pcm_s16le", "pcm_s24le"}), "pcm_s16le"),
        # sound only
        ContainerSpec(".wav", "wav", (), frozenset({"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_u8"}),
                      "pcm_s16le", audio_tracks=1),
        ContainerSpec(".flac", "flac", (), frozenset({"flac"}), "flac", audio_tracks=1),
        ContainerSpec(".m4a", "ipod", (), frozenset({"aac", "alac"}), "aac", chapters=True),
        ContainerSpec(".aac", "adts", (), frozenset({"aac"}), "aac", audio_tracks=1),
        ContainerSpec(".mp3", "mp3", (), frozenset({"mp3"}), "libmp3lame", chapters=True, covers=True,
                      audio_tracks=1),
        ContainerSpec(".mka", "matroska", (), None, "flac", **_MKV_EXTRAS),
        ContainerSpec(".ogg", "ogg", (), frozenset({"opus", "vorbis", "flac"}), "libopus"),
        ContainerSpec(".opus", "ogg", (), frozenset({"opus"}), "libopus", audio_tracks=1),
    )
}
VIDEO_CONTAINERS = tuple(e for e, c in CONTAINERS.items() if c.video)
AUDIO_CONTAINERS = tuple(e for e, c in CONTAINERS.items() if not c.video)


@dataclass(frozen=True)
class CodecSpec:
    name: str
    encoder: str
    home: str                            # the container it is usually written in
    crf: int | None = None               # default constant-rate factor (None: not CRF based)
    crf_max: int = 51
    options: dict = field(default_factory=dict)
    lossless: bool = False
    summary: str = ""

    @property
    def containers(self) -> tuple[str, ...]:
        """Extensions of the containers that carry this codec, its usual one first."""
        return tuple(dict.fromkeys([self.home] + [e for e, c in CONTAINERS.items() if self.name in c.video]))


# FFmpeg's generic quantiser scale (-q:v 2: visually lossless for MPEG-4 Part 2 and MJPEG)
_QSCALE_2 = {"flags": "+qscale", "global_quality": str(2 * 118)}

CODECS: dict[str, CodecSpec] = {
    c.name: c for c in (
        CodecSpec("h264", "libx264", ".mp4", crf=18, summary="H.264, plays everywhere (default for .mp4/.mov/.mkv)"),
        CodecSpec("h265", "libx265", ".mp4", crf=20, options={"x265-params": "log-level=error"},
                  summary="H.265/HEVC, smaller files"),
        CodecSpec("vp9", "libvpx-vp9", ".webm", crf=24, crf_max=63,
                  options={"b": "0", "row-mt": "1", "deadline": "good", "cpu-used": "4"},
                  summary="VP9 (default for .webm)"),
        CodecSpec("av1", "libsvtav1", ".mp4", crf=30, crf_max=63, options={"preset": "8"},
                  summary="AV1 (SVT-AV1), smallest files"),
        CodecSpec("prores", "prores_ks", ".mov", options={"profile": "3"},
                  summary="ProRes 422 HQ (4444 for 4:4:4), for editing"),
        CodecSpec("dnxhd", "dnxhd", ".mov", options={"profile": "dnxhr_hq"}, summary="DNxHR, for editing"),
        CodecSpec("ffv1", "ffv1", ".mkv", options={"level": "3", "slicecrc": "1"}, lossless=True,
                  summary="FFV1, lossless"),
        CodecSpec("mpeg4", "mpeg4", ".avi", options=_QSCALE_2, summary="MPEG-4 Part 2 (default for .avi)"),
        CodecSpec("mjpeg", "mjpeg", ".avi", options=_QSCALE_2, summary="Motion JPEG, every frame a JPEG"),
    )
}


# Encoders whose streams carry no colour description (players assume BT.601/709 by size).
TAGLESS = {"mpeg4": "FFmpeg's MPEG-4 Part 2 encoder writes no colour description",
           "mjpeg": "JPEG has no colour description (BT.601 full range is implied)"}


def container(output_path: str) -> ContainerSpec:
    """The container an output file name asks for."""
    ext = os.path.splitext(output_path)[1].lower()
    spec = CONTAINERS.get(ext)
    if spec is None or not spec.video:
        raise ParameterError(f"cannot write a video to a {ext or 'extension-less'} file; "
                             f"use one of: {', '.join(VIDEO_CONTAINERS)}")
    return spec


def default_codec(output_path: str) -> str:
    """The video codec an output name implies (H.264 for .mp4, VP9 for .webm, MPEG-4 for .avi ...)."""
    return container(output_path).video[0]


def codec_for(name: str | None, output_path: str) -> CodecSpec:
    """The spec for ``name`` (None: the container's default), checked against the output's container."""
    spec_c = container(output_path)
    if name is None:
        name = spec_c.video[0]
    if name not in CODECS:
        raise ParameterError(f"unknown codec {name!r}; choose one of: {', '.join(CODECS)}")
    if name not in spec_c.video:
        raise ParameterError(f"codec {name} cannot be written to a {spec_c.ext} file; "
                             f"use one of: {', '.join(CODECS[name].containers)}")
    return CODECS[name]


def muxer(output_path: str) -> str | None:
    """FFmpeg's muxer for an output name (None: let FFmpeg guess)."""
    spec = CONTAINERS.get(os.path.splitext(output_path)[1].lower())
    return spec.format if spec else None


def muxer_options(output_path: str) -> dict[str, str]:
    """The muxer options every output of this container is written with.

    MP4/MOV: the index first, so players start before the download ends.
    AVI: no timestamp shift.  AVI keeps no timestamps, only chunk order, and
    an MP3 or AAC encoder's priming samples (negative times) would make
    FFmpeg shift every stream by them: 26 ms moved every picture after the
    first one frame later (a one-frame gap).  Unshifted, the pictures keep
    their grid and the sound carries its encoder's usual delay, as in any AVI.
    """
    ext = os.path.splitext(output_path)[1].lower() or output_path.lower()
    if ext in (".mp4", ".mov", ".m4v"):
        return {"movflags": "+faststart"}
    if ext == ".avi":
        return {"avoid_negative_ts": "disabled"}
    return {}


# --- sound -------------------------------------------------------------------------------

# Decoders are named after their implementation ("mp3float", "libdav1d"); a codec's own name is
# its canonical one.  Encoders for each sound codec vidext can write again.
AUDIO_ENCODERS = {"aac": "aac", "mp3": "libmp3lame", "opus": "libopus", "ac3": "ac3", "eac3": "eac3",
                  "flac": "flac", "alac": "alac", **{p: p for p in _PCM}}
# Bit rates sound is encoded at unless its source had more (b/s, for two channels; scaled by channels).
AUDIO_BITRATE = {"aac": 192_000, "libmp3lame": 192_000, "libopus": 128_000, "ac3": 192_000, "eac3": 192_000}
AUDIO_BITRATE_MAX = {"aac": 512_000, "libmp3lame": 320_000, "libopus": 510_000, "ac3": 640_000,
                     "eac3": 640_000}


def canonical(codec_context) -> str:
    """The codec's own name (``mp3``, ``av1``) for a stream's codec context, not its decoder's."""
    try:
        return codec_context.codec.canonical_name
    except AttributeError:
        return codec_context.name


def container_spec(output_path: str) -> ContainerSpec | None:
    """The table's entry for an output name (sound-only containers too; None: not in the table)."""
    return CONTAINERS.get(os.path.splitext(output_path)[1].lower())


def carries_audio(output_path: str, codec: str) -> bool:
    """Whether the output's container takes sound in ``codec`` (a canonical name) as it is."""
    spec = CONTAINERS.get(os.path.splitext(output_path)[1].lower())
    if spec is None:
        return False
    return spec.audio is None or codec in spec.audio


def audio_encoder(output_path: str, source_codec: str | None = None) -> str:
    """The encoder for sound that must be encoded into ``output_path``: the source's own codec when
    the container carries it and it can be written (a stretched MP3 stays MP3, PCM stays PCM),
    else the container's default."""
    spec = CONTAINERS.get(os.path.splitext(output_path)[1].lower())
    if source_codec and carries_audio(output_path, source_codec) and source_codec in AUDIO_ENCODERS:
        return AUDIO_ENCODERS[source_codec]
    return spec.audio_encoder if spec else "aac"


def audio_bitrate(encoder: str, channels: int, source_bit_rate: int | None, source_lossless: bool) -> int | None:
    """Bit rate to encode at: at least the source's (lossy sources), at least the default; None for
    lossless encoders."""
    if encoder not in AUDIO_BITRATE:
        return None
    default = AUDIO_BITRATE[encoder] * max(1, channels) // 2
    want = default if source_lossless or not source_bit_rate else max(default, int(source_bit_rate))
    return min(want, AUDIO_BITRATE_MAX[encoder] * max(1, channels) // 2)


def audio_rate(encoder: str, rate: int) -> int:
    """The sample rate to encode at: the source's when the encoder takes it, else the nearest above."""
    rates = av.Codec(encoder, "w").audio_rates
    if not rates or rate in rates:
        return rate
    above = [r for r in rates if r >= rate]
    return min(above) if above else max(rates)


# --- pictures ------------------------------------------------------------------------------

#: an alpha channel into a container whose default codec cannot store it: the codec that keeps it there
#: (MP4 has none: VP9's alpha lives in Matroska's block additions, which MP4 lacks)
ALPHA_CODECS = {".mov": "prores", ".mkv": "ffv1", ".webm": "vp9", ".avi": "ffv1"}
#: alpha formats an encoder lists but cannot open (libvpx stores alpha with 4:2:0 colour only)
_ALPHA_REFUSED = {"libvpx-vp9": {"yuva422p", "yuva444p", "gbrap"}}


def has_alpha(pix_fmt: str) -> bool:
    """Whether pictures in ``pix_fmt`` carry an alpha (transparency) plane."""
    return any(c.is_alpha for c in av.VideoFormat(pix_fmt).components)


def carries_alpha(spec: CodecSpec) -> bool:
    """Whether the codec's encoder stores an alpha channel in any of its pixel formats."""
    return any(has_alpha(f.name) for f in av.Codec(spec.encoder, "w").video_formats or ())


def alpha_codec(output_path: str) -> str | None:
    """The codec an output with an alpha channel gets when none is asked for and the container's
    default cannot store alpha: the first of :data:`ALPHA_CODECS` the container takes (None: none)."""
    name = ALPHA_CODECS.get(os.path.splitext(output_path)[1].lower())
    return name if name is not None and name in container(output_path).video else None


def encoder_pix_fmt(spec: CodecSpec, working: str) -> str:
    """The encoder's pixel format closest to the working one (depth and chroma kept when possible;
    an alpha plane kept where the encoder stores one)."""
    supported = [f.name for f in av.Codec(spec.encoder, "w").video_formats or ()
                 if f.name not in _ALPHA_REFUSED.get(spec.encoder, ())]
    if has_alpha(working):
        deep = max(c.bits for c in av.VideoFormat(working).components if not c.is_alpha) > 8
        if working.startswith("gbrap"):
            ranked = [working, "gbrap10le", "gbrap12le", "gbrap16le"] if deep else [working]
            ranked += ["rgba64le", "rgba64be"] if deep else []
            ranked += ["bgra", "rgba", "argb", "gbrap", "yuva444p10le" if deep else "yuva444p", "yuva444p10le"]
        else:
            sub = working[4:7]                  # yuva420p10le → 420
            ranked = [working, f"yuva{sub}p10le", f"yuva{sub}p12le", f"yuva{sub}p16le"] if deep else [working]
            ranked += [f"yuva{sub}p", "yuva444p10le", "yuva444p", "yuva422p", "yuva420p",
                       "rgba64le" if deep else "bgra", "bgra", "rgba", "argb", "gbrap"]
        for c in ranked:
            if c in supported:
                return c
        working = PixelLayout(working).opaque.pix_fmt       # none keeps alpha: the colour planes alone
    if spec.encoder == "dnxhd":
        # DNxHR HQ is 8-bit 4:2:2; 10-bit sources go to HQX, 4:4:4 to the 444 profile.
        working_fmt = av.VideoFormat(working)
        deep = max(c.bits for c in working_fmt.components) > 8
        if "444" in working or working.startswith("gbrp"):
            return "yuv444p10le"
        return "yuv422p10le" if deep else "yuv422p"
    if spec.encoder == "ffv1" and working == "gbrp":
        return "bgr0"  # FFV1 refuses 8-bit planar RGB but stores packed RGB32 losslessly
    if spec.encoder == "mjpeg":
        # JPEG is full range: limited-range pictures are converted (and tagged so)
        sub = "444" if "444" in working or working.startswith("gbrp") else ("422" if "422" in working else "420")
        return f"yuvj{sub}p"
    if working in supported:
        return working
    fmt = av.VideoFormat(working)
    deep = max(c.bits for c in fmt.components) > 8
    plain = working.replace("yuvj", "yuv")
    candidates = [plain]
    if deep:
        base = plain.split("p1")[0] + "p" if "p1" in plain else plain
        candidates += [base + "10le", "yuv422p10le", "yuv420p10le", "yuv444p10le"]
    if plain.startswith("gbrp"):
        candidates += ["gbrp", "yuv444p10le" if deep else "yuv444p", "yuv444p"]
    if plain.startswith("gray"):
        candidates += ["gray", "gray10le" if deep else "gray"]
    if "444" in plain:
        candidates += ["yuv444p10le" if deep else "yuv444p", "yuv422p"]
    candidates += ["yuv420p10le" if deep else "yuv420p", "yuv420p", "yuv422p10le"]
    for c in candidates:
        if c in supported:
            return c
    return supported[0]


def conversions(working: str, encoded: str, codec: str) -> list[str]:
    """What writing ``working`` pictures as ``encoded`` gives up, in words for the sidecar."""
    if working == encoded:
        return []
    out = []
    a, b = av.VideoFormat(working), av.VideoFormat(encoded)
    bits_a = max(c.bits for c in a.components if not c.is_alpha)
    bits_b = max(c.bits for c in b.components if not c.is_alpha)
    if bits_b < bits_a:
        out.append(f"bit depth {bits_a} → {bits_b}: {codec} cannot store {bits_a}-bit pictures")
    elif bits_b > bits_a:
        out.append(f"bit depth {bits_a} → {bits_b}: {codec} stores {bits_b}-bit pictures (nothing lost)")

    def sub(f):
        return (256 // f.chroma_width(256), 256 // f.chroma_height(256)) if not f.is_rgb else (1, 1)

    if sub(a) != sub(b) or a.is_rgb != b.is_rgb:
        out.append(f"chroma {working} → {encoded}: {codec} cannot store {working} colour")
    if working.startswith("yuvj") != encoded.startswith("yuvj") and not (a.is_rgb or b.is_rgb):
        out.append(f"range {'full → limited' if working.startswith('yuvj') else 'limited → full'}: "
                   f"{codec} stores {encoded}")
    return out


def dnxhd_profile(pix_fmt: str) -> str:
    if "444" in pix_fmt:
        return "dnxhr_444"
    return "dnxhr_hqx" if "10" in pix_fmt else "dnxhr_hq"


def alpha_decoder(stream) -> "av.CodecContext | None":
    """The decoder of a VP9 stream with an alpha layer (WebM/Matroska ``alpha_mode`` 1), when it needs
    its own: FFmpeg's vp9 decoder ignores the layer (it travels as block additions beside the
    picture), libvpx's decodes it (yuva420p).  None for every other stream."""
    meta = {k.lower(): v for k, v in (stream.metadata or {}).items()}
    if stream.codec_context.name != "vp9" or str(meta.get("alpha_mode", "")) != "1":
        return None
    try:
        return av.CodecContext.create("libvpx-vp9", "r")
    except (av.FFmpegError, ValueError):       # an FFmpeg without libvpx: the colour alone, as before
        return None


def decode_packet(packet, decoder=None) -> list:
    """The pictures one packet (or the flush packet) gives, through ``decoder`` when the stream has one."""
    return decoder.decode(packet) if decoder is not None else packet.decode()
