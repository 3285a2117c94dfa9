"""HDR pictures (PQ, HLG) shown on an SDR screen: the playable rendition's tone mapping.

A file with a PQ or HLG transfer plays washed out or too dark wherever the
player or the screen is not HDR (most browsers, most phones, every 8-bit
H.264 decoder), and an 8-bit file carrying HDR tags is wrong everywhere.  The
playable rendition (:mod:`vidext.media.playable`) is therefore SDR BT.709:

1. the decoded R′G′B′ (BT.2020 matrix undone by swscale, 16 bits) →
   display light in nits: PQ's EOTF (SMPTE ST 2084), or HLG's EOTF at a
   :data:`HLG_PEAK_NITS` display (BT.2100; its OOTF applied per channel on a
   grey axis: the saturation of bright colours shifts a little);
2. the highlights above what SDR shows compressed by the EETF of ITU-R
   BT.2390 (a Hermite knee in the PQ domain, from the source's peak
   :data:`SOURCE_PEAK_NITS` to :data:`TARGET_PEAK_NITS`; below the knee
   nothing changes), per channel;
3. BT.2020 → BT.709 primaries in linear light, out-of-gamut colours clipped;
4. the inverse of BT.1886's EOTF (what an SDR display does with the code
   values), to 8 bits.

Steps 1–2 and 4 are per-channel curves built once into lookup tables; step 3
is one 3×3 matrix (OpenCV): a 1080p frame takes tens of milliseconds.  The
transfer functions and the primaries' matrix come from ``colour-science``
(the reference implementations of the ITU and SMPTE standards, numpy only);
FFmpeg's ``zscale``/``tonemap`` filters, the usual way, are not in the FFmpeg
that PyAV ships.  The EETF is written here from BT.2390: no library here has it.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import cv2
import numpy as np

#: transfer characteristics (ITU-T H.273) of HDR pictures
PQ, HLG = 16, 18
HDR_TRANSFERS = {PQ: "PQ", HLG: "HLG"}
BT2020_PRIMARIES = 9
SOURCE_PEAK_NITS = 1000.0   # a PQ master's peak when the file says nothing else (HDR10's usual mastering display)
HLG_PEAK_NITS = 1000.0      # the display HLG is rendered for (BT.2100's reference)
TARGET_PEAK_NITS = 100.0    # an SDR display's peak white (BT.1886's reference)
_CODES = 65536              # 16-bit code values: one table entry each


def is_hdr(colour) -> bool:
    """Whether a picture with these tags (:class:`vidext.media.frame.Colour`) is HDR (PQ or HLG)."""
    return int(colour.trc) in HDR_TRANSFERS


def _colour():
    with warnings.catch_warnings():         # colour-science warns about optional plotting packages
        warnings.simplefilter("ignore")
        import colour
    return colour


def eetf(e: np.ndarray, source_peak: float, target_peak: float, target_black: float = 0.0) -> np.ndarray:
    """BT.2390's EETF: PQ-encoded values ``e`` (0–1) of a picture mastered to ``source_peak`` nits,
    for a display of ``target_peak`` (and ``target_black``) nits; PQ-encoded values out."""
    inverse = _colour().models.eotf_inverse_ST2084
    lw, lb = float(inverse(source_peak)), 0.0
    max_lum = (float(inverse(target_peak)) - lb) / (lw - lb)
    min_lum = (float(inverse(target_black)) - lb) / (lw - lb)
    ks = 1.5 * max_lum - 0.5
    e1 = np.clip((np.asarray(e, np.float64) - lb) / (lw - lb), 0.0, 1.0)
    t = (e1 - ks) / (1.0 - ks)
    knee = ((2 * t**3 - 3 * t**2 + 1) * ks + (t**3 - 2 * t**2 + t) * (1 - ks)
            + (-2 * t**3 + 3 * t**2) * max_lum)
    e2 = np.where(e1 < ks, e1, knee)
    e3 = e2 + min_lum * (1 - e2) ** 4
    return e3 * (lw - lb) + lb


@lru_cache(maxsize=4)
def _tables(trc: int, primaries: int, source_peak: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    colour = _colour()
    code = np.arange(_CODES, dtype=np.float64) / (_CODES - 1)
    if trc == PQ:
        nits = colour.models.eotf_ST2084(code)
        peak = source_peak
    else:                                   # HLG: its display light on a grey axis (R = G = B)
        grey = np.repeat(code[:, None], 3, axis=1)
        nits = colour.models.eotf_BT2100_HLG(grey, L_W=HLG_PEAK_NITS)[:, 0]
        peak = HLG_PEAK_NITS
    inverse = colour.models.eotf_inverse_ST2084
    mapped = colour.models.eotf_ST2084(eetf(inverse(nits), peak, TARGET_PEAK_NITS))
    to_linear = np.clip(mapped / TARGET_PEAK_NITS, 0.0, 1.0).astype(np.float32)
    matrix = None
    if primaries == BT2020_PRIMARIES:
        matrix = colour.matrix_RGB_to_RGB(colour.RGB_COLOURSPACES["ITU-R BT.2020"],
                                          colour.RGB_COLOURSPACES["ITU-R BT.709"]).astype(np.float32)
    linear = np.arange(_CODES, dtype=np.float64) / (_CODES - 1)
    to_code = np.round(255 * np.clip(colour.models.eotf_inverse_BT1886(linear), 0, 1)).astype(np.uint8)
    return to_linear, matrix, to_code


class ToneMapper:
    """HDR R′G′B′ (``uint16``, h×w×3, full-range codes) → SDR BT.709 R′G′B′ (``uint8``).

    ``trc``/``primaries``: the source's tags (H.273 numbers); ``source_peak``: its mastering peak in
    nits (PQ only; None: :data:`SOURCE_PEAK_NITS`)."""

    def __init__(self, trc: int, primaries: int, source_peak: float | None = None):
        if int(trc) not in HDR_TRANSFERS:
            raise ValueError(f"not an HDR transfer: {trc}")
        self.trc, self.primaries = int(trc), int(primaries)
        self.source_peak = float(source_peak or SOURCE_PEAK_NITS)
        self._to_linear, self._matrix, self._to_code = _tables(self.trc, self.primaries, self.source_peak)

    def describe(self) -> str:
        """What the rendition did to the picture, in words (recorded with it)."""
        peak = self.source_peak if self.trc == PQ else HLG_PEAK_NITS
        gamut = "BT.2020 → BT.709 primaries, " if self._matrix is not None else ""
        return (f"HDR ({HDR_TRANSFERS[self.trc]}, {peak:g} nits) tone-mapped to SDR BT.709 "
                f"({TARGET_PEAK_NITS:g} nits): BT.2390 EETF, {gamut}BT.1886")

    def __call__(self, rgb16: np.ndarray) -> np.ndarray:
        linear = self._to_linear[rgb16]
        if self._matrix is not None:
            linear = cv2.transform(linear, self._matrix)
            np.clip(linear, 0.0, 1.0, out=linear)
        return self._to_code[(linear * (_CODES - 1) + 0.5).astype(np.uint16)]
