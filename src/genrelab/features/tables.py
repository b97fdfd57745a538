"""The features stage's tables on disk: where they are, which columns are features, reading them back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FEATURES = Path("data/features")
TABLES = {"clip": "features_30_sec", "segment": "features_3_sec"}  # folders of Parquet shards
NON_FEATURES = ("filename", "length", "label")


def feature_columns(table: pd.DataFrame) -> list[str]:
    """The 57 feature columns of a GTZAN-style table (everything but filename, length, label)."""
    return [c for c in table.columns if c not in NON_FEATURES]


def read_feature_table(level: str, features_dir: Path = FEATURES) -> pd.DataFrame:
    """The ``clip`` or ``segment`` table of the features stage (Parquet shards, or a CSV of that name)."""
    from genrelab.data.shards import read_table

    folder = Path(features_dir) / TABLES[level]
    path = folder if folder.is_dir() or not folder.with_suffix(".csv").is_file() else folder.with_suffix(".csv")
    return read_table(path, text=("filename", "label"))
