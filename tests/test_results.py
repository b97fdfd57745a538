import json

import numpy as np
import pandas as pd
import pytest

from genrelab.errors import DataError
from genrelab.evaluation.results import (
    mark_selected,
    SCORE_COLUMNS,
    aggregate_tracks,
    bootstrap_ci,
    collect_scores,
    score_row,
    write_metrics,
    write_part,
    write_predictions,
)


def test_bootstrap_resamples_tracks_not_rows():
    # 20 tracks of 10 segments; whole tracks right or wrong: the interval must be wide,
    # as wide as for 20 independent examples, not 200.
    groups = np.repeat(np.arange(20), 10)
    correct = np.repeat(np.arange(20) < 10, 10)
    y_true = np.zeros(200, dtype=object)
    y_pred = np.where(correct, 0, 1).astype(object)
    low, high = bootstrap_ci(y_true, y_pred, groups, seed=0)
    assert low < 0.35 and high > 0.65
    row_low, row_high = bootstrap_ci(y_true, y_pred, np.arange(200), seed=0)
    assert (row_high - row_low) < (high - low) / 2


def test_score_row():
    row = score_row(
        approach="a", model="m", protocol="track_grouped", level="track",
        y_true=["x", "y", "x", "y"], y_pred=["x", "y", "y", "y"], groups=["1", "2", "3", "4"],
        fit_seconds=1.5, predict_seconds=0.1,
    )
    assert list(row) == SCORE_COLUMNS
    assert row["accuracy"] == 0.75 and row["n_test"] == 4
    assert row["ci_low"] <= row["accuracy"] <= row["ci_high"]
    with pytest.raises(DataError, match="unknown level"):
        score_row(approach="a", model="m", protocol="p", level="song", y_true=["x"], y_pred=["x"],
                  groups=["1"], fit_seconds=0, predict_seconds=0)
    with pytest.raises(DataError, match="test set is empty"):
        score_row(approach="a", model="m", protocol="p", level="track", y_true=[], y_pred=[],
                  groups=[], fit_seconds=0, predict_seconds=0)


def test_aggregate_tracks_soft_vote():
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    tracks, mean, pred = aggregate_tracks(proba, ["b", "a", "a", "b"], ["x", "y"])
    assert list(tracks) == ["a", "b"]
    np.testing.assert_allclose(mean, [[0.25, 0.75], [0.75, 0.25]])
    assert list(pred) == ["y", "x"]


def test_parts_collect_and_metrics(tmp_path):
    def row(approach, model, acc):
        return dict(approach=approach, model=model, protocol="track_grouped", level="clip", accuracy=acc,
                    macro_f1=acc, ci_low=acc - 0.1, ci_high=acc + 0.1, n_test=10, fit_seconds=1.0, predict_seconds=0.1)

    write_part([row("b", "m1", 0.5)], "b", tmp_path / "parts")
    write_part([row("a", "m2", 0.7), row("a", "m1", 0.6)], "a", tmp_path / "parts")
    with pytest.raises(DataError, match="written to the part"):
        write_part([row("c", "m", 0.1)], "a", tmp_path / "parts")
    table = collect_scores(tmp_path / "parts", tmp_path / "scores.csv")
    assert list(table.columns) == SCORE_COLUMNS
    assert list(table["approach"]) == ["a", "a", "b"] and list(table["model"][:2]) == ["m1", "m2"]
    assert pd.read_csv(tmp_path / "scores.csv").shape == (3, len(SCORE_COLUMNS))
    metrics = write_metrics(table, tmp_path / "metrics")
    assert {approach: json.loads((tmp_path / "metrics" / f"{approach}.json").read_text()) for approach in "ab"} == metrics
    assert metrics["a"] == {}  # rows without selection scores: nothing selected
    with pytest.raises(DataError, match="no result parts"):
        collect_scores(tmp_path / "empty", tmp_path / "x.csv")


def test_write_predictions(tmp_path):
    preds = pd.DataFrame({"approach": "a", "model": "m", "protocol": "p", "level": "segment",
                          "track_id": ["t1", "t1"], "segment": [0, 1], "y_true": ["x", "x"], "y_pred": ["x", "y"]})
    out = write_predictions(preds, "a", tmp_path)
    back = pd.read_parquet(out)
    assert list(back["segment"]) == [0, 1] and list(back["y_pred"]) == ["x", "y"]
    with pytest.raises(DataError, match="lack columns"):
        write_predictions(preds.drop(columns="segment"), "a", tmp_path)


def test_the_grouped_bootstrap_of_balanced_accuracy_and_macro_f1_scores_draws_as_sklearn_does():
    from sklearn.metrics import balanced_accuracy_score, f1_score

    from genrelab.evaluation.results import CONFUSION_METRICS

    rng = np.random.default_rng(1)
    y_true = rng.choice(["a", "b", "c", "d"], size=60).astype(object)
    y_pred = np.where(rng.random(60) < 0.6, y_true, rng.choice(["a", "b", "c", "e"], size=60)).astype(object)
    labels = ["a", "b", "c", "d", "e"]
    M = np.zeros((1, 5, 5))
    for t, p in zip(y_true, y_pred):
        M[0, labels.index(t), labels.index(p)] += 1
    assert CONFUSION_METRICS["macro_f1"](M)[0] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    with pytest.warns(UserWarning, match="y_pred contains classes not in y_true"):
        expected = balanced_accuracy_score(y_true, y_pred)
    assert CONFUSION_METRICS["balanced_accuracy"](M)[0] == pytest.approx(expected)
    groups = np.repeat(np.arange(12), 5)
    low, high = bootstrap_ci(y_true, y_pred, groups, metric="macro_f1", seed=0)
    assert 0 <= low <= f1_score(y_true, y_pred, average="macro") <= high <= 1


def _candidates(**select) -> pd.DataFrame:
    """Rows of one approach under one protocol: model -> (level, select_score, select_std, test accuracy)."""
    rows = [{"approach": "a", "protocol": "p", "model": m, "level": lvl, "select_score": s, "select_std": sd,
             "accuracy": acc} for m, (lvl, s, sd, acc) in select.items()]  # fmt: skip
    return pd.DataFrame(rows)


def test_mark_selected_picks_by_selection_score_never_by_test_score():
    table = _candidates(a=("track", 0.80, 0.02, 0.99), b=("clip", 0.85, 0.05, 0.50), c=("segment", 0.7, 0.0, 0.9),
                        d=("track", float("nan"), float("nan"), 1.0))  # fmt: skip
    marked = mark_selected(table).set_index("model")["selected"]
    assert marked.to_dict() == {"a": False, "b": True, "c": True, "d": False}  # b wins track scope, c segment scope


def test_mark_selected_breaks_ties_by_spread_then_name_and_selects_nothing_without_scores():
    tie = mark_selected(_candidates(z=("track", 0.8, 0.01, 0.5), y=("track", 0.8, 0.03, 0.9), x=("clip", 0.8, 0.01, 0.7)))
    assert tie.set_index("model")["selected"].to_dict() == {"z": False, "y": False, "x": True}
    none = mark_selected(_candidates(a=("track", float("nan"), float("nan"), 0.9)))
    assert not none["selected"].any()


def test_selection_per_approach_and_protocol():
    table = pd.concat([_candidates(a=("track", 0.8, 0, 0.5), b=("track", 0.7, 0, 0.9)).assign(protocol=p)
                       for p in ("p", "q")] + [_candidates(c=("track", 0.1, 0, 0.1)).assign(approach="other")])
    selected = mark_selected(table.reset_index(drop=True))
    picked = selected[selected["selected"]][["approach", "protocol", "model"]].values.tolist()
    assert sorted(picked) == [["a", "p", "a"], ["a", "q", "a"], ["other", "p", "c"]]


DEMO_APPROACHES = ["audio_features", "spectrogram_pixels", "spectrogram_hog", "spectrogram_shelf", "cnn_scratch",
                   "cnn_transfer", "musicnn_embeddings", "musicnn_finetune"]  # fmt: skip
DEMO_PROTOCOLS = ["random_segment", "track_grouped", "artist_grouped"]


def _demo_results() -> pd.DataFrame:
    """A results table shaped like the demo run's: every approach, protocol, level and a few models,
    with the test accuracy high where the selection score is low (so selecting by test would show)."""
    rng = np.random.default_rng(0)
    rows = []
    for approach in DEMO_APPROACHES:
        for protocol in DEMO_PROTOCOLS:
            for model in ("m1", "m2", "a-long-model-name[with=options]"):
                for level in ("segment", "track", "clip"):
                    select = float(rng.uniform(0.3, 0.99))
                    rows.append({"approach": approach, "model": model, "protocol": protocol, "level": level,
                                 "accuracy": 1.0 - select / 3, "select_score": select,
                                 "select_std": float(rng.uniform(0, 0.05))})  # fmt: skip
    return mark_selected(pd.DataFrame(rows).reindex(columns=SCORE_COLUMNS))


def test_metrics_hold_the_selected_track_level_entries_only(tmp_path):
    table = _demo_results()
    metrics = write_metrics(table, tmp_path)
    assert sorted(metrics) == sorted(DEMO_APPROACHES)
    track = table[table["selected"] & table["level"].isin(["track", "clip"])]
    for approach, figures in metrics.items():
        assert json.loads((tmp_path / f"{approach}.json").read_text()) == figures
        expected = {r.protocol: round(r.accuracy, 4) for r in track[track["approach"] == approach].itertuples()}
        assert figures == expected and len(expected) == len(DEMO_PROTOCOLS)
    assert write_metrics(table.iloc[:0], tmp_path, approaches=["none"]) == {"none": {}}


def test_dvc_metrics_show_of_the_demo_metrics_fits_200_columns(tmp_path):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    dvc = Path(sys.executable).parent / "dvc"
    if not dvc.exists() and not shutil.which("dvc"):
        pytest.skip("needs the dvc command")
    write_metrics(_demo_results(), tmp_path / "metrics" / "models")
    env = {**__import__("os").environ, "DVC_NO_ANALYTICS": "1"}
    subprocess.run([str(dvc), "init", "--no-scm", "-q"], cwd=tmp_path, check=True, env=env)
    out = subprocess.run([str(dvc), "metrics", "show", "-R", "metrics/models"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    lines = out.splitlines()
    assert len(lines) == 1 + len(DEMO_APPROACHES)  # a header, then one row per approach
    assert lines[0].split() == ["Path", "artist_grouped", "random_segment", "track_grouped"]
    assert max(map(len, lines)) < 200, "\n" + out


def test_the_committed_metrics_fit_200_columns_and_use_the_shared_keys():
    import json
    import subprocess
    from pathlib import Path

    from genrelab.evaluation.splits import PROTOCOLS
    from genrelab.stages.common import HEADLINE_KEYS

    root = Path(__file__).resolve().parents[1]
    for path in sorted((root / "metrics").rglob("*.json")):
        figures = json.loads(path.read_text())
        assert set(figures) <= set(HEADLINE_KEYS) | set(PROTOCOLS), path
        assert all(isinstance(v, (int, float)) for v in figures.values()), path
    dvc = root / ".venv/bin/dvc"
    if not dvc.exists():
        pytest.skip("needs the project's dvc (make setup)")
    out = subprocess.run([str(dvc), "metrics", "show"], cwd=root, capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "DVC_NO_ANALYTICS": "1"}).stdout  # fmt: skip
    assert len(out.splitlines()) == 1 + len(list((root / "metrics").rglob("*.json")))
    assert max(map(len, out.splitlines())) <= 200, "\n" + out


def test_a_stage_headline_outside_the_shared_keys_is_refused(tmp_path):
    from genrelab.stages.common import write_stage_metrics

    with pytest.raises(ValueError, match=r"\['tracks_found'\]"):
        write_stage_metrics({"a": 1}, {"tracks_found": 3}, tmp_path / "m.json", tmp_path / "s.json")
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "s.json").exists()
    write_stage_metrics({"tracks_found": 3, "genres": 2}, {"tracks": 3, "artist_grouped": 0.5}, tmp_path / "m.json",
                        tmp_path / "s.json")  # fmt: skip
    assert json.loads((tmp_path / "m.json").read_text()) == {"artist_grouped": 0.5, "tracks": 3}
    assert json.loads((tmp_path / "s.json").read_text()) == {"genres": 2, "tracks_found": 3}
