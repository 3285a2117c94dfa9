"""Time-stretch without pitch change.

A :class:`Stretcher` plays a stretch of input ``factor`` times slower (2 =
half speed, 0.5 = double speed) at the same pitch, streaming: it pulls input
through ``get(a, b)`` (sample indices, zeros outside the sound) and yields
output blocks that add up to exactly the number of samples asked for.

- ``wsola`` (default): waveform-similarity overlap-add.  Each output frame is
  the input frame near its nominal position that best continues the previous
  one (normalised cross-correlation over ±``tolerance``), so the waveform is
  never re-synthesised: pitch is exact, there is no phasiness, and content
  drifts at most ``tolerance`` from where the time map puts it.
- ``pvoc``: phase vocoder with identity phase locking; measured better than
  WSOLA on sustained tonal music, worse on attacks and speech.
- ``atempo``: FFmpeg's atempo filter through PyAV's filter graph (a WSOLA
  variant), kept as a reference; ``bench/audio_stretch.py`` compares all three.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, Iterator

import numpy as np

from .. import config
from ..errors import ParameterError
from ..registry import Registry

WSOLA_FRAME_S = 0.040           # analysis/synthesis frame (hop = half); ~2 pitch periods of a low voice
WSOLA_TOLERANCE_S = 0.010       # how far a frame may move to continue the waveform (max local drift)
PVOC_FRAME_S = 0.046           # phase-vocoder frame (power of two in samples; hop = a quarter)
WSOLA_TRANSIENT_S = 0.020       # an attack is copied verbatim this long after its onset
WSOLA_TRANSIENT_GUARD_S = 0.004 # frames after an attack start this far past its onset (no echo)
ONSET_FRAME_S = 0.0015          # onset detector: short-frame energy of the high-passed signal...
ONSET_CONTEXT_S = 0.020         # ...against the mean of the frames in the preceding 20 ms
ONSET_RATIO = 12.0              # ~11 dB jump = an attack
ONSET_FLOOR = 1e-7              # energy floor so attacks out of near-silence count, noise in silence does not
ONSET_MIN_GAP_S = 0.050         # at most one onset per 50 ms


Get = Callable[[int, int], np.ndarray]


def check_factor(factor: float, lo: float = config.STRETCH_MIN, hi: float = config.STRETCH_MAX) -> float:
    factor = float(factor)
    if not lo <= factor <= hi:
        raise ParameterError(f"time-stretch factor must be between {lo:g} and {hi:g}, got {factor:g}")
    return factor


class Stretcher(ABC):
    """Pitch-kept time-stretch of a stream of samples."""

    name = ""

    def __init__(self, rate: int, channels: int):
        self.rate, self.channels = int(rate), int(channels)

    @abstractmethod
    def stream(self, get: Get, start: float, factor: float, out_len: int) -> Iterator[np.ndarray]:
        """Yield (channels, n) blocks, ``out_len`` samples in all: input from sample ``start``,
        ``factor``× slower."""

    def describe(self) -> dict:
        return {"stretcher": self.name}


class Onsets:
    """Attacks (clicks, drum hits, plosives) found ahead of the stretch, streaming.

    An onset is a short frame whose high-passed energy jumps ``ONSET_RATIO``
    above the mean of the frames just before it; its position is the first
    sample of that frame reaching half the frame's peak.
    """

    def __init__(self, get: Get, start: int, rate: int):
        self.get, self.rate = get, rate
        self.frame = max(8, int(round(ONSET_FRAME_S * rate)))
        self.context = max(1, int(round(ONSET_CONTEXT_S / ONSET_FRAME_S)))
        self.gap = int(round(ONSET_MIN_GAP_S * rate))
        self.scanned = start - self.frame * self.context
        self.found: list[int] = []
        self._last = -10**18

    def upto(self, end: int) -> None:
        """Find every onset before sample ``end``."""
        f, c = self.frame, self.context
        while self.scanned < end:
            n = max(64, (end - self.scanned) // f + 1)
            a = self.scanned - c * f
            x = self.get(a - 1, self.scanned + n * f).mean(axis=0)
            d = np.diff(x)                                   # high-pass: attacks stand out
            e = (d[:(c + n) * f].reshape(c + n, f) ** 2).mean(axis=1)
            kernel = np.ones(c) / c
            before = np.convolve(e, kernel, mode="full")[:len(e)]  # before[j]: mean of frames j-c+1..j
            for j in range(c, c + n):
                floor = max(before[j - 1], ONSET_FLOOR)
                if e[j] > ONSET_RATIO * floor:
                    seg = np.abs(d[j * f:(j + 1) * f])
                    p = a + j * f + int(np.argmax(seg >= 0.5 * seg.max()))
                    if p - self._last >= self.gap:
                        self.found.append(p)
                        self._last = p
            self.scanned += n * f


class Wsola(Stretcher):
    """Waveform-similarity overlap-add (Verhelst & Roelands 1993), streaming, transient-aware.

    Attacks are not smeared or doubled: the frame that first shows an onset
    is placed so the onset lands exactly at its stretched time, the next
    frames continue it verbatim for ``WSOLA_TRANSIENT_S``, frames before it
    stop short of it and frames after it start past it (no pre- or
    post-echo, none dropped when speeding up).
    """

    name = "wsola"

    def __init__(self, rate: int, channels: int, frame_s: float = WSOLA_FRAME_S,
                 tolerance_s: float = WSOLA_TOLERANCE_S, transients: bool = True):
        super().__init__(rate, channels)
        self.hop = max(16, int(round(frame_s * rate / 2)))
        self.frame = 2 * self.hop
        self.tolerance = max(1, int(round(tolerance_s * rate)))
        self.transients = transients
        n = np.arange(self.frame)
        # periodic Hann: copies at half a frame apart sum to exactly one
        self.window = (0.5 - 0.5 * np.cos(2 * np.pi * n / self.frame)).astype(np.float32)

    def describe(self) -> dict:
        return {"stretcher": self.name, "frame_s": self.frame / self.rate,
                "tolerance_s": self.tolerance / self.rate, "transients": self.transients}

    def _best_offset(self, get: Get, nominal: int, template: np.ndarray, lo: int, hi: int) -> int:
        """Offset in [lo, hi] (within ±tolerance) whose frame best continues ``template``."""
        n = self.frame
        if hi <= lo:
            return lo
        t = template.mean(axis=0)
        if float(np.dot(t, t)) < 1e-12:
            return min(max(0, lo), hi)
        region = get(nominal + lo, nominal + hi + n).mean(axis=0)
        from scipy.signal import correlate

        cc = correlate(region, t, mode="valid", method="fft")
        c2 = np.concatenate(([0.0], np.cumsum(region.astype(np.float64) ** 2)))
        energy = c2[n:] - c2[:-n]
        score = cc / np.sqrt(np.maximum(energy, 1e-12))
        return int(np.argmax(score)) + lo

    def stream(self, get: Get, start: float, factor: float, out_len: int) -> Iterator[np.ndarray]:
        hop, n, w, d = self.hop, self.frame, self.window, self.tolerance
        factor = float(factor)
        analysis_hop = hop / factor
        onsets = Onsets(get, int(start), self.rate) if self.transients else None
        guard = int(round(WSOLA_TRANSIENT_GUARD_S * self.rate))
        hold_frames = 1 + int(np.ceil(WSOLA_TRANSIENT_S * self.rate / hop))
        acc = np.zeros((self.channels, n), np.float32)
        emitted, k, prev = 0, 0, None
        hold, after = 0, -10**18   # frames left to copy verbatim; input before `after` is played
        while emitted < out_len:
            nominal = int(round(start + k * analysis_hop)) - hop    # frame start; its centre maps to k·hop
            pos = None
            nxt = None
            if onsets is not None:
                onsets.upto(nominal + n + d + int(2 * analysis_hop) + 1)
                while onsets.found and onsets.found[0] < max(after, int(start)):
                    onsets.found.pop(0)
                nxt = onsets.found[0] if onsets.found else None
            if nxt is not None:
                q = (nxt - start) * factor                      # where the onset belongs in the output
                if int(q // hop) <= k:                           # this frame is the first to reach it
                    onsets.found.pop(0)
                    pos = nxt - int(round(q - (k - 1) * hop))
                    hold, after = hold_frames, nxt + guard
            if pos is None and hold > 0 and prev is not None:
                pos = prev + hop                                 # continue the attack verbatim
                hold -= 1
            if pos is None:
                lo, hi = -d, d
                if nxt is not None:
                    hi = min(hi, nxt - n - nominal)              # stop short of the coming onset
                if after > -10**18:
                    lo = max(lo, after - nominal)                # never replay a played onset
                if lo > hi:                                      # squeezed between two onsets
                    lo = hi = max(after - nominal, min(hi, d))
                if prev is None:
                    pos = nominal + min(max(0, lo), hi)
                else:
                    pos = nominal + self._best_offset(get, nominal, get(prev + hop, prev + hop + n), lo, hi)
            acc += get(pos, pos + n) * w
            prev = pos
            if k > 0:  # frame 0 completes output [-hop, 0): not part of the output
                take = min(hop, out_len - emitted)
                yield acc[:, :take].copy()
                emitted += take
            acc[:, :hop] = acc[:, hop:]
            acc[:, hop:] = 0.0
            k += 1


class PhaseVocoder(Stretcher):
    """Phase vocoder with identity phase locking (Laroche & Dolson 1999), streaming.

    Peaks of the spectrum advance their phase at their own instantaneous
    frequency; the bins around each peak keep their phase offset to it, which
    removes most of the classic vocoder's phasiness.  Phases are reset at
    onsets (attacks stay sharper).  Kept as a comparison for ``wsola``.
    """

    name = "pvoc"

    def __init__(self, rate: int, channels: int, frame_s: float = PVOC_FRAME_S):
        super().__init__(rate, channels)
        self.frame = 1 << int(round(np.log2(frame_s * rate)))
        self.hop = self.frame // 4
        n = np.arange(self.frame)
        self.window = (0.5 - 0.5 * np.cos(2 * np.pi * n / self.frame)).astype(np.float32)
        self.norm = float((self.window ** 2).sum() / self.hop)      # overlap-add gain of window²

    def stream(self, get: Get, start: float, factor: float, out_len: int) -> Iterator[np.ndarray]:
        n, hop, w = self.frame, self.hop, self.window
        omega = 2 * np.pi * np.arange(n // 2 + 1) / n
        onsets = Onsets(get, int(start), self.rate)
        acc = np.zeros((self.channels, n), np.float32)
        emitted, k = 0, 0
        prev_pos = prev_phase = synth = None
        while emitted < out_len:
            centre = start + k * hop / float(factor)
            pos = int(round(centre)) - n // 2
            spec = np.fft.rfft(get(pos, pos + n) * w, axis=1)
            mono = spec.sum(axis=0)
            phase = np.angle(mono)
            onsets.upto(pos + n)
            reset = prev_pos is None
            while onsets.found and onsets.found[0] <= centre:
                onsets.found.pop(0)
                reset = True
            if reset:
                synth = phase.copy()
            else:
                dt = pos - prev_pos
                mag = np.abs(mono)
                peaks = np.flatnonzero((mag[1:-1] > mag[:-2]) & (mag[1:-1] >= mag[2:])) + 1
                if len(peaks) == 0:
                    peaks = np.array([int(np.argmax(mag))])
                dev = phase[peaks] - prev_phase[peaks] - omega[peaks] * dt
                dev = np.mod(dev + np.pi, 2 * np.pi) - np.pi
                inst = omega[peaks] + dev / max(dt, 1)
                new_peak = synth[peaks] + inst * hop
                # each bin follows the peak of its region (regions split halfway between peaks)
                edges = np.concatenate(([0], (peaks[1:] + peaks[:-1]) // 2 + 1, [len(mag)]))
                owner = np.repeat(np.arange(len(peaks)), np.diff(edges))
                synth = new_peak[owner] + phase - phase[peaks][owner]
            rot = np.exp(1j * (synth - phase))
            frame = np.fft.irfft(spec * rot, n=n, axis=1).astype(np.float32) * w / self.norm
            acc += frame
            prev_pos, prev_phase = pos, phase
            out0 = k * hop - n // 2                        # output index of acc[:, 0]
            lo = max(0, -out0)
            if lo < hop:
                take = min(hop - lo, out_len - emitted)
                yield acc[:, lo:lo + take].copy()
                emitted += take
            acc[:, :-hop] = acc[:, hop:]
            acc[:, -hop:] = 0.0
            k += 1


class Atempo(Stretcher):
    """FFmpeg's ``atempo`` filter (chained when the speed is beyond its 0.5–100 range)."""

    name = "atempo"
    block = 4096

    def stream(self, get: Get, start: float, factor: float, out_len: int) -> Iterator[np.ndarray]:
        from ..media.filters import Atempo as AtempoFilter

        graph = AtempoFilter(self.rate, self.channels, 1.0 / factor)
        pos, emitted = int(round(start)), 0
        pending = np.zeros((self.channels, 0), np.float32)
        while emitted < out_len:
            block = get(pos, pos + self.block)
            pos += self.block
            pending = np.concatenate([pending, *graph.push(block)], axis=1)
            take = min(pending.shape[1], out_len - emitted)
            if take:
                yield pending[:, :take]
                pending = pending[:, take:]
                emitted += take


STRETCHERS: Registry[Stretcher] = Registry("time-stretch method")
STRETCHERS.add("wsola", "vidext.sound.stretch:Wsola", "waveform-similarity overlap-add (default)")
STRETCHERS.add("pvoc", "vidext.sound.stretch:PhaseVocoder", "phase vocoder, identity phase locking")
STRETCHERS.add("atempo", "vidext.sound.stretch:Atempo", "FFmpeg atempo filter")


def stretch(x: np.ndarray, rate: int, factor: float, method: str = config.DEFAULT_STRETCHER) -> np.ndarray:
    """Stretch a whole (channels, samples) array ``factor``× longer, same pitch."""
    x = np.atleast_2d(np.asarray(x, np.float32))
    factor = check_factor(factor)
    st = STRETCHERS.create(method, rate, x.shape[0])

    def get(a: int, b: int) -> np.ndarray:
        out = np.zeros((x.shape[0], b - a), np.float32)
        lo, hi = max(a, 0), min(b, x.shape[1])
        if hi > lo:
            out[:, lo - a:hi - a] = x[:, lo:hi]
        return out

    out_len = int(round(x.shape[1] * factor))
    parts = list(st.stream(get, 0, factor, out_len))
    return np.concatenate(parts, axis=1) if parts else np.zeros((x.shape[0], 0), np.float32)
