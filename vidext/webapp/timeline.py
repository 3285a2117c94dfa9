"""The timeline under an uploaded clip: a filmstrip with time marks, with the
chosen segment and the extension drawn on it (the durations come from the
engine's plans, :mod:`vidext.webapp.plans`).

Everything is computed from the probe and a handful of seeked frames
(:func:`vidext.media.reader.thumbnails`), so it answers in well under a
second even for long clips.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import InputError
from ..media.probe import MediaInfo
from ..media.reader import thumbnails
from .present import format_time  # noqa: F401 - re-exported for the timeline's labels

# the filmstrip: thumbnails at most, and their height
APP_FILMSTRIP_THUMBS = 8
APP_FILMSTRIP_THUMB_HEIGHT = 72  # pixels


_LABEL_WIDTH = 1.7        # a time mark spans at most this many thumbnail widths (every other one is marked)
_LABEL_MAX_SCALE = 1.2    # OpenCV font scale of the time marks at most (~26 px tall; room for the edge inset)
_LABEL_GAP = 12           # px at least between two time marks (a mark that would come closer is left out)
_LABEL_EDGE = 0.03        # share of the strip's width kept clear of time marks at each end: the drag handles
                          # (14 css px, centred on the ends) cover 7 px of a strip shown ~280 px wide on a phone
_STRIP_ASPECT = 12.0      # a filmstrip about this many times wider than tall: thumbnails stay visible
_GAP = 2                  # pixels between thumbnails
_DIM = 0.35               # brightness kept outside the chosen segment
_SEGMENT = (255, 170, 0)  # RGB of the segment bar
_EXTENSION = (70, 160, 255)
_EXTENSION_MAX = 0.5      # widest extension band, as a fraction of the strip


@dataclass
class Filmstrip:
    """Thumbnails side by side (RGB uint8) and the clip times they show."""

    image: np.ndarray
    times: list[float]
    start_s: float
    duration_s: float
    thumb_width: int
    info: MediaInfo          # the probe it was made from (the plans reuse it)
    thumb_height: int = APP_FILMSTRIP_THUMB_HEIGHT

    @property
    def path(self) -> str:
        return self.info.path


def thumb_times(start: float, duration: float, count: int) -> list[float]:
    """Centres of ``count`` equal slices of the clip."""
    return [start + (i + 0.5) * duration / count for i in range(count)]


def thumb_count(width: int, height: int, most: int = APP_FILMSTRIP_THUMBS) -> int:
    """Thumbnails for a strip about ``_STRIP_ASPECT`` times wider than tall (wide clips get fewer)."""
    return int(min(most, max(4, round(_STRIP_ASPECT * height / width))))


def _label_font(thumb_width: int) -> tuple[float, int, int]:
    """(scale, thickness, band height) of time marks readable once the strip is shrunk to a phone's width."""
    (w1, h1), _ = cv2.getTextSize("0:00.0", cv2.FONT_HERSHEY_SIMPLEX, 1.0, 2)
    scale = min(_LABEL_MAX_SCALE, _LABEL_WIDTH * thumb_width / w1)
    return scale, 2, int(round(h1 * scale * 1.8))


def filmstrip(info: MediaInfo, count: int | None = None,
              height: int = APP_FILMSTRIP_THUMB_HEIGHT) -> Filmstrip:
    """Seek to ``count`` evenly spaced times and lay the frames out, as a player shows them (a phone's
    rotation applied: a portrait clip's thumbnails are portrait), with time marks under them that never
    run into each other."""
    v = info.video
    if v is None:
        raise InputError("the file has no video stream")
    shown_w, shown_h = v.display_size
    width = max(2, int(round(height * shown_w / shown_h / 2)) * 2)
    count = count or thumb_count(shown_w, shown_h)
    scale, thick, band = _label_font(width)
    times = thumb_times(v.start_s, v.duration_s, count)
    turns = quarter_turns(v.rotation)
    thumbs = thumbnails(info, times, *((height, width) if turns % 2 else (width, height)))
    strip = np.full((height + band, count * width + (count - 1) * _GAP, 3), 24, np.uint8)
    right = -_LABEL_GAP
    for i, (thumb, t) in enumerate(zip(thumbs, times)):
        x = i * (width + _GAP)
        strip[:height, x:x + width] = np.rot90(thumb, turns) if turns else thumb
        if i % 2 == 0:
            right = _label(strip, format_time(t - v.start_s), x + width // 2, height + band - band // 4, scale,
                           thick, after=right + _LABEL_GAP, edge=int(np.ceil(_LABEL_EDGE * strip.shape[1])))
    return Filmstrip(strip, times, v.start_s, v.duration_s, width, info, height)


def quarter_turns(rotation: int) -> int:
    """Quarter turns counter-clockwise (``np.rot90``'s ``k``) that show a picture stored with ``rotation``
    (degrees counter-clockwise, as PyAV reads a display matrix): 0–3."""
    return (int(round(rotation / 90)) % 4) if rotation else 0


def _label(img: np.ndarray, text: str, cx: int, baseline: int, scale: float, thick: int,
           after: int = 0, edge: int = 0) -> int:
    """Draw ``text`` centred on ``cx`` (kept inside the picture, ``edge`` px from its ends); not at all when
    it would begin before ``after`` (the end of the mark before it).  Returns where this mark ends
    (``after`` - gap if skipped)."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    (w, _), _ = cv2.getTextSize(text, font, scale, thick)
    x = int(np.clip(cx - w // 2, edge, max(edge, img.shape[1] - w - edge)))
    if x < after:
        return after - _LABEL_GAP
    cv2.putText(img, text, (x, baseline), font, scale, (235, 235, 235), thick, cv2.LINE_AA)
    return x + w


def timeline_image(strip: Filmstrip, *, segment: tuple[float, float] | None = None,
                   extend_s: float = 0.0, direction: str = "forward") -> np.ndarray:
    """The filmstrip with the retimed segment highlighted and the extension drawn.

    ``segment`` is (start, end) in seconds from the clip's start; outside it
    the strip is dimmed.  ``extend_s`` seconds are drawn as a hatched band
    after the end (``forward``), before the start (``backward``) or both, to
    the same time scale as the clip.
    """
    img = strip.image.copy()
    h_thumbs = strip.thumb_height
    band_h = img.shape[0] - h_thumbs
    width = img.shape[1]
    px_per_s = width / strip.duration_s if strip.duration_s > 0 else 0.0
    if segment is not None and px_per_s:
        a = int(round(np.clip(segment[0], 0, strip.duration_s) * px_per_s))
        b = int(round(np.clip(segment[1], 0, strip.duration_s) * px_per_s))
        if b > a:
            dim = img[:h_thumbs].astype(np.float32)
            dim[:, :a] *= _DIM
            dim[:, b:] *= _DIM
            img[:h_thumbs] = dim.astype(np.uint8)
            img[h_thumbs - 4:h_thumbs, a:b] = _SEGMENT
    if extend_s > 0 and px_per_s:
        band = _hatched(h_thumbs, max(8, int(round(min(extend_s * px_per_s, _EXTENSION_MAX * width)))))
        label_pad = np.full((band_h, band.shape[1], 3), 24, np.uint8)
        scale, thick, _ = _label_font(strip.thumb_width)
        _label(label_pad, f"+{extend_s:g} s", band.shape[1] // 2, band_h - band_h // 4, scale, thick)
        extra = np.vstack([band, label_pad])
        gap = np.full((img.shape[0], _GAP * 2, 3), 24, np.uint8)
        if direction in ("forward", "both"):
            img = np.hstack([img, gap, extra])
        if direction in ("backward", "both"):
            img = np.hstack([extra, gap, img])
    return img


def _hatched(height: int, width: int) -> np.ndarray:
    band = np.full((height, width, 3), 40, np.uint8)
    for x in range(-height, width, 10):
        cv2.line(band, (x, height), (x + height, 0), _EXTENSION, 2, cv2.LINE_AA)
    return band
