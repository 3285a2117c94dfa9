"""The Extend tab: new frames after the end, before the start, or both."""
from __future__ import annotations

import gradio as gr

from ... import config
from ...errors import VidextError
from .. import capabilities as caps
from .. import handlers, jobs, plans, present, zerogpu
from . import common, scrub

RESULT_ID = "extend-results"
DIRECTIONS = [("after the end", "forward"), ("before the start", "backward"), ("both", "both")]
SECONDS = dict(low=0.5, high=config.APP_EXTEND_MAX_S, step=0.5)   # the slider's range, also the timeline's
ASK = "Upload a clip to see what will be made."


def plan_view(strip, seconds, direction, method, info_line=None):
    """(timeline value, plan line, valid) for the current settings; never raises."""
    if strip is None:
        return None, present.waiting_plan(info_line, ASK), False
    value = scrub.extend_value(strip, float(seconds or 0), direction or "forward", **SECONDS)
    try:
        plan = plans.plan("extend", strip.info, seconds=seconds, direction=direction, method=method)
    except VidextError as exc:
        return value, present.problem(str(exc)), False
    line = present.plan_words(plan)
    if strip.info.video.variable_frame_rate:
        line += " · " + present.vfr_extend_words(float(plan.rate), strip.info.video.gapped)
    return value, line, True


def _engine_sound_default() -> str:
    """``vidext.extend``'s own default for the sound of the new part (``follow``)."""
    return config.DEFAULT_EXTEND_AUDIO


def build(workspace: jobs.Workspace, limits) -> None:
    methods = caps.extend_methods()
    sounds = caps.audio_methods()
    choices = caps.available(methods)
    generative_ok = any(f.available for f in methods if f.name in caps.EXTEND_GENERATIVE)
    run_fn = zerogpu.dispatcher("extend", handlers.run_extend, handlers.extend_needs_gpu)

    with gr.Tab("Extend", id="extend"):
        with gr.Row():
            with gr.Column():
                clip = common.clip_input("extend")
                seconds = gr.Slider(SECONDS["low"], SECONDS["high"], value=2, step=SECONDS["step"],
                                    label="Add (seconds)", elem_id="extend-seconds",
                                    info="or drag the blue edge on the filmstrip")
                direction = gr.Radio(DIRECTIONS, value="forward", label="Where", elem_id="extend-direction")
                method = gr.Radio(choices, value=config.DEFAULT_EXTEND_METHOD, label="How",
                                  info="auto: tries them on your clip and keeps the best that passes; seamless: loops "
                                       "back with no visible seam; ramp: slows the edge of the shot down; motion: "
                                       "carries the camera move on; freeze: holds the last frame",
                                  elem_id="extend-method")
                missing = common.unavailable_lines(methods)
                if missing:
                    gr.Markdown("Not offered here:\n" + missing)
                plan = gr.Markdown(plan_view(None, None, None, None)[1], elem_id="extend-plan")
                with gr.Accordion("Advanced", open=False):
                    seed = gr.Number(-1, precision=0, label="Seed", info="the same seed gives the same result; "
                                                                         "-1: random")
                    follow = _engine_sound_default()
                    audio = gr.Dropdown(list(dict.fromkeys([follow, *caps.available(sounds)])), value=follow,
                                        label="Sound of the new part",
                                        info="follow: the sound goes on as the picture does" if follow == "follow"
                                        else None)
                    prompt = gr.Textbox("", label="Prompt (generative models)", max_length=500,
                                        interactive=generative_ok)
                    quant = gr.Dropdown(["none", *caps.quantize_choices()], value="none",
                                        label="Smaller model weights (generative)", interactive=generative_ok)
                    codec, crf = common.codec_controls()
                acts = common.actions("extend", "Extend")
            with gr.Column(elem_id=RESULT_ID):
                watch, files, which, api_file, api_watch, api_details = common.result_outputs("extend")

    roots = workspace.roots()

    common.on_clip(clip, roots, plan, ASK)

    def on_settings(strip, seconds, direction, method, info_line, busy):
        value, line, ok = plan_view(strip, seconds, direction, method, info_line)
        return scrub.show(value), line, common.run_state(ok, busy), ok

    common.on_change([clip.strip, seconds, direction, method], on_settings,
                     [clip.strip, seconds, direction, method, clip.info, acts.busy],
                     [clip.timeline, plan, acts.run, acts.ready])

    def dragged(evt: gr.EventData):
        """The extension's length dragged on the filmstrip: the slider follows (and with it the plan)."""
        got = scrub.released(evt)
        return gr.Slider(value=got["seconds"]) if "seconds" in got else gr.skip()

    clip.timeline.release(dragged, None, seconds, trigger_mode="always_last", **common.LIGHT)

    inputs = [clip.file, seconds, direction, method, seed, audio, prompt, quant, codec, crf]

    async def extend(video: str, seconds: float = 2, direction: str = "forward", method: str = config.DEFAULT_EXTEND_METHOD,
                     seed: int = -1, audio_method: str = config.DEFAULT_EXTEND_AUDIO, prompt: str = "", quantize: str = "none",
                     codec: str = handlers.APP_CODEC_AUTO, crf: int = 0, progress=gr.Progress()):
        """New frames past the end (or before the start): seamless loop, motion or generative.

        Args:
            video: the clip.
            seconds: how many seconds to add (on each side for "both").
            direction: forward (after the end) | backward (before the start) | both.
            method: auto (measures the others on the clip) | seamless | loop | pingpong | freeze | motion | svd | ltx
                (generative ones need a GPU).
            seed: random seed for reproducible output (-1: random).
            audio_method: how the sound continues: follow (replays with the picture) | loop | silence | musicgen.
            prompt: text guiding a generative model (optional).
            quantize: weight quantization of a generative model (none: full precision).
            codec: output codec (auto: h264, which plays everywhere, or prores 4444 when the clip has
                transparency).
            crf: quality for h264, h265, vp9 and av1, lower is better (0: the codec's default).
        Returns:
            the result file, a browser-playable video of it (or None), and a JSON summary.
        """
        try:
            out = await common.run_job(workspace, run_fn, progress, "extend", video, **_settings(
                seconds, direction, method, seed, audio_method, prompt, quantize, codec, crf), limits=limits)
        except Exception as exc:  # noqa: BLE001 - the API answers every failure with one line
            raise common.api_error(exc) from None
        return out.output, out.playable, out.details

    async def extend_ui(video, seconds, direction, method, seed, audio_method, prompt, quantize, codec, crf,
                        progress=gr.Progress()):
        try:
            out = await common.run_job(workspace, run_fn, progress, "extend", video, **_settings(
                seconds, direction, method, seed, audio_method, prompt, quantize, codec, crf), limits=limits)
        except Exception as exc:  # noqa: BLE001 - shown as one line in the tab's status
            return common.failed(exc, 3)
        downloads = [p for p in (out.output, out.playable) if p]
        return out.summary, out.playable, common.download(downloads), \
            present.downloads_words(out.output, out.playable)

    common.wire_job("extend", acts, inputs=inputs, outputs=[watch, files, which], ui_fn=extend_ui, api_fn=extend,
                    api_outputs=[api_file, api_watch, api_details], queue_kw=common.queue(methods + sounds),
                    result_id=RESULT_ID, downloads=files)


def _settings(seconds, direction, method, seed, audio_method, prompt, quantize, codec, crf) -> dict:
    return dict(seconds=seconds, direction=direction, method=method, seed=seed, audio_method=audio_method,
                prompt=prompt, quantize=quantize, codec=codec, crf=crf)
