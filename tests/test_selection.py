"""Selection is blind to the test labels: permuting them moves test scores, never a choice.

Every approach's candidates go through the one evaluation loop, and the shipped model through
``select_model``; so permuting the test tracks' labels on a small study, with models of the zoo,
must leave every selection score, every selected entry and the export choice as they were.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genrelab.approaches.audio_features import make_models
from genrelab.config import section
from genrelab.evaluation.loop import evaluate
from genrelab.evaluation.results import mark_selected
from genrelab.evaluation.splits import segment_subsets
from genrelab.inference.export import select_model
from test_evaluation import _clips, _corpus

# Two servable approaches with a few candidates each, so there is a choice within and across approaches.
APPROACHES = {
    "audio_features": {"logreg_l2": {"C": 1.0}, "knn": {"grid": {"n_neighbors": [1, 7]}, "inner_folds": 2}},
    "musicnn_embeddings": {"random_forest": {"n_estimators": 15, "n_jobs": 1}, "logreg_l1": {"C": 0.3}},
}
SELECTION = ["approach", "model", "protocol", "level", "select_score", "select_std", "select_folds", "select_by",
             "selected"]  # fmt: skip


def _study(y_segments, X, rows, splits, protocol):
    """Every approach at segment (and track) and clip level under one protocol: the marked results rows."""
    clip_X, clip_y, clip_rows = _clips(X, y_segments, rows)
    parts = []
    for approach, spec in APPROACHES.items():
        for data in ((X, y_segments, rows, "segment"), (clip_X, clip_y, clip_rows, "clip")):
            features, labels, index, level = data
            parts.append(evaluate(features[:, 1:], labels, index, splits, approach=approach, models=make_models(spec),
                                  protocols=[protocol], level=level, cv_folds=3, progress=False).scores)  # fmt: skip
    return mark_selected(pd.concat(parts, ignore_index=True))


def _permute_test_tracks(y, rows, splits, protocol, seed=1):
    """``y`` with the labels of the protocol's test tracks shuffled among them (each track keeps one label)."""
    subset = segment_subsets(splits, rows["track_id"], rows["segment"], protocol)
    track_ids = rows["track_id"].to_numpy(dtype=object)
    tests = list(dict.fromkeys(track_ids[subset == "test"]))
    genre = dict(zip(track_ids, y))
    shuffled = np.random.default_rng(seed).permutation([genre[t] for t in tests])
    new = dict(zip(tests, shuffled))
    return np.array([new.get(t, g) for t, g in zip(track_ids, y)], dtype=object), tests


@pytest.mark.parametrize("protocol", ["track_grouped", "artist_grouped", "fault_filtered"])
def test_permuting_the_test_labels_changes_test_scores_but_no_choice(protocol):
    X, y, rows, splits = _corpus(n_genres=4, tracks_per_genre=12, genre_signal=0.6)
    if protocol == "fault_filtered":  # an official split: selection on its valid tracks
        splits[protocol] = np.array(["train", "train", "valid", "test"], dtype=object)[np.arange(len(splits)) % 4]
    permuted, tests = _permute_test_tracks(y, rows, splits, protocol)
    assert (permuted != y).any() and len(tests) >= 8

    before, after = _study(y, X, rows, splits, protocol), _study(permuted, X, rows, splits, protocol)
    pd.testing.assert_frame_equal(before[SELECTION], after[SELECTION])  # scores, spreads, flags: identical
    assert not np.allclose(before["accuracy"], after["accuracy"])  # while the test set did see the change
    assert before["selected"].sum() == 2 * 2  # a track-level and a segment-level entry per approach
    rule = section("predict", {"honesty": [protocol]})
    shipped = [tuple(select_model(t, rule)[["approach", "model", "level"]]) for t in (before, after)]
    assert shipped[0] == shipped[1]


def test_random_segment_clips_are_a_track_split_and_stay_blind_too():
    # Segment-level random_segment puts a track's segments on both sides, so only its clip level has
    # test tracks whose labels can be permuted without touching the training rows.
    X, y, rows, splits = _corpus(n_genres=4, tracks_per_genre=12, genre_signal=0.6)
    clip_X, clip_y, clip_rows = _clips(X, y, rows)
    test = splits.set_index("track_id").loc[clip_rows["track_id"], "random_segment"].to_numpy() == "test"
    permuted = clip_y.copy()
    permuted[test] = np.random.default_rng(3).permutation(clip_y[test])
    runs = [mark_selected(evaluate(clip_X[:, 1:], labels, clip_rows, splits, approach="audio_features",
                                   models=make_models(APPROACHES["audio_features"]), protocols=["random_segment"],
                                   level="clip", cv_folds=3, progress=False).scores)
            for labels in (clip_y, permuted)]  # fmt: skip
    pd.testing.assert_frame_equal(runs[0][SELECTION], runs[1][SELECTION])
    assert not np.allclose(runs[0]["accuracy"], runs[1]["accuracy"])
