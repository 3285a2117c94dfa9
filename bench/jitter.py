"""How far a held-out frame lies from where its neighbours say it is: the floor under any interpolator.

Held out 2× (docs/measuring.md), every method places frame 2k+1 on a path through its input
neighbours 2k and 2k+2.  When the camera shakes from frame to frame (a handheld phone in a car),
the real frame is not on that path, and no interpolator can know where it is.  Per clip, this
prints:

- the whole picture's motion from frame to frame (phase correlation of the luma, Hann window; where
  objects move across a still background, as on bikes, its peak jumps between them, so read the
  median there);
- how far each held-out frame's position lies from the midpoint of its neighbours (pixels), and
  from a cubic through four input frames and a quadratic through three before it: if the motion
  were smooth, those would predict it better than the midpoint;
- the luma PSNR of DIS ``quality``'s held-out frames; the same pictures shifted by the frame's
  true offset (measured on the held-out frame itself, so no method can do it): the share of the
  error that is the shake alone; and shifted by the offset the cubic or the quadratic predicts
  from the input frames (what a model of smooth, non-linear motion could recover).

    python bench/jitter.py --clips carphone bikes bigbuckbunny --frames 41
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from interpolation import CLIPS, asset_path  # noqa: E402
from vidext.evaluation.metrics import psnr  # noqa: E402
from vidext.interpolation.flow import DISInterpolator  # noqa: E402
from vidext.media.reader import FrameSource  # noqa: E402

MARGIN = 8      # border pixels left out of the shifted PSNR (the shift brings in reflected edges)


def positions(lumas: list[np.ndarray]) -> np.ndarray:
    """The whole picture's position per frame (x, y pixels), summed from frame-to-frame motion."""
    window = cv2.createHanningWindow(lumas[0].shape[::-1], cv2.CV_32F)
    out = [np.zeros(2)]
    for prev, cur in zip(lumas, lumas[1:]):
        (dx, dy), _ = cv2.phaseCorrelate(prev, cur, window)
        out.append(out[-1] + (dx, dy))
    return np.array(out)


def measure(name: str, frames: int) -> None:
    rel, _ = CLIPS[name]
    with FrameSource(str(asset_path(rel))) as source:
        clip = list(itertools.islice(source, frames))
    lumas = [f.planes[0].astype(np.float32) for f in clip]
    x = positions(lumas)
    off = {"midpoint": [], "cubic (4 inputs)": [], "quadratic (3 before)": []}
    for k in range(3, len(clip) - 3, 2):
        p, a, b, c = x[k - 3], x[k - 1], x[k + 1], x[k + 3]
        off["midpoint"].append(np.linalg.norm((a + b) / 2 - x[k]))
        off["cubic (4 inputs)"].append(np.linalg.norm((-p + 9 * a + 9 * b - c) / 16 - x[k]))
        off["quadratic (3 before)"].append(np.linalg.norm((-p + 6 * a + 3 * b) / 8 - x[k]))
    dis = DISInterpolator("quality")
    plain, shifted, predicted = [], [], {"cubic": [], "quadratic": []}
    inner = (slice(MARGIN, -MARGIN), slice(MARGIN, -MARGIN))

    def moved(picture, dx, dy):
        return cv2.warpAffine(picture, np.float32([[1, 0, dx], [0, 1, dy]]), picture.shape[::-1],
                              flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)

    for k in range(3, len(clip) - 3, 2):
        truth = clip[k].planes[0]
        guess = dis.between(clip[k - 1], clip[k + 1]).at(0.5)[0]
        (dx, dy), _ = cv2.phaseCorrelate(guess.astype(np.float32), truth.astype(np.float32))
        plain.append(psnr(truth[inner], guess[inner]))
        shifted.append(psnr(truth[inner], moved(guess, dx, dy)[inner]))
        p, a, b, c = x[k - 3], x[k - 1], x[k + 1], x[k + 3]
        for label, at in (("cubic", (-p + 9 * a + 9 * b - c) / 16), ("quadratic", (-p + 6 * a + 3 * b) / 8)):
            ddx, ddy = at - (a + b) / 2          # where the smooth path puts the frame, against the midpoint
            predicted[label].append(psnr(truth[inner], moved(guess, ddx, ddy)[inner]))
    steps = np.linalg.norm(np.diff(x, axis=0), axis=1)
    print(f"{name:13} {clip[0].planes[0].shape[1]}x{clip[0].planes[0].shape[0]}  frame-to-frame motion "
          f"{np.median(steps):.2f} px median")
    for label, v in off.items():
        print(f"  held-out frame off its {label:22} {np.median(v):.3f} px median, {np.mean(v):.3f} mean")
    print(f"  DIS quality luma PSNR {np.mean(plain):.2f} dB; shifted by each frame's true offset "
          f"{np.mean(shifted):.2f} dB (+{np.mean(shifted) - np.mean(plain):.2f}); by the offset the cubic "
          f"predicts {np.mean(predicted['cubic']):.2f}, the quadratic {np.mean(predicted['quadratic']):.2f}  "
          f"[{MARGIN} px border left out]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", nargs="+", default=["carphone", "bikes", "bigbuckbunny"], choices=sorted(CLIPS))
    ap.add_argument("--frames", type=int, default=41)
    args = ap.parse_args()
    for name in args.clips:
        measure(name, args.frames)


if __name__ == "__main__":
    main()
