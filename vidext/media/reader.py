"""Decode a video as a stream of :class:`Frame` objects with their timestamps.

The one place video is decoded (with :mod:`.probe`'s first picture):
:func:`decode_video` turns packets into PyAV frames with their times,
skipping corrupt packets; :class:`FrameSource` streams :class:`Frame`
objects, seeks (:meth:`FrameSource.seek`) and reads one picture at a time
(:meth:`FrameSource.frame_at`); :func:`thumbnails` are small RGB pictures
at given times (the app's filmstrip).  Readers elsewhere (the extenders'
clip reader, the preview excerpt, the A/V sync estimate) build on these.
"""
from __future__ import annotations

import logging
import os
from fractions import Fraction
from typing import Iterable, Iterator

import av
import numpy as np

from ..errors import InputError
from .codecs import alpha_decoder, decode_packet
from .frame import Colour, Frame, planes_from_av, to_rgb8, working_layout
from .probe import InputFile, MediaInfo, open_input, probe, video_stream

log = logging.getLogger(__name__)


def decode_video(container, stream, name: str, on_corrupt=None) -> Iterator[av.VideoFrame]:
    """Decoded pictures of ``stream`` from the container's current position.

    A corrupt packet is skipped (``on_corrupt()`` is called), as FFmpeg's own
    tools do; any other failure is an :class:`InputError` naming the file.
    An interlaced stream is deinterlaced (:class:`~vidext.media.filters.Deinterlace`): flow
    and blends on woven fields would comb every moving edge.
    """
    from .filters import Deinterlace, is_interlaced

    deinterlace = Deinterlace() if is_interlaced(stream) else None
    decoder = alpha_decoder(stream)
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            if deinterlace is not None:
                yield from deinterlace.push(None)
            return
        except av.FFmpegError as exc:
            raise InputError(f"cannot read {name}: {exc.strerror or exc}") from exc
        try:
            frames = decode_packet(packet, decoder)
        except av.InvalidDataError:
            if on_corrupt is not None:
                on_corrupt()
            continue
        except av.FFmpegError as exc:
            raise InputError(f"cannot decode {name}: {exc.strerror or exc}") from exc
        if deinterlace is None:
            yield from frames
        else:
            for frame in frames:
                yield from deinterlace.push(frame)


def fit_size(frame: av.VideoFrame, width: int, height: int, layout) -> av.VideoFrame:
    """``frame`` scaled to ``width``×``height`` in ``layout`` when a stream changed size mid-way
    (spliced clips), as FFmpeg's own tools do; unchanged otherwise."""
    if (frame.width, frame.height) == (width, height):
        return frame
    return frame.reformat(width=width, height=height, format=layout.pix_fmt)


def stream_time_base(stream) -> Fraction:
    tb = stream.time_base
    return Fraction(tb.numerator, tb.denominator)


def timed_frames(frames: Iterable[av.VideoFrame], time_base: Fraction, step: Fraction,
                 timestamps: bool = True, on_drop=None) -> Iterator[tuple[Fraction, av.VideoFrame]]:
    """``(time, frame)`` for decoded ``frames``, times in seconds, strictly increasing.

    The one rule every reader times frames by: a frame's ``pts`` on the stream's clock
    (``time_base``), or, for a frame without one, ``step`` (one nominal interval) after the
    frame before.  The first frame of a stream without timestamps (``timestamps`` False: a
    raw elementary stream, read from its start since it cannot seek) is at 0; an untimed frame
    with no timed one before it in a stream that has timestamps cannot be placed and is dropped,
    as is a frame not after the one before (``on_drop()`` is called for each).
    """
    last: Fraction | None = None
    for frame in frames:
        if frame.pts is not None:
            t = Fraction(frame.pts) * time_base
        elif last is not None:
            t = last + step
        elif not timestamps:
            t = Fraction(0)
        else:
            t = None
        if t is None or (last is not None and t <= last):
            if on_drop is not None:
                on_drop()
            continue
        last = t
        yield t, frame


def seek_stream(container, stream, t: Fraction | None) -> None:
    """Put ``container`` at the keyframe at or before ``t`` seconds of ``stream`` (None: its start)."""
    start = stream.start_time or 0
    target = start if t is None else int(t / stream_time_base(stream))
    container.seek(target, stream=stream, backward=True, any_frame=False)


class FrameSource(InputFile):
    """Context manager yielding frames in presentation order, never a list.

    Times are seconds as ``Fraction`` from the stream's own timestamps;
    frames whose timestamp does not advance are dropped, frames without one
    get the previous time plus one nominal frame.  Corrupt packets are
    skipped and counted (``skipped``), as FFmpeg does; frames of another size
    than the probed one (a stream that changes size) are scaled to it and
    counted (``resized``).
    """

    def __init__(self, path: str, info: MediaInfo | None = None, threads: int = 0):
        self.path = path
        self.info = info or probe(path)
        if self.info.video is None:
            raise InputError(f"{os.path.basename(path)} has no video stream")
        self.video = self.info.video
        self.layout = working_layout(self.video.pix_fmt)
        self.colour: Colour = self.video.colour
        self.skipped = 0
        self.resized = 0
        self.seeks = 0
        self._threads = threads
        self._container = None
        self._after: Fraction | None = None

    def __enter__(self):
        super().__enter__()
        self._set_threads()
        return self

    def _set_threads(self) -> None:
        stream = video_stream(self._container)
        stream.thread_type = "AUTO"             # settable only before the first decode: once per opening
        if self._threads:
            stream.codec_context.thread_count = self._threads

    def seek(self, t: Fraction | None) -> None:
        """The next iteration starts at the keyframe at or before ``t`` seconds (None: the start).

        Frames come with their own times as ever; those before ``t`` are the
        caller's to skip.
        """
        if self._container is None:
            raise RuntimeError("FrameSource must be used as a context manager")
        # The start is reached by opening the file again, not by seeking: a seek to an MPEG-TS's
        # first timestamp can land past its only keyframe, and then nothing decodes at all.  A file
        # without an index cannot seek (an FLV written without keyframe metadata), nor an elementary
        # stream whose frame times count from 0: they too decode from their first frame, and the
        # frames before t are skipped by the caller as ever.
        if t is None or not (self.video.timestamps and self._seeked(t)):
            self._container.close()
            self._container = open_input(self.path)
            self._set_threads()
        self.seeks += 1

    def _seeked(self, t: Fraction | None) -> bool:
        try:
            seek_stream(self._container, video_stream(self._container), t)
        except av.FFmpegError:
            return False
        return True

    def frame_at(self, t: Fraction) -> Frame:
        """The frame shown at ``t`` seconds (the last one starting at or before it).

        Seeks to the keyframe before ``t`` and decodes forward; a seek that
        lands past ``t`` (streams with inexact index entries) falls back to
        decoding from the start.
        """
        t = Fraction(t)
        tolerance = Fraction(1, 1000) / self.video.fps_nominal
        for target in (t, None):
            self.seek(target)
            shown = None
            for frame in self:
                if frame.time > t + tolerance:
                    break
                shown = frame
            if shown is not None:
                return shown
        raise InputError(f"{os.path.basename(self.path)} has no frame at {float(t):g} s")

    def between(self, start: Fraction | None, end: Fraction | None, *,
                include_end: bool = True) -> Iterator[Frame]:
        """The frames shown from ``start`` to ``end`` seconds (inclusive unless ``include_end`` is
        False; None: the clip's ends).

        Decoding starts at the keyframe before ``start``; a seek that lands
        past it (inexact index entries) falls back to decoding from the start.
        """
        frames: Iterator[Frame] = iter(self)
        if start is not None:
            self.seek(start)
            frames = iter(self)
            first = next(frames, None)
            if first is not None and first.time > start:
                self.seek(None)
                frames = iter(self)
            elif first is not None:
                frames = _chain(first, frames)
        for frame in frames:
            if start is not None and frame.time < start:
                continue
            if end is not None and (frame.time > end or (frame.time == end and not include_end)):
                return
            yield frame

    def __iter__(self) -> Iterator[Frame]:
        if self._container is None:
            raise RuntimeError("FrameSource must be used as a context manager")
        stream = video_stream(self._container)
        width, height = self.video.width, self.video.height

        def dropped() -> None:
            self.skipped += 1

        for t, av_frame in timed_frames(self._decode(stream), stream_time_base(stream),
                                        1 / self.video.fps_nominal, self.video.timestamps, dropped):
            if (av_frame.width, av_frame.height) != (width, height):
                # The stream changed size mid-way (spliced clips): scale to the probed size, as
                # FFmpeg's own tools do, so every frame fits the output.
                self.resized += 1
                av_frame = fit_size(av_frame, width, height, self.layout)
            yield Frame(planes_from_av(av_frame, self.layout), t, self.layout, self.colour)

    def _decode(self, stream) -> Iterator[av.VideoFrame]:
        def corrupt() -> None:
            self.skipped += 1

        return decode_video(self._container, stream, os.path.basename(self.path), corrupt)


def thumbnails(info: MediaInfo, times: Iterable[float], width: int, height: int) -> list[np.ndarray]:
    """The pictures shown at ``times`` (seconds on the file's timeline) as ``width`` × ``height``
    8-bit RGB (uint8, (H, W, 3)): one seek per picture, so long clips cost no more than short ones."""
    with FrameSource(info.path, info) as source:
        return [to_rgb8(source.frame_at(Fraction(t)), width, height) for t in times]


def _chain(first: Frame, rest: Iterator[Frame]) -> Iterator[Frame]:
    yield first
    yield from rest
