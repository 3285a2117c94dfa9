"""The Audio tab: a sound file is stretched (pitch kept) or continued; a video gets another sound.

Only the controls that fit the uploaded file are shown.  A sound file comes
with a 2× stretch proposed, so the tab's defaults do something useful; a
video needs a sound file chosen, and the plan line says so.
"""
from __future__ import annotations

import gradio as gr

from ... import config
from ...errors import VidextError
from .. import capabilities as caps
from .. import handlers, jobs, plans, present, zerogpu
from . import common, scrub

RESULT_ID = "audio-results"
ASK = "Upload a sound file to stretch or continue it, or a video to give it another sound."
DIRECTIONS = [("after the end", "forward"), ("before the start", "backward"), ("both", "both")]


def file_kind(info) -> str | None:
    """"video", "sound" or None (no usable file)."""
    if info is None:
        return None
    return "video" if info.video is not None else "sound"


def plan_view(info, stretch, extend, direction, replacement, info_line=None):
    """(plan line, valid) for the current settings; never raises."""
    kind = file_kind(info)
    if kind is None:
        return present.waiting_plan(info_line, ASK), False
    try:
        settings = present.audio_settings(is_video=kind == "video", stretch=stretch, extend=extend,
                                          audio_file=replacement)
        plan = plans.plan("audio", info, direction=direction, **settings)
    except VidextError as exc:
        return present.problem(str(exc)), False
    return present.audio_plan_words(plan, settings, direction), True


def build(workspace: jobs.Workspace, limits) -> None:
    methods = caps.audio_methods()
    run_fn = zerogpu.dispatcher("audio", handlers.run_audio, handlers.audio_needs_gpu)

    with gr.Tab("Audio", id="audio"):
        with gr.Row():
            with gr.Column():
                gr.Markdown("A **sound file**: make it longer (pitch kept) or continue it. A **video**: give it "
                            "another sound. To slow a video down with its sound use *Interpolate → Slow motion*; "
                            "to lengthen it with its sound use *Extend*.")
                clip = common.clip_input("audio", label="Sound or video file")
                with gr.Group(visible=False) as sound_group:
                    # the proposal is the slider's value from the start: the API's default is the same
                    stretch = gr.Slider(0.25, 4, value=present.AUDIO_DEFAULT_STRETCH, step=0.05,
                                        label="Stretch (pitch kept)",
                                        info="2 = twice as long; 1 = unchanged", elem_id="audio-stretch")
                    extend = gr.Slider(0, config.APP_EXTEND_MAX_S, value=0, step=0.5,
                                       label="…or continue it by (seconds)", info="0 = no",
                                       elem_id="audio-extend")
                    with gr.Group(visible=False) as continue_group:
                        direction = gr.Radio(DIRECTIONS, value="forward", label="Where the new sound goes")
                        method = gr.Radio(caps.available(methods), value="loop", label="New sound from",
                                          info="loop: repeats the sound smoothly; silence: quiet")
                        missing = common.unavailable_lines(methods)
                        if missing:
                            gr.Markdown("Not offered here:\n" + missing)
                with gr.Group(visible=False) as video_group:
                    replacement = gr.File(label="Sound to put on this video",
                                          elem_id="audio-replacement", height=110)
                plan = gr.Markdown(plan_view(None, None, None, None, None)[0], elem_id="audio-plan")
                with gr.Accordion("Advanced", open=False):
                    prompt = gr.Textbox("", label="Prompt (MusicGen)", max_length=500,
                                        interactive="musicgen" in caps.available(methods))
                    seed = gr.Number(-1, precision=0, label="Seed", info="-1: random")
                acts = common.actions("audio", "Process sound")
                info_state = gr.State()
            with gr.Column(elem_id=RESULT_ID):
                watch = gr.Video(label="Result", interactive=False, elem_id="audio-result-video", visible=False)
                listen = gr.Audio(label="Result", interactive=False, elem_id="audio-result-audio", visible=False)
                files = gr.File(label="Download", interactive=False, file_count="multiple", visible=False,
                                elem_id="audio-download")
                which = gr.Markdown(elem_id="audio-which")
                api_file = gr.File(visible=False)
                api_watch = gr.Video(visible=False)
                api_listen = gr.Audio(visible=False)
                api_details = gr.JSON(visible=False)

    roots = workspace.roots()

    def on_file(path):
        strip, line, info = common.inspect_clip(path, roots, need_video=False)
        kind = file_kind(info)
        return (info, line, scrub.show(scrub.plain_value(strip)),
                gr.Group(visible=kind == "sound"), gr.Group(visible=kind == "video"),
                gr.Video(visible=kind == "video", value=None), gr.Audio(visible=kind == "sound", value=None),
                # a sound file comes with a useful change proposed; a video uses none of these
                gr.Slider(value=present.AUDIO_DEFAULT_STRETCH if kind == "sound" else 1),
                gr.Slider(value=0), gr.skip() if info is not None else present.waiting_plan(line, ASK))

    common.on_file(clip.file, on_file, clip.file, [info_state, clip.info, clip.timeline, sound_group, video_group,
                                                   watch, listen, stretch, extend, plan])
    # stretching and continuing exclude each other: moving one resets the other
    stretch.input(lambda s, e: gr.Slider(value=0) if s != 1 and e else gr.Slider(), [stretch, extend], extend,
                  **common.LIGHT)
    extend.input(lambda e, s: gr.Slider(value=1) if e and s != 1 else gr.Slider(), [extend, stretch], stretch,
                 **common.LIGHT)

    extend.change(lambda e: gr.Group(visible=bool(e)), extend, continue_group, **common.LIGHT)

    def on_settings(info, stretch, extend, direction, replacement, info_line, busy):
        line, ok = plan_view(info, stretch, extend, direction, replacement, info_line)
        return line, common.run_state(ok, busy), ok

    common.on_change([info_state, stretch, extend, direction, replacement], on_settings,
                     [info_state, stretch, extend, direction, replacement, clip.info, acts.busy],
                     [plan, acts.run, acts.ready])

    inputs = [clip.file, stretch, extend, direction, method, prompt, replacement, seed]

    async def audio(media: str, stretch: float = present.AUDIO_DEFAULT_STRETCH, extend: float = 0,
                    direction: str = "forward",
                    method: str = "loop", prompt: str = "", audio_file: str | None = None, seed: int = -1,
                    progress=gr.Progress()):
        """Sound that follows the picture: pitch-kept time-stretch, continuation, or a new sound track.

        Args:
            media: a video or audio file.
            stretch: a sound file: make it this many times longer, pitch kept (1: unchanged; the default, 2, is
                what the tab proposes, and a continuation given with extend replaces it).
            extend: a sound file: continue it by this many seconds (0: no continuation).
            direction: forward | backward | both, for the continuation.
            method: continuation method: loop | silence | musicgen.
            prompt: text description for MusicGen (optional).
            audio_file: a video: the sound file to put on it instead of its own sound.
            seed: random seed (-1: random).
        Returns:
            the result file, the result as a video (video input), as sound (audio input), and a JSON summary.
        """
        try:
            out = await common.run_job(workspace, run_fn, progress, "audio", media, **_settings(
                stretch, extend, direction, method, prompt, audio_file, seed), limits=limits)
        except Exception as exc:  # noqa: BLE001 - the API answers every failure with one line
            raise common.api_error(exc) from None
        is_video = out.output.lower().endswith((".mp4", ".mov", ".mkv"))
        return out.output, out.playable if is_video else None, None if is_video else out.output, out.details

    async def audio_ui(media, stretch, extend, direction, method, prompt, audio_file, seed, progress=gr.Progress()):
        try:
            out = await common.run_job(workspace, run_fn, progress, "audio", media, **_settings(
                stretch, extend, direction, method, prompt, audio_file, seed), limits=limits)
        except Exception as exc:  # noqa: BLE001 - shown as one line in the tab's status
            return common.failed(exc, 4)
        is_video = out.output.lower().endswith((".mp4", ".mov", ".mkv"))
        return out.summary, out.playable if is_video else None, None if is_video else out.output, \
            common.download([out.output, out.playable]), present.downloads_words(out.output, out.playable)

    common.wire_job("audio", acts, inputs=inputs, outputs=[watch, listen, files, which], ui_fn=audio_ui,
                    api_fn=audio,
                    api_outputs=[api_file, api_watch, api_listen, api_details], queue_kw=common.queue(methods),
                    result_id=RESULT_ID, downloads=files)


def _settings(stretch, extend, direction, method, prompt, audio_file, seed) -> dict:
    return dict(stretch=stretch, extend=extend, direction=direction, method=method, prompt=prompt,
                audio_file=audio_file, seed=seed)
