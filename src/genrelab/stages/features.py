"""The ``features`` stage: the 57 GTZAN-table features of every usable track (its tables' readers: :mod:`genrelab.features.tables`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from genrelab.features.tables import FEATURES, TABLES, feature_columns, read_feature_table  # noqa: F401  (the notebooks read them here)
from genrelab.stages.common import INTERIM, METRICS, SUMMARIES, refuse_failures, write_stage_metrics


def run_features(params: dict, *, out_dir: Path = FEATURES, cache_dir: Path = Path(".cache/features"),
                 metrics_path: Path = METRICS / "features.json",
                 summary_path: Path = SUMMARIES / "features.json", progress: bool = True) -> dict[str, pd.DataFrame]:
    """The 57 GTZAN-table features of every usable track, per clip and per segment.

    Writes ``features_30_sec/`` and ``features_3_sec/`` (named after the public tables even when
    ``prepare.segment_seconds`` is not 3): Parquet shards of ``features.shard_tracks`` tracks each,
    written as each shard's tracks finish, with a ``label`` column from the manifest. The per-track
    cache lives outside DVC's outputs, so an interrupted run resumes. Returns the tables read back.
    """
    from genrelab.data.checks import write_problems
    from genrelab.data.manifest import read_manifest, usable_tracks
    from genrelab.data.shards import ShardWriter
    from genrelab.features.gtzan57 import duplicate_feature_rows, extract_tables, split_filenames
    from genrelab.parallel import configured

    manifest = usable_tracks(read_manifest(INTERIM / "manifest.csv"))
    paths = [Path(params["data"]["root"]) / p for p in manifest["path"]]
    genre_of = manifest.set_index("track_id")["genre"]
    seconds = {"clip": 30.0, "segment": params["prepare"]["segment_seconds"]}
    shard = params["features"]["shard_tracks"]
    writers = {level: ShardWriter(out_dir / name) for level, name in TABLES.items()}
    problems, failed = [], []
    for start in range(0, max(len(paths), 1), shard):
        with configured(params["parallel"]):
            extracted = extract_tables(paths[start : start + shard], segment_seconds=(seconds["clip"], seconds["segment"]),
                                       jobs=params["features"]["jobs"], cache_dir=cache_dir, progress=progress,
                                       min_seconds=seconds["segment"])  # fmt: skip
        problems += extracted.problems
        failed += extracted.failed
        for level, writer in writers.items():
            table = extracted.tables[seconds[level]]
            ids = split_filenames(table["filename"], segmented=level == "segment")["track_id"]
            table["label"] = genre_of.reindex(ids.to_numpy(dtype=object)).to_numpy(dtype=object)
            writer.write(table)
            schema = table
    for writer in writers.values():
        writer.close(schema)
    write_problems(problems, out_dir / "problems.csv")
    tables = {level: read_feature_table(level, out_dir) for level in TABLES}
    metrics = {"failed_files": len(failed)}
    for level, table in tables.items():
        metrics[level] = {"rows": int(len(table)), "duplicate_feature_rows": int(len(duplicate_feature_rows(table)))}
    headline = {"tracks": metrics["clip"]["rows"], "failed": metrics["failed_files"]}
    write_stage_metrics(metrics, headline, metrics_path, summary_path)
    refuse_failures(failed, "features", out_dir / "problems.csv")
    return tables
