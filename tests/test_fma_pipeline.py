"""The whole study with ``data.source: fma``: `dvc repro` on an FMA-shaped corpus (tracks.csv in the
real format, MP3s at 44.1 kHz, FMA's broken clips), in the tiny profile, book included."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest

from conftest import BIN, FMA_PROTOCOLS, pipeline_env
from genrelab.data.manifest import read_manifest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(built_fma_project):
    return built_fma_project[0]


@pytest.fixture(scope="module")
def fixture(built_fma_project):
    return built_fma_project[1]


def test_every_approach_is_scored_under_fmas_official_split(project):
    scores = pd.read_csv(project / "results/scores.csv")
    assert scores["approach"].nunique() == 8
    for approach, rows in scores.groupby("approach"):
        assert set(rows["protocol"]) == set(FMA_PROTOCOLS), approach
    official = scores[(scores["protocol"] == "fma_official") & (scores["level"] == "track")]
    assert (official["n_test"] == 8).all()  # the test artists' tracks: 2 of 6 per genre, 4 genres


def test_the_broken_clips_are_found_by_reading_and_counted(project, fixture):
    manifest = read_manifest(project / "data/interim/manifest.csv").set_index("track_id")
    assert sorted(manifest.index[manifest["status"] == "ok"]) == sorted(fixture.good)
    assert set(manifest.index[manifest["status"] == "excluded"]) == {fixture.empty, fixture.short}
    metrics = json.loads((project / "results/stages/prepare.json").read_text())
    assert (metrics["tracks_found"], metrics["tracks_used"], metrics["tracks_excluded"]) == (26, 24, 2)
    chapter = next((project / "book/_build/html").rglob("01-data.html")).read_text()
    assert f"fma_small/009/{fixture.empty}.mp3" in chapter and f"fma_small/009/{fixture.short}.mp3" in chapter


def test_the_split_table_holds_the_official_split_and_artist_ids(project, fixture):
    splits = pd.read_csv(project / "data/interim/splits.csv", dtype=str, keep_default_na=False).set_index("track_id")
    tracks = fixture.tracks.set_axis([f"{i:06d}" for i in fixture.tracks.index])
    expected = tracks[("set", "split")].map({"training": "train", "validation": "valid", "test": "test"})
    assert splits["fma_official"].to_dict() == expected.reindex(splits.index).to_dict()
    assert splits["artist"].to_dict() == tracks[("artist", "id")].astype(str).reindex(splits.index).to_dict()


def test_the_book_names_fma_and_the_shipped_model_is_scored_under_its_split(project):
    intro = (project / "book/_build/html/intro.html").read_text()
    assert "Free Music Archive" in intro and "generated demo corpus" not in intro
    card = json.loads((project / "models/predict/card.json").read_text())
    assert card["protocol"] == "fma_official"
    assert (project / "data/spectrograms/png/Old-Time - Historic").is_dir()  # FMA's genre with a slash


def test_predict_answers_for_an_fma_mp3(project, fixture):
    mp3 = project / "data/raw" / f"fma_small/000/{fixture.good[0]}.mp3"
    result = subprocess.run([str(BIN / "genrelab"), "predict", str(mp3), "--json"], cwd=project, env=pipeline_env(),
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    genres = {"Hip-Hop", "Electronic", "Rock", "Old-Time / Historic"}
    assert {g["genre"] for g in answer["files"][0]["top"]} <= genres
