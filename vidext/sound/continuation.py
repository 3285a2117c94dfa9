"""Sound past the end of a clip: loop continuation (classical), silence, MusicGen.

A continuation is built from the sound next to the edge (``context``, time
running away from the clip: for a backward extension the caller passes the
clip's start reversed).  It gives ``junction``: the last ``len(junction)``
samples of the context replaced by a crossfade into the new sound, and
``render(i0, i1)``: samples ``[i0, i1)`` of the new sound after the edge.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..registry import Registry

LOOP_CONTEXT_S = 3.0            # stretch of sound compared (chroma + onsets) to pick the loop point
LOOP_MIN_S = 1.0                # shortest loop: avoids stutter-like repeats
LOOP_HOP_S = 0.0116             # feature hop (rounded to a power of two in samples)
LOOP_CHROMA_WEIGHT = 1.0        # loop score = w_c · chroma similarity + w_o · onset correlation
LOOP_ONSET_WEIGHT = 1.0
LOOP_LENGTH_BONUS = 0.05        # slight preference for longer loops (less audible repetition)
LOOP_ALIGN_WINDOW_S = 0.030     # waveform window matched to place the jump to the sample...
LOOP_ALIGN_SEARCH_S = 0.012     # ...within this distance of the feature-chosen point
LOOP_CROSSFADE_S = 0.025        # crossfade at a loop seam / continuation junction
MUSICGEN_MODEL = "musicgen-small"   # vidext.models spec used by --method musicgen


def fade_in(n: int) -> np.ndarray:
    if n <= 0:
        return np.zeros(0, np.float32)
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)


class Continuation(ABC):
    name = ""

    def __init__(self, context: np.ndarray, rate: int):
        self.context = np.atleast_2d(context).astype(np.float32)
        self.rate = rate
        self.crossfade = min(int(round(LOOP_CROSSFADE_S * rate)), self.context.shape[1] // 4)
        self.junction = self.context[:, self.context.shape[1] - self.crossfade:]

    @abstractmethod
    def render(self, i0: int, i1: int) -> np.ndarray:
        """Samples ``[i0, i1)`` after the edge, (channels, i1 - i0)."""

    def describe(self) -> dict:
        return {"method": self.name}


class Silence(Continuation):
    """Silence, the clip's own sound faded out over the last few milliseconds."""

    name = "silence"

    def __init__(self, context: np.ndarray, rate: int, **_):
        super().__init__(context, rate)
        self.junction = self.junction * fade_in(self.crossfade)[::-1]

    def render(self, i0: int, i1: int) -> np.ndarray:
        return np.zeros((self.context.shape[0], i1 - i0), np.float32)


def features(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-hop chroma (12, T, unit length) and onset strength (T) of a mono signal; and the hop."""
    from scipy.signal import stft

    hop = 1 << int(round(np.log2(rate * LOOP_HOP_S)))
    f, _, z = stft(x, fs=rate, nperseg=4 * hop, noverlap=3 * hop, boundary=None, padded=False)
    mag = np.abs(z)
    band = (f >= 55) & (f <= 5000)
    pc = np.mod(np.round(12 * np.log2(f[band] / 440.0)).astype(int), 12)
    chroma = np.zeros((12, mag.shape[1]))
    np.add.at(chroma, pc, mag[band])
    chroma /= np.linalg.norm(chroma, axis=0, keepdims=True) + 1e-9
    logmag = np.log1p(100 * mag)
    onset = np.concatenate(([0.0], np.maximum(np.diff(logmag, axis=1), 0).sum(axis=0)))
    return chroma, onset, hop


class Loop(Continuation):
    """Continue by jumping back to the point whose past sounds most like the edge.

    Candidates are scored by how well the chroma (harmony) and onset strength
    (rhythm) of the ``LOOP_CONTEXT_S`` before them match those before the
    edge, so the jump keeps key and beat phase; the jump is then aligned to
    the sample by waveform correlation and joined with a short crossfade.
    The loop body repeats as long as needed.
    """

    name = "loop"

    def __init__(self, context: np.ndarray, rate: int, **_):
        super().__init__(context, rate)
        x = self.context
        n = x.shape[1]
        mono = x.mean(axis=0)
        self.score = None
        min_len = int(LOOP_MIN_S * rate)
        if n < 2 * min_len:  # too short to search: loop all of it
            s = max(self.crossfade, n // 2) if n >= 4 * self.crossfade else n
        else:
            s = self._search(mono, rate, min_len)
        s = self._align(mono, s)
        self.start = s
        xf = self.crossfade
        fin = fade_in(xf)
        body = x[:, s:].copy()
        if xf:
            seam = x[:, n - xf:] * fin[::-1] + x[:, s - xf:s] * fin
            body[:, -xf:] = seam
            self.junction = seam
        self.body = body

    def _search(self, mono: np.ndarray, rate: int, min_len: int) -> int:
        chroma, onset, hop = features(mono, rate)
        t = chroma.shape[1]
        ctx = max(4, min(int(LOOP_CONTEXT_S * rate / hop), t // 3))
        edge = t  # the edge's features end at frame t
        best, best_score = None, -np.inf
        target_c = chroma[:, edge - ctx:edge]
        target_o = onset[edge - ctx:edge] - onset[edge - ctx:edge].mean()
        norm_o = np.linalg.norm(target_o) + 1e-9
        last = edge - int(np.ceil(min_len / hop))
        for e in range(ctx, last + 1):
            c = float((chroma[:, e - ctx:e] * target_c).sum(axis=0).mean())
            o = onset[e - ctx:e] - onset[e - ctx:e].mean()
            r = float(np.dot(o, target_o) / (np.linalg.norm(o) * norm_o + 1e-9))
            score = (LOOP_CHROMA_WEIGHT * c + LOOP_ONSET_WEIGHT * r
                     + LOOP_LENGTH_BONUS * (edge - e) / t)
            if score > best_score:
                best, best_score = e, score
        self.score = best_score
        # frame e's analysis window ends at sample (e - 1) * hop + 4 * hop; the edge's at len(mono)
        return len(mono) - (edge - best) * hop

    def _align(self, mono: np.ndarray, s: int) -> int:
        """Move ``s`` by up to a few ms so the waveform before it matches the one before the edge."""
        n = len(mono)
        w = int(LOOP_ALIGN_WINDOW_S * self.rate)
        d = int(LOOP_ALIGN_SEARCH_S * self.rate)
        lo, hi = max(w, self.crossfade, s - d), min(n - self.crossfade - 1, s + d)
        if hi <= lo or n < w:
            return min(max(s, self.crossfade), n)
        from scipy.signal import correlate

        t = mono[n - w:]
        region = mono[lo - w:hi]
        cc = correlate(region, t, mode="valid")
        c2 = np.concatenate(([0.0], np.cumsum(region.astype(np.float64) ** 2)))
        energy = c2[w:] - c2[:-w]
        return lo + int(np.argmax(cc / np.sqrt(np.maximum(energy, 1e-12))))

    def render(self, i0: int, i1: int) -> np.ndarray:
        period = self.body.shape[1]
        idx = np.arange(i0, i1) % period
        return self.body[:, idx]

    def describe(self) -> dict:
        return {"method": self.name, "loop_s": self.body.shape[1] / self.rate,
                "score": None if self.score is None else round(self.score, 4)}


CONTINUATIONS: Registry[Continuation] = Registry("audio continuation method")
CONTINUATIONS.add("loop", "vidext.sound.continuation:Loop", "self-similar loop point, crossfaded (classical)")
CONTINUATIONS.add("silence", "vidext.sound.continuation:Silence", "silence after a short fade-out")
CONTINUATIONS.add("musicgen", "vidext.sound.musicgen:MusicGen", "MusicGen continuation (transformers; CC-BY-NC)",
                  generative=True, model=MUSICGEN_MODEL)
