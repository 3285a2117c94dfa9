"""The alpha channel follows the picture: kept by every job where the output codec can carry it (the
container's alpha codec chosen when the default cannot), moved by the same motion as the colour on
new frames, equal to the source's on the original frames, and named where it is lost."""
from __future__ import annotations

import json

import av
import numpy as np
import pytest

import vidext
from helpers import encode_all
from vidext.media.frame import Frame, PixelLayout, from_rgb
from vidext.media.probe import probe

W, H = 96, 64


def _matte_clip(path: str, codec: str, pix_fmt: str, *, frames: int = 30, colour_moves: bool = True,
                options: dict | None = None) -> str:
    """An opaque textured square moving 2 px a frame right over a transparent background."""
    with av.open(path, "w") as c:
        s = c.add_stream(codec, rate=25)
        s.width, s.height, s.pix_fmt = W, H, pix_fmt
        if options:
            s.options = options
        encode_all(c, s, (_matte(k, pix_fmt, colour_moves) for k in range(frames)))
    return path


def _matte(k: int, pix_fmt: str, colour_moves: bool) -> av.VideoFrame:
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 200, (np.arange(W) * 2)[None, :], 80
    x = 10 + 2 * k
    rgba[20:44, x:x + 24, 3] = 255
    if colour_moves:
        rgba[20:44, x:x + 24, :3] = (np.arange(24) * 9 + 20)[None, :, None]
    f = av.VideoFrame.from_ndarray(rgba, format="rgba").reformat(format=pix_fmt)
    f.pts = k
    return f


def _alphas(path: str) -> list[np.ndarray]:
    """Each frame's alpha on the 8-bit scale, as vidext reads it (VP9's alpha layer through libvpx)."""
    from vidext.media.frame import to_u8
    from vidext.media.reader import FrameSource

    with FrameSource(path, probe(path)) as source:
        return [to_u8(f.planes[-1], f.layout.bits) for f in source]


def _centre(alpha: np.ndarray) -> float:
    cols = np.nonzero(alpha > 128)[1]
    return float(cols.mean()) if cols.size else -1.0


SOURCES = {
    "prores4444": ("prores_ks", "yuva444p10le", ".mov", {"profile": "4"}),
    "ffv1": ("ffv1", "yuva420p", ".mkv", None),
    "png": ("png", "rgba", ".mov", None),
    "qtrle": ("qtrle", "argb", ".mov", None),
    "vp9": ("libvpx-vp9", "yuva420p", ".webm", None),     # alpha as a second layer, read by libvpx
}


@pytest.mark.parametrize("name", list(SOURCES))
def test_interpolation_keeps_the_alpha_and_moves_it_with_the_picture(tmp_path, name):
    codec, pix_fmt, ext, options = SOURCES[name]
    src = _matte_clip(str(tmp_path / f"a{ext}"), codec, pix_fmt, frames=8, options=options)
    out = str(tmp_path / f"o{ext}")
    vidext.interpolate(src, out, factor=2, model="dis")
    v = probe(out).video
    assert any(c.is_alpha for c in av.VideoFormat(v.pix_fmt).components), v.pix_fmt
    got, real = _alphas(out), _alphas(src)
    assert len(got) == 16
    for k in range(7):
        assert np.abs(got[2 * k].astype(int) - real[k].astype(int)).max() <= 2        # the originals' alpha
        assert _centre(got[2 * k + 1]) == pytest.approx((_centre(real[k]) + _centre(real[k + 1])) / 2, abs=0.6)
    output = json.loads(open(out + ".json").read())["output"]
    if ext == ".mov":    # H.264, the default of .mov, cannot store alpha: ProRes 4444 chosen, and said
        assert v.codec == "prores"
        assert output["converted"][0]["to"] == "prores" and "alpha plane" in output["converted"][0]["why"]
    assert output["dropped"] == []


def test_a_matte_moving_over_still_colour_is_motion_not_a_repeat(tmp_path):
    """Only the alpha changes between frames: never taken for repeated or still frames."""
    src = _matte_clip(str(tmp_path / "m.mkv"), "ffv1", "yuva420p", frames=8, colour_moves=False)
    out = str(tmp_path / "o.mkv")
    vidext.interpolate(src, out, factor=2, model="dis")
    centres = [_centre(a) for a in _alphas(out)]
    assert centres[:5] == pytest.approx([21.5, 22.5, 23.5, 24.5, 25.5], abs=0.6)


@pytest.mark.parametrize("method", ["freeze", "ramp"])
def test_an_extension_keeps_the_alpha(tmp_path, method):
    src = _matte_clip(str(tmp_path / "a.mkv"), "ffv1", "yuva420p")
    out = str(tmp_path / "e.mkv")
    r = vidext.extend(src, out, seconds=0.4, method=method)
    got, real = _alphas(out), _alphas(src)
    assert len(got) == r.frames_out == 40
    retimed = (r.details["extension"].get("retimed") or {}).get("forward")
    untouched = retimed["frames"][0] if retimed else 30
    assert all(np.array_equal(g, a) for g, a in zip(got[:untouched], real[:untouched]))
    centres = [_centre(a) for a in got]
    assert all(b >= a - 0.01 for a, b in zip(centres, centres[1:]))              # never jumps back
    assert centres[-1] == pytest.approx(_centre(real[-1]), abs=0.6)               # it slows to a stop there


def test_an_output_that_cannot_carry_alpha_names_the_loss(tmp_path, capsys):
    """MP4 (no codec there keeps alpha) and an explicit codec without alpha: the plane is named as
    dropped, with what would keep it, in the sidecar and on the CLI's line."""
    from vidext._cli import main

    src = _matte_clip(str(tmp_path / "a.mov"), "prores_ks", "yuva444p10le", frames=6, options={"profile": "4"})
    for name, codec, hint in (("o.mp4", None, ".mov, .mkv or .webm do"), ("o.mkv", "h264", "--codec ffv1 keeps it")):
        out = str(tmp_path / name)
        main(["interpolate", src, "-o", out, "--factor", "2", "--model", "dis", "-q",
              *(["--codec", codec] if codec else [])])
        assert probe(out).video.pix_fmt == "yuv444p10le"
        (dropped,) = json.loads(open(out + ".json").read())["output"]["dropped"]
        assert dropped["codec"] == "alpha" and "h264 stores no alpha plane" in dropped["why"] and hint in dropped["why"]
        assert "dropped: #0 alpha plane (transparency) of the picture: h264 stores no alpha" in capsys.readouterr().out


def test_a_picture_made_from_rgb_keeps_its_models_alpha():
    """A generative model's RGB picture in an alpha layout: its alpha is the frame it was modelled on."""
    layout = PixelLayout("yuva420p")
    alpha = np.tile(np.arange(W, dtype=np.uint8), (H, 1))
    like = Frame((np.full((H, W), 100, np.uint8), np.full((H // 2, W // 2), 128, np.uint8),
                  np.full((H // 2, W // 2), 128, np.uint8), alpha), 0, layout)
    planes = from_rgb(np.full((H, W, 3), 0.5, np.float32), like)
    assert [p.shape for p in planes] == layout.plane_shapes(W, H) and np.array_equal(planes[3], alpha)


def test_the_app_keeps_the_alpha_by_default_and_names_it_when_asked_for_h264(tmp_path):
    """The app's codec ``auto``: ProRes 4444 in .mov for a clip with transparency (its playable copy
    for the browser), H.264 otherwise; an explicit h264 says the alpha is not kept."""
    from vidext.webapp import handlers

    src = _matte_clip(str(tmp_path / "a.mkv"), "ffv1", "yuva420p", frames=8)
    for codec, folder in ((handlers.APP_CODEC_AUTO, "auto"), ("h264", "h264")):
        (tmp_path / folder).mkdir()
        out = handlers.run_interpolate(src, str(tmp_path / folder), factor=2, model="dis", codec=codec)
        if codec == "h264":
            assert out.output.endswith(".mp4") and "Not kept" in out.summary and "alpha plane" in out.summary
        else:
            assert out.output.endswith(".mov") and probe(out.output).video.codec == "prores"
            assert _centre(_alphas(out.output)[1]) == pytest.approx(22.5, abs=0.6)
            assert out.playable.endswith(".playable.mp4") and "Not kept" not in out.summary
    plain = str(tmp_path / "plain.mp4")
    from vidext.media.synth import make_clip

    make_clip(plain, frames=6, width=64, height=48)
    (tmp_path / "plain").mkdir()
    assert handlers.run_interpolate(plain, str(tmp_path / "plain"), factor=2, model="dis").output.endswith(".mp4")
