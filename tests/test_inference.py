"""The shipped-model rule, the recommender's artist filter and precision@k, the file-level pieces
of predict and serve: fast tests on small synthetic inputs (the pipeline run is in test_predict_pipeline)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from genrelab.config import section
from genrelab.data import dedup
from genrelab.errors import AudioError, DataError
from genrelab.inference.export import select_model
from genrelab.inference.inputs import AudioFile, file_inputs
from genrelab.inference.recommend import RecommendIndex, neighbour_genres, precision_table


def scores(rows):
    columns = ["approach", "model", "protocol", "level", "select_score", "select_std", "accuracy", "predict_seconds"]
    return pd.DataFrame(rows, columns=columns).assign(macro_f1=0.5, ci_low=0.4, ci_high=1.0, n_test=10)


NAN = float("nan")
SCORES = scores([
    ("musicnn_embeddings", "a", "artist_grouped", "track", 0.9, 0.02, 0.7, 0.5),
    ("musicnn_embeddings", "b", "artist_grouped", "track", 0.9, 0.02, 0.8, 0.1),  # a tie: by name, not time or test
    ("audio_features", "c", "artist_grouped", "track", 0.9, 0.05, 0.99, 0.01),  # a wider spread, the best test score
    ("audio_features", "c", "artist_grouped", "clip", 0.99, 0.0, 0.99, 0.01),  # clip level: not servable
    ("audio_features", "f", "artist_grouped", "track", NAN, NAN, 1.0, 0.01),  # no selection score: never chosen
    ("spectrogram_hog", "d", "artist_grouped", "track", 0.99, 0.0, 0.9, 0.01),  # not a servable approach
    ("cnn_scratch", "e", "track_grouped", "track", 0.99, 0.0, 0.9, 0.01),  # a leakier protocol
])


def test_the_rule_takes_the_most_honest_protocol_then_the_selection_score_then_the_name():
    chosen = select_model(SCORES, section("predict"))
    assert (chosen["approach"], chosen["model"], chosen["protocol"]) == ("musicnn_embeddings", "a", "artist_grouped")
    timed_again = SCORES.assign(predict_seconds=SCORES["predict_seconds"][::-1].to_numpy())  # timings differ per run
    assert select_model(timed_again, section("predict"))["model"] == "a"
    retested = SCORES.assign(accuracy=1 - SCORES["accuracy"])  # test scores play no part
    assert select_model(retested, section("predict"))["model"] == "a"


def test_params_pin_approach_protocol_and_honesty_order():
    pinned = select_model(SCORES, section("predict", {"approach": "audio_features"}))
    assert (pinned["model"], pinned["level"]) == ("c", "track")
    assert select_model(SCORES, section("predict", {"protocol": "track_grouped"}))["model"] == "e"
    assert select_model(SCORES, section("predict", {"honesty": ["track_grouped", "artist_grouped"]}))["model"] == "e"
    with pytest.raises(DataError, match="no track-level row"):
        select_model(SCORES, section("predict", {"approach": "cnn_scratch", "protocol": "artist_grouped"}))
    with pytest.raises(DataError, match="no track-level row"):
        select_model(SCORES, section("predict", {"model": "f"}))


def test_the_card_names_the_commit(tmp_path):
    from conftest import ROOT
    from genrelab.inference.export import study_commit

    commit = study_commit(ROOT)
    assert len(commit["sha"]) == 40 and isinstance(commit["dirty"], bool)
    assert study_commit(tmp_path) == {"sha": "unknown (no git commit here)", "dirty": None}


def index_of(vectors, artists, groups=None, genres=None):
    n = len(vectors)
    tracks = pd.DataFrame({
        "track_id": [f"t{i}" for i in range(n)], "genre": genres or ["g"] * n, "artist": artists,
        "dup_group": groups or [f"t{i}" for i in range(n)], "path": [f"t{i}.wav" for i in range(n)],
    })  # fmt: skip
    prints = np.zeros((n, 4, 2), dtype=np.float16)
    return RecommendIndex({"space": "test"}, ".", tracks, np.asarray(vectors, np.float32), prints, 0.9)


def test_the_artist_filter_drops_the_artist_and_the_artists_of_duplicates():
    # t0 (artist a) duplicates t1 (artist b): neither a nor b may be recommended for t0.
    index = index_of([[0, 0], [0.1, 0], [0.2, 0], [0.3, 0], [5, 5], [6, 6]], ["a", "b", "a", "b", "c", "d"],
                     groups=["t0", "t0", "t2", "t3", "t4", "t5"])  # fmt: skip
    assert index.query([0, 0], 2)["track_id"].tolist() == ["t0", "t1"]
    found = index.query(index.vectors[0], 2, index.corpus_exclusions(0))
    assert found["track_id"].tolist() == ["t4", "t5"]
    assert (np.diff(found["distance"]) >= 0).all()


def test_a_query_returns_k_tracks_whenever_enough_survive_the_filter():
    index = index_of(np.arange(20, dtype=float).reshape(10, 2), list("aaaaabbbbb"))
    exclude = index.tracks["artist"].eq("a").to_numpy()
    found = index.query(index.vectors[0], 5, exclude)
    assert len(found) == 5 and set(found["artist"]) == {"b"}
    assert len(index.query(index.vectors[0], 8, exclude)) == 5  # only five are left


def test_precision_at_k_counts_neighbours_of_the_query_genre():
    # Two tight clusters by artist; genre x spans both artists a and b.
    vectors = [[0, 0], [0.1, 0.1], [10, 10], [10.1, 10.1], [30, 30], [30.1, 30.1]]
    index = index_of(vectors, ["a", "a", "b", "b", "c", "c"], genres=["x", "x", "x", "x", "y", "y"])
    splits = pd.DataFrame({"track_id": index.tracks["track_id"], "track_grouped": ["test", "train"] * 3})
    rows = neighbour_genres(index, splits, None, 1, artist_filter=False)
    assert (rows["genre"] == rows["neighbour_genre"]).all()  # each one's twin
    filtered = neighbour_genres(index, splits, None, 1, artist_filter=True)
    assert filtered.set_index("query")["neighbour_genre"].to_dict() == {
        "t0": "x", "t1": "x", "t2": "x", "t3": "x", "t4": "x", "t5": "x"}  # y's only other artist is far
    table = precision_table(index, splits, ["random_segment", "track_grouped"], k=1, n_boot=200)
    assert table["queries"].tolist() == ["all tracks, leave one out"] * 2 + ["track_grouped"] * 2
    assert table["precision"].round(3).tolist() == [1.0, round(4 / 6, 3), 1.0, round(2 / 3, 3)]
    assert (table["ci_low"] <= table["precision"]).all() and (table["precision"] <= table["ci_high"]).all()


def test_a_file_is_found_as_a_copy_of_its_corpus_track(tmp_path):
    rng = np.random.default_rng(0)
    sr = 22050
    clips = [(rng.standard_normal(sr * 6) * np.repeat(rng.random(60), sr // 10)).astype(np.float32) for _ in range(3)]
    bands = [dedup.fingerprint(y, sr).bands for y in clips]
    prints = np.stack(bands).astype(np.float16)
    index = index_of([[0, 0], [1, 1], [2, 2]], ["a", "b", "c"])
    index.fingerprints = prints
    copy = tmp_path / "copy.wav"
    sf.write(copy, np.r_[np.zeros(sr // 4, np.float32), 0.5 * clips[1]], sr)  # later and quieter
    assert index.duplicates_of(AudioFile(copy)).tolist() == [1]
    mask, copies = index.file_exclusions(AudioFile(copy), artist=" C ")
    assert copies == ["t1"] and mask.tolist() == [False, True, True]


def test_similarity_to_is_one_row_of_cross_similarity():
    rng = np.random.default_rng(1)
    bands = [rng.standard_normal((40, 4)).astype(np.float32) for _ in range(4)]
    bands[2] = np.roll(bands[0], 3, axis=0)
    full, _ = dedup.cross_similarity(bands, 5)
    for i in range(4):
        np.testing.assert_allclose(dedup.similarity_to(bands[i], np.stack(bands), 5), full[i], atol=1e-6)


def test_a_short_file_gets_a_clear_error(tmp_path):
    path = tmp_path / "blip.wav"
    sf.write(path, np.zeros(22050, np.float32), 22050)
    features = {"columns": [], "segment_seconds": 3.0, "sample_rate": 22050}
    with pytest.raises(AudioError, match=r"blip.wav: 1.00 s of audio is shorter than half a 3 s segment"):
        file_inputs(AudioFile(path), "audio_features", features)
    with pytest.raises(DataError, match="cannot be served"):
        file_inputs(AudioFile(path), "spectrogram_hog", features)


def test_the_artist_tag_is_read_from_the_header(tmp_path):
    import mutagen

    from genrelab.data.tags import artist_tag

    path = tmp_path / "song.flac"
    sf.write(path, np.zeros(2205, np.float32), 22050)
    assert artist_tag(path) is None
    tags = mutagen.File(str(path), easy=True)
    tags["artist"] = "  Some   Band "
    tags.save()
    assert artist_tag(path) == "Some Band"
    (tmp_path / "junk.mp3").write_bytes(b"not audio")
    assert artist_tag(tmp_path / "junk.mp3") is None


def test_tensorflow_loads_without_its_start_up_lines():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", "import genrelab.approaches.cnn_inputs as c; print(c.tf.__version__)"],
                            env=env, capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0 and result.stdout.strip()
    assert result.stderr == ""  # no "oneDNN custom operations are on" notice
