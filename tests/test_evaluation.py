"""The generic evaluation loop: what is trained on, what is tested, how it is scored."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GridSearchCV

from genrelab.approaches.audio_features import InnerCV, make_models
from genrelab.errors import DataError
from genrelab.evaluation.loop import evaluate
from genrelab.evaluation.results import PREDICTION_COLUMNS, SCORE_COLUMNS
from genrelab.evaluation.splits import make_splits, segment_subsets

GROUPED = ("track_grouped", "artist_grouped")
ALL = ("random_segment",) + GROUPED


def _corpus(n_genres=4, tracks_per_genre=9, n_segments=4, n_features=5, genre_signal=1.0, track_signal=0.5, seed=0):
    """Segment rows of a small synthetic corpus: 3 artists per genre; column 0 of X is the row id.

    Each segment is genre centre + track signature + noise, scaled by the two signals.
    """
    rng = np.random.default_rng(seed)
    n_tracks = n_genres * tracks_per_genre
    genre = np.arange(n_tracks) % n_genres
    track_ids = [f"g{g}.{i:05d}" for i, g in enumerate(genre)]
    manifest = pd.DataFrame(
        {
            "track_id": track_ids,
            "genre": [f"g{g}" for g in genre],
            "artist": [f"a{g}_{i % 3}" for i, g in enumerate(genre)],
            "status": "ok",
        }
    )
    centres = rng.normal(size=(n_genres, n_features)) * genre_signal
    signature = rng.normal(size=(n_tracks, n_features)) * track_signal
    features = np.repeat(centres[genre] + signature, n_segments, axis=0)
    features += rng.normal(size=features.shape)
    X = np.column_stack([np.arange(len(features)), features])
    y = np.repeat(manifest["genre"].to_numpy(dtype=object), n_segments)
    rows = pd.DataFrame({"track_id": np.repeat(track_ids, n_segments), "segment": np.tile(np.arange(n_segments), n_tracks)})
    splits = make_splits(manifest, protocols=list(ALL))
    return X, y, rows, splits


def _clips(X, y, rows):
    """One row per track: the mean of its segments, with column 0 renumbered as clip row ids."""
    first = ~rows["track_id"].duplicated().to_numpy()
    clip_X = pd.DataFrame(X).groupby(rows["track_id"].to_numpy(), sort=False).mean().to_numpy(copy=True)
    clip_X[:, 0] = np.arange(len(clip_X))
    return clip_X, y[first], rows.loc[first, ["track_id"]].reset_index(drop=True)


# Row ids each Spy was fitted on, by tag: module-level because searches clone their estimator.
FITS: dict[str, list[np.ndarray]] = defaultdict(list)


class Spy(ClassifierMixin, BaseEstimator):
    """Records the row ids (column 0) of every fit in ``FITS[tag]``; predicts uniform probabilities."""

    def __init__(self, tag="spy"):
        self.tag = tag

    def fit(self, X, y):
        FITS[self.tag].append(X[:, 0].astype(int))
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class ColumnProba(ClassifierMixin, BaseEstimator):
    """Two classes; the probability of the second is column 1 of X."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.column_stack([1 - X[:, 1], X[:, 1]])

    def predict(self, X):
        return self.classes_[(X[:, 1] > 0.5).astype(int)]


def _spy_run(X, y, rows, splits, protocol, level="segment", cv_folds=3, factory=Spy):
    """Evaluate a spy under one protocol; returns the row ids of each fit (CV fits, then the final one)."""
    FITS.clear()
    result = evaluate(
        X, y, rows, splits, approach="t", models={"spy": factory}, protocols=[protocol],
        level=level, cv_folds=cv_folds, progress=False,
    )  # fmt: skip
    return FITS["spy"], result


@pytest.mark.parametrize("protocol", ALL)
def test_never_trains_on_a_test_row(protocol):
    X, y, rows, splits = _corpus()
    fits, result = _spy_run(X, y, rows, splits, protocol)
    subset = segment_subsets(splits, rows["track_id"], rows["segment"], protocol)
    train_rows = set(np.flatnonzero(subset == "train"))
    assert len(fits) == 3 + 1  # CV folds, then the final fit
    assert all(set(f) <= train_rows for f in fits)
    assert set(fits[-1]) == train_rows
    tested = result.predictions[result.predictions["level"] == "segment"]
    assert len(tested) == np.sum(subset == "test")


@pytest.mark.parametrize("protocol", GROUPED)
def test_grouped_protocols_keep_each_track_on_one_side(protocol):
    X, y, rows, splits = _corpus()
    fits, result = _spy_run(X, y, rows, splits, protocol)
    trained_tracks = set(rows["track_id"].to_numpy(dtype=object)[fits[-1]])
    tested_tracks = set(result.predictions["track_id"])
    assert tested_tracks and not trained_tracks & tested_tracks
    group = splits.set_index("track_id")["artist_group" if protocol == "artist_grouped" else "dup_group"]
    assert not set(group[list(trained_tracks)]) & set(group[list(tested_tracks)])


def test_random_segment_does_put_tracks_on_both_sides():
    X, y, rows, splits = _corpus()
    fits, result = _spy_run(X, y, rows, splits, "random_segment")
    trained_tracks = set(rows["track_id"].to_numpy(dtype=object)[fits[-1]])
    assert trained_tracks & set(result.predictions["track_id"])


@pytest.mark.parametrize("protocol", GROUPED)
def test_cv_inside_training_rows_respects_groups(protocol):
    X, y, rows, splits = _corpus()
    fits, _ = _spy_run(X, y, rows, splits, protocol)
    column = "artist_group" if protocol == "artist_grouped" else "dup_group"
    group_of_row = splits.set_index("track_id")[column].reindex(rows["track_id"]).to_numpy(dtype=object)
    train_rows = fits[-1]
    for fit in fits[:-1]:
        held_out = np.setdiff1d(train_rows, fit)
        assert len(held_out) and not set(group_of_row[fit]) & set(group_of_row[held_out])


def test_inner_search_is_grouped_like_the_protocol():
    X, y, rows, splits = _corpus()

    def search():
        return GridSearchCV(Spy(), {"tag": ["spy"]}, cv=InnerCV(n_splits=3, shuffle=True, random_state=0))

    fits, _ = _spy_run(X, y, rows, splits, "artist_grouped", cv_folds=0, factory=search)
    group_of_row = splits.set_index("track_id")["artist_group"].reindex(rows["track_id"]).to_numpy(dtype=object)
    inner, refit = fits[:-1], fits[-1]
    assert len(inner) == 3
    for fit in inner:
        assert not set(group_of_row[fit]) & set(group_of_row[np.setdiff1d(refit, fit)])


def test_track_scores_average_segment_probabilities():
    # Track "a" (true class 1) has segments p(1) = 0.9, 0.4, 0.4: a majority vote says 0, the mean
    # probability (0.57) says 1. Track "b" (true class 0) is the mirror image.
    p = [0.9, 0.4, 0.4, 0.1, 0.6, 0.6]
    X = np.column_stack([np.arange(6), p])
    y = np.array(["c1"] * 3 + ["c0"] * 3, dtype=object)
    rows = pd.DataFrame({"track_id": ["a"] * 3 + ["b"] * 3, "segment": [0, 1, 2] * 2})
    # Two training tracks, so the model has both classes.
    X = np.vstack([X, [[6, 0.0], [7, 1.0]]])
    y = np.append(y, ["c0", "c1"])
    rows = pd.concat([rows, pd.DataFrame({"track_id": ["c", "d"], "segment": [0, 0]})], ignore_index=True)
    splits = pd.DataFrame({"track_id": list("abcd"), "dup_group": list("abcd"), "track_grouped": ["test"] * 2 + ["train"] * 2})
    result = evaluate(
        X, y, rows, splits, approach="t", models={"col": ColumnProba}, protocols=["track_grouped"],
        level="segment", cv_folds=0, progress=False,
    )  # fmt: skip
    tracks = result.predictions[result.predictions["level"] == "track"].set_index("track_id")
    assert tracks.loc["a", "y_pred"] == "c1" and tracks.loc["b", "y_pred"] == "c0"
    scores = result.scores.set_index("level")["accuracy"]
    assert scores["segment"] == pytest.approx(2 / 6) and scores["track"] == 1.0


def test_scores_and_predictions_follow_the_contracts():
    X, y, rows, splits = _corpus()
    models = {"spy": Spy}
    seg = evaluate(X, y, rows, splits, approach="t", models=models, protocols=list(ALL), level="segment", progress=False)
    assert list(seg.scores.columns) == SCORE_COLUMNS and list(seg.predictions.columns) == PREDICTION_COLUMNS
    assert seg.scores.groupby("protocol")["level"].apply(list).to_dict() == {p: ["segment", "track"] for p in ALL}
    for (protocol, level), part in seg.predictions.groupby(["protocol", "level"]):
        row = seg.scores[(seg.scores["protocol"] == protocol) & (seg.scores["level"] == level)].iloc[0]
        assert row["n_test"] == len(part)
        assert (part["segment"] == -1).all() == (level == "track")
    clip = evaluate(*_clips(X, y, rows), splits, approach="t", models=models, protocols=list(ALL), level="clip", progress=False)
    assert set(clip.scores["level"]) == {"clip"} and (clip.predictions["segment"] == -1).all()
    detail = clip.details["spy", "track_grouped"]
    assert detail.confusion.to_numpy().sum() == detail.report["macro avg"]["support"] == len(clip.predictions) / 3


def test_clip_level_random_segment_is_the_track_split():
    X, y, rows, splits = _corpus()
    fits, result = _spy_run(*_clips(X, y, rows), splits, "random_segment", level="clip")
    expected = set(splits.loc[splits["random_segment"] == "test", "track_id"])
    assert set(result.predictions["track_id"]) == expected


@pytest.mark.parametrize("cv_folds", [0, 3])
def test_fault_filtered_selects_on_valid_then_trains_on_train_and_valid_and_skips_excluded(cv_folds):
    X, y, rows, splits = _corpus()
    clip_X, clip_y, clip_rows = _clips(X, y, rows)
    cycle = np.array(["train", "valid", "test", "excluded"], dtype=object)
    splits["fault_filtered"] = cycle[np.arange(len(splits)) % 4]
    fits, result = _spy_run(clip_X, clip_y, clip_rows, splits, "fault_filtered", level="clip", cv_folds=cv_folds)
    subset = splits.set_index("track_id")["fault_filtered"].reindex(clip_rows["track_id"]).to_numpy()
    assert len(fits) == 2  # the official split replaces any CV: one selection fit, then the final fit
    assert sorted(subset[fits[0]]) == sorted(subset[subset == "train"])
    assert sorted(subset[fits[1]]) == sorted(subset[np.isin(subset, ["train", "valid"])])
    assert set(result.predictions["track_id"]) == set(splits.loc[splits["fault_filtered"] == "test", "track_id"])
    row = result.scores.iloc[0]
    assert (row["select_by"], row["select_folds"]) == ("official validation split", 1)


@pytest.mark.parametrize("jobs", [1, 2], ids=["again", "on_two_workers"])
def test_same_seed_same_results(jobs):
    X, y, rows, splits = _corpus()
    models = make_models({"logreg_l2": None, "random_forest": {"n_estimators": 10},
                          "tree": {"grid": {"max_depth": [2, 4]}, "inner_folds": 2}})  # fmt: skip
    runs = [
        evaluate(X, y, rows, splits, approach="t", models=models, protocols=["random_segment", "artist_grouped"],
                 level="segment", cv_folds=2, seed=7, progress=False, jobs=n)
        for n in (1, jobs)
    ]  # fmt: skip
    assert list(runs[1].details) == list(runs[0].details)  # the same order, whatever ran where
    timing = ["fit_seconds", "predict_seconds"]
    pd.testing.assert_frame_equal(runs[0].scores.drop(columns=timing), runs[1].scores.drop(columns=timing))
    pd.testing.assert_frame_equal(runs[0].predictions, runs[1].predictions)
    for key, detail in runs[0].details.items():
        np.testing.assert_array_equal(detail.cv_scores, runs[1].details[key].cv_scores)


def test_random_segment_leaks_track_signatures():
    # Each track has a strong signature and genres barely differ: only a leaky split can score.
    X, y, rows, splits = _corpus(n_genres=4, tracks_per_genre=12, n_segments=8, genre_signal=0.2, track_signal=4.0)
    result = evaluate(
        X[:, 1:], y, rows, splits, approach="t", models=make_models({"knn": {"grid": {"n_neighbors": [1]}}}),
        protocols=["random_segment", "track_grouped"], level="segment", cv_folds=0, progress=False,
    )  # fmt: skip
    leakage = result.leakage()
    assert leakage.loc["knn", "random_segment"] > 90
    assert leakage.loc["knn", "track_grouped"] < 50
    assert leakage.loc["knn", "drop_track_grouped"] == pytest.approx(
        leakage.loc["knn", "random_segment"] - leakage.loc["knn", "track_grouped"]
    )


def test_summary_has_cv_train_and_test_columns():
    X, y, rows, splits = _corpus()
    result = evaluate(
        X[:, 1:], y, rows, splits, approach="t", models=make_models({"logreg_l2": None}), protocols=list(GROUPED),
        level="segment", cv_folds=3, progress=False,
    )  # fmt: skip
    summary = result.summary()
    assert list(summary[["model", "protocol"]].itertuples(index=False, name=None)) == [("logreg_l2", p) for p in GROUPED]
    assert summary[["cv_mean", "cv_std", "train_accuracy", "test_accuracy", "track_accuracy"]].notna().all().all()
    assert (summary["train_accuracy"] >= summary["test_accuracy"]).all()
    with pytest.raises(DataError, match="needs the 'random_segment' protocol"):
        result.leakage()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X, y, r: (X[:-1], y, r), "must describe the same rows"),
        (lambda X, y, r: (X, y, r.drop(columns="segment")), r"lack column\(s\) \['segment'\]"),
        (lambda X, y, r: (np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X), y, r), "non-finite"),
    ],
)
def test_bad_inputs_are_named(change, message):
    X, y, rows, splits = _corpus()
    with pytest.raises(DataError, match=message):
        evaluate(*change(X, y, rows), splits, approach="t", models={}, protocols=["track_grouped"], level="segment", progress=False)


def test_unknown_protocol_and_repeated_clips_are_refused():
    X, y, rows, splits = _corpus()
    models = {"spy": Spy}
    with pytest.raises(DataError, match="'fault_filtered' is not in the split table"):
        evaluate(X, y, rows, splits, approach="t", models=models, protocols=["fault_filtered"], level="segment", progress=False)
    with pytest.raises(DataError, match="one row per track"):
        evaluate(X, y, rows, splits, approach="t", models=models, protocols=["track_grouped"], level="clip", progress=False)


class DtypeSpy(Spy):
    """A :class:`Spy` that also records the dtype of every matrix it fits on or predicts from."""

    def fit(self, X, y):
        FITS[f"{self.tag}-dtype"].append(X.dtype)
        return super().fit(X, y)

    def predict_proba(self, X):
        FITS[f"{self.tag}-dtype"].append(X.dtype)
        return super().predict_proba(X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_floating_features_keep_their_dtype(dtype):
    X, y, rows, splits = _corpus()
    tag = f"dtype-{np.dtype(dtype).name}"
    FITS.pop(f"{tag}-dtype", None)
    evaluate(X.astype(dtype), y, rows, splits, approach="t", models={"spy": lambda: DtypeSpy(tag)},
             protocols=["track_grouped"], level="segment", cv_folds=2, progress=False)  # fmt: skip
    seen = FITS[f"{tag}-dtype"]
    assert len(seen) == 2 * 2 + 3 and set(seen) == {np.dtype(dtype)}  # 2 CV folds, final fit, 2 predictions


def test_integer_features_become_float64_and_non_finite_rows_are_found_in_any_chunk(monkeypatch):
    import genrelab.evaluation.loop as evaluation

    X, y, rows, splits = _corpus()
    FITS.pop("int-dtype", None)
    evaluate(X.round().astype(np.int64), y, rows, splits, approach="t", models={"spy": lambda: DtypeSpy("int")},
             protocols=["track_grouped"], level="segment", cv_folds=0, progress=False)  # fmt: skip
    assert set(FITS["int-dtype"]) == {np.dtype(np.float64)}
    # Chunks of 3 rows: the infinity in row 100 lies in a later chunk than the first.
    monkeypatch.setattr(evaluation, "_FINITE_CHUNK_BYTES", 3 * X.shape[1] * 4)
    X32 = X.astype(np.float32)
    X32[100, 2] = np.inf
    with pytest.raises(DataError, match="first at row 100, feature 2"):
        evaluate(X32, y, rows, splits, approach="t", models={}, protocols=["track_grouped"], level="segment", progress=False)


def test_one_validation_fold_and_track_level_selection_scores():
    X, y, rows, splits = _corpus()
    result = evaluate(X[:, 1:], y, rows, splits, approach="t", models=make_models({"logreg_l2": None}),
                      protocols=["artist_grouped"], level="segment", cv_folds=1, progress=False)  # fmt: skip
    detail = result.details["logreg_l2", "artist_grouped"]
    assert len(detail.cv_scores) == len(detail.cv_track_scores) == 1
    assert detail.selected_by == "one validation fold (a fifth of the training artists)"
    by_level = result.scores.set_index("level")
    assert by_level.loc["segment", "select_score"] == pytest.approx(detail.cv_scores[0])
    assert by_level.loc["track", "select_score"] == pytest.approx(detail.cv_track_scores[0])


class HoldsOut(Spy):
    """Holds out its first three rows itself, as the CNNs' early stopping does, and is right on them."""

    def fit(self, X, y):
        super().fit(X, y)
        self.validation_rows_ = np.arange(3)
        self.validation_proba_ = (self.classes_[:, None] == np.asarray(y[:3])[None, :]).T.astype(float)
        return self


def test_an_estimators_own_hold_out_scores_it_when_cv_is_off():
    X, y, rows, splits = _corpus()
    _, result = _spy_run(X, y, rows, splits, "track_grouped", cv_folds=0, factory=HoldsOut)
    row = result.scores[result.scores["level"] == "segment"].iloc[0]
    assert (row["select_score"], row["select_folds"]) == (1.0, 1)
    assert row["select_by"] == "the early-stopping hold-out (whole training groups)"
    _, plain = _spy_run(X, y, rows, splits, "track_grouped", cv_folds=0)
    assert plain.scores["select_score"].isna().all() and (plain.scores["select_by"] == "").all()


class StopsOnGiven(Spy):
    """Validates itself like the CNNs; records the validation rows it was handed (row ids, column 0)."""

    def fit(self, X, y, validation_rows=None):
        super().fit(X, y)
        held = np.arange(3) if validation_rows is None else np.asarray(validation_rows)
        FITS["handed"].append(X[held, 0].astype(int))
        self.validation_rows_ = held
        self.validation_proba_ = np.full((len(held), len(self.classes_)), 1 / len(self.classes_))
        return self


def test_an_official_split_stops_a_self_validating_estimator_in_one_fit():
    X, y, rows, splits = _corpus()
    clip_X, clip_y, clip_rows = _clips(X, y, rows)
    splits["fault_filtered"] = np.array(["train", "valid", "test"], dtype=object)[np.arange(len(splits)) % 3]
    fits, result = _spy_run(clip_X, clip_y, clip_rows, splits, "fault_filtered", level="clip", factory=StopsOnGiven)
    subset = splits.set_index("track_id")["fault_filtered"].reindex(clip_rows["track_id"]).to_numpy()
    assert len(fits) == 1  # no separate selection fit: early stopping on `valid` is the selection score
    assert sorted(subset[fits[0]]) == sorted(subset[subset != "test"])
    assert set(subset[FITS["handed"][0]]) == {"valid"} and len(FITS["handed"][0]) == (subset == "valid").sum()
    row = result.scores.iloc[0]
    assert (row["select_by"], row["select_folds"]) == ("official validation split", 1)


def test_a_small_training_set_gets_as_many_folds_as_it_has_groups():
    # 4 genres x 3 tracks: under random_segment at clip level the training rows hold at most 3 tracks
    # of a genre, fewer than the 5 folds a single validation fold is cut from.
    X, y, rows, splits = _corpus(n_genres=4, tracks_per_genre=4)
    clip_X, clip_y, clip_rows = _clips(X, y, rows)
    _, result = _spy_run(clip_X, clip_y, clip_rows, splits, "random_segment", level="clip", cv_folds=1)
    most = pd.Series(clip_y[np.isin(clip_rows["track_id"], splits.loc[splits["random_segment"] != "test", "track_id"])]
                     ).value_counts().max()  # fmt: skip
    assert most == 3
    assert result.scores.iloc[0]["select_by"] == "one validation fold (a third of the training rows, ungrouped)"


def test_a_small_grouped_clip_table_gets_as_many_folds_as_its_largest_genre_has_tracks():
    X, y, rows, splits = _corpus(n_genres=4, tracks_per_genre=4)
    clip_X, clip_y, clip_rows = _clips(X, y, rows)
    _, result = _spy_run(clip_X, clip_y, clip_rows, splits, "track_grouped", level="clip", cv_folds=1)
    assert result.scores.iloc[0]["select_by"] == "one validation fold (a third of the training tracks, duplicates kept together)"
