"""genrelab.audio: decoding, resampling, downmixing and the errors users see for broken files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from genrelab import audio
from genrelab.errors import AudioError


def tone(path, seconds=1.0, sr=22050, channels=1, freq=440.0):
    """Write a sine of ``freq`` Hz; every channel holds the same signal. Returns (path, mono samples)."""
    t = np.arange(int(round(seconds * sr))) / sr
    y = 0.3 * np.sin(2 * np.pi * freq * t)
    sf.write(path, np.repeat(y[:, None], channels, axis=1), sr)
    return path, y


def test_stereo_44k_file_loads_mono_at_22050(tmp_path):
    path, _ = tone(tmp_path / "stereo.wav", seconds=1.0, sr=44100, channels=2, freq=440.0)
    y, sr = audio.load(path)
    assert sr == 22050 and y.dtype == np.float32 and y.ndim == 1
    assert len(y) == 22050
    expected = 0.3 * np.sin(2 * np.pi * 440.0 * np.arange(22050) / 22050)
    # soxr's filter delay is negligible: the resampled tone matches the tone sampled at 22050 Hz
    assert np.abs(y[500:-500] - expected[500:-500]).max() < 1e-3


def test_downmix_averages_channels_and_sr_none_keeps_rate(tmp_path):
    left = np.full(1000, 0.5)
    right = np.full(1000, -0.1)
    sf.write(tmp_path / "lr.wav", np.stack([left, right], axis=1), 8000, subtype="FLOAT")
    y, sr = audio.load(tmp_path / "lr.wav", sr=None)
    assert sr == 8000 and y.shape == (1000,)
    np.testing.assert_allclose(y, 0.2, atol=1e-6)
    both, _ = audio.load(tmp_path / "lr.wav", sr=None, mono=False)
    assert both.shape == (2, 1000)


def test_info_and_count_frames_agree_on_a_good_file(tmp_path):
    path, y = tone(tmp_path / "a.flac", seconds=0.5, sr=16000, channels=2)
    meta = audio.info(path)
    assert (meta.sample_rate, meta.channels, meta.frames) == (16000, 2, len(y))
    assert meta.duration == pytest.approx(0.5)
    assert audio.count_frames(path) == len(y)


def test_garbage_bytes_raise_audio_error_naming_the_file(tmp_path):
    path = tmp_path / "blues.00001.wav"
    path.write_bytes(np.random.default_rng(0).bytes(4000))
    for read in (audio.load, audio.info, audio.count_frames):
        with pytest.raises(AudioError, match=r"blues\.00001\.wav: cannot decode audio \(Format not recognised\)"):
            read(path)


def test_truncated_flac_passes_header_read_but_fails_full_decode(tmp_path):
    path, _ = tone(tmp_path / "t.flac", seconds=2.0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert audio.info(path).frames == 44100  # the header still claims the full length
    with pytest.raises(AudioError, match="t.flac: cannot decode audio"):
        audio.count_frames(path)


def test_missing_empty_and_non_finite_files(tmp_path):
    with pytest.raises(AudioError, match="nope.wav: no such file"):
        audio.load(tmp_path / "nope.wav")
    sf.write(tmp_path / "empty.wav", np.zeros(0), 22050)
    with pytest.raises(AudioError, match="empty.wav: the file holds no samples"):
        audio.load(tmp_path / "empty.wav")
    sf.write(tmp_path / "nan.wav", np.array([0.0, np.nan, 0.1]), 22050, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav: holds NaN or infinite samples"):
        audio.load(tmp_path / "nan.wav")
    with pytest.raises(AudioError, match="nan.wav: holds NaN or infinite samples"):
        audio.count_frames(tmp_path / "nan.wav")


@pytest.mark.parametrize("sr", [0, -22050, 22050.0, True])
def test_bad_target_rate_is_refused(tmp_path, sr):
    path, _ = tone(tmp_path / "a.wav", seconds=0.1)
    with pytest.raises(AudioError, match="sr must be a positive integer"):
        audio.load(path, sr=sr)


def test_is_audio_file_is_case_insensitive():
    assert audio.is_audio_file("a/B.WAV") and audio.is_audio_file("x.au") and audio.is_audio_file("x.Mp3")
    assert not audio.is_audio_file("notes.txt") and not audio.is_audio_file(".DS_Store")


@pytest.mark.shared_data
@pytest.mark.parametrize("name, seconds", [("000002.mp3", 29.98), ("000010.mp3", 2.0)])
def test_fma_mp3_loads_resampled_to_22050(shared_data, name, seconds):
    path = shared_data / "fma-samples" / name
    assert (audio.info(path).sample_rate, audio.info(path).channels) == (44100, 2)
    y, sr = audio.load(path)
    assert sr == 22050 and y.dtype == np.float32 and y.ndim == 1
    assert len(y) / sr == pytest.approx(seconds, abs=0.01)
    assert 0.01 < np.abs(y).max() <= 1.0


@pytest.mark.shared_data
def test_real_corrupt_gtzan_file_raises_audio_error(shared_data):
    with pytest.raises(AudioError, match=r"jazz\.00054\.wav: cannot decode audio"):
        audio.load(shared_data / "bad-audio" / "jazz.00054.wav")
