"""``ltx``: LTX-Video continuing the clip from its last several frames.

``LTXConditionPipeline`` is conditioned on the last ``LTX_CONTEXT_FRAMES``
frames (as a video condition at frame 0), so motion carries over rather than
being invented from a single picture.  Each chunk is ``LTX_CHUNK_FRAMES``
frames long; the conditioned frames it reproduces are dropped and the next
chunk is conditioned on the last frames of this one.  Frame counts follow the
VAE's temporal compression (8k + 1 for the released models).  ``prompt``
describes the continuation (a neutral one by default).
"""
from __future__ import annotations

import numpy as np

from .base import ClipView
from .generative import Generative, to_uint8, working_size

LTX_CHUNK_FRAMES = 97                # frames per LTX call (8k + 1)
LTX_CONTEXT_FRAMES = 9               # real frames the continuation is conditioned on (8k + 1)
LTX_SIZE = (768, 512)                # working size (w, h), multiples of 32
LTX_STEPS = 30
LTX_DECODE_TIMESTEP = 0.05           # LTX-Video 0.9.1+ VAE decode noise (ignored by VAEs without it)
LTX_DECODE_NOISE = 0.025
LTX_DEFAULT_PROMPT = "the scene continues naturally, same camera, same lighting"
LTX_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"


def _frames(n: int, ratio: int) -> int:
    """The largest k·ratio + 1 not above ``n`` (at least 1)."""
    return max(1, ((n - 1) // ratio) * ratio + 1)


class LTXExtender(Generative):
    """LTX-Video conditioned on the last frames, chunk after chunk."""

    name = "ltx"
    model = "ltx-video"
    quantize_components = ("transformer", "text_encoder")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.context_frames = LTX_CONTEXT_FRAMES

    def load(self):
        from diffusers import LTXConditionPipeline

        return self.pipeline(LTXConditionPipeline)

    def geometry(self, pipe, clip: ClipView):
        ratio = pipe.vae_temporal_compression_ratio
        n_context = _frames(min(LTX_CONTEXT_FRAMES, len(clip.context)), ratio)
        # the pipeline wants multiples of 32 whatever its VAE compresses by
        size = working_size(clip.width, clip.height, LTX_SIZE, max(32, pipe.vae_spatial_compression_ratio))
        return size, n_context

    def chunk(self, pipe, context, size, generator, clip: ClipView):
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition
        from PIL import Image

        ratio = pipe.vae_temporal_compression_ratio
        total = max(_frames(LTX_CHUNK_FRAMES, ratio), _frames(len(context) + ratio, ratio))
        w, h = size
        condition = LTXVideoCondition(video=[Image.fromarray(to_uint8(f)) for f in context], frame_index=0)
        result = pipe(conditions=[condition], prompt=clip.prompt or LTX_DEFAULT_PROMPT,
                      negative_prompt=LTX_NEGATIVE_PROMPT, width=w, height=h, num_frames=total,
                      frame_rate=round(float(clip.rate)), num_inference_steps=LTX_STEPS,
                      decode_timestep=LTX_DECODE_TIMESTEP, decode_noise_scale=LTX_DECODE_NOISE,
                      generator=generator, output_type="np")
        frames = np.asarray(result.frames[0], dtype=np.float32)
        return list(frames), len(context)
