"""The spectrograms stage: output contract, segment alignment, cache, PNGs, loaders."""

from __future__ import annotations

import json

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from genrelab.data import audio
from genrelab.errors import DataError
from genrelab.features.log_mel import SpectrogramSettings, log_mel
from genrelab.features.segments import segment_bounds
from genrelab.features.spectrograms import compute_spectrograms, load_clips, load_meta, load_segments, plot_examples

SR = 8000
# Small settings so a run takes well under a second.
SETTINGS = dict(sr=SR, n_mels=24, n_fft=256, hop_length=128, fmax=4000.0, segment_seconds=1.0, clip_seconds=2.0)
# (track_id, genre, seconds): 2.2 s -> 2 segments; 2.6 s -> 3, the last 0.6 s long (padded frames).
TRACKS = [("rock.00001", "rock", 2.2), ("jazz.00000", "jazz", 2.6), ("rock.00000", "rock", 1.2)]


@pytest.fixture()
def corpus(tmp_path):
    """A few noise-and-tone wav files and their manifest, with one excluded (missing) file."""
    rng = np.random.default_rng(0)
    rows = []
    for track_id, genre, seconds in TRACKS:
        t = np.arange(int(seconds * SR)) / SR
        y = 0.3 * np.sin(2 * np.pi * (300 if genre == "rock" else 900) * t) + 0.05 * rng.standard_normal(len(t))
        path = tmp_path / "raw" / genre / f"{track_id}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, y.astype(np.float32), SR)
        rows.append({"track_id": track_id, "path": f"{genre}/{track_id}.wav", "genre": genre, "status": "ok"})
    rows.append({"track_id": "jazz.00054", "path": "jazz/jazz.00054.wav", "genre": "jazz", "status": "excluded"})
    return tmp_path / "raw", pd.DataFrame(rows).assign(md5="")


def _run(corpus, out, **kwargs):
    root, manifest = corpus
    return compute_spectrograms(manifest, root, out, **{**SETTINGS, "jobs": 1, "progress": False, **kwargs})


def test_outputs_follow_the_contract(corpus, tmp_path):
    out = tmp_path / "spec"
    result = _run(corpus, out)
    settings = SpectrogramSettings(**SETTINGS)

    X, index = load_segments(out)
    assert isinstance(X, np.memmap) and X.dtype == np.float32
    assert X.shape == (2 + 3 + 1, 24, 1 + SR // 128)
    # Tracks sorted by id, segments in time order; the excluded track is absent.
    assert list(index.columns) == ["track_id", "segment", "genre"]
    assert list(index["track_id"]) == ["jazz.00000"] * 3 + ["rock.00000"] + ["rock.00001"] * 2
    assert list(index["segment"]) == [0, 1, 2, 0, 0, 1]
    assert list(index["genre"]) == ["jazz"] * 3 + ["rock"] * 3
    # ref="max": each spectrogram peaks at 0 dB and spans at most top_db.
    assert np.allclose(X.max(axis=(1, 2)), 0.0, atol=1e-5) and X.min() >= -80.0

    C, clips = load_clips(out, mmap=False)
    assert not isinstance(C, np.memmap)
    assert C.shape == (3, 24, 1 + 2 * SR // 128) and C.dtype == np.float32
    assert list(clips.columns) == ["track_id", "genre"]
    assert list(clips["track_id"]) == ["jazz.00000", "rock.00000", "rock.00001"]
    assert result.n_tracks == 3 and result.n_segments == 6 and result.cache_hits == 0
    assert result.segment_shape == (24, settings.n_frames) and result.clip_shape == (24, settings.n_clip_frames)
    assert load_meta(out) == settings


def test_segment_k_is_the_audio_segment_bounds_gives(corpus, tmp_path):
    out = tmp_path / "spec"
    _run(corpus, out)
    X, index = load_segments(out)
    settings = SpectrogramSettings(**SETTINGS)
    y, _ = audio.load(corpus[0] / "jazz" / "jazz.00000.wav", sr=SR)
    bounds = segment_bounds(len(y), SR, 1.0)
    start, stop = bounds[1]
    np.testing.assert_allclose(X[1], log_mel(y[start:stop], settings), atol=1e-4)
    # The short last segment (0.6 s) is padded at the end with its floor, max - top_db.
    start, stop = bounds[2]
    own = log_mel(y[start:stop], settings)
    np.testing.assert_allclose(X[2][:, : own.shape[1]], own, atol=1e-4)
    assert np.all(X[2][:, own.shape[1] :] == own.max() - 80.0)


def test_clips_are_trimmed_or_zero_padded_to_clip_seconds(corpus, tmp_path):
    out = tmp_path / "spec"
    _run(corpus, out)
    C, clips = load_clips(out)
    settings = SpectrogramSettings(**SETTINGS)
    y, _ = audio.load(corpus[0] / "rock" / "rock.00000.wav", sr=SR)  # 1.2 s, padded to 2 s
    padded = np.pad(y, (0, 2 * SR - len(y)))
    np.testing.assert_allclose(C[1], log_mel(padded, settings), atol=1e-4)
    assert np.all(C[1][:, -3:] == -80.0)  # the padding is silence: the floor


def test_rerun_reuses_the_cache_and_settings_change_invalidates_it(corpus, tmp_path):
    out, cache = tmp_path / "spec", tmp_path / "cache"
    _run(corpus, out, cache_dir=cache, png=False)
    first = np.array(load_segments(out)[0])
    again = _run(corpus, out, cache_dir=cache, png=False)
    assert again.cache_hits == 3
    np.testing.assert_array_equal(load_segments(out)[0], first)

    # A truncated entry (interrupted run) is recomputed, not trusted.
    entry = next(cache.glob("*/jazz.00000.npz"))
    entry.write_bytes(entry.read_bytes()[:100])
    assert _run(corpus, out, cache_dir=cache, png=False).cache_hits == 2
    # Other settings: other cache folder, nothing reused.
    assert _run(corpus, tmp_path / "other", cache_dir=cache, n_mels=16, png=False).cache_hits == 0


def test_pngs_are_written_per_genre(corpus, tmp_path):
    out = tmp_path / "spec"
    _run(corpus, out, image_dpi=50)
    pngs = sorted(p.relative_to(out / "png").as_posix() for p in (out / "png").rglob("*.png"))
    assert pngs == ["jazz/jazz.00000.png", "rock/rock.00000.png", "rock/rock.00001.png"]
    height, width, _ = matplotlib.image.imread(out / "png" / "jazz" / "jazz.00000.png").shape
    assert (width, height) == (250, 110)  # 5 x 2.2 inches at 50 dpi

    _run(corpus, tmp_path / "nopng", png=False)
    assert not (tmp_path / "nopng" / "png").exists()


def test_plot_examples_draws_one_panel_per_genre(corpus, tmp_path):
    out = tmp_path / "spec"
    _run(corpus, out, png=False)
    fig = plot_examples(out, level="segments", ncols=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["jazz (jazz.00000)", "rock (rock.00000)"]
    with pytest.raises(DataError, match="level"):
        plot_examples(out, level="tracks")


def test_silence_reads_as_the_floor():
    S = log_mel(np.zeros(SR, dtype=np.float32), SpectrogramSettings(**SETTINGS))
    assert S.dtype == np.float32 and np.all(S == -80.0)


def test_bad_inputs_raise_clear_errors(corpus, tmp_path):
    root, manifest = corpus
    with pytest.raises(DataError, match="lacks columns"):
        compute_spectrograms(manifest.drop(columns="status"), root, tmp_path / "x", progress=False)
    with pytest.raises(DataError, match="no tracks with status 'ok'"):
        compute_spectrograms(manifest.assign(status="excluded"), root, tmp_path / "x", progress=False)
    with pytest.raises(DataError, match="fmax"):
        SpectrogramSettings(sr=8000, fmax=11025.0)
    with pytest.raises(DataError, match="spectrograms stage"):
        load_segments(tmp_path / "missing")

    out = tmp_path / "spec"
    _run(corpus, out, png=False)
    pd.read_csv(out / "segments.csv").iloc[:-1].to_csv(out / "segments.csv", index=False)
    with pytest.raises(DataError, match="does not match"):
        load_segments(out)
    assert json.loads((out / "meta.json").read_text())["n_mels"] == 24


@pytest.mark.shared_data
def test_a_real_gtzan_clip_gives_ten_segments_of_130_frames(shared_data, tmp_path):
    manifest = pd.DataFrame(
        [{"track_id": "blues.00000", "path": "blues/blues.00000.wav", "genre": "blues", "status": "ok"}]
    )
    result = compute_spectrograms(manifest, shared_data / "gtzan-mini", tmp_path / "spec", jobs=1, progress=False)
    assert result.n_segments == 10
    assert result.segment_shape == (128, 130) and result.clip_shape == (128, 1292)
