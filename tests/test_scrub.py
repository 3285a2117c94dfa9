"""The draggable timeline's values (vidext.webapp.ui.scrub): what the handles show, from the sliders."""
from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

pytest.importorskip("gradio")

from vidext.media.probe import probe  # noqa: E402
from vidext.webapp import timeline  # noqa: E402
from vidext.webapp.ui import scrub  # noqa: E402


@pytest.fixture
def strip(clip):
    return timeline.filmstrip(probe(clip("t.mp4", frames=50, fps=25, width=160, height=96)), count=4)


def test_the_filmstrip_travels_as_a_picture_of_its_own_size(strip):
    src = scrub.segment_value(strip)["src"]
    assert src.startswith("data:image/jpeg;base64,")
    img = cv2.imdecode(np.frombuffer(base64.b64decode(src.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
    assert img.shape[:2] == strip.image.shape[:2]


def test_segment_values_follow_the_sliders_within_the_clip(strip):
    whole = scrub.segment_value(strip)
    assert (whole["mode"], whole["start"], whole["end"], whole["duration"]) == ("segment", 0.0, 2.0, 2.0)
    part = scrub.segment_value(strip, 0.4, 1.2)
    assert (part["start"], part["end"]) == (0.4, 1.2)
    assert scrub.segment_value(strip, -1, 9)["start"] == 0.0 and scrub.segment_value(strip, -1, 9)["end"] == 2.0
    backwards = scrub.segment_value(strip, 1.5, 0.5)          # its note says so; the drawing shows the clip
    assert (backwards["start"], backwards["end"]) == (0.0, 2.0)
    assert scrub.segment_value(None) is None and scrub.extend_value(None, 2) is None


def test_extend_values_keep_the_sliders_range_and_side(strip):
    v = scrub.extend_value(strip, 2, "forward", low=0.5, high=30, step=0.5)
    assert (v["mode"], v["seconds"], v["min"], v["max"], v["direction"]) == ("extend", 2.0, 0.5, 30, "forward")
    assert scrub.extend_value(strip, 99, "backward", low=0.5, high=30)["seconds"] == 30
    assert scrub.extend_value(strip, 0, "both", low=0.5, high=30)["seconds"] == 0.5
    assert scrub.extend_value(strip, 2, "both")["zone"] < scrub.extend_value(strip, 2, "forward")["zone"]


def test_a_release_gives_numbers_only():
    class Evt:
        _data = {"start": 0.5, "end": 1, "seconds": True, "other": "x"}

    assert scrub.released(Evt()) == {"start": 0.5, "end": 1.0}
    assert scrub.released(type("E", (), {"_data": None})()) == {}
