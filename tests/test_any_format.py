"""Any music file a person has: M4A (AAC, ALAC), Opus, AIFF, WMA, ... read through the one loader.

The files are made at test time with the ffmpeg that imageio-ffmpeg ships, from a generated stereo
signal (the format matrix) or a real GTZAN clip (``genrelab predict``). Lossless copies must load
to exactly the samples of the WAV they were made from; lossy ones close to them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from genrelab.cli import main
from genrelab.data import audio, checks
from genrelab.errors import AudioError

SR = 44100
SECONDS = 2.0

# name -> (file name, ffmpeg codec arguments, rate ffmpeg decodes it at, lossless, read by libsndfile)
FORMATS = {
    "aac": ("aac.m4a", ["-c:a", "aac", "-b:a", "128k"], SR, False, False),
    "alac": ("alac.m4a", ["-c:a", "alac"], SR, True, False),
    "aac-mp4": ("aac.mp4", ["-c:a", "aac", "-b:a", "128k"], SR, False, False),
    "adts": ("adts.aac", ["-c:a", "aac", "-b:a", "128k", "-f", "adts"], SR, False, False),
    "opus": ("opus.opus", ["-c:a", "libopus", "-b:a", "96k"], 48000, False, True),
    "aiff": ("pcm.aiff", ["-c:a", "pcm_s16be"], SR, True, True),
    "aif": ("pcm.aif", ["-c:a", "pcm_s16be"], SR, True, True),
    # libsndfile lacks CAF's ALAC; ffmpeg 9 decodes its own CAF ALAC 1912 frames short (measured,
    # with its command line too), so its level is compared as a lossy file's.
    "caf-alac": ("alac.caf", ["-c:a", "alac"], SR, False, False),
    "wma": ("wma.wma", ["-c:a", "wmav2", "-b:a", "128k"], SR, False, False),
    "webm": ("opus.webm", ["-c:a", "libopus", "-b:a", "96k"], 48000, False, False),
    "mka": ("vorbis.mka", ["-c:a", "libvorbis"], SR, False, False),
    "wavpack": ("wavpack.wv", ["-c:a", "wavpack"], SR, True, False),
    "tta": ("tta.tta", ["-c:a", "tta"], SR, True, False),
    "ac3": ("ac3.ac3", ["-c:a", "ac3"], SR, False, False),
}  # fmt: skip


def ffmpeg(source: Path, out: Path, codec_args: list[str]) -> Path:
    """``out`` made from ``source`` by the bundled ffmpeg with ``codec_args``."""
    subprocess.run([audio.bundled_ffmpeg(), "-nostdin", "-v", "error", "-y", "-i", str(source), *codec_args, str(out)],
                   check=True)  # fmt: skip
    return out


def stereo_signal() -> np.ndarray:
    """(n, 2) float32 at SR: tones and quiet noise, different in each channel, peak about 0.7, faded in
    and out over 50 ms (a step at the start would make lossy codecs overshoot it)."""
    t = np.arange(int(SR * SECONDS)) / SR
    noise = np.random.default_rng(0).standard_normal((len(t), 2)) * 0.02
    tones = np.stack([0.4 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t + 1)], axis=1)
    fade = np.clip(np.minimum(t, SECONDS - t) / 0.05, 0, 1)[:, None]
    return (fade * (tones + 0.2 * np.sin(2 * np.pi * 3000 * t)[:, None] + noise)).astype(np.float32)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """The source WAV (16-bit stereo, 44.1 kHz) under ``"wav"`` and one file per :data:`FORMATS` entry."""
    folder = tmp_path_factory.mktemp("formats")
    wav = folder / "source.wav"
    sf.write(wav, stereo_signal(), SR, subtype="PCM_16")
    return {"wav": wav} | {name: ffmpeg(wav, folder / file, args) for name, (file, args, *_) in FORMATS.items()}


def test_the_extensions_cover_the_formats_people_have_and_messages_list_them():
    assert {".m4a", ".mp4", ".aac", ".opus", ".aiff", ".aif", ".wma", ".webm", ".mka"} <= set(audio.AUDIO_EXTENSIONS)
    assert {Path(file).suffix for file, *_ in FORMATS.values()} <= set(audio.AUDIO_EXTENSIONS)
    assert len(set(audio.AUDIO_EXTENSIONS)) == len(audio.AUDIO_EXTENSIONS) and audio.is_audio_file("Song.M4A")
    assert audio.extensions_text().startswith("wav, mp3, flac, ogg, au, ") and "m4a" in audio.extensions_text()


@pytest.mark.parametrize("name", list(FORMATS))
def test_info_load_and_scan_read_each_format(made, name):
    path, (_, _, rate, lossless, by_sndfile) = made[name], FORMATS[name]
    assert audio.via_ffmpeg(path) is not by_sndfile
    header = audio.info(path)
    assert (header.sample_rate, header.channels) == (rate, 2)
    assert header.duration == pytest.approx(SECONDS, abs=0.06)  # AAC's and AC-3's padding: a frame or two

    y, sr = audio.load(path)  # the study's format: mono at 22050 Hz
    assert sr == audio.DEFAULT_SR and y.dtype == np.float32 and y.ndim == 1
    assert len(y) / sr == pytest.approx(SECONDS, abs=0.06)
    native, native_sr = audio.load(path, sr=None, mono=False)
    assert native_sr == rate and native.shape[0] == 2

    scan = audio.scan(path)
    assert (scan.sample_rate, scan.channels, scan.frames) == (rate, 2, native.shape[1])
    assert abs(scan.header_frames - scan.frames) < rate // 10  # no false truncation warning
    source = audio.scan(made["wav"])
    assert scan.peak == (pytest.approx(source.peak, abs=1e-4) if lossless else pytest.approx(source.peak, abs=0.1))
    assert scan.rms == pytest.approx(source.rms, rel=1e-4 if lossless else 0.1)


def test_a_webm_without_a_duration_is_measured_by_decoding_it(made, tmp_path):
    """A browser's recorder writes WebM as a live stream: no length in it (ffmpeg: ``Duration: N/A``)."""
    live = ffmpeg(made["wav"], tmp_path / "recorded.webm", ["-c:a", "libopus", "-live", "1", "-f", "webm"])
    header = audio.info(live)
    assert (header.sample_rate, header.channels, header.frames) == (48000, 2, 0)  # 0: unknown until decoded
    assert audio.scan(live).frames / 48000 == pytest.approx(SECONDS, abs=0.03)
    assert len(audio.load(live)[0]) / audio.DEFAULT_SR == pytest.approx(SECONDS, abs=0.03)
    assert checks.check_file(live, min_seconds=1.0).usable


@pytest.mark.parametrize("name", ["alac", "aiff", "wavpack", "tta"])
def test_a_lossless_copy_loads_to_the_samples_of_its_wav(made, name):
    """Resampling and downmixing happen after decoding, whatever the decoder."""
    want, _ = audio.load(made["wav"])
    got, _ = audio.load(made[name])
    np.testing.assert_array_equal(got, want)
    stereo = audio.load(made[name], sr=None, mono=False)[0]
    np.testing.assert_array_equal(stereo, audio.load(made["wav"], sr=None, mono=False)[0])


@pytest.mark.parametrize("name", ["aac", "opus", "wma"])
def test_a_lossy_copy_loads_close_to_its_wav(made, name):
    want, _ = audio.load(made["wav"])
    got, _ = audio.load(made[name])
    n = min(len(want), len(got))
    # Encoders delay the signal; ffmpeg trims AAC's and Opus's delay, not WMA's (1024 samples at
    # 22050 Hz, measured): compare at the best lag.
    errors = [np.sqrt(np.mean((np.roll(got[:n], lag) - want[:n])[1200:-1200] ** 2)) for lag in range(-1100, 1101)]
    assert min(errors) < 0.1 * np.sqrt(np.mean(want**2))


def test_an_excerpt_is_decoded_from_its_offset_as_libsndfile_seeks(made):
    """What ``genrelab quality`` decodes of a long file: the samples libsndfile seeks to, and for a
    lossy file the samples a full decode holds there."""
    from genrelab.quality.excerpts import read_excerpt

    want, sr = read_excerpt(made["wav"], 0.7, 0.5)
    alac, alac_sr = read_excerpt(made["alac"], 0.7, 0.5)
    assert alac_sr == sr and np.array_equal(alac, want)
    aac, _ = read_excerpt(made["aac"], 0.7, 0.5)
    full = audio.load(made["aac"], sr=None, mono=False)[0].T
    start = int(0.7 * sr)
    np.testing.assert_array_equal(aac, full[start : start + len(want)])


def test_a_broken_file_of_a_new_format_names_itself_and_the_fix(made, tmp_path):
    garbage = tmp_path / "garbage.m4a"
    garbage.write_bytes(np.random.default_rng(1).bytes(5000))
    empty = tmp_path / "empty.m4a"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.m4a"  # ffmpeg writes the index (moov) last: half a file has none
    cut.write_bytes(made["aac"].read_bytes()[: made["aac"].stat().st_size // 2])
    damaged = tmp_path / "damaged.m4a"  # the index intact, 2 kB of the audio zeroed
    data = bytearray(made["aac"].read_bytes())
    data[15000:17000] = bytes(2000)
    damaged.write_bytes(bytes(data))
    video = ffmpeg(made["wav"], tmp_path / "video.mp4", ["-f", "lavfi", "-i", "color=s=32x32:d=1", "-map", "1:v",
                                                          "-c:v", "mjpeg"])  # fmt: skip
    for path, kind, reason in [(garbage, "corrupt", "ffmpeg: "), (empty, "empty", "the file is empty"),
                               (cut, "corrupt", "moov atom not found"), (damaged, "corrupt", "ffmpeg: "),
                               (video, "corrupt", "no audio stream in the file")]:  # fmt: skip
        for read in (audio.load, audio.scan):
            with pytest.raises(AudioError) as caught:
                read(path)
            assert caught.value.kind == kind and str(caught.value).startswith(f"{path}: ") and reason in str(caught.value)
            assert "Replace it with a good copy, or remove it." in str(caught.value)


def test_without_the_bundled_ffmpeg_the_error_says_how_to_get_it_and_no_other_ffmpeg_is_used(made, tmp_path,
                                                                                              monkeypatch):  # fmt: skip
    import imageio_ffmpeg

    monkeypatch.setattr(imageio_ffmpeg, "__file__", str(tmp_path / "imageio_ffmpeg" / "__init__.py"))
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", shutil.which("ffmpeg") or "ffmpeg")  # what imageio itself would take
    assert audio.info(made["alac"]).channels == 2  # the header is mutagen's: no ffmpeg needed
    for read in (audio.load, audio.scan):
        with pytest.raises(AudioError, match=r"alac\.m4a: decoding \.m4a files needs ffmpeg, and the ffmpeg binary "
                                             r"that imageio-ffmpeg ships is missing .*pip install --force-reinstall "
                                             "imageio-ffmpeg"):  # fmt: skip
            read(made["alac"])
    # The study's own formats never reach ffmpeg: their code path is libsndfile's, as before.
    signal = stereo_signal()[: SR // 2]
    for suffix in audio.SNDFILE_EXTENSIONS:
        path = tmp_path / f"plain{suffix}"
        sf.write(path, signal, SR, format={".ogg": "OGG", ".mp3": "MP3"}.get(suffix), subtype={".ogg": "VORBIS"}.get(suffix))
        assert not audio.via_ffmpeg(path)
        assert audio.info(path).channels == 2 and audio.scan(path).frames > 0 and audio.load(path)[0].size
    assert audio.load(made["aiff"])[0].size  # an AIFF libsndfile reads needs no ffmpeg either


def test_the_file_check_uses_a_good_m4a_and_lists_a_garbage_one(made, tmp_path):
    good = checks.check_file(made["aac"], min_seconds=1.0)
    assert good.usable and [p.kind for p in good.problems] == ["conversion"]
    assert "resampled from 44100 Hz to 22050 Hz on load; downmixed from 2 channels" in good.problems[0].problem
    garbage = tmp_path / "garbage.m4a"
    garbage.write_bytes(b"not audio at all" * 100)
    bad = checks.check_file(garbage, min_seconds=1.0, label="garbage.m4a")
    assert not bad.usable and [(p.kind, p.path) for p in bad.problems] == [("corrupt", "garbage.m4a")]
    assert bad.problems[0].problem.startswith("cannot decode audio (ffmpeg: ")


def test_validate_uses_a_folder_of_new_formats_and_lists_the_broken_one(made, tmp_path, capsys):
    for genre, names in {"rock": ["aac", "opus"], "jazz": ["alac", "wma"]}.items():
        (tmp_path / genre).mkdir()
        for name in names:
            shutil.copy(made[name], tmp_path / genre / Path(made[name]).name)
    (tmp_path / "jazz" / "garbage.m4a").write_bytes(b"\0" * 3000)
    assert main(["validate", "-q", str(tmp_path), "--segment-seconds", "1"]) == 1
    out = capsys.readouterr().out
    assert "jazz/garbage.m4a: cannot decode audio (ffmpeg: " in out and "[excluded from the study]" in out
    assert "5 audio files, 4 usable, in 2 genre folders; problems: 4 converted on load, 1 corrupt" in out


# ------------------------------------------------------------------------------------------- predict


@pytest.fixture(scope="module")
def predictor_dir(tmp_path_factory, shared_data) -> Path:
    """A shipped model as the export stage writes it (card and model), fitted on the public 3 s
    GTZAN feature rows of classical, jazz and rock (no audio decoded)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from genrelab import models
    from genrelab.features.gtzan57_dsp import FEATURE_COLUMNS

    table = pd.read_csv(shared_data / "kaggle" / "features_3_sec_mini.csv")
    estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    estimator.fit(table[list(FEATURE_COLUMNS)].to_numpy(dtype=float), table["label"].to_numpy(dtype=object))
    folder = tmp_path_factory.mktemp("predict")
    features = {"columns": list(FEATURE_COLUMNS), "segment_seconds": 3.0, "sample_rate": audio.DEFAULT_SR}
    saved = models.SavedModel(estimator, "audio_features", "logreg", "all ok tracks", "segment",
                              list(estimator.classes_), features)  # fmt: skip
    model_file = models.save(saved, folder / "model.joblib")
    card = {"approach": "audio_features", "model": "logreg", "protocol": "track_grouped", "model_file": model_file.name,
            "test": {"accuracy": 0.5, "macro_f1": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n_test": 10},
            "classes": list(estimator.classes_), "features": features}  # fmt: skip
    (folder / "card.json").write_text(json.dumps(card))
    return folder


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory, shared_data) -> Path:
    """9 s of a real GTZAN jazz clip as WAV, ALAC, AAC, Opus and AIFF, and a garbage .m4a beside them."""
    folder = tmp_path_factory.mktemp("clips")
    y, sr = sf.read(shared_data / "gtzan-mini" / "jazz" / "jazz.00001.wav", dtype="int16")
    wav = folder / "clip.wav"
    sf.write(wav, y[5 * sr : 14 * sr], sr, subtype="PCM_16")
    for name in ("alac", "aac", "opus", "aiff"):
        file, args, *_ = FORMATS[name]
        ffmpeg(wav, folder / f"clip-{file}", args)
    (folder / "garbage.m4a").write_bytes(np.random.default_rng(2).bytes(4000))
    return folder


def test_predict_answers_each_format_and_lists_the_garbage_file(predictor_dir, clip_folder, capsys):
    assert main(["predict", str(clip_folder), "--models", str(predictor_dir), "--json", "--quiet"]) == 1
    out, err = capsys.readouterr()
    answers = {Path(f["file"]).name: f for f in json.loads(out)["files"]}
    assert sorted(answers) == ["clip-aac.m4a", "clip-alac.m4a", "clip-opus.opus", "clip-pcm.aiff", "clip.wav"]
    assert all(f["segments"] == 3 and f["seconds"] == pytest.approx(9.0, abs=0.05) for f in answers.values())
    wav = answers["clip.wav"]["probabilities"]
    assert answers["clip-alac.m4a"]["probabilities"] == wav and answers["clip-pcm.aiff"]["probabilities"] == wav
    for lossy in ("clip-aac.m4a", "clip-opus.opus"):
        assert max(abs(p - wav[g]) for g, p in answers[lossy]["probabilities"].items()) < 0.15
    assert f"error: {clip_folder / 'garbage.m4a'}: cannot decode audio (ffmpeg: " in err
    assert "1 input(s) could not be used" in err


@pytest.mark.parametrize("name, container, codec, claim", [
    ("alac", "mp4", "alac", r"ALAC \(lossless\)"),
    ("aac", "mp4", "aac", r"AAC 12\d kbps"),  # the stream's average of ffmpeg's 128 kbps target
    ("adts", "aac", "aac", r"AAC 12\d kbps"),
    ("aiff", "aiff", "pcm", r"AIFF \(lossless\)"),
    ("wma", "asf", "wma", r"WMA 128 kbps"),
    ("wavpack", "wv", "wavpack", r"WAVPACK \(lossless\)"),
    ("tta", "tta", "tta", r"TTA \(lossless\)"),
    ("ac3", "ac3", "ac3", r"AC3 192 kbps"),
])  # fmt: skip
def test_the_header_names_each_container_codec_and_claim(made, name, container, codec, claim):
    from genrelab.quality.header import read_header

    header = read_header(made[name])
    assert (header.container, header.codec) == (container, codec) and re.fullmatch(claim, header.claim)
    assert header.channels == (None if name == "tta" else 2)  # mutagen's TTA reader gives no channel count
    assert header.sample_rate == SR and header.seconds == pytest.approx(SECONDS, abs=0.06)


def test_a_header_mutagen_cannot_read_is_named_with_the_fix(made):
    from genrelab.quality.header import read_header

    with pytest.raises(AudioError, match=r"opus\.webm: no audio header mutagen knows .*not Matroska/WebM or CAF\): "
                                         "not audio, or a format to convert to FLAC to judge it"):  # fmt: skip
        read_header(made["webm"])
