"""A rendition that plays everywhere, beside a faithful output that may not.

vidext keeps what the input was (4:4:4, 10-bit, ProRes, FFV1 ...), but much
of that does not play in a browser or on a phone.  :func:`playability` says
whether a file plays in the common browsers (Chrome, Firefox, Safari) and on
iOS/Android phones, and why not; :func:`write_playable` writes
``<stem>.playable.mp4`` beside it: H.264 4:2:0 8-bit (High profile) + AAC in
MP4, the one combination every one of them opens, with the default sound
track (the one a player plays first).  HEVC counts as not
playable: Firefox does not play it and Chrome only where the hardware
decodes it.  An HDR picture (PQ, HLG) does not play right where the screen or
the player is not HDR: the rendition is tone-mapped to SDR BT.709
(:mod:`vidext.media.tonemap`) and tagged so.
"""
from __future__ import annotations

import os
from typing import Callable

import av

from .atomic import atomic_output, output_error
from .codecs import muxer_options
from .frame import PixelLayout
from .mux import CopyAudio
from .probe import MediaInfo, probe_video, video_stream
from .runner import ProgressCallback, ProgressMeter
from .streams import set_stream_tags
from .tonemap import HDR_TRANSFERS, ToneMapper, is_hdr

PLAYABLE_SUFFIX = ".playable.mp4"
_CONTAINERS = ("mov,mp4,m4a,3gp,3g2,mj2",)
_SOUND = ("aac", "mp3")
_PIX = ("yuv420p", "yuvj420p")


def playability(info: MediaInfo) -> tuple[bool, str]:
    """(plays everywhere?, why not — or what it is) for a probed file."""
    v = info.video
    if v is None:
        return False, "no picture"
    ext = os.path.splitext(info.path)[1].lower()
    problems = []
    if info.container not in _CONTAINERS or ext not in (".mp4", ".m4v", ".mov"):
        problems.append(f"a {ext or info.container} file (Safari and iOS play MP4)")
    if v.codec != "h264":
        problems.append(f"{v.codec} video (only H.264 plays in every browser and phone)")
    elif v.pix_fmt not in _PIX:
        what = f"{v.bit_depth}-bit" if v.bit_depth > 8 else ""
        sub = {"422": "4:2:2", "444": "4:4:4"}.get(next((s for s in ("422", "444") if s in v.pix_fmt), ""), "")
        problems.append(f"H.264 {' '.join(x for x in (sub, what) if x) or v.pix_fmt} "
                        f"(Safari, iOS and most phones play only 8-bit 4:2:0)")
    if is_hdr(v.colour):
        problems.append(f"an HDR picture ({HDR_TRANSFERS[int(v.colour.trc)]}: shown washed out where the player "
                        "or the screen is not HDR)")
    bad_sound = [a.codec for a in info.audio if a.codec not in _SOUND]
    if bad_sound:
        problems.append(f"{bad_sound[0]} sound (AAC plays everywhere)")
    if problems:
        return False, "; ".join(problems)
    return True, "H.264 4:2:0 8-bit in MP4 plays everywhere"


def will_play(info: MediaInfo, output: str, codec: str) -> bool:
    """Whether an output written from ``info`` into ``output`` with the video ``codec`` (its name in
    :data:`vidext.media.codecs.CODECS`) will play everywhere, said before it is written (the job's
    progress announces the playable copy, or not): the output keeps the clip's pixel format and
    copies or re-encodes its sound; :func:`playability` judges the file once written."""
    ext = os.path.splitext(output)[1].lower()
    v = info.video
    return (ext in (".mp4", ".m4v", ".mov") and codec == "h264" and v is not None and v.pix_fmt in _PIX
            and not is_hdr(v.colour) and all(a.codec in _SOUND for a in info.audio))


def playable_path(output: str) -> str:
    return os.path.splitext(output)[0] + PLAYABLE_SUFFIX


def write_playable(source: str, output: str | None = None, progress: ProgressCallback | None = None) -> str:
    """Write an H.264 4:2:0 8-bit + AAC MP4 of ``source`` (atomically); returns its path.
    ``progress`` counts its frames."""
    info = probe_video(source)
    v = info.video
    output = output or playable_path(source)
    meter = ProgressMeter(v.frame_count, progress, stage="playable")
    width, height = v.width + v.width % 2, v.height + v.height % 2
    with atomic_output(output) as tmp:
        main = info.default_audio      # one sound: the track a player plays first
        audio = CopyAudio(source, main.index, output_path=tmp, copy_only=_SOUND) if main is not None else None
        try:
            with av.open(source, metadata_errors="ignore") as src, \
                    av.open(tmp, "w", format="mp4", options=muxer_options(".mp4")) as out:
                vin = video_stream(src)
                vin.thread_type = "AUTO"
                vout = out.add_stream("libx264", rate=v.fps_nominal)
                vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
                vout.options = {"crf": "20", "preset": "veryfast", "profile": "high"}
                vout.time_base = vin.time_base
                cc = vout.codec_context
                cc.time_base = vin.time_base
                colour = v.colour
                rgb = PixelLayout(v.working_pix_fmt).is_rgb         # with or without an alpha plane
                tone = ToneMapper(colour.trc, colour.primaries) if is_hdr(colour) else None
                cc.colorspace = 1 if rgb or tone is not None or colour.matrix in (0, 2) and v.height >= 720 else (
                    5 if colour.matrix in (0, 2) else colour.matrix)
                cc.color_range = 1
                cc.color_primaries, cc.color_trc = (1, 1) if tone is not None else (colour.primaries, colour.trc)
                if v.rotation:
                    vout.set_display_rotation(v.rotation)
                if audio is not None:
                    audio.open(out)
                    set_stream_tags(audio.output_stream, info.stream(main.index))
                for frame in src.decode(vin):
                    if frame.pts is None:
                        continue
                    picture = frame
                    if tone is not None:       # HDR R'G'B' (16 bits) → SDR BT.709 R'G'B' (8 bits) → YUV
                        rgb16 = frame.reformat(format="rgb48le", src_colorspace=colour.matrix or None,
                                               src_color_range=colour.range or None, dst_color_range=2)
                        picture = av.VideoFrame.from_ndarray(tone(rgb16.to_ndarray()), format="rgb24")
                    g = picture.reformat(format="yuv420p", width=width, height=height, dst_color_range=1,
                                         dst_colorspace=cc.colorspace)
                    g.pts, g.time_base = frame.pts, vin.time_base
                    g.colorspace, g.color_range = cc.colorspace, 1
                    if audio is not None:
                        audio.write_until(float(frame.pts * vin.time_base))
                    for pkt in vout.encode(g):
                        out.mux(pkt)
                    meter.advance()
                for pkt in vout.encode(None):
                    out.mux(pkt)
                if audio is not None:
                    audio.finish()
        except (av.FFmpegError, OSError) as exc:
            raise output_error(exc, output) from exc
    meter.finish()
    return output


def playable_rendition(output: str, progress: Callable[[], ProgressCallback | None] | None = None) -> dict:
    """``{"path": <stem>.playable.mp4 or None, "reason": ...}``: the rendition written when ``output``
    does not play in every browser and phone (what the sidecar records as ``playable``).
    ``progress()``: the callback of the copy's progress, asked for only when a copy is written."""
    from .probe import probe

    info = probe(output)
    plays, reason = playability(info)
    if plays:
        return {"path": None, "reason": reason}
    record = {"path": write_playable(output, progress=progress() if progress is not None else None), "reason": reason}
    colour = info.video.colour
    if is_hdr(colour):
        record["picture"] = ToneMapper(colour.trc, colour.primaries).describe()
    return record
