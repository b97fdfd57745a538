"""Tests of genrelab.approaches.cnn and its cnn_* modules on tiny synthetic spectrograms (1 epoch, 16x16 / 32x32 inputs)."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

from genrelab.approaches import cnn, cnn_inputs, cnn_networks, cnn_params, cnn_weights
from genrelab.config import ParamsError
from genrelab.errors import DataError
from genrelab.evaluation.results import PREDICTION_COLUMNS, SCORE_COLUMNS, write_curves
from genrelab.evaluation.splits import cv_groups, make_splits, segment_subsets
from genrelab.models import load
from genrelab.nn import training
from genrelab.report.plots import plot_learning_curves

GENRES = ["blues", "jazz", "rock"]

# Small enough that a whole run (both approaches) takes seconds on one core.
TINY = {
    "valid_fraction": 0.25,
    "scratch": {"filters": [4, 8], "dense_units": 8, "epochs": 1, "batch_size": 16},  # native 20 x 24 input
    "transfer": {
        "input_size": 32,
        "dense_units": 8,
        "frozen_epochs": 1,
        "fine_tune_epochs": 1,
        "fine_tune_layers": 5,
        "batch_size": 16,
    },
}


def corpus(n_tracks: int = 24, n_segments: int = 3, n_mels: int = 20, n_frames: int = 24, seed: int = 0):
    """Segments in the spectrogram stage's format, genre-dependent, plus a split table.

    Returns X float32 (n_tracks * n_segments, n_mels, n_frames) dB, the ``segments.csv`` index
    (``track_id, segment, genre``) and splits with artists of two tracks each.
    """
    rng = np.random.default_rng(seed)
    genre = [GENRES[i % len(GENRES)] for i in range(n_tracks)]
    manifest = pd.DataFrame(
        {
            "track_id": [f"{g}.{i:05d}" for i, g in enumerate(genre)],
            "genre": genre,
            "artist": [f"artist{i // 2}" for i in range(n_tracks)],
            "status": "ok",
        }
    )
    index = pd.DataFrame(
        {
            "track_id": np.repeat(manifest["track_id"].to_numpy(dtype=object), n_segments),
            "segment": np.tile(np.arange(n_segments), n_tracks),
            "genre": np.repeat(genre, n_segments),
        }
    )
    level = np.array([GENRES.index(g) for g in index["genre"]], dtype=np.float32)[:, None, None]
    X = rng.normal(-50, 5, size=(len(index), n_mels, n_frames)).astype(np.float32)
    X[:, : n_mels // 2] += 15 * level  # genres differ in their low bands
    splits = make_splits(manifest, protocols=["random_segment", "track_grouped", "artist_grouped"], seed=1)
    return X, index, splits


def tiny_params(**transfer) -> dict:
    return cnn_params.check_params({**TINY, "transfer": {**TINY["transfer"], **transfer}})


# ---------------------------------------------------------------------------------- params


def test_defaults_are_valid_and_complete():
    params = cnn_params.check_params(None)
    assert params["transfer"]["weights"] == "random"
    assert set(params) == {"seed", "valid_fraction", "scratch", "transfer"}


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"scratch": {"filtres": [8]}}, "cnn.scratch.filtres"),
        ({"transfer": {"weigths": "random"}}, "cnn.transfer.weigths"),
        ({"epochs": 3}, "cnn.epochs"),
        ({"transfer": {"input_size": "96"}}, "cnn.transfer.input_size"),
        ({"scratch": {"epochs": True}}, "cnn.scratch.epochs"),
        ({"scratch": {"filters": [8, 0]}}, "cnn.scratch.filters"),
        ({"scratch": {"dropout": 1.5}}, "cnn.scratch.dropout"),
        ({"transfer": {"backbone": "resnet50"}}, "cnn.transfer.backbone"),
        ({"transfer": {"channels": "rgb"}}, "cnn.transfer.channels"),
        ({"transfer": "mobilenetv2"}, "cnn.transfer"),
    ],
)
def test_bad_params_name_the_key(raw, key):
    with pytest.raises(ParamsError, match=f"'{key}'"):
        cnn_params.check_params(raw)


def test_unknown_key_suggests_the_known_one():
    with pytest.raises(ParamsError, match="Did you mean 'filters'"):
        cnn_params.check_params({"scratch": {"filtres": [8]}})


def test_ints_accepted_for_floats():
    assert cnn_params.check_params({"scratch": {"learning_rate": 1}})["scratch"]["learning_rate"] == 1.0


def test_mobilenet_imagenet_needs_a_published_size():
    with pytest.raises(ParamsError, match=r"'cnn.transfer.input_size'.*\[96, 128, 160, 192, 224\]"):
        cnn_params.check_params({"transfer": {"weights": "imagenet", "input_size": 64}})
    # Random weights have no such limit, and EfficientNet takes any size with ImageNet weights.
    cnn_params.check_params({"transfer": {"weights": "random", "input_size": 64}})
    cnn_params.check_params({"transfer": {"backbone": "efficientnetb0", "weights": "imagenet", "input_size": 64}})


def test_missing_weights_file_is_a_params_error(tmp_path):
    with pytest.raises(ParamsError, match="'cnn.transfer.weights' names no file"):
        cnn_params.check_params({"transfer": {"weights": str(tmp_path / "nope.weights.h5")}})


# --------------------------------------------------------------------------------- weights


@pytest.mark.parametrize(
    ("backbone", "size", "file"),
    [
        ("mobilenetv2", 96, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"),
        ("efficientnetb0", 64, "efficientnetb0_notop.h5"),
        ("vgg19", 64, "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ],
)
def test_imagenet_offline_names_the_missing_file(tmp_path, monkeypatch, backbone, size, file):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    params = cnn_params.check_params({"transfer": {"backbone": backbone, "weights": "imagenet", "input_size": size}})
    expected = tmp_path / "models" / file
    with pytest.raises(cnn_weights.WeightsError) as err:
        cnn_weights.build_backbone(params)
    message = str(err.value)
    assert str(expected) in message and "does not download" in message
    assert "'random'" in message  # the alternatives are named, none is taken silently


def test_run_fails_fast_without_imagenet_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    X, index, splits = corpus()
    params = {**TINY, "transfer": {**TINY["transfer"], "weights": "imagenet", "input_size": 96}}
    with pytest.raises(cnn_weights.WeightsError, match="_1.0_96_no_top.h5"):
        cnn.run_cnn(X, index, splits, params, protocols=["track_grouped"], models_dir=tmp_path / "models")
    assert not (tmp_path / "out").exists()  # nothing was trained before the check


def test_weights_labels_say_what_ran(tmp_path):
    assert cnn_params.weights_label(cnn_params.check_params({"transfer": {"weights": "random"}})) == "mobilenetv2[random]"
    params = cnn_params.check_params({"transfer": {"backbone": "vgg19", "weights": "imagenet", "input_size": 64}})
    assert cnn_params.weights_label(params) == "vgg19[imagenet]"
    path = tmp_path / "mine.weights.h5"
    path.write_bytes(b"")
    file_params = cnn_params.check_params({"transfer": {"weights": str(path)}})
    assert cnn_params.weights_label(file_params) == "mobilenetv2[file:mine.weights.h5]"
    assert cnn_params.scratch_label(cnn_params.check_params({"scratch": {"filters": [8, 16]}})) == "convnet[8-16]"
    assert cnn_params.scratch_label(cnn_params.check_params({"scratch": {"filters": [8], "input_size": 64}})) == "convnet[8]@64px"


def test_local_weights_files_are_loaded(tmp_path):
    source = cnn_weights.build_backbone(tiny_params())  # random weights
    source.save_weights(tmp_path / "backbone.weights.h5")
    source.save(tmp_path / "backbone.keras")
    for name in ("backbone.weights.h5", "backbone.keras"):
        loaded = cnn_weights.build_backbone(tiny_params(weights=str(tmp_path / name)))
        for saved, got in zip(source.get_weights(), loaded.get_weights(), strict=True):
            np.testing.assert_array_equal(saved, got)
    fresh = cnn_weights.build_backbone(tiny_params())  # another random draw differs: the file mattered
    assert any(not np.array_equal(a, b) for a, b in zip(source.get_weights(), fresh.get_weights()))


def test_random_backbone_gets_informative_batch_norm_statistics():
    X, _, _ = corpus()
    images = cnn_inputs.backbone_inputs(cnn_inputs.resize_segments(X, 32, image_range=True), "mobilenetv2")
    backbone = cnn_weights.build_backbone(tiny_params())
    assert backbone.predict(images, verbose=0).std(axis=0).max() < 1e-6  # fresh statistics: constant features
    cnn_networks.calibrate_batch_norm(backbone, images, seed=0)
    assert backbone.predict(images, verbose=0).std(axis=0).mean() > 1e-2


def test_weights_file_of_another_model_is_refused(tmp_path):
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    path = tmp_path / "other.weights.h5"
    other.save_weights(path)
    with pytest.raises(cnn_weights.WeightsError, match="does not hold weights for mobilenetv2"):
        cnn_weights.build_backbone(tiny_params(weights=str(path)))


# ---------------------------------------------------------------------------------- inputs


def test_stack_neighbours_at_track_edges_and_subsets():
    # Rows out of order; track b has one segment; track c's middle segment is in another subset.
    track_ids = ["a", "a", "b", "a", "c", "c", "c"]
    segments = [2, 0, 0, 1, 0, 1, 2]
    within = ["fit", "fit", "fit", "fit", "fit", "test", "fit"]
    prev, nxt = cnn_inputs.neighbour_rows(track_ids, segments, within)
    np.testing.assert_array_equal(prev, [3, 1, 2, 1, 4, 5, 6])
    np.testing.assert_array_equal(nxt, [0, 3, 2, 0, 4, 5, 6])


def test_stack_channels_are_previous_this_next():
    gray = np.arange(4, dtype=np.float32)[:, None, None] * np.ones((4, 2, 2), dtype=np.float32)
    index = pd.DataFrame({"track_id": ["t"] * 4, "segment": [0, 1, 2, 3]})
    stacked = cnn_inputs.stack_channels(gray, index)
    # efficientnet's preprocessing is the identity, so the channels show through unchanged.
    images = cnn_inputs.backbone_inputs(stacked, "efficientnetb0")
    assert images.shape == (4, 2, 2, 3)
    np.testing.assert_array_equal(images[[0, 2, 3], 0, 0], [[0, 0, 1], [1, 2, 3], [2, 3, 3]])
    cut = cnn_inputs.stack_channels(gray, index, within=["train", "train", "test", "test"])
    np.testing.assert_array_equal(cut[:, 0, 0], [[0, 0, 1], [0, 1, 1], [2, 2, 3], [2, 3, 3]])
    repeated = cnn_inputs.backbone_inputs(gray[1:2], "efficientnetb0")
    np.testing.assert_array_equal(repeated[0, 0, 0], [1, 1, 1])


def test_repeated_segment_keys_are_refused():
    with pytest.raises(DataError, match="repeats a"):
        cnn_inputs.neighbour_rows(["a", "a"], [0, 0])


def test_image_range_and_backbone_preprocessing():
    X = np.stack([np.linspace(-80, 0, 20 * 24).reshape(20, 24), np.full((20, 24), -30.0)]).astype(np.float32)
    scaled = cnn_inputs.to_image_range(X)
    assert scaled[0].min() == 0 and scaled[0].max() == pytest.approx(255)
    assert (scaled[1] == 0).all()  # a constant segment has no range: black, not NaN
    gray = cnn_inputs.resize_segments(X, 8, image_range=True)
    assert gray.shape == (2, 8, 8)
    assert gray[0].min() >= 0 and gray[0].max() <= 255 and np.ptp(gray[0]) > 200
    assert (gray[1] == 0).all()  # scaled before resizing: resampling noise is not stretched
    mobile = cnn_inputs.backbone_inputs(scaled[:1], "mobilenetv2")
    assert mobile.min() == pytest.approx(-1) and mobile.max() == pytest.approx(1)  # MobileNetV2 wants -1..1
    vgg = cnn_inputs.backbone_inputs(scaled[:1], "vgg19")
    assert vgg[..., 0].max() == pytest.approx(255 - 103.939, abs=1e-3)  # caffe: BGR, mean subtracted


# ------------------------------------------------------------------------------ validation


def roles_of(splits, index, protocol, seed=3) -> np.ndarray:
    """Each segment's role as the loop and ScratchCNN.fit give it: fit, valid (early stopping) or test."""
    track_ids = index["track_id"].to_numpy(dtype=object)
    subsets = segment_subsets(splits, track_ids, index["segment"].to_numpy(), protocol, seed=42, test_fraction=0.25)
    train = np.flatnonzero(np.isin(subsets, ["train", "valid"]))
    held = training.validation_mask(index["genre"].to_numpy(dtype=object)[train], cv_groups(splits, track_ids[train], protocol),
                               tiny_params()["valid_fraction"], seed)  # fmt: skip
    roles = subsets.astype(object)
    roles[train] = np.where(held, "valid", "fit")
    return roles


@pytest.mark.parametrize("protocol", ["track_grouped", "artist_grouped"])
def test_validation_never_shares_a_group_with_training(protocol):
    X, index, splits = corpus()
    roles = roles_of(splits, index, protocol)
    column = {"track_grouped": "dup_group", "artist_grouped": "artist_group"}[protocol]
    group = splits.set_index("track_id")[column].reindex(index["track_id"].to_numpy(dtype=object)).to_numpy(dtype=object)
    fit, valid = set(group[roles == "fit"]), set(group[roles == "valid"])
    assert fit and valid and not fit & valid
    # Validation comes from the training tracks only; the test side is untouched.
    subset = splits.set_index("track_id")[protocol].reindex(index["track_id"].to_numpy(dtype=object)).to_numpy()
    assert set(subset[roles == "valid"]) == {"train"}
    np.testing.assert_array_equal(roles == "test", subset == "test")


def test_random_segment_validation_is_segment_level():
    X, index, splits = corpus(n_tracks=30, n_segments=6)
    roles = roles_of(splits, index, "random_segment")
    tracks = index["track_id"].to_numpy(dtype=object)
    assert set(tracks[roles == "fit"]) & set(tracks[roles == "valid"])  # by that protocol's design
    assert 0.15 < (roles == "valid").sum() / np.isin(roles, ["fit", "valid"]).sum() < 0.35


def test_too_few_groups_for_validation():
    with pytest.raises(DataError, match="cnn.valid_fraction"):
        training.validation_mask(["a", "b", "a"], ["g1", "g1", "g2"], 0.25, seed=0)


# -------------------------------------------------------------------------------- training


def test_scratch_batch_norm_follows_the_batches_and_the_rate_decays():
    model = cnn_networks.build_scratch((20, 24), 3, tiny_params(), mean=-50.0, variance=25.0)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 2 and {layer.momentum for layer in norms} == {0.9}
    X, index, _ = corpus()
    codes = pd.factorize(index["genre"], sort=True)[0]
    model, _ = cnn_networks.fit_scratch(X[:48], codes[:48], X[48:60], codes[48:60], 3, tiny_params(), seed=0)
    assert float(model.optimizer.iterations) == 3  # 48 rows in batches of 16, one epoch
    assert float(model.optimizer.learning_rate) == pytest.approx(0.001 * 0.05, rel=1e-3)  # the cosine's end


def test_scratch_trains_one_epoch_and_predicts_probabilities():
    X, index, _ = corpus()
    small = cnn_inputs.resize_segments(X, 16)
    codes = pd.factorize(index["genre"], sort=True)[0]
    model, history = cnn_networks.fit_scratch(small[:48], codes[:48], small[48:60], codes[48:60], 3, tiny_params(), seed=0)
    proba = model.predict(small[60:][..., None], verbose=0)
    assert proba.shape == (12, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert list(history.columns) == training.HISTORY_COLUMNS and len(history) == 1
    assert np.isfinite(history[["loss", "val_loss"]].to_numpy()).all()


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """run_cnn twice with the same seed, both approaches, one grouped protocol."""
    X, index, splits = corpus()
    runs = [
        cnn.run_cnn(X, index, splits, TINY, protocols=["track_grouped"], models_dir=tmp_path_factory.mktemp(f"run{i}") / "models",
                     seed=5, progress=False)
        for i in range(2)
    ]
    return runs, index, splits


def test_run_produces_rows_predictions_curves_and_models(two_runs, tmp_path):
    (run, _), index, splits = two_runs
    rows = run.scores
    assert list(rows.columns) == SCORE_COLUMNS
    assert set(zip(rows["approach"], rows["model"], rows["level"])) == {
        ("cnn_scratch", "convnet[4-8]", "segment"),
        ("cnn_scratch", "convnet[4-8]", "track"),
        ("cnn_transfer", "mobilenetv2[random]", "segment"),
        ("cnn_transfer", "mobilenetv2[random]", "track"),
    }
    n_test_tracks = int((splits["track_grouped"] == "test").sum())
    assert set(rows.loc[rows["level"] == "track", "n_test"]) == {n_test_tracks}
    assert set(rows.loc[rows["level"] == "segment", "n_test"]) == {3 * n_test_tracks}
    assert (rows["fit_seconds"] > 0).all() and (rows["predict_seconds"] > 0).all()

    assert list(run.predictions.columns) == PREDICTION_COLUMNS
    track_rows = run.predictions[run.predictions["level"] == "track"]
    assert (track_rows["segment"] == -1).all()
    truth = index.groupby("track_id")["genre"].first()
    np.testing.assert_array_equal(track_rows["y_true"], truth.reindex(track_rows["track_id"]).to_numpy())

    curve_paths = {(approach, *key): path for approach, evaluation in run.evaluations.items()
                   for key, path in write_curves(evaluation, tmp_path / "curves").items()}  # fmt: skip
    assert set(curve_paths) == set(run.histories)
    for key, path in curve_paths.items():
        curve = pd.read_csv(path)
        assert list(curve.columns) == training.HISTORY_COLUMNS
        pd.testing.assert_frame_equal(curve, run.histories[key], check_dtype=False)
    transfer_curve = run.histories[("cnn_transfer", "mobilenetv2[random]", "track_grouped")]
    assert list(transfer_curve["phase"]) == ["frozen", "fine_tune"]
    X, _, _ = corpus()
    for (approach, model, protocol), path in run.model_paths.items():
        described = json.loads(path.with_suffix(".json").read_text())["estimator"]
        assert described == {"class": f"genrelab.approaches.cnn.{'ScratchCNN' if approach == 'cnn_scratch' else 'TransferCNN'}",
                             "params": {"params": cnn_params.check_params(TINY), "seed": 5}}
        saved = load(path)  # the estimator comes back and predicts exactly as the fitted one
        assert (saved.approach, saved.model, saved.protocol, saved.classes) == (approach, model, protocol, GENRES)
        fitted = run.evaluations[approach].details[model, protocol].estimator
        inputs = X[:5] if approach == "cnn_scratch" else cnn_inputs.resize_segments(X[:5], 32, image_range=True)
        np.testing.assert_array_equal(saved.predict_proba(inputs), fitted.predict_proba(inputs))
        assert saved.predict_proba(inputs).shape == (5, 3)


def test_same_seed_gives_identical_results(two_runs):
    (first, second), _, _ = two_runs
    timing = ["fit_seconds", "predict_seconds"]
    pd.testing.assert_frame_equal(first.scores.drop(columns=timing), second.scores.drop(columns=timing))
    pd.testing.assert_frame_equal(first.predictions, second.predictions)
    for key in first.histories:  # losses too, to the last bit
        pd.testing.assert_frame_equal(first.histories[key], second.histories[key])


def test_learning_curves_plot(two_runs):
    (run, _), _, _ = two_runs
    history = next(iter(run.histories.values()))
    fig = plot_learning_curves(history, title="convnet")
    assert [a.get_ylabel() for a in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].lines) == 2


def test_backbone_inputs_leave_the_callers_stacked_images_alone():
    from genrelab.approaches.cnn_inputs import backbone_inputs

    stacked = np.random.default_rng(0).uniform(0, 255, size=(2, 32, 32, 3)).astype(np.float32)
    before = stacked.copy()
    out = backbone_inputs(stacked, "mobilenetv2")
    assert np.array_equal(stacked, before) and out.min() >= -1 and out.max() <= 1
