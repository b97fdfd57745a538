"""The shipped model and the tools on it, after `dvc repro` on the tiny corpus: export, predict,
recommend and the serve app (its browser test is in test_serve_browser)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from conftest import BIN, pipeline_env

SHIPPED = {"main": "models/predict", "gtzan": "models/predict_gtzan"}  # gtzan: where ../shared/data has the public table

pytestmark = pytest.mark.slow


def genrelab(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "genrelab"), *args], cwd=project, env=pipeline_env(), capture_output=True, text=True)


@pytest.fixture(scope="module")
def card(built_project) -> dict:
    return json.loads((built_project / "models/predict/card.json").read_text())


def test_export_ships_the_rules_choice_with_its_honest_score(built_project, card):
    from genrelab.config import SERVABLE_APPROACHES, load_params
    from genrelab.evaluation.results import read_scores
    from genrelab.inference.export import select_model

    params = load_params(built_project / "params.yaml")
    scores = read_scores(built_project / "results/scores.csv")
    row = select_model(scores, params["predict"])
    assert (card["approach"], card["model"], card["protocol"]) == (row["approach"], row["model"], row["protocol"])
    # Chosen by selection score, never by test score: no servable track row under the protocol scores higher.
    rivals = scores[(scores["level"] == "track") & (scores["protocol"] == card["protocol"])
                    & scores["approach"].isin(SERVABLE_APPROACHES)]  # fmt: skip
    assert card["selection"]["score"] == pytest.approx(rivals["select_score"].max())
    assert card["selection"]["method"] == row["select_by"] and "selection score" in card["selected_by"]
    assert card["test"]["accuracy"] == pytest.approx(row["accuracy"]) and card["test"]["n_test"] == row["n_test"]
    assert card["refit"] and card["trained_on_tracks"] == len(pd.read_csv(built_project / "data/interim/splits.csv"))
    assert card["commit"] == {"sha": "unknown (no git commit here)", "dirty": None}  # the scratch copy has no commit
    assert json.loads((built_project / "results/stages/export.json").read_text())["model"] == card["model"]


@pytest.mark.parametrize("approach", ["audio_features", "musicnn_embeddings", "musicnn_finetune", "cnn_scratch"])
def test_a_files_input_is_the_row_the_model_was_trained_on(built_project, approach):
    """What predict computes from a file equals the stage output the refit trained on."""
    from genrelab import models
    from genrelab.config import load_params
    from genrelab.inference.inputs import AudioFile, complete_features, corpus_inputs, file_inputs

    project = built_project
    saved = models.load(next(p for p in sorted((project / "models" / approach).glob("*__segment.*")) if p.suffix != ".json"))
    features = complete_features(approach, saved.features, load_params(project / "params.yaml"), project / "data/spectrograms")
    X, index = corpus_inputs(approach, features, features_dir=project / "data/features",
                             embeddings_dir=project / "data/embeddings", spectrograms_dir=project / "data/spectrograms")
    track = index["track_id"].iloc[0]
    manifest = pd.read_csv(project / "data/interim/manifest.csv", dtype=str)
    path = project / "data/raw" / manifest.set_index("track_id").at[track, "path"]
    rows = np.asarray(X)[index["track_id"].to_numpy(dtype=object) == track]
    np.testing.assert_allclose(file_inputs(AudioFile(path), approach, features), rows, rtol=1e-4, atol=1e-4)


def test_predict_answers_every_readable_file_and_names_the_others(built_project, card, tmp_path):
    short, corrupt = tmp_path / "short.wav", tmp_path / "corrupt.mp3"
    sf.write(short, np.zeros(11025, np.float32), 22050)
    corrupt.write_bytes(b"ID3" + bytes(200))
    result = genrelab(built_project, "predict", "data/raw", str(short), str(corrupt), "--json", "--top", "2")
    assert result.returncode == 1, result.stderr
    assert "short.wav: 0.50 s of audio is shorter" in result.stderr and "corrupt.mp3: cannot decode" in result.stderr
    answer = json.loads(result.stdout)
    assert "measured track accuracy" in answer["model"]
    manifest = pd.read_csv(built_project / "data/interim/manifest.csv", dtype=str)
    assert len(answer["files"]) == len(manifest)
    for item in answer["files"]:
        assert set(item["probabilities"]) == set(card["classes"]) and len(item["top"]) == 2
        assert sum(item["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    # Refitted on every track: it should name the corpus's own tracks right (a check that the
    # classes and the columns of the probabilities are not mixed up).
    right = [item["top"][0]["genre"] == Path(item["file"]).parent.name for item in answer["files"]]
    assert np.mean(right) >= 0.8


def test_predict_without_a_shipped_model_says_how_to_make_one(built_project, tmp_path):
    result = genrelab(built_project, "predict", "data/raw", "--models", str(tmp_path / "none"))
    assert result.returncode == 2 and "dvc repro export" in result.stderr


def test_recommend_never_returns_the_querys_artist_unless_asked(built_project):
    splits = pd.read_csv(built_project / "data/interim/splits.csv", dtype=str)
    manifest = pd.read_csv(built_project / "data/interim/manifest.csv", dtype=str)
    query = splits.iloc[0]
    path = "data/raw/" + manifest.set_index("track_id").at[query["track_id"], "path"]
    found = json.loads(genrelab(built_project, "recommend", path, "-k", "3", "--json").stdout)
    assert found["duplicates_in_corpus"] == [query["track_id"]]  # found by its fingerprint
    assert len(found["neighbours"]) == 3
    assert query["artist"] not in {n["artist"] for n in found["neighbours"]}
    same = json.loads(genrelab(built_project, "recommend", path, "-k", "3", "--same-artist", "--json").stdout)
    assert same["neighbours"][0]["track_id"] == query["track_id"] and same["neighbours"][0]["distance"] < 1e-3


@pytest.fixture(scope="module")
def app(built_project):
    from genrelab.config import section
    from genrelab.inference.serve import create_app, load_predictors

    predictors, _ = load_predictors(built_project / SHIPPED["main"], built_project / SHIPPED["gtzan"])
    return create_app(predictors, section("serve", {"max_upload_mb": 1.0})), built_project


def test_serve_answers_an_upload_and_keeps_nothing(app, tmp_path, monkeypatch):
    import tempfile

    flask_app, project = app
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    client = flask_app.test_client()
    assert b"Drop an audio file" in client.get("/").data
    track = next((project / "data/raw").rglob("*.wav"))
    with track.open("rb") as handle:
        response = client.post("/api/analyze", data={"audio": (handle, track.name)})
    assert response.status_code == 200, response.json
    answer = response.json
    assert answer["file"] == track.name and answer["top"][0]["genre"] == track.parent.name
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert answer["recommendations"] and all(r["audio"].startswith("/audio/") for r in answer["recommendations"])
    assert client.get(answer["recommendations"][0]["audio"]).status_code == 200
    assert client.get("/audio/..%2Fparams.yaml").status_code == 404
    assert list(tmp_path.iterdir()) == []  # the upload's folder is gone


def test_export_ships_gtzans_genres_beside_the_studys(built_project, shared_data):
    card = json.loads((built_project / "models/predict_gtzan/card.json").read_text())
    assert card["protocol"] == "fault_filtered" and len(card["classes"]) == 10 and "blues" in card["classes"]
    assert card["selection"]["method"] == "official validation split"
    summary = json.loads((built_project / "results/stages/export.json").read_text())["gtzan"]
    assert (summary["model"], summary["accuracy"]) == (card["model"], card["test"]["accuracy"])


def test_serve_answers_with_the_model_the_page_chose(app, tmp_path, shared_data):
    flask_app, project = app
    client = flask_app.test_client()
    page = client.get("/").data.decode()
    assert '<option value="main"' in page and '<option value="gtzan"' in page
    track = next((project / "data/raw").rglob("*.wav"))  # 9 s: too short for a model of 30 s clips
    pcm, sr = sf.read(track, dtype="float32")
    song = tmp_path / "song.wav"
    sf.write(song, np.concatenate([pcm, pcm]), sr)  # 18 s: one window, under the fixture's 1 MB upload cap
    with song.open("rb") as handle:
        answer = client.post("/api/analyze", data={"audio": (handle, song.name), "model": "gtzan"}).json
    assert "on GTZAN's 10 genres" in answer["model"] and "blues" in answer["probabilities"]
    assert answer["recommendations"]  # from the study's corpus, whichever model names the genres
    with track.open("rb") as handle:
        response = client.post("/api/analyze", data={"audio": (handle, track.name), "model": "gtzan"})
    assert response.status_code == 422 and "shorter than half a 30 s segment" in response.json["error"]
    with track.open("rb") as handle:
        response = client.post("/api/analyze", data={"audio": (handle, track.name), "model": "nope"})
    assert response.status_code == 400 and "choose one of main, gtzan" in response.json["error"]


def test_serve_refuses_non_audio_and_oversized_uploads(app):
    import io

    flask_app, _ = app
    client = flask_app.test_client()
    response = client.post("/api/analyze", data={"audio": (io.BytesIO(b"hello"), "notes.txt")})
    assert response.status_code == 415 and "notes.txt: not an audio file" in response.json["error"]
    response = client.post("/api/analyze", data={"audio": (io.BytesIO(b"RIFF" + bytes(100)), "fake.wav")})
    assert response.status_code == 422 and "fake.wav: cannot decode" in response.json["error"]
    response = client.post("/api/analyze", data={"audio": (io.BytesIO(bytes(2 * 1024 * 1024)), "big.wav")})
    assert response.status_code == 413 and "larger than 1 MB" in response.json["error"]
