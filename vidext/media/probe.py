"""What a media file holds, read without decoding the whole video."""
from __future__ import annotations

import os
import stat
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import av

from ..config import Limits
from ..errors import InputError, LimitError
from .codecs import alpha_decoder, canonical, decode_packet
from .filters import is_interlaced
from .frame import Colour, working_layout

PROBE_SCAN_PACKETS = 200_000    # packets demuxed by probe to count frames / detect VFR
VFR_TOLERANCE = 0.02            # relative spread of frame intervals still called constant


#: a variable-rate clip whose real average rate lies within this share of its nominal one is said to run
#: at the nominal rate (a phone's 29.97 fps clip with a jittery clock stays 29.97)
AVERAGE_RATE_AGREES = 0.01

# Tags that say how a stream or file was stored, not what it is: the muxer writes them anew (or they
# would be wrong after a job), so they are neither kept nor missed.
STORAGE_TAGS = frozenset({"duration", "bps", "number_of_frames", "number_of_bytes", "encoder", "major_brand",
                          "minor_version", "compatible_brands", "_statistics_writing_app",
                          "_statistics_writing_date_utc", "_statistics_tags", "vendor_id"})


def kept_tags(metadata) -> dict[str, str]:
    """A stream's or file's tags without the ones that describe its storage (:data:`STORAGE_TAGS`)."""
    return {k: v for k, v in dict(metadata or {}).items() if k.lower() not in STORAGE_TAGS}


def disposition_names(flags) -> list[str]:
    """The names of a stream's disposition flags (``default``, ``forced``, ``comment`` ...)."""
    value = int(flags or 0)
    return [d.name for d in av.stream.Disposition if value & d.value]


class _Described:
    """``language`` and ``title`` of anything with ``tags`` (MP4 reads a track's title back as ``name``)."""

    tags: dict

    @property
    def language(self) -> str | None:
        lang = self.tags.get("language") or self.tags.get("LANGUAGE")
        return None if lang in (None, "", "und") else lang

    @property
    def title(self) -> str | None:
        return self.tags.get("title") or self.tags.get("TITLE") or self.tags.get("name") or None


@dataclass
class AudioInfo(_Described):
    index: int
    codec: str
    rate: int
    channels: int
    layout: str
    duration_s: float | None
    tags: dict = field(default_factory=dict)
    disposition: list[str] = field(default_factory=list)
    start_s: float = 0.0

    @property
    def default(self) -> bool:
        return "default" in self.disposition


@dataclass
class StreamInfo(_Described):
    """One stream of a file, whatever it holds.

    ``role`` says what a stream that is not a track of its own is: ``picture``
    (the clip's video), ``cover`` (an attached picture), ``chapters`` (MP4's
    chapter text track: its cues are the file's chapters), ``timecode`` (a
    QuickTime timecode track: its value is the ``timecode`` tag); empty for a
    track (sound, subtitles, data, a further video).
    """

    index: int
    type: str                  # video, audio, subtitle, attachment, data
    codec: str                 # canonical codec name ("" when FFmpeg names none)
    tags: dict = field(default_factory=dict)
    disposition: list[str] = field(default_factory=list)
    role: str = ""
    filename: str | None = None        # attachments
    mimetype: str | None = None

    def describe(self) -> dict:
        """What a person needs to recognise the stream: index, type, codec, language, title."""
        d = {"stream": self.index, "type": self.type, "codec": self.codec or "unknown"}
        if self.language:
            d["language"] = self.language
        if self.title:
            d["title"] = self.title
        if self.filename:
            d["filename"] = self.filename
        return d


@dataclass
class Chapter:
    """A chapter on the file's clock (seconds, exact)."""

    start: Fraction
    end: Fraction
    tags: dict = field(default_factory=dict)

    @property
    def title(self) -> str | None:
        return self.tags.get("title") or self.tags.get("TITLE")


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
    # a variable-rate clip whose frames all lie on the nominal grid (a camera that dropped frames, an AVI
    # with empty frames): its rate is the nominal one, the missing frames are gaps
    gapped: bool = False

    @property
    def rate(self) -> Fraction:
        """The clip's frame rate as it plays: the nominal one, or, for a variable-rate clip whose frames
        come at another average (a phone's 68 frames over 29.6 s, nominally 15 fps), that average to
        three significant digits.  What a factor multiplies and what the clip is described with."""
        measured = self.fps_measured
        if not self.variable_frame_rate or not measured or self.gapped or \
                abs(measured / float(self.fps_nominal) - 1) <= AVERAGE_RATE_AGREES:
            return self.fps_nominal
        return Fraction(f"{measured:.3g}")

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as a player shows the picture: the rotation applied (a phone's portrait clip
        is stored 1280×720 and turned a quarter)."""
        return (self.height, self.width) if self.rotation % 180 == 90 else (self.width, self.height)


@dataclass
class MediaInfo:
    path: str
    container: str
    size_bytes: int
    duration_s: float
    video: VideoInfo | None
    audio: list[AudioInfo] = field(default_factory=list)
    #: every stream of the file (the picture and the sound too), in the file's order
    streams: list[StreamInfo] = field(default_factory=list)
    #: the file's own tags (title, creation_time, comment ...), storage tags left out
    tags: dict = field(default_factory=dict)
    chapters: list[Chapter] = field(default_factory=list)

    @property
    def default_audio(self) -> AudioInfo | None:
        """The sound a player plays first: the track marked default, else the first (None: no sound)."""
        return next((a for a in self.audio if a.default), self.audio[0] if self.audio else None)

    def stream(self, index: int) -> StreamInfo | None:
        return next((s for s in self.streams if s.index == index), None)

    def as_dict(self) -> dict:
        d = asdict(self)
        if self.video is not None:
            d["video"]["fps_nominal"] = str(self.video.fps_nominal)
            d["video"]["colour"] = self.video.colour.as_dict()
        d["chapters"] = [{"start_s": float(c.start), "end_s": float(c.end), "tags": c.tags} for c in self.chapters]
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


def _stepped_rate(stream, nominal: Fraction, times: list[int], tb: Fraction) -> Fraction:
    """The header's base rate where the frames' own median step is its, and the average rate's is not: a
    29.97 fps clip with a frame dropped averages 29.47 over its duration (MP4's average rate), yet its
    frames come every 1001/30000 s.  Else ``nominal`` (the average rate, as before)."""
    base = stream.base_rate
    if not base or base <= 0 or len(times) < 3:
        return nominal
    steps = sorted(b - a for a, b in zip(times, times[1:]) if b > a)
    if not steps:
        return nominal
    median = float(steps[len(steps) // 2] * tb)
    base = Fraction(base.numerator, base.denominator)
    tol = max(float(tb), 1e-4)          # a tick of the container's clock (Matroska's 33/34 ms at 29.97)
    if abs(median - 1 / float(base)) <= tol < abs(median - 1 / float(nominal)):
        return base
    return nominal


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
        start = float(s.start_time * tb) if s.start_time is not None else 0.0
        tags, disposition = kept_tags(s.metadata), disposition_names(s.disposition)
        if cc is None:  # a codec FFmpeg does not know: listed, so that a job can refuse it by name
            audio.append(AudioInfo(s.index, "unknown", 0, 0, "", dur, tags, disposition, start))
            continue
        audio.append(AudioInfo(s.index, canonical(cc), cc.sample_rate or 0, cc.channels or 0,
                               cc.layout.name if cc.layout else "", dur, tags, disposition, start))
    container_dur = c.duration / av.time_base if c.duration and c.duration > 0 else None
    video = None
    stream = video_stream(c)
    chapters = read_chapters(c)
    streams = [_stream_info(s, stream, bool(chapters)) for s in c.streams]
    if stream is not None:
        video = _probe_video(c, stream, container_dur, path)
    durations = [d for d in ([video.duration_s] if video else []) + [a.duration_s for a in audio] if d]
    return MediaInfo(path=path, container=c.format.name, size_bytes=os.path.getsize(path),
                     duration_s=max(durations) if durations else (container_dur or 0.0),
                     video=video, audio=audio, streams=streams, tags=kept_tags(c.metadata), chapters=chapters)


def read_chapters(c) -> list[Chapter]:
    """The chapters of an open container, on its clock, in order."""
    out = []
    for ch in c.chapters():
        tb = Fraction(ch["time_base"]) if ch["time_base"] else Fraction(1, 1000)
        out.append(Chapter(ch["start"] * tb, ch["end"] * tb, dict(ch.get("metadata") or {})))
    return sorted(out, key=lambda ch: ch.start)


def _stream_info(s, picture, has_chapters: bool) -> StreamInfo:
    """Describe stream ``s``; ``picture`` is the clip's video stream (or None)."""
    cc = s.codec_context
    codec = canonical(cc) if cc is not None else ""
    tags = kept_tags(s.metadata)
    role, filename, mimetype = "", None, None
    if s.type == "video":
        if picture is not None and s.index == picture.index:
            role = "picture"
        elif s.disposition & av.stream.Disposition.attached_pic:
            role = "cover"
    elif s.type == "attachment":
        filename, mimetype = s.name, s.mimetype
        codec = mimetype or ""
    elif s.type == "data":
        codec = s.name or ""     # the data codec (bin_data, klv ...), None when FFmpeg names none
        if any(k.lower() == "timecode" for k in tags):
            role = "timecode"
        elif has_chapters and int(s.discard) == int(av.stream.Discard.all):
            role = "chapters"     # MP4/MOV keep chapters as a text track the demuxer reads for them
    return StreamInfo(s.index, s.type, codec, tags, disposition_names(s.disposition), role, filename, mimetype)


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
    decoder = alpha_decoder(s)
    try:
        for packet in c.demux(s):
            for frame in decode_packet(packet, decoder):
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
    else:
        nominal = _stepped_rate(s, nominal, times, tb)
    measured, vfr = _measured_rate(times, tb)
    gapped = vfr and _on_grid(times, tb, nominal)
    start, duration = _extent(times, complete, tb, nominal, s, container_dur)
    rotation, pix_fmt = _first_picture(c, s, path, empty=complete and not times)
    layout = working_layout(pix_fmt)
    return VideoInfo(
        index=s.index, codec=canonical(cc), width=cc.width, height=cc.height, pix_fmt=pix_fmt,
        working_pix_fmt=layout.pix_fmt, bit_depth=layout.bits, fps_nominal=nominal,
        fps_measured=measured, frame_count=len(times) if complete else (s.frames or None),
        variable_frame_rate=vfr, gapped=gapped, start_s=start, duration_s=duration,
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
        if len(times) + untimed >= PROBE_SCAN_PACKETS:
            break
    times.sort()
    return times, untimed, len(times) + untimed < PROBE_SCAN_PACKETS


def _on_grid(times: list[int], tb: Fraction, nominal: Fraction) -> bool:
    """Whether every frame lies on the nominal grid from the first one (to the millisecond, or the
    time base when coarser): frames missing from a steady clip, not another rate."""
    if not times or nominal <= 0:
        return False
    tol = max(Fraction(1, 1000), tb)
    step = 1 / nominal
    return all(abs((t - times[0]) * tb - round((t - times[0]) * tb / step) * step) <= tol for t in times)


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
            # one tick of a fine time base is the container's rounding, not a change of rate: 29.97 fps
            # in Matroska's milliseconds comes as 33 and 34 ms steps (a tick as coarse as a frame is not)
            rounding = float(tb) if float(tb) <= lo / 4 else 0.0
            vfr = hi > lo * (1 + VFR_TOLERANCE) + rounding + 1e-4
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
