"""Decoded sound as float blocks: the streaming reader lives in :mod:`vidext.media.pcm`; small helpers here.

(:class:`PcmReader`, :func:`output_layout` and :func:`write_audio` are
:mod:`vidext.media`'s (pcm, packed, synth), re-exported: only :mod:`vidext.media` touches PyAV.)
"""
from __future__ import annotations

import numpy as np

from ..media.packed import output_layout
from ..media.pcm import PcmReader
from ..media.synth import write_audio

__all__ = ["PcmReader", "output_layout", "read_audio", "write_audio"]


def read_audio(path: str, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """The whole (short) sound of ``path`` → ((channels, samples) float32, rate)."""
    with PcmReader(path) as r:
        parts, n = [], 0
        for block in r.blocks():
            parts.append(block)
            n += block.shape[1]
            if max_seconds is not None and n >= max_seconds * r.rate:
                break
        x = np.concatenate(parts, axis=1) if parts else np.zeros((r.channels, 0), np.float32)
        if max_seconds is not None:
            x = x[:, :int(round(max_seconds * r.rate))]
        return x, r.rate
