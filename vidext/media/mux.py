"""Sound beside the picture: feeds that mux an audio track while video is encoded.

A feed is fed in time order (``write_until``) so that audio and video packets
interleave as they are produced and memory stays flat however long the clip.
``CopyAudio`` copies the input's track untouched when the output container
can carry its codec, and otherwise re-encodes it once (AAC, or PCM for .mov
when the source is PCM).  Later feeds (stretched, extended audio) implement
the same three methods.
"""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from fractions import Fraction

import av
import numpy as np

from ..errors import InputError
from .codecs import audio_bitrate, audio_encoder, audio_rate, canonical, carries_audio
from .packed import from_block
from .streamwords import codec_words



def container_carries(output_path: str, codec: str) -> bool:
    """Whether ``output_path``'s container takes sound in ``codec`` (canonical name) untouched."""
    return carries_audio(output_path, codec)


def is_lossless(codec_context) -> bool:
    """Whether a sound stream is stored losslessly (PCM, FLAC, ALAC...)."""
    codec = codec_context.codec
    return bool(codec.lossless and not codec.lossy)


class AudioFeed(ABC):
    """Writes one audio stream (or, :mod:`vidext.media.streams`, any others) into an output container
    in time order.

    A sound feed says, once open, which output stream it writes (``output_stream``), in which codec
    (``codec_written``) and how (``treatment``: copied, re-encoded, retimed, extended; a sound put on
    a picture: cut, padded or whole); the muxer calls ``written(path)`` once the file is complete and
    ``close()`` in every case.
    """

    output_stream = None
    codec_written: str | None = None
    treatment: str | None = None

    @abstractmethod
    def open(self, output: av.container.OutputContainer) -> None:
        """Add the stream to ``output`` (before any packet is muxed)."""

    @abstractmethod
    def write_until(self, seconds: float) -> None:
        """Mux everything that starts before ``seconds``."""

    @abstractmethod
    def finish(self) -> None:
        """Mux the rest and release the source."""

    def close(self) -> None:
        """Release the source (also when the job fails before ``finish``)."""

    def written(self, path: str) -> None:
        """The output is complete at ``path`` (a check that reads it back goes here)."""


def audio_mode(audio) -> str | None:
    """``copied`` (every sound track untouched), ``re-encoded``, or None (no sound)."""
    if audio is None:
        return None
    mode = getattr(audio, "mode", None)
    if mode is not None or hasattr(audio, "mode"):
        return mode
    return "copied" if getattr(audio, "copied", False) else "re-encoded"


# The usual layout of each channel count: sources often say only "6 channels".
_STANDARD_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def encoder_layout(codec: str, rate: int, layout: str) -> str:
    """The channel layout to encode ``layout`` with: itself if ``codec`` takes it, else the
    standard layout with as many channels, else stereo (the resampler remixes)."""
    try:
        channels = av.AudioLayout(layout).nb_channels
    except (ValueError, TypeError):
        channels = 2
    for candidate in dict.fromkeys(c for c in (layout, _STANDARD_LAYOUTS.get(channels), "stereo") if c):
        try:
            ctx = av.CodecContext.create(codec, "w")
            ctx.sample_rate, ctx.layout = rate, candidate
            ctx.format = ctx.codec.audio_formats[0]
            ctx.open()
            return candidate
        except (av.FFmpegError, ValueError):
            continue
    return "stereo"


class PcmEncoder:
    """Encodes float PCM blocks (channels × samples) into an output stream.

    ``layout`` is the layout of the blocks (and frames) given; the stream is
    written in it when the encoder takes it, else in the nearest layout it
    takes (see :func:`encoder_layout`).
    """

    def __init__(self, output, codec: str, rate: int, layout: str, start_s: float = 0.0,
                 source_bit_rate: int | None = None, source_lossless: bool = False):
        self.out_rate = audio_rate(codec, rate)
        out_layout = encoder_layout(codec, self.out_rate, layout)
        self.stream = output.add_stream(codec, rate=self.out_rate)
        self.stream.layout = out_layout
        bit_rate = audio_bitrate(codec, av.AudioLayout(out_layout).nb_channels, source_bit_rate, source_lossless)
        if bit_rate:
            self.stream.bit_rate = bit_rate
        self.codec = codec
        self.in_rate = rate
        self.layout = layout
        self._fmt = self.stream.codec_context.format.name if self.stream.codec_context.format else "fltp"
        self._resampler = av.AudioResampler(format=self._fmt, layout=out_layout, rate=self.out_rate)
        self._output = output
        self._pts = round(start_s * rate)

    @property
    def codec_name(self) -> str:
        """The codec written (canonical name: ``opus`` for libopus)."""
        return canonical(self.stream.codec_context)

    def encode(self, block: np.ndarray | None) -> None:
        """Encode a (channels, samples) float32 block; ``None`` flushes."""
        if block is None:
            self.encode_frame(None)
            return
        if not block.shape[-1]:
            return
        f = from_block(block, self.layout)
        f.rate, f.pts, f.time_base = self.in_rate, self._pts, Fraction(1, self.in_rate)
        self._pts += block.shape[-1]
        self.encode_frame(f)

    def encode_frame(self, frame: av.AudioFrame | None) -> None:
        """Resample a decoded frame (any format/layout) and encode it; ``None`` flushes."""
        for fr in self._resampler.resample(frame):
            for pkt in self.stream.encode(fr):
                self._output.mux(pkt)
        if frame is None:
            for pkt in self.stream.encode(None):
                self._output.mux(pkt)


class CopyAudio(AudioFeed):
    """The source file's audio track, copied (or re-encoded once if it must be)."""

    def __init__(self, source_path: str, stream_index: int | None = None, output_path: str = ".mp4",
                 copy_only: tuple[str, ...] | None = None):
        self.source_path = source_path
        self.copy_only = copy_only   # codecs copied (others encoded with the container's default); None: any carried
        self.stream_index = stream_index
        self.output_path = output_path
        self._in = None
        self._out = None
        self._packets = None
        self._pending = None
        self._encoder: PcmEncoder | None = None
        self._last_dts: int | None = None
        self.copied = False
        self.mended = 0          # copied packets whose timestamps had to be fixed
        self.conversion_why: str | None = None

    def open(self, output) -> None:
        try:
            self._in = av.open(self.source_path, metadata_errors="ignore")
            self._open(output)
        except BaseException:
            if self._in is not None:
                self._in.close()
                self._in = None
            raise

    def _open(self, output) -> None:
        streams = self._in.streams.audio
        if not streams:
            raise InputError(f"{os.path.basename(self.source_path)} has no audio stream")
        src = streams[0] if self.stream_index is None else next(
            s for s in streams if s.index == self.stream_index)
        self._src = src
        self._out = output
        if src.codec_context is None:
            raise InputError(f"the audio stream of {os.path.basename(self.source_path)} uses a codec FFmpeg "
                             f"does not know (damaged header?)")
        name = canonical(src.codec_context)
        if container_carries(self.output_path, name) and (self.copy_only is None or name in self.copy_only):
            self._dst = output.add_stream_from_template(src)
            self.copied = True
            self.output_stream, self.codec_written, self.treatment = self._dst, name, "copied"
        else:
            cc = src.codec_context
            layout = cc.layout.name if cc.layout and cc.channels <= 8 else "stereo"
            encoder = audio_encoder(self.output_path, name if self.copy_only is None else None)
            self._encoder = PcmEncoder(output, encoder, cc.sample_rate, layout,
                                       source_bit_rate=cc.bit_rate or src.bit_rate,
                                       source_lossless=is_lossless(src.codec_context))
            self.output_stream, self.codec_written = self._encoder.stream, self._encoder.codec_name
            self.treatment = "re-encoded"
            if self.codec_written != name:
                ext = os.path.splitext(self.output_path)[1].lstrip(".").upper()
                self.conversion_why = (f"the playable rendition carries AAC or MP3 sound only"
                                       if self.copy_only is not None else
                                       f"the {ext} container carries no {codec_words(name)} sound")
        self._packets = self._in.demux(src)

    def _next(self):
        try:
            for pkt in self._packets:
                if pkt.dts is None and pkt.pts is None:
                    continue  # demuxer's flush packet
                return pkt
        except av.FFmpegError as exc:
            raise InputError(f"cannot read the audio of {os.path.basename(self.source_path)}: "
                             f"{exc.strerror or exc}") from exc
        return None

    def _time(self, pkt) -> float:
        ts = pkt.pts if pkt.pts is not None else pkt.dts
        return float(ts * pkt.time_base)

    def write_until(self, seconds: float) -> None:
        while True:
            pkt = self._pending or self._next()
            self._pending = None
            if pkt is None:
                return
            if self._time(pkt) >= seconds:
                self._pending = pkt
                return
            self._write(pkt)

    def _write(self, pkt) -> None:
        if self.copied:
            self._out.start_encoding()               # fixes the output stream's time base
            self._rescale(pkt, self._dst.time_base)  # mend in the units the muxer checks
            self._mend(pkt)
            pkt.stream = self._dst
            self._out.mux(pkt)
            return
        try:
            frames = pkt.decode()
        except av.InvalidDataError:
            return
        for fr in frames:
            self._encoder.encode_frame(fr)

    @staticmethod
    def _rescale(pkt, time_base) -> None:
        src = pkt.time_base
        if not src or not time_base or src == time_base:
            return
        f = Fraction(src.numerator, src.denominator) / Fraction(time_base.numerator, time_base.denominator)
        for attr in ("pts", "dts", "duration"):
            value = getattr(pkt, attr)
            if value is not None:
                setattr(pkt, attr, round(value * f))
        pkt.time_base = time_base

    def _mend(self, pkt) -> None:
        """Fix what a muxer refuses in damaged input, as FFmpeg's own tool does when copying:
        a decoding time that does not advance, a duration out of range."""
        if pkt.dts is not None:
            if self._last_dts is not None and pkt.dts <= self._last_dts:
                pkt.dts = self._last_dts + 1
                self.mended += 1
            if pkt.pts is not None and pkt.pts < pkt.dts:
                pkt.pts = pkt.dts
            self._last_dts = pkt.dts
        if pkt.duration is not None and not 0 <= pkt.duration < 2**31:
            pkt.duration = 0
            self.mended += 1

    def finish(self) -> None:
        try:
            self.write_until(float("inf"))
            if self._encoder is not None:
                self._encoder.encode(None)
        finally:
            self.close()

    def close(self) -> None:
        if self._in is not None:
            self._in.close()
            self._in = None
