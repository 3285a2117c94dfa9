"""What a media file holds, read without decoding the whole video."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import av

from .. import config
from ..errors import InputError
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
    if not os.path.exists(path):
        raise InputError(f"input file not found: {path}")
    if os.path.isdir(path):
        raise InputError(f"input is a folder, not a media file: {path}")
    if os.path.getsize(path) == 0:
        raise InputError(f"input file is empty (0 bytes): {path}")
    try:
        return av.open(path, mode="r", metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise InputError(f"cannot read {os.path.basename(path)} as media: {exc.strerror or exc}") from exc


def _rate(stream) -> Fraction:
    for r in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if r and r > 0:
            return Fraction(r.numerator, r.denominator)
    return Fraction(25)


def probe(path: str) -> MediaInfo:
    """Describe ``path``: streams, size, rates, colour, duration, frame count."""
    with open_input(path) as c:
        try:
            return _probe(path, c)
        except av.FFmpegError as exc:
            raise InputError(f"cannot read {os.path.basename(path)}: {exc.strerror or exc}") from exc


def _probe(path: str, c) -> MediaInfo:
    audio = []
    for s in c.streams.audio:
        cc = s.codec_context
        dur = float(s.duration * s.time_base) if s.duration and s.time_base else None
        audio.append(AudioInfo(s.index, cc.name, cc.sample_rate or 0, cc.channels or 0,
                               cc.layout.name if cc.layout else "", dur))
    container_dur = c.duration / av.time_base if c.duration else None
    video = None
    if c.streams.video:
        video = _probe_video(c, c.streams.video[0], container_dur)
    durations = [d for d in ([video.duration_s] if video else []) + [a.duration_s for a in audio] if d]
    return MediaInfo(path=path, container=c.format.name, size_bytes=os.path.getsize(path),
                     duration_s=max(durations) if durations else (container_dur or 0.0),
                     video=video, audio=audio)


def _probe_video(c, s, container_dur) -> VideoInfo:
    cc = s.codec_context
    if not cc.width or not cc.height:
        raise InputError("the video stream has no picture size (corrupt or unsupported stream)")
    nominal = _rate(s)
    # Demux (not decode) packets: exact frame count, measured rate, VFR detection.
    times = []
    for pkt in c.demux(s):
        if pkt.pts is not None and pkt.size:
            times.append(pkt.pts)
        if len(times) >= config.PROBE_SCAN_PACKETS:
            break
    times.sort()
    tb = s.time_base
    complete = len(times) < config.PROBE_SCAN_PACKETS
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
    start = float(times[0] * tb) if times else float((s.start_time or 0) * tb)
    if times and complete:
        duration = float((times[-1] - times[0]) * tb) + 1 / float(nominal)
    elif s.duration:
        duration = float(s.duration * tb)
    else:
        duration = container_dur or 0.0
    # The first decoded frame tells the real pixel format and rotation.
    rotation, pix_fmt = 0, cc.format.name if cc.format else None
    try:
        c.seek(0, stream=s)
        for frame in c.decode(s):
            rotation, pix_fmt = int(frame.rotation or 0), frame.format.name
            break
    except av.FFmpegError:
        pass
    if pix_fmt is None:
        raise InputError("the video stream has no decodable frames")
    layout = working_layout(pix_fmt)
    return VideoInfo(
        index=s.index, codec=cc.name, width=cc.width, height=cc.height, pix_fmt=pix_fmt,
        working_pix_fmt=layout.pix_fmt, bit_depth=layout.bits, fps_nominal=nominal,
        fps_measured=measured, frame_count=len(times) if (times and complete) else (s.frames or None),
        variable_frame_rate=vfr, start_s=start, duration_s=duration,
        colour=Colour(int(cc.colorspace), int(cc.color_range), int(cc.color_primaries), int(cc.color_trc)),
        rotation=rotation)
