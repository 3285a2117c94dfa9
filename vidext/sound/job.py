"""One audio job end to end: stretch or extend a sound, or put a sound on a video; atomic, with a sidecar."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass, field

import av
import numpy as np

from .. import __version__, config
from ..errors import Cancelled, InputError, ParameterError
from ..media.codecs import AUDIO_CONTAINERS, CONTAINERS, VIDEO_CONTAINERS
from ..media.atomic import atomic_output, check_output_path, write_sidecar
from ..media.probe import probe
from ..media.runner import ProgressCallback, ProgressMeter
from ..timemap import TimeMap
from .feeds import ExtendedAudio, RetimedAudio
from .stretch import check_factor

_VIDEO_FORMATS = {e: CONTAINERS[e].format for e in VIDEO_CONTAINERS}   # one table: vidext.media.codecs
_AUDIO_FORMATS = {e: CONTAINERS[e].format for e in AUDIO_CONTAINERS}


@dataclass
class AudioResult:
    """What an audio job wrote."""

    output: str
    sidecar: str
    operation: str               # stretch | extend | remux
    duration_s: float            # of the written sound
    picture_s: float | None      # of the picture (video outputs)
    codec: str
    seconds: float
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _check_direction(direction: str) -> None:
    if direction not in ("forward", "backward", "both"):
        raise ParameterError(f"direction must be forward, backward or both, got {direction!r}")


def run_audio_job(input: str, output: str, *, stretch=None, extend=None, direction: str = "forward",
                  method: str = "loop", prompt: str | None = None, audio_file: str | None = None,
                  seed: int | None = None, progress: ProgressCallback | None = None,
                  stop: threading.Event | None = None, stretcher: str = config.DEFAULT_STRETCHER,
                  **method_options) -> AudioResult:
    t0 = time.perf_counter()
    chosen = [k for k, v in (("stretch", stretch), ("extend", extend), ("audio_file", audio_file)) if v is not None]
    if len(chosen) != 1:
        raise ParameterError("give exactly one of stretch, extend or audio_file")
    out = check_output_path(output, (input,) + ((audio_file,) if audio_file else ()))
    ext = os.path.splitext(out)[1].lower()
    info = probe(input)
    if audio_file is not None:
        if info.video is None:
            raise InputError(f"{os.path.basename(input)} has no video stream to put {os.path.basename(audio_file)} on")
        if ext not in _VIDEO_FORMATS:
            raise ParameterError(f"output {os.path.basename(out)}: a video needs a video container "
                                 f"({', '.join(_VIDEO_FORMATS)})")
        sound = probe(audio_file)
        if not sound.audio:
            raise InputError(f"{os.path.basename(audio_file)} has no audio stream")
        picture = info.video.duration_s
        have = sound.audio[0].duration_s or sound.duration_s
        feed = ExtendedAudio(audio_file, out, 0.0, max(0.0, picture - have), "silence",
                             original_s=min(have, picture), start_s=info.video.start_s)
        operation, params = "remux", {"audio_file": audio_file}
    else:
        if info.video is not None:
            cmd = "interpolate --slowmo" if stretch is not None else "extend"
            raise ParameterError(f"{os.path.basename(input)} has a picture: stretching or extending only its sound "
                                 f"would break sync; use `vidext {cmd}` (it retimes both)")
        if not info.audio:
            raise InputError(f"{os.path.basename(input)} has no audio stream")
        if ext not in _AUDIO_FORMATS:
            raise ParameterError(f"output {os.path.basename(out)}: sound needs an audio container "
                                 f"({', '.join(_AUDIO_FORMATS)})")
        a = info.audio[0]
        dur = a.duration_s or info.duration_s
        if stretch is not None:
            factor = check_factor(stretch)
            from fractions import Fraction

            m = TimeMap.uniform(0, Fraction(dur).limit_denominator(10**6), Fraction(factor).limit_denominator(10**6))
            feed = RetimedAudio(input, m, out, start_s=0.0, stretcher=stretcher)
            operation, params = "stretch", {"stretch": factor, "stretcher": stretcher}
        else:
            _check_direction(direction)
            seconds = float(extend)
            if seconds <= 0:
                raise ParameterError(f"extend must be a positive number of seconds, got {seconds:g}")
            before = seconds if direction in ("backward", "both") else 0.0
            after = seconds if direction in ("forward", "both") else 0.0
            feed = ExtendedAudio(input, out, before, after, method, prompt, seed, original_s=dur, **method_options)
            operation = "extend"
            params = {"extend": seconds, "direction": direction, "method": method, "prompt": prompt, "seed": seed}
    picture = info.video.duration_s if audio_file is not None else None
    with atomic_output(out) as tmp:
        fmt = (_VIDEO_FORMATS if audio_file is not None else _AUDIO_FORMATS)[ext]
        total_s = picture if picture is not None else _planned_seconds(feed)
        _write(input if audio_file is not None else None, feed, tmp, fmt, total_s, progress, stop)
    record = {"tool": "vidext", "version": __version__, "command": "audio", "operation": operation,
              "parameters": params, "input": info.as_dict(),
              "output": {"path": out, "audio_codec": feed.codec, "audio_s": feed.duration_s,
                         "picture_s": picture},
              "details": getattr(feed, "details", {}),
              "timings": {"seconds": round(time.perf_counter() - t0, 3)}}
    sidecar = write_sidecar(out, record)
    return AudioResult(out, sidecar, operation, feed.duration_s, picture, feed.codec,
                       time.perf_counter() - t0, record)


def _planned_seconds(feed) -> float | None:
    if isinstance(feed, RetimedAudio):
        return float(feed.timemap.out_end - feed.timemap.out_start)
    if feed.original_s is not None:
        return feed.before_s + feed.original_s + feed.after_s
    return None


def _write(video_from: str | None, feed, path: str, fmt: str, total_s: float | None, progress, stop) -> None:
    """Write ``feed`` (and the video stream of ``video_from``, copied) into ``path``.

    Progress counts tenths of a second of output.
    """
    meter = ProgressMeter(None if total_s is None else int(np.ceil(total_s * 10)), progress, stage="audio")
    step = config.AUDIO_BLOCK_S * 4
    done = 0
    with av.open(path, "w", format=fmt) as c:
        src = None
        if video_from is not None:
            src = av.open(video_from, metadata_errors="ignore")
            vin = src.streams.video[0]
            vout = c.add_stream_from_template(vin)
        try:
            feed.open(c)
            if src is not None:
                for pkt in src.demux(vin):
                    if pkt.dts is None and pkt.pts is None:
                        continue
                    if stop is not None and stop.is_set():
                        raise Cancelled("the job was cancelled")
                    if pkt.pts is not None:
                        t = float(pkt.pts * pkt.time_base)
                        feed.write_until(t)
                        meter.advance(max(0, int(t * 10) - done))
                        done = max(done, int(t * 10))
                    pkt.stream = vout
                    c.mux(pkt)
            else:
                t = 0.0
                while True:
                    if stop is not None and stop.is_set():
                        raise Cancelled("the job was cancelled")
                    before = feed.samples_written
                    t += step
                    feed.write_until(t)
                    if feed.samples_written == before:
                        break
                    meter.advance(int(t * 10) - done)
                    done = int(t * 10)
            feed.finish()
        finally:
            feed.close()
            if src is not None:
                src.close()
    meter.finish()
