"""The comparison chapter's tables, tests and conclusions, on small generated results."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from genrelab import config  # noqa: E402
from genrelab.config import ParamsError  # noqa: E402
from genrelab.evaluation.results import PREDICTION_COLUMNS, SCORE_COLUMNS, mark_selected, score_row  # noqa: E402
from genrelab.report.compare import figures, prose, stats, tables  # noqa: E402

GENRES = ["ambient", "bossa", "chiptune", "drone"]
TRACKS = [f"{g}.{i:05d}" for g in GENRES for i in range(10)]  # 40 test tracks
SETTINGS = config.section("compare", {"n_boot": 200})

# (approach, model, level) -> protocol -> share of test tracks predicted right.
SPEC = {
    ("audio_features", "svm", "clip"): {"random_segment": 1.0, "track_grouped": 0.80, "artist_grouped": 0.70},
    ("audio_features", "dummy", "clip"): {"random_segment": 0.25, "track_grouped": 0.25, "artist_grouped": 0.25},
    ("cnn_scratch", "convnet[8]", "track"): {"random_segment": 0.90, "track_grouped": 0.60, "artist_grouped": 0.50},
    ("cnn_transfer", "mobilenetv2[random]", "track"): {"random_segment": 0.60, "track_grouped": 0.45,
                                                        "artist_grouped": 0.40},
}
FIT_SECONDS = {"svm": 2.0, "dummy": 0.001, "convnet[8]": 50.0, "mobilenetv2[random]": 80.0, "knn": 1.0}
# Selection scores (inside the training data) are the test shares, except for knn: best on test under the
# grouped protocols, but never the choice, which is what peeking would have reported.
KNN = ("audio_features", "knn", "clip")
SPEC_WITH_KNN = {**SPEC, KNN: {"random_segment": 0.9, "track_grouped": 0.9, "artist_grouped": 0.8}}
SELECT = {KNN: 0.5}


def predictions_for(approach, model, protocol, level, share, tracks=TRACKS) -> pd.DataFrame:
    """Track-level predictions: the first ``share`` of each genre's tracks right, the rest shifted one genre."""
    y_true = np.array([t.split(".")[0] for t in tracks], dtype=object)
    index = np.array([int(t.split(".")[1]) for t in tracks])
    wrong = np.array([GENRES[(GENRES.index(g) + 1) % len(GENRES)] for g in y_true], dtype=object)
    y_pred = np.where(index < round(share * 10), y_true, wrong)
    return pd.DataFrame({"approach": approach, "model": model, "protocol": protocol, "level": level,
                         "track_id": tracks, "segment": -1, "y_true": y_true, "y_pred": y_pred})


def make_results(spec=SPEC_WITH_KNN) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores and predictions consistent with each other (scores computed from the predictions), with
    selection scores from :data:`SELECT` (else the test share) and the selected entries marked."""
    preds, rows = [], []
    for entry, shares in spec.items():
        approach, model, level = entry
        for protocol, share in shares.items():
            p = predictions_for(approach, model, protocol, level, share)
            preds.append(p)
            rows.append(score_row(approach=approach, model=model, protocol=protocol, level=level,
                                  y_true=p["y_true"], y_pred=p["y_pred"], groups=p["track_id"],
                                  fit_seconds=FIT_SECONDS[model], predict_seconds=0.1,
                                  selection=([SELECT.get(entry, share)] * 2, "2-fold CV")))  # fmt: skip
    scores = mark_selected(pd.DataFrame(rows, columns=SCORE_COLUMNS))
    return scores, pd.concat(preds, ignore_index=True)[PREDICTION_COLUMNS]


@pytest.fixture()
def results():
    return make_results()


def test_leaderboard_ranks_within_protocol_by_selection_score_most_honest_first(results):
    scores, _ = results
    board = tables.leaderboard(scores, "track")
    assert list(dict.fromkeys(board["protocol"])) == ["artist_grouped", "track_grouped", "random_segment"]
    for _, part in board.groupby("protocol"):
        assert part["select_score"].is_monotonic_decreasing
        assert part["rank"].tolist() == list(range(1, len(part) + 1))
    assert (board["ci_low"] <= board["accuracy"]).all() and (board["accuracy"] <= board["ci_high"]).all()
    honest = board[board["protocol"] == "artist_grouped"]
    assert (honest.iloc[0]["model"], honest.iloc[0]["accuracy"]) == ("svm", 0.7)
    assert honest["accuracy"].max() == 0.8  # knn: best on test, ranked by its selection score instead
    assert honest.loc[honest["model"] == "knn", "selected"].item() is False


def test_segment_scope_keeps_only_segment_rows(results):
    scores, _ = results
    extra = scores.iloc[[0]].assign(level="segment", accuracy=0.99)
    board = tables.leaderboard(pd.concat([scores, extra]), "segment")
    assert board["level"].tolist() == ["segment"]
    with pytest.raises(ValueError, match="scope"):
        tables.leaderboard(scores, "clip")


def test_track_levels_say_which_rows_each_approach_uses(results):
    scores, _ = results
    both = pd.concat([scores, scores.iloc[[0]].assign(level="track")])
    used = tables.track_levels(both)["track-level rows"]
    assert used["audio_features"] == "clip and track" and used["cnn_scratch"] == "track"


def test_selected_entries_break_ties_by_name_never_by_timings_or_test_scores(results):
    scores, _ = results
    picks = set()
    for seconds, accuracy in ((99.0, 0.99), (0.001, 0.01)):  # the tie's timing and test score either side of svm's
        tie = scores[scores["model"] == "svm"].assign(model="svm_copy", fit_seconds=seconds, accuracy=accuracy)
        selected = tables.selected_entries(tables.leaderboard(mark_selected(pd.concat([tie, scores])), "track"))
        assert len(selected) == 3 * 3  # approaches x protocols
        picks.add(selected[(selected["approach"] == "audio_features")
                           & (selected["protocol"] == "track_grouped")].iloc[0]["model"])  # fmt: skip
    assert picks == {"svm"}
    table = tables.selected_table(selected)
    assert list(table.columns) == ["entry (artist_grouped)", "random_segment", "track_grouped", "artist_grouped"]
    assert table.at["audio_features", "entry (artist_grouped)"] == "svm (clip)"
    assert table.at["audio_features", "artist_grouped"].startswith("70.0 [")
    candidates = tables.candidates_table(tables.leaderboard(mark_selected(pd.concat([tie, scores])), "track"),
                                         "artist_grouped")
    assert candidates.columns[1] == "model (level)" and candidates.loc[1, "entry"] == "✓"
    assert (candidates["entry"] == "✓").sum() == 3  # one entry per approach


def test_oracle_gap_is_the_price_of_peeking(results):
    scores, _ = results
    gap = tables.oracle_gap(tables.leaderboard(scores, "track")).set_index(["protocol", "approach"])
    audio = gap.loc[("artist_grouped", "audio_features")]
    assert (audio["candidates"], audio["selected"], audio["oracle"]) == (3, "svm (clip)", "knn (clip)")
    assert audio["gap_points"] == pytest.approx(10.0)
    assert gap.loc[("random_segment", "audio_features"), "gap_points"] == 0  # svm is best on test there too
    assert gap.loc[("artist_grouped", "cnn_scratch"), "gap_points"] == 0  # a single candidate
    study = gap.loc[("artist_grouped", tables.STUDY)]
    assert (study["candidates"], study["selected"], study["oracle"]) == (
        5, "audio_features / svm (clip)", "audio_features / knn (clip)")
    assert (gap["gap_points"] >= 0).all()


def test_holm_adjusts_for_the_pairs_tested():
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.5])
    np.testing.assert_allclose(adjusted, [0.04, 0.09, 0.09, 0.5])  # 4x0.01, max(3x0.03, .), 2x0.04 -> 0.09, 0.5
    assert stats.holm([0.6, 0.7]).max() == 1.0


def test_most_honest_protocol_order():
    frame = lambda *ps: pd.DataFrame({"protocol": ps})  # noqa: E731
    assert tables.most_honest(frame("random_segment", "track_grouped", "fault_filtered")) == "fault_filtered"
    assert tables.most_honest(frame("random_segment", "track_grouped")) == "track_grouped"
    assert tables.most_honest(frame("random_segment")) == "random_segment"


def test_mcnemar_exact_on_a_constructed_case():
    # 8 examples right only for a, 1 only for b, 11 concordant: p = 2 * P(X <= 1 | 9, 1/2) = 20 / 512.
    a = np.array([True] * 8 + [False] * 1 + [True] * 6 + [False] * 5)
    b = np.array([False] * 8 + [True] * 1 + [True] * 6 + [False] * 5)
    test = stats.mcnemar_exact(a, b)
    assert (test["n"], test["a_only"], test["b_only"]) == (20, 8, 1)
    assert test["p_value"] == pytest.approx(20 / 512)
    assert stats.mcnemar_exact(a, a)["p_value"] == 1.0


def test_paired_bootstrap_is_centred_on_the_difference():
    a = np.array([True] * 30 + [False] * 10)
    b = np.array([True] * 20 + [False] * 20)
    diff, low, high = stats.paired_bootstrap(a, b, np.arange(40), n_boot=500)
    assert diff == pytest.approx(25.0)
    assert 0 < low < diff < high
    assert stats.paired_bootstrap(a, a, np.arange(40), n_boot=100) == (0.0, 0.0, 0.0)


def test_paired_tests_only_on_shared_tracks(results):
    scores, preds = results
    # A new approach tested on other tracks cannot be paired with anything.
    other = predictions_for("spectrogram_hog", "logreg", "artist_grouped", "track", 1.0, [f"ambient.{i:05d}" for i in range(90, 95)])
    preds = pd.concat([preds, other], ignore_index=True)
    scores = pd.concat([scores, pd.DataFrame([score_row(
        approach="spectrogram_hog", model="logreg", protocol="artist_grouped", level="track", y_true=other["y_true"],
        y_pred=other["y_pred"], groups=other["track_id"], fit_seconds=1.0, predict_seconds=0.1)])])
    scores = mark_selected(scores.assign(select_score=scores["select_score"].fillna(1.0),
                                         select_std=scores["select_std"].fillna(0.0)))  # fmt: skip
    selected = tables.selected_entries(tables.leaderboard(scores, "track"))
    honest = selected[selected["protocol"] == "artist_grouped"]
    tests = stats.paired_tests(preds, honest, {**SETTINGS, "top": 4})
    assert not tests["a"].str.startswith("spectrogram_hog").any() and not tests["b"].str.startswith("spectrogram_hog").any()
    first = tests.iloc[0]
    assert (first["a"], first["b"], first["n_shared"]) == ("audio_features / svm (clip)", "cnn_scratch / convnet[8] (track)", 40)
    assert first["diff_points"] == pytest.approx(20.0)
    assert len(tests) == 3 and (tests["p_holm"] >= tests["p_value"]).all()
    row = stats.paired_table(tests).iloc[0]
    assert (row["a"], row["b"], row["shared tracks"]) == ("audio_features", "cnn_scratch", 40)
    assert row["a − b (points) [95 %]"].startswith("+20.0 [")


def test_leakage_gap_in_points(results):
    scores, _ = results
    table = tables.leakage(tables.leaderboard(scores, "track"))
    assert table.at["audio_features", "gap_points"] == pytest.approx(30.0)  # 100 % -> 70 %
    assert table.at["cnn_scratch", "gap_points"] == pytest.approx(40.0)
    no_leaky = scores[scores["protocol"] != "random_segment"]
    assert tables.leakage(tables.leaderboard(no_leaky, "track"))["gap_points"].isna().all()


def test_cheapest_within_ci_of_the_best(results):
    scores, _ = results
    selected = tables.selected_entries(tables.leaderboard(scores, "track"))
    honest = selected[selected["protocol"] == "artist_grouped"]
    assert tables.cheapest_within_ci(honest)["approach"] == "audio_features"  # first and cheapest
    close = honest.assign(ci_low=0.0)  # everything within the CI: the cheapest approach wins
    close.loc[close["approach"] == "cnn_transfer", "fit_seconds"] = 0.01
    assert tables.cheapest_within_ci(close)["approach"] == "cnn_transfer"


def test_conclusions_follow_the_numbers(results):
    scores, preds = results
    text = prose.conclusions(scores, preds, source="demo", settings=SETTINGS)
    assert "(highest selection score: 2-fold CV, 70.0 %) is **audio_features / svm (clip)**: 70.0 % test accuracy" in text
    assert "would report 80.0 % (audio_features / knn (clip)) instead of 70.0 %: 10.0 points" in text
    assert "largest for `cnn_scratch` (90.0 % against 50.0 %)" in text
    assert "synthetic demo corpus" in text
    assert "`cnn_transfer / mobilenetv2[random]` ran with **random weights**" in text
    assert "`spectrogram_pixels`, `spectrogram_hog`, `spectrogram_shelf`" in text  # missing approaches

    swapped = {**SPEC_WITH_KNN, ("cnn_scratch", "convnet[8]", "track"): {
        **SPEC[("cnn_scratch", "convnet[8]", "track")], "artist_grouped": 0.9}}
    scores2, preds2 = make_results(swapped)
    text2 = prose.conclusions(scores2, preds2, source="gtzan", settings=SETTINGS)
    assert "is **cnn_scratch / convnet[8] (track)**: 90.0 % test accuracy" in text2
    assert "synthetic" not in text2


def test_conclusions_report_significance_from_the_test(results):
    scores, preds = results
    text = prose.conclusions(scores, preds, source="gtzan", settings=SETTINGS)
    # svm 70 % vs convnet 50 % on 40 tracks: 8 vs 0 discordant, p = 2 / 2**8; Holm over 3 pairs: the
    # smallest (svm vs mobilenet, 12 vs 0: 2 / 2**12) x3, then this one x2.
    assert "disagree on 8" in text and f"p = {2 / 256:.3g}, {2 * 2 / 256:.3g} after Holm's correction" in text
    assert "a significant difference at α = 0.05" in text
    strict = prose.conclusions(scores, preds, source="gtzan", settings={**SETTINGS, "alpha": 0.001})
    assert "no significant difference at α = 0.001" in strict


def test_conclusions_adapt_to_missing_protocols_and_approaches(results):
    scores, preds = results
    only_leaky = scores[scores["protocol"] == "random_segment"]
    text = prose.conclusions(only_leaky, preds, source="gtzan", settings=SETTINGS)
    assert "Only the leaky `random_segment` protocol was run" in text
    assert "leakage gap cannot be measured" in text
    one = scores[scores["approach"] == "audio_features"]
    text = prose.conclusions(one, preds[preds["approach"] == "audio_features"], source="gtzan", settings=SETTINGS)
    assert "next approach by selection score" not in text and "`cnn_scratch`, `cnn_transfer`" in text


def test_settings_are_checked_with_the_key_named():
    assert config.section("compare", None)["top"] == 3
    assert config.section("compare", {"alpha": 0.01})["alpha"] == 0.01
    with pytest.raises(ParamsError, match=r"compare\.n_bot"):
        config.section("compare", {"n_bot": 10})
    with pytest.raises(ParamsError, match=r"'compare\.alpha' must be less than 1, got 5"):
        config.section("compare", {"alpha": 5})


def test_dvc_plot_files(results, tmp_path):
    scores, preds = results
    board = tables.leaderboard(scores, "track")
    table = tables.write_leaderboard_csv(board, tmp_path / "leaderboard.csv")
    written = pd.read_csv(tmp_path / "leaderboard.csv")
    assert written["entry"].is_unique and len(written) == len(table) == 9
    assert written.loc[written["entry"] == "audio_features / svm (clip) | artist_grouped", "accuracy"].item() == 70.0
    picks = tables.selected_entries(board).query("protocol == 'artist_grouped'")
    paths = tables.write_confusion_csvs(preds, picks, tmp_path)
    assert sorted(p.name for p in paths) == [f"confusion_{a}.csv" for a in ("audio_features", "cnn_scratch", "cnn_transfer")]
    matrix = pd.read_csv(tmp_path / "confusion_audio_features.csv")
    assert list(matrix.columns) == ["actual", "predicted"] and len(matrix) == 40
    assert (matrix["actual"] == matrix["predicted"]).mean() == 0.7


def test_per_genre_f1_and_confusions(results):
    scores, preds = results
    board = tables.leaderboard(scores, "track")
    picks = tables.selected_entries(board).query("protocol == 'artist_grouped'")
    f1 = tables.per_genre_f1(preds, picks)
    assert list(f1.columns) == GENRES and len(f1) == 3
    matrices = tables.confusions(preds, picks)
    svm = matrices["audio_features / svm (clip)"]
    assert svm.to_numpy().sum() == 40 and np.trace(svm.to_numpy()) == 28
    assert svm.at["ambient", "bossa"] == 3  # wrong predictions shift one genre on
    for fig in (figures.plot_genre_f1(f1), figures.plot_confusions(matrices),
                figures.plot_leaderboard(tables.selected_entries(board)), figures.plot_leakage(tables.leakage(board)),
                figures.plot_oracle_gap(tables.oracle_gap(board)),
                figures.plot_cost(board.query("protocol == 'artist_grouped'"))):  # fmt: skip
        assert fig.axes
        plt.close(fig)


def test_model_sizes_read_every_saved_model(tmp_path):
    (tmp_path / "cnn_transfer").mkdir()
    (tmp_path / "cnn_transfer" / "mobilenetv2-random__artist_grouped__segment.keras").write_bytes(b"x" * 2_000_000)
    (tmp_path / "cnn_transfer" / "mobilenetv2-random__artist_grouped__segment.json").write_text("{}")
    (tmp_path / "audio_features").mkdir()
    (tmp_path / "audio_features" / "svm_rbf__track_grouped__clip.joblib").write_bytes(b"x" * 500_000)
    (tmp_path / "notes.txt").write_text("ignored")
    sizes = tables.model_sizes(tmp_path)
    assert sizes.to_dict("records") == [
        {"approach": "audio_features", "model_file": "svm_rbf", "protocol": "track_grouped", "level": "clip",
         "size_mb": 0.5},
        {"approach": "cnn_transfer", "model_file": "mobilenetv2-random", "protocol": "artist_grouped",
         "level": "segment", "size_mb": 2.0},
    ]
    assert list(tables.model_sizes(tmp_path, approaches=["cnn_transfer"])["approach"]) == ["cnn_transfer"]
    assert tables.model_sizes(tmp_path / "absent").empty


def test_conclusions_say_when_the_choice_is_also_the_best_on_test():
    honest = make_results({**SPEC_WITH_KNN, KNN: {**SPEC_WITH_KNN[KNN], "artist_grouped": 0.6}})
    text = prose.conclusions(*honest, source="gtzan", settings=SETTINGS)
    assert "also scores highest on the test set, of 5 candidates" in text
