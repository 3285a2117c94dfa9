"""``svd``: Stable Video Diffusion img2vid-xt, conditioned on the junction frame.

Each chunk is one img2vid call (``config.SVD_CHUNK_FRAMES`` frames) from the
last frame so far; its first frame reproduces the conditioning image and is
dropped.  Backwards, the clip's first frame conditions the model and the
result is played in reverse (the job does the reversal).  The temporal VAE
decodes ``config.SVD_DECODE_CHUNK`` frames at a time and GPUs below
``config.GENERATIVE_CPU_OFFLOAD_BELOW_GB`` run with model CPU offload, so
a 24 GB GPU is enough.  The weights' licence is not open source (see
``model_cards/svd-xt.md``).
"""
from __future__ import annotations

import numpy as np

from .. import config
from .base import ClipView
from .generative import Generative, to_uint8, working_size


class SVDExtender(Generative):
    """Stable Video Diffusion img2vid-xt from the edge frame, chunk after chunk."""

    name = "svd"
    model = "svd-xt"
    quantize_components = ("unet",)
    context_frames = 1

    def load(self):
        from diffusers import StableVideoDiffusionPipeline

        return self.pipeline(StableVideoDiffusionPipeline)

    def geometry(self, pipe, clip: ClipView):
        return working_size(clip.width, clip.height, config.SVD_SIZE, pipe.vae_scale_factor * 8), 1

    def chunk(self, pipe, context, size, generator, clip: ClipView):
        from PIL import Image

        lo, hi = config.SVD_FPS_RANGE
        w, h = size
        result = pipe(Image.fromarray(to_uint8(context[-1])), height=h, width=w,
                      num_frames=config.SVD_CHUNK_FRAMES, num_inference_steps=config.SVD_STEPS,
                      fps=int(min(hi, max(lo, round(float(clip.rate))))),
                      motion_bucket_id=config.SVD_MOTION_BUCKET, noise_aug_strength=config.SVD_NOISE_AUG,
                      decode_chunk_size=config.SVD_DECODE_CHUNK, generator=generator, output_type="np")
        frames = np.asarray(result.frames[0], dtype=np.float32)
        return list(frames), 1
