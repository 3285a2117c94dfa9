"""One audio job end to end: stretch or extend a sound, or put a sound on a video; atomic, with a sidecar."""
from __future__ import annotations

import os
import threading
from dataclasses import replace
from fractions import Fraction

from .. import config
from ..errors import InputError, ParameterError
from ..media.codecs import AUDIO_CONTAINERS, CONTAINERS, VIDEO_CONTAINERS, container_spec
from ..media.atomic import atomic_job_output, check_output_path, sidecar_header
from ..media.probe import MediaInfo, probe
from ..media.mux import CopyAudio
from ..media.remux import takes_copied_picture, write_audio
from ..media.streamwords import fit_words
from ..media.streams import Carried, OutputStreams, dropped_stream, identity, shifted
from ..media.transcode import streams_record
from ..media.runner import JobProgress, ProgressCallback, Stage
from ..plan import Plan, media_info, sides, summary_line
from ..timemap import TimeMap
from ..sound.feeds import ExtendedAudio, RetimedAudio
from ..sound.stretch import check_factor
from .extend import _ONE_TRACK_METHODS
from .result import AudioResult, add_playable, finish_job, playable_stages

_VIDEO_FORMATS = {e: CONTAINERS[e].format for e in VIDEO_CONTAINERS}   # one table: vidext.media.codecs
_AUDIO_FORMATS = {e: CONTAINERS[e].format for e in AUDIO_CONTAINERS}


def plan_audio(input: str | MediaInfo, *, stretch=None, extend=None, direction: str = "forward",
               audio_file: str | None = None, **settings) -> Plan:
    """What :func:`vidext.audio` with these settings will write: a :class:`~vidext.plan.Plan`.

    ``input`` is a path or a probe; takes the same keyword arguments as
    ``audio`` (``method``, ``prompt`` ... do not change the timing and are
    ignored).  ``frames_out`` and ``rate`` are the copied picture's (0 for a
    sound-only output); ``duration_s`` is the sound's planned length.
    """
    choose_operation(stretch, extend, audio_file)
    info = media_info(input, need_video=False)
    if audio_file is not None:
        if info.video is None:
            raise InputError(f"{os.path.basename(info.path)} has no video stream to put "
                             f"{os.path.basename(audio_file)} on")
        picture = info.video.duration_s
        frames = info.video.frame_count or round(picture * float(info.video.fps_nominal))
        sound = probe(audio_file)
        if not sound.audio:
            raise InputError(f"{os.path.basename(audio_file)} has no audio stream")
        have = sound.default_audio.duration_s or sound.duration_s
        fit = sound_fit(have, picture)
        words = fit_words({"as": fit, "source_s": have}, picture)
        return Plan("audio", picture, picture, info.video.fps_nominal, frames, None,
                    summary_line(picture, picture, frames, info.video.fps_nominal)
                    + f" · sound replaced by {os.path.basename(audio_file)}, {words}",
                    {"info": info, "operation": "remux", "sound": sound, "sound_s": have, "fit": fit})
    if info.video is not None:
        cmd = "interpolate --slowmo" if stretch is not None else "extend"
        raise ParameterError(f"{os.path.basename(info.path)} has a picture: stretching or extending only its "
                             f"sound would break sync; use `vidext {cmd}` (it retimes both)")
    if not info.audio:
        raise InputError(f"{os.path.basename(info.path)} has no audio stream")
    dur = info.default_audio.duration_s or info.duration_s
    if stretch is not None:
        factor = check_factor(stretch)
        timemap = TimeMap.uniform(0, Fraction(dur).limit_denominator(10**6), Fraction(factor).limit_denominator(10**6))
        out = float(timemap.out_end - timemap.out_start)
        return Plan("audio", dur, out, Fraction(0), 0, None, summary_line(dur, out, 0, Fraction(0))
                    + f" · stretched {factor:g}×", {"info": info, "operation": "stretch", "factor": factor,
                                                   "timemap": timemap})
    try:
        seconds = float(extend)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"extend must be a number of seconds, got {extend!r}") from exc
    if not seconds > 0:
        raise ParameterError(f"extend must be a positive number of seconds, got {seconds:g}")
    before, after = sides(seconds, direction)
    out = before + dur + after
    return Plan("audio", dur, out, Fraction(0), 0, None,
                summary_line(dur, out, 0, Fraction(0)) + f" · extended {direction}",
                {"info": info, "operation": "extend", "seconds": seconds, "before_s": before, "after_s": after,
                 "direction": direction})


#: a sound put on a picture within this of the picture's length is called as long as it (one AAC frame at
#: 48 kHz is 21 ms; the sidecar records both lengths exactly)
SOUND_FITS_S = 0.02


def sound_fit(sound_s: float, picture_s: float) -> str:
    """How a sound of ``sound_s`` is made to fit a picture of ``picture_s``: ``cut``, ``padded`` (with
    silence) or ``whole`` (as long as the picture, within :data:`SOUND_FITS_S`)."""
    if sound_s > picture_s + SOUND_FITS_S:
        return "cut"
    if sound_s < picture_s - SOUND_FITS_S:
        return "padded"
    return "whole"


def choose_operation(stretch, extend, audio_file) -> str:
    """The one operation asked for: stretch, extend or remux."""
    chosen = [k for k, v in (("stretch", stretch), ("extend", extend), ("remux", audio_file)) if v is not None]
    if len(chosen) != 1:
        raise ParameterError("give exactly one of stretch, extend or audio_file")
    return chosen[0]


def _container(out: str, video: bool) -> str:
    """The container format of ``out`` (a video container for a picture, an audio one for sound)."""
    ext = os.path.splitext(out)[1].lower()
    table = _VIDEO_FORMATS if video else _AUDIO_FORMATS
    if ext not in table:
        what = "a video needs a video container" if video else "sound needs an audio container"
        raise ParameterError(f"output {os.path.basename(out)}: {what} ({', '.join(table)})")
    return table[ext]


def _check_picture_fits(info: MediaInfo, out: str, fmt: str) -> None:
    """The picture is copied untouched: an output container that cannot hold its codec is refused up
    front, naming the containers that can (FFmpeg's muxer once raised it half-way, as an internal error)."""
    if takes_copied_picture(info.path, fmt):
        return
    fits = [e for e, f in _VIDEO_FORMATS.items() if f != fmt and takes_copied_picture(info.path, f, listed=True)]
    raise ParameterError(f"output {os.path.basename(out)}: the {os.path.splitext(out)[1].lstrip('.').upper()} "
                         f"container cannot hold {info.video.codec} video, which putting a sound on a video "
                         f"copies as it is; name the output {' or '.join(fits) or 'as the input is'}")


def _feed(plan: Plan, input: str, out: str, *, audio_file, method, prompt, seed, stretcher, method_options):
    """Everything the output carries (:class:`~vidext.media.streams.OutputStreams`: the planned sound on every
    track, subtitles, chapters, tags through the same timing), and the parameters recorded for it."""
    d = plan.details
    info: MediaInfo = d["info"]
    if d["operation"] == "remux":
        return _remux_streams(plan, info, input, out, audio_file), {"audio_file": audio_file}
    main = info.default_audio
    if d["operation"] == "stretch":
        def feed(a):
            return RetimedAudio(input, d["timemap"], out, start_s=0.0, stretcher=stretcher, stream_index=a.index)
        to_output, params = d["timemap"].to_output, {"stretch": d["factor"], "stretcher": stretcher}
    else:
        def feed(a):    # a continuation prompted with one track (musicgen) is the main track's; the others loop
            m = method if a is main or method not in _ONE_TRACK_METHODS else "loop"
            return ExtendedAudio(input, out, d["before_s"], d["after_s"], m, prompt, seed,
                                 original_s=plan.duration_in_s if a is main else None, stream_index=a.index,
                                 **(method_options if m == method else {}))
        to_output = shifted(Fraction(d["before_s"]).limit_denominator(10**6)
                            - Fraction(main.start_s).limit_denominator(10**6))
        params = {"extend": d["seconds"], "direction": d["direction"], "method": method, "prompt": prompt,
                  "seed": seed}
    spec = container_spec(out)
    room = spec.audio_tracks if spec is not None and spec.audio_tracks else len(info.audio)
    usable = [a for a in [main] + [a for a in info.audio if a is not main] if a.codec != "unknown"]
    kept = {a.index for a in usable[:room]}          # the main track first where room is short
    dropped = [dropped_stream(info.stream(a.index), "its codec is one FFmpeg does not know")
               for a in info.audio if a.codec == "unknown"]
    dropped += [dropped_stream(info.stream(a.index), f"the {os.path.splitext(out)[1].lstrip('.').upper()} "
                                                     f"container holds {room} sound track(s): the default one is "
                                                     f"kept")
                for a in info.audio if a.codec != "unknown" and a.index not in kept]
    tracks = [(feed(a), info.stream(a.index)) for a in info.audio if a.index in kept]
    return OutputStreams(tracks, Carried(info, out, to_output), dropped), params


def _remux_streams(plan: Plan, info: MediaInfo, input: str, out: str, audio_file: str) -> OutputStreams:
    """The video's streams with ``audio_file``'s sound in place of its default track (cut or padded with
    silence to the picture, as planned: the track's ``as`` says which); its other tracks, subtitles,
    chapters and tags copied as they are."""
    sound, have, picture = plan.details["sound"], plan.details["sound_s"], plan.duration_s
    new = sound.default_audio
    feed = ExtendedAudio(audio_file, out, 0.0, max(0.0, picture - have), "silence", original_s=min(have, picture),
                         start_s=info.video.start_s, stream_index=new.index)
    feed.treatment, feed.source_s = plan.details["fit"], have     # the sidecar's words: not "extended"
    replaced = info.default_audio
    described = replace(sound.stream(new.index), disposition=["default"])
    tracks, dropped = [], []
    for a in info.audio:
        if replaced is not None and a.index == replaced.index:
            tracks.append((feed, described))
            dropped.append(dropped_stream(info.stream(a.index),
                                          f"replaced by the sound of {os.path.basename(audio_file)}"))
        elif a.codec == "unknown":
            dropped.append(dropped_stream(info.stream(a.index), "its codec is one FFmpeg does not know"))
        else:
            tracks.append((CopyAudio(input, a.index, output_path=out), info.stream(a.index)))
    if replaced is None:
        tracks.append((feed, described))
    return OutputStreams(tracks, Carried(info, out, identity), dropped)


def run_audio_job(input: str, output: str, *, stretch=None, extend=None, direction: str = "forward",
                  method: str = "loop", prompt: str | None = None, audio_file: str | None = None,
                  seed: int | None = None, progress: ProgressCallback | None = None,
                  stop: threading.Event | None = None, stretcher: str = config.DEFAULT_STRETCHER,
                  playable: bool = False, **method_options) -> AudioResult:
    """The job behind :func:`vidext.audio` (same arguments)."""
    job = JobProgress(progress, [])     # the wait starts here; its stages are known once planned
    # 1. check inputs
    choose_operation(stretch, extend, audio_file)
    if playable and audio_file is None:
        raise ParameterError("playable applies to a video output (a sound put on a video with audio_file); "
                             "a sound-only output has no picture to render")
    out = check_output_path(output, (input,) + ((audio_file,) if audio_file else ()))
    # 2. plan
    plan = plan_audio(input, stretch=stretch, extend=extend, direction=direction, audio_file=audio_file)
    info, operation = plan.details["info"], plan.details["operation"]
    remux = operation == "remux"
    fmt = _container(out, video=remux)
    if remux:
        _check_picture_fits(info, out, fmt)
    streams, params = _feed(plan, input, out, audio_file=audio_file, method=method, prompt=prompt, seed=seed,
                            stretcher=stretcher, method_options=method_options)
    picture = plan.duration_s if remux else None
    # 3. run: the sound, then the complete sidecar, then both into place
    main = streams.main
    total_s = picture if remux else _planned_seconds(main)
    stages = [Stage("sound", "writing the sound", max(total_s or 1.0, 1.0) * SOUND_S_PER_S)]
    if remux:
        v = info.video
        stages += playable_stages(playable, info, out, v.codec,
                                  v.frame_count or round(v.duration_s * float(v.fps_nominal)))
    job.plan(stages)
    with job:
        with atomic_job_output(out) as (tmp, sidecar):
            write_audio(tmp, fmt, streams, video_from=input if remux else None, total_s=total_s,
                        progress=job.enter("sound"), stop=stop)
            record = {**sidecar_header("audio", operation=operation, parameters=params, input=info.as_dict()),
                      "output": {"path": out, "audio_codec": main.codec, "audio_s": main.duration_s,
                                 "picture_s": picture, **streams_record(streams)},
                      "details": getattr(main, "details", {}),
                      "timings": job.timings()}
            sidecar.write(record)
        # 4. result
        result = AudioResult(out, sidecar.path, operation, main.duration_s, picture, main.codec,
                             job.elapsed, record)
        if playable and remux:   # a video was written: the same rendition as the video jobs
            add_playable(result, job, write=False)
        finish_job(result, job)
    return result


#: the sound's share of the bar: seconds of work per second of sound written (decoding, stretching or
#: continuing, encoding); only against the playable copy's share
SOUND_S_PER_S = 0.05


def _planned_seconds(feed) -> float | None:
    if isinstance(feed, RetimedAudio):
        return float(feed.timemap.out_end - feed.timemap.out_start)
    if feed.original_s is not None:
        return feed.before_s + feed.original_s + feed.after_s
    return None
