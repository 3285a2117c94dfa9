"""Pieces several subcommands share: progress bar, codec options, result lines."""
from __future__ import annotations

import sys

from ..media.codecs import CODECS, CONTAINERS, VIDEO_CONTAINERS
from ..media.runner import Progress


def add_output_options(p) -> None:
    p.add_argument("-o", "--output", required=True,
                   help="output file; its extension picks the container and the default codecs "
                        "(" + ", ".join(f"{e}: {CONTAINERS[e].video[0]}" for e in VIDEO_CONTAINERS) + ")")
    p.add_argument("--playable", action="store_true",
                   help="also write OUTPUT-stem.playable.mp4 (H.264 4:2:0 8-bit + AAC) when the output "
                        "itself does not play in every browser and phone (4:4:4, 10-bit, ProRes, WebM ...)")
    add_encoding_options(p)


def add_encoding_options(p) -> None:
    """Codec, quality and progress options of every job that writes a video."""
    p.add_argument("--codec", default=None, choices=list(CODECS),
                   help="video codec of the output (default: the container's, h264 for .mp4/.mov/.mkv)")
    p.add_argument("--crf", type=int, default=None,
                   help="quality for h264/h265/vp9/av1 (lower = better, default "
                        + "/".join(str(c.crf) for c in CODECS.values() if c.crf is not None) + ")")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


class ProgressBar:
    """A one-line progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and sys.stderr.isatty()
        self._bar = None

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=p.total, unit="frame", desc=p.stage, file=sys.stderr, leave=False)
        if p.stage and self._bar.desc != p.stage:
            self._bar.set_description_str(p.stage, refresh=False)
        if p.total and self._bar.total != p.total:
            self._bar.total = p.total
        self._bar.update(p.done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def report_playable(result) -> None:
    """The line about the playable rendition, when one was asked for."""
    playable = (getattr(result, "details", None) or {}).get("playable")
    if playable:
        print(f"playable rendition: {playable['path']} ({playable['reason']})" if playable["path"]
              else f"plays everywhere as it is: {playable['reason']}")


def report(result) -> None:
    print(f"wrote {result.output}: {result.frames_out} frames at {result.fps:g} fps, "
          f"{result.duration_s:.3f} s, audio {result.audio or 'none'}, "
          f"{result.seconds:.1f} s ({result.frames_per_second:.1f} frames/s)")
    report_playable(result)
    padded = getattr(result, "padded_to", None)
    if padded:
        print(f"note: picture padded to {padded[0]}×{padded[1]} (edges repeated): the codec's 4:2:0/4:2:2 "
              "colour needs even sides; ffv1 keeps any size")
