"""What SVD and LTX-Video share: loading, sizes, chunk chaining, the junction.

A generative extender makes new frames in chunks, each conditioned on the
frames before it (the real clip's edge for the first chunk, the previous
chunk's end after that), until the extension is long enough.  Around every
chunk:

- **Working size**: the clip's aspect ratio at about the model's native area,
  rounded to the multiple its VAE needs; results are resized to cover the
  clip's exact size and centre-cropped (the rounding is the only crop).
- **Colour matching**: every chunk's per-channel mean and spread (over the
  whole chunk, so its own changes over time are kept) are matched to the last
  real frame's, so long chains do not drift in colour.
- **Junction**: the first ``GENERATIVE_TRANSITION_FRAMES`` new frames
  are DIS interpolations from the last real frame to the first frame after
  them, so the model's imperfect reproduction of its conditioning frame never
  shows as a jump.

Weights come through :mod:`vidext.models` (pinned revision, local folders,
quantization, CPU offload for GPUs below ``GENERATIVE_CPU_OFFLOAD_BELOW_GB``).
"""
from __future__ import annotations

import math
import random
from abc import abstractmethod
from typing import ClassVar, Iterator

import cv2
import numpy as np

from ..media.frame import Frame, from_rgb, to_rgb
from .base import ClipView, Planes, Synthesizer

# the junction between the real frames and the generated ones, and GPU memory
GENERATIVE_TRANSITION_FRAMES = 4     # generated frames blended from the last real frame into the new ones
GENERATIVE_COLOUR_MATCH = True       # match each chunk's colour statistics to the last real frame
GENERATIVE_CPU_OFFLOAD_BELOW_GB = 40  # GPUs with less memory run the pipeline with model CPU offload


def working_size(width: int, height: int, native: tuple[int, int], multiple: int) -> tuple[int, int]:
    """(w, h) with the clip's aspect ratio, about ``native``'s area, multiples of ``multiple``."""
    scale = math.sqrt(native[0] * native[1] / (width * height))
    w = max(multiple, round(width * scale / multiple) * multiple)
    h = max(multiple, round(height * scale / multiple) * multiple)
    return w, h


def fit(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize ``rgb`` to cover (width, height) keeping its aspect, then centre-crop to it exactly."""
    h, w = rgb.shape[:2]
    scale = max(width / w, height / h)
    nw, nh = max(width, round(w * scale)), max(height, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    out = cv2.resize(rgb, (nw, nh), interpolation=interp)
    x, y = (nw - width) // 2, (nh - height) // 2
    return np.clip(out[y:y + height, x:x + width], 0.0, 1.0)


def match_colour(chunk: list[np.ndarray], reference: np.ndarray) -> list[np.ndarray]:
    """Match the chunk's per-channel mean and standard deviation to ``reference``'s."""
    stack = np.stack(chunk)
    mean = stack.mean(axis=(0, 1, 2))
    std = stack.std(axis=(0, 1, 2)) + 1e-4
    ref_mean = reference.mean(axis=(0, 1))
    ref_std = reference.std(axis=(0, 1)) + 1e-4
    gain = np.clip(ref_std / std, 0.5, 2.0)
    return [np.clip((f - mean) * gain + ref_mean, 0.0, 1.0).astype(np.float32) for f in chunk]


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


class Generative(Synthesizer):
    """A diffusers pipeline, chained chunk by chunk (subclasses: :meth:`load`, :meth:`chunk`)."""

    generative = True
    model: ClassVar[str]             # name in vidext.models.MODELS
    quantize_components: ClassVar[tuple[str, ...]]

    def __init__(self, quantize: str | None = None, weights: str | None = None, device: str | None = None):
        from ..models.quantization import check_quantize

        self.quantize = check_quantize(quantize)
        self.weights = weights
        self.device = device
        self.seeds: dict[str, int] = {}
        self.offload: str | None = None

    def describe(self) -> dict:
        return {"method": self.name, "model": self.model, "quantize": self.quantize, "offload": self.offload,
                "seeds": self.seeds}

    # -- loading -----------------------------------------------------------------
    def pipeline(self, cls, **kwargs):
        """The model's pipeline through the model layer (cached per process)."""
        from ..models import load_model, select_device

        dev = select_device(self.device)
        if dev.type == "cuda":
            import torch

            total_gb = torch.cuda.get_device_properties(dev).total_memory / 2**30
            # quantized weights are small enough already, and bitsandbytes places them itself
            small = total_gb < GENERATIVE_CPU_OFFLOAD_BELOW_GB
            self.offload = "model" if small and not self.quantize else None
        quant = {"components": list(self.quantize_components)} if self.quantize else {}
        return load_model(self.model, cls, weights=self.weights, device=str(dev), quantize=self.quantize,
                          offload=self.offload, **quant, **kwargs), dev

    @abstractmethod
    def load(self):
        """(pipeline, device)."""

    @abstractmethod
    def chunk(self, pipe, context: list[np.ndarray], size: tuple[int, int], generator, clip: ClipView
              ) -> tuple[list[np.ndarray], int]:
        """Generate from ``context`` (RGB float frames at ``size``, junction last).

        Returns all generated frames (RGB float in [0, 1], any size) and how many
        of the first ones reproduce the context (they are dropped).
        """

    @abstractmethod
    def geometry(self, pipe, clip: ClipView) -> tuple[tuple[int, int], int]:
        """(working size, context frames per chunk)."""

    # -- the chain -----------------------------------------------------------------
    def synthesize(self, clip: ClipView, count: int) -> Iterator[Planes]:
        import torch

        from ..models import gpu_section

        pipe, dev = self.load()
        seed = clip.seed if clip.seed is not None else random.SystemRandom().randrange(2**31)
        self.seeds[clip.direction] = seed
        generator = torch.Generator(device="cpu").manual_seed(seed)
        size, n_context = self.geometry(pipe, clip)
        junction = clip.junction
        reference = to_rgb(junction)
        context = [cv2.resize(to_rgb(f), size, interpolation=cv2.INTER_AREA) for f in clip.context[-n_context:]]
        transition = min(GENERATIVE_TRANSITION_FRAMES, max(0, count - 1))
        made = 0
        first = True
        while made < count:
            with gpu_section(dev):
                frames, reproduced = self.chunk(pipe, context, size, generator, clip)
            new = frames[reproduced:]
            if not new:
                raise RuntimeError(f"{self.name} produced no new frames")
            context = (context + [np.asarray(f, np.float32) for f in new])[-n_context:]
            out = [fit(np.asarray(f, np.float32), clip.width, clip.height) for f in new]
            if GENERATIVE_COLOUR_MATCH:
                out = match_colour(out, reference)
            planes = [from_rgb(rgb, junction) for rgb in out[:count - made]]
            if first and transition:
                planes = self._bridge(junction, planes, transition)
            first = False
            yield from planes
            made += len(planes)

    def _bridge(self, junction: Frame, planes: list[Planes], transition: int) -> list[Planes]:
        """Replace the first frames by DIS interpolations from the junction to the frame after them."""
        from ..interpolation import INTERPOLATORS

        transition = min(transition, len(planes) - 1)
        if transition <= 0:
            return planes
        pair = INTERPOLATORS.create("dis", quality="balanced").between(junction, junction.with_planes(
            planes[transition]))
        return [pair.at((k + 1) / (transition + 1)) for k in range(transition)] + planes[transition:]
