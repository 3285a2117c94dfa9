"""The Interpolate tab: more frames (a multiplier or a typed fps), slow motion, on the clip or a part of it."""
from __future__ import annotations

import gradio as gr

from ... import config
from ...errors import VidextError
from .. import capabilities as caps
from .. import handlers, jobs, plans, present, zerogpu
from . import common, scrub

RESULT_ID = "interpolate-results"
MODEL = "auto"      # the tab's model, and the API's default: the same run either way
ASK = "Upload a clip to see what will be made."


def plan_view(strip, factor, fps, slowmo, start, end, info_line=None, model=None):
    """(timeline value, segment note, plan line, valid) for the current settings; never raises.

    The plan is the engine's own (:func:`vidext.webapp.plans.plan`); the
    segment drawn is the one the engine snaps to frames.  A problem with the
    segment is shown under the segment sliders, any other under the settings.  With ``model`` auto the
    line says the run measures the models on the clip before it renders.
    """
    if strip is None:
        return None, "", present.waiting_plan(info_line, ASK), False
    info = strip.info
    try:
        settings = present.interpolate_settings(factor, fps, slowmo, start, end, info.video.duration_s)
        plan = plans.plan("interpolate", info, **settings)
    except VidextError as exc:
        text = present.problem(str(exc))
        if "segment" in str(exc):
            return scrub.segment_value(strip, start, end), text, "", False
        return scrub.segment_value(strip, start, end), "", text, False
    shown = plan.segment if plan.segment is not None else (None, None)
    line = present.plan_words(plan, settings, float(info.video.rate), info.video.variable_frame_rate)
    if model == "auto" and plan.frames_out:
        line += " · " + present.AUTO_FIRST
    return scrub.segment_value(strip, *shown), "", line, True


def segment_range(info):
    """The segment sliders for a new clip: its whole length selected."""
    if info is None:
        return gr.Slider(), gr.Slider()
    d = max(round(info.video.duration_s, 2), 0.01)  # a slider needs a range, however short the clip
    return gr.Slider(maximum=d, value=0), gr.Slider(maximum=d, value=d)


def build(workspace: jobs.Workspace, limits) -> None:
    models = caps.interpolation_models()
    run_fn = zerogpu.dispatcher("interpolate", handlers.run_interpolate, handlers.interpolate_needs_gpu)

    with gr.Tab("Interpolate", id="interpolate"):
        with gr.Row():
            with gr.Column():
                clip = common.clip_input("interpolate")
                with gr.Row():
                    factor = gr.Dropdown([1, *config.APP_FACTORS], value=config.APP_DEFAULT_FACTOR,
                                         label="Frame-rate multiplier", info="1 keeps the frame rate",
                                         elem_id="interpolate-factor", min_width=120)
                    fps = gr.Number(0, label="…or type a target fps", minimum=0, elem_id="interpolate-fps",
                                    info="a value here replaces the multiplier; 0: use the multiplier",
                                    min_width=120)
                slowmo = gr.Slider(1, config.APP_SLOWMO_MAX, value=1, step=0.25, label="Slow motion",
                                   info="1 = normal speed; 2 = twice as slow, sound stretched with it",
                                   elem_id="interpolate-slowmo")
                with gr.Row():
                    start = gr.Slider(0, 1, value=0, step=0.01, label="Only this part: from (s)",
                                      elem_id="interpolate-start", min_width=220)
                    end = gr.Slider(0, 1, value=0, step=0.01, label="to (s)", elem_id="interpolate-end",
                                    min_width=220)
                segment_note = gr.Markdown(elem_id="interpolate-segment-note")
                plan = gr.Markdown(plan_view(None, None, None, None, None, None)[2], elem_id="interpolate-plan")
                with gr.Accordion("Advanced", open=False):
                    quality = gr.Radio(["fast", "balanced", "quality"], value=config.DEFAULT_QUALITY,
                                       label="Optical-flow preset", info="slower presets follow motion better")
                    model = gr.Dropdown(caps.available(models), value=MODEL, label="Model",
                                        info="auto: tries the models on a few frames of your clip and keeps "
                                             "the best")
                    missing = common.unavailable_lines(models)
                    if missing:
                        gr.Markdown("Not offered here:\n" + missing)
                    scene = gr.Number(config.SCENE_THRESHOLD, minimum=0, maximum=1, label="Scene-cut threshold",
                                      info="cuts are never blended; lower finds more cuts; 0: no cut detection",
                                      elem_id="interpolate-scene")
                    with gr.Row():
                        light = gr.Checkbox(False, label="Low light", info="for dark, noisy footage")
                        smooth = gr.Checkbox(False, label="Temporal smoothing",
                                             info="steadier motion between frame pairs")
                        dedupe = gr.Checkbox(True, label="Replace repeated frames", info="e.g. animation drawn on twos")
                    blur = gr.Slider(0, 1, value=0, step=0.05, label="Motion blur",
                                     info="0: none; 0.5: like a half-open film shutter")
                    codec, crf = common.codec_controls()
                acts = common.actions("interpolate", "Interpolate")
            with gr.Column(elem_id=RESULT_ID):
                preview = gr.Video(label="Preview (small excerpt)", interactive=False, elem_id="interpolate-preview",
                                   height=220)
                watch, files, which, api_file, api_watch, api_details = common.result_outputs("interpolate")

    # --- events ---------------------------------------------------------------
    roots = workspace.roots()

    def on_clip(path):
        shown, info = common.clip_outputs(path, roots)
        return *shown, *segment_range(info), common.upload_plan(shown[0], shown[1], ASK)

    common.on_file(clip.file, on_clip, clip.file, [clip.strip, clip.info, clip.timeline, start, end, plan])

    plan_inputs = [clip.strip, factor, fps, slowmo, start, end, clip.info, acts.busy, model]

    def on_settings(strip, factor, fps, slowmo, start, end, info_line, busy, model):
        value, note, line, ok = plan_view(strip, factor, fps, slowmo, start, end, info_line, model)
        return scrub.show(value), note, line, common.run_state(ok, busy), ok

    plan_outputs = [clip.timeline, segment_note, plan, acts.run, acts.ready]
    # the clip's line is read, not followed: a change of it would run the plan with the slider values of
    # the clip before, past the new one's range (the filmstrip changes with the sliders)
    common.on_change([clip.strip, factor, fps, slowmo, start, end, model], on_settings, plan_inputs, plan_outputs)

    def dragged(evt: gr.EventData):
        """The part's ends dragged on the filmstrip: the sliders follow (and with them the plan)."""
        got = scrub.released(evt)
        if "start" not in got or "end" not in got:
            return gr.skip(), gr.skip()
        return gr.Slider(value=got["start"]), gr.Slider(value=got["end"])

    clip.timeline.release(dragged, None, [start, end], trigger_mode="always_last", **common.LIGHT)

    inputs = [clip.file, factor, fps, slowmo, start, end, quality, model, scene, light, smooth, dedupe, blur,
              codec, crf]

    async def interpolate(video: str, factor: float = config.APP_DEFAULT_FACTOR, fps: float = 0,
                          slowmo: float = 1, start: float = 0, end: float = 0,
                          quality: str = config.DEFAULT_QUALITY, model: str = MODEL,
                          scene_threshold: float | None = None, low_light: bool = False,
                          flow_smoothing: bool = False, dedupe: bool = True, motion_blur: float = 0,
                          codec: str = handlers.APP_CODEC_AUTO, crf: int = 0, progress=gr.Progress()):
        """New frames between real ones: a higher frame rate, or slow motion.

        Args:
            video: the clip (mp4, mov, mkv, webm ...).
            factor: multiply the frame rate by this (1 keeps it).
            fps: target frame rate; when given (not 0) it replaces the factor.
            slowmo: play this many times slower (1: normal speed); the sound is stretched, pitch kept.
            start: start of the part to work on, in seconds (0: the clip's start).
            end: end of that part in seconds (0: the clip's end); outside it frames are kept as they are.
            quality: classical preset, fast | balanced | quality.
            model: interpolation model (auto: tries them on a few frames of the clip and keeps the best, as
                the tab does; dis: classical optical flow; rife when its weights are present).
            scene_threshold: scene-cut threshold in (0, 1] (None: the default; 0: no cut detection).
            low_light: denoise and equalise the motion estimate's input (never the output pixels).
            flow_smoothing: temporal smoothing of the motion across neighbouring frame pairs.
            dedupe: replace duplicated frames (animation on twos, stalls) by in-between ones.
            motion_blur: synthesised motion blur, as a shutter fraction (0: none).
            codec: output codec (auto: h264, which plays everywhere, or prores 4444 when the clip has
                transparency).
            crf: quality for h264, h265, vp9 and av1, lower is better (0: the codec's default).
        Returns:
            the result file, a browser-playable video of it (or None), and a JSON summary.
        """
        try:
            out = await common.run_job(workspace, run_fn, progress, "interpolate", video, **_settings(
                factor, fps, slowmo, start, end, quality, model, scene_threshold, low_light, flow_smoothing,
                dedupe, motion_blur, codec, crf), limits=limits)
        except Exception as exc:  # noqa: BLE001 - the API answers every failure with one line
            raise common.api_error(exc) from None
        return out.output, out.playable, out.details

    async def interpolate_ui(video, factor, fps, slowmo, start, end, quality, model, scene_threshold, low_light,
                             flow_smoothing, dedupe, motion_blur, codec, crf, progress=gr.Progress()):
        try:
            out = await common.run_job(workspace, run_fn, progress, "interpolate", video, **_settings(
                factor, fps, slowmo, start, end, quality, model, scene_threshold, low_light, flow_smoothing,
                dedupe, motion_blur, codec, crf), limits=limits)
        except Exception as exc:  # noqa: BLE001 - shown as one line in the tab's status
            return common.failed(exc, 3)
        downloads = [p for p in (out.output, out.playable) if p]
        return out.summary, out.playable, common.download(downloads), \
            present.downloads_words(out.output, out.playable)

    common.wire_job("interpolate", acts, inputs=inputs, outputs=[watch, files, which], ui_fn=interpolate_ui,
                    api_fn=interpolate, api_outputs=[api_file, api_watch, api_details],
                    queue_kw=common.queue(models), result_id="interpolate-result", downloads=files)

    async def show_preview(video, factor, fps, slowmo, start, end, quality, model):
        """A small excerpt of the result; silent when the settings are not valid (the plan line says why)."""
        if not video:
            return None
        try:
            out = await common.run_job(workspace, handlers.run_preview, None, "preview", video,
                                       factor=factor, fps=fps, slowmo=slowmo, start=start, end=end,
                                       quality=quality, model=model, limits=limits)
        except Exception as exc:  # noqa: BLE001 - the plan line and the run report problems, once
            if not isinstance(exc, VidextError):
                common.message(exc)
            return None
        return out.output

    p_inputs = [clip.file, factor, fps, slowmo, start, end, quality, model]
    gr.on([c.change for c in p_inputs], show_preview, p_inputs, preview, api_visibility="private",
          trigger_mode="always_last", concurrency_id="preview", concurrency_limit=1, show_progress="hidden")


def _settings(factor, fps, slowmo, start, end, quality, model, scene_threshold, low_light, flow_smoothing,
              dedupe, motion_blur, codec, crf) -> dict:
    return dict(factor=factor, fps=fps, slowmo=slowmo, start=start, end=end, quality=quality, model=model,
                codec=codec, crf=crf, scene_threshold=scene_threshold, low_light=low_light,
                flow_smoothing=flow_smoothing, dedupe=dedupe, motion_blur=motion_blur)
