"""Spectrogram-as-image features and models: pixels + PCA, HOG, the spectral shelf."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from genrelab.approaches.image_features import (
    SHELF_FEATURES,
    ChunkedPCA,
    hog_dims,
    hog_features,
    pixel_features,
    shelf_features,
    shelf_profile,
)
from genrelab.approaches.image_models import evaluate_image_models, make_image_models
from genrelab.config import ParamsError
from genrelab.errors import DataError
from genrelab.evaluation.splits import make_splits
from genrelab.features.log_mel import SpectrogramSettings, log_mel, mel_band_centres

# 32 mel bands x 41 frames: small images that still hold two 12 x 12 HOG cells each way.
SMALL = SpectrogramSettings(sr=8000, n_mels=32, n_fft=256, hop_length=200, fmax=4000.0, segment_seconds=1.0)


def _images(n_tracks_per_genre=4, segments=3, seed=0):
    """Segment 'spectrograms' whose genre sets which band is loud, plus their index rows."""
    rng = np.random.default_rng(seed)
    genres = ["blues", "jazz", "rock"]
    rows, images = [], []
    for g, genre in enumerate(genres):
        for t in range(n_tracks_per_genre):
            for s in range(segments):
                image = rng.normal(-60, 5, size=(SMALL.n_mels, SMALL.n_frames))
                image[4 + 9 * g : 8 + 9 * g] += 40  # a loud band, higher for each genre
                images.append(image)
                rows.append({"track_id": f"{genre}.{t:05d}", "segment": s, "genre": genre})
    return np.asarray(images, dtype=np.float32), pd.DataFrame(rows)


def test_pixel_features_are_a_float32_view():
    X = np.zeros((5, 4, 6), dtype=np.float32)
    F = pixel_features(X)
    assert F.shape == (5, 24) and F.dtype == np.float32 and np.shares_memory(F, X)
    with pytest.raises(DataError, match="n_mels, n_frames"):
        pixel_features(np.zeros((5, 24)))


def test_hog_dimensions_depend_on_the_cell_size():
    X = np.random.default_rng(0).normal(size=(3, 128, 130)).astype(np.float32)
    h9, h12 = hog_features(X, 9), hog_features(X, 12, orientations=6)
    # 14 x 14 cells -> 13 x 13 blocks of 2 x 2 cells x 9 orientations; 10 x 10 -> 9 x 9 x 4 x 6.
    assert h9.shape == (3, 13 * 13 * 4 * 9) == (3, hog_dims((128, 130), 9))
    assert h12.shape == (3, 9 * 9 * 4 * 6) == (3, hog_dims((128, 130), 12, 6))
    assert h9.dtype == np.float32
    with pytest.raises(ParamsError, match="pixels_per_cell"):
        hog_features(X, 70)


def _lowpassed_noise(cutoff_hz, sr=22050, seconds=2.0):
    rng = np.random.default_rng(1)
    spectrum = np.fft.rfft(rng.standard_normal(int(sr * seconds)))
    spectrum[np.fft.rfftfreq(int(sr * seconds), 1 / sr) > cutoff_hz] = 0  # brick-wall low-pass
    return np.fft.irfft(spectrum).astype(np.float32)


def test_shelf_finds_a_low_pass_cut_off():
    settings = SpectrogramSettings(segment_seconds=2.0)
    freqs = mel_band_centres(settings.n_mels, settings.fmin, settings.fmax)
    S = log_mel(_lowpassed_noise(5000.0), settings)
    profile = shelf_profile(S, freqs, floor_db=-30.0)
    assert profile.shape == (S.shape[1],)
    assert abs(np.median(profile) - 5000.0) < 250.0

    features = shelf_features(np.stack([S, log_mel(_lowpassed_noise(11025.0), settings)]), freqs, -30.0)
    assert features.shape == (2, len(SHELF_FEATURES)) and features.dtype == np.float32
    assert abs(features[0, 3] - 5000.0) < 250.0 and features[0, 5] == 0.0  # p50; never the top band
    assert features[1, 5] > 0.9  # full-band noise reaches the top band in (nearly) every frame


def test_shelf_is_zero_hz_in_silent_frames_and_refuses_a_positive_floor():
    S = np.full((4, 3), -80.0)
    S[:2, 0] = 0.0
    np.testing.assert_array_equal(shelf_profile(S, np.array([100.0, 200, 300, 400]), -10.0), [200.0, 0.0, 0.0])
    with pytest.raises(DataError, match="<= 0"):
        shelf_profile(S, np.arange(4.0), 5.0)


def test_chunked_pca_matches_scaler_plus_pca():
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(60, 5)) @ rng.normal(size=(5, 40)) + 0.1 * rng.normal(size=(60, 40))).astype(np.float32)
    ours = ChunkedPCA(0.9, chunk_rows=7, fit_rows=1000).fit(X)
    reference = PCA(0.9).fit(StandardScaler().fit_transform(X))
    assert ours.n_components_ == reference.n_components_
    np.testing.assert_allclose(ours.explained_variance_ratio_, reference.explained_variance_ratio_, rtol=1e-4)
    expected = reference.transform(StandardScaler().fit_transform(X))
    np.testing.assert_allclose(np.abs(ours.transform(X)), np.abs(expected), atol=1e-3)  # up to sign
    assert ours.transform(X).dtype == np.float32
    # A subsample: components from fit_rows rows, still applied to every row.
    assert ChunkedPCA(3, fit_rows=20, random_state=0).fit_transform(X).shape == (60, 3)


def test_pixel_pipeline_reduces_with_pca_and_predicts():
    X, index = _images()
    sets = make_image_models({"pixels": {"models": {"logreg": {}}}}, SMALL)
    pixels = sets["pixels"]
    F = pixels.features(X)
    model = pixels.models["logreg"]().fit(F, index["genre"])
    assert model.named_steps["pca"].n_components_ < F.shape[1]
    assert np.mean(model.predict(F) == index["genre"]) == 1.0


def test_make_image_models_names_and_errors():
    sets = make_image_models(None, SpectrogramSettings())
    assert list(sets) == ["pixels", "hog9", "hog12", "shelf"]
    assert [s.approach for s in sets.values()] == [
        "spectrogram_pixels", "spectrogram_hog", "spectrogram_hog", "spectrogram_shelf",
    ]  # fmt: skip
    assert list(sets["hog12"].models) == ["hog12_logreg", "hog12_lightgbm"]
    assert list(sets["shelf"].models) == ["svm", "logreg"]
    # An approach's own cv_folds wins over the section's; the others keep the section's.
    folds = {name: fs.cv_folds for name, fs in make_image_models({"cv_folds": 1, "shelf": {"cv_folds": 5}}).items()}
    assert folds == {"pixels": 1, "hog9": 1, "hog12": 1, "shelf": 5}
    # load_params gives an absent open ``models`` mapping as None: the defaults run.
    assert list(make_image_models({"pixels": {"models": None}})["pixels"].models) == ["random_forest", "logreg"]

    for params, match in [
        ({"pixel": {}}, r"unknown key 'image_models.pixel'. Did you mean 'pixels'"),
        ({"hog": {"orientation": 8}}, r"'image_models.hog.orientation'"),
        ({"shelf": {"models": {"knn": {}}}}, r"unknown model 'image_models.shelf.models.knn'"),
        ({"pixels": {"models": {"logreg": {"C_": 1}}}}, r"'image_models.pixels.models.logreg.C_'"),
        ({"shelf": {"floor_db": 10.0}}, r"floor_db"),
        ({"hog": {"pixels_per_cell": [9, 0]}}, r"pixels_per_cell"),
        ({"cv_folds": "5"}, r"'image_models.cv_folds' must be an integer \(like 1\), got '5'"),
    ]:
        with pytest.raises(ParamsError, match=match):
            make_image_models(params, SpectrogramSettings())
    with pytest.raises(ParamsError, match="fewer than cells_per_block"):
        make_image_models({"hog": {"pixels_per_cell": 20}}, SMALL)


def test_evaluate_scores_all_three_approaches_under_two_protocols():
    X, index = _images(n_tracks_per_genre=4, segments=3)
    tracks = index.drop_duplicates("track_id")[["track_id", "genre"]].assign(artist="", status="ok")
    protocols = ["random_segment", "track_grouped"]
    splits = make_splits(tracks, protocols=protocols, test_fraction=0.25, seed=0)
    params = {
        "cv_folds": 0,
        "pixels": {"fit_rows": 30, "models": {"random_forest": {"n_estimators": 10}, "logreg": {}}},
        "hog": {"fit_rows": 30, "models": {"logreg": {}, "lightgbm": {"n_estimators": 5, "min_child_samples": 2}}},
    }
    evaluations = evaluate_image_models(X, index, splits, params, settings=SMALL, protocols=protocols, progress=False)
    assert list(evaluations) == ["spectrogram_pixels", "spectrogram_hog", "spectrogram_shelf"]
    scores = pd.concat([e.scores for e in evaluations.values()])
    assert set(scores["protocol"]) == set(protocols) and set(scores["level"]) == {"segment", "track"}
    models = scores.groupby("approach")["model"].unique().map(sorted).to_dict()
    assert models == {
        "spectrogram_hog": ["hog12_lightgbm", "hog12_logreg", "hog9_lightgbm", "hog9_logreg"],
        "spectrogram_pixels": ["logreg", "random_forest"],
        "spectrogram_shelf": ["logreg", "svm"],
    }
    assert len(scores) == 8 * 2 * 2  # models x protocols x levels
    assert scores["accuracy"].between(0, 1).all()
    # The loud band separates genres linearly: logistic regression on pixels gets every test track
    # right; the 10-tree forest, fitted on 27 segments, at least beats chance (1 in 3 genres).
    pixels = evaluations["spectrogram_pixels"].scores
    tracks = pixels[pixels["level"] == "track"]
    assert (tracks.loc[tracks["model"] == "logreg", "accuracy"] == 1.0).all()
    assert (tracks["accuracy"] > 1 / 3).all()
    hog = evaluations["spectrogram_hog"]
    assert set(hog.predictions["model"]) == set(models["spectrogram_hog"])
    assert ("hog9_logreg", "track_grouped") in hog.details
