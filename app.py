"""vidext web app: the Gradio layout of the four tabs and the API.

Layout and presentation only.  Every decision (what can run, limits, the
timeline, durations, jobs, cancellation, clean-up) is made in
:mod:`vidext.webapp`; every job is a call to the public vidext functions.

Run it with ``python app.py`` or ``vidext serve [--host H --port P]``.  The API
(``/interpolate``, ``/extend``, ``/audio``, ``/evaluate``) is documented on the
page's "Use via API" link and in the README.
"""
from __future__ import annotations

import logging

from vidext.webapp import zerogpu
from vidext.webapp.server import offline_environment

offline_environment()  # before gradio is imported: no analytics call at start
zerogpu.prepare()      # on a ZeroGPU Space, `spaces` comes before torch

import gradio as gr  # noqa: E402

from vidext import __version__, config  # noqa: E402
from vidext.config import Limits  # noqa: E402
from vidext.errors import VidextError  # noqa: E402
from vidext.media.codecs import CODECS  # noqa: E402
from vidext.webapp import capabilities as caps  # noqa: E402
from vidext.webapp import handlers, jobs, timeline  # noqa: E402
from vidext.webapp.server import launch_kwargs, on_space, public_limits  # noqa: E402

log = logging.getLogger("vidext.app")

INTRO = """# vidext
Make a clip longer and smoother without making it worse. **Interpolate** adds frames between real
ones (more fps, slow motion), **Extend** adds frames past the ends, **Audio** makes the sound follow,
**Evaluate** measures quality on your own clip."""


def _fail(exc: BaseException) -> gr.Error:
    """A user error → its one-line message; anything else → logged, one line to the user."""
    if isinstance(exc, VidextError):
        return gr.Error(str(exc))
    log.error("vidext app: internal error", exc_info=exc)
    return gr.Error(f"internal error ({type(exc).__name__}); the server log has the details")


async def _job(workspace: jobs.Workspace, fn, progress, kind: str, media: str, **settings):
    """One job: files the request names must be uploads or the app's own; files it returns, the job's."""
    try:
        media = workspace.admit(media) if media else media
        if settings.get("audio_file"):
            settings["audio_file"] = workspace.admit(settings["audio_file"])
        job = workspace.new_job()
        relay = jobs.ProgressRelay(progress, kind)
        return job.confine(await jobs.run_cancellable(job, fn, media, job.folder, progress=relay, **settings))
    except Exception as exc:  # noqa: BLE001 - the UI layer turns every failure into one message
        raise _fail(exc) from None


def _clip_events(video, strip_state, info_md, timeline_img, extra_outputs, on_info, roots):
    """Wire "clip uploaded → probe, limits, filmstrip" for one tab (files only under ``roots``)."""

    def inspect_clip(path):
        if not path:
            return None, "", None, *on_info(None)
        try:
            info = jobs.check_input(path, roots=roots)
            strip = timeline.filmstrip(info)
        except VidextError as exc:
            gr.Warning(str(exc))
            return None, f"**Cannot use this clip:** {exc}", None, *on_info(None)
        v = info.video
        audio = ", ".join(f"{a.codec} {a.channels} ch" for a in info.audio) or "no sound"
        text = (f"{v.width}×{v.height} · {float(v.fps_nominal):.6g} fps · "
                f"{timeline.format_time(v.duration_s)} ({v.frame_count or '?'} frames) · {audio}")
        return strip, text, strip.image, *on_info(info)

    video.change(inspect_clip, video, [strip_state, info_md, timeline_img, *extra_outputs],
                 api_visibility="private", concurrency_id="light",
                 concurrency_limit=config.APP_LIGHT_CONCURRENCY)


def _unavailable(features) -> str:
    note = caps.unavailable_note(features)
    return f"Not offered here:\n{note}" if note else ""


def _clip_input(tab: str):
    """The clip upload with its probe line and filmstrip timeline (same in every tab)."""
    video = gr.Video(label="Clip", sources=["upload"], elem_id=f"{tab}-input")
    info = gr.Markdown()
    timeline = gr.Image(label="Timeline", interactive=False, show_label=False, buttons=[],
                        elem_id=f"{tab}-timeline")
    return video, info, timeline, gr.State()


def _disabled_reason(feature: caps.Feature) -> str:
    return "" if feature.available else f"*{feature.reason}*"


def _queue(features) -> dict:
    """The concurrency group of a job event: the GPU queue when it may use the GPU."""
    if caps.uses_gpu(features):
        return dict(concurrency_id=config.APP_GPU_CONCURRENCY_ID, concurrency_limit=1)
    return dict(concurrency_id=config.APP_CPU_CONCURRENCY_ID, concurrency_limit=config.APP_CPU_CONCURRENCY)


def build_demo(workspace: jobs.Workspace | None = None, limits: Limits | None = None) -> gr.Blocks:
    workspace = workspace or jobs.Workspace()
    limits = limits or Limits.from_env()
    tabs = caps.tabs()
    codecs = list(CODECS)

    run_interpolate = zerogpu.dispatcher("interpolate", handlers.run_interpolate, handlers.interpolate_needs_gpu)
    run_extend = zerogpu.dispatcher("extend", handlers.run_extend, handlers.extend_needs_gpu)
    run_audio = zerogpu.dispatcher("audio", handlers.run_audio, handlers.audio_needs_gpu)
    run_evaluate = zerogpu.dispatcher("evaluate", handlers.run_evaluate, handlers.evaluate_needs_gpu)

    with gr.Blocks(title="vidext", delete_cache=jobs.gradio_cache_schedule(), analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        missing = [t for t in tabs.values() if not t.available]
        if missing:
            gr.Markdown(_unavailable(missing), elem_id="unavailable-tabs")
        gr.Markdown(f"Limits here: {limits.max_upload_mb:g} MB per file, "
                    f"{timeline.format_time(limits.max_duration_s)} per clip, "
                    f"{limits.max_pixels / 1e6:.1f} MP per frame, {limits.max_fps:g} fps.",
                    elem_id="limits")

        # ---------------------------------------------------------------- Interpolate
        models = caps.interpolation_models()
        slowmo_ok = caps.parameter("interpolate", "slowmo")
        segment_ok = caps.parameter("interpolate", "start")
        scene_ok = caps.parameter("interpolate", "scene_threshold")
        light_ok = caps.option("interpolate", "low_light")
        smooth_ok = caps.option("interpolate", "flow_smoothing")
        blur_ok = caps.option("interpolate", "motion_blur")
        dedupe_ok = caps.option("interpolate", "dedupe")
        preview_ok = caps.preview()
        with gr.Tab("Interpolate", interactive=tabs["interpolate"].available, id="interpolate"):
            gr.Markdown(_disabled_reason(tabs["interpolate"]))
            with gr.Row():
                with gr.Column():
                    i_video, i_info, i_timeline, i_strip = _clip_input("interpolate")
                    with gr.Row():
                        i_start = gr.Slider(0, 1, value=0, step=0.01, label="Segment start (s)",
                                            interactive=segment_ok.available, info=segment_ok.reason or None)
                        i_end = gr.Slider(0, 1, value=0, step=0.01, label="Segment end (s)",
                                          interactive=segment_ok.available,
                                          info=segment_ok.reason or "0: the clip's end")
                    with gr.Row():
                        i_factor = gr.Dropdown([1, *config.APP_FACTORS], value=config.APP_DEFAULT_FACTOR,
                                               label="Frame-rate multiplier", info="1 keeps the frame rate")
                        i_fps = gr.Number(0, label="…or target fps", info="0: use the multiplier", minimum=0)
                        i_slowmo = gr.Slider(1, config.APP_SLOWMO_MAX, value=1, step=0.25,
                                             label="Slow motion", info=slowmo_ok.reason or "1 = normal speed",
                                             interactive=slowmo_ok.available)
                    i_plan = gr.Markdown(elem_id="interpolate-plan")
                    with gr.Accordion("Advanced", open=False):
                        i_quality = gr.Radio(["fast", "balanced", "quality"], value=config.DEFAULT_QUALITY,
                                             label="Preset (classical model)")
                        i_model = gr.Dropdown(caps.available(models), value=config.DEFAULT_MODEL, label="Model")
                        gr.Markdown(_unavailable(models))
                        i_scene = gr.Number(None, minimum=0, maximum=1, label="Scene-cut threshold",
                                            info=scene_ok.reason or "empty: the default; 0: no cut detection",
                                            interactive=scene_ok.available)
                        with gr.Row():
                            i_light = gr.Checkbox(False, label="Low light", interactive=light_ok.available,
                                                  info=light_ok.reason or "denoise the motion estimate's input")
                            i_smooth = gr.Checkbox(False, label="Temporal smoothing", interactive=smooth_ok.available,
                                                   info=smooth_ok.reason or "smooth motion across frame pairs")
                            i_dedupe = gr.Checkbox(True, label="Replace duplicated frames",
                                                   interactive=dedupe_ok.available, info=dedupe_ok.reason or None)
                        i_blur = gr.Slider(0, 1, value=0, step=0.05, label="Motion blur (shutter)",
                                           info=blur_ok.reason or "0: none; 0.5: a half-frame shutter",
                                           interactive=blur_ok.available)
                        with gr.Row():
                            i_codec = gr.Dropdown(codecs, value=config.DEFAULT_CODEC, label="Codec")
                            i_crf = gr.Slider(0, 51, value=0, step=1, label="CRF (h264/h265)", info="0: the default")
                    with gr.Row():
                        i_run = gr.Button("Interpolate", variant="primary", elem_id="interpolate-run",
                                          interactive=tabs["interpolate"].available)
                        i_cancel = gr.Button("Cancel", variant="stop", elem_id="interpolate-cancel")
                with gr.Column():
                    i_preview = gr.Video(label="Preview (low-resolution excerpt)", interactive=False,
                                         visible=preview_ok.available, elem_id="interpolate-preview")
                    if not preview_ok.available:
                        gr.Markdown(f"Preview: *{preview_ok.reason}*")
                    i_watch = gr.Video(label="Result", interactive=False, elem_id="interpolate-result")
                    i_file = gr.File(label="Download", interactive=False, elem_id="interpolate-download")
                    i_details = gr.JSON(label="Details")

        def interpolate_plan(strip, factor, fps, slowmo, start, end):
            if strip is None:
                return None, ""
            seg = (start, end) if slowmo and slowmo != 1 else None
            img = timeline.timeline_image(strip, segment=seg)
            try:
                plan = timeline.plan_interpolate(strip.info, factor=factor if factor not in (0, 1) else None,
                                                 fps=fps or None, slowmo=slowmo if slowmo != 1 else None,
                                                 start=start or None, end=end or None)
            except VidextError as exc:
                return img, f"**{exc}**"
            return img, f"New duration: {plan.summary()}"

        def on_interpolate_info(info):
            if info is None:
                return gr.Slider(), gr.Slider()
            d = round(info.video.duration_s, 2)
            return gr.Slider(maximum=d, value=0), gr.Slider(maximum=d, value=d)

        _clip_events(i_video, i_strip, i_info, i_timeline, [i_start, i_end], on_interpolate_info,
                     workspace.roots())
        plan_inputs = [i_strip, i_factor, i_fps, i_slowmo, i_start, i_end]
        for comp in plan_inputs[1:]:
            comp.change(interpolate_plan, plan_inputs, [i_timeline, i_plan], api_visibility="private",
                        concurrency_id="light", concurrency_limit=config.APP_LIGHT_CONCURRENCY,
                        trigger_mode="always_last")
        i_strip.change(interpolate_plan, plan_inputs, [i_timeline, i_plan], api_visibility="private",
                       concurrency_id="light", concurrency_limit=config.APP_LIGHT_CONCURRENCY)

        async def interpolate(video: str, factor: float = config.APP_DEFAULT_FACTOR, fps: float = 0,
                              slowmo: float = 1, start: float = 0, end: float = 0,
                              quality: str = config.DEFAULT_QUALITY, model: str = config.DEFAULT_MODEL,
                              scene_threshold: float | None = None, low_light: bool = False,
                              flow_smoothing: bool = False, dedupe: bool = True, motion_blur: float = 0,
                              codec: str = config.DEFAULT_CODEC, crf: int = 0, progress=gr.Progress()):
            """New frames between real ones: a higher frame rate, or slow motion.

            Args:
                video: the clip (mp4, mov, mkv, webm ...).
                factor: multiply the frame rate by this (1 keeps it).
                fps: target frame rate instead of a factor (0: use the factor).
                slowmo: play this many times slower (1: normal speed); the sound is stretched, pitch kept.
                start: slow-motion segment start in seconds (0: the clip's start).
                end: slow-motion segment end in seconds (0: the clip's end).
                quality: classical preset, fast | balanced | quality.
                model: interpolation model (dis: classical optical flow; rife when its weights are present).
                scene_threshold: scene-cut threshold in (0, 1] (None: the default; 0: no cut detection).
                low_light: denoise and equalise the motion estimate's input (never the output pixels).
                flow_smoothing: temporal smoothing of the motion across neighbouring frame pairs.
                dedupe: replace duplicated frames (animation on twos, stalls) by in-between ones.
                motion_blur: synthesised motion blur, as a shutter fraction (0: none).
                codec: output codec (h264 plays in browsers).
                crf: h264/h265 quality, lower is better (0: the default).
            Returns:
                the result file, the same file as a playable video (h264 only), and a JSON summary.
            """
            out = await _job(workspace, run_interpolate, progress, "interpolate", video, factor=factor, fps=fps,
                             slowmo=slowmo, start=start, end=end, quality=quality, model=model, codec=codec,
                             crf=crf, scene_threshold=scene_threshold, low_light=low_light,
                             flow_smoothing=flow_smoothing, dedupe=dedupe, motion_blur=motion_blur, limits=limits)
            return out.output, out.output if out.playable else None, out.details

        i_event = i_run.click(interpolate, [i_video, i_factor, i_fps, i_slowmo, i_start, i_end, i_quality,
                                            i_model, i_scene, i_light, i_smooth, i_dedupe, i_blur, i_codec, i_crf],
                              [i_file, i_watch, i_details], api_name="interpolate",
                              **_queue(models))
        i_cancel.click(None, None, None, cancels=[i_event], api_visibility="private")

        if preview_ok.available:
            async def preview(video, factor, fps, slowmo, start, end, quality, model):
                if not video:
                    return None
                out = await _job(workspace, handlers.run_preview, None, "preview", video,
                                 factor=factor, fps=fps, slowmo=slowmo, start=start, end=end,
                                 quality=quality, model=model, limits=limits)
                return out.output

            p_inputs = [i_video, i_factor, i_fps, i_slowmo, i_start, i_end, i_quality, i_model]
            for comp in p_inputs:
                comp.change(preview, p_inputs, i_preview, api_visibility="private", trigger_mode="always_last",
                            concurrency_id="preview", concurrency_limit=1, show_progress="minimal")

        # ---------------------------------------------------------------- Extend
        e_methods = caps.extend_methods()
        a_methods = caps.audio_methods()
        generative_ok = any(f.available for f in e_methods if f.name in caps.EXTEND_GENERATIVE)
        with gr.Tab("Extend", interactive=tabs["extend"].available, id="extend"):
            gr.Markdown(_disabled_reason(tabs["extend"]))
            with gr.Row():
                with gr.Column():
                    e_video, e_info, e_timeline, e_strip = _clip_input("extend")
                    e_seconds = gr.Slider(0.5, config.APP_EXTEND_MAX_S, value=2, step=0.5,
                                          label="Extend by (seconds)")
                    e_direction = gr.Radio(["forward", "backward", "both"], value="forward", label="Where",
                                           info="after the end, before the start, or both")
                    e_method = gr.Radio(caps.available(e_methods), value="seamless", label="Strategy",
                                        info="seamless: a loop with no visible seam; motion: continue the "
                                             "camera move; svd / ltx: generative")
                    gr.Markdown(_unavailable(e_methods))
                    e_plan = gr.Markdown(elem_id="extend-plan")
                    with gr.Accordion("Advanced", open=False):
                        e_seed = gr.Number(-1, precision=0, label="Seed", info="-1: random")
                        e_audio = gr.Dropdown(caps.available(a_methods), value="loop", label="Sound of the extension")
                        e_prompt = gr.Textbox("", label="Prompt (generative)", max_length=500,
                                              interactive=generative_ok)
                        e_quant = gr.Dropdown(["none", *config.APP_QUANTIZE_CHOICES], value="none",
                                              label="Quantization (generative)", interactive=generative_ok)
                        with gr.Row():
                            e_codec = gr.Dropdown(codecs, value=config.DEFAULT_CODEC, label="Codec")
                            e_crf = gr.Slider(0, 51, value=0, step=1, label="CRF", info="0: the default")
                    with gr.Row():
                        e_run = gr.Button("Extend", variant="primary", elem_id="extend-run",
                                          interactive=tabs["extend"].available)
                        e_cancel = gr.Button("Cancel", variant="stop", elem_id="extend-cancel")
                with gr.Column():
                    e_watch = gr.Video(label="Result", interactive=False, elem_id="extend-result")
                    e_file = gr.File(label="Download", interactive=False, elem_id="extend-download")
                    e_details = gr.JSON(label="Details")

        def extend_plan(strip, seconds, direction):
            if strip is None:
                return None, ""
            img = timeline.timeline_image(strip, extend_s=seconds, direction=direction)
            try:
                plan = timeline.plan_extend(strip.info, seconds=seconds, direction=direction)
            except VidextError as exc:
                return img, f"**{exc}**"
            return img, f"New duration: {plan.summary()}"

        _clip_events(e_video, e_strip, e_info, e_timeline, [], lambda info: (), workspace.roots())
        for comp in (e_strip, e_seconds, e_direction):
            comp.change(extend_plan, [e_strip, e_seconds, e_direction], [e_timeline, e_plan],
                        api_visibility="private", concurrency_id="light",
                        concurrency_limit=config.APP_LIGHT_CONCURRENCY, trigger_mode="always_last")

        async def extend(video: str, seconds: float = 2, direction: str = "forward", method: str = "seamless",
                         seed: int = -1, audio_method: str = "loop", prompt: str = "", quantize: str = "none",
                         codec: str = config.DEFAULT_CODEC, crf: int = 0, progress=gr.Progress()):
            """New frames past the end (or before the start): seamless loop, motion or generative.

            Args:
                video: the clip.
                seconds: how many seconds to add (on each side for "both").
                direction: forward (after the end) | backward (before the start) | both.
                method: seamless | loop | pingpong | freeze | motion | svd | ltx (generative ones need a GPU).
                seed: random seed for reproducible output (-1: random).
                audio_method: how the sound continues: loop | silence | musicgen.
                prompt: text guiding a generative model (optional).
                quantize: weight quantization of a generative model (none: full precision).
                codec: output codec.
                crf: h264/h265 quality (0: the default).
            Returns:
                the result file, the same file as a playable video (h264 only), and a JSON summary.
            """
            out = await _job(workspace, run_extend, progress, "extend", video, seconds=seconds, direction=direction,
                             method=method, seed=seed, audio_method=audio_method, prompt=prompt,
                             quantize=quantize, codec=codec, crf=crf, limits=limits)
            return out.output, out.output if out.playable else None, out.details

        e_event = e_run.click(extend, [e_video, e_seconds, e_direction, e_method, e_seed, e_audio, e_prompt,
                                       e_quant, e_codec, e_crf], [e_file, e_watch, e_details],
                              api_name="extend", **_queue(e_methods + a_methods))
        e_cancel.click(None, None, None, cancels=[e_event], api_visibility="private")

        # ---------------------------------------------------------------- Audio
        with gr.Tab("Audio", interactive=tabs["audio"].available, id="audio"):
            gr.Markdown(_disabled_reason(tabs["audio"]))
            with gr.Row():
                with gr.Column():
                    gr.Markdown("A **sound file**: stretch it (pitch kept) or continue it. A **video**: put "
                                "another sound on it. (To slow a video down with its sound use Interpolate → "
                                "Slow motion; to lengthen a video with its sound use Extend.)")
                    a_media = gr.File(label="Sound or video file", file_types=["video", "audio"],
                                      elem_id="audio-input")
                    a_stretch = gr.Slider(0.25, 4, value=1, step=0.05, label="Time-stretch (pitch kept)",
                                          elem_id="audio-stretch", info="sound file: 2 = twice as long; 1 = unchanged")
                    with gr.Row():
                        a_extend = gr.Slider(0, config.APP_EXTEND_MAX_S, value=0, step=0.5,
                                             label="Continue the sound by (seconds)", info="sound file; 0 = no")
                        a_direction = gr.Radio(["forward", "backward", "both"], value="forward", label="Where")
                    a_method = gr.Radio(caps.available(a_methods), value="loop", label="Continuation")
                    gr.Markdown(_unavailable(a_methods))
                    a_file = gr.File(label="Put this sound on the video", file_types=["audio"],
                                     elem_id="audio-replacement")
                    a_plan = gr.Markdown(elem_id="audio-plan")
                    with gr.Accordion("Advanced", open=False):
                        a_prompt = gr.Textbox("", label="Prompt (MusicGen)", max_length=500,
                                              interactive="musicgen" in caps.available(a_methods))
                        a_seed = gr.Number(-1, precision=0, label="Seed", info="-1: random")
                    with gr.Row():
                        a_run = gr.Button("Process sound", variant="primary", elem_id="audio-run",
                                          interactive=tabs["audio"].available)
                        a_cancel = gr.Button("Cancel", variant="stop", elem_id="audio-cancel")
                with gr.Column():
                    a_watch = gr.Video(label="Result (video)", interactive=False, elem_id="audio-result-video")
                    a_listen = gr.Audio(label="Result (sound)", interactive=False, elem_id="audio-result-audio")
                    a_out = gr.File(label="Download", interactive=False, elem_id="audio-download")
                    a_details = gr.JSON(label="Details")

        def audio_plan(media, stretch, seconds, direction):
            if not media:
                return ""
            try:
                info = jobs.check_input(media, need_video=False, roots=workspace.roots())
                dur = info.video.duration_s if info.video else info.duration_s
                fps = float(info.video.fps_nominal) if info.video else 0.0
                plan = timeline.plan_audio(dur, stretch=stretch if stretch != 1 else None, extend=seconds or None,
                                           direction=direction, fps=fps)
            except VidextError as exc:
                return f"**{exc}**"
            return f"New duration: {plan.summary()}" if fps else \
                f"New duration: {plan.duration_in:.2f} s → **{plan.duration_out:.2f} s**"

        for comp in (a_media, a_stretch, a_extend, a_direction):
            comp.change(audio_plan, [a_media, a_stretch, a_extend, a_direction], a_plan, api_visibility="private",
                        concurrency_id="light", concurrency_limit=config.APP_LIGHT_CONCURRENCY,
                        trigger_mode="always_last")

        async def audio(media: str, stretch: float = 1, extend: float = 0, direction: str = "forward",
                        method: str = "loop", prompt: str = "", audio_file: str | None = None, seed: int = -1,
                        progress=gr.Progress()):
            """Sound that follows the picture: pitch-kept time-stretch, continuation, or a new sound track.

            Args:
                media: a video or audio file.
                stretch: make it this many times longer, pitch kept (1: unchanged).
                extend: continue the sound by this many seconds (0: no continuation).
                direction: forward | backward | both, for the continuation.
                method: continuation method: loop | silence | musicgen.
                prompt: text description for MusicGen (optional).
                audio_file: a sound file to put on the video instead of its own sound (optional).
                seed: random seed (-1: random).
            Returns:
                the result file, the result as a video (video input), as sound (audio input), and a JSON summary.
            """
            out = await _job(workspace, run_audio, progress, "audio", media, stretch=stretch, extend=extend,
                             direction=direction, method=method, prompt=prompt, audio_file=audio_file, seed=seed,
                             limits=limits)
            is_video = out.output.lower().endswith((".mp4", ".mov", ".mkv"))
            return (out.output, out.output if is_video and out.playable else None,
                    None if is_video else out.output, out.details)

        a_event = a_run.click(audio, [a_media, a_stretch, a_extend, a_direction, a_method, a_prompt, a_file,
                                      a_seed], [a_out, a_watch, a_listen, a_details], api_name="audio",
                              **_queue(a_methods))
        a_cancel.click(None, None, None, cancels=[a_event], api_visibility="private")

        # ---------------------------------------------------------------- Evaluate
        v_methods = caps.evaluate_methods()
        with gr.Tab("Evaluate", interactive=tabs["evaluate"].available, id="evaluate"):
            gr.Markdown(_disabled_reason(tabs["evaluate"]))
            with gr.Row():
                with gr.Column():
                    v_video, v_info, v_timeline, v_strip = _clip_input("evaluate")
                    v_pick = gr.CheckboxGroup(caps.available(v_methods), value=list(caps.EVALUATE_CLASSICAL),
                                              label="Methods",
                                              info="frames are dropped and rebuilt by each method, then scored "
                                                   "against the originals")
                    gr.Markdown(_unavailable(v_methods))
                    with gr.Accordion("Advanced", open=False):
                        v_factor = gr.Radio([2, 4], value=2, label="Factor", info="2: every other frame rebuilt")
                        v_max = gr.Slider(0, 600, value=0, step=10, label="At most this many frames",
                                          info="0: the evaluation's default")
                    with gr.Row():
                        v_run = gr.Button("Evaluate", variant="primary", elem_id="evaluate-run",
                                          interactive=tabs["evaluate"].available)
                        v_cancel = gr.Button("Cancel", variant="stop", elem_id="evaluate-cancel")
                with gr.Column():
                    v_table = gr.Dataframe(label="Scores (means)", interactive=False, elem_id="evaluate-table")
                    v_pictures = gr.Gallery(label="Pictures", columns=2, object_fit="contain", height="auto",
                                            elem_id="evaluate-pictures")
                    v_file = gr.File(label="Report (JSON)", interactive=False, elem_id="evaluate-download")
                    v_html = gr.File(label="Report with charts (HTML)", interactive=False, elem_id="evaluate-html")
                    v_details = gr.JSON(label="Report")

        _clip_events(v_video, v_strip, v_info, v_timeline, [], lambda info: (), workspace.roots())

        async def evaluate(video: str, methods: list[str] = list(caps.EVALUATE_CLASSICAL), factor: int = 2,
                           max_frames: int = 0, progress=gr.Progress()):
            """Honest quality numbers on your clip: real frames are dropped, rebuilt and compared.

            Args:
                video: the clip.
                methods: methods to compare: blend, fast, balanced, quality (and rife when present).
                factor: 2 rebuilds every other frame, 4 rebuilds three frames in four.
                max_frames: evaluate at most this many frames (0: the default).
            Returns:
                the JSON report file, the HTML report with charts (when written), a table of mean scores per
                method, pictures, and the report itself.
            """
            out = await _job(workspace, run_evaluate, progress, "evaluate", video, methods=methods, factor=factor,
                             max_frames=max_frames, limits=limits)
            rows = handlers.method_rows(out.details)
            table = rows[1:] if rows else None
            pictures = [p for p in out.files if p.endswith(".png")]
            pages = [p for p in out.files if p.endswith(".html")]
            return (out.output, pages[0] if pages else None,
                    gr.Dataframe(value=table, headers=rows[0]) if rows else None, pictures, out.details)

        v_event = v_run.click(evaluate, [v_video, v_pick, v_factor, v_max], [v_file, v_html, v_table, v_pictures, v_details],
                              api_name="evaluate", **_queue(v_methods))
        v_cancel.click(None, None, None, cancels=[v_event], api_visibility="private")

        gr.Markdown(f"vidext {__version__} · the API: the **Use via API** link below, or the README.")
    demo.queue(max_size=config.APP_QUEUE_MAX_SIZE, default_concurrency_limit=config.APP_CPU_CONCURRENCY)
    demo.vidext_workspace = workspace  # for launch(): the sweeper and the served folder
    return demo


def launch(demo: gr.Blocks, host: str | None = None, port: int | None = None, **extra):
    """Start the sweeper and the server; returns what ``Blocks.launch`` returns."""
    ws: jobs.Workspace = demo.vidext_workspace
    ws.start_sweeper()
    return demo.launch(**{**launch_kwargs(ws.root, host=host, port=port), **extra})


def main(host: str | None = None, port: int | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if on_space():
        public_limits()  # a public demo's limits unless the Space's settings define VIDEXT_MAX_*
    launch(build_demo(), host=host, port=port)


if __name__ == "__main__":
    main()
