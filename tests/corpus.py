"""Bad and awkward media made on the spot: the corpus every front end must survive.

Each generator writes one file into a folder and returns its path.  Valid
clips come from PyAV encoders at tiny sizes (64×48, a few frames) so the
whole corpus is fast; malformed ones are valid clips with their bytes cut,
overwritten or their header fields patched (``mp4_boxes`` / ``patch_*``).
"""
from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import av
import numpy as np

from vidext.media.synth import shifted, texture

W, H = 64, 48          # picture size of the corpus clips
FPS = 25
FRAMES = 6


# --- writing small clips ------------------------------------------------------
def pictures(n: int, width: int = W, height: int = H, seed: int = 0) -> Iterator[np.ndarray]:
    """``n`` RGB pictures of a texture moving 2 px right and 1 px down per frame."""
    tex = texture(height + 64, width + 64, seed)
    for k in range(n):
        yield shifted(tex, 2.0 * k, 1.0 * k, height, width)


def write_video(path: Path, *, frames: int = FRAMES, fps=FPS, width: int = W, height: int = H,
                codec: str = "libx264", pix_fmt: str = "yuv420p", options: dict | None = None,
                times: list[Fraction] | None = None, rotation: int = 0, audio: dict | None = None,
                container_options: dict | None = None, fmt: str | None = None) -> Path:
    """Encode a moving texture; ``times`` (seconds) gives explicit, possibly irregular, timestamps.

    ``audio``: ``{"codec": "aac", "rate": 48000, "layout": "mono"}`` adds a sine tone
    as long as the picture.
    """
    rate = Fraction(fps)
    with av.open(str(path), "w", format=fmt, options=container_options or {}) as c:
        v = c.add_stream(codec, rate=rate)
        v.width, v.height, v.pix_fmt = width, height, pix_fmt
        if codec == "libx264":
            v.options = {"preset": "ultrafast", "crf": "20", "bf": "0", **(options or {})}
        elif options:
            v.options = options
        if rotation:
            v.set_display_rotation(rotation)
        tb = Fraction(1, 1000) if times is not None else 1 / rate
        v.codec_context.time_base = tb
        a = None
        if audio:
            a = c.add_stream(audio.get("codec", "aac"), rate=audio.get("rate", 48000))
            a.layout = audio.get("layout", "mono")
        for k, img in enumerate(pictures(frames, width, height)):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            if f.format.name != pix_fmt:
                f = f.reformat(format=pix_fmt)
            f.pts = round(times[k] / tb) if times is not None else k
            f.time_base = tb
            for p in v.encode(f):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        if not frames:
            c.start_encoding()   # headers with an empty track
        if a is not None:
            sr = a.codec_context.sample_rate
            duration = (times[-1] + Fraction(1, 25)) if times is not None else Fraction(frames) / rate
            n = int(duration * sr)
            channels = a.codec_context.channels
            t = np.arange(n) / sr
            y = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            block = np.repeat(y[None], channels, axis=0)
            for i in range(0, n, 1024):
                fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(block[:, i:i + 1024]), format="fltp",
                                                layout=a.layout.name)
                fr.rate = sr
                for p in a.encode(fr):
                    c.mux(p)
            for p in a.encode():
                c.mux(p)
    return Path(path)


def write_audio_only(path: Path, seconds: float = 0.5, rate: int = 44100) -> Path:
    with av.open(str(path), "w", format="mp4") as c:
        a = c.add_stream("aac", rate=rate)
        a.layout = "stereo"
        n = int(seconds * rate)
        y = (0.2 * np.sin(2 * np.pi * 330 * np.arange(n) / rate)).astype(np.float32)
        for i in range(0, n, 1024):
            fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(np.stack([y, y])[:, i:i + 1024]),
                                            format="fltp", layout="stereo")
            fr.rate = rate
            for p in a.encode(fr):
                c.mux(p)
        for p in a.encode():
            c.mux(p)
    return Path(path)


def write_png(path: Path, width: int = W, height: int = H) -> Path:
    """A real PNG still image (written by hand: no image library needed)."""
    img = next(pictures(1, width, height))
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    Path(path).write_bytes(png)
    return Path(path)


def remux(src: Path, dst: Path, container_options: dict | None = None) -> Path:
    """Copy every stream of ``src`` into ``dst`` (e.g. to move the mp4 index to the front)."""
    with av.open(str(src)) as i, av.open(str(dst), "w", options=container_options or {}) as o:
        mapping = {s.index: o.add_stream_from_template(s) for s in i.streams}
        for pkt in i.demux():
            if pkt.dts is None and pkt.pts is None:
                continue
            pkt.stream = mapping[pkt.stream.index]
            o.mux(pkt)
    return Path(dst)


# --- mp4 surgery --------------------------------------------------------------
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta", b"mvex"}


@dataclass
class Box:
    kind: bytes
    start: int        # offset of the box header
    header: int       # header length (8 or 16)
    size: int
    children: list["Box"] = field(default_factory=list)

    @property
    def body(self) -> int:
        return self.start + self.header


def mp4_boxes(data: bytes, start: int = 0, end: int | None = None) -> list[Box]:
    """The box tree of an ISO-BMFF file (containers expanded)."""
    end = len(data) if end is None else end
    out, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8:pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header:
            break
        box = Box(kind, pos, header, size)
        if kind in _CONTAINERS:
            box.children = mp4_boxes(data, pos + header, min(pos + size, end))
        out.append(box)
        pos += size
    return out


def find_boxes(boxes: list[Box], kind: bytes) -> Iterator[Box]:
    for b in boxes:
        if b.kind == kind:
            yield b
        yield from find_boxes(b.children, kind)


def video_trak(boxes: list[Box], data: bytes) -> Box:
    for trak in find_boxes(boxes, b"trak"):
        hdlr = next(find_boxes([trak], b"hdlr"))
        if data[hdlr.body + 8:hdlr.body + 12] == b"vide":
            return trak
    raise ValueError("no video track")


def patch_mp4(path: Path, *, size: tuple[int, int] | None = None, timescale: int | None = None,
              sample_delta: int | None = None, seconds: float | None = None) -> Path:
    """Rewrite header fields of a small mp4 in place (all version-0 boxes, as PyAV writes them).

    ``size`` → tkhd width/height (16.16) and the stsd sample entry's width/height;
    ``timescale`` → the video mdhd timescale; ``sample_delta`` → every stts delta;
    ``seconds`` → mvhd, tkhd, mdhd and edit-list durations (each in its own timescale).
    """
    data = bytearray(Path(path).read_bytes())
    boxes = mp4_boxes(bytes(data))
    trak = video_trak(boxes, bytes(data))
    tkhd = next(find_boxes([trak], b"tkhd"))
    mdhd = next(find_boxes([trak], b"mdhd"))
    stsd = next(find_boxes([trak], b"stsd"))
    stts = next(find_boxes([trak], b"stts"))
    mvhd = next(find_boxes(boxes, b"mvhd"))
    for b in (tkhd, mdhd, mvhd):
        assert data[b.body] == 0, "version-1 header boxes are not patched"
    if size is not None:
        w, h = size
        struct.pack_into(">II", data, tkhd.body + 76, w << 16, h << 16)
        entry = stsd.body + 8            # fullbox + entry count
        struct.pack_into(">HH", data, entry + 8 + 24, w, h)  # size+type, 6 reserved+2 index, 16 predefined
    if timescale is not None:
        struct.pack_into(">I", data, mdhd.body + 12, timescale)
    if sample_delta is not None:
        (count,) = struct.unpack_from(">I", data, stts.body + 4)
        for i in range(count):
            struct.pack_into(">I", data, stts.body + 8 + 8 * i + 4, sample_delta)
    if seconds is not None:
        (movie_scale,) = struct.unpack_from(">I", data, mvhd.body + 12)
        (media_scale,) = struct.unpack_from(">I", data, mdhd.body + 12)
        struct.pack_into(">I", data, mvhd.body + 16, round(seconds * movie_scale))
        struct.pack_into(">I", data, tkhd.body + 20, round(seconds * movie_scale))
        struct.pack_into(">I", data, mdhd.body + 16, round(seconds * media_scale))
        for elst in find_boxes([trak], b"elst"):   # the edit list would otherwise trim the track back
            assert data[elst.body] == 0
            struct.pack_into(">I", data, elst.body + 8, round(seconds * movie_scale))
    Path(path).write_bytes(bytes(data))
    return Path(path)


def mdat_range(path: Path) -> tuple[int, int]:
    data = Path(path).read_bytes()
    mdat = next(find_boxes(mp4_boxes(data), b"mdat"))
    return mdat.body, mdat.start + mdat.size


def moov_range(path: Path) -> tuple[int, int]:
    data = Path(path).read_bytes()
    moov = next(find_boxes(mp4_boxes(data), b"moov"))
    return moov.start, moov.start + moov.size


# --- Matroska surgery -----------------------------------------------------------
def patch_mkv_size(path: Path, width: int, height: int) -> Path:
    """Overwrite PixelWidth (0xB0) / PixelHeight (0xBA) of a Matroska file in place.

    FFmpeg writes both as 2-byte unsigned integers for small pictures
    (element id, size byte 0x82, value); the new values must fit 2 bytes.
    """
    data = bytearray(Path(path).read_bytes())
    for elem, value in ((b"\xb0\x82", width), (b"\xba\x82", height)):
        i = data.find(elem)
        if i < 0:
            raise ValueError(f"element {elem.hex()} not found")
        struct.pack_into(">H", data, i + 2, value)
    Path(path).write_bytes(bytes(data))
    return Path(path)


# --- the corpus -------------------------------------------------------------------
Make = Callable[[Path], Path]
GENERATORS: dict[str, Make] = {}


def generator(name: str):
    def register(fn: Make) -> Make:
        GENERATORS[name] = fn
        return fn
    return register


def _clip(folder: Path, name: str = "clip.mp4", **kw) -> Path:
    return write_video(folder / name, **kw)


@generator("zero_bytes")
def _(d):
    p = d / "empty.mp4"
    p.write_bytes(b"")
    return p


@generator("moov_missing")
def _(d):
    src = _clip(d, "whole.mp4")            # PyAV writes the index (moov) after the data
    start, _end = moov_range(src)
    p = d / "no_moov.mp4"
    p.write_bytes(src.read_bytes()[:start])
    src.unlink()
    return p


@generator("cut_mid_frame")
def _(d):
    src = _clip(d, "whole.mp4", frames=12)
    fast = remux(src, d / "fast.mp4", {"movflags": "+faststart"})
    lo, hi = mdat_range(fast)
    p = d / "cut.mp4"
    p.write_bytes(fast.read_bytes()[:lo + (hi - lo) * 6 // 10 + 7])   # in the middle of a frame's bytes
    src.unlink()
    fast.unlink()
    return p


@generator("random_bytes")
def _(d):
    p = d / "random.mp4"
    p.write_bytes(np.random.default_rng(7).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    return p


@generator("text_file")
def _(d):
    p = d / "notes.mp4"
    p.write_text("this is not a video\n" * 40, encoding="utf-8")
    return p


@generator("png_image")
def _(d):
    return write_png(d / "still.png")


@generator("audio_only")
def _(d):
    return write_audio_only(d / "sound.mp4")


@generator("no_frames_mp4")
def _(d):
    return _clip(d, "empty_stream.mp4", frames=0)


@generator("no_frames_mkv")
def _(d):
    return _clip(d, "empty_stream.mkv", frames=0, codec="ffv1")


@generator("one_frame")
def _(d):
    return _clip(d, "one.mp4", frames=1)


@generator("two_frames")
def _(d):
    return _clip(d, "two.mp4", frames=2)


@generator("claims_16384x16384_mov")
def _(d):
    # H.264 carries its own size in the bitstream; raw video relies on the container's.
    p = _clip(d, "huge.mov", codec="rawvideo", pix_fmt="yuv420p", frames=2)
    return patch_mp4(p, size=(16384, 16384))


@generator("claims_8192x8192_mkv")
def _(d):
    # FFV1 takes its size from the container too; 256 px makes both fields 2-byte integers.
    # 8192² is a size FFmpeg accepts (16384² it refuses itself) but over vidext's pixel limit.
    p = _clip(d, "huge.mkv", codec="ffv1", pix_fmt="yuv420p", width=256, height=256, frames=2)
    return patch_mkv_size(p, 8192, 8192)


@generator("claims_8192x8192_mov")
def _(d):
    p = _clip(d, "huge.mov", codec="rawvideo", pix_fmt="yuv420p", frames=2)
    return patch_mp4(p, size=(8192, 8192))


@generator("claims_16384x16384_h264_header")
def _(d):
    return patch_mp4(_clip(d, "huge_h264.mp4"), size=(16384, 16384))


@generator("claims_10_hours")
def _(d):
    # 6 frames, each lasting 6000 s by the sample table: a 10-hour movie in 3 kB.
    p = _clip(d, "long.mp4")
    data = p.read_bytes()
    trak = video_trak(mp4_boxes(data), data)
    mdhd = next(find_boxes([trak], b"mdhd"))
    (timescale,) = struct.unpack_from(">I", data, mdhd.body + 12)
    return patch_mp4(p, sample_delta=6000 * timescale, seconds=36000)


@generator("claims_1000_fps")
def _(d):
    p = _clip(d, "fast.mp4")
    data = p.read_bytes()
    trak = video_trak(mp4_boxes(data), data)
    stts = next(find_boxes([trak], b"stts"))
    (delta,) = struct.unpack_from(">I", data, stts.body + 12)
    return patch_mp4(p, timescale=delta * 1000)


@generator("variable_frame_rate")
def _(d):
    times = [Fraction(t, 1000) for t in (0, 40, 60, 140, 160, 240, 250, 330)]
    return _clip(d, "vfr.mkv", frames=len(times), times=times)


@generator("rotation_90")
def _(d):
    return _clip(d, "rotated.mp4", rotation=90)


@generator("odd_size")
def _(d):
    return _clip(d, "odd.mkv", width=63, height=47, codec="ffv1", pix_fmt="yuv420p")


@generator("tiny_2x2")
def _(d):
    return _clip(d, "tiny.mkv", width=2, height=2, codec="ffv1", pix_fmt="yuv420p")


@generator("ten_bit_422")
def _(d):
    return _clip(d, "deep.mov", codec="prores_ks", pix_fmt="yuv422p10le")


@generator("alpha_prores_4444")
def _(d):
    return _clip(d, "alpha.mov", codec="prores_ks", pix_fmt="yuva444p10le", options={"profile": "4"})


@generator("alpha_png_in_mov")
def _(d):
    return _clip(d, "alpha_png.mov", codec="png", pix_fmt="rgba")


@generator("grey_only")
def _(d):
    return _clip(d, "grey.mkv", codec="ffv1", pix_fmt="gray")


@generator("corrupt_packets")
def _(d):
    p = _clip(d, "corrupt.mp4", frames=12, options={"g": "4"})
    data = bytearray(p.read_bytes())
    lo, hi = mdat_range(p)
    rng = np.random.default_rng(3)
    mid = lo + (hi - lo) // 2
    data[mid:mid + 400] = rng.integers(0, 256, 400, dtype=np.uint8).tobytes()
    p.write_bytes(bytes(data))
    return p


@generator("audio_5_1_aac")
def _(d):
    return _clip(d, "surround.mp4", audio={"codec": "aac", "rate": 48000, "layout": "5.1"})


@generator("audio_7350_hz")
def _(d):
    return _clip(d, "low_rate.mp4", audio={"codec": "aac", "rate": 7350, "layout": "mono"})


@generator("audio_pcm_37800_hz_6ch")
def _(d):
    return _clip(d, "odd_rate.mkv", audio={"codec": "pcm_s16le", "rate": 37800, "layout": "5.1"})


@generator("name_with_spaces")
def _(d):
    return _clip(d, "my holiday clip (final).mp4")


@generator("name_non_ascii")
def _(d):
    return _clip(d, "клип 日本語 é.mp4")


@generator("name_with_dotdot")
def _(d):
    sub = d / "sub"
    sub.mkdir()
    _clip(d, "..dots...mp4")
    return sub / ".." / "..dots...mp4"


@generator("name_starting_with_dash")
def _(d):
    return _clip(d, "-o.mp4")


@generator("mkv_named_mp4")
def _(d):
    p = _clip(d, "really_mkv.mkv")
    return p.rename(d / "really_mkv.mp4")


@generator("vp9_webm")
def _(d):
    return _clip(d, "clip.webm", codec="libvpx-vp9", pix_fmt="yuv420p", options={"deadline": "realtime",
                                                                                  "cpu-used": "8"})


@generator("folder_not_file")
def _(d):
    p = d / "folder.mp4"
    p.mkdir()
    return p


@generator("missing_file")
def _(d):
    return d / "does_not_exist.mp4"


@generator("all_packets_corrupt")
def _(d):
    p = _clip(d, "garbage.mp4")
    data = bytearray(p.read_bytes())
    lo, hi = mdat_range(p)
    data[lo:hi] = np.random.default_rng(5).integers(0, 256, hi - lo, dtype=np.uint8).tobytes()
    p.write_bytes(bytes(data))
    return p


@generator("size_change_mid_stream")
def _(d):
    # Two MPEG-TS segments of different sizes spliced byte to byte (as broadcast streams do).
    a = _clip(d, "a.ts", frames=4, times=[Fraction(k, 25) for k in range(4)])
    b = _clip(d, "b.ts", frames=4, width=96, height=64, times=[Fraction(k, 25) for k in range(4, 8)])
    p = d / "spliced.ts"
    p.write_bytes(a.read_bytes() + b.read_bytes())
    a.unlink()
    b.unlink()
    return p


@generator("timestamp_gap_1h")
def _(d):
    times = [Fraction(t) for t in (0, Fraction(1, 25), Fraction(2, 25), 3600, 3600 + Fraction(1, 25))]
    return _clip(d, "gap.mkv", frames=len(times), times=times)


@generator("named_pipe")
def _(d):
    p = d / "pipe.mp4"
    os.mkfifo(p)
    return p


@generator("device_file")
def _(d):
    return Path("/dev/zero")


@generator("wide_strip_640x48")
def _(d):
    # A banner-shaped clip: its optical flow works on 24-row pictures, where OpenCV's DIS crashed.
    return _clip(d, "banner.mp4", width=640, height=48, frames=3)
