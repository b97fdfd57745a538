"""Each chapter's opening finding: computed from its results, naming the chosen entry, never the best on test.

The model chapters' and the comparison's are in ``report.findings``; the others live with their views."""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_compare import KNN, SPEC_WITH_KNN, make_results

from genrelab.report import eda, findings
from genrelab.report.quality import quality_finding


def test_a_model_chapter_names_its_selected_entry_not_the_best_on_test():
    scores, _ = make_results()
    text = findings.models(scores[scores["approach"] == "audio_features"].drop(columns="selected"))
    # knn is best on the artist-grouped test set (80 %) but has the lower selection score: svm (70 %) is chosen.
    assert "the entry chosen inside the training data scores: **audio_features / svm (clip)** 70.0 %" in text
    assert "knn" not in text
    assert "`random_segment`) would report 100.0 % instead (+30.0 points)" in text
    assert "would add up to 10.0 points of selection noise" in text  # knn's 80 % against svm's 70 %
    assert text.count(". ") <= 3  # two or three sentences


def test_a_model_finding_ignores_the_test_scores_when_choosing():
    scores, _ = make_results()
    shuffled = scores.assign(accuracy=np.random.default_rng(0).permutation(scores["accuracy"].to_numpy()))
    for table in (scores, shuffled):
        part = table[table["approach"] == "audio_features"]
        assert "**audio_features / svm (clip)**" in findings.models(part)


def test_a_chapter_of_several_approaches_lists_each_chosen_entry():
    scores, _ = make_results()
    text = findings.models(scores[scores["approach"].str.startswith("cnn")])
    assert "**cnn_scratch / convnet[8] (track)** 50.0 %" in text
    assert "**cnn_transfer / mobilenetv2[random] (track)** 40.0 %" in text
    assert "would report 60.0 to 90.0 % instead (+20.0 to +40.0 points)" in text
    assert "would change nothing here" in text  # one candidate each: nothing to peek at


def test_the_comparison_finding_is_the_study_s_choice_across_approaches():
    scores, _ = make_results({**SPEC_WITH_KNN, KNN: {**SPEC_WITH_KNN[KNN], "artist_grouped": 0.6}})
    text = findings.compare(scores)
    assert text.startswith("Under `artist_grouped`, the most honest protocol here, the entry chosen inside the training"
                           " data across all approaches is **audio_features / svm (clip)**: 70.0 % test accuracy")
    assert "dummy" not in text  # never an approach's selected entry
    assert "The weakest approach's entry, cnn_transfer / mobilenetv2[random] (track), scores 40.0 %" in text
    assert "would have picked the same entry" in text
    peeked = findings.compare(make_results()[0])  # knn, not chosen, is best on test at 80 %
    assert "the study would report 80.0 % instead: 10.0 points of selection noise" in peeked


def test_the_data_finding_counts_files_duplicates_and_the_honest_test_set():
    manifest = pd.DataFrame({"track_id": list("abcde"), "genre": ["x", "x", "y", "y", "y"],
                             "duration_s": [30.0] * 5, "status": ["ok", "ok", "ok", "ok", "excluded"]})
    splits = pd.DataFrame({"track_id": list("abcd"), "random_segment": ["train"] * 4,
                           "artist_grouped": ["train", "test", "train", "test"]})
    duplicates = pd.DataFrame({"track_a": ["a"], "track_b": ["c"], "kind": ["near"], "cross_label": [True]})
    text = eda.data_finding(manifest, splits, duplicates)
    assert text.startswith("**4 of 5 audio files are used** (1 excluded")
    assert "2 classes and 0.03 h of audio" in text
    assert "1 pair(s), 1 of them across labels" in text
    assert "`artist_grouped`, tests 2 tracks" in text


def test_the_features_finding_names_the_feature_that_separates_the_classes():
    rng = np.random.default_rng(0)
    labels = np.repeat(["a", "b"], 20)
    clips = pd.DataFrame({"label": labels, "noise": rng.normal(size=40), "copy": rng.normal(size=40)})
    clips["signal"] = np.where(labels == "a", 0.0, 5.0) + rng.normal(scale=0.1, size=40)
    clips["twin"] = clips["noise"] * 2 + 1e-3 * rng.normal(size=40)
    text = eda.features_finding(clips, ["noise", "copy", "signal", "twin"])
    assert "`signal` separates the classes best" in text
    assert "1 pair(s) of features correlate beyond |r| = 0.9" in text


def test_the_quality_finding_reads_the_command_s_held_out_shares():
    selection = pd.DataFrame({"model": ["rule", "svm_rbf"], "cv_macro_f1": [0.6, 0.939], "cv_std": [0.1, 0.02],
                              "cv_folds": [3, 3]})
    command = pd.DataFrame({"measure": ["right verdict", "fake lossless caught", "genuine accused"],
                            "hits": [649, 200, 11], "rows": [660, 200, 380], "sources": [20, 20, 20]})
    text = quality_finding("svm_rbf", selection, command)
    assert "chose `svm_rbf`** (93.9 % collision-group macro-F1 over 3 folds)" in text
    assert "On 20 held-out sources" in text and "649 of 660 files" in text and "11 of 380 genuine" in text


def test_the_recommend_finding_names_the_shipped_model_and_the_filtered_precision():
    from genrelab.report.recommend import recommend_finding

    card = {"approach": "musicnn_embeddings", "model": "m", "protocol": "artist_grouped", "classes": list("abc"),
            "test": {"n_test": 50, "accuracy": 0.96, "ci_low": 0.9, "ci_high": 1.0}}
    precision = pd.DataFrame({"queries": ["all tracks", "all tracks", "artist_grouped"],
                              "artist_filter": [False, True, True], "precision": [0.99, 0.9, 0.8]})
    text = recommend_finding(card, precision, 5)
    assert text.startswith("**The shipped model is musicnn_embeddings / m**, chosen under `artist_grouped`")
    assert "96.0% (95 % CI 90.0% to 100.0%)" in text and "It knows 3 genres" in text
    assert "5 nearest neighbours from other artists, 90% share its genre" in text


def test_the_quality_verdict_table_is_narrow_and_keeps_counts_and_intervals():
    from genrelab.report.quality import verdict_table

    verdicts = pd.DataFrame({"model": ["rule"], "excerpt_seconds": [10.0], "fakes": [200], "fakes_caught": [190],
                             "fake_detection": [0.95], "fake_detection_low": [0.75], "fake_detection_high": [0.999],
                             "genuine": [80], "genuine_accused": [14], "false_positive_rate": [0.175],
                             "false_positive_low": [0.044], "false_positive_high": [0.408]})
    row = verdict_table(verdicts).loc[("rule", 10.0)]
    assert list(row) == ["190 / 200", "95 (75–100)", "14 / 80", "18 (4–41)"]
