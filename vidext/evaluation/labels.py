"""The names a person reads for methods and metrics: one table for the app's table, its charts, the report
page and the verdict, so a method is called the same everywhere ("Cross-fade" in the table and in the
legend, never "blend" in one and "Cross-fade (baseline)" in the other).

The metrics' full technical names (``shift-tolerant LPIPS (AlexNet, stlpips-pytorch)``) stay in the
report's ``metrics`` records and in its notes; the short ones here are what headings and legends show.
"""
from __future__ import annotations

#: the sound's offset when no sound event lines up with a picture event (the report's ``av_offset_note``)
NOT_MEASURABLE = "not measurable on this clip (too few shared events)"

#: method key → its name in tables, legends and sentences
METHOD_NAMES = {"blend": "Cross-fade", "duplicate": "Repeat frame", "fast": "Flow (fast)",
                "balanced": "Flow (balanced)", "quality": "Flow (quality)", "rife": "RIFE",
                "best": "Best (RIFE + flow)", "dis": "Flow"}

#: what each method is, in a few words (the report page's legend of the methods)
METHOD_NOTES = {"blend": "a baseline: each new frame is a mix of its two neighbours",
                "duplicate": "a baseline: each new frame repeats the one before",
                "fast": "optical flow (DIS), the quickest preset",
                "balanced": "optical flow (DIS), the default preset",
                "quality": "optical flow (DIS), the slowest and most careful preset",
                "rife": "RIFE 4.25, a learned interpolation network",
                "best": "RIFE run forwards and backwards, fused per pixel with optical flow (the slowest)",
                "dis": "optical flow (DIS)"}

#: metric key → (short name, what it tells in plain words)
METRIC_NAMES = {"psnr_y": ("PSNR", "how close the rebuilt frames are to the real ones (brightness)"),
                "psnr": ("PSNR (colour)", "how close the rebuilt frames are to the real ones (colour)"),
                "ssim": ("SSIM", "how well the structure of the picture is kept"),
                "ms_ssim": ("MS-SSIM", "SSIM at several scales"),
                "lpips": ("LPIPS", "how different the frames look to people"),
                "vmaf": ("VMAF", "Netflix's perceptual video quality score (0–100)")}


def method_name(key: str) -> str:
    return METHOD_NAMES.get(key, key)


def metric_name(key: str) -> str:
    return METRIC_NAMES.get(key, (key, ""))[0]


def metric_meaning(key: str) -> str:
    return METRIC_NAMES.get(key, (key, ""))[1]


def joined(words) -> str:
    """"A", "A and B", "A, B and C"."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
