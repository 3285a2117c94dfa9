"""Sound blocks ↔ PyAV frames: packed float, the one form every sound path crosses PyAV in.

A leaf of :mod:`vidext.media`: the reader (:mod:`.pcm`), the muxer (:mod:`.mux`) and the
filter graphs (:mod:`.filters`) all convert here, so none of them imports another for it.
"""
from __future__ import annotations

import numpy as np


def to_blocks(frames) -> list[np.ndarray]:
    """Packed float (``flt``) frames as (channels, samples) float32 blocks.

    Packed, because PyAV 18 counts one plane too many on planar frames of 8 channels
    (``to_ndarray`` then reads a ninth, invalid pointer and crashes the process on 7.1 sound)."""
    return [f.to_ndarray().reshape(-1, f.layout.nb_channels).T.astype(np.float32) for f in frames]


def from_block(block: np.ndarray, layout: str):
    """A (channels, samples) float block as a packed ``flt`` frame (see :func:`to_blocks`)."""
    import av

    packed = np.ascontiguousarray(np.asarray(block, dtype=np.float32).T).reshape(1, -1)
    return av.AudioFrame.from_ndarray(packed, format="flt", layout=layout)


def output_layout(layout_name: str | None, channels: int) -> str:
    """A channel layout every encoder here accepts for this many channels."""
    if layout_name and channels <= 8 and "channels" not in layout_name:
        return layout_name
    return {1: "mono", 2: "stereo"}.get(channels, "stereo")
