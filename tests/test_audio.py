"""genrelab.data.audio: decoding, resampling, downmixing and the errors users see for broken files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from genrelab.data import audio
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


def test_info_and_scan_agree_on_a_good_file(tmp_path):
    path, y = tone(tmp_path / "a.flac", seconds=0.5, sr=16000, channels=2)
    meta = audio.info(path)
    assert (meta.sample_rate, meta.channels, meta.frames) == (16000, 2, len(y))
    assert meta.duration == pytest.approx(0.5)
    scan = audio.scan(path)
    assert (scan.frames, scan.header_frames, scan.channels, scan.sample_rate) == (len(y), len(y), 2, 16000)
    assert scan.declared_frames is None  # FLAC has no size field of its own to compare
    assert scan.peak == pytest.approx(np.abs(y).max(), abs=1e-4)
    assert scan.rms == pytest.approx(np.sqrt(np.mean(y**2)), rel=1e-3)
    assert scan.full_scale == 0


def test_scan_counts_full_scale_samples_over_blocks(tmp_path):
    y = np.zeros(200_000)  # longer than one read block
    y[[5, 70_000, 199_999]] = 1.0
    y[150_000] = -1.0
    sf.write(tmp_path / "c.wav", y, 22050, subtype="PCM_16")
    scan = audio.scan(tmp_path / "c.wav")
    assert (scan.frames, scan.full_scale, scan.declared_frames) == (200_000, 4, 200_000)
    assert scan.peak == pytest.approx(1.0, abs=1e-4)


def test_declared_frames_reveals_a_truncated_wav_that_libsndfile_reads_quietly(tmp_path):
    sf.write(tmp_path / "t.wav", np.full(22050 * 4, 0.1), 22050, subtype="PCM_16")
    data = (tmp_path / "t.wav").read_bytes()
    (tmp_path / "t.wav").write_bytes(data[: 44 + 22050 * 2])  # 1 s of the 4 declared
    assert audio.info(tmp_path / "t.wav").frames == 22050  # libsndfile counts what is there
    assert audio.declared_frames(tmp_path / "t.wav") == 22050 * 4
    assert audio.scan(tmp_path / "t.wav").frames == 22050


def test_declared_frames_of_au_and_of_files_without_a_size_field(tmp_path):
    sf.write(tmp_path / "a.au", np.zeros((1000, 2)), 8000, subtype="PCM_16")
    assert audio.declared_frames(tmp_path / "a.au") == 1000
    (tmp_path / "x.wav").write_bytes(b"RIFF\x00\x00")  # too short to parse
    assert audio.declared_frames(tmp_path / "x.wav") is None
    assert audio.declared_frames(tmp_path / "absent.wav") is None


def test_garbage_bytes_raise_audio_error_naming_the_file(tmp_path):
    path = tmp_path / "blues.00001.wav"
    path.write_bytes(np.random.default_rng(0).bytes(4000))
    for read in (audio.load, audio.info, audio.scan):
        with pytest.raises(AudioError, match=r"blues\.00001\.wav: cannot decode audio \(Format not recognised\)") as err:
            read(path)
        assert err.value.kind == "corrupt"


def test_truncated_flac_passes_header_read_but_fails_full_decode(tmp_path):
    path, _ = tone(tmp_path / "t.flac", seconds=2.0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert audio.info(path).frames == 44100  # the header still claims the full length
    with pytest.raises(AudioError, match="t.flac: cannot decode audio"):
        audio.scan(path)


def test_missing_empty_and_non_finite_files(tmp_path):
    with pytest.raises(AudioError, match="nope.wav: no such file") as err:
        audio.load(tmp_path / "nope.wav")
    assert err.value.kind == "unreadable"
    sf.write(tmp_path / "empty.wav", np.zeros(0), 22050)
    with pytest.raises(AudioError, match="empty.wav: the file holds no samples") as err:
        audio.load(tmp_path / "empty.wav")
    assert err.value.kind == "empty"
    assert audio.scan(tmp_path / "empty.wav").frames == 0  # measured; checks.check_file judges it
    (tmp_path / "zero.wav").write_bytes(b"")
    for read in (audio.load, audio.info, audio.scan):
        with pytest.raises(AudioError, match=r"zero.wav: the file is empty \(0 bytes\)") as err:
            read(tmp_path / "zero.wav")
        assert err.value.kind == "empty"
    y = np.zeros(30_000)
    y[25_000] = np.nan
    sf.write(tmp_path / "nan.wav", y, 10_000, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav: holds NaN or infinite samples") as err:
        audio.load(tmp_path / "nan.wav")
    assert err.value.kind == "non_finite"
    with pytest.raises(AudioError, match=r"nan.wav: holds NaN or infinite samples \(the first at 2.500 s\)"):
        audio.scan(tmp_path / "nan.wav")


def test_audio_error_keeps_its_kind_through_pickling():
    import pickle

    err = pickle.loads(pickle.dumps(AudioError("x.wav: empty", kind="empty")))
    assert (str(err), err.kind) == ("x.wav: empty", "empty")


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
