"""Split points and joins: video parts encoded separately become one file, sound muxed once.

The parts of a distributed job (``vidext.batch``) are encoded with the same
settings on the same frame grid: their packets are copied in order with
their own timestamps (never re-encoded), and the whole film's sound is
muxed beside them from one :class:`AudioFeed`, so it has no seam.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av

from ..errors import InputError
from .atomic import atomic_output, output_error
from .codecs import muxer, muxer_options
from .mux import AudioFeed, CopyAudio, audio_mode
from .probe import video_stream

_rescale = CopyAudio._rescale   # one packet-time rescaler for copied streams
#: packets that may wait for the first decode time the demuxer knows (H.264/HEVC reorder at most 16
#: pictures); a part still without one after these has no reordering to undo: its decode times are its
#: presentation times
MAX_REORDER = 16



@dataclass
class Joined:
    frames: int                 # video packets written (one picture each)
    first_time: Fraction | None  # presentation time of the first and after the last picture (s)
    end_time: Fraction | None
    audio: str | None           # "copied", "re-encoded" or None


def _signature(stream) -> tuple:
    cc = stream.codec_context
    return cc.name, cc.width, cc.height, cc.format.name if cc.format else None


def join_parts(parts: list[str], output: str, *, audio: AudioFeed | None = None) -> Joined:
    """Write ``output`` (atomically) from ``parts`` in order; each must start where the last ended.

    ``audio``: what is muxed beside the picture, once for the whole film (one sound track, or
    :class:`vidext.media.streams.OutputStreams`: every track, subtitles, chapters, tags, exactly
    as a single run writes them)."""
    if not parts:
        raise InputError("nothing to join: no parts")
    ext = os.path.splitext(output)[1].lower()
    options = muxer_options(ext)
    frames, first, end = 0, None, None
    with atomic_output(output) as tmp:
        with av.open(parts[0]) as head:
            template = video_stream(head)
            signature = _signature(template)
            try:
                out = av.open(tmp, mode="w", format=muxer(ext), options=options)
            except (av.FFmpegError, OSError) as exc:
                raise output_error(exc, output) from exc
            try:
                dst = out.add_stream_from_template(template)
                encoder = next((v for k, v in template.metadata.items() if k.lower() == "encoder"), None)
                if encoder:     # the parts' encoder (vidext's, with its codec)
                    dst.metadata["encoder"] = encoder
            except BaseException:
                out.close()
                raise
        try:
            if audio is not None:
                audio.open(out)
            out.start_encoding()
            last_dts = None
            for part in parts:
                with av.open(part) as c:
                    src = video_stream(c)
                    if _signature(src) != signature:
                        raise InputError(f"part {os.path.basename(part)} is {_signature(src)}, "
                                         f"not {signature} like the first: parts must share their settings")
                    for pkt, dts_s in decode_times(c.demux(src), _frame_step(src)):
                        tb = Fraction(pkt.time_base.numerator, pkt.time_base.denominator)
                        pts = Fraction(pkt.pts if pkt.pts is not None else pkt.dts) * tb
                        if last_dts is not None and dts_s <= last_dts:
                            raise InputError(f"part {os.path.basename(part)} overlaps the one before it "
                                             f"({float(dts_s):.4f} s ≤ {float(last_dts):.4f} s)")
                        last_dts = dts_s
                        if audio is not None:
                            audio.write_until(float(dts_s))
                        first = pts if first is None else min(first, pts)
                        step = Fraction(pkt.duration or 0) * tb
                        end = pts + step if end is None else max(end, pts + step)
                        _rescale(pkt, dst.time_base)
                        pkt.stream = dst
                        out.mux(pkt)
                        frames += 1
            if audio is not None:
                audio.finish()
        except (av.FFmpegError, OSError) as exc:
            _abandon(out, audio)
            raise output_error(exc, output) from exc
        except BaseException:
            _abandon(out, audio)
            raise
        try:
            out.close()
        except (av.FFmpegError, OSError) as exc:
            raise output_error(exc, output) from exc
        if audio is not None:
            audio.written(tmp)
    return Joined(frames, first, end, audio_mode(audio))


def _frame_step(stream) -> Fraction | None:
    """One frame's duration (s) of a part's picture, from its rate (None: not known)."""
    rate = stream.average_rate or stream.guessed_rate
    return Fraction(rate.denominator, rate.numerator) if rate else None


def decode_times(packets, step: Fraction | None):
    """Each timed packet of one part with its decode time (s), every packet's ``dts`` set to it.

    Matroska stores presentation times only.  For pictures in reordered
    (B-frame) order FFmpeg's demuxer works out the decode times from the
    presentation times it has seen, so the first packets of a file come
    without one (as many as pictures are reordered: two for x264's
    defaults), and a presentation time stands in for none of them: the
    second picture decoded is shown after the B-frames that follow it.
    Those packets wait for the first decode time known and take the ones
    before it, a frame (``step``, or the packet's own duration) apart, as
    the encoder gave them: the part's decode times rise throughout and the
    first is a frame or two before its first picture, as the earlier part's
    last is.  A part without a single decode time in its first
    :data:`MAX_REORDER` packets is not reordered: presentation times serve.
    """
    waiting = []

    def flush(first_known: Fraction | None, known_step: Fraction | None):
        for k, w in enumerate(waiting):
            wtb = Fraction(w.time_base.numerator, w.time_base.denominator)
            if first_known is None or not known_step:
                t = Fraction(w.pts) * wtb
            else:
                t = first_known - (len(waiting) - k) * known_step
            w.dts = int(round(t / wtb))
            yield w, Fraction(w.dts) * wtb
        waiting.clear()

    for pkt in packets:
        if pkt.dts is None and pkt.pts is None:
            continue   # the demuxer's flush packet
        if pkt.dts is None:
            waiting.append(pkt)
            if len(waiting) > MAX_REORDER:
                yield from flush(None, None)
            continue
        tb = Fraction(pkt.time_base.numerator, pkt.time_base.denominator)
        dts = Fraction(pkt.dts) * tb
        if waiting:
            yield from flush(dts, Fraction(pkt.duration) * tb if pkt.duration else step)
        yield pkt, dts
    yield from flush(None, None)


def _abandon(out, audio: AudioFeed | None) -> None:
    """Close a failed join: the feeds' sources, then the output."""
    if audio is not None:
        audio.close()
    out.close()



def keyframe_times(path: str) -> list[Fraction]:
    """Presentation times (s) of the video's keyframes, from the packets (nothing decoded)."""
    with av.open(path, metadata_errors="ignore") as c:
        stream = video_stream(c)
        tb = Fraction(stream.time_base.numerator, stream.time_base.denominator)
        try:
            return sorted(Fraction(p.pts) * tb for p in c.demux(stream) if p.is_keyframe and p.pts is not None)
        except av.FFmpegError as exc:
            raise InputError(f"cannot read {os.path.basename(path)}: {exc.strerror or exc}") from exc
