"""The ``features`` stage: the 57 GTZAN-table features of every usable track, and readers of its tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from genrelab.stages.common import INTERIM, METRICS, refuse_failures, write_json

FEATURES = Path("data/features")
TABLES = {"clip": "features_30_sec.csv", "segment": "features_3_sec.csv"}
NON_FEATURES = ("filename", "length", "label")


def feature_columns(table: pd.DataFrame) -> list[str]:
    """The 57 feature columns of a GTZAN-style table (everything but filename, length, label)."""
    return [c for c in table.columns if c not in NON_FEATURES]


def run_features(params: dict, *, out_dir: Path = FEATURES, cache_dir: Path = Path(".cache/features"),
                 metrics_path: Path = METRICS / "features.json", progress: bool = True) -> dict[str, pd.DataFrame]:
    """The 57 GTZAN-table features of every usable track, per clip and per segment.

    Writes ``features_30_sec.csv`` and ``features_3_sec.csv`` (named after the public tables even
    when ``prepare.segment_seconds`` is not 3) with a ``label`` column from the manifest. The
    per-track cache lives outside DVC's outputs, so an interrupted run resumes.
    """
    from genrelab.data.checks import write_problems
    from genrelab.data.manifest import read_manifest, usable_tracks
    from genrelab.features.gtzan57 import duplicate_feature_rows, extract_tables, split_filenames
    from genrelab.parallel import configured

    manifest = usable_tracks(read_manifest(INTERIM / "manifest.csv"))
    paths = [Path(params["data"]["root"]) / p for p in manifest["path"]]
    genre_of = manifest.set_index("track_id")["genre"]
    seconds = {"clip": 30.0, "segment": params["prepare"]["segment_seconds"]}
    out_dir.mkdir(parents=True, exist_ok=True)
    with configured(params["parallel"]):
        extracted = extract_tables(paths, segment_seconds=(seconds["clip"], seconds["segment"]),
                                   jobs=params["features"]["jobs"], cache_dir=cache_dir, progress=progress,
                                   min_seconds=seconds["segment"])  # fmt: skip
    write_problems(extracted.problems, out_dir / "problems.csv")
    tables, metrics = {}, {"failed_files": len(extracted.failed)}
    for level, name in TABLES.items():
        table = extracted.tables[seconds[level]]
        ids = split_filenames(table["filename"], segmented=level == "segment")["track_id"]
        table["label"] = genre_of.reindex(ids.to_numpy(dtype=object)).to_numpy(dtype=object)
        table.to_csv(out_dir / name, index=False)
        tables[level] = table
        metrics[level] = {"rows": int(len(table)), "duplicate_feature_rows": int(len(duplicate_feature_rows(table)))}
    write_json(metrics, metrics_path)
    refuse_failures(extracted.failed, "features", out_dir / "problems.csv")
    return tables


def read_feature_table(level: str, features_dir: Path = FEATURES) -> pd.DataFrame:
    return pd.read_csv(features_dir / TABLES[level], dtype={"filename": str, "label": str}, keep_default_na=False)
