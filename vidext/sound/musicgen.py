"""MusicGen continuation through transformers (``MusicgenForConditionalGeneration``).

The clip's last ``MUSICGEN_PROMPT_S`` seconds (mono, resampled to the
model's rate) prompt the model, with an optional text description; the
generated tokens after the prompt are decoded, resampled to the clip's rate,
copied to its channels and matched to its loudness.  The join is seamless
because MusicGen decodes prompt and continuation as one signal: the clip's
last few milliseconds crossfade into the model's own rendering of them.

Weights come through the model layer (``vidext.models``: ``musicgen-small``
by default, ``weights=`` a local folder).  The facebook/musicgen checkpoints
are CC-BY-NC 4.0: non-commercial use only (see model_cards/musicgen-small.md).
"""
from __future__ import annotations

from math import gcd

import numpy as np

from ..errors import DependencyError, ModelError
from .continuation import LOOP_CROSSFADE_S, MUSICGEN_MODEL, Continuation, fade_in

MUSICGEN_PROMPT_S = 10.0        # seconds of the clip's edge given to MusicGen as its audio prompt
MUSICGEN_GUIDANCE = 3.0         # classifier-free guidance scale (the model card's default)
MUSICGEN_CHUNK_S = 20.0         # new seconds per generate() call (prompt + chunk fit MusicGen's 30 s window)
MUSICGEN_MARGIN_S = 0.2         # generated beyond what is needed, then cut
MUSICGEN_MAX_GAIN = 8.0         # loudness matching never amplifies more than this


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling along the last axis."""
    if rate_in == rate_out:
        return x
    from scipy.signal import resample_poly

    g = gcd(int(rate_in), int(rate_out))
    return resample_poly(x, rate_out // g, rate_in // g, axis=-1).astype(np.float32)


class MusicGen(Continuation):
    name = "musicgen"

    def __init__(self, context: np.ndarray, rate: int, *, length: int, prompt: str | None = None,
                 seed: int | None = None, model: str = MUSICGEN_MODEL, weights=None, device=None,
                 precision: str | None = None, quantize: str | None = None,
                 guidance_scale: float = MUSICGEN_GUIDANCE, **_):
        super().__init__(context, rate)
        # 1. load the model and its processor (cached per process)
        net, processor, found = self._load(model, weights, device, precision, quantize)
        # 2. the prompt: the clip's last seconds, mono, at the model's rate
        enc = net.config.audio_encoder
        sr, frame_rate = int(enc.sampling_rate), float(enc.frame_rate)
        n_prompt = min(self.context.shape[1], int(MUSICGEN_PROMPT_S * rate))
        prompt_audio = resample(self.context[:, -n_prompt:].mean(axis=0), rate, sr)
        # 3. generate window by window
        total = (length + self.crossfade) / rate + MUSICGEN_MARGIN_S
        audio = self._generate(net, processor, prompt_audio, sr, frame_rate, total, prompt=prompt, seed=seed,
                               guidance_scale=guidance_scale, model=model)
        # 4. back to the clip's rate, channels and loudness; the junction crossfaded
        self._fit(audio, sr, len(prompt_audio), n_prompt)
        self.meta = {"method": self.name, "model": model, "weights": found.as_dict() if hasattr(found, "as_dict")
                     else str(found.path), "prompt": prompt, "seed": seed, "prompt_s": n_prompt / rate,
                     "generated_s": self.generated.shape[1] / rate, "windows": self.chunks,
                     "licence": found.spec.licence}

    @staticmethod
    def _load(model: str, weights, device, precision, quantize):
        """(network, processor, located weights) through the model layer."""
        try:
            import torch  # noqa: F401
            from transformers import AutoProcessor, MusicgenForConditionalGeneration
        except ImportError as exc:
            raise DependencyError(f"--method musicgen needs torch and transformers ({exc.name} is missing): "
                                  "pip install -r requirements.txt") from exc
        from ..models import cached, load_model, locate

        found = locate(model, weights)
        net = load_model(model, MusicgenForConditionalGeneration, weights=weights, device=device,
                         precision=precision, quantize=quantize)
        try:
            processor = cached(("processor", str(found.path)),
                               lambda: AutoProcessor.from_pretrained(str(found.path), local_files_only=True))
        except (OSError, ValueError) as exc:
            raise ModelError(f"model {model!r}: cannot load its processor from {found.path}: {exc}") from exc
        return net, processor, found

    def _generate(self, net, processor, prompt_audio: np.ndarray, sr: int, frame_rate: float, total: float, *,
                  prompt: str | None, seed: int | None, guidance_scale: float, model: str) -> np.ndarray:
        """The model's rendering of the prompt followed by ``total`` seconds of continuation (model rate)."""
        import torch

        from ..models import gpu_section

        dev = next(net.parameters()).device
        codebooks = int(net.config.decoder.num_codebooks)

        def generate(audio: np.ndarray, seconds: float) -> tuple[np.ndarray, np.ndarray]:
            """(the model's rendering of ``audio``, ``seconds`` of continuation) at the model's rate."""
            inputs = processor(audio=audio, sampling_rate=sr, text=[prompt or ""], padding=True, return_tensors="pt")
            inputs = {k: v.to(dev) for k, v in inputs.items()}
            with torch.inference_mode():
                out = net.generate(**inputs, do_sample=True, guidance_scale=guidance_scale,
                                   max_new_tokens=int(np.ceil(seconds * frame_rate)) + codebooks)
            y = out[0].float().mean(dim=0).cpu().numpy()
            if y.shape[0] <= len(audio):
                raise ModelError(f"model {model!r} generated no sound after the prompt")
            return y[:len(audio)], y[len(audio):]

        chunk = MUSICGEN_CHUNK_S
        xs = int(round(LOOP_CROSSFADE_S * sr))
        with gpu_section(dev), torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
            if seed is not None:  # sampling is reproducible with a seed, and leaves the caller's RNG alone
                torch.manual_seed(int(seed))
            recon, part = generate(prompt_audio, min(total, chunk))
            parts, have = [part], len(part) / sr
            while have < total:  # longer than one window: re-prompt with the latest sound, crossfade the seam
                context = np.concatenate([prompt_audio] + parts)[-len(prompt_audio):]
                again, part = generate(context, min(total - have, chunk))
                k = min(xs, len(parts[-1]), len(again))
                g = fade_in(k)
                parts[-1][-k:] = parts[-1][-k:] * g[::-1] + again[-k:] * g
                parts.append(part)
                have += len(part) / sr
        self.chunks = len(parts)
        return np.concatenate([recon] + parts)

    def _fit(self, audio: np.ndarray, sr: int, p: int, n_prompt: int) -> None:
        """``generated`` at the clip's rate, channels and loudness; ``junction`` crossfaded into it."""
        rate = self.rate
        new = resample(audio, sr, rate)
        cut = int(round(p * rate / sr))
        # loudness: the model's rendering of the prompt vs the prompt itself
        gain = float(np.sqrt((self.context[:, -n_prompt:] ** 2).mean() / max((new[:cut] ** 2).mean(), 1e-10)))
        gain = min(gain, MUSICGEN_MAX_GAIN)
        new = new * gain
        xf = self.crossfade
        ch = self.context.shape[0]
        self.generated = np.repeat(new[None, cut:], ch, axis=0)
        if xf:
            own = np.repeat(new[None, max(0, cut - xf):cut], ch, axis=0)
            if own.shape[1] == xf:
                g = fade_in(xf)
                self.junction = self.junction * g[::-1] + own * g

    def render(self, i0: int, i1: int) -> np.ndarray:
        out = np.zeros((self.context.shape[0], i1 - i0), np.float32)
        lo, hi = max(i0, 0), min(i1, self.generated.shape[1])
        if hi > lo:
            out[:, lo - i0:hi - i0] = self.generated[:, lo:hi]
        return out

    def describe(self) -> dict:
        return self.meta
