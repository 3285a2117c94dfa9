"""Evaluation: honest quality numbers on the user's own clip, with pictures.

Held-out reconstruction (drop real frames, rebuild them with each method,
score against the originals), temporal consistency of any video, the
audio–video offset, charts and pictures.  Metrics register here by name;
adding one is a :class:`~vidext.evaluation.metrics.Metric` subclass and one
line below.
"""
from __future__ import annotations

from ..registry import Registry
from .metrics import Metric, Picture

METRICS: Registry[Metric] = Registry("metric")
METRICS.add("psnr_y", "vidext.evaluation.metrics:LumaPSNR", "luma PSNR, 8-bit, peak 255 (dB, higher is better)")
METRICS.add("psnr", "vidext.evaluation.metrics:RGBPSNR", "PSNR on 8-bit RGB, peak 255 (dB, higher is better)")
METRICS.add("ssim", "vidext.evaluation.metrics:SSIM", "SSIM on 8-bit RGB (higher is better)")
METRICS.add("ms_ssim", "vidext.evaluation.metrics:MSSSIM", "multi-scale SSIM on 8-bit RGB (higher is better)")
METRICS.add("lpips", "vidext.evaluation.perceptual:LPIPS",
            "LPIPS AlexNet, or shift-tolerant LPIPS offline (lower is better; needs torch)")
METRICS.add("vmaf", "vidext.evaluation.vmaf:VMAF",
            "VMAF, model vmaf_v0.6.1 from vmaf-torch, luma (0-100, higher is better; needs torch)")

__all__ = ["METRICS", "Metric", "Picture"]
