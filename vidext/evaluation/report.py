"""What ``evaluate`` found: numbers (JSON), figures (plotly) and pictures (PNG)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from .. import config
from ..media.atomic import atomic_output, sidecar_header
from ..sound.sync import SYNC_MIN_CONFIDENCE
from .labels import NOT_MEASURABLE
from .stats import CONFIDENCE_METHOD, _mean, estimate, json_safe, mean_interval  # noqa: F401 - found here too
from .temporal import TemporalResult


@dataclass
class MethodResult:
    """One method's held-out reconstruction: per-frame scores, means, speed."""

    name: str
    model: dict
    frames: int = 0
    seconds: float = 0.0             # the method's own compute (between + at), decode and scoring excluded
    scores: dict[str, list] = field(default_factory=dict)   # metric → per held-out frame (None: not scored)
    worst_time_s: float | None = None
    worst_psnr_y: float | None = None
    worst_across_jump: bool = False  # only frames across a jump were rebuilt, so the worst is one of them

    @property
    def frames_per_second(self) -> float | None:
        return self.frames / self.seconds if self.seconds > 0 else None

    #: held-out frames in the clip (what an exhaustive run rebuilds) and, per rebuilt frame, whether it
    #: belongs to the stratum rebuilt in full (set after a sampled run; None: plain means)
    population: int | None = None
    census: list[bool] | None = None

    def mean(self, metric: str) -> float | None:
        """The estimate of the clip-wide mean (plain mean when every frame was rebuilt)."""
        return estimate(self.scores.get(metric, []), self.census, self.population)[0]

    def interval(self, metric: str) -> tuple | None:
        """Confidence interval (low, high) of the clip-wide mean; see :data:`CONFIDENCE_METHOD`."""
        return estimate(self.scores.get(metric, []), self.census, self.population)[1]

    def means(self, keep: list[bool] | None = None) -> dict[str, float | None]:
        """Mean of each metric, over the frames where ``keep`` is true (all when None)."""
        if keep is None:
            return {m: self.mean(m) for m in self.scores}
        return {m: _mean([x for x, k in zip(v, keep) if k]) for m, v in self.scores.items()}

    def as_dict(self) -> dict:
        """Flat means first (what a results table shows), then details and the per-frame arrays."""
        return {"name": self.name, **self.means(), "frames_per_second": self.frames_per_second,
                "frames": self.frames, "seconds": round(self.seconds, 4), "model": self.model,
                "worst_frame": {"time_s": self.worst_time_s, "psnr_y": self.worst_psnr_y,
                                "across_jump": self.worst_across_jump},
                "per_frame": self.scores}


@dataclass
class EvaluationReport:
    """Everything ``vidext.evaluate`` measured on one clip.

    ``figures`` (plotly figures, built on first use) and ``images`` (RGB
    uint8 arrays: the worst frame's error heat-map and original | rebuilt |
    difference strip per method) are what the app shows; ``files`` lists
    what was written (JSON, HTML charts, PNGs).
    """

    input: str
    video: dict
    factor: int
    frames_read: int
    held_out_times_s: list[float]
    held_out_indices: list[int]
    metrics: list[dict]
    methods: list[MethodResult]
    lpips: dict | None
    temporal: TemporalResult | None
    av_offset_s: float | None
    av_offset_note: str
    seconds: float
    notes: list[str] = field(default_factory=list)
    #: the sound helper's full estimate (offset, confidence, flagged) when it offers one
    av_sync: dict | None = None
    #: per rebuilt frame: do its kept neighbours lie across a detected jump (None: temporal pass skipped)
    held_out_across_jump: list[bool] | None = None
    #: held-out frames the clip has at this factor (what an exhaustive run rebuilds)
    held_out_population: int | None = None
    #: windows rebuilt when sampled (None: every window), of ``windows_total`` read
    sampled_windows: int | None = None
    windows_total: int | None = None
    #: each stage's wall seconds (loading, scoring, sync, report): where ``seconds`` went
    stage_seconds: dict[str, float] = field(default_factory=dict)
    images: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    files: dict[str, str] = field(default_factory=dict)
    _figures: dict | None = field(default=None, repr=False)

    @property
    def figures(self) -> dict:
        """``{"per_frame", "quality_speed", "temporal"}`` → plotly figures (those that apply)."""
        if self._figures is None:
            from .pictures import build_figures

            self._figures = build_figures(self)
        return self._figures

    def method(self, name: str) -> MethodResult:
        for m in self.methods:
            if m.name == name:
                return m
        raise KeyError(name)

    def as_dict(self) -> dict:
        return {
            **sidecar_header("evaluate", input=self.input), "video": self.video,
            "held_out": {
                "factor": self.factor, "frames_read": self.frames_read,
                "kept": f"frames 0, {self.factor}, {2 * self.factor}, … (1/{self.factor} of the frame rate)",
                "rebuilt": len(self.held_out_indices),
                "indices": self.held_out_indices, "time_s": self.held_out_times_s,
                "across_jump": self.held_out_across_jump,
                "population": self.held_out_population,
                "sampled": (f"{self.sampled_windows} of {self.windows_total} windows, spread evenly"
                            if self.sampled_windows is not None else "every window (exhaustive)"),
                "speed": "rebuilt frames per second of each method's own compute (decode and scoring "
                         "excluded), same process and run",
            },
            "metrics": self.metrics, "lpips": self.lpips,
            "confidence": {"level": config.EVALUATE_CONFIDENCE, "method": CONFIDENCE_METHOD},
            "methods": [self._method_dict(m) for m in self.methods],
            # which method is best and whether it matters (frame by frame, see vidext.evaluation.verdict)
            "verdict": v.as_dict() if (v := self.verdict()) is not None else None,
            "stars": self.stars(),
            "temporal": self.temporal.as_dict() if self.temporal else None,
            "av_offset_s": self.av_offset_s, "av_offset_note": self.av_offset_note,
            "av_sync": self.av_sync,
            "seconds": round(self.seconds, 3), "timings": {"seconds": round(self.seconds, 3),
                                                           "stages": self.stage_seconds},
            "notes": self.notes, "files": self.files,
        }

    def verdict(self):
        """The :class:`~vidext.evaluation.verdict.Verdict` on the primary metric (None: no method scored)."""
        from .verdict import verdict

        return verdict(self.methods, self.metrics)

    def stars(self) -> dict:
        """Per metric, the method better than every other beyond the noise (None: no such method)."""
        from .verdict import stars

        return stars(self.methods, self.metrics) if self.methods else {}

    def _clean_frames(self) -> list[bool] | None:
        """Which rebuilt frames are not across a jump, when some are."""
        flags = self.held_out_across_jump
        return [not f for f in flags] if flags and any(flags) else None

    def _method_dict(self, m: MethodResult) -> dict:
        d = m.as_dict()
        d["interval"] = {k: (None if (iv := m.interval(k)) is None else list(iv))
                         for k in m.scores}
        keep = self._clean_frames()
        if keep is not None:
            d["mean_excluding_jumps"] = m.means(keep)
        return d

    def write_json(self, path: str) -> str:
        with atomic_output(path) as tmp:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(json_safe(self.as_dict()), f, indent=1, default=str)
                f.write("\n")
        self.files["json"] = path
        return path

    def summary(self) -> str:
        """A plain-text table of the means and the temporal figures (what the CLI prints)."""
        v = self.video
        lines = []
        said = self.verdict()
        if said is not None:     # what the numbers below mean, first
            lines.append(said.text(name=str))
        lines.append(f"{self.input}: {v['width']}×{v['height']} {v['fps']:.3f} fps, {self.frames_read} frames read")
        if self.methods:
            sampled = (f" (sampled: {self.sampled_windows} of {self.windows_total} windows spread over the clip; "
                       "--exhaustive for all)" if self.sampled_windows is not None else "")
            lines.append(f"held-out {self.factor}×: kept 1 frame in {self.factor}, rebuilt "
                         f"{len(self.held_out_indices)} frames{sampled}, scored against the originals; "
                         f"± is the {config.EVALUATE_CONFIDENCE:.0%} confidence half-width of the clip's mean")
            names = [m["name"] for m in self.metrics]
            heads = {"psnr_y": "PSNR-Y dB", "psnr": "PSNR dB", "ssim": "SSIM", "ms_ssim": "MS-SSIM",
                     "lpips": "LPIPS*" if self.lpips else "LPIPS", "vmaf": "VMAF"}
            header = f"  {'method':<10}" + "".join(f"{heads.get(n, n):>17}" for n in names) + f"{'frames/s':>11}"
            lines.append(header)
            for m in self.methods:
                row = f"  {m.name:<10}"
                for n in names:
                    val = m.mean(n)
                    fmt = "{:.2f}" if n.startswith("psnr") or n == "vmaf" else "{:.4f}"
                    cell = fmt.format(val) if val is not None else "-"
                    iv = m.interval(n)
                    if val is not None and iv is not None and iv[1] > iv[0]:
                        cell += "±" + fmt.format((iv[1] - iv[0]) / 2)
                    row += f"{cell:>17}"
                fps = m.frames_per_second
                row += f"{fps:>11.1f}" if fps is not None else f"{'-':>11}"
                lines.append(row)
            keep = self._clean_frames()
            if keep is not None and "psnr_y" in names:
                parts = ", ".join(f"{m.name} {m.means(keep)['psnr_y']:.2f}" for m in self.methods)
                lines.append(f"  without the {keep.count(False)} frame(s) across a jump, PSNR-Y dB: {parts}")
            if self.lpips:
                lines.append(f"  *{self.lpips['label']} on {self.lpips['frames_scored']} of "
                             f"{len(self.held_out_indices)} rebuilt frames ({self.lpips['sample']}), "
                             f"full resolution, {self.lpips['device']}; lower is better")
        t = self.temporal
        if t is not None and t.score:
            lines.append(f"temporal: warp error {t.mean_warp_error:.2f} levels, flicker {t.flicker:.2f} levels RMS "
                         f"(max {t.flicker_max:.2f}), {len(t.jumps)} jump(s)")
            for tr in t.jumps[:10]:
                lines.append(f"  JUMP at {tr.time_s:.3f} s: score {tr.score:.2f} vs {tr.baseline:.2f} nearby "
                             f"(z {tr.z:.1f})")
            if not t.jumps and t.worst:
                tr = t.worst[0]
                lines.append(f"  no jump; the most unusual transition is at {tr.time_s:.3f} s (z {tr.z:.1f})")
        if self.av_offset_s is not None:
            line = f"A/V offset: {self.av_offset_s:+.3f} s ({self.av_offset_note}"
            if self.av_sync and "confidence" in self.av_sync:
                verdict = ("more than a frame: check the sync" if self.av_sync.get("flagged") else
                           "not flagged: within a frame")
                line += f"; confidence {self.av_sync['confidence']:.2f}, {verdict}"
            lines.append(line + ")")
        elif self.av_offset_note == NOT_MEASURABLE:
            line = f"A/V offset: {NOT_MEASURABLE}"
            if self.av_sync and "confidence" in self.av_sync:
                line += (f"; confidence {self.av_sync['confidence']:.2f}, below the "
                         f"{SYNC_MIN_CONFIDENCE:g} an offset needs")
            lines.append(line)
        else:
            lines.append(f"A/V offset: not measured ({self.av_offset_note})")
        for n in self.notes:
            lines.append(f"note: {n}")
        for k, p in self.files.items():
            lines.append(f"wrote {k}: {p}")
        return "\n".join(lines)
