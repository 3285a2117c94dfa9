"""OUTPUT.xmp: the sidecar editing software reads, checked with a real XMP parser (Adobe's XMP toolkit
through exempi: python-xmp-toolkit)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import vidext
from vidext.media.xmp import NS, NS_VIDEXT, quality_score, xmp_packet

try:     # python-xmp-toolkit loads Debian's libexempi8 at import (scripts/setup.sh installs both)
    from libxmp import XMPMeta
except Exception as exc:     # ImportError, or libxmp's ExempiLoadError without the C library
    pytest.skip(f"no XMP parser here: {exc}", allow_module_level=True)


def _parse(path: str) -> XMPMeta:
    meta = XMPMeta()
    meta.parse_from_str(Path(path).read_text(encoding="utf-8"))     # raises on a malformed packet
    return meta


def test_an_interpolated_clip_has_an_xmp_sidecar_that_says_what_the_json_says(clip, tmp_path):
    src = clip("walk.mp4", frames=12, fps=25, width=64, height=48)
    out = str(tmp_path / "walk-60.mp4")
    result = vidext.interpolate(src, out, fps=50, model="dis", quality="fast")
    record = json.loads(Path(out + ".json").read_text())
    meta = _parse(out + ".xmp")
    assert meta.get_property(NS["xmp"], "CreatorTool") == f"vidext {vidext.__version__}"
    assert meta.get_property(NS["dc"], "format") == "video/mp4"
    assert meta.get_property(NS["dc"], "source") == "walk.mp4"
    description = meta.get_localized_text(NS["dc"], "description", None, "x-default")
    assert description.startswith("interpolate with dis (fast) from walk.mp4: 24 frames at 50 fps")
    assert meta.get_property(NS["xmpMM"], "DerivedFrom/stRef:filePath") == "walk.mp4"
    assert meta.get_property(NS["xmpMM"], "History[1]/stEvt:action") == "derived"
    params = meta.get_property(NS["xmpMM"], "History[1]/stEvt:parameters")
    assert params.startswith("interpolate ") and "model=dis" in params and "quality=fast" in params
    assert float(meta.get_property(NS["xmpDM"], "videoFrameRate")) == 50
    assert meta.get_property(NS["xmpDM"], "videoFrameSize/stDim:w") == "64"
    assert meta.get_property(NS["xmpDM"], "videoFrameSize/stDim:h") == "48"
    assert int(meta.get_property(NS["xmpDM"], "duration/xmpDM:value")) == round(result.duration_s * 1000)
    assert meta.get_property(NS["xmpDM"], "duration/xmpDM:scale") == "1/1000"
    assert meta.get_property(NS_VIDEXT, "command") == "interpolate"
    assert meta.get_property(NS_VIDEXT, "method") == "dis (fast)"
    assert float(meta.get_property(NS_VIDEXT, "processingSeconds")) == pytest.approx(record["timings"]["seconds"],
                                                                                    abs=1e-3)
    assert meta.get_property(NS_VIDEXT, "settings/vidext:fps") == "50"
    assert not meta.does_property_exist(NS_VIDEXT, "qualityScore")     # a plain run measured no quality


def test_every_job_that_writes_media_writes_both_sidecars(clip, tmp_path):
    src = clip("c.mp4", frames=8, fps=25, width=64, height=48)
    vidext.extend(src, str(tmp_path / "e.mkv"), seconds=0.2, method="freeze")
    wav = str(tmp_path / "s.wav")
    vidext.audio(src, str(tmp_path / "a.mp4"), audio_file=_tone(wav))
    for name, command, mime in (("e.mkv", "extend", "video/x-matroska"), ("a.mp4", "audio", "video/mp4")):
        meta = _parse(str(tmp_path / name) + ".xmp")
        assert meta.get_property(NS_VIDEXT, "command") == command
        assert meta.get_property(NS["dc"], "format") == mime
        assert meta.get_property(NS["xmpMM"], "History[1]/stEvt:softwareAgent").startswith("vidext ")


def test_the_quality_the_job_measured_is_carried():
    record = {"tool": "vidext", "version": "0", "command": "interpolate", "parameters": {"model": "auto"},
              "input": {"path": "/x/in.mp4"}, "output": {"fps": "50", "frames": 10, "duration_s": 0.2},
              "timings": {"seconds": 1.5},
              "auto": {"chosen": "balanced", "table": [{"method": "fast", "lpips": 0.09, "frames": 6},
                                                       {"method": "balanced", "lpips": 0.071, "psnr_y": 31.2,
                                                        "frames": 6}]}}
    assert quality_score(record) == ("lpips", 0.071, "6 held-out frames of this clip")
    meta = XMPMeta()
    meta.parse_from_str(xmp_packet("o.mov", record))
    assert meta.get_property(NS_VIDEXT, "method") == "auto (balanced)"
    assert meta.get_property(NS_VIDEXT, "qualityMetric") == "lpips"
    assert float(meta.get_property(NS_VIDEXT, "qualityScore")) == pytest.approx(0.071)
    assert meta.get_property(NS["dc"], "format") == "video/quicktime"


def test_a_failed_job_leaves_no_xmp(clip, tmp_path, monkeypatch):
    import vidext.media.atomic as atomic

    src = clip("c.mp4", frames=6, fps=25, width=64, height=48, tone_hz=None)
    out = tmp_path / "o.mp4"

    def refuse(src_path, dst):       # the output's own rename fails after both sidecars were written
        if str(dst) == str(out):
            raise OSError(28, "No space left on device")
        return os.rename(src_path, dst)

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(Exception):
        vidext.extend(src, str(out), seconds=0.2, method="freeze")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("o.")) == []


def _tone(path: str) -> str:
    import numpy as np

    from vidext.media.synth import write_audio

    t = np.arange(48000 // 2) / 48000
    return write_audio(path, (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None], 48000)
