"""Encode frames (and mux a sound track) into a file."""
from __future__ import annotations

import logging
import os
from dataclasses import replace
from fractions import Fraction

import av
import numpy as np

from .._version import __version__
from ..errors import ParameterError
from .atomic import output_error
from .codecs import (TAGLESS, CodecSpec, alpha_codec, carries_alpha, codec_for, conversions, dnxhd_profile,
                     encoder_pix_fmt, has_alpha, muxer, muxer_options)
from .frame import Colour, PixelLayout, av_from_planes, effective_matrix
from .mux import AudioFeed
from .scheduling import open_encoder

log = logging.getLogger(__name__)


def padded_size(pix_fmt: str, width: int, height: int) -> tuple[int, int]:
    """The smallest size ≥ width×height whose chroma planes ``pix_fmt`` can hold exactly."""
    fmt = av.VideoFormat(pix_fmt)
    xs, ys = 256 // fmt.chroma_width(256), 256 // fmt.chroma_height(256)   # 2 for 4:2:0's both sides
    return -(-width // xs) * xs, -(-height // ys) * ys


#: packed or planar RGB formats an encoder may take (no YUV matrix applies to them)
RGB_PREFIXES = ("gbr", "bgr", "rgb", "argb", "abgr")

#: containers that store one frame rate rather than each frame's time (AVI): frames land on its grid
FIXED_RATE_CONTAINERS = (".avi",)

class FrameSink:
    """Context manager that encodes planes at given times into ``path``.

    ``path`` is written as given: callers write to a temporary file and move
    it into place (see :func:`vidext.media.atomic.atomic_output`).  Frame
    times are seconds on the input's timeline; they are quantised to the
    output rate, so audio copied with its own timestamps stays in sync.
    ``audio`` is the feed of everything muxed beside the picture: one sound
    track, or :class:`vidext.media.streams.OutputStreams` (every sound track,
    subtitles, chapters, tags).
    """

    def __init__(self, path: str, *, width: int, height: int, layout: PixelLayout, rate: Fraction,
                 codec: str | None = None, crf: int | None = None, preset: str | None = None,
                 colour: Colour = Colour(), rotation: int = 0, audio: AudioFeed | None = None,
                 container_ext: str | None = None, threads: int = 0, time_base: Fraction | None = None):
        named = "output" + container_ext if container_ext else path
        self.spec: CodecSpec = codec_for(codec, named)
        #: (the container's default codec, the one written instead) when the default would drop the alpha
        self.alpha_switch: tuple[str, str] | None = None
        if codec is None and layout.has_alpha and not carries_alpha(self.spec):
            alt = alpha_codec(named)      # the container's default would drop the alpha: one that keeps it
            if alt is not None:
                self.alpha_switch = (self.spec.name, alt)
                self.spec = codec_for(alt, named)
        if crf is not None and self.spec.crf is None:
            raise ParameterError(f"--crf applies to h264, h265, vp9 and av1 only, not {self.spec.name}")
        if crf is not None and not 0 <= crf <= self.spec.crf_max:
            raise ParameterError(f"crf must be between 0 and {self.spec.crf_max} for {self.spec.name}, got {crf}")
        self.path = path
        self.width, self.height = width, height
        self.layout = layout
        self.rate = Fraction(rate)
        #: the unit frame times are stored in: one frame interval, or finer (``time_base``) where frames
        #: come at their own times (a variable-rate clip's real frames kept beside new ones)
        self.time_base = 1 / self.rate
        self._asked_time_base = None if time_base is None else Fraction(time_base)
        self.crf = crf if crf is not None else self.spec.crf
        self.preset = preset
        self.colour = colour          # the output's tags
        self._in_colour = colour      # the pictures' own
        self.rotation = rotation
        self.audio = audio
        self.threads = threads          # encoder threads (0: FFmpeg's choice)
        self.frames_written = 0
        self.padded_to: tuple[int, int] | None = None
        #: what the output gives up against the working pictures, in words (recorded in the sidecar)
        self.conversions: list[str] = []
        self._ext = (container_ext or os.path.splitext(path)[1]).lower()
        self._container = None
        self._stream = None
        self._last_pts = None
        self._matrix_from: int | None = None   # the pictures' YUV matrix, when converted to another

    # -- lifecycle -----------------------------------------------------------
    def __enter__(self) -> "FrameSink":
        fmt = muxer(self._ext)
        options = muxer_options(self._ext)
        try:
            self._container = av.open(self.path, mode="w", format=fmt, options=options)
        except (av.FFmpegError, OSError) as exc:
            raise output_error(exc, self.path) from exc
        try:
            self._open_video()
            if self.audio is not None:
                self.audio.open(self._container)
        except BaseException:
            self._container.close()
            raise
        return self

    def _open_video(self) -> None:
        spec = self.spec
        try:
            s = self._container.add_stream(spec.encoder, rate=self.rate)
        except ValueError as exc:  # the container cannot carry this codec
            raise ParameterError(f"codec {spec.name} cannot be written to a {self._ext} file ({exc})") from exc
        self.pix_fmt = encoder_pix_fmt(spec, self.layout.pix_fmt)
        self.conversions = conversions(self.layout.pix_fmt, self.pix_fmt, spec.name)
        if self._asked_time_base is not None and self._asked_time_base != self.time_base:
            if self._ext in FIXED_RATE_CONTAINERS:
                self.conversions.append(f"frame times snapped to 1/{float(self.rate):.4g} s: {self._ext} files "
                                        "store one frame rate, not each frame's time")
            else:
                self.time_base = self._asked_time_base
        if spec.encoder in TAGLESS and any(v not in (0, 2) for v in (self.colour.matrix, self.colour.primaries,
                                                                     self.colour.trc)):
            self.conversions.append(f"colour matrix/primaries/trc tags not stored: {TAGLESS[spec.encoder]}")
        if self.pix_fmt.startswith("yuvj") and not self.layout.pix_fmt.startswith("yuvj") \
                and self.colour.range != 2 and not self.layout.is_rgb:
            self.colour = replace(self.colour, range=2)   # converted to full range (JPEG)
        if self.layout.pix_fmt.startswith("yuvj") and not self.pix_fmt.startswith("yuvj") \
                and self.colour.range != 1:
            self.colour = replace(self.colour, range=1)   # converted to limited range: tagged so
        if self.layout.is_rgb and not self.pix_fmt.startswith(RGB_PREFIXES):
            # RGB pictures into a YUV-only encoder: BT.709 limited range, tagged so (an RGB matrix tag
            # on YUV planes would make players show Y as green)
            self.colour = replace(self.colour, matrix=1, range=1)
        if spec.encoder in TAGLESS and not self.pix_fmt.startswith(RGB_PREFIXES):
            self._implied_matrix(spec.encoder)
        width, height = padded_size(self.pix_fmt, self.width, self.height)
        if (width, height) != (self.width, self.height):
            self.padded_to = (width, height)
            log.info("%s stores colour at reduced resolution: %d×%d padded to %d×%d (edges repeated)",
                     self.pix_fmt, self.width, self.height, width, height)
        s.width, s.height = width, height
        s.pix_fmt = self.pix_fmt
        opts = dict(spec.options)
        if spec.crf is not None:
            opts["crf"] = str(self.crf)
            if self.preset:
                opts["preset"] = self.preset
        if spec.encoder == "dnxhd":
            opts["profile"] = dnxhd_profile(self.pix_fmt)
        if spec.encoder == "prores_ks" and ("444" in self.pix_fmt or "yuva" in self.pix_fmt):
            opts["profile"] = "4"
        if spec.encoder == "libx265" and self._ext in (".mp4", ".mov"):
            s.codec_tag = "hvc1"
        s.options = opts
        cc = s.codec_context
        if self.threads:
            cc.thread_count = self.threads
        cc.time_base = self.time_base
        cc.colorspace = self.colour.matrix
        cc.color_range = self.colour.range
        cc.color_primaries = self.colour.primaries
        cc.color_trc = self.colour.trc
        if self.rotation:
            s.set_display_rotation(self.rotation)
        # who encoded the picture (the file's own "encoder" tag is libavformat's: it writes its name there)
        s.metadata["encoder"] = f"vidext {__version__} ({spec.encoder})"
        self._stream = s
        # Open the encoder now, before a single frame is decoded: a picture the encoder cannot
        # take (sizes DNxHR does not know) is refused in milliseconds.
        try:
            open_encoder(cc)       # SVT-AV1 would leave this thread (a job pool's) real-time
        except av.FFmpegError as exc:
            raise ParameterError(f"the {spec.name} encoder cannot take a {s.width}×{s.height} {self.pix_fmt} "
                                 f"picture ({exc}); choose another codec (ffv1 takes any size)") from exc

    @property
    def alpha_dropped(self) -> bool:
        """The pictures have an alpha plane and the encoder's pixel format stores none (known once open)."""
        return self.layout.has_alpha and not has_alpha(self.pix_fmt)

    def _implied_matrix(self, encoder: str) -> None:
        """A codec that stores no colour description is read in the matrix players assume for
        it (JPEG: BT.601; MPEG-4 Part 2: BT.709 from 720 rows, BT.601 below): RGB pictures are
        converted to that one, YUV pictures in another are converted to it through RGB."""
        implied = 5 if encoder == "mjpeg" else effective_matrix(Colour(), self.height)
        if not self.layout.is_rgb:
            actual = effective_matrix(self._in_colour, self.height)
            if actual != implied:
                self._matrix_from = actual
                self.conversions.append(f"colour matrix {actual} → {implied}: {TAGLESS[encoder]}, and "
                                        f"players read {self.height}-row pictures without one as {implied}")
        self.colour = replace(self.colour, matrix=implied)

    def write(self, planes, time: Fraction) -> None:
        """Encode one picture shown at ``time`` seconds."""
        pts = round(Fraction(time) / self.time_base)
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1
        self._last_pts = pts
        if self.padded_to is not None:
            planes = self._pad(planes)
        frame = av_from_planes(planes, self.layout, self._in_colour)
        if self._matrix_from is not None:   # another YUV matrix: through RGB, at 16 bits
            frame = frame.reformat(format="gbrp16le", src_colorspace=self._matrix_from,
                                   src_color_range=self._in_colour.range or None)
            frame = frame.reformat(format=self.pix_fmt, dst_colorspace=self.colour.matrix,
                                   dst_color_range=self.colour.range or None)
            frame.colorspace, frame.color_range = self.colour.matrix, self.colour.range
        elif frame.format.name != self.pix_fmt:
            rgb_in = self.layout.is_rgb
            frame = frame.reformat(format=self.pix_fmt, dst_colorspace=self.colour.matrix if rgb_in else None,
                                   src_color_range=self._in_colour.range or None,
                                   dst_color_range=self.colour.range or None)
            frame.colorspace, frame.color_range = self.colour.matrix, self.colour.range
            frame.color_primaries, frame.color_trc = self.colour.primaries, self.colour.trc
        frame.pts = pts
        frame.time_base = self.time_base
        try:
            if self.audio is not None:
                self.audio.write_until(float(time))
            for pkt in self._stream.encode(frame):
                self._container.mux(pkt)
        except (av.FFmpegError, OSError) as exc:
            raise output_error(exc, self.path) from exc
        self.frames_written += 1

    def _pad(self, planes) -> tuple:
        """The planes grown to ``padded_to`` (each at its own subsampling) by edge replication."""
        width, height = self.padded_to
        fmt = av.VideoFormat(self.layout.pix_fmt)
        full = planes[0].shape
        out = []
        for plane in planes:
            h, w = plane.shape
            th, tw = (height, width) if (h, w) == full else (fmt.chroma_height(height), fmt.chroma_width(width))
            out.append(np.pad(plane, ((0, th - h), (0, tw - w)), mode="edge") if (th, tw) != (h, w) else plane)
        return tuple(out)

    def close(self) -> None:
        """Flush the encoder and the audio feed, then close the file."""
        if self._container is None:
            return
        container = self._container
        try:
            for pkt in self._stream.encode(None):
                container.mux(pkt)
            if self.audio is not None:
                self.audio.finish()
        except (av.FFmpegError, OSError) as exc:
            self._abandon()
            raise output_error(exc, self.path) from exc
        except BaseException:
            self._abandon()
            raise
        self._container = None
        try:  # writes the trailer (and moves the index to the front): the disk can fill up here too
            container.close()
        except (av.FFmpegError, OSError) as exc:
            raise output_error(exc, self.path) from exc
        if self.audio is not None:
            self.audio.written(self.path)

    def _abandon(self) -> None:
        """Close a failed output without letting a second error hide the first."""
        if self.audio is not None:
            self.audio.close()
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception:  # already failing: the original error is the one to report
                log.debug("closing a failed output raised", exc_info=True)

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
            return
        self._abandon()
