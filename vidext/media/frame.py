"""Frames as native planes: no colour conversion unless a backend needs RGB.

Decoded pictures keep their own planar layout (Y, U, V at their own sizes, or
G, B, R), 8-bit as ``uint8`` and deeper as ``uint16``.  Classical
interpolation warps every plane directly, so no RGB↔YUV round trip costs
quality and 10-bit input stays 10-bit.  Backends that need RGB (learned
models, perceptual metrics) convert through :func:`to_rgb` / :func:`from_rgb`,
which honour the clip's colour matrix and range.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import av
import numpy as np

from ..errors import InputError

#: the grey (8-bit) a picture with an alpha plane is analysed over (see :meth:`Frame.luma8`)
ALPHA_BACKDROP = 128

# Planar formats vidext works in; anything else decodes into the nearest one.
_WORKING = {
    "gray", "gray10le", "gray12le",
    "yuv420p", "yuv422p", "yuv444p", "yuvj420p", "yuvj422p", "yuvj444p",
    "yuv420p10le", "yuv422p10le", "yuv444p10le",
    "yuv420p12le", "yuv422p12le", "yuv444p12le",
    "gbrp", "gbrp10le", "gbrp12le",
    # with an alpha plane (last, at full size): it moves with the colour planes
    "yuva420p", "yuva422p", "yuva444p", "yuva420p10le", "yuva422p10le", "yuva444p10le",
    "yuva422p12le", "yuva444p12le", "yuva420p16le",
    "gbrap", "gbrap10le", "gbrap12le",
}


@dataclass(frozen=True)
class PixelLayout:
    """A planar working format: plane count, bit depth, chroma subsampling."""

    pix_fmt: str

    @property
    def _fmt(self) -> av.VideoFormat:
        return av.VideoFormat(self.pix_fmt)

    @property
    def bits(self) -> int:
        return max(c.bits for c in self._fmt.components)

    @property
    def dtype(self) -> type:
        return np.uint8 if self.bits <= 8 else np.uint16

    @property
    def peak(self) -> int:
        return (1 << self.bits) - 1

    @property
    def is_rgb(self) -> bool:
        return self.pix_fmt.startswith(("gbrp", "gbrap"))

    @property
    def has_alpha(self) -> bool:
        """An alpha plane follows the colour planes (at full size)."""
        return self.pix_fmt.startswith(("yuva", "gbrap"))

    @property
    def opaque(self) -> "PixelLayout":
        """The same layout without its alpha plane (itself when it has none)."""
        if not self.has_alpha:
            return self
        return PixelLayout(self.pix_fmt.replace("yuva", "yuv").replace("gbrap", "gbrp").replace("p16le", "p12le"))

    @property
    def is_gray(self) -> bool:
        return self.pix_fmt.startswith("gray")

    @property
    def n_planes(self) -> int:
        return (1 if self.is_gray else 3) + self.has_alpha

    def plane_shapes(self, width: int, height: int) -> list[tuple[int, int]]:
        """(height, width) of each plane for a picture of this size."""
        fmt = av.VideoFormat(self.pix_fmt, width, height)
        shapes = [(height, width)]
        if not self.is_gray:
            if self.is_rgb:
                shapes += [(height, width)] * 2
            else:
                shapes += [(fmt.chroma_height(height), fmt.chroma_width(width))] * 2
        if self.has_alpha:
            shapes.append((height, width))
        return shapes


@lru_cache(maxsize=None)
def working_layout(pix_fmt: str) -> PixelLayout:
    """The planar layout a decoded format is worked on in (keeps bit depth)."""
    if pix_fmt in _WORKING:
        return PixelLayout(pix_fmt)
    try:
        fmt = av.VideoFormat(pix_fmt)
    except (ValueError, TypeError) as exc:
        raise InputError(f"unsupported pixel format {pix_fmt!r}") from exc
    colour = [c for c in fmt.components if not c.is_alpha]
    alpha = any(c.is_alpha for c in fmt.components)
    bits = max((c.bits for c in colour), default=8)
    depth = "" if bits <= 8 else ("10le" if bits <= 10 else "12le")
    if fmt.is_rgb or pix_fmt.startswith(("rgb", "bgr", "argb", "abgr", "gbr", "pal")):
        return PixelLayout(("gbrap" if alpha else "gbrp") + depth)
    if len(colour) == 1:
        # grey with alpha (``ya8``): worked on as 4:4:4 with neutral chroma, its alpha kept
        return PixelLayout(("yuva444p" + depth) if alpha else ("gray" + depth))
    probe = av.VideoFormat(pix_fmt, 64, 64)
    sub = {(32, 32): "420", (32, 64): "422"}.get(
        (probe.chroma_width(64), probe.chroma_height(64)), "444")
    if alpha:
        name = f"yuva{sub}p" + depth
        return PixelLayout(name if name in _WORKING else f"yuva{sub}p16le" if sub == "420" else f"yuva444p" + depth)
    return PixelLayout(f"yuv{sub}p" + depth)


@dataclass(frozen=True)
class Colour:
    """Colour tags carried from input to output (names as FFmpeg spells them)."""

    matrix: int = 2       # AVColorSpace, 2 = unspecified
    range: int = 0        # AVColorRange, 0 = unspecified, 1 = limited (tv), 2 = full (pc)
    primaries: int = 2    # AVColorPrimaries
    trc: int = 2          # AVColorTransferCharacteristic

    def as_dict(self) -> dict:
        return {"matrix": int(self.matrix), "range": int(self.range),
                "primaries": int(self.primaries), "trc": int(self.trc)}


@dataclass
class Frame:
    """One picture: its planes and its presentation time in seconds."""

    planes: tuple[np.ndarray, ...]
    time: Fraction
    layout: PixelLayout
    colour: Colour = field(default_factory=Colour)

    @property
    def width(self) -> int:
        return self.planes[0].shape[1]

    @property
    def height(self) -> int:
        return self.planes[0].shape[0]

    def with_planes(self, planes, time: Fraction | None = None) -> "Frame":
        return Frame(tuple(planes), self.time if time is None else time, self.layout, self.colour)

    def luma(self) -> np.ndarray:
        """A single-channel brightness image at full size (native dtype).

        Y'CbCr: the decoded Y plane itself; RGB: 0.299 R + 0.587 G + 0.114 B, rounded.
        """
        if not self.layout.is_rgb:
            return self.planes[0]
        g, b, r = (p.astype(np.float32) for p in self.planes[:3])
        return np.rint(0.299 * r + 0.587 * g + 0.114 * b).astype(self.layout.dtype)

    def luma8(self) -> np.ndarray:
        """:meth:`luma` on the 8-bit scale as uint8 (peak → 255, rounded): the one 8-bit luma
        that every analysis (scene cuts, flow, loop points, motion, temporal figures, sync) uses.

        With an alpha plane, the picture as shown over a mid-grey backdrop (:data:`ALPHA_BACKDROP`):
        a matte that moves over still colour is motion, a frame whose alpha changed is no repeat,
        and what is invisible is never followed."""
        y = to_u8(self.luma(), self.layout.bits)
        if not self.layout.has_alpha:
            return y
        a = to_u8(self.planes[-1], self.layout.bits).astype(np.uint16)
        return ((y.astype(np.uint16) * a + ALPHA_BACKDROP * (255 - a) + 127) // 255).astype(np.uint8)


def to_u8(plane: np.ndarray, bits: int) -> np.ndarray:
    """A ``bits``-deep plane on the 8-bit scale as uint8 (peak → 255, rounded to nearest)."""
    if plane.dtype == np.uint8:
        return plane
    peak = (1 << bits) - 1
    return np.clip(np.rint(plane.astype(np.float32) * (255.0 / peak)), 0, 255).astype(np.uint8)


def planes_from_av(frame: av.VideoFrame, layout: PixelLayout) -> tuple[np.ndarray, ...]:
    """Copy a decoded frame's planes out as numpy arrays in ``layout``."""
    if frame.format.name != layout.pix_fmt:
        frame = frame.reformat(format=layout.pix_fmt)
    out = []
    for plane, (h, w) in zip(frame.planes, layout.plane_shapes(frame.width, frame.height)):
        itemsize = np.dtype(layout.dtype).itemsize
        buf = np.frombuffer(plane, layout.dtype).reshape(-1, plane.line_size // itemsize)
        out.append(np.ascontiguousarray(buf[:h, :w]))
    return tuple(out)


def av_from_planes(planes, layout: PixelLayout, colour: Colour | None = None) -> av.VideoFrame:
    """Build an ``av.VideoFrame`` in ``layout`` from numpy planes."""
    h, w = planes[0].shape
    frame = av.VideoFrame(w, h, layout.pix_fmt)
    itemsize = np.dtype(layout.dtype).itemsize
    for plane, src in zip(frame.planes, planes):
        dst = np.frombuffer(plane, layout.dtype).reshape(-1, plane.line_size // itemsize)
        dst[: src.shape[0], : src.shape[1]] = src
    if colour is not None:
        frame.colorspace = colour.matrix
        frame.color_range = colour.range
        frame.color_primaries = colour.primaries
        frame.color_trc = colour.trc
    return frame


def effective_matrix(colour: Colour, height: int) -> int:
    """The YUV matrix pictures are in: their tag, or for an unspecified one what players assume,
    BT.709 (1) from 720 rows, BT.601 (5) below; BT.601's two tags (5, 6) are one matrix."""
    if colour.matrix not in (2, 0):
        return 5 if colour.matrix == 6 else colour.matrix
    return 1 if height >= 720 else 5


def to_rgb(frame: Frame) -> np.ndarray:
    """The frame as float32 RGB in [0, 1], shape (H, W, 3), matrix-aware."""
    if frame.layout.is_rgb:
        g, b, r = frame.planes[:3]
        return np.stack([r, g, b], axis=-1).astype(np.float32) / frame.layout.peak
    avf = av_from_planes(frame.planes, frame.layout)
    deep = frame.layout.bits > 8
    rng = frame.colour.range or (2 if frame.layout.pix_fmt.startswith("yuvj") else 1)
    rgb = avf.reformat(format="rgb48le" if deep else "rgb24",
                       src_colorspace=effective_matrix(frame.colour, frame.height),
                       src_color_range=rng, dst_color_range=2).to_ndarray()
    return rgb.astype(np.float32) / (65535.0 if deep else 255.0)


def to_rgb8(frame: Frame, width: int | None = None, height: int | None = None) -> np.ndarray:
    """The frame as 8-bit RGB, shape (H, W, 3) uint8, matrix-aware like :func:`to_rgb`; scaled to
    ``width`` × ``height`` when given (a thumbnail: scaled by FFmpeg, never at full size in float)."""
    avf = av_from_planes(frame.planes, frame.layout)
    size = {"width": width or frame.width, "height": height or frame.height}
    if frame.layout.is_rgb:
        return avf.reformat(format="rgb24", **size).to_ndarray()
    rng = frame.colour.range or (2 if frame.layout.pix_fmt.startswith("yuvj") else 1)
    return avf.reformat(format="rgb24", src_colorspace=effective_matrix(frame.colour, frame.height),
                        src_color_range=rng, dst_color_range=2, **size).to_ndarray()


def from_rgb(rgb: np.ndarray, like: Frame) -> tuple[np.ndarray, ...]:
    """Planes in ``like``'s layout and colour from float RGB in [0, 1]."""
    layout = like.layout
    alpha = (like.planes[-1].copy(),) if layout.has_alpha else ()   # a new picture keeps its model's alpha
    if layout.is_rgb:
        q = np.clip(np.rint(rgb * layout.peak), 0, layout.peak).astype(layout.dtype)
        return (q[..., 1].copy(), q[..., 2].copy(), q[..., 0].copy(), *alpha)
    deep = layout.bits > 8
    q = np.clip(np.rint(rgb * (65535.0 if deep else 255.0)), 0, 65535 if deep else 255)
    avf = av.VideoFrame.from_ndarray(q.astype(np.uint16 if deep else np.uint8),
                                     format="rgb48le" if deep else "rgb24")
    rng = like.colour.range or (2 if layout.pix_fmt.startswith("yuvj") else 1)
    out = avf.reformat(format=layout.opaque.pix_fmt, src_color_range=2, dst_color_range=rng,
                       dst_colorspace=effective_matrix(like.colour, like.height))
    return planes_from_av(out, layout.opaque) + alpha
