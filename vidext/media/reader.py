"""Decode a video as a stream of :class:`Frame` objects with their timestamps."""
from __future__ import annotations

import logging
import os
from fractions import Fraction
from typing import Iterator

import av

from ..errors import InputError
from .frame import Colour, Frame, planes_from_av, working_layout
from .probe import InputFile, MediaInfo, probe

log = logging.getLogger(__name__)


class FrameSource(InputFile):
    """Context manager yielding frames in presentation order, never a list.

    Times are seconds as ``Fraction`` from the stream's own timestamps;
    frames whose timestamp does not advance are dropped, frames without one
    get the previous time plus one nominal frame.  Corrupt packets are
    skipped and counted (``skipped``), as FFmpeg does; frames of another size
    than the probed one (a stream that changes size) are scaled to it and
    counted (``resized``).  ``start``/``end`` (seconds, inclusive) yield only
    the frames shown in that range, decoding from the keyframe before
    ``start`` (a part of a longer job).
    """

    def __init__(self, path: str, info: MediaInfo | None = None, threads: int = 0,
                 start: Fraction | None = None, end: Fraction | None = None):
        self.path = path
        self.info = info or probe(path)
        if self.info.video is None:
            raise InputError(f"{os.path.basename(path)} has no video stream")
        self.video = self.info.video
        self.layout = working_layout(self.video.pix_fmt)
        self.colour: Colour = self.video.colour
        self.skipped = 0
        self.resized = 0
        self._threads = threads
        self._container = None
        self.start, self.end = start, end

    def __iter__(self) -> Iterator[Frame]:
        if self.start is None and self.end is None:
            yield from self._frames()
            return
        if self.start is not None and self._seek(self.start):
            frames = self._frames()
            first = next(frames, None)
            if first is not None and first.time > self.start:   # the seek overshot: read from the top
                self._container.seek(0, stream=self._container.streams.video[0], backward=True)
                frames = self._frames()
            elif first is not None:
                frames = _chain(first, frames)
        else:
            frames = self._frames()
        for frame in frames:
            if self.start is not None and frame.time < self.start:
                continue
            if self.end is not None and frame.time > self.end:
                return
            yield frame

    def _seek(self, t: Fraction) -> bool:
        """Move to the keyframe at or before ``t``; False when the file cannot seek."""
        stream = self._container.streams.video[0]
        tb = stream.time_base
        try:
            self._container.seek(int(t / Fraction(tb.numerator, tb.denominator)), stream=stream,
                                 backward=True, any_frame=False)
        except av.FFmpegError:
            return False
        return True

    def _frames(self) -> Iterator[Frame]:
        if self._container is None:
            raise RuntimeError("FrameSource must be used as a context manager")
        stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"
        if self._threads:
            stream.codec_context.thread_count = self._threads
        tb = stream.time_base
        step = 1 / self.video.fps_nominal
        last: Fraction | None = None
        width, height = self.video.width, self.video.height
        for av_frame in self._decode(stream):
            if (av_frame.width, av_frame.height) != (width, height):
                # The stream changed size mid-way (spliced clips): scale to the probed size, as
                # FFmpeg's own tools do, so every frame fits the output.
                self.resized += 1
                av_frame = av_frame.reformat(width=width, height=height, format=self.layout.pix_fmt)
            if av_frame.pts is not None:
                t = Fraction(av_frame.pts) * Fraction(tb.numerator, tb.denominator)
            else:
                t = (last + step) if last is not None else Fraction(0)
            if last is not None and t <= last:
                self.skipped += 1
                continue
            last = t
            yield Frame(planes_from_av(av_frame, self.layout), t, self.layout, self.colour)

    def _decode(self, stream) -> Iterator[av.VideoFrame]:
        name = os.path.basename(self.path)
        packets = self._container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.FFmpegError as exc:
                raise InputError(f"cannot read {name}: {exc.strerror or exc}") from exc
            try:
                frames = packet.decode()
            except av.InvalidDataError:
                self.skipped += 1
                continue
            except av.FFmpegError as exc:
                raise InputError(f"cannot decode {name}: {exc.strerror or exc}") from exc
            yield from frames


def _chain(first: Frame, rest: Iterator[Frame]) -> Iterator[Frame]:
    yield first
    yield from rest
