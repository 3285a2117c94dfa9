"""Write a sound (an :class:`~vidext.media.mux.AudioFeed`) into a container, with a copied video stream.

The audio job's muxer: the sound is produced by the feed as the output
advances; a video stream, when given, is copied packet by packet (never
decoded) and paces the feed so that the two interleave.
"""
from __future__ import annotations

import threading

import numpy as np

from .. import config
from ..errors import Cancelled
from .codecs import muxer_options
from .mux import AudioFeed
from .probe import open_input, video_stream
from .runner import ProgressCallback, ProgressMeter


def _check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise Cancelled("the job was cancelled")


def write_audio(path: str, fmt: str, feed: AudioFeed, *, video_from: str | None = None,
                total_s: float | None = None, progress: ProgressCallback | None = None,
                stop: threading.Event | None = None) -> None:
    """Write ``feed`` (and the video stream of ``video_from``, copied) into ``path`` as ``fmt``.

    ``feed`` is one sound track or :class:`vidext.media.streams.OutputStreams` (every track,
    subtitles, chapters, tags).

    Progress counts tenths of a second of output.
    """
    import av

    meter = ProgressMeter(None if total_s is None else int(np.ceil(total_s * 10)), progress, stage="audio",
                          unit="s of sound", scale=10)
    with av.open(path, "w", format=fmt, options=muxer_options("." + fmt)) as c:
        src = open_input(video_from) if video_from is not None else None
        try:
            vout = c.add_stream_from_template(video_stream(src)) if src is not None else None
            if vout is not None:   # the picture is copied: its encoder is the one that made it
                encoder = next((v for k, v in video_stream(src).metadata.items() if k.lower() == "encoder"), None)
                if encoder:
                    vout.metadata["encoder"] = encoder
            feed.open(c)
            if src is not None:
                _copy_video(src, c, vout, feed, meter, stop)
            else:
                _sound_only(feed, meter, stop)
            feed.finish()
        finally:
            feed.close()
            if src is not None:
                src.close()
    feed.written(path)
    meter.finish()


def takes_copied_picture(video_from: str, fmt: str, *, listed: bool = False) -> bool:
    """Whether FFmpeg's ``fmt`` muxer takes ``video_from``'s picture copied as it is (ProRes goes into
    MOV or Matroska, not MP4): asked as :func:`write_audio` will ask it, on a container in memory.
    ``listed``: only where the muxer names the codec among those it carries (a muxer that names none,
    as MPEG-TS, is not refused above, nor offered)."""
    import io

    import av

    with open_input(video_from) as src:
        v = video_stream(src)
        if v is None:
            return True
        with av.open(io.BytesIO(), "w", format=fmt) as c:
            try:
                c.add_stream_from_template(v)
            except ValueError:
                return False
            return not listed or v.codec_context.name in c.supported_codecs


def _copy_video(src, c, vout, feed: AudioFeed, meter: ProgressMeter, stop) -> None:
    """Copy the video packets, writing the sound up to each packet's time first."""
    done = 0
    for pkt in src.demux(video_stream(src)):
        if pkt.dts is None and pkt.pts is None:
            continue
        _check_stop(stop)
        if pkt.pts is not None:
            t = float(pkt.pts * pkt.time_base)
            feed.write_until(t)
            meter.advance(max(0, int(t * 10) - done))
            done = max(done, int(t * 10))
        pkt.stream = vout
        c.mux(pkt)


def _sound_only(feed: AudioFeed, meter: ProgressMeter, stop) -> None:
    """Write the feed in steps until it stops producing samples."""
    step = config.AUDIO_BLOCK_S * 4
    done, t = 0, 0.0
    while True:
        _check_stop(stop)
        before = feed.samples_written
        t += step
        feed.write_until(t)
        if feed.samples_written == before:
            break
        meter.advance(int(t * 10) - done)
        done = int(t * 10)
