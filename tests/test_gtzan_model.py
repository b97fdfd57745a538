"""The model of GTZAN's ten genres the export stage ships (models/predict_gtzan): chosen on the fault-filtered
split's valid clips only, scored once on its test clips, and answering `genrelab predict --model`.

The real-data tests run the audio_models stage's public-table run (a few models, ``fault_filtered`` only)
on the public 30 s table of shared data, then the export, into a scratch folder; they skip where the
data is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from genrelab.config import load_params
from genrelab.errors import DataError
from genrelab.evaluation.selection import OFFICIAL_SPLIT
from genrelab.inference.export import ABSENT, CARD, GTZAN_DIR, PREDICT_DIR, run_export_gtzan, shipped_folder
from genrelab.inference.inputs import clip_windows
from genrelab.inference.predict import Predictor
from genrelab.stages.audio_models import APPROACH_PUBLIC, run_public_gtzan

GTZAN_GENRES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]
# A few quick models of the zoo, so that there is a choice to make.
ZOO = {"logreg_l2": {"C": 1.0}, "knn": {"grid": {"n_neighbors": [5, 15]}, "inner_folds": 3}, "svm_rbf": {"C": 10.0},
       "random_forest": {"n_estimators": 30, "n_jobs": 1}}  # fmt: skip
# The keys of the main model's card (inference.export.run_export), which the GTZAN card shares.
CARD_KEYS = {"approach", "model", "protocol", "selected_by", "selection", "refit", "model_file", "trained_on_tracks",
             "test", "classes", "features", "recommend", "commit"}  # fmt: skip


def study_params(shared: Path, table: Path) -> dict:
    params = load_params(ROOT / "params.yaml")
    params["data"].update(public_features_30s=str(table), gtzan_splits=str(shared / "gtzan-splits"),
                          gtzan_artists=str(shared / "gtzan-meta/sturm_GTZANindex.txt"))  # fmt: skip
    params["prepare"]["protocols"] = ["fault_filtered"]
    params["audio_models"]["models"] = ZOO
    return params


def export(params: dict, root: Path) -> tuple[dict | None, pd.DataFrame]:
    """The public-table run of the audio_models stage, then the GTZAN export, under ``root``: (card, the run's rows)."""
    root.mkdir(parents=True, exist_ok=True)
    run_public_gtzan(params, out=root / "public.csv", models_dir=root / APPROACH_PUBLIC, progress=False)
    card, _ = run_export_gtzan(root / "public.csv", root / APPROACH_PUBLIC, APPROACH_PUBLIC,
                               params["data"]["gtzan_splits"], out_dir=root / "predict_gtzan")  # fmt: skip
    return card, pd.read_csv(root / "public.csv")


def public_table(params: dict):
    from genrelab.evaluation.public_tables import load_public_table

    d = params["data"]
    return load_public_table(d["public_features_30s"], artists_path=d["gtzan_artists"], splits_dir=d["gtzan_splits"],
                             protocols=["fault_filtered"])  # fmt: skip


@pytest.fixture(scope="module")
def exported(shared_data, tmp_path_factory):
    params = study_params(shared_data, shared_data / "kaggle/features_30_sec.csv")
    root = tmp_path_factory.mktemp("gtzan_export")
    card, rows = export(params, root)
    return params, root, card, rows


def test_the_card_gives_the_fault_filtered_test_score_of_the_shipped_model(exported):
    params, root, card, rows = exported
    assert CARD_KEYS <= set(card) and "GTZAN" in card["data"]["dataset"] and card["data"]["limits"]
    assert card["protocol"] == "fault_filtered" and card["classes"] == GTZAN_GENRES
    test = card["test"]
    assert 0 <= test["ci_low"] <= test["accuracy"] <= test["ci_high"] <= 1
    X, y, track_rows, splits = public_table(params)
    subsets = splits.set_index("track_id")["fault_filtered"].reindex(track_rows["track_id"]).to_numpy()
    assert test["n_test"] == (subsets == "test").sum() == 290
    assert card["trained_on_tracks"] == np.isin(subsets, ["train", "valid"]).sum() == 443 + 197
    # The shipped file is the fit the test scored: it gets the card's accuracy on the test clips.
    predictor = Predictor.load(root / "predict_gtzan")
    test_rows = subsets == "test"
    shipped = np.mean(predictor.model.predict(X.to_numpy()[test_rows]) == y[test_rows])
    assert shipped == pytest.approx(test["accuracy"])
    # Chosen by the valid clips' accuracy: the best selection score of the run, whatever the test says.
    assert card["selection"]["method"] == OFFICIAL_SPLIT and card["selection"]["folds"] == 1
    assert card["selection"]["score"] == pytest.approx(rows["select_score"].max())
    assert rows.loc[rows["select_score"].idxmax(), "model"] == card["model"]


def relabelled(table: Path, track_ids, out: Path, seed: int) -> Path:
    """A copy of the public table with the labels of ``track_ids`` shuffled among them."""
    rows = pd.read_csv(table)
    picked = rows["filename"].str.removesuffix(".wav").isin(set(track_ids))
    rows.loc[picked, "label"] = np.random.default_rng(seed).permutation(rows.loc[picked, "label"].to_numpy())
    rows.to_csv(out, index=False)
    return out


def test_the_choice_reads_the_valid_labels_and_never_the_test_labels(exported, shared_data, tmp_path):
    params, _, card, rows = exported
    _, _, _, splits = public_table(params)
    table = Path(params["data"]["public_features_30s"])
    runs = {}
    for subset in ("test", "valid"):
        tracks = splits.loc[splits["fault_filtered"] == subset, "track_id"]
        shuffled = relabelled(table, tracks, tmp_path / f"{subset}.csv", seed=1)
        runs[subset] = export(study_params(shared_data, shuffled), tmp_path / subset)
    blind_card, blind_rows = runs["test"]
    pd.testing.assert_series_equal(blind_rows["select_score"], rows["select_score"])  # every candidate's
    assert (blind_card["model"], blind_card["selection"]) == (card["model"], card["selection"])
    assert blind_card["test"]["accuracy"] != card["test"]["accuracy"]  # while the test did see the change
    seeing_card, seeing_rows = runs["valid"]
    assert not np.allclose(seeing_rows["select_score"], rows["select_score"])  # the valid clips do choose


def test_predict_answers_a_real_gtzan_clip_with_a_gtzan_genre(exported, shared_data, capsys):
    from genrelab.cli import main

    _, root, card, _ = exported
    clips = [shared_data / "gtzan-mini/metal/metal.00002.wav", shared_data / "fma-samples/000002.mp3"]
    assert main(["predict", "--model", str(root / "predict_gtzan"), *map(str, clips), "--json", "--top", "3"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert "on GTZAN's 10 genres" in answer["model"] and card["model"] in answer["model"]
    assert [Path(f["file"]).name for f in answer["files"]] == ["metal.00002.wav", "000002.mp3"]
    for item in answer["files"]:
        assert set(item["probabilities"]) == set(GTZAN_GENRES) and item["top"][0]["genre"] in GTZAN_GENRES
        assert sum(item["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


def test_a_gtzan_clips_input_is_its_public_table_row(exported, shared_data):
    from genrelab.inference.inputs import AudioFile, file_inputs

    params, root, card, _ = exported
    X, _, track_rows, _ = public_table(params)
    row = X.to_numpy()[track_rows["track_id"].to_numpy() == "jazz.00003"]
    got = file_inputs(AudioFile(shared_data / "gtzan-mini/jazz/jazz.00003.wav"), card["approach"], card["features"])
    assert got.shape == row.shape == (1, 57)
    assert np.max(np.abs(got - row) / X.std().to_numpy()) < 1e-3  # in standard deviations of each column


def test_a_file_is_cut_into_30_s_windows_the_last_to_its_end():
    sr = 22050
    assert clip_windows(661_794, sr) == [(0, 661_794)]  # a GTZAN clip: whole, as the public table measured it
    assert clip_windows(40 * sr, sr) == [(0, 40 * sr)]  # a 10 s tail is too short to be a window of its own
    assert clip_windows(50 * sr, sr) == [(0, 30 * sr - 1), (30 * sr, 50 * sr)]
    windows = clip_windows(4 * 60 * sr + 7, sr)
    assert len(windows) == 8 and windows[-1] == (7 * 30 * sr, 4 * 60 * sr + 7)


def test_without_the_public_run_export_says_why_and_writes_the_same_marker(tmp_path):
    out = tmp_path / "predict_gtzan"
    out.mkdir()
    (out / CARD).write_text("{}")  # a model of an earlier run, which must not survive
    (out / "model.joblib").write_bytes(b"old")
    empty = tmp_path / APPROACH_PUBLIC
    empty.mkdir()  # what the audio_models stage leaves without the public table
    written = []
    for _ in range(2):
        card, why = run_export_gtzan(tmp_path / "public.csv", empty, APPROACH_PUBLIC, "", out_dir=out)
        assert card is None and "data.public_features_30s" in why
        assert sorted(p.name for p in out.iterdir()) == [ABSENT]
        written.append((out / ABSENT).read_bytes())
    assert written[0] == written[1]  # the DVC output is the same for the same inputs
    with pytest.raises(DataError, match="no GTZAN model shipped.*data.public_features_30s"):
        Predictor.load(out)


def test_the_model_option_takes_a_shipped_name_or_a_folder():
    assert shipped_folder("gtzan") == GTZAN_DIR and shipped_folder("main") == PREDICT_DIR
    assert shipped_folder("some/where") == Path("some/where")
