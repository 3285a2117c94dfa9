"""``svd``: Stable Video Diffusion img2vid-xt, conditioned on the junction frame.

Each chunk is one img2vid call (``SVD_CHUNK_FRAMES`` frames) from the
last frame so far; its first frame reproduces the conditioning image and is
dropped.  Backwards, the clip's first frame conditions the model and the
result is played in reverse (the job does the reversal).  The temporal VAE
decodes ``SVD_DECODE_CHUNK`` frames at a time and GPUs below
``generative.GENERATIVE_CPU_OFFLOAD_BELOW_GB`` run with model CPU offload, so
a 24 GB GPU is enough.  The weights' licence is not open source (see
``model_cards/svd-xt.md``).
"""
from __future__ import annotations

import numpy as np

from .base import ClipView
from .generative import Generative, to_uint8, working_size

SVD_CHUNK_FRAMES = 25                # frames per img2vid-xt call (its training length)
SVD_SIZE = (1024, 576)               # working size of SVD (w, h); output resized/cropped to the clip
SVD_STEPS = 25
SVD_FPS_RANGE = (5, 30)              # fps micro-conditioning: the clip's rate, clamped to what SVD saw
SVD_MOTION_BUCKET = 127
SVD_NOISE_AUG = 0.02
SVD_DECODE_CHUNK = 4                 # frames decoded at once by the temporal VAE (memory vs speed)


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
        return working_size(clip.width, clip.height, SVD_SIZE, pipe.vae_scale_factor * 8), 1

    def chunk(self, pipe, context, size, generator, clip: ClipView):
        from PIL import Image

        lo, hi = SVD_FPS_RANGE
        w, h = size
        result = pipe(Image.fromarray(to_uint8(context[-1])), height=h, width=w,
                      num_frames=SVD_CHUNK_FRAMES, num_inference_steps=SVD_STEPS,
                      fps=int(min(hi, max(lo, round(float(clip.rate))))),
                      motion_bucket_id=SVD_MOTION_BUCKET, noise_aug_strength=SVD_NOISE_AUG,
                      decode_chunk_size=SVD_DECODE_CHUNK, generator=generator, output_type="np")
        frames = np.asarray(result.frames[0], dtype=np.float32)
        return list(frames), 1
