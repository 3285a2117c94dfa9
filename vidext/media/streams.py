"""Everything a file holds besides its picture, carried into an output through the picture's time map.

A job moves the picture in time through one map from input seconds to output
seconds (slow motion's :class:`~vidext.timemap.TimeMap`, an extension's shift,
the identity when the timing is unchanged).  The sound follows it in its own
feeds (:mod:`vidext.media.mux`, :mod:`vidext.sound.feeds`); this module
takes the rest through the same map:

- **subtitles**: packets copied with mapped start and duration where the
  output's container carries their codec; text subtitles (SRT, ASS/SSA,
  WebVTT, ``mov_text``) decoded and encoded again in the container's own text
  codec where it does not (SRT → ``mov_text`` in MP4), the conversion named;
  picture subtitles (PGS, DVB, VobSub) copied where carried, the times they
  keep inside (a DVD subpicture's "stop display" delay, a DVB page's
  time-out) mapped as their starts are, else named as dropped;
- **chapters**: mapped;
- **tags**: the file's and every stream's (language, title, creation time,
  comment ...; the ones that describe storage are written anew by the muxer),
  dispositions (default, forced, comment ...); a ``timecode`` moved with the
  first frame;
- **attachments** (fonts of ASS subtitles in Matroska) and **cover pictures**
  copied where the container holds them; **data tracks** copied with mapped
  times where it carries their codec; MP4's chapter text track is the
  chapters, a QuickTime timecode track its ``timecode`` tag.

What cannot be kept is named, never dropped silently: :class:`OutputStreams`
drives every feed of one output (its sound tracks and :class:`Carried`) as one
and gathers ``dropped`` and ``converted`` for the sidecar, after reading the
written file back (:meth:`OutputStreams.written`): a tag the container had no
place for is named too.
"""
from __future__ import annotations

import os
import re
from fractions import Fraction
from typing import Callable, Sequence

import av

from ..errors import InputError
from .codecs import BITMAP_SUBTITLES, TEXT_SUBTITLES, container_spec
from .mux import AudioFeed
from .probe import MediaInfo, StreamInfo, disposition_names, kept_tags, open_input
from .streamwords import codec_words

TimeMapping = Callable[[Fraction], Fraction]
#: microseconds: the clock chapters are written on (Matroska keeps nanoseconds, MP4 milliseconds)
_CHAPTER_TB = Fraction(1, 1_000_000)
#: dispositions that say what a track is for (checked on the written file; others are the muxer's business)
KEPT_DISPOSITIONS = ("default", "forced", "comment", "dub", "original", "hearing_impaired", "visual_impaired",
                     "captions", "descriptions", "lyrics", "karaoke")
_TIMECODE = re.compile(r"(\d+):(\d{2}):(\d{2})([:;.,])(\d+)")
#: a DVD subpicture says inside itself when it shows and when it hides: in these units after its packet's time
SPU_TICK = Fraction(1024, 90000)
#: a DVB subtitle page says inside itself how long it may stay at most: in whole seconds, up to this
DVB_MAX_TIMEOUT_S = 255


def identity(t: Fraction) -> Fraction:
    return t


def shifted(seconds) -> TimeMapping:
    """The map of an extension before the start: everything ``seconds`` later."""
    shift = Fraction(seconds).limit_denominator(10**9) if not isinstance(seconds, Fraction) else seconds
    return lambda t: t + shift


def _ext(output_path: str) -> str:
    return os.path.splitext(output_path)[1].lower()


def _what(ext: str) -> str:
    """``the MP4 container`` for ``.mp4``."""
    return f"the {ext.lstrip('.').upper() or 'output'} container"


def described(s: StreamInfo) -> dict:
    """A stream as the sidecar names it (its role too: a cover is a video stream)."""
    return {**s.describe(), **({"role": s.role} if s.role else {})}


def dropped_stream(s: StreamInfo, why: str) -> dict:
    """The record of a stream not kept: what it was and why."""
    return {**described(s), "why": why}


def stream_tags(s: StreamInfo) -> dict[str, str]:
    """The tags to write on a stream kept from ``s``: its own, its title under ``title`` (MP4 reads a
    track's title back as ``name``), a timecode left to :class:`Carried` (it moves with the first frame)."""
    tags = {k: v for k, v in s.tags.items() if k.lower() not in ("timecode", "name", "filename", "mimetype")}
    if s.title and not any(k.lower() == "title" for k in tags):
        tags["title"] = s.title
    return tags


def set_stream_tags(stream, s: StreamInfo) -> None:
    """Give output ``stream`` the tags and dispositions of input stream ``s``."""
    stream.metadata.update(stream_tags(s))
    set_disposition(stream, s)


def set_disposition(stream, s: StreamInfo) -> None:
    """Give output ``stream`` the dispositions (default, forced, comment ...) of input stream ``s``."""
    flags = 0
    for name in s.disposition:
        flags |= getattr(av.stream.Disposition, name, 0)
    if flags:
        stream.disposition = av.stream.Disposition(flags)


def shifted_timecode(tc: str, in_rate: Fraction, out_rate: Fraction, shift: Fraction) -> str | None:
    """``tc`` (the label of the input's first frame) for the output's first frame, which shows input time
    ``shift`` seconds after the input's first (negative: before it), labelled at ``out_rate``.
    None where it cannot be worked out: a drop-frame timecode that would have to change."""
    m = _TIMECODE.fullmatch(tc.strip())
    if m is None:
        return None
    h, mi, se, sep, ff = m.groups()
    base_in, base_out = max(1, round(in_rate)), max(1, round(out_rate))
    if shift == 0 and base_in == base_out:
        return tc
    if sep in ";,":      # drop-frame: labels skip numbers, not worked out here
        return None
    frames = ((int(h) * 60 + int(mi)) * 60 + int(se)) * base_in + int(ff)
    day = 24 * 3600 * base_out
    n = round((frames + shift * in_rate) * Fraction(base_out, base_in)) % day
    s, f = divmod(n, base_out)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{f:0{len(ff)}d}"


def _stretched(t: Fraction, delay: Fraction, to_output: TimeMapping) -> Fraction:
    """``delay`` after input time ``t``, on the output's clock: how long after the mapped ``t``."""
    return to_output(t + delay) - to_output(t)


#: the arguments' bytes after each command of a DVD subpicture's control sequence (0x07: its own length)
_SPU_ARGS = {0x00: 0, 0x01: 0, 0x02: 0, 0x03: 2, 0x04: 2, 0x05: 6, 0x06: 4}


def _spu_hides(data: bytes, pos: int, size: int) -> bool | None:
    """Whether the control sequence at ``pos`` has a "stop display" command; None: not readable."""
    at = pos + 4
    while at < size:
        cmd = data[at]
        if cmd == 0xFF:
            return False
        if cmd == 0x02:
            return True
        if cmd == 0x07:
            if at + 3 > size:
                return None
            at += 1 + int.from_bytes(data[at + 1:at + 3], "big")
        elif cmd in _SPU_ARGS:
            at += 1 + _SPU_ARGS[cmd]
        else:
            return None
    return None


#: a creation_time of the Unix epoch's first second: old encoders' "no date", which MP4/MOV write as none
ZERO_DATE = "1970-01-01T00:00:00"


def retimed_spu(data: bytes, t: Fraction, to_output: TimeMapping, length: Fraction | None = None) -> bytes | None:
    """A DVD subpicture (a ``dvd_subtitle`` packet at input time ``t``) whose control sequences show and
    hide it at their delays mapped through ``to_output``: its own end (the "stop display" delay, which
    decoders take before the packet's duration) follows the picture as its start does.  ``length``
    (output seconds): where a subpicture has no end of its own, one is added after that long (MP4 keeps
    no duration for a subtitle sample: it would show until the next).  None: not one whole
    subpicture (split across packets, or not a subpicture at all), left as it is."""
    if len(data) < 4:
        return None
    size, pos = int.from_bytes(data[:2], "big"), int.from_bytes(data[2:4], "big")
    if size < 4 or size > len(data) or pos < 4 or pos + 4 > size:
        return None
    out = bytearray(data[:size])
    seen, hides = [], False
    while pos + 4 <= size and pos not in seen:      # each control sequence: delay, next, commands
        seen.append(pos)
        delay = int.from_bytes(data[pos:pos + 2], "big")
        ticks = round(_stretched(t, delay * SPU_TICK, to_output) / SPU_TICK)
        out[pos:pos + 2] = min(max(ticks, 0), 0xFFFF).to_bytes(2, "big")
        said = _spu_hides(data, pos, size)
        hides = hides or bool(said)
        if said is None:
            hides = True           # not read through: nothing is added to it
        nxt = int.from_bytes(data[pos + 2:pos + 4], "big")
        if nxt == pos:
            break
        pos = nxt
    if length is not None and length > 0 and not hides and seen and size + 6 <= 0xFFFF:
        last = seen[-1]
        out[last + 2:last + 4] = size.to_bytes(2, "big")     # the last sequence now leads to the new one
        ticks = min(0xFFFF, max(1, round(length / SPU_TICK)))
        out += ticks.to_bytes(2, "big") + size.to_bytes(2, "big") + bytes([0x02, 0xFF])
        out[:2] = len(out).to_bytes(2, "big")
    return bytes(out)


def retimed_dvb(data: bytes, t: Fraction, to_output: TimeMapping) -> bytes | None:
    """A DVB subtitle display set (a ``dvb_subtitle`` packet at input time ``t``) whose page time-out (the
    longest its page stays, whole seconds, which decoders take as its end) is mapped through
    ``to_output``, rounded up.  The page a later display set clears ends with that set's mapped time.
    None: no page composition in it (or not a display set), left as it is.  The packet holds its
    segments (Matroska, MP4) or, as in a transport stream's PES, a data identifier (0x20) and stream id
    before them."""
    out = bytearray(data)
    pos, changed = (2 if data[:2] == b"\x20\x00" else 0), False
    while pos + 6 <= len(data) and data[pos] == 0x0F:      # segments: sync, type, page, length, data
        kind, length = data[pos + 1], int.from_bytes(data[pos + 4:pos + 6], "big")
        if kind == 0x10 and length >= 2 and pos + 6 < len(data):    # page composition: its time-out first
            seconds = data[pos + 6]
            stretched = _stretched(t, Fraction(seconds), to_output)
            out[pos + 6] = min(DVB_MAX_TIMEOUT_S, max(0, -(-stretched.numerator // stretched.denominator)))
            changed = True
        pos += 6 + length
    return bytes(out) if changed else None


#: bitmap subtitles that time themselves inside their packets: how to map those times
_RETIMED_INSIDE = {"dvd_subtitle": retimed_spu, "dvb_subtitle": retimed_dvb}
#: muxers that keep no duration for a subtitle packet (a sample lasts until the next one)
_NO_SUBTITLE_DURATIONS = ("mp4", "mov", "ipod")


class Carried(AudioFeed):
    """Subtitles, data tracks, covers, attachments, chapters and tags of ``info`` into one output.

    ``to_output`` maps an input time (s, on the input's clock) to the output's;
    ``later``, when given, returns the final map once the picture is planned (an extension that
    retimes real frames knows its map only then): it is asked before the first packet is written,
    and the chapters wait for it.  ``rate`` is the output's frame rate (a timecode is relabelled at it).
    Driven like a sound feed: ``open`` (before any packet), ``write_until``
    (output seconds), ``finish``.  ``dropped`` and ``converted`` say what it
    could not keep and what it changed.
    """

    def __init__(self, info: MediaInfo, output_path: str, to_output: TimeMapping = identity, *,
                 rate: Fraction | None = None, tracks: bool = True,
                 later: Callable[[], TimeMapping] | None = None):
        self.info = info
        self.source_path = info.path
        self.output_path = output_path
        self.to_output = to_output
        self.later = later
        self.rate = rate
        self.tracks = tracks          # False: only the file's tags and chapters (a sound-only output, say)
        self.spec = container_spec(output_path)
        self.dropped: list[dict] = []
        self.converted: list[dict] = []
        self.kept: list[dict] = []
        self.chapters_written = 0
        self.pictures_before = 0
        self.copied = True
        self._in = None
        self._out = None
        self._packets = None
        self._pending = None
        self._routes: dict[int, tuple] = {}     # input index → (kind, output stream, StreamInfo, extra)
        self._last_dts: dict[int, int] = {}
        self._cues_unreadable = 0
        self._spu_untimed = 0       # DVD subpictures split across packets: their own end left as it was

    # -- what becomes of each stream ---------------------------------------------
    def plan(self) -> list[tuple[StreamInfo, str, str | None]]:
        """(stream, what is done: copy / convert / attach / drop / none, the codec written or why dropped)."""
        spec, ext = self.spec, _ext(self.output_path)
        out = []
        for s in self.info.streams:
            if s.type == "audio" or s.role == "picture":
                continue                            # the sound feeds' and the writer's
            if s.role in ("chapters", "timecode"):
                out.append((s, "none", None))       # carried as the chapters / the timecode tag
                continue
            if not self.tracks:
                continue
            if spec is None:
                out.append((s, "drop", f"{_what(ext)} is not one vidext writes streams into"))
            elif s.type == "subtitle":
                out.append(self._subtitle_plan(s, spec, ext))
            elif s.type == "attachment":
                out.append((s, "attach", None) if spec.attachments else
                           (s, "drop", f"{_what(ext)} holds no attachments (Matroska does)"))
            elif s.role == "cover":
                out.append((s, "copy", s.codec) if spec.covers else
                           (s, "drop", f"{_what(ext)} holds no cover picture"))
            elif s.type == "data":
                out.append((s, "copy", s.codec) if s.codec and s.codec in spec.data else
                           (s, "drop", f"{_what(ext)} carries no {s.codec or 'unnamed'} data track"))
            else:
                out.append((s, "drop", f"vidext writes one picture (the first video stream); this is "
                                       f"{'another video stream' if s.type == 'video' else 'a ' + s.type + ' stream'}"))
        return out

    @staticmethod
    def _subtitle_plan(s: StreamInfo, spec, ext: str) -> tuple[StreamInfo, str, str | None]:
        if s.codec in spec.subtitles:
            return s, "copy", s.codec
        if s.codec in TEXT_SUBTITLES and spec.text_subtitles:
            return s, "convert", spec.text_subtitles
        if s.codec in TEXT_SUBTITLES:
            return s, "drop", f"{_what(ext)} carries no text subtitles"
        kind = "picture subtitles" if s.codec in BITMAP_SUBTITLES else "subtitles"
        return s, "drop", f"{_what(ext)} carries no {codec_words(s.codec)} {kind}"

    # -- AudioFeed ---------------------------------------------------------------------
    def open(self, output) -> None:
        self._out = output
        self.pictures_before = len(output.streams.video)     # the picture the writer added (or none)
        self._file_tags(output)
        self._picture_tags(output)
        if self.later is None:
            self._chapters(output)
        plan = self.plan()
        for s, action, detail in plan:
            if action == "drop":
                self.dropped.append(dropped_stream(s, detail))
        carried = [p for p in plan if p[1] in ("copy", "convert")]
        if carried:
            try:
                self._in = open_input(self.source_path)
                streams = []
                for s, action, detail in carried:
                    src = self._in.streams[s.index]
                    route = self._open_copy(output, src, s) if action == "copy" else \
                        self._open_conversion(output, src, s, detail)
                    if route is not None:
                        self._routes[s.index] = route
                        streams.append(src)
                self._packets = self._in.demux(streams) if streams else None
            except BaseException:
                self.close()
                raise
        for s, action, _ in plan:     # last: Matroska lists attachments after every track
            if action == "attach":
                self._attach(output, s)

    def _open_copy(self, output, src, s: StreamInfo):
        try:
            dst = output.add_stream_from_template(src)
        except (ValueError, av.FFmpegError) as exc:
            self.dropped.append(dropped_stream(s, f"{_what(_ext(self.output_path))} refused it ({exc})"))
            return None
        set_stream_tags(dst, s)
        self.kept.append({**described(s), "as": "copied"})
        return "copy", dst, s, None

    def _open_conversion(self, output, src, s: StreamInfo, codec: str):
        """A text subtitle stream decoded and written again in ``codec`` (the container's text codec)."""
        decoder = src.codec_context
        try:
            decoder.open(strict=False)
            header = decoder.subtitle_header
            dst = output.add_stream(codec)
            if header:
                dst.codec_context.subtitle_header = header
        except (ValueError, av.FFmpegError) as exc:
            self.dropped.append(dropped_stream(s, f"could not be converted to {codec} ({exc})"))
            return None
        set_stream_tags(dst, s)
        styled = s.codec in ("ass", "ssa")
        why = (f"{_what(_ext(self.output_path))} carries no {codec_words(s.codec)} subtitles; "
               f"its text subtitles are {codec}")
        if styled and codec != "ass":
            why += f"; ASS styling beyond what {codec} holds (bold, italic, underline, colour, font) is lost"
        self.converted.append({**s.describe(), "to": codec, "why": why})
        self.kept.append({**s.describe(), "as": f"converted to {codec}"})
        self.copied = False
        return "convert", dst, s, None

    def _attach(self, output, s: StreamInfo) -> None:
        with open_input(self.source_path) as c:
            src = c.streams[s.index]
            data = bytes(src.data)
        try:
            output.add_attachment(s.filename or f"attachment-{s.index}", s.mimetype or "application/octet-stream",
                                  data)
        except (ValueError, av.FFmpegError) as exc:
            self.dropped.append(dropped_stream(s, f"{_what(_ext(self.output_path))} refused it ({exc})"))
            return
        self.kept.append({**s.describe(), "as": "attached"})

    def _file_tags(self, output) -> None:
        tags = {k: v for k, v in self.info.tags.items() if k.lower() != "timecode"}
        output.metadata.update(tags)
        tc = next((v for k, v in self.info.tags.items() if k.lower() == "timecode"), None)
        if tc is not None:
            new = self._timecode(tc)
            if new is not None:
                output.metadata["timecode"] = new

    def _picture_tags(self, output) -> None:
        picture = next((s for s in self.info.streams if s.role == "picture"), None)
        out = next(iter(output.streams.video), None)
        if picture is None or out is None:
            return
        tags = {k: v for k, v in stream_tags(picture).items() if k.lower() != "encoder"}
        out.metadata.update({k: v for k, v in tags.items() if k not in out.metadata})
        set_disposition(out, picture)
        tc = next((v for s in self.info.streams if s.role in ("picture", "timecode")
                   for k, v in s.tags.items() if k.lower() == "timecode"), None)
        if tc is not None:
            new = self._timecode(tc)
            if new is not None:
                out.metadata["timecode"] = new

    def _timecode(self, tc: str) -> str | None:
        video = self.info.video
        if video is None:
            return tc
        first = Fraction(video.start_s).limit_denominator(10**6)
        shift = first - self.to_output(first)     # the output's first frame, seen from the input's
        new = shifted_timecode(tc, video.fps_nominal, self.rate or video.fps_nominal, shift)
        if new is None:
            self.dropped.append({"stream": None, "type": "timecode", "codec": tc,
                                 "why": "a drop-frame timecode is not relabelled for a new first frame or rate"})
        elif new != tc:
            self.converted.append({"stream": None, "type": "timecode", "codec": tc, "to": new,
                                   "why": "relabelled for the output's first frame and frame rate"})
        return new

    def _chapters(self, output) -> None:
        chapters = self.info.chapters
        if not chapters:
            return
        ext = _ext(self.output_path)
        if self.spec is None or not self.spec.chapters:
            self.dropped.append({"stream": None, "type": "chapters", "codec": f"{len(chapters)} chapter(s)",
                                 "why": f"{_what(ext)} holds no chapters"})
            return
        video = self.info.video
        first = Fraction(video.start_s).limit_denominator(10**6) if video is not None else Fraction(0)
        out = []
        for k, ch in enumerate(chapters):
            a, b = self.to_output(ch.start), self.to_output(ch.end)
            if k == 0 and ch.start <= first:
                a = min(a, ch.start)     # frames made before the first chapter belong to it
            out.append({"id": k + 1, "start": round(a / _CHAPTER_TB), "end": round(max(a, b) / _CHAPTER_TB),
                        "time_base": _CHAPTER_TB, "metadata": dict(ch.tags)})
        output.set_chapters(out)
        self.chapters_written = len(out)

    # -- packets ------------------------------------------------------------------------
    def _next(self):
        if self._packets is None:
            return None
        try:
            for pkt in self._packets:
                if pkt.dts is None and pkt.pts is None and not pkt.size:
                    continue   # the demuxer's flush packet
                return pkt
        except av.FFmpegError as exc:
            raise InputError(f"cannot read the subtitles or data of {os.path.basename(self.source_path)}: "
                             f"{exc.strerror or exc}") from exc
        return None

    def _mapped(self, pkt) -> tuple[Fraction | None, Fraction | None]:
        """(start, end) of a packet on the output's clock; (None, None) for an untimed one (a cover
        picture): it is muxed at once, as it came."""
        if pkt.pts is None and pkt.dts is None:
            return None, None
        tb = Fraction(pkt.time_base.numerator, pkt.time_base.denominator)
        t = Fraction(pkt.pts if pkt.pts is not None else pkt.dts) * tb
        start = self.to_output(t)
        end = self.to_output(t + pkt.duration * tb) if pkt.duration else None
        return start, end

    def prepare(self) -> None:
        """Take the final map (``later``) and write the chapters with it: before the first packet of the
        output is muxed (its header may carry the chapters)."""
        if self.later is not None and self._out is not None:
            self.to_output, self.later = self.later(), None
            self._chapters(self._out)

    def write_until(self, seconds: float) -> None:
        self.prepare()
        while True:
            item = self._pending
            if item is None:
                pkt = self._next()
                if pkt is None:
                    return
                item = (pkt, *self._mapped(pkt))
            self._pending = None
            if item[1] is not None and item[1] >= seconds:
                self._pending = item
                return
            self._write(*item)

    def _write(self, pkt, start: Fraction, end: Fraction | None) -> None:
        kind, dst, s, _ = self._routes[pkt.stream.index]
        self._out.start_encoding()      # fixes the output streams' time bases
        if start is None:               # untimed (a cover picture): as it came
            pkt.stream = dst
            self._out.mux(pkt)
            return
        tb = Fraction(dst.time_base.numerator, dst.time_base.denominator)
        if kind == "convert":
            pkt = self._converted(pkt, dst, start, end)
            if pkt is None:
                return
        elif s.codec in _RETIMED_INSIDE:
            pkt = self._retimed_inside(pkt, s)
        pts = round(start / tb)
        dts = pts
        last = self._last_dts.get(dst.index)
        if last is not None and dts < last:
            dts = pts = last
        self._last_dts[dst.index] = dts
        pkt.pts, pkt.dts = pts, dts
        if end is not None:
            pkt.duration = max(0, round((end - start) / tb))
        pkt.time_base = dst.time_base
        pkt.stream = dst
        self._out.mux(pkt)

    def _retimed_inside(self, pkt, s: StreamInfo):
        """A copy of a bitmap subtitle packet whose own times (when it hides, how long it may stay) are
        mapped as its start is (:data:`_RETIMED_INSIDE`); the packet itself when nothing in it is timed
        or its map is the identity."""
        tb = Fraction(pkt.time_base.numerator, pkt.time_base.denominator)
        t = Fraction(pkt.pts if pkt.pts is not None else pkt.dts) * tb
        length = None
        if s.codec == "dvd_subtitle" and pkt.duration and self.spec is not None and \
                self.spec.format in _NO_SUBTITLE_DURATIONS:
            length = _stretched(t, pkt.duration * tb, self.to_output)
        if self.to_output is identity and length is None:
            return pkt
        data = retimed_spu(bytes(pkt), t, self.to_output, length) if s.codec == "dvd_subtitle" else \
            _RETIMED_INSIDE[s.codec](bytes(pkt), t, self.to_output)
        if data is None:
            if s.codec == "dvd_subtitle" and pkt.size:
                self._spu_untimed += 1
            return pkt
        out = av.Packet(data)
        out.pts, out.dts, out.duration, out.time_base = pkt.pts, pkt.dts, pkt.duration, pkt.time_base
        out.is_keyframe = pkt.is_keyframe
        return out

    def _converted(self, pkt, dst, start: Fraction, end: Fraction | None):
        """The cue of a text subtitle packet encoded in the output's codec (None: no cue in it)."""
        from av.subtitles.subtitle import SubtitleSet

        try:
            cues = pkt.stream.codec_context.decode2(pkt)
        except av.FFmpegError:
            self._cues_unreadable += 1
            return None
        if cues is None:
            return None
        lines = [bytes(r.ass) for r in cues if getattr(r, "type", None) in (b"ass", b"text") and r.ass]
        if not lines:
            return None              # an empty cue (MP4's gap between cues): the muxer writes its own
        text = lines[0] + b"".join(b"\\N" + line.split(b",", 8)[-1] for line in lines[1:])
        tb = Fraction(dst.time_base.numerator, dst.time_base.denominator)
        length = round(((end if end is not None else start) - start) / tb)
        out = dst.codec_context.encode_subtitle(SubtitleSet.create(text, 0, length, round(start / tb)))
        return out

    def finish(self) -> None:
        try:
            self.write_until(float("inf"))
        finally:
            self.close()
        if self._cues_unreadable:
            self.dropped.append({"stream": None, "type": "subtitle", "codec": "cues",
                                 "why": f"{self._cues_unreadable} cue(s) could not be decoded for conversion"})
        if self._spu_untimed:
            self.dropped.append({"stream": None, "type": "subtitle", "codec": "dvd_subtitle",
                                 "why": f"{self._spu_untimed} DVD subpicture(s) split across packets keep their "
                                        "own display length: it is not mapped with their start"})

    def close(self) -> None:
        if self._in is not None:
            self._in.close()
            self._in = None


class OutputStreams(AudioFeed):
    """Every feed of one output, driven as one: its sound tracks (each with the input stream it comes
    from, whose tags and dispositions it takes) and :class:`Carried`.

    ``tracks``: ``(feed, StreamInfo or None)`` in output order, the main (default) track first among
    equals: :attr:`main` is the one marked default.  ``dropped``: what the job itself left out
    (a track slow motion cannot stretch ...), recorded with what the feeds could not keep.
    """

    def __init__(self, tracks: Sequence[tuple[AudioFeed, StreamInfo | None]], carried: Carried | None = None,
                 dropped: Sequence[dict] = ()):
        self.tracks = list(tracks)
        self.carried = carried
        self.dropped = list(dropped)
        self.converted: list[dict] = []
        self.tag_losses: list[dict] = []

    @property
    def feeds(self) -> list[AudioFeed]:
        return [f for f, _ in self.tracks] + ([self.carried] if self.carried is not None else [])

    @property
    def main(self) -> AudioFeed | None:
        """The default sound track's feed (the first when none is marked default)."""
        for f, s in self.tracks:
            if s is not None and "default" in s.disposition:
                return f
        return self.tracks[0][0] if self.tracks else None

    @property
    def copied(self) -> bool:
        return bool(self.tracks) and all(getattr(f, "copied", False) for f, _ in self.tracks)

    @property
    def mode(self) -> str | None:
        """How the sound was written: ``copied`` (every track untouched), ``re-encoded``, None (no sound)."""
        if not self.tracks:
            return None
        return "copied" if self.copied else "re-encoded"

    @property
    def samples_written(self) -> int:
        return sum(getattr(f, "samples_written", 0) for f, _ in self.tracks)

    def open(self, output) -> None:
        try:
            for f, s in self.tracks:
                f.open(output)
                stream = getattr(f, "output_stream", None)
                if stream is not None and s is not None:
                    set_stream_tags(stream, s)
            if self.carried is not None:
                self.carried.open(output)
        except BaseException:     # the feeds opened so far release their sources
            self.close()
            raise

    def write_until(self, seconds: float) -> None:
        if self.carried is not None:
            self.carried.prepare()      # the final map and the chapters before any packet is muxed
        for f in self.feeds:
            f.write_until(seconds)

    def finish(self) -> None:
        error = None
        for f in self.feeds:
            try:
                f.finish()
            except BaseException as exc:   # the others still release their sources
                error = error or exc
        if error is not None:
            raise error

    def close(self) -> None:
        for f in self.feeds:
            closer = getattr(f, "close", None)
            if closer is not None:
                closer()

    def written(self, path: str) -> None:
        """Read the written file back: name every tag of the input its container did not keep."""
        if self.carried is None:
            return
        info = self.carried.info
        with av.open(path, metadata_errors="ignore") as c:
            have = {k.lower() for k in c.metadata}
            where = _what(_ext(self.carried.output_path))
            for k, v in info.tags.items():
                if k.lower() not in have and k.lower() != "timecode":
                    why = f"{where} has no place for the file's {k!r} tag"
                    if k.lower() == "creation_time" and str(v).startswith(ZERO_DATE):
                        why = (f"{v} is the zero date (no date set), which {where} writes as no date at all "
                               "(a real date is kept)")
                    self.tag_losses.append({"stream": None, "type": "tag", "codec": k, "value": v, "why": why})
            pairs = [(getattr(f, "output_stream", None), s) for f, s in self.tracks]
            pairs += [(dst, s) for _, dst, s, _ in self.carried._routes.values()]
            self._count_written(c, [dst for dst, _ in pairs if dst is not None], where)
            for dst, s in pairs:
                if dst is None or s is None or dst.index >= len(c.streams):
                    continue
                written = c.streams[dst.index]
                out = StreamInfo(dst.index, "", "", kept_tags(written.metadata))
                lost = [d for d in s.disposition if d in KEPT_DISPOSITIONS and d not in
                        disposition_names(written.disposition)]
                if lost:
                    self.tag_losses.append({"stream": s.index, "type": "tag", "codec": "disposition",
                                            "value": lost, "why": f"{where} did not keep "
                                                                  f"{' and '.join(lost)} on this {s.type} stream"})
                for key in ("language", "title"):
                    if getattr(s, key) and getattr(out, key) != getattr(s, key):
                        self.tag_losses.append({"stream": s.index, "type": "tag", "codec": key,
                                                "value": getattr(s, key),
                                                "why": f"{where} did not keep the {key} of this {s.type} stream"})

    def _count_written(self, c, added: list, where: str) -> None:
        """Name streams planned and added but not in the written file (a muxer leaves out, say, a
        track without a single packet): counted by type, attachments too."""
        planned: dict[str, int] = {}
        for dst in added:
            planned[dst.type] = planned.get(dst.type, 0) + 1
        attached = sum(1 for d in self.carried.kept if d.get("as") == "attached")
        if attached:
            planned["attachment"] = attached
        if "video" in planned:       # covers: beside the picture the writer added
            planned["video"] += self.carried.pictures_before
        for kind, n in planned.items():
            got = sum(1 for s in c.streams if s.type == kind)
            if got < n:
                self.tag_losses.append({"stream": None, "type": kind, "codec": f"{n - got} of {n}",
                                        "why": f"{where} was given {n} {kind} stream(s) and holds {got}"})

    def _source(self, f: AudioFeed) -> dict:
        """``{"file": NAME}`` for a track from another file than the input (a sound put on a video)."""
        path = getattr(f, "source_path", None)
        if self.carried is None or path is None or os.path.abspath(path) == os.path.abspath(self.carried.info.path):
            return {}
        return {"file": os.path.basename(path)}

    def record(self) -> dict:
        """``dropped``, ``converted`` and the sound tracks written, for the sidecar's ``output``."""
        dropped = list(self.dropped)
        converted = list(self.converted)
        for f, s in self.tracks:
            to = getattr(f, "codec_written", None)
            if s is not None and to and s.codec != to:
                why = getattr(f, "conversion_why", None) or \
                    f"{_what(_ext(getattr(f, 'output_path', '')))} carries no {codec_words(s.codec)} sound"
                converted.append({**s.describe(), **self._source(f), "to": to, "why": why})
        if self.carried is not None:
            dropped += self.carried.dropped
            converted += self.carried.converted
        dropped += self.tag_losses
        return {"audio_tracks": [{**(s.describe() if s is not None else {}), **self._source(f), **_feed_words(f)}
                                 for f, s in self.tracks],
                "streams_kept": list(self.carried.kept) if self.carried is not None else [],
                "chapters": self.carried.chapters_written if self.carried is not None else 0,
                "dropped": dropped, "converted": converted}


def _feed_words(f: AudioFeed) -> dict:
    # ``source_s``: the length of a sound cut or padded to the picture it was put on (``as``: cut, padded, whole)
    d = {"codec_written": getattr(f, "codec_written", None), "as": getattr(f, "treatment", None),
         "source_s": getattr(f, "source_s", None)}
    return {k: v for k, v in d.items() if v is not None}
