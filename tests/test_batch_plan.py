"""Chunk planning of a long film (vidext.batch.plan) and the join of its parts (vidext.media.concat),
without Ray and without real footage.

``split`` is checked on made-up marks (cuts and keyframes where a test puts
them), ``scan`` on small synthetic clips with a known cut, a repeated frame
and a known keyframe spacing.
"""
from __future__ import annotations

import threading
from fractions import Fraction

import av
import numpy as np
import pytest
from helpers import encode_all

from vidext.batch.plan import Mark, scan, split
from vidext.errors import Cancelled
from vidext.interpolation.scenes import SceneGate
from vidext.media.concat import join_parts, keyframe_times
from vidext.media.probe import probe_video
from vidext.media.synth import shifted, texture

FPS = 25


def marks(n: int, *, cuts=(), keys=(), fps: int = FPS, start: Fraction = Fraction(0), drop=()) -> list[Mark]:
    """``n`` kept frames at ``fps`` from ``start``; frame numbers in ``cuts`` end a cut pair, in ``keys`` are
    keyframes (frame 0 always is), those in ``drop`` are left out (frames the run drops)."""
    return [Mark(start + Fraction(k, fps), k in cuts, k == 0 or k in keys) for k in range(n) if k not in drop]


def frame_of(t: Fraction, start: Fraction = Fraction(0)) -> int:
    return int((t - start) * FPS)


def check_joined(chunks, ms: list[Mark]) -> None:
    """Chunks cover the film once: each starts where the last ended, on a kept frame, on one origin."""
    times = {m.time for m in ms}
    assert chunks[0].span.first == ms[0].time
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for a, b in zip(chunks, chunks[1:]):
        assert a.span.last == b.span.first and a.span.last in times
    assert all(c.span.origin == ms[0].time for c in chunks)
    assert chunks[-1].span.last is None and chunks[-1].split == "end"
    assert all(c.split != "end" and c.span.last is not None for c in chunks[:-1])


# --- split ------------------------------------------------------------------------------------------

def test_no_frames_no_chunks():
    assert split([], 2.0) == []


@pytest.mark.parametrize("n", [1, 2, 75])   # 75 frames: 2.96 s from the first to the last, under 1.5 × 2 s
def test_a_film_shorter_than_one_and_a_half_chunks_is_one_chunk(n):
    ms = marks(n)
    (chunk,) = split(ms, 2.0)
    assert chunk.split == "end" and chunk.span.first == 0 and chunk.span.last is None and chunk.seconds is None


def test_one_and_a_half_chunks_or_more_is_split():
    chunks = split(marks(76), 2.0)    # 3.0 s from the first frame to the last: 1.5 × 2 s
    assert [c.split for c in chunks] == ["frame", "end"]
    assert chunks[0].span.last == 2 and chunks[0].seconds == 2


def test_a_cut_in_the_window_wins_over_a_keyframe_nearer_the_target():
    ms = marks(200, cuts={62}, keys={50})          # target 2 s = frame 50; window 1–3 s = frames 25–75
    first = split(ms, 2.0)[0]
    assert first.split == "cut" and frame_of(first.span.last) == 62
    assert first.span.cut                          # the renderer holds the old shot, never reads the new one


def test_the_cut_nearest_the_target_is_chosen():
    first = split(marks(200, cuts={30, 56, 70}), 2.0)[0]
    assert first.split == "cut" and frame_of(first.span.last) == 56


def test_failing_a_cut_the_keyframe_nearest_the_target():
    ms = marks(200, cuts={10, 80}, keys={40, 55, 74})   # the cuts lie outside 1–3 s
    first = split(ms, 2.0)[0]
    assert first.split == "keyframe" and frame_of(first.span.last) == 55 and not first.span.cut


def test_failing_cuts_and_keyframes_the_frame_nearest_the_target():
    first = split(marks(200, keys={24, 76}), 2.0)[0]    # keyframes just outside the window
    assert first.split == "frame" and frame_of(first.span.last) == 50 and not first.span.cut


@pytest.mark.parametrize("seconds", [0.5, 1.0, 2.0, 3.3])
@pytest.mark.parametrize("seed", range(4))
def test_chunk_lengths_stay_within_half_and_one_and_a_half_times_the_target(seconds, seed):
    rng = np.random.default_rng(seed)
    n = 1000                                        # 40 s
    cuts = {int(k) for k in rng.choice(n, 6, replace=False)}
    ms = marks(n, cuts=cuts, keys=set(range(0, n, int(rng.integers(5, 120)))))
    length = Fraction(str(seconds))
    chunks = split(ms, seconds)
    check_joined(chunks, ms)
    for c in chunks[:-1]:
        assert length / 2 <= c.seconds <= length * 3 / 2, c
        window = [m for m in ms if c.span.first + length / 2 <= m.time <= c.span.first + length * 3 / 2]
        end = next(m for m in window if m.time == c.span.last)
        if c.split == "cut":
            assert end.cut and c.span.cut
        elif c.split == "keyframe":
            assert end.key and not c.span.cut and not any(m.cut for m in window)
        else:
            assert c.split == "frame" and not c.span.cut and not any(m.cut or m.key for m in window)
            assert end.time - c.span.first == min((m.time - c.span.first for m in window),
                                                  key=lambda d: abs(d - length))
    assert ms[-1].time - chunks[-1].span.first < length * 3 / 2


def test_every_chunk_ends_at_the_cuts_when_they_are_spaced_like_the_target():
    cuts = set(range(40, 1000, 50))                 # a cut every 2 s, the first at 1.6 s
    chunks = split(marks(1000, cuts=cuts), 2.0)
    assert [frame_of(c.span.last) for c in chunks[:-1]] == sorted(cuts)[:len(chunks) - 1]
    assert all(c.split == "cut" for c in chunks[:-1])


def test_a_gap_longer_than_the_window_still_moves_on_one_kept_frame():
    """Long runs of dropped frames (a still picture) leave no mark in the window: the next kept one ends it."""
    ms = marks(500, drop=set(range(3, 400)))         # kept: 0, 1, 2 (0.08 s), then 16 s and on
    chunks = split(ms, 1.0)
    check_joined(chunks, ms)
    assert [frame_of(c.span.last) for c in chunks[:3]] == [1, 2, 400]
    assert all(c.split == "frame" for c in chunks[:3])


def test_the_grid_keeps_the_films_first_frame_and_odd_rates():
    start = Fraction(7, 5)                           # a film whose first frame is at 1.4 s
    ms = [Mark(start + Fraction(1001 * k, 30000), k in {70}, k % 12 == 0) for k in range(300)]   # 29.97 fps
    chunks = split(ms, 1.9)
    check_joined(chunks, ms)
    assert chunks[0].span.first == start and all(c.span.origin == start for c in chunks)
    assert chunks[0].split == "cut" and chunks[0].span.last == ms[70].time


# --- scan -------------------------------------------------------------------------------------------

def write_clip(path: str, pictures, *, gop: int, lossless: bool = True) -> str:
    """H.264 (lossless by default: a repeated picture decodes as the same frame) with a keyframe every ``gop``."""
    pictures = list(pictures)
    with av.open(path, "w") as c:
        v = c.add_stream("libx264", rate=FPS)
        v.height, v.width = pictures[0].shape[:2]
        v.pix_fmt = "yuv420p"
        v.options = {"qp": "0" if lossless else "20", "preset": "ultrafast", "g": str(gop),
                     "keyint_min": str(gop), "sc_threshold": "0", "bf": "0"}
        for img in pictures:
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
    return path


def two_shots(first: int = 20, second: int = 20, repeat: int | None = None, size=(96, 64)):
    """A pan over one texture, then a pan over another (a cut at frame ``first``); frame ``repeat`` shows
    the previous picture again."""
    w, h = size
    a, b = texture(h + 64, w + 64, seed=1), texture(h + 64, w + 64, seed=2)
    pics = [shifted(a, 2 * k, k, h, w) for k in range(first)] + [shifted(b, 2 * k, k, h, w) for k in range(second)]
    if repeat is not None:
        pics[repeat] = pics[repeat - 1]
    return pics


def test_scan_flags_the_cut_and_the_keyframes(tmp_path):
    path = write_clip(str(tmp_path / "c.mp4"), two_shots(), gop=8)
    info = probe_video(path)
    ms = scan(path, info, SceneGate())
    assert [m.time for m in ms] == [Fraction(k, FPS) for k in range(40)]
    assert [frame_of(m.time) for m in ms if m.cut] == [20]
    keys = set(keyframe_times(path))
    assert [frame_of(m.time) for m in ms if m.key] == [0, 8, 16, 24, 32] == [frame_of(t) for t in sorted(keys)]


def test_scan_drops_what_the_renderer_drops(tmp_path):
    path = write_clip(str(tmp_path / "d.mp4"), two_shots(repeat=6), gop=40)
    info = probe_video(path)
    kept = [frame_of(m.time) for m in scan(path, info, SceneGate())]
    assert kept == [k for k in range(40) if k != 6]                # the repeated picture is not a kept frame
    assert len(scan(path, info, SceneGate(duplicate_mad=None))) == 40   # dedupe off: every frame
    # duplicates are dropped only inside the smoothed range (a segment job): outside it every frame is kept
    outside = scan(path, info, SceneGate(), smooth_range=(Fraction(10, FPS), Fraction(39, FPS)))
    assert len(outside) == 40
    inside = scan(path, info, SceneGate(), smooth_range=(Fraction(2, FPS), Fraction(10, FPS)))
    assert 6 not in [frame_of(m.time) for m in inside]


def test_scan_with_cut_detection_off_flags_no_cut(tmp_path):
    path = write_clip(str(tmp_path / "c.mp4"), two_shots(), gop=40)
    assert not any(m.cut for m in scan(path, probe_video(path), SceneGate(scene_threshold=None)))


def test_scan_stops_when_asked(tmp_path):
    path = write_clip(str(tmp_path / "c.mp4"), two_shots(), gop=40)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled, match="cancelled"):
        scan(path, probe_video(path), SceneGate(), stop=stop)


def test_a_synthetic_film_splits_at_its_cut(tmp_path):
    """scan then split: a 2.4 s film with a cut at 1.2 s, in 1 s chunks, is cut at the scene change."""
    path = write_clip(str(tmp_path / "f.mp4"), two_shots(30, 30), gop=25, lossless=False)
    ms = scan(path, probe_video(path), SceneGate())
    chunks = split(ms, 1.0)
    check_joined(chunks, ms)
    assert chunks[0].split == "cut" and chunks[0].span.last == Fraction(30, FPS) and chunks[0].span.cut


# --- join ---------------------------------------------------------------------------------------------

def write_part(path: str, pictures, first: int) -> str:
    """H.264 with B-frames (x264's defaults: reordered pictures) whose frame k is shown at (first + k)/FPS:
    a part of a film as a worker writes it."""
    with av.open(path, "w") as c:
        v = c.add_stream("libx264", rate=FPS)
        v.height, v.width = pictures[0].shape[:2]
        v.pix_fmt = "yuv420p"
        v.options = {"preset": "veryfast", "crf": "20", "bf": "3"}
        v.codec_context.time_base = Fraction(1, FPS)
        def frame(k, img):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts, f.time_base = first + k, Fraction(1, FPS)
            return f
        encode_all(c, v, (frame(k, img) for k, img in enumerate(pictures)))
    return path


def decoded(path: str) -> list[tuple[Fraction, bytes]]:
    with av.open(path) as c:
        s = c.streams.video[0]
        return [(f.pts * s.time_base, f.to_ndarray(format="gray").tobytes()) for f in c.decode(s)]


@pytest.mark.parametrize("ext", [".mkv", ".mp4"])
def test_parts_with_reordered_pictures_join_in_either_container(tmp_path, ext):
    """H.264 parts with B-frames in Matroska, which stores presentation times only: the demuxer gives the
    first packets of each part no decode time, and the join once took their presentation time for it
    (the second packet, a P-frame shown after two B-frames, then looked later than the third):
    "part part-0.mkv overlaps the one before it (0.0000 s ≤ 0.1600 s)".  Now the parts join, every
    picture at its time, as in MP4 (whose parts carry decode times)."""
    pics = two_shots(20, 20)
    parts = [write_part(str(tmp_path / f"part-{i}{ext}"), pics[20 * i:20 * i + 20], 20 * i) for i in range(2)]
    with av.open(parts[0]) as c:     # the case: decode times missing at the start of a part
        missing = [p.dts is None for p in c.demux(c.streams.video[0]) if p.size]
    assert (ext == ".mkv") == any(missing[:4])
    out = str(tmp_path / f"joined{ext}")
    joined = join_parts(parts, out)
    assert joined.frames == 40 and joined.first_time == 0 and joined.end_time == Fraction(40, FPS)
    got, want = decoded(out), decoded(parts[0]) + decoded(parts[1])
    assert [t for t, _ in got] == [Fraction(k, FPS) for k in range(40)]
    assert got == want                     # every picture, copied: the same decoded pictures
