"""The alpha channel follows the picture: kept by every job where the output codec can carry it (the
container's alpha codec chosen when the default cannot), moved by the same motion as the colour on
new frames, equal to the source's on the original frames, and named where it is lost."""
from __future__ import annotations

import json

import av
import numpy as np
import pytest

from formats import check_alpha_output
from helpers import MATTE_H, MATTE_W, alphas, centre, encode_all, matte_clip, matte_frame

import vidext
from vidext.media.frame import Frame, PixelLayout, from_rgb
from vidext.media.probe import probe

W, H = MATTE_W, MATTE_H


# Every job on alpha in every codec that carries it (originals equal, new frames between their
# neighbours, the alpha moving with the colour, nothing dropped): test_conformance's alpha matrix.


def test_a_matte_moving_over_still_colour_is_motion_not_a_repeat(tmp_path):
    """Only the alpha changes between frames: never taken for repeated or still frames."""
    src = matte_clip(str(tmp_path / "m.mkv"), "ffv1", "yuva420p", frames=8, colour_moves=False)
    out = str(tmp_path / "o.mkv")
    vidext.interpolate(src, out, factor=2, model="dis")
    centres = [centre(a) for a in alphas(out)]
    assert centres[:5] == pytest.approx([21.5, 22.5, 23.5, 24.5, 25.5], abs=0.6)


def test_an_output_that_cannot_carry_alpha_names_the_loss(tmp_path, capsys):
    """MP4 (no codec there keeps alpha) and an explicit codec without alpha: the plane is named as
    dropped, with what would keep it, in the sidecar and on the CLI's line."""
    from vidext._cli import main

    src = matte_clip(str(tmp_path / "a.mov"), "prores_ks", "yuva444p10le", frames=6, options={"profile": "4"})
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

    src = matte_clip(str(tmp_path / "a.mkv"), "ffv1", "yuva420p", frames=8)
    for codec, folder in ((handlers.APP_CODEC_AUTO, "auto"), ("h264", "h264")):
        (tmp_path / folder).mkdir()
        out = handlers.run_interpolate(src, str(tmp_path / folder), factor=2, model="dis", codec=codec)
        if codec == "h264":
            assert out.output.endswith(".mp4") and "Not kept" in out.summary and "alpha plane" in out.summary
            assert "Transparency kept" not in out.summary
        else:
            assert out.output.endswith(".mov") and probe(out.output).video.codec == "prores"
            assert centre(alphas(out.output)[1]) == pytest.approx(22.5, abs=0.6)
            assert out.playable.endswith(".playable.mp4") and "Not kept" not in out.summary
            assert "Transparency kept:** the download is prores with its alpha plane" in out.summary
    plain = str(tmp_path / "plain.mp4")
    from vidext.media.synth import make_clip

    make_clip(plain, frames=6, width=64, height=48)
    (tmp_path / "plain").mkdir()
    assert handlers.run_interpolate(plain, str(tmp_path / "plain"), factor=2, model="dis").output.endswith(".mp4")


@pytest.mark.parametrize("fault", ["still", "cross-fade"])
def test_the_alpha_check_sees_an_alpha_that_does_not_move(tmp_path, fault):
    """The matrix's check fails an output whose new frames keep the previous frame's alpha under a moving
    square, or cross-fade the alpha where the colour moves."""
    src = matte_clip(str(tmp_path / "a.mkv"), "ffv1", "yuva420p", frames=6)
    out = str(tmp_path / "o.mkv")
    with av.open(out, "w") as c:
        s = c.add_stream("ffv1", rate=50)
        s.width, s.height, s.pix_fmt = W, H, "yuva420p"

        def frame(j):
            k = j / 2
            f = matte_frame(k, "yuva420p", alpha_at=None if j % 2 == 0 or fault != "still" else j // 2)
            if j % 2 and fault == "cross-fade":
                a, b = (matte_frame(x, "rgba").to_ndarray() for x in (j // 2, j // 2 + 1))
                rgba = matte_frame(k, "rgba").to_ndarray()
                rgba[..., 3] = (a[..., 3].astype(int) + b[..., 3]) // 2
                f = av.VideoFrame.from_ndarray(rgba, format="rgba").reformat(format="yuva420p")
            f.pts = j
            return f
        encode_all(c, s, (frame(j) for j in range(11)))
    sidecar = {"output": {"dropped": [], "converted": []}}
    problems = check_alpha_output(src, out, sidecar, lambda t: t, originals=6)
    assert problems and all("new frame" in p or "off the colour" in p for p in problems), problems
    assert check_alpha_output(src, src, sidecar, lambda t: t, originals=6) == []


def test_an_rgba_clips_playable_copy_is_bt709_as_an_rgb_ones(tmp_path):
    """The playable copy of RGB pictures is converted to BT.709, with an alpha plane or without."""
    from vidext.media.playable import write_playable

    for pix_fmt in ("rgba", "rgb24"):
        src = matte_clip(str(tmp_path / f"{pix_fmt}.mov"), "png", pix_fmt, frames=4)
        copy = probe(write_playable(src, str(tmp_path / f"{pix_fmt}.mp4"))).video
        assert (copy.colour.matrix, copy.colour.range) == (1, 1), pix_fmt
