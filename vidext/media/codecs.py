"""Output codecs: which encoder, which containers, which pixel formats."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import av

from ..errors import ParameterError


@dataclass(frozen=True)
class CodecSpec:
    name: str
    encoder: str
    containers: tuple[str, ...]          # file extensions that can carry it
    crf: int | None = None               # default constant-rate factor (None: not CRF based)
    options: dict = field(default_factory=dict)
    lossless: bool = False
    summary: str = ""


CODECS: dict[str, CodecSpec] = {
    c.name: c for c in (
        CodecSpec("h264", "libx264", (".mp4", ".mov", ".mkv"), crf=18,
                  summary="H.264, plays everywhere (default)"),
        CodecSpec("h265", "libx265", (".mp4", ".mov", ".mkv"), crf=20,
                  options={"x265-params": "log-level=error"}, summary="H.265/HEVC, smaller files"),
        CodecSpec("prores", "prores_ks", (".mov", ".mkv"), options={"profile": "3"},
                  summary="ProRes 422 HQ (4444 for 4:4:4), for editing"),
        CodecSpec("dnxhd", "dnxhd", (".mov", ".mxf", ".mkv"), options={"profile": "dnxhr_hq"},
                  summary="DNxHR, for editing"),
        CodecSpec("ffv1", "ffv1", (".mkv", ".avi"), options={"level": "3", "slicecrc": "1"},
                  lossless=True, summary="FFV1, lossless"),
    )
}


def codec_for(name: str, output_path: str) -> CodecSpec:
    """The spec for ``name``, checked against the output file's container."""
    if name not in CODECS:
        raise ParameterError(f"unknown codec {name!r}; choose one of: {', '.join(CODECS)}")
    spec = CODECS[name]
    ext = os.path.splitext(output_path)[1].lower()
    if ext not in spec.containers:
        raise ParameterError(
            f"codec {name} cannot be written to a {ext or 'extension-less'} file; "
            f"use one of: {', '.join(spec.containers)}")
    return spec


def encoder_pix_fmt(spec: CodecSpec, working: str) -> str:
    """The encoder's pixel format closest to the working one (depth and chroma kept when possible)."""
    supported = [f.name for f in av.Codec(spec.encoder, "w").video_formats or ()]
    if spec.encoder == "dnxhd":
        # DNxHR HQ is 8-bit 4:2:2; 10-bit sources go to HQX, 4:4:4 to the 444 profile.
        working_fmt = av.VideoFormat(working)
        deep = max(c.bits for c in working_fmt.components) > 8
        if "444" in working or working.startswith("gbrp"):
            return "yuv444p10le"
        return "yuv422p10le" if deep else "yuv422p"
    if spec.encoder == "ffv1" and working == "gbrp":
        return "bgr0"  # FFV1 refuses 8-bit planar RGB but stores packed RGB32 losslessly
    if working in supported:
        return working
    fmt = av.VideoFormat(working)
    deep = max(c.bits for c in fmt.components) > 8
    plain = working.replace("yuvj", "yuv")
    candidates = [plain]
    if deep:
        base = plain.split("p1")[0] + "p" if "p1" in plain else plain
        candidates += [base + "10le", "yuv422p10le", "yuv420p10le", "yuv444p10le"]
    if plain.startswith("gbrp"):
        candidates += ["gbrp", "yuv444p10le" if deep else "yuv444p", "yuv444p"]
    if plain.startswith("gray"):
        candidates += ["gray", "gray10le" if deep else "gray"]
    candidates += ["yuv420p", "yuv422p10le"]
    for c in candidates:
        if c in supported:
            return c
    return supported[0]


def dnxhd_profile(pix_fmt: str) -> str:
    if "444" in pix_fmt:
        return "dnxhr_444"
    return "dnxhr_hqx" if "10" in pix_fmt else "dnxhr_hq"
