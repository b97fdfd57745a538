"""Tables in Parquet shards: written a shard at a time, read back in order, or read from one CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genrelab.data.shards import ShardWriter, read_table, read_vectors, shard_paths, with_vectors
from genrelab.errors import DataError


def table(start: int, n: int) -> pd.DataFrame:
    return pd.DataFrame({"filename": [f"{i:06d}.mp3" for i in range(start, start + n)],
                         "x": np.arange(start, start + n) / 3.0, "label": ["Rock"] * n})  # fmt: skip


def test_shards_read_back_as_one_table_in_order_and_a_rerun_replaces_them(tmp_path):
    writer = ShardWriter(tmp_path / "t")
    for start in (0, 4, 8):
        writer.write(table(start, 4))
    writer.write(table(0, 0))  # an empty shard is not written
    assert (writer.shards, writer.rows) == (3, 12) and len(shard_paths(tmp_path / "t")) == 3
    pd.testing.assert_frame_equal(read_table(tmp_path / "t"), table(0, 12), check_dtype=False)
    rerun = ShardWriter(tmp_path / "t")  # fewer shards than before: none of the old ones survive
    rerun.write(table(100, 2))
    pd.testing.assert_frame_equal(read_table(tmp_path / "t"), table(100, 2), check_dtype=False)


def test_a_csv_reads_the_same_and_ids_stay_text(tmp_path):
    table(0, 5).to_csv(tmp_path / "t.csv", index=False)
    ShardWriter(tmp_path / "t").write(table(0, 5))
    from_csv = read_table(tmp_path / "t.csv", text=("filename", "label"))
    from_shards = read_table(tmp_path / "t")
    assert from_csv["filename"].iloc[0] == "000000.mp3"
    pd.testing.assert_frame_equal(from_csv, from_shards, check_dtype=False)
    np.testing.assert_array_equal(from_csv["x"].to_numpy(), from_shards["x"].to_numpy())  # float64 exact both ways


def test_an_empty_table_keeps_its_columns(tmp_path):
    writer = ShardWriter(tmp_path / "t")
    writer.close(table(0, 3))
    assert list(read_table(tmp_path / "t").columns) == ["filename", "x", "label"] and len(read_table(tmp_path / "t")) == 0


def test_vectors_come_back_exactly_and_only_the_asked_column_is_read(tmp_path):
    rng = np.random.default_rng(0)
    writer, arrays = ShardWriter(tmp_path / "e"), []
    for n in (3, 5):
        a, b = rng.normal(size=(n, 7)).astype(np.float32), rng.normal(size=(n, 2)).astype(np.float32)
        writer.write(with_vectors({"track_id": np.array([f"t{n}"] * n), "segment": np.arange(n)}, {"a": a, "b": b}))
        arrays.append(a)
    X, index = read_vectors(tmp_path / "e", "a")
    assert X.dtype == np.float32 and X.shape == (8, 7) and list(index.columns) == ["track_id", "segment"]
    np.testing.assert_array_equal(X, np.concatenate(arrays))
    with pytest.raises(DataError, match="no column 'c'"):
        read_vectors(tmp_path / "e", "c")


def test_missing_tables_name_the_path(tmp_path):
    with pytest.raises(DataError, match="nowhere: not found"):
        read_table(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: no part-\\*.parquet shards"):
        read_table(tmp_path / "empty")


def test_the_features_stage_writes_the_same_tables_in_any_number_of_shards(tmp_path, monkeypatch):
    import soundfile as sf

    from genrelab.config import load_params
    from genrelab.data.datasets import build_manifest
    from genrelab.stages.features import read_feature_table, run_features

    rng = np.random.default_rng(0)
    for i in range(5):
        path = tmp_path / "raw" / f"g{i % 2}" / f"g{i % 2}.{i:05d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, (0.1 * rng.normal(size=22050 * 4)).astype(np.float32), 22050)
    manifest, _ = build_manifest(tmp_path / "raw", "folder", progress=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/interim").mkdir(parents=True)
    manifest.to_csv(tmp_path / "data/interim/manifest.csv", index=False)
    params = load_params(Path(__file__).resolve().parents[1] / "params.yaml")
    params["data"]["root"] = str(tmp_path / "raw")  # absolute: pooled workers keep the cwd they started in
    tables = {}
    for shard in (1000, 2):
        params["features"]["shard_tracks"] = shard
        run_features(params, out_dir=tmp_path / f"f{shard}", cache_dir=tmp_path / "cache", metrics_path=tmp_path / "m.json", summary_path=tmp_path / "s.json",
                     progress=False)  # fmt: skip
        tables[shard] = {level: read_feature_table(level, tmp_path / f"f{shard}") for level in ("clip", "segment")}
    assert len(shard_paths(tmp_path / "f2" / "features_3_sec")) == 3  # 5 tracks, 2 a shard
    for level in ("clip", "segment"):
        pd.testing.assert_frame_equal(tables[2][level], tables[1000][level])
    assert len(tables[2]["clip"]) == 5 and set(tables[2]["clip"]["label"]) == {"g0", "g1"}
