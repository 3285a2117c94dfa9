"""HDR clips (PQ, HLG) get an SDR BT.709 playable copy, tone-mapped, never an 8-bit file with HDR tags."""
from __future__ import annotations

import av
import numpy as np
import pytest

import vidext
from helpers import encode_all
from vidext.media.probe import probe
from vidext.media.tonemap import HLG, PQ, TARGET_PEAK_NITS, ToneMapper, eetf

colour = pytest.importorskip("colour")


def _hdr_clip(path: str, trc: int, frames: int = 6) -> str:
    """HEVC 10-bit BT.2020 with ``trc``: a horizontal ramp of every code value, drifting right."""
    with av.open(path, "w") as c:
        s = c.add_stream("libx265", rate=25)
        s.width, s.height, s.pix_fmt = 128, 64, "yuv420p10le"
        s.options = {"x265-params": "log-level=error"}
        cc = s.codec_context
        cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = 9, trc, 9, 1
        encode_all(c, s, (_ramp(k, trc) for k in range(frames)))
    return path


def _ramp(k: int, trc: int) -> av.VideoFrame:
    ramp = np.tile(np.roll(np.linspace(0, 1, 128), k), (64, 1))
    rgb = (np.stack([ramp] * 3, -1) * 65535).astype(np.uint16)
    f = av.VideoFrame.from_ndarray(rgb, format="rgb48le").reformat(format="yuv420p10le", dst_colorspace=9,
                                                                   dst_color_range=1)
    f.color_primaries, f.color_trc, f.colorspace, f.color_range = 9, trc, 9, 1
    f.pts = k
    return f


def _nits_code(nits) -> np.ndarray:
    """16-bit PQ codes of grey at ``nits``."""
    codes = np.round(colour.models.eotf_inverse_ST2084(np.asarray(nits, float)) * 65535).astype(np.uint16)
    return np.repeat(codes[None, :, None], 3, axis=2)


def test_the_eetf_keeps_what_sdr_shows_and_compresses_the_highlights():
    """BT.2390: below the knee the PQ value is unchanged; the source's peak lands on the target's."""
    inverse = colour.models.eotf_inverse_ST2084
    dark = inverse(np.array([0.0, 1.0, 10.0]))
    assert np.allclose(eetf(dark, 1000, 100), dark, atol=1e-5)      # (BT.2390 lifts black by PQ(0): 7e-7)
    assert colour.models.eotf_ST2084(eetf(inverse(1000.0), 1000, 100)) == pytest.approx(100, rel=1e-6)
    ramp = np.linspace(0, 1, 1001)
    assert np.all(np.diff(eetf(ramp, 1000, 100)) >= 0)


def test_pq_greys_map_to_sdr_as_a_display_shows_them():
    """Black stays black, 10 nits stays dark, the HDR reference white (203 nits) is bright but not
    clipped, 1000 nits (the master's peak) is full white; every step keeps its order."""
    m = ToneMapper(PQ, 9)
    nits = [0, 10, 50, 100, 203, 500, 1000, 4000]
    out = m(_nits_code(nits))[0, :, 0].astype(int)
    assert out[0] == 0 and 80 <= out[1] <= 110                # BT.1886 of 10/100: (0.1)^(1/2.4) · 255 = 98
    assert 225 <= out[4] < 255 and out[6] == out[7] == 255
    assert np.all(np.diff(out) >= 0)
    assert m(_nits_code([TARGET_PEAK_NITS / 10]))[0, 0].tolist() == [out[1]] * 3    # grey stays grey


def test_bt2020_primaries_become_bt709():
    """A saturated BT.2020 green is outside BT.709: clipped to it, not passed through as if 709."""
    m = ToneMapper(PQ, 9)
    code = int(colour.models.eotf_inverse_ST2084(50.0) * 65535)
    green = np.array([[[0, code, 0]]], np.uint16)
    r, g, b = m(green)[0, 0].astype(int)
    assert g > 150 and r == 0 and b == 0
    red709 = colour.matrix_RGB_to_RGB(colour.RGB_COLOURSPACES["ITU-R BT.709"], colour.RGB_COLOURSPACES["ITU-R BT.2020"])
    assert red709[1, 0] > 0.05           # the matrix is the real one: 709 red holds some 2020 green


@pytest.mark.parametrize("trc", [PQ, HLG])
def test_an_hdr_result_gets_an_sdr_playable_copy(tmp_path, trc):
    """2× on an HEVC 10-bit HDR clip into MKV: the output keeps its HDR tags; its playable copy is
    H.264 8-bit BT.709 SDR, its picture the tone-mapped ramp; the sidecar says what was done."""
    src = _hdr_clip(str(tmp_path / "hdr.mkv"), trc)
    out = str(tmp_path / "o.mkv")
    r = vidext.interpolate(src, out, factor=2, model="blend", playable=True)
    kept = probe(out).video.colour
    assert (kept.trc, kept.primaries) == (trc, 9)
    assert r.playable_path
    copy = probe(r.playable_path).video
    assert copy.codec == "h264" and copy.pix_fmt == "yuv420p"
    assert (copy.colour.matrix, copy.colour.primaries, copy.colour.trc, copy.colour.range) == (1, 1, 1, 1)
    with av.open(r.playable_path) as c:
        row = next(c.decode(video=0)).to_ndarray(format="rgb24")[32, :, 1].astype(int)
    with av.open(src) as c:
        hdr = next(c.decode(video=0)).reformat(format="rgb48le", src_colorspace=9, src_color_range=1,
                                               dst_color_range=2).to_ndarray()
    expected = ToneMapper(trc, 9)(hdr)[32, :, 1].astype(int)
    assert np.abs(row[4:-4] - expected[4:-4]).mean() < 6          # the H.264 copy's own loss
    assert row[-4:].mean() > 240 and row[:4].mean() < 20
    import json
    record = json.loads(open(out + ".json").read())
    assert "tone-mapped to SDR BT.709" in record["playable"]["picture"]
    assert "HDR picture" in record["playable"]["reason"]


def test_the_app_says_the_player_shows_a_tone_mapped_copy(tmp_path):
    from vidext.webapp import handlers

    src = _hdr_clip(str(tmp_path / "hdr.mkv"), PQ, frames=4)
    (tmp_path / "job").mkdir()
    out = handlers.run_interpolate(src, str(tmp_path / "job"), factor=2, model="blend")
    assert out.playable != out.output and out.playable.endswith(".playable.mp4")
    assert "The player shows a copy: HDR (PQ, 1000 nits) tone-mapped to SDR BT.709" in out.summary
