"""VMAF (Netflix's video multi-method assessment fusion), model ``vmaf_v0.6.1``, from PyPI ``vmaf-torch``.

``vmaf-torch`` 1.1.0 is a PyTorch port of libvmaf's features (VIF at four
scales, ADM, motion) whose package holds the complete ``vmaf_v0.6.1`` SVM
model (211 support vectors, its normalisation and clipping) in its source:
nothing is downloaded.  Scores are on the 8-bit luma plane, clipped to
[0, 100] as libvmaf does; higher is better.

The motion feature (``motion2``: the smaller of the blurred reference frame's
mean absolute difference to its previous and to its next frame) needs the
original's neighbours: the held-out test hands them over as
``Picture.neighbours`` (the original frames on either side); a picture
without them is scored with motion 0, as libvmaf scores a video's first frame.
"""
from __future__ import annotations

import importlib.metadata

import numpy as np

from ..errors import DependencyError
from .metrics import Metric, Picture

MODEL_VERSION = "vmaf_v0.6.1"


def _package() -> str:
    try:
        return f"vmaf-torch {importlib.metadata.version('vmaf-torch')}"
    except importlib.metadata.PackageNotFoundError:
        return "vmaf-torch"


class VMAF(Metric):
    name, unit = "vmaf", ""
    label = f"VMAF ({MODEL_VERSION})"
    expensive = True

    def __init__(self, device: str | None = None):
        try:
            import torch
            from vmaf_torch import VMAF as _Model
        except ImportError as exc:
            raise DependencyError(f"VMAF needs vmaf-torch (and its yuvio, pandas): pip install vmaf-torch==1.1.0 "
                                  f"yuvio==1.6 ({exc})") from exc
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = _Model(temporal_pooling=False, enable_motion=True, clip_score=True).to(self.device).eval()
        self.definition = (f"{MODEL_VERSION} ({_package()}): VIF, ADM and motion2 features of the 8-bit luma "
                           "plane, SVM regression, clipped to [0, 100]; motion from the original's neighbouring "
                           "frames; higher is better")

    def _tensor(self, luma8: np.ndarray):
        import torch

        return torch.from_numpy(np.asarray(luma8, np.float32))[None, None].to(self.device)

    def motion2(self, reference: Picture):
        """libvmaf's motion2 of the reference, from its neighbours (0 without them)."""
        import torch

        neighbours = reference.neighbours
        if not neighbours:
            return torch.zeros((1, 1), device=self.device)
        prev, nxt = neighbours
        stack = torch.cat([self._tensor(p.luma8) for p in (prev, reference, nxt)])
        return self.model.compute_motion2(stack)[1:2]

    def score(self, reference: Picture, candidate: Picture) -> float:
        import torch

        with torch.inference_mode():
            ref, dist = self._tensor(reference.luma8), self._tensor(candidate.luma8)
            adm = self.model.compute_adm_score(ref, dist)
            vif = self.model.compute_vif_features(ref, dist)
            return float(self.model.predict(adm, self.motion2(reference), vif).squeeze())

    def describe(self) -> dict:
        return {**super().describe(), "model": MODEL_VERSION, "package": _package()}
