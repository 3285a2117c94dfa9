"""A short, scaled-down, near-lossless excerpt of a video (the app's preview input)."""
from __future__ import annotations

import os
from fractions import Fraction

from .probe import MediaInfo, open_input, video_stream
from .reader import decode_video, stream_time_base, timed_frames


def write_excerpt(info: MediaInfo, path: str, t0: Fraction, t1: Fraction, max_width: int) -> int:
    """Frames of ``info.path`` shown in [t0, t1), at most ``max_width`` wide, as an h264 clip; returns how many."""
    import av

    video = info.video
    w = min(max_width, video.width)
    h = max(2, round(video.height * w / video.width / 2) * 2)
    w -= w % 2
    n = 0
    with open_input(info.path) as src, av.open(path, "w") as dst:
        stream = video_stream(src)
        stream.thread_type = "AUTO"
        tb = stream_time_base(stream)
        rate = video.fps_nominal
        out = dst.add_stream("libx264", rate=rate)
        out.width, out.height, out.pix_fmt = w, h, "yuv420p"
        out.options = {"crf": "10", "preset": "ultrafast"}
        out.codec_context.time_base = 1 / rate
        last = None
        decoded = decode_video(src, stream, os.path.basename(info.path))
        for t, frame in timed_frames(decoded, tb, 1 / rate, video.timestamps):
            if t < t0:
                continue
            if t >= t1:
                break
            small = frame.reformat(width=w, height=h, format="yuv420p")
            pts = round((t - t0) * rate)
            if last is not None and pts <= last:
                continue
            small.pts, small.time_base, last = pts, 1 / rate, pts
            for p in out.encode(small):
                dst.mux(p)
            n += 1
        for p in out.encode():
            dst.mux(p)
    return n
