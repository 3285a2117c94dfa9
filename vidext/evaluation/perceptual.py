"""LPIPS: the standard AlexNet variant when its backbone is at hand, else shift-tolerant LPIPS.

Standard LPIPS (PyPI ``lpips``) ships its linear calibration layers but
takes the AlexNet backbone from torchvision's ImageNet weights, which live
in the torch hub cache (``<torch hub dir>/checkpoints/alexnet-owt-7be5be79.pth``,
present once downloaded or baked into the Docker image).  Nothing is ever
downloaded here: when that file is absent, the shift-tolerant LPIPS of PyPI
``stlpips-pytorch`` is used instead — its package holds the complete weights,
backbone included — and every report names which variant produced the
numbers.  Both models are built with random initialisation and then every
weight is loaded from a file and checked, so a network with any weight left
random is refused rather than scored.

Distances are computed as in the reference code (scaling layer, unit-normalised
features, learned 1×1 weights, spatial mean, sum over layers) on full-resolution
RGB in [-1, 1]; an original frame's features are computed once and reused
for every method rebuilding it.
"""
from __future__ import annotations

import importlib.metadata
import os
import threading
from dataclasses import asdict, dataclass

from ..errors import DependencyError, ModelError
from .metrics import Metric, Picture

# torchvision's AlexNet weights, as the standard `lpips` package loads them from the torch hub cache.
LPIPS_ALEXNET_FILE = "alexnet-owt-7be5be79.pth"


@dataclass(frozen=True)
class LPIPSVariant:
    """Which LPIPS produced the numbers, and from which files."""

    key: str            # "lpips-alex" or "stlpips-alex"
    label: str
    package: str
    weights: tuple[str, ...]
    note: str           # why this variant was chosen
    device: str

    def as_dict(self) -> dict:
        d = asdict(self)
        d["weights"] = list(self.weights)
        return d


def alexnet_weights_path() -> str:
    """Where torchvision keeps (or would keep) the AlexNet ImageNet weights."""
    import torch

    return os.path.join(torch.hub.get_dir(), "checkpoints", LPIPS_ALEXNET_FILE)


def _version(dist: str) -> str:
    try:
        return f"{dist} {importlib.metadata.version(dist)}"
    except importlib.metadata.PackageNotFoundError:
        return dist


def _load_checked(model, state: dict, what: str) -> None:
    """Load ``state`` into ``model`` and refuse if any weight would stay random."""
    result = model.load_state_dict(state, strict=False)
    # ``lins.k`` are the same modules as ``link`` registered twice by the reference code.
    aliases = {f"lins.{k}.model.1.weight" for k in range(len(getattr(model, "lins", [])))}
    missing = [k for k in result.missing_keys if k not in aliases]
    if missing or result.unexpected_keys:
        raise ModelError(f"{what}: weights incomplete (missing {missing[:3]}, unexpected "
                         f"{result.unexpected_keys[:3]}); refusing to score with a partly random network")
    for k, lin in enumerate(getattr(model, "lins", [])):
        if lin is not getattr(model, f"lin{k}"):
            raise ModelError(f"{what}: unexpected layer layout (lins.{k} is not lin{k})")


def _standard(device: str, backbone: str) -> tuple[object, LPIPSVariant]:
    import warnings

    import lpips
    import torch

    with warnings.catch_warnings():   # lpips 0.1.4 still passes torchvision's deprecated ``pretrained=``
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        model = lpips.LPIPS(net="alex", pretrained=False, pnet_rand=True, verbose=False)
    lin_path = os.path.join(os.path.dirname(lpips.__file__), "weights", "v0.1", "alex.pth")
    state = {k: v for k, v in torch.load(lin_path, map_location="cpu", weights_only=True).items()}
    features = torch.load(backbone, map_location="cpu", weights_only=True)
    # torchvision's ``features.<i>`` → lpips' ``net.slice<n>.<i>`` (the slices split the same modules).
    owner = {}
    for name, _ in model.net.named_parameters():
        slice_name, index, param = name.split(".")
        owner[(index, param)] = f"net.{slice_name}.{index}.{param}"
    for key, value in features.items():
        part, index, param = key.split(".") if key.count(".") == 2 else ("", "", "")
        if part == "features" and (index, param) in owner:
            state[owner[(index, param)]] = value
    state.update({k: v for k, v in model.state_dict().items() if k.startswith("scaling_layer.")})
    _load_checked(model, state, "lpips AlexNet")
    return model, LPIPSVariant("lpips-alex", "LPIPS (AlexNet)", _version("lpips"), (lin_path, backbone),
                               "standard LPIPS: AlexNet backbone found in the torch hub cache", device)


def _shift_tolerant(device: str, note: str) -> tuple[object, LPIPSVariant]:
    import torch
    try:
        from stlpips_pytorch import stlpips
    except ImportError as exc:
        raise DependencyError(f"LPIPS needs stlpips-pytorch (with ipython and torchsummary) when the AlexNet "
                              f"weights are not cached: pip install stlpips-pytorch ipython torchsummary ({exc})") \
            from exc
    model = stlpips.LPIPS(net="alex", variant="shift_tolerant", pretrained=False, verbose=False)
    path = os.path.join(os.path.dirname(stlpips.__file__), "weights", "vST0.0", "alex_shift_tolerant.pth")
    _load_checked(model, torch.load(path, map_location="cpu", weights_only=True), "shift-tolerant LPIPS")
    return model, LPIPSVariant("stlpips-alex", "shift-tolerant LPIPS (AlexNet, stlpips-pytorch)",
                               _version("stlpips-pytorch"), (path,), note, device)


_MODELS: dict[tuple[str, str], tuple[object, LPIPSVariant]] = {}
_LOCK = threading.Lock()


def load_lpips(device: str | None = None, prefer: str = "auto") -> tuple[object, LPIPSVariant]:
    """The LPIPS network to score with and its description (cached per device).

    ``prefer``: ``"auto"`` (standard when its backbone is cached, else
    shift-tolerant), ``"standard"`` (refuse without the backbone) or
    ``"shift-tolerant"``.
    """
    try:
        import torch
    except ImportError as exc:
        raise DependencyError("LPIPS needs torch: pip install torch torchvision") from exc
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    with _LOCK:
        key = (device, prefer)
        if key not in _MODELS:
            backbone = alexnet_weights_path()
            if prefer == "shift-tolerant":
                model, variant = _shift_tolerant(device, "shift-tolerant LPIPS asked for")
            elif os.path.isfile(backbone):
                model, variant = _standard(device, backbone)
            elif prefer == "standard":
                raise ModelError(f"standard LPIPS needs torchvision's AlexNet weights at {backbone}")
            else:
                model, variant = _shift_tolerant(
                    device, f"standard LPIPS unavailable: AlexNet backbone weights not found at {backbone} "
                            "(never downloaded at run time); shift-tolerant LPIPS used instead")
            model = model.to(device).eval()
            for p in model.parameters():
                p.requires_grad_(False)
            _MODELS[key] = (model, variant)
        return _MODELS[key]


def _features(model, images, device):
    """Normalised features of same-sized 8-bit RGB images, computed in one batch; one list per image."""
    import numpy as np
    import torch

    x = torch.from_numpy(np.stack(images)).to(device).permute(0, 3, 1, 2).float() * (2.0 / 255.0) - 1.0
    outs = model.net.forward(model.scaling_layer(x))
    normed = [o / (torch.sqrt(torch.sum(o * o, dim=1, keepdim=True)) + 1e-10) for o in outs]
    return [[o[i:i + 1] for o in normed] for i in range(len(images))]


def lpips_distance(model, f0, f1) -> float:
    """LPIPS between two pictures' normalised features (the reference forward pass)."""
    total = 0.0
    for k, (a, b) in enumerate(zip(f0, f1)):
        total = total + model.lins[k]((a - b) ** 2).mean(dim=(2, 3))
    return float(total.squeeze())


class LPIPS(Metric):
    name, label = "lpips", "LPIPS"
    higher_is_better = False
    expensive = True

    def __init__(self, device: str | None = None, prefer: str = "auto"):
        self.model, self.variant = load_lpips(device, prefer)
        self.device = self.variant.device
        self.label = self.variant.label
        self.definition = (f"{self.variant.label} ({self.variant.package}) on full-resolution 8-bit RGB "
                           "scaled to [-1, 1]; lower is better")

    def features(self, picture: Picture):
        return self._cached([picture])[0]

    def _cached(self, pictures: list[Picture]) -> list:
        """Each picture's features, those not cached yet computed together in one batch."""
        import torch

        key = ("lpips", self.variant.key)
        todo = [p for p in pictures if key not in p.cache]
        if todo:
            with torch.inference_mode():
                for p, f in zip(todo, _features(self.model, [p.rgb8 for p in todo], self.variant.device)):
                    p.cache[key] = f
        return [p.cache[key] for p in pictures]

    def score(self, reference: Picture, candidate: Picture) -> float:
        return self.score_many(reference, [candidate])[0]

    def score_many(self, reference: Picture, candidates: list[Picture]) -> list[float]:
        """Each candidate against one reference (same size), uncached features in one forward pass."""
        import torch

        feats = self._cached([reference, *candidates])
        with torch.inference_mode():
            return [lpips_distance(self.model, feats[0], f) for f in feats[1:]]

    def describe(self) -> dict:
        return {**super().describe(), "variant": self.variant.as_dict()}
