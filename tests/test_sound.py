"""vidext.sound: pitch-kept stretch, retimed and extended feeds (fixtures made here)."""
from __future__ import annotations

from fractions import Fraction as F

import av
import numpy as np
import pytest

from vidext.errors import ParameterError
from vidext.sound import RetimedAudio, stretch
from vidext.sound.pcm import read_audio, write_audio
from vidext.timemap import TimeMap

from helpers import RATE, add_clicks, events_clip, tone


def pitch_hz(y: np.ndarray, rate: int = RATE) -> float:
    y = y * np.hanning(len(y))
    spec = np.abs(np.fft.rfft(y, 8 * len(y)))
    i = int(np.argmax(spec))
    a, b, c = np.log(spec[i - 1:i + 2] + 1e-12)
    return (i + 0.5 * (a - c) / (a - 2 * b + c)) * rate / (8 * len(y))


def click_times(y: np.ndarray, threshold: float = 0.5, rate: int = RATE) -> list[float]:
    """Start of each group of samples above ``threshold`` (a click and its copies)."""
    idx = np.flatnonzero(np.abs(y) > threshold)
    if not len(idx):
        return []
    starts = [idx[0]] + [b for a, b in zip(idx, idx[1:]) if b - a > 32]
    return [s / rate for s in starts]


def max_jump_ratio(y: np.ndarray, at: int, width: int = 480) -> float:
    """Largest sample step near ``at`` relative to the largest step of the signal elsewhere."""
    d = np.abs(np.diff(y))
    near = d[max(0, at - width):at + width].max()
    ref = np.percentile(d, 99.9)
    return float(near / ref)


@pytest.mark.parametrize("factor", [0.125, 0.25, 0.5, 0.8, 1.5, 2.7, 4.0, 8.0])
def test_stretch_keeps_pitch_and_length(factor):
    y = stretch(tone(0.6)[None], RATE, factor)[0]
    assert len(y) == round(0.6 * RATE * factor)
    m = len(y) // 8
    assert abs(pitch_hz(y[m:-m]) / 440 - 1) < 0.01


@pytest.mark.parametrize("factor", [0.5, 0.8, 2.0, 3.3])
def test_clicks_land_at_stretched_times_once(factor):
    times = [0.2, 0.45, 0.8, 1.1]
    x = add_clicks(tone(1.3, amp=0.2), times)
    y = stretch(x[None], RATE, factor)[0]
    found = click_times(y)
    assert len(found) == len(times), found  # none dropped, none doubled
    for got, t in zip(found, times):
        assert abs(got - t * factor) < 0.002


def test_stretch_factor_range():
    with pytest.raises(ParameterError, match="between 0.125 and 8"):
        stretch(tone(0.1)[None], RATE, 9)


@pytest.mark.parametrize("method", ["pvoc", "atempo"])
def test_other_stretchers_keep_pitch(method):
    y = stretch(tone(0.6)[None], RATE, 2.0, method=method)[0]
    assert len(y) == round(1.2 * RATE)
    assert abs(pitch_hz(y[len(y) // 8:-len(y) // 8]) / 440 - 1) < 0.01


@pytest.mark.parametrize("channels", [6, 8])
def test_atempo_keeps_every_channel_of_surround_sound(channels):
    """5.1 and 7.1 through FFmpeg's atempo: every channel stretched, none mixed into another
    (the filter was declared stereo and refused more than two channels)."""
    amps = np.linspace(0.05, 0.4, channels)
    x = np.stack([tone(0.6, amp=a) for a in amps])
    y = stretch(x, RATE, 2.0, method="atempo")
    assert y.shape == (channels, round(1.2 * RATE))
    core = y[:, len(y[0]) // 8:-len(y[0]) // 8]
    rms = np.sqrt((core ** 2).mean(axis=1))
    np.testing.assert_allclose(rms / rms[-1], amps / amps[-1], rtol=0.05)
    assert abs(pitch_hz(core[0]) / 440 - 1) < 0.01


def _render(feed, path: str) -> np.ndarray:
    with av.open(path, "w") as c:
        feed.open(c)
        for t in np.arange(0, 20, 0.04):  # as a 25 fps video sink would call it
            feed.write_until(float(t))
        feed.finish()
    return read_audio(path)[0][0]


def test_retimed_segment_copies_untouched_pieces_exactly(tmp_path):
    src = write_audio(str(tmp_path / "src.wav"), add_clicks(tone(3.0), [0.5, 1.5, 2.5])[None], RATE)
    x = read_audio(src)[0][0]
    m = TimeMap.segment(0, 3, 1, 2, F(5, 2))          # 1–2 s played 2.5× slower
    y = _render(RetimedAudio(src, m, str(tmp_path / "o.wav")), str(tmp_path / "o.wav"))
    assert len(y) == 4.5 * RATE
    assert np.array_equal(y[:RATE], x[:RATE])                       # before the segment: sample-exact
    assert np.array_equal(y[int(3.5 * RATE):], x[2 * RATE:])        # after it: sample-exact
    assert [round(t, 3) for t in click_times(y)] == [0.5, 2.25, 4.0]  # 1.5 s → 1 + 0.5·2.5
    for edge in (RATE, int(3.5 * RATE)):                            # the crossfades leave no step
        assert max_jump_ratio(y, edge) < 1.5
    m = len(y[RATE:int(3.5 * RATE)]) // 8
    assert abs(pitch_hz(y[RATE + m:int(3.5 * RATE) - m]) / 440 - 1) < 0.01


def test_retimed_trim_and_speed_up_starts_at_zero(tmp_path):
    src = write_audio(str(tmp_path / "src.wav"), add_clicks(tone(3.0), [1.0, 2.2])[None], RATE)
    m = TimeMap.uniform(F(1, 2), F(5, 2), F(1, 2))     # 0.5–2.5 s at double speed
    feed = RetimedAudio(src, m, str(tmp_path / "o.m4a"), start_s=0)
    with av.open(str(tmp_path / "o.m4a"), "w") as c:
        feed.open(c)
        feed.finish()
    assert feed.samples_written == RATE
    y, rate = read_audio(str(tmp_path / "o.m4a"))
    assert abs(y.shape[1] / rate - 1.0) < 0.04                     # AAC frames round up to 1024 samples
    assert [round(t, 2) for t in click_times(y[0], 0.4)] == [0.25, 0.85]


def music(seconds: float = 10.0, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Two bars (4 s) repeating at 120 bpm: kick on the beat, noise hi-hat off the beat, two chords."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    x = np.zeros(n)
    chords = ((261.63, 329.63, 392.0), (220.0, 261.63, 329.63))
    for bar in range(int(np.ceil(seconds / 2))):
        sl = slice(int(bar * 2 * rate), min(n, int((bar + 1) * 2 * rate)))
        for f in chords[bar % 2]:
            x[sl] += 0.08 * np.sin(2 * np.pi * f * t[sl])
    for b in np.arange(0, seconds, 0.5):
        i = int(b * rate)
        k = np.arange(min(n - i, int(0.2 * rate)))
        x[i:i + len(k)] += 0.5 * np.exp(-k / (0.04 * rate)) * np.sin(2 * np.pi * 60 * k / rate)
        j = int((b + 0.25) * rate)
        if j < n:
            m = min(n - j, int(0.03 * rate))
            x[j:j + m] += 0.15 * rng.standard_normal(m) * np.exp(-np.arange(m) / (0.008 * rate))
    return x.astype(np.float32)


def _extend(tmp_path, x, before, after, method="loop", name="ext.wav"):
    from vidext.sound import ExtendedAudio

    src = write_audio(str(tmp_path / "src.wav"), np.stack([x, 0.5 * x]), RATE)
    out = str(tmp_path / name)
    feed = ExtendedAudio(src, out, before, after, method)
    _render(feed, out)
    return read_audio(out)[0], feed, read_audio(src)[0][0]


def _steps_ok(y: np.ndarray, x: np.ndarray, seams, width: int = 960) -> None:
    ref = np.abs(np.diff(x)).max()
    for s in seams:
        d = np.abs(np.diff(y[max(0, s - width):s + width])).max()
        assert d <= 1.05 * ref, (s, d, ref)


def test_loop_forward_keeps_beat_and_bar_without_clicks(tmp_path):
    y, feed, x = _extend(tmp_path, music(), 0, 9.0)
    assert y.shape[1] == 19 * RATE
    assert np.array_equal(y[0, :9 * RATE], x[:9 * RATE])                # the original, untouched...
    loop_s = feed.details["forward"]["loop_s"]
    assert abs(loop_s - 4.0) < 0.013   # ...a whole 2-bar phrase repeats (phase-aligned within 12 ms)
    seams = [10 * RATE + int(round(m * loop_s * RATE)) for m in range(3)]
    _steps_ok(y[0], x, seams)
    # after the edge the sound jumps back one phrase and plays on: same beat grid, same chords
    loop = int(round(loop_s * RATE))
    xf = int(0.025 * RATE)
    assert np.array_equal(y[0, 10 * RATE:10 * RATE + loop - xf], x[10 * RATE - loop:10 * RATE - xf])


def test_loop_backward_prepends_and_shifts_original(tmp_path):
    y, feed, x = _extend(tmp_path, music(), 3.0, 0)
    assert y.shape[1] == 13 * RATE
    xf = int(0.025 * RATE)
    assert np.array_equal(y[0, 3 * RATE + xf:], x[xf:])                   # original shifted by 3 s
    loop_s = feed.details["backward"]["loop_s"]
    assert abs(loop_s - 4.0) < 0.013
    _steps_ok(y[0], x, [3 * RATE, 3 * RATE - int(round(loop_s * RATE))])
    # time runs forward in the prepended part: a kick's attack comes before its decay
    kick = y[0, 3 * RATE - RATE // 2:3 * RATE - RATE // 2 + int(0.1 * RATE)]
    energy = (kick.reshape(-1, 240) ** 2).sum(axis=1)
    assert energy[0] > energy[-1] * 10


def test_loop_real_music_has_no_seam_click(tmp_path):
    from helpers import asset

    x, rate = read_audio(str(asset("audio", "loop_compus.flac")))
    src = str(tmp_path / "src.flac")
    write_audio(src, x, rate)
    from vidext.sound import ExtendedAudio

    out = str(tmp_path / "o.flac")
    feed = ExtendedAudio(src, out, 2.0, 8.0, "loop")
    _render(feed, out)
    y = read_audio(out)[0]
    n = x.shape[1]
    assert abs(y.shape[1] - (n + 10 * rate)) <= 1
    loop = int(round(feed.details["forward"]["loop_s"] * rate))
    _steps_ok(y.mean(axis=0), x.mean(axis=0), [2 * rate + n + m * loop for m in range(3)] + [2 * rate])


def test_silence_fades_out(tmp_path):
    y, _, x = _extend(tmp_path, tone(2.0), 0, 1.0, "silence")
    assert y.shape[1] == 3 * RATE
    assert not y[:, 2 * RATE:].any()
    assert np.abs(np.diff(y[0, 2 * RATE - 2000:2 * RATE + 10])).max() < 0.03


@pytest.mark.parametrize("offset", [0.0, 0.2, -0.12])
def test_av_offset_found_within_a_frame(tmp_path, offset):
    from vidext.sound import av_sync, estimate_av_offset

    path = events_clip(str(tmp_path / "e.mp4"), offset)
    est = av_sync(path)
    assert abs(est.offset_s - offset) < 0.01 and est.reliable, est
    assert est.flagged == (abs(offset) > 0.04)
    assert estimate_av_offset(path) == est.offset_s


def test_av_offset_unknown_without_shared_events(clip):
    from vidext.sound import av_sync, estimate_av_offset

    path = clip(frames=50)                     # steady motion, steady tone: nothing to line up
    est = av_sync(path)
    assert not est.reliable and not est.flagged
    assert np.isnan(estimate_av_offset(path))


def test_audio_api_stretch_and_extend(tmp_path):
    import vidext

    src = write_audio(str(tmp_path / "m.flac"), music(6.0)[None], RATE)
    r = vidext.audio(src, str(tmp_path / "s.wav"), stretch=1.5)
    y, rate = read_audio(r.output)
    assert y.shape[1] == 9 * RATE and r.operation == "stretch"
    r = vidext.audio(src, str(tmp_path / "e.m4a"), extend=2.0, direction="both")
    assert abs(r.duration_s - 10.0) < 1e-6 and r.details["details"]["forward"]["method"] == "loop"
    with pytest.raises(ParameterError, match="between 0.125 and 8"):
        vidext.audio(src, str(tmp_path / "x.wav"), stretch=10)


def test_audio_cli_remux_matches_picture(tmp_path, clip):
    import json
    import subprocess
    import sys

    video = clip(frames=40, tone_hz=None)                                  # 1.6 s, no sound
    sound = write_audio(str(tmp_path / "t.wav"), tone(2.5)[None], RATE)   # longer than the picture
    out = tmp_path / "o.mp4"
    p = subprocess.run([sys.executable, "-m", "vidext", "audio", video, "-o", str(out), "--audio", sound],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        n = sum(f.samples for f in c.decode(c.streams.audio[0]))
        rate = c.streams.audio[0].rate
    assert abs(n / rate - 1.6) <= 1 / 25 + 1024 / rate                  # within a frame (+ one AAC frame)
    assert json.loads((tmp_path / "o.mp4.json").read_text())["operation"] == "remux"
    p = subprocess.run([sys.executable, "-m", "vidext", "audio", video, "-o", str(tmp_path / "x.mp4"),
                        "--stretch", "2"], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.startswith("error: ") and "--slowmo" in p.stderr
    assert not (tmp_path / "x.mp4").exists()


@pytest.fixture(scope="module")
def tiny_musicgen(tmp_path_factory):
    """A randomly initialised MusicGen (8 kHz, 4 codebooks) saved like a Hub checkpoint."""
    torch = pytest.importorskip("torch")
    from transformers import (EncodecConfig, EncodecFeatureExtractor, MusicgenConfig, MusicgenDecoderConfig,
                              MusicgenForConditionalGeneration, MusicgenProcessor, T5Config, T5Tokenizer)

    torch.manual_seed(0)
    t5 = T5Config(vocab_size=64, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2, decoder_start_token_id=0)
    enc = EncodecConfig(sampling_rate=8000, audio_channels=1, num_filters=4, hidden_size=8,
                        upsampling_ratios=[8, 4], codebook_size=32, codebook_dim=8, num_residual_layers=1,
                        num_lstm_layers=1, target_bandwidths=[5.0], compress=2, kernel_size=3,
                        last_kernel_size=3, residual_kernel_size=3)
    dec = MusicgenDecoderConfig(vocab_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                ffn_dim=32, num_codebooks=enc.num_quantizers, max_position_embeddings=1024,
                                pad_token_id=32, bos_token_id=32)
    model = MusicgenForConditionalGeneration(MusicgenConfig(text_encoder=t5.to_dict(), audio_encoder=enc.to_dict(),
                                                            decoder=dec.to_dict()))
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(c, -float(i)) for i, c in enumerate("abcdefghijklmnopqrstuvwxyz▁")]
    fe = EncodecFeatureExtractor(feature_size=1, sampling_rate=8000, padding_value=0.0)
    folder = tmp_path_factory.mktemp("musicgen")
    model.save_pretrained(folder)
    MusicgenProcessor(feature_extractor=fe, tokenizer=T5Tokenizer(vocab=vocab, extra_ids=0)).save_pretrained(folder)
    fe.save_pretrained(folder)
    return str(folder)


def test_musicgen_continuation_end_to_end(tmp_path, tiny_musicgen):
    import vidext

    src = write_audio(str(tmp_path / "m.wav"), np.stack([music(3.0), music(3.0)]), RATE)
    x = read_audio(src)[0]
    outs = []
    for name in ("a.wav", "b.wav"):
        r = vidext.audio(src, str(tmp_path / name), extend=1.0, direction="both", method="musicgen",
                         prompt="drums and chords", seed=7, weights=tiny_musicgen)
        outs.append(read_audio(r.output)[0])
    y = outs[0]
    assert y.shape == (2, 5 * RATE)
    assert np.array_equal(outs[0], outs[1])                               # same seed, same sound
    xf = int(0.025 * RATE)
    assert np.array_equal(y[:, RATE + xf:4 * RATE - xf], x[:, xf:3 * RATE - xf])  # the original, shifted
    new = y[:, 4 * RATE:]
    assert np.abs(new).max() > 0 and np.isfinite(new).all()                # something was generated
    d = r.details["details"]["forward"]
    assert d["method"] == "musicgen" and "CC-BY-NC" in d["licence"] and d["prompt"] == "drums and chords"


def test_retimed_audio_follows_slow_motion_video(tmp_path, clip):
    """Through the real video sink: 2× slow motion, sound as long as the picture, pitch kept."""
    from vidext.media.transcode import run_video_job
    from vidext.media.probe import probe

    src = clip(frames=25, tone_hz=440.0)
    info = probe(src)
    tm = TimeMap.uniform(0, 1, 2)

    def compute(frames, meter):
        for k, f in enumerate(frames):                     # each picture twice: half speed
            for j in range(2):
                yield f.planes, F(2 * k + j, 25)
                meter.advance()

    out = str(tmp_path / "slow.mp4")
    feed = RetimedAudio(src, tm, out)
    run_video_job(command="test", info=info, output=out, compute=compute, rate=F(25), total_frames=50,
                  codec="h264", crf=None, preset="ultrafast", audio=feed, header={})
    with av.open(out) as c:
        v = c.streams.video[0]
        times = [float(f.pts * v.time_base) for f in c.decode(v)]
        c.seek(0)
        y = np.concatenate([f.to_ndarray()[0] for f in c.decode(c.streams.audio[0])])
        rate = c.streams.audio[0].rate
    picture = times[-1] + 1 / 25
    assert abs(picture - 2.0) < 1e-6
    assert abs(feed.duration_s - picture) < 1 / 25
    assert abs(len(y) / rate - picture) < 1 / 25 + 1024 / rate          # AAC pads to whole frames
    m = len(y) // 8
    assert abs(pitch_hz(y[m:-m], rate) / 440 - 1) < 0.01


def test_classical_audio_path_does_not_import_torch(tmp_path):
    import subprocess
    import sys

    src = write_audio(str(tmp_path / "m.wav"), music(3.0)[None], RATE)
    code = ("import sys, vidext; vidext.audio(sys.argv[1], sys.argv[2], extend=1.0, direction='both'); "
            "vidext.audio(sys.argv[1], sys.argv[3], stretch=1.3); "
            "from vidext.sound import estimate_av_offset; assert 'torch' not in sys.modules, 'torch imported'")
    p = subprocess.run([sys.executable, "-c", code, src, str(tmp_path / "a.wav"), str(tmp_path / "b.wav")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_retimed_audio_follows_extreme_slow_motion(tmp_path):
    src = write_audio(str(tmp_path / "src.wav"), add_clicks(tone(0.5), [0.1, 0.3])[None], RATE)
    feed = RetimedAudio(src, TimeMap.uniform(0, F(1, 2), 16), str(tmp_path / "o.wav"))
    y = _render(feed, str(tmp_path / "o.wav"))
    assert len(y) == 8 * RATE
    found = click_times(y)
    assert len(found) == 2 and abs(found[0] - 1.6) < 0.002 and abs(found[1] - 4.8) < 0.002
    with pytest.raises(ParameterError):
        RetimedAudio(src, TimeMap.uniform(0, F(1, 2), 100), str(tmp_path / "p.wav"))


def test_audio_job_cancelled_leaves_nothing(tmp_path):
    import threading

    import vidext
    from vidext.errors import Cancelled

    src = write_audio(str(tmp_path / "m.wav"), music(3.0)[None], RATE)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        vidext.audio(src, str(tmp_path / "o.wav"), stretch=2, stop=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.wav"]


def test_audio_job_reports_progress(tmp_path):
    import vidext

    src = write_audio(str(tmp_path / "m.wav"), music(4.0)[None], RATE)
    seen = []
    vidext.audio(src, str(tmp_path / "o.flac"), extend=2.0, progress=seen.append)
    counted = [p for p in seen if p.stage == "sound" and p.total]     # the job's stage, in seconds of sound
    assert counted[-1].done == counted[-1].total == 60 and counted[-1].counts() == "6.0/6.0 s of sound"
    assert seen[-1].stage == "done" and seen[-1].bar == 1.0


def test_musicgen_longer_than_one_window(tmp_path, tiny_musicgen, monkeypatch):
    from vidext.sound import ExtendedAudio, musicgen

    monkeypatch.setattr(musicgen, "MUSICGEN_CHUNK_S", 0.4)
    src = write_audio(str(tmp_path / "m.wav"), music(2.0)[None], RATE)
    out = str(tmp_path / "o.wav")
    feed = ExtendedAudio(src, out, 0, 1.0, "musicgen", seed=3, weights=tiny_musicgen)
    y = _render(feed, out)
    assert len(y) == 3 * RATE and np.isfinite(y).all()
    assert feed.details["forward"]["windows"] >= 3


@pytest.mark.parametrize("ext", ["wav", "flac", "m4a", "mp3", "ogg", "mka"])
def test_audio_outputs_in_every_audio_container(tmp_path, ext):
    import vidext
    from vidext.media.probe import probe

    src = write_audio(str(tmp_path / "m.wav"), tone(1.0, rate=44100)[None], 44100)   # 44.1 kHz: Opus resamples
    r = vidext.audio(src, str(tmp_path / f"o.{ext}"), extend=0.5)
    info = probe(r.output)
    assert info.audio and abs(info.duration_s - 1.5) < 0.08
