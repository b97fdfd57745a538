"""Running the study on a public GTZAN feature table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genrelab.evaluation.public_tables import load_public_table
from genrelab.errors import DataError


def _write_table(path, filenames, labels, features):
    """A small Kaggle-style table with CRLF line ends, like the public files."""
    table = pd.DataFrame(features, columns=[f"f{i}" for i in range(features.shape[1])])
    table.insert(0, "length", 66149)
    table.insert(0, "filename", filenames)
    table["label"] = labels
    path.write_bytes(table.to_csv(index=False, lineterminator="\r\n").encode())
    return path


def _segment_table(tmp_path, n_tracks=8, n_segments=3):
    rng = np.random.default_rng(0)
    genres = np.array(["jazz", "rock"])[np.arange(n_tracks) % 2]
    names = [f"{g}.{i:05d}.{k}.wav" for i, g in enumerate(genres) for k in range(n_segments)]
    labels = np.repeat(genres, n_segments)
    return names, labels, rng.normal(size=(len(names), 4))


def test_segment_table_gives_segment_rows_and_groups_exact_duplicates(tmp_path):
    names, labels, features = _segment_table(tmp_path)
    features[7] = features[1]  # a segment of track 2 repeats one of track 0 (same genre)
    X, y, rows, splits = load_public_table(_write_table(tmp_path / "t.csv", names, labels, features))
    assert X.shape == (24, 4) and list(X.columns) == ["f0", "f1", "f2", "f3"]
    assert rows.iloc[4].to_dict() == {"track_id": "rock.00001", "segment": 1}
    assert list(y[:3]) == ["jazz"] * 3
    groups = splits.set_index("track_id")["dup_group"]
    assert groups["jazz.00002"] == groups["jazz.00000"] == "jazz.00000"
    assert (groups.drop(["jazz.00000", "jazz.00002"]).index == groups.drop(["jazz.00000", "jazz.00002"])).all()
    assert "fault_filtered" not in splits and (splits["artist"] == "").all()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda n, l: (n[:-1] + ["rock.00007.wav"], l), "mixes clip rows and 3 s segment rows"),
        (lambda n, l: (["notes.txt"] + n[1:], l), "'notes.txt' is not like"),
        (lambda n, l: (n, np.array(["jazz"] * 2 + ["rock"] + list(l[3:]), dtype=object)), "carry different labels"),
        (lambda n, l: (n[:2] + [n[0]] + n[3:], l), "appears twice"),
    ],
)
def test_malformed_tables_are_refused(tmp_path, edit, message):
    names, labels, features = _segment_table(tmp_path)
    path = _write_table(tmp_path / "t.csv", *edit(names, labels), features)
    with pytest.raises(DataError, match=message):
        load_public_table(path)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(DataError, match="missing.csv: public feature table not found"):
        load_public_table(tmp_path / "missing.csv")
    names, labels, features = _segment_table(tmp_path)
    path = _write_table(tmp_path / "t.csv", names, labels, features)
    with pytest.raises(DataError, match="train_filtered.txt: fault-filtered split list not found"):
        load_public_table(path, splits_dir=tmp_path)


@pytest.fixture(scope="module")
def gtzan(shared_data):
    return load_public_table(
        shared_data / "kaggle" / "features_30_sec.csv",
        artists_path=shared_data / "gtzan-meta" / "sturm_GTZANindex.txt",
        splits_dir=shared_data / "gtzan-splits",
    )


@pytest.mark.shared_data
def test_public_30s_table_loads_with_artists_and_fault_filtered_split(gtzan):
    X, y, rows, splits = gtzan
    assert X.shape == (1000, 57) and len(y) == len(rows) == len(splits) == 1000
    assert X.dtypes.eq(float).all() and "tempo" in X.columns and "label" not in X.columns
    assert (rows["segment"] == -1).all() and rows["track_id"].iloc[0] == "blues.00000"
    assert splits.set_index("track_id").loc["blues.00000", "artist"] == "John Lee Hooker"
    counts = splits["fault_filtered"].value_counts().to_dict()
    assert counts == {"train": 443, "valid": 197, "test": 290, "excluded": 70}


@pytest.mark.shared_data
def test_public_30s_duplicates_never_straddle(gtzan):
    _, _, _, splits = gtzan
    by_track = splits.set_index("track_id")
    assert by_track.loc["rock.00016", "dup_group"] == by_track.loc["metal.00058", "dup_group"]
    assert (splits["dup_group"] != splits["track_id"]).sum() == 14  # 14 clips repeat another
    duplicated = splits[splits.duplicated("dup_group", keep=False)]
    # random_segment ignores duplicates by design (it is the leaky baseline).
    for protocol in ("track_grouped", "artist_grouped", "fault_filtered"):
        used = duplicated[duplicated[protocol] != "excluded"]
        assert (used.groupby("dup_group")[protocol].nunique() == 1).all(), protocol


def test_the_public_table_run_saves_every_model(tmp_path):
    from genrelab.config import load_params
    from genrelab.models import load, model_path
    from genrelab.stages.audio_models import APPROACH_PUBLIC, run_public_gtzan

    rng = np.random.default_rng(1)
    genres = np.array(["jazz", "rock"])[np.arange(40) % 2]
    features = rng.normal(size=(40, 3)) + (genres == "rock")[:, None] * 3
    table = _write_table(tmp_path / "clips.csv", [f"{g}.{i:05d}.wav" for i, g in enumerate(genres)], genres, features)
    params = load_params("params.yaml")
    params["data"].update(public_features_30s=str(table), gtzan_artists="", gtzan_splits="")
    params["prepare"]["protocols"] = ["random_segment", "track_grouped"]
    params["audio_models"]["models"] = {"logreg_l2": {"C": 1.0}, "knn": {"grid": {"n_neighbors": [1, 3]}}}
    evaluation, message = run_public_gtzan(params, out=tmp_path / "scores.csv", models_dir=tmp_path / "models",
                                           progress=False)  # fmt: skip
    assert message == f"40 clips from {table}"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == sorted(
        f"{m}__{p}__clip.joblib" for m in ("logreg_l2", "knn") for p in ("random_segment", "track_grouped"))
    for (name, protocol), detail in evaluation.details.items():
        saved = load(model_path(tmp_path / "models", name, protocol, "clip"))
        assert (saved.approach, saved.features["input"]) == (APPROACH_PUBLIC, "public")
        np.testing.assert_array_equal(saved.predict_proba(features), detail.estimator.predict_proba(features))


def test_without_the_table_the_committed_results_stay(tmp_path):
    import yaml

    from genrelab.config import load_params
    from genrelab.stages.audio_models import PUBLIC_RESULTS, run_public_gtzan

    params = load_params("params.yaml")
    params["data"]["public_features_30s"] = str(tmp_path / "absent.csv")
    out = tmp_path / "scores.csv"
    out.write_text("model,accuracy\nlogreg_l2,0.7\n")
    evaluation, message = run_public_gtzan(params, out=out, models_dir=tmp_path / "models", progress=False)
    assert evaluation is None and "features_30_sec.csv" in message and "keeps the results" in message
    assert out.read_text() == "model,accuracy\nlogreg_l2,0.7\n"
    out.unlink()  # none to keep: an empty table with the results' columns, so readers still parse it
    run_public_gtzan(params, out=out, models_dir=tmp_path / "models", progress=False)
    assert pd.read_csv(out).empty and "accuracy" in pd.read_csv(out).columns
    # DVC deletes a stage's outputs before running it unless they persist.
    outs = yaml.safe_load(open("dvc.yaml"))["stages"]["audio_models"]["outs"]
    assert {"cache": False, "persist": True} == next(o for o in outs if isinstance(o, dict) and str(PUBLIC_RESULTS) in o)[str(PUBLIC_RESULTS)]
