"""The media engine: probe, frame source/sink, colour, rotation, audio, atomic output, runner."""
from __future__ import annotations

import threading
import time
from fractions import Fraction

import av
import numpy as np
import pytest
from helpers import may_be_realtime, psnr, video_times

from vidext.errors import Cancelled, InputError, OutputError, ParameterError
from vidext.media.atomic import atomic_output, check_output_path
from vidext.media.frame import Colour, Frame, from_rgb, planes_from_av, to_rgb, to_rgb8, working_layout
from vidext.media.probe import probe
from vidext.media.reader import FrameSource, thumbnails, timed_frames
from vidext.media.runner import Progress, ordered_map, run_pipeline
from vidext.media.writer import FrameSink


def test_probe_reports_streams(clip):
    path = clip(frames=30, fps=25, width=320, height=180)
    info = probe(path)
    v = info.video
    assert (v.width, v.height, v.pix_fmt, v.bit_depth) == (320, 180, "yuv420p", 8)
    assert v.fps_nominal == 25 and v.frame_count == 30 and not v.variable_frame_rate
    assert v.duration_s == pytest.approx(30 / 25)
    assert abs(v.fps_measured - 25) < 0.01
    assert [a.codec for a in info.audio] == ["aac"] and info.audio[0].rate == 48000


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100])
def test_probe_rejects_non_media(tmp_path, content):
    p = tmp_path / "bad.mp4"
    p.write_bytes(content)
    with pytest.raises(InputError):
        probe(str(p))


def test_probe_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        probe(str(tmp_path / "nope.mp4"))


def test_source_streams_frames_with_timestamps(clip):
    path = clip(frames=12, fps=Fraction(30000, 1001))
    with FrameSource(path) as src:
        times = [f.time for f in src]
    assert times == [Fraction(k * 1001, 30000) for k in range(12)]


def _av_frames(*pts):
    frames = []
    for p in pts:
        f = av.VideoFrame(16, 16, "yuv420p")
        f.pts = p
        frames.append(f)
    return frames


def test_timed_frames_one_rule_for_every_reader():
    """A frame's time is its pts, else one step after the frame before; a stream without
    timestamps starts at 0; what cannot be placed or goes backwards is dropped and counted."""
    tb, step = Fraction(1, 1000), Fraction(1, 25)
    dropped = []

    def times(frames, timestamps=True):
        return [t for t, _ in timed_frames(frames, tb, step, timestamps, lambda: dropped.append(1))]

    assert times(_av_frames(None, None, None), timestamps=False) == [0, step, 2 * step]
    assert times(_av_frames(1000, None, 1200)) == [1, 1 + step, Fraction(6, 5)]
    assert dropped == []
    # an untimed frame before any timed one (after a seek) cannot be placed; a repeat goes backwards
    assert times(_av_frames(None, 1000, 1000, 960, 1040)) == [1, Fraction(26, 25)]
    assert len(dropped) == 3


@pytest.mark.parametrize("pix_fmt,codec,ext", [("yuv420p", "ffv1", ".mkv"), ("yuv422p10le", "ffv1", ".mkv"),
                                               ("yuv444p", "ffv1", ".mkv"), ("gbrp", "ffv1", ".mkv")])
def test_sink_round_trip_is_lossless_with_ffv1(tmp_path, clip, pix_fmt, codec, ext):
    src_pix = "bgr0" if pix_fmt == "gbrp" else pix_fmt
    src_path = clip("src" + ext, frames=5, codec="ffv1", pix_fmt=src_pix, tone_hz=None, options={})
    out = str(tmp_path / ("out" + ext))
    with FrameSource(src_path) as src:
        frames = list(src)
        layout, colour = src.layout, src.colour
    with FrameSink(out, width=320, height=180, layout=layout, rate=Fraction(25), codec=codec,
                   colour=colour) as sink:
        for f in frames:
            sink.write(f.planes, f.time)
    with FrameSource(out) as back:
        again = list(back)
    assert back.layout.pix_fmt == layout.pix_fmt
    assert len(again) == len(frames)
    for a, b in zip(frames, again):
        for pa, pb in zip(a.planes, b.planes):
            assert np.array_equal(pa, pb)


@pytest.mark.parametrize("codec,ext,want_fmt", [
    ("h264", ".mp4", "yuv420p"), ("h265", ".mp4", "yuv420p"), ("prores", ".mov", "yuv422p10le"),
    ("dnxhd", ".mov", "yuv422p"), ("ffv1", ".mkv", "yuv420p")])
def test_every_codec_writes_a_decodable_file(tmp_path, clip, codec, ext, want_fmt):
    import vidext
    src = clip(frames=8)
    out = str(tmp_path / ("out" + ext))
    r = vidext.interpolate(src, out, factor=2, codec=codec, quality="fast")
    info = probe(out)
    assert info.video.frame_count == 16 and info.video.pix_fmt == want_fmt
    assert r.frames_out == 16


def test_codec_container_mismatch_is_refused(tmp_path, clip):
    import vidext
    with pytest.raises(ParameterError, match="cannot be written to a .mp4"):
        vidext.interpolate(clip(frames=4), str(tmp_path / "o.mp4"), codec="prores")


def test_ten_bit_and_colour_tags_are_kept(tmp_path, clip):
    import vidext
    src = str(tmp_path / "tagged.mkv")
    with av.open(src, "w") as c:
        s = c.add_stream("ffv1", rate=25)
        s.width, s.height, s.pix_fmt = 128, 96, "yuv420p10le"
        cc = s.codec_context
        cc.colorspace, cc.color_range, cc.color_primaries, cc.color_trc = 1, 2, 1, 1
        for k in range(6):
            y = np.full((96, 128), 64 + 100 * k, np.uint16)
            uv = np.full((48, 64), 512, np.uint16)
            from vidext.media.frame import av_from_planes
            f = av_from_planes((y, uv, uv), working_layout("yuv420p10le"), Colour(1, 2, 1, 1))
            f.pts = k
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    out = str(tmp_path / "out.mkv")
    vidext.interpolate(src, out, factor=2, codec="ffv1")
    v = probe(out).video
    assert v.pix_fmt == "yuv420p10le" and v.bit_depth == 10
    assert v.colour == Colour(1, 2, 1, 1)
    out265 = str(tmp_path / "out.mp4")
    vidext.interpolate(src, out265, factor=2, codec="h265")
    v = probe(out265).video
    assert v.pix_fmt == "yuv420p10le" and v.colour.matrix == 1 and v.colour.range == 2


def test_rotation_is_kept(tmp_path):
    import vidext
    from vidext.media.synth import texture
    src = str(tmp_path / "rot.mp4")
    with av.open(src, "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 160, 96, "yuv420p"
        s.set_display_rotation(90)
        img = texture(96, 160)
        for k in range(6):
            for p in s.encode(av.VideoFrame.from_ndarray(np.roll(img, 2 * k, axis=1), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    assert probe(src).video.rotation == 90
    out = str(tmp_path / "out.mp4")
    vidext.interpolate(src, out, factor=2)
    assert probe(out).video.rotation == 90


def test_rgb_conversion_round_trip(clip):
    with FrameSource(clip(frames=2, tone_hz=None)) as src:
        f = next(iter(src))
    rgb = to_rgb(f)
    assert rgb.shape == (180, 320, 3) and rgb.dtype == np.float32 and 0 <= rgb.min() <= rgb.max() <= 1
    back = from_rgb(rgb, f)
    assert np.abs(back[0].astype(int) - f.planes[0].astype(int)).mean() < 1.5


def test_frame_at_answers_many_times_on_one_source(clip):
    """frame_at seeks forward and back on one open source: the frame shown at each time."""
    path = clip(frames=50, fps=25, width=96, height=64, tone_hz=None)
    with FrameSource(path) as src:
        times = [src.frame_at(Fraction(t)).time for t in ("1.5", "0.3", "0.33", "1.98", "0")]
    assert times == [Fraction(37, 25), Fraction(7, 25), Fraction(8, 25), Fraction(49, 25), 0]   # frames at k/25


@pytest.mark.parametrize("name", ["flv_no_index", "h264_annexb"])
def test_files_that_cannot_seek_still_answer_by_time(tmp_path, name):
    """An FLV without a keyframe index refuses every seek; an H.264 elementary stream has no
    timestamps at all. Both probe, and frame_at gives the frame a sequential read gives."""
    from formats import have_assets, make_variant
    from test_conformance import V

    path = make_variant(str(tmp_path / f"in{V[name].ext}"), V[name], synthetic=not have_assets())
    info = probe(path)
    assert info.video.frame_count == V[name].frames
    assert info.video.timestamps == (name != "h264_annexb")
    with FrameSource(path) as src:
        every = list(src)
    assert len(every) == V[name].frames
    with FrameSource(path) as src:
        for k in (9, 2, 14, 0):
            got = src.frame_at(every[k].time)
            assert got.time == every[k].time and np.array_equal(got.planes[0], every[k].planes[0])
        assert [f.time for f in src.between(every[5].time, every[7].time)] == [f.time for f in every[5:8]]
    from vidext.media.excerpt import write_excerpt      # the app's preview input
    t0 = every[3].time
    assert write_excerpt(info, str(tmp_path / "excerpt.mp4"), t0, t0 + Fraction(2, 5), 96) == 10


@pytest.mark.parametrize("pix_fmt,codec", [("yuv420p", "libx264"), ("bgr0", "ffv1")])   # bgr0: read as gbrp
def test_rgb8_and_thumbnails(clip, pix_fmt, codec):
    path = clip(f"t.{'mkv' if codec == 'ffv1' else 'mp4'}", frames=25, fps=25, width=96, height=64,
                tone_hz=None, codec=codec, pix_fmt=pix_fmt, options={} if codec == "ffv1" else None)
    with FrameSource(path) as src:
        frame = src.frame_at(Fraction(1, 2))
    full = to_rgb8(frame)
    assert full.shape == (64, 96, 3) and full.dtype == np.uint8
    assert np.abs(full.astype(int) - np.rint(to_rgb(frame) * 255).astype(int)).max() <= 2
    thumbs = thumbnails(probe(path), [0.1, 0.5], 48, 32)
    assert [t.shape for t in thumbs] == [(32, 48, 3)] * 2 and np.array_equal(thumbs[1], to_rgb8(frame, 48, 32))
    assert np.abs(thumbs[0].astype(int) - thumbs[1].astype(int)).mean() > 1      # the picture moves


def test_working_layouts():
    assert working_layout("nv12").pix_fmt == "yuv420p"
    assert working_layout("p010le").pix_fmt == "yuv420p10le"
    assert working_layout("rgb24").pix_fmt == "gbrp"
    assert working_layout("yuva444p10le").pix_fmt == "yuva444p10le"      # the alpha plane kept
    assert working_layout("rgba").pix_fmt == "gbrap" and working_layout("rgba").opaque.pix_fmt == "gbrp"
    assert working_layout("yuyv422").pix_fmt == "yuv422p"


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        with atomic_output(str(target)) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with atomic_output(str(target)) as tmp:
        with open(tmp, "wb") as f:
            f.write(b"whole")
    assert target.read_bytes() == b"whole" and len(list(tmp_path.iterdir())) == 1


def test_output_path_checks(tmp_path, clip):
    src = clip()
    with pytest.raises(OutputError, match="is the input"):
        check_output_path(src, (src,))
    with pytest.raises(OutputError, match="folder does not exist"):
        check_output_path(str(tmp_path / "missing" / "o.mp4"))
    with pytest.raises(OutputError, match="is a folder"):
        check_output_path(str(tmp_path))


def test_runner_overlaps_and_keeps_order():
    out = []
    run_pipeline(range(100), lambda xs: (x * 2 for x in xs), out.append, depth=3)
    assert out == [x * 2 for x in range(100)]


def test_ordered_map_runs_items_at_once_and_keeps_their_order():
    import random
    import time

    both = threading.Barrier(2, timeout=10)     # breaks (and fails) unless two calls are in flight together
    rng = random.Random(0)
    delays = [rng.random() * 0.01 for _ in range(40)]

    def work(i):
        if i < 2:
            both.wait()
        time.sleep(delays[i])
        return i * i

    assert list(ordered_map(work, range(40), 2)) == [i * i for i in range(40)]
    assert not [t for t in threading.enumerate() if t.name.startswith("vidext-pair")]


def test_ordered_map_holds_few_items_and_reraises_the_first_error():
    import time

    taken = []

    def items():
        for i in range(10**9):
            taken.append(i)
            yield i

    def work(i):
        if i == 7:
            raise ValueError("bad pair 7")
        time.sleep(0.001)
        return i

    got = []
    with pytest.raises(ValueError, match="bad pair 7"):
        for x in ordered_map(work, items(), 3):
            got.append(x)
    assert got == list(range(7))
    assert len(taken) <= 7 + 3 + 1          # bounded look-ahead: never the whole source
    assert not [t for t in threading.enumerate() if t.name.startswith("vidext-pair")]


def test_ordered_map_stops_when_cancelled():
    stop = threading.Event()
    seen = []
    with pytest.raises(Cancelled):
        for x in ordered_map(lambda i: i, range(1000), 2, stop):
            seen.append(x)
            if x == 5:
                stop.set()
    assert len(seen) < 10
    with pytest.raises(Cancelled):
        list(ordered_map(lambda i: i, range(10), 1, stop))


def test_runner_reraises_worker_errors():
    def compute(xs):
        for x in xs:
            if x == 10:
                raise ValueError("bad frame 10")
            yield x

    with pytest.raises(ValueError, match="bad frame 10"):
        run_pipeline(iter(range(10**9)), compute, lambda x: None, depth=2)


def test_runner_source_error_is_reraised():
    def source():
        yield 1
        raise InputError("corrupt")

    with pytest.raises(InputError, match="corrupt"):
        run_pipeline(source(), lambda xs: xs, lambda x: None)


def test_runner_cancel_stops_every_stage():
    stop = threading.Event()
    seen = []

    def sink(x):
        seen.append(x)
        if x == 5:
            stop.set()

    t0 = time.perf_counter()
    with pytest.raises(Cancelled):
        run_pipeline(iter(range(10**9)), lambda xs: xs, sink, stop=stop, depth=2)
    assert seen[-1] < 20 and time.perf_counter() - t0 < 30
    assert not [t for t in threading.enumerate() if t.name.startswith("vidext-")]


def test_cancelled_job_leaves_no_output(tmp_path, clip):
    import vidext
    stop = threading.Event()
    out = tmp_path / "o.mp4"

    def progress(p: Progress):
        stop.set()

    src = clip(frames=60)
    with pytest.raises(Cancelled):
        vidext.interpolate(src, str(out), factor=4, progress=progress, stop=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_odd_size_is_padded_by_edge_replication_lossless_h264(tmp_path, clip):
    """321×181 into 4:2:0 H.264: padded to 322×182, the picture intact at the top left (crf 0 = lossless)."""
    src_path = clip("odd.mkv", frames=3, width=321, height=181, codec="ffv1", tone_hz=None, options={})
    out = str(tmp_path / "out.mkv")
    with FrameSource(src_path) as src:
        frames = list(src)
        layout, colour = src.layout, src.colour
    assert frames[0].planes[0].shape == (181, 321)
    with FrameSink(out, width=321, height=181, layout=layout, rate=Fraction(25), codec="h264", crf=0,
                   colour=colour) as sink:
        assert sink.padded_to == (322, 182)
        for f in frames:
            sink.write(f.planes, f.time)
    with FrameSource(out) as back:
        again = list(back)
    assert back.video.width == 322 and back.video.height == 182 and back.layout.pix_fmt == "yuv420p"
    assert [f.time for f in again] == [f.time for f in frames]
    for a, b in zip(frames, again):
        for k, (pa, pb) in enumerate(zip(a.planes, b.planes)):
            h, w = pa.shape
            assert pb.shape == ((182, 322) if k == 0 else (91, 161))   # chroma of 321×181 already holds 322×182
            assert np.array_equal(pb[:h, :w], pa)                              # the input, untouched
            assert np.array_equal(pb[:h, w:], np.repeat(pa[:, -1:], pb.shape[1] - w, axis=1))  # edge repeated
            assert np.array_equal(pb[h:, :], np.repeat(pb[h - 1:h, :], pb.shape[0] - h, axis=0))


def test_odd_size_interpolates_to_a_playable_h265_with_sound(tmp_path, clip):
    import json

    import vidext
    src = clip("odd.mkv", frames=10, width=321, height=181, codec="ffv1", options={})   # 4:2:0 with sound
    out = str(tmp_path / "out.mp4")
    r = vidext.interpolate(src, out, factor=2, codec="h265", quality="fast")
    assert r.padded_to == (322, 182)
    side = json.load(open(r.sidecar))
    assert side["output"]["padded_to"] == [322, 182] and side["output"]["size"] == [321, 181]
    info = probe(out)
    assert (info.video.width, info.video.height) == (322, 182) and info.video.frame_count == 20
    assert [a.channels for a in info.audio] == [1]
    with FrameSource(src) as a, FrameSource(out) as b:
        first, again = next(iter(a)), next(iter(b))
    assert again.time == first.time
    # the first output frame is the first input frame through H.265: within codec error at the top left
    assert psnr(again.planes[0][:181, :321], first.planes[0]) > 35


def _saturated_patches(h: int, w: int) -> np.ndarray:
    """Red, green, blue, yellow, cyan and magenta side by side: where YUV matrices differ most."""
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255]])
    idx = np.minimum(np.arange(w) * len(colours) // w, len(colours) - 1)
    return np.broadcast_to(colours[idx][None], (h, w, 3)).astype(np.uint8)


@pytest.mark.parametrize("codec,height,matrix,rng", [("mpeg4", 96, 5, 1), ("mpeg4", 720, 1, 1),
                                                     ("mjpeg", 720, 5, 2)])
def test_untagged_codecs_get_the_matrix_players_assume(tmp_path, codec, height, matrix, rng):
    """MPEG-4 Part 2 and JPEG store no colour description: players read SD MPEG-4 as BT.601, HD as
    BT.709, JPEG always as BT.601 full range. RGB pictures, and YUV pictures tagged with the other
    matrix, are converted to what will be assumed, so the colours survive."""
    w = 192
    rgb = _saturated_patches(height, w)
    gbrp = working_layout("gbrp")
    rgb_planes = tuple(np.ascontiguousarray(rgb[..., k]) for k in (1, 2, 0))      # G, B, R
    other = 1 if matrix == 5 else 5
    tagged = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format="yuv444p", dst_colorspace=other, dst_color_range=1)
    yuv_planes = planes_from_av(tagged, working_layout("yuv444p"))
    cases = [(gbrp, rgb_planes, Colour()), (working_layout("yuv444p"), yuv_planes, Colour(other, 1, 2, 2))]
    for k, (layout, planes, colour) in enumerate(cases):
        out = str(tmp_path / f"o{k}.avi")
        with FrameSink(out, width=w, height=height, layout=layout, rate=Fraction(25), codec=codec,
                       colour=colour) as sink:
            for i in range(3):
                sink.write(planes, Fraction(i, 25))
        with av.open(out) as c:
            f = next(c.decode(video=0))
        seen = f.reformat(format="rgb24", src_colorspace=matrix, src_color_range=rng).to_ndarray()
        err = np.abs(seen.astype(int) - rgb.astype(int))[:, 8:-8].mean(axis=(0, 1))   # patch edges blur
        assert err.max() < 6, (layout.pix_fmt, err)


def test_interlaced_streams_are_deinterlaced_by_every_reader(tmp_path):
    """Fields woven from two instants comb every moving edge; probe says the stream is
    interlaced and the readers give progressive pictures at the frame rate, times kept."""
    from vidext.media.excerpt import write_excerpt
    from vidext.media.synth import shifted, texture

    h, w, n = 96, 160, 12
    tex = texture(h + 64, w + 160, 0)
    path = str(tmp_path / "woven.mp4")
    with av.open(path, "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "4", "x264-params": "interlaced=1:tff=1"}
        for k in range(n):
            woven = shifted(tex, 12.0 * k, 0, h, w).copy()
            woven[1::2] = shifted(tex, 12.0 * k + 6, 0, h, w)[1::2]    # the second field, 1/50 s later
            f = av.VideoFrame.from_ndarray(woven, format="rgb24").reformat(format="yuv420p")
            f.pts = k
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)

    def comb(y):
        y = y.astype(float)
        return np.abs(y[1:-1] - (y[:-2] + y[2:]) / 2).mean()

    info = probe(path)
    assert info.video.interlaced
    with av.open(path) as c:
        raw = [f.to_ndarray()[:h] for f in c.decode(video=0)]
    with FrameSource(path) as src:
        frames = list(src)
    assert [f.time for f in frames] == [Fraction(k, 25) for k in range(n)]
    for k in (3, 6, 9):
        assert comb(frames[k].planes[0]) < 0.5 * comb(raw[k])
    with FrameSource(path) as src:                # a seek gives the same pictures
        again = src.frame_at(frames[6].time)
    assert np.abs(again.planes[0].astype(int) - frames[6].planes[0].astype(int)).mean() < 1.0
    assert write_excerpt(info, str(tmp_path / "x.mp4"), Fraction(0), Fraction(1), 160) == n


def test_frame_at_the_start_of_a_late_clocked_transport_stream(tmp_path):
    """A seek to an MPEG-TS's first timestamp can land past its only keyframe, and then nothing
    decodes (B-frames put the keyframe's decoding time before the stream's start): the first frame
    is reached by opening the file again (the app's filmstrip showed
    'has no frame at 2.8 s' for a camera-style TS)."""
    from formats import have_assets, make_variant, variant

    src = make_variant(str(tmp_path / "in.ts"),
                       variant("ts", ext=".ts", clock_s=1.4, frames=40,
                               options={"preset": "veryfast", "g": "1000", "bf": "2"}),
                       synthetic=not have_assets())
    info = probe(src)
    assert info.video.start_s > 1.0
    with FrameSource(src, info) as source:
        times = [f.time for f in source]
        for t in (times[0], times[25]):
            assert source.frame_at(t).time == t
    assert len(thumbnails(info, [float(times[0]), float(times[25])], 32, 16)) == 2


@pytest.mark.skipif("libsvtav1" not in av.codecs_available, reason="this PyAV has no SVT-AV1 encoder")
def test_an_av1_encoder_leaves_the_threads_scheduling_as_it_was(clip, tmp_path):
    """SVT-AV1 makes the thread that opens it, and its own threads, SCHED_FIFO at priority 99 and never
    puts them back; every thread the opener starts later inherits it.  In the web app the opener is a
    worker of the job pool, reused by every later job: a real-time job thread then keeps the CPU and the
    interpreter lock from the event loop for a second at a time.  Written from a thread of its own here,
    as a job is: that thread, a thread it starts afterwards and the encoder's threads stay as they were."""
    from vidext.media.scheduling import REALTIME, policy, threads

    if not may_be_realtime():
        pytest.skip("this process may not make a thread real-time: SVT-AV1's own switch fails here too")
    src = clip("src.mp4", frames=3, width=64, height=64, tone_hz=None)
    seen: dict = {}

    def job():
        try:
            seen["before"] = policy()
            with FrameSource(src) as s:
                frames = list(s)
            with FrameSink(str(tmp_path / "out.mkv"), width=64, height=64, layout=s.layout, rate=Fraction(25),
                           codec="av1") as sink:
                seen["encoding"] = [p for t in threads() if (p := policy(t)) is not None and p[0] in REALTIME]
                for f in frames:
                    sink.write(f.planes, f.time)
            seen["after"] = policy()
            later = threading.Thread(target=lambda: seen.update(later=policy()))
            later.start()
            later.join()
        except BaseException as exc:  # handed to the test
            seen["error"] = exc

    t = threading.Thread(target=job)
    t.start()
    t.join()
    assert "error" not in seen, seen.get("error")
    assert seen["encoding"] == [], f"{len(seen['encoding'])} real-time threads while encoding"
    assert seen["after"] == seen["before"] and seen["later"] == seen["before"], seen


def test_probe_calls_ntsc_rate_in_matroska_constant(clip):
    """29.97 fps in Matroska's millisecond time base comes as 33 and 34 ms steps: the rounding of the
    container, not a variable rate or missing frames (the app said "29.97 fps with frames missing")."""
    path = clip("ntsc.mkv", frames=60, fps=Fraction(30000, 1001), width=64, height=48, codec="ffv1",
                tone_hz=None, options={})
    steps = {round(float(b - a), 3) for a, b in zip(video_times(path), video_times(path)[1:])}
    assert steps == {0.033, 0.034}        # the container's rounding is there
    v = probe(path).video
    assert not v.variable_frame_rate and not v.gapped
    assert v.fps_nominal == Fraction(30000, 1001) and v.frame_count == 60


def test_a_dropped_frame_does_not_change_the_nominal_rate(tmp_path):
    """A 29.97 fps phone clip with one frame dropped: MP4's average rate (frames over duration) says 29.47, and
    every job wrote its output at that rate, re-timing the real frames (extend wrote "121 frames at 29.6443 fps"
    for carphone with one frame dropped).  The frames' own step is 1001/30000 s: that is the rate."""
    path = str(tmp_path / "dropped.mp4")
    with av.open(path, "w") as c:
        s = c.add_stream("mjpeg", rate=Fraction(30000, 1001))
        s.width, s.height, s.pix_fmt = 64, 48, "yuvj420p"
        s.codec_context.time_base = Fraction(1001, 30000)
        for k in range(60):
            if k == 30:
                continue
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), k * 4, np.uint8), format="rgb24")
            f = f.reformat(format="yuvj420p")
            f.pts, f.time_base = k, Fraction(1001, 30000)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    with av.open(path) as c:
        assert c.streams.video[0].average_rate != Fraction(30000, 1001)   # the header's average is off
    v = probe(path).video
    assert v.fps_nominal == Fraction(30000, 1001) and v.rate == Fraction(30000, 1001)
    assert v.frame_count == 59 and not v.variable_frame_rate
