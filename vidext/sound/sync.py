"""Audio–video offset: does the sound happen when the picture does?

Events that make a sound usually change the picture at the same moment (a
hit, a cut, a step).  The audio's onset strength (positive spectral flux)
and the video's motion energy (mean absolute change between consecutive
frames) are put on one 100 Hz grid and cross-correlated; the lag of the
peak is the offset.  Positive means the sound comes late.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import InputError
from ..media.probe import MediaInfo, probe

SYNC_MAX_S = 120                # audio–video offset: seconds analysed from the start
SYNC_GRID_S = 0.005             # common time grid of onset strength and motion energy
SYNC_MAX_LAG_S = 1.0            # offsets searched
SYNC_MEDIAN = 41                # grid points: events are rises above this running median
SYNC_WIDTH = 160                # frames are compared at this width
SYNC_MIN_CONFIDENCE = 0.2       # correlation below this: too few shared events to flag anything


@dataclass
class SyncEstimate:
    offset_s: float          # > 0: the sound is late
    confidence: float        # peak correlation (0–1); low means few shared events
    frame_s: float           # one frame of the video
    reliable: bool           # enough shared events (confidence ≥ SYNC_MIN_CONFIDENCE) to trust offset_s
    flagged: bool            # reliable and |offset| is more than one frame

    def as_dict(self) -> dict:
        return asdict(self)


def _audio_onsets(path: str, seconds: float, grid: float) -> np.ndarray:
    from scipy.signal import stft

    from .pcm import PcmReader

    with PcmReader(path) as r:
        start = r.index(0.0)
        x = r.get(start, start + int(seconds * r.rate)).mean(axis=0)
        rate = r.rate
    hop = int(round(grid * rate))
    _, _, z = stft(x, nperseg=4 * hop, noverlap=3 * hop, boundary=None, padded=False)
    logmag = np.log1p(100 * np.abs(z))
    flux = np.maximum(np.diff(logmag, axis=1), 0).sum(axis=0)
    out = np.zeros(int(seconds / grid))
    # the flux between frames j and j+1 belongs to the time of frame j+1's centre
    idx = (np.arange(1, len(flux) + 1) * hop + 2 * hop) // hop
    keep = idx < len(out)
    out[idx[keep]] = flux[keep]
    return out


def _video_motion(info: MediaInfo, seconds: float, grid: float) -> np.ndarray:
    import cv2

    from ..media.reader import FrameSource

    times, energy = [], []
    prev = None
    with FrameSource(info.path, info) as frames:
        for f in frames:
            t = float(f.time)
            if t >= seconds:
                break
            size = (SYNC_WIDTH, max(2, round(SYNC_WIDTH * f.height / f.width)))
            g = cv2.resize(f.luma8(), size, interpolation=cv2.INTER_AREA).astype(np.float32)
            if prev is not None:
                times.append(t)
                energy.append(float(np.abs(g - prev).mean()))
            prev = g
    out = np.zeros(int(seconds / grid))
    for t, e in zip(times, energy):
        i = int(round(t / grid))
        if i < len(out):
            out[i] = max(out[i], e)
    return out


def _events(x: np.ndarray) -> np.ndarray:
    """Rises above the local median: steady motion or steady sound do not count as events."""
    from scipy.ndimage import median_filter

    d = np.maximum(x - median_filter(x, size=SYNC_MEDIAN), 0)
    return (d - d.mean()) / (d.std() + 1e-9)


def av_sync(path: str) -> SyncEstimate:
    """Estimate the audio–video offset of ``path`` (first ``SYNC_MAX_S`` seconds)."""
    info = probe(path)
    if info.video is None or not info.audio:
        raise InputError(f"{path} needs both a video and an audio stream to check their sync")
    seconds = min(info.duration_s, SYNC_MAX_S)
    grid = SYNC_GRID_S
    a = _events(_audio_onsets(path, seconds, grid))
    v = _events(_video_motion(info, seconds, grid))
    n = min(len(a), len(v))
    a, v = a[:n], v[:n]
    max_lag = int(SYNC_MAX_LAG_S / grid)
    lags = np.arange(-max_lag, max_lag + 1)
    corr = np.array([np.dot(a[max(0, k):n + min(0, k)], v[max(0, -k):n - max(0, k)]) / n for k in lags])
    best = int(np.argmax(corr))
    # parabolic refinement of the peak to a fraction of the grid
    frac = 0.0
    if 0 < best < len(corr) - 1:
        y0, y1, y2 = corr[best - 1:best + 2]
        den = y0 - 2 * y1 + y2
        frac = 0.5 * (y0 - y2) / den if den else 0.0
    offset = (lags[best] + frac) * grid
    confidence = float(max(0.0, corr[best]))
    frame_s = 1 / float(info.video.fps_nominal)
    reliable = confidence >= SYNC_MIN_CONFIDENCE
    flagged = reliable and abs(offset) > frame_s
    return SyncEstimate(round(float(offset), 4), round(confidence, 4), frame_s, bool(reliable), bool(flagged))


def estimate_av_offset(path: str) -> float:
    """Seconds by which the sound of ``path`` lags its picture (negative: it leads).

    ``nan`` when picture and sound share too few events to tell (steady
    music over a slow pan, a tone over constant motion): see :func:`av_sync`.
    """
    est = av_sync(path)
    return est.offset_s if est.reliable else float("nan")
