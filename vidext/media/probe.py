"""What a media file holds, read without decoding the whole video."""
from __future__ import annotations

import os
import stat
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import av

from .. import config
from ..config import Limits
from ..errors import InputError, LimitError
from .codecs import canonical
from .filters import is_interlaced
from .frame import Colour, working_layout


@dataclass
class AudioInfo:
    index: int
    codec: str
    rate: int
    channels: int
    layout: str
    duration_s: float | None


@dataclass
class VideoInfo:
    index: int
    codec: str
    width: int
    height: int
    pix_fmt: str
    working_pix_fmt: str
    bit_depth: int
    fps_nominal: Fraction
    fps_measured: float | None
    frame_count: int | None
    variable_frame_rate: bool
    start_s: float
    duration_s: float
    colour: Colour
    rotation: int
    # False for an elementary stream (.h264, .hevc): no packet carries a time, frames are one
    # nominal interval apart from 0, and a seek cannot say where it landed
    timestamps: bool = True
    # coded as interlaced fields: every reader deinterlaces it (bwdif, the frame rate kept)
    interlaced: bool = False


@dataclass
class MediaInfo:
    path: str
    container: str
    size_bytes: int
    duration_s: float
    video: VideoInfo | None
    audio: list[AudioInfo] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        if self.video is not None:
            d["video"]["fps_nominal"] = str(self.video.fps_nominal)
            d["video"]["colour"] = self.video.colour.as_dict()
        return d


def open_input(path: str) -> av.container.InputContainer:
    """Open a media file, turning every way it can fail into an InputError."""
    name = os.path.basename(path)
    if not path or "\x00" in path:
        raise InputError("input path is empty or contains a NUL character")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"input file not found: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"input is a folder, not a media file: {name}")
    if not stat.S_ISREG(st.st_mode):
        # A pipe or a device (/dev/zero) never ends or cannot be probed twice.
        raise InputError(f"input is not a regular file (a pipe, device or socket): {name}")
    if st.st_size == 0:
        raise InputError(f"input file {name} is empty (0 bytes)")
    try:
        return av.open(path, mode="r", metadata_errors="ignore")
    except av.error.EOFError as exc:
        raise InputError(f"cannot read {name} as media: the file ends before its media data "
                         f"(truncated?)") from exc
    except av.error.InvalidDataError as exc:
        raise InputError(f"cannot read {name} as media: not a format FFmpeg recognises, or its "
                         f"header is damaged") from exc
    except (av.FFmpegError, OSError) as exc:
        raise InputError(f"cannot read {name} as media: {getattr(exc, 'strerror', None) or exc}") from exc


def _rate(stream) -> Fraction:
    for r in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if r and r > 0:
            return Fraction(r.numerator, r.denominator)
    return Fraction(25)


def _time_base(stream) -> Fraction:
    tb = stream.time_base
    if tb is None or tb <= 0:
        return Fraction(1, 90000)   # MPEG's clock: what a stream without one almost certainly means
    return Fraction(tb.numerator, tb.denominator)


class InputFile:
    """Base for readers that hold one input container open for a ``with`` block."""

    path: str
    _container = None

    def __enter__(self):
        self._container = open_input(self.path)
        return self

    def __exit__(self, *exc) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


def video_stream(container):
    """The container's video: its first video stream that is not an attached picture (the cover
    art of an MP3, M4A or MP4 is a one-picture "video" stream); None when there is none."""
    for s in container.streams.video:
        if not s.disposition & av.stream.Disposition.attached_pic:
            return s
    return None


def probe(path: str) -> MediaInfo:
    """Describe ``path``: streams, size, rates, colour, duration, frame count.

    Nothing is decoded but the first picture, and not even that when the
    header claims a picture over the pixel limit: a hostile header cannot
    make the probe allocate a huge frame.
    """
    with open_input(path) as c:
        try:
            return _probe(path, c)
        except av.FFmpegError as exc:
            raise InputError(f"cannot read {os.path.basename(path)}: {exc.strerror or exc}") from exc


def _probe(path: str, c) -> MediaInfo:
    audio = []
    for s in c.streams.audio:
        cc = s.codec_context
        tb = _time_base(s)
        dur = float(s.duration * tb) if s.duration and s.duration > 0 else None
        if cc is None:  # a codec FFmpeg does not know: listed, so that a job can refuse it by name
            audio.append(AudioInfo(s.index, "unknown", 0, 0, "", dur))
            continue
        audio.append(AudioInfo(s.index, canonical(cc), cc.sample_rate or 0, cc.channels or 0,
                               cc.layout.name if cc.layout else "", dur))
    container_dur = c.duration / av.time_base if c.duration and c.duration > 0 else None
    video = None
    stream = video_stream(c)
    if stream is not None:
        video = _probe_video(c, stream, container_dur, path)
    durations = [d for d in ([video.duration_s] if video else []) + [a.duration_s for a in audio] if d]
    return MediaInfo(path=path, container=c.format.name, size_bytes=os.path.getsize(path),
                     duration_s=max(durations) if durations else (container_dur or 0.0),
                     video=video, audio=audio)


def first_frame(c, s, path: str) -> av.VideoFrame | None:
    """The first decodable picture of stream ``s`` of ``c``, the open ``path`` (None if there is none)."""
    try:
        c.seek(0, stream=s)
    except av.FFmpegError:
        # A file without an index cannot seek back after the scan (an FLV written without
        # keyframe metadata): its first picture comes from opening it again.
        with open_input(path) as fresh:
            return _decoded_first(fresh, fresh.streams[s.index])
    return _decoded_first(c, s)


def _decoded_first(c, s) -> av.VideoFrame | None:
    try:
        for frame in c.decode(s):
            return frame
    except av.FFmpegError:
        return None
    return None


def _probe_video(c, s, container_dur, path: str) -> VideoInfo:
    cc = s.codec_context
    name = os.path.basename(path)
    _check_picture(cc, name)
    nominal = _rate(s)
    tb = _time_base(s)
    times, untimed, complete = _scan_packets(c, s)
    timestamps = bool(times) or not untimed
    if not timestamps:     # frames one nominal interval apart, as the reader spaces them
        times = [round(k / (nominal * tb)) for k in range(untimed)]
    measured, vfr = _measured_rate(times, tb)
    start, duration = _extent(times, complete, tb, nominal, s, container_dur)
    rotation, pix_fmt = _first_picture(c, s, path, empty=complete and not times)
    layout = working_layout(pix_fmt)
    return VideoInfo(
        index=s.index, codec=canonical(cc), width=cc.width, height=cc.height, pix_fmt=pix_fmt,
        working_pix_fmt=layout.pix_fmt, bit_depth=layout.bits, fps_nominal=nominal,
        fps_measured=measured, frame_count=len(times) if complete else (s.frames or None),
        variable_frame_rate=vfr, start_s=start, duration_s=duration,
        colour=Colour(int(cc.colorspace), int(cc.color_range), int(cc.color_primaries), int(cc.color_trc)),
        rotation=rotation, timestamps=timestamps, interlaced=is_interlaced(s))


def _check_picture(cc, name: str) -> None:
    """Refuse a stream whose codec or picture size FFmpeg cannot tell."""
    if cc is None:
        raise InputError(f"the video stream of {name} uses a codec FFmpeg does not know (damaged header?)")
    if (not cc.width or not cc.height) and cc.name == "webp":
        raise InputError(f"{name}: FFmpeg reads no picture size from this WebP: an animated WebP, which "
                         f"its decoder does not play, or a damaged file; convert it to GIF, MP4 or WebM "
                         f"first (for example with ImageMagick)")
    if not cc.width or not cc.height:
        raise InputError(f"the video stream of {name} has no usable picture size (corrupt, unsupported, "
                         f"or larger than FFmpeg accepts)")


def _scan_packets(c, s) -> tuple[list[int], int, bool]:
    """Sorted packet timestamps (demuxed, not decoded), the number of packets without one, and
    whether the scan reached the end."""
    times, untimed = [], 0
    for pkt in c.demux(s):
        if pkt.size:
            if pkt.pts is not None:
                times.append(pkt.pts)
            else:
                untimed += 1
        if len(times) + untimed >= config.PROBE_SCAN_PACKETS:
            break
    times.sort()
    return times, untimed, len(times) + untimed < config.PROBE_SCAN_PACKETS


def _measured_rate(times: list[int], tb: Fraction) -> tuple[float | None, bool]:
    """(frames per second measured over the scan, whether the frame intervals vary)."""
    measured, vfr = None, False
    if len(times) >= 2:
        span = float((times[-1] - times[0]) * tb)
        if span > 0:
            measured = (len(times) - 1) / span
        steps = [float((b - a) * tb) for a, b in zip(times, times[1:]) if b > a]
        if steps:
            steps.sort()
            lo, hi = steps[len(steps) // 20], steps[-1 - len(steps) // 20]
            vfr = hi > lo * (1 + config.VFR_TOLERANCE) + 1e-4
    return measured, vfr


def _extent(times: list[int], complete: bool, tb: Fraction, nominal: Fraction, s,
            container_dur: float | None) -> tuple[float, float]:
    """(start, duration) in seconds: from the packets when all were scanned, else the headers."""
    start = float(times[0] * tb) if times else float((s.start_time or 0) * tb)
    if times and complete:
        duration = float((times[-1] - times[0]) * tb) + 1 / float(nominal)
    elif s.duration and s.duration > 0:
        duration = float(s.duration * tb)
    else:
        duration = container_dur or 0.0
    return start, duration


def _first_picture(c, s, path: str, *, empty: bool) -> tuple[int, str]:
    """(rotation, pixel format) of the first decoded frame.

    Unless the header claims a picture over the limit: then the header's
    word is taken and nothing is decoded.
    """
    cc = s.codec_context
    name = os.path.basename(path)
    rotation, pix_fmt = 0, cc.format.name if cc.format else None
    max_pixels = Limits.from_env().max_pixels
    if cc.width * cc.height <= max_pixels:
        frame = first_frame(c, s, path)
        if frame is None:
            what = "no frames" if empty else "no decodable frames"
            raise InputError(f"the video stream of {name} has {what}")
        rotation, pix_fmt = int(frame.rotation or 0), frame.format.name
    elif pix_fmt is None:
        raise LimitError(f"{name}: frame size {cc.width}×{cc.height} exceeds the limit of "
                         f"{max_pixels / 1e6:.1f} MP per frame (VIDEXT_MAX_PIXELS)")
    return rotation, pix_fmt


def probe_video(path: str) -> MediaInfo:
    """:func:`probe`, refusing a file without a video stream (the message names the file, not its folder)."""
    info = probe(path)
    if info.video is None:
        raise InputError(f"{os.path.basename(path)} has no video stream")
    return info
