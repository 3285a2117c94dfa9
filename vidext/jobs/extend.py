"""One extension job: check inputs → plan → run → result.

:func:`plan_extend` is the single planning source; :func:`run_extension` is what
:func:`vidext.extend` calls.  The frames come from the extension pipeline
(:mod:`vidext.extension.pipeline`); the sound follows through
:class:`vidext.sound.feeds.ExtendedAudio`.
"""
from __future__ import annotations

import math
import threading
from fractions import Fraction

from .. import config
from ..errors import ParameterError
from ..config import Limits
from ..limits import check_video
from ..media.atomic import check_output_path, sidecar_header
from ..media.transcode import run_video_job
from ..media.probe import MediaInfo
from ..media.streams import Carried, OutputStreams, dropped_stream, shifted
from ..media.runner import JobProgress, Stage
from ..plan import Plan, check_direction, media_info, sides, summary_line
from ..extension.pipeline import ShownFrames, extension_compute, plans_up_front
from .result import JobResult, add_playable, finish_job, playable_stages

#: shares of the bar: choosing a method (auto, per extended end: candidates measured on a small
#: proxy) against rendering one output frame (decoding or synthesising, encoding), in seconds
CHOOSING_S_PER_SIDE = 2.0
RENDER_S_PER_FRAME = 0.02
RENDER_S_PER_MP = 0.03


#: a variable-rate clip's own frames keep their uneven times in the extended file, stored to the
#: millisecond (Matroska's own unit; finer than any player shows)
VFR_TIME_BASE = Fraction(1, 1000)

def _check_seconds(seconds, method: str) -> float:
    from ..extension import EXTENDERS

    limit = config.GENERATIVE_MAX_SECONDS if EXTENDERS.is_generative(method) else config.EXTEND_MAX_SECONDS
    try:
        seconds = float(seconds)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"seconds must be a number, got {seconds!r}") from exc
    if not (math.isfinite(seconds) and 0 < seconds <= limit):
        raise ParameterError(f"seconds must be in (0, {limit:g}] for {method}, got {seconds:g}")
    return seconds


def plan_extend(input: str | MediaInfo, *, seconds: float, direction: str = "forward",
                method: str = config.DEFAULT_EXTEND_METHOD, **settings) -> Plan:
    """What :func:`vidext.extend` with these settings will write: a :class:`~vidext.plan.Plan`.

    ``input`` is a path or a probe; takes the same keyword arguments as
    ``extend`` (those that do not change the timing are ignored).  New frames
    continue the clip's own grid: ``round(seconds × rate)`` (at least one)
    per extended end, at the rate the clip plays (a variable-rate clip's real average,
    :attr:`~vidext.media.probe.VideoInfo.rate`; its own frames keep their times); ``plan.details``
    holds ``frames_before`` and ``frames_after``.
    """
    from ..extension import EXTENDERS

    EXTENDERS.entry(method)
    seconds = _check_seconds(seconds, method)
    info = media_info(input)
    rate = info.video.rate
    new = max(1, round(Fraction(seconds).limit_denominator(10**6) * rate))
    before, after = sides(new, direction)
    frames_in = info.video.frame_count or round(info.video.duration_s * float(rate))
    frames = frames_in + before + after
    duration = info.video.duration_s + float((before + after) / rate)
    line = summary_line(info.video.duration_s, duration, frames, rate) + f" · {method} {direction}"
    retimed = {}
    if method == "ramp":        # a speed ramp names the real frames it retimes (the whole clip as one shot)
        from ..extension.ramp import plan_ramp

        for side, count in (("backward", before), ("forward", after)):
            if count:
                ramp = plan_ramp(count, (frames_in - 1) // (2 if before and after else 1), rate)
                retimed[side] = ramp.replaced
                which = "last" if side == "forward" else "first"
                line += (f" · the {which} {ramp.replaced} frames ({ramp.replaced / float(rate):.2f} s) slow down "
                         f"to play {ramp.length / float(rate):.2f} s (pictures kept, times changed)")
    return Plan("extend", info.video.duration_s, duration, rate, frames, None, line,
                {"info": info, "frames_in": frames_in, "frames_before": before, "frames_after": after,
                 "seconds": seconds, "retimed": retimed})


#: sound continuations that make something new from one track (prompted with it): the default track
#: gets it, the others the classical loop over the same lengths
_ONE_TRACK_METHODS = ("musicgen",)


def extension_streams(info: MediaInfo, input: str, out: str, *, before_s: Fraction, after_s: Fraction,
                      rate: Fraction, audio_method: str, prompt: str | None = None, seed: int | None = None,
                      shown: ShownFrames | None = None) -> OutputStreams:
    """Everything the extended output carries beside the picture: every sound track extended by the
    same lengths (followed or continued), subtitles, chapters and tags shifted by ``before_s``."""
    from ..sound.feeds import ExtendedAudio

    main = info.default_audio
    tracks, dropped = [], []
    for a in info.audio:
        if a.codec == "unknown":
            dropped.append(dropped_stream(info.stream(a.index), "its codec is one FFmpeg does not know"))
            continue
        method = audio_method
        if method in _ONE_TRACK_METHODS and a is not main:
            method = "loop"
        feed = ExtendedAudio(input, out, before_s=float(before_s), after_s=float(after_s), method=method,
                             prompt=prompt, seed=seed, original_s=info.video.duration_s, start_s=info.video.start_s,
                             stream_index=a.index, shown=shown)
        tracks.append((feed, info.stream(a.index)))
    later = None
    if shown is not None and shown.up_front:     # every side planned before the first frame is written
        def later():
            return picture_map(shown, before_s, after_s)
    carried = Carried(info, out, shifted(before_s), rate=rate, later=later)
    return OutputStreams(tracks, carried, dropped)


def picture_map(shown: ShownFrames, before_s: Fraction, after_s: Fraction):
    """Input time → output time of an extension's picture: everything ``before_s`` later, except a side
    that retimes real frames (a speed ramp), whose stretch follows that side's own time map, anchored
    where it meets the untouched frames (the sound's anchoring: :class:`vidext.sound.feeds.ExtendedAudio`)."""
    back = shown.retimed("backward") if before_s else None
    fwd = shown.retimed("forward") if after_s else None
    back, fwd = back and back[0], fwd and fwd[0]

    def to_output(t: Fraction) -> Fraction:
        if back is not None and t < back.in_end:
            return back.in_end + before_s - (back.out_end - back.to_output(t))
        if fwd is not None and t >= fwd.in_start:
            return fwd.in_start + before_s + (fwd.to_output(t) - fwd.out_start)
        return t + before_s
    return to_output


def run_extension(input: str | MediaInfo, output: str, *, seconds: float, direction: str = "forward",
                  method: str = config.DEFAULT_EXTEND_METHOD, seed: int | None = None,
                  audio_method: str = config.DEFAULT_EXTEND_AUDIO, prompt: str | None = None,
                  quantize: str | None = None, codec: str | None = None, crf: int | None = None, progress=None,
                  stop: threading.Event | None = None, playable: bool = False,
                  limits: Limits | None = None) -> JobResult:
    """The job behind :func:`vidext.extend` (same arguments).

    ``input`` is a path or the caller's probe of it (the app probes every upload once and hands
    the probe on); ``limits`` are the caller's (default: the environment's).
    """
    from ..media.codecs import codec_for
    from ..models.quantization import check_quantize
    from ..extension import EXTENDERS

    # 1. check inputs
    job = JobProgress(progress, [])     # the wait starts here; its stages are known once planned
    info = media_info(input)
    input = info.path
    out = check_output_path(output, (input,))
    codec_for(codec, out)
    check_direction(direction)
    EXTENDERS.entry(method)
    generative = EXTENDERS.is_generative(method)
    seconds = _check_seconds(seconds, method)
    if check_quantize(quantize) is not None and not generative:
        raise ParameterError(f"quantize applies to the generative methods ({', '.join(EXTENDERS.generative())}) "
                             f"only")
    if seed is not None and not isinstance(seed, int):
        raise ParameterError(f"seed must be an integer, got {seed!r}")
    extender = EXTENDERS.create(method, quantize=quantize) if generative else EXTENDERS.create(method)
    # 2. plan
    plan = plan_extend(info, seconds=seconds, direction=direction, method=method)
    before, after = plan.details["frames_before"], plan.details["frames_after"]
    check_video(info, limits, output_frames=plan.frames_out)
    job.plan(job_stages(extender, info, plan.frames_out, bool(before) + bool(after), playable, out, codec))
    with job:
        result = _render(info, input, out, extender, plan, audio_method, seed, prompt, codec, crf,
                         job.enter("rendering"), stop, seconds, direction, quantize, job.timings)
        # 4. result
        if playable:
            add_playable(result, job, write=False)
        finish_job(result, job)
    return result


def job_stages(extender, info: MediaInfo, frames: int, sides_extended: int, playable: bool, output: str,
               codec: str | None) -> list[Stage]:
    """The stages of one extension and their shares of the bar: choosing the method (``auto``, once
    per extended end, inside the rendering), rendering, the playable copy."""
    from ..extension.base import Chooser

    v = info.video
    mp = v.width * v.height / 1e6
    stages = []
    if isinstance(extender, Chooser):
        stages.append(Stage("choosing", "choosing how to extend", CHOOSING_S_PER_SIDE * sides_extended,
                            total=sides_extended))
    stages.append(Stage("rendering", "rendering", frames * (RENDER_S_PER_FRAME + mp * RENDER_S_PER_MP),
                        total=frames))
    return stages + playable_stages(playable, info, output, codec, frames)


def _render(info, input, out, extender, plan, audio_method, seed, prompt, codec, crf, progress, stop,
            seconds, direction, quantize, timings) -> JobResult:
    """Step 3: the clip's frames and the new ones (and every other stream) through :func:`run_video_job`."""
    before, after = plan.details["frames_before"], plan.details["frames_after"]
    rate = plan.rate
    # 3. run
    # the sound follows the picture (``follow``), and always where real frames are retimed
    shown = (ShownFrames(rate, up_front=plans_up_front(extender, before))
             if audio_method == "follow" or extender.retimes else None)
    audio = extension_streams(info, input, out, before_s=Fraction(before) / rate, after_s=Fraction(after) / rate,
                              rate=rate, audio_method=audio_method, prompt=prompt, seed=seed, shown=shown)
    stats: dict = {}
    compute = extension_compute(info=info, extender=extender, before=before, after=after, seed=seed,
                                prompt=prompt, stop=stop, stats=stats, shown=shown)

    def details() -> dict:      # known only once the frames are written; goes into the sidecar
        extra = {"extension": {**stats, **extender.describe()}}
        if audio.main is not None:
            extra["audio_extension"] = audio.main.details
            if len(audio.tracks) > 1:    # every track's own, by input stream
                extra["audio_extensions"] = {str(s.index): f.details for f, s in audio.tracks}
        return extra

    parameters = {"seconds": seconds, "direction": direction, "seed": seed, "prompt": prompt,
                  "audio_method": audio_method, "quantize": quantize, "frames_before": before,
                  "frames_after": after, **extender.describe()}
    done = run_video_job(
        command="extend", info=info, output=out, compute=compute, rate=rate,
        time_base=VFR_TIME_BASE if info.video.variable_frame_rate else None,   # real frames keep their times
        total_frames=plan.frames_out, codec=codec, crf=crf, preset=None, audio=audio,
        progress=progress, stop=stop, details=details, timings=timings,
        header=sidecar_header("extend", parameters=parameters, input=info.as_dict()))
    return JobResult.written(info, out, done)
