"""Loop continuation at the seams: is a jump audible as a click or a spectral jolt?

Run: ``python bench/audio_loop.py`` (real loops, a choir and speech from
``~/.cache/vidext/assets/audio``).  Each sound is extended 8 s forward and
4 s backward with ``loop``; per sound it prints the loop lengths and scores
chosen, and at every seam:

- ``step``  largest sample step within ±5 ms of the seam ÷ the largest step
            anywhere in the original (≤ 1: no click beyond the sound's own)
- ``flux``  spectral flux across the seam ÷ the largest flux in the original
            (≤ 1: the spectrum changes no more than it does by itself)
"""
from __future__ import annotations

import glob
import os
import tempfile

import av
import numpy as np

from vidext.sound import ExtendedAudio
from vidext.sound.pcm import read_audio, write_audio


def flux_curve(x: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    from scipy.signal import stft

    hop = 256
    _, _, z = stft(x, nperseg=1024, noverlap=1024 - hop, boundary=None, padded=False)
    lm = np.log1p(100 * np.abs(z))
    return np.maximum(np.diff(lm, axis=1), 0).sum(axis=0), hop


def main() -> None:
    root = os.path.expanduser(os.environ.get("VIDEXT_ASSETS", "~/.cache/vidext/assets"))
    files = sorted(glob.glob(os.path.join(root, "audio", "*.*")))
    print(f"{'sound':40} {'dur_s':>5} {'loop_fwd_s':>10} {'loop_back_s':>11} {'max_step':>8} {'max_flux':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            x, rate = read_audio(path)
            src = write_audio(os.path.join(tmp, "src.wav"), x, rate)
            out = os.path.join(tmp, "out.wav")
            before, after = 4.0, 8.0
            feed = ExtendedAudio(src, out, before, after, "loop")
            with av.open(out, "w") as c:
                feed.open(c)
                feed.finish()
            y = read_audio(out)[0].mean(axis=0)
            m = x.mean(axis=0)
            n, b = m.shape[0], int(before * rate)
            fwd = int(round(feed.details["forward"]["loop_s"] * rate))
            back = int(round(feed.details["backward"]["loop_s"] * rate))
            seams = [b + n + k * fwd for k in range(int(after * rate / fwd) + 1)]
            seams += [b - k * back for k in range(int(before * rate / back) + 1)]
            ref_step = np.abs(np.diff(m)).max()
            fx, hop = flux_curve(m, rate)
            ref_flux = fx.max()
            fy, _ = flux_curve(y, rate)
            w = int(0.005 * rate)
            steps, fluxes = [], []
            for s in seams:
                if w <= s < len(y) - w:
                    steps.append(np.abs(np.diff(y[s - w:s + w])).max() / ref_step)
                    j = s // hop
                    fluxes.append(fy[max(0, j - 4):j + 2].max() / ref_flux)
            print(f"{os.path.basename(path)[:40]:40} {n / rate:5.2f} {fwd / rate:10.3f} {back / rate:11.3f} "
                  f"{max(steps):8.2f} {max(fluxes):8.2f}")


if __name__ == "__main__":
    main()
