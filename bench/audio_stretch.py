"""Time-stretch quality: pitch, click timing, round-trip spectral distance, warble.

Run: ``python bench/audio_stretch.py`` (speech and loops from
``~/.cache/vidext/assets/audio`` when fetched).  Prints one row per method
and factor:

- ``pitch%``   relative pitch error of a stretched 440 Hz tone
- ``click_ms`` worst distance of each click's strongest copy from its stretched time
- ``echo``     strongest other copy of a click within ±60 ms, relative (transient doubling)
- ``warble``   amplitude modulation of a stretched three-note chord (RMS in 10 ms
               frames, std/mean; a clean stretch keeps the chord's own beating)
- ``lsd_*``    log-spectral distance (dB) between a sound and the same sound stretched
               by the factor and back; phasiness, smearing and dropouts all raise it
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))

from vidext.sound.pcm import read_audio  # noqa: E402
from vidext.sound.stretch import STRETCHERS, stretch  # noqa: E402

FACTORS = (0.25, 0.5, 0.8, 1.25, 2.0, 4.0)


def pitch_hz(y: np.ndarray, rate: int) -> float:
    y = y * np.hanning(len(y))
    spec = np.abs(np.fft.rfft(y, 8 * len(y)))
    i = int(np.argmax(spec))
    a, b, c = np.log(spec[i - 1:i + 2] + 1e-12)
    return (i + 0.5 * (a - c) / (a - 2 * b + c)) * rate / (8 * len(y))


def clicks(rate: int, times: list[float], seconds: float) -> np.ndarray:
    x = np.zeros(int(seconds * rate), np.float32)
    for t in times:
        i = int(round(t * rate))
        x[i:i + 16] += np.hanning(16).astype(np.float32)  # a 0.4 ms click
    return x


def click_errors(y: np.ndarray, rate: int, expected: list[float]) -> tuple[float, float]:
    env = np.abs(y)
    worst, echo = 0.0, 0.0
    for t in expected:
        c = int(round(t * rate))
        w = int(0.06 * rate)
        seg = env[max(0, c - w):c + w]
        i = int(np.argmax(seg))
        worst = max(worst, abs((max(0, c - w) + i) / rate - t) * 1000)
        masked = seg.copy()
        masked[max(0, i - 32):i + 32] = 0
        echo = max(echo, float(masked.max() / seg[i])) if seg[i] > 0 else 1.0
    return worst, echo


def lsd(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.signal import stft

    n = min(len(a), len(b))
    _, _, A = stft(a[:n], nperseg=1024)
    _, _, B = stft(b[:n], nperseg=1024)
    la, lb = 20 * np.log10(np.abs(A) + 1e-5), 20 * np.log10(np.abs(B) + 1e-5)
    keep = la.max(axis=0) > la.max() - 60  # frames with sound
    return float(np.sqrt(np.mean((la - lb)[:, keep] ** 2, axis=0)).mean())


def warble(y: np.ndarray, rate: int) -> float:
    f = int(0.01 * rate)
    n = len(y) // f
    rms = np.sqrt((y[:n * f].reshape(n, f) ** 2).mean(axis=1))
    rms = rms[n // 10:-n // 10]
    return float(rms.std() / rms.mean())


def main() -> None:
    rate = 44100
    t = np.arange(3 * rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    chord = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)).astype(np.float32)
    click_times = [0.3, 0.71, 1.13, 1.6, 2.05, 2.5]
    click_sig = clicks(rate, click_times, 3.0)
    assets = os.path.expanduser(os.environ.get("VIDEXT_ASSETS", "~/.cache/vidext/assets"))
    sounds = {}
    for name, file in (("speech", "audio/sense_and_sensibility_01_austen_64kb-0880.wav"),
                       ("drums", "audio/loop_amen.flac"), ("choir", "audio/ambi_choir.flac")):
        p = os.path.join(assets, file)
        if os.path.exists(p):
            x, r = read_audio(p)
            sounds[name] = (x.mean(axis=0), r)
    print(f"{'method':7} {'factor':>6} {'pitch%':>7} {'click_ms':>8} {'echo':>5} {'warble':>6} "
          + " ".join(f"{'lsd_' + k:>11}" for k in sounds) + f" {'x_realtime':>10}")
    for method in STRETCHERS:
        for f in FACTORS:
            t0 = time.perf_counter()
            y = stretch(tone[None], rate, f, method)[0]
            dt = time.perf_counter() - t0
            m = len(y) // 8
            p_err = abs(pitch_hz(y[m:-m], rate) / 440 - 1) * 100
            yc = stretch(click_sig[None], rate, f, method)[0]
            c_err, echo = click_errors(yc, rate, [c * f for c in click_times])
            wb = warble(stretch(chord[None], rate, f, method)[0], rate)
            lsds = []
            for x, r in sounds.values():
                back = stretch(stretch(x[None], r, f, method), r, 1 / f, method)[0]
                lsds.append(lsd(x, back))
            print(f"{method:7} {f:6.2f} {p_err:7.3f} {c_err:8.2f} {echo:5.2f} {wb:6.3f} "
                  + " ".join(f"{v:11.2f}" for v in lsds) + f" {len(tone) / rate / dt:10.0f}")
    print(f"chord's own warble (unstretched): {warble(chord, rate):.3f}")


if __name__ == "__main__":
    main()
