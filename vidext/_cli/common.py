"""Pieces several subcommands share: progress bar, codec options, result lines."""
from __future__ import annotations

import sys

from ..media.codecs import CODECS, CONTAINERS, VIDEO_CONTAINERS
from ..media.runner import Progress, stage_split
from ..media.streamwords import stream_fates


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
    """A one-line progress bar on stderr (only when stderr is a terminal): the whole job's share done,
    then what runs, its count and the time left (:meth:`vidext.media.runner.Progress.words`).

    ``last`` keeps the final report, terminal or not: the stages' seconds for the last line."""

    STEPS = 1000

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and sys.stderr.isatty()
        self._bar = None
        self.last: Progress | None = None

    def __call__(self, p: Progress) -> None:
        self.last = p
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self.STEPS, file=sys.stderr, leave=False,
                             bar_format="{percentage:3.0f}% |{bar:24}| {desc}")
        self._bar.set_description_str(p.words(), refresh=False)
        share = p.bar
        n = self._bar.n if share is None else int(round(share * self.STEPS))
        self._bar.update(n - self._bar.n)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def took_words(seconds: float, stages) -> str:
    """``12.3 s (measuring 3.1 s · rendering 8.0 s · playable copy 1.2 s)``: the wall time of a job
    and where it went (``stages``: the sidecar's ``timings["stages"]`` or the last report's)."""
    split = stage_split(stages or {})
    return f"{seconds:.1f} s" + (f" ({split})" if split else "")


def report_playable(result) -> None:
    """The line about the playable rendition, when one was asked for."""
    playable = (getattr(result, "details", None) or {}).get("playable")
    if playable:
        print(f"playable rendition: {playable['path']} ({playable['reason']})" if playable["path"]
              else f"plays everywhere as it is: {playable['reason']}")
        if playable.get("picture"):
            print(f"  its picture: {playable['picture']}")


def audio_words(result) -> str:
    """``copied``, ``re-encoded (3 tracks)``, ``none``: how the sound was written."""
    tracks = ((getattr(result, "details", None) or {}).get("output") or {}).get("audio_tracks") or []
    mode = getattr(result, "audio", None) or ("written" if tracks else "none")
    return f"{mode} ({len(tracks)} tracks)" if len(tracks) > 1 else mode


def report_streams(result) -> None:
    """What was kept beside the picture, what was converted and what was dropped, and why: nothing is
    left out without a word (the sidecar's ``output.converted`` and ``output.dropped``, in the words
    the app uses too: :func:`vidext.media.streamwords.stream_fates`)."""
    out = (getattr(result, "details", None) or {}).get("output") or {}
    if not out and hasattr(result, "dropped"):      # a batch's file: its drops and conversions only
        out = {"dropped": result.dropped, "converted": result.converted}
    for fate, words in stream_fates(out):
        print(f"{fate}: {words}")


def report(result) -> None:
    print(f"wrote {result.output}: {result.frames_out} frames at {result.fps:g} fps, "
          f"{result.duration_s:.3f} s, audio {audio_words(result)}, "
          f"{took_words(result.seconds, (result.details or {}).get('timings', {}).get('stages'))}")
    for change in ((result.details or {}).get("output") or {}).get("conversions") or []:
        print(f"picture: {change}")       # what the output's codec changed or could not keep (alpha ...)
    report_streams(result)
    report_playable(result)
    padded = getattr(result, "padded_to", None)
    if padded:
        print(f"note: picture padded to {padded[0]}×{padded[1]} (edges repeated): the codec's 4:2:0/4:2:2 "
              "colour needs even sides; ffv1 keeps any size")
