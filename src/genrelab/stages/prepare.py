"""The ``prepare`` stage: manifest, problems, duplicates and the split of every track."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from genrelab.stages.common import INTERIM, METRICS, SUMMARIES, write_stage_metrics


@dataclass
class Prepared:
    """The ``prepare`` stage's tables (also written under ``data/interim``)."""

    manifest: pd.DataFrame
    problems: pd.DataFrame
    duplicates: pd.DataFrame
    splits: pd.DataFrame
    metrics: dict
    notes: list[str] = field(default_factory=list)


def run_prepare(params: dict, *, out_dir: Path = INTERIM, metrics_path: Path = METRICS / "prepare.json",
                summary_path: Path = SUMMARIES / "prepare.json",
                jobs: int = 2, progress: bool = True) -> Prepared:
    """Manifest, duplicate pairs and the split of every track under every protocol.

    Writes ``manifest.csv``, ``problems.csv``, ``duplicates.csv`` and ``splits.csv`` to ``out_dir``
    and the stage's DVC metrics to ``metrics_path``.
    """
    from genrelab.data.checks import FLAG_KINDS
    from genrelab.data.datasets import build_manifest
    from genrelab.data.dedup import duplicate_groups, find_duplicates
    from genrelab.data.manifest import usable_tracks
    from genrelab.data.sources.registry import get
    from genrelab.evaluation.splits import make_splits, official_notes
    from genrelab.parallel import configured

    data, prep = params["data"], params["prepare"]
    root, source = Path(data["root"]), data["source"]
    metadata = get(source).metadata(root, data)
    manifest, problems = build_manifest(
        root, source, segment_seconds=prep["segment_seconds"], metadata=metadata, jobs=jobs, progress=progress
    )
    with configured(params["parallel"]):
        duplicates = find_duplicates(manifest, root, near_threshold=prep["near_duplicate_threshold"], jobs=jobs,
                                     progress=progress)  # fmt: skip
    usable = usable_tracks(manifest)
    ok_ids = usable["track_id"]
    official = {metadata.split_name: metadata.official_split} if metadata.official_split is not None else {}
    notes = list(metadata.notes) + official_notes(prep["protocols"], official, metadata.split_name)
    splits = make_splits(
        manifest,
        duplicate_groups(duplicates, ok_ids),
        protocols=prep["protocols"],
        test_fraction=prep["test_fraction"],
        seed=prep["seed"],
        official=official,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest.to_csv(out_dir / "manifest.csv", index=False)
    problems.to_csv(out_dir / "problems.csv", index=False)
    duplicates.to_csv(out_dir / "duplicates.csv", index=False)
    splits.to_csv(out_dir / "splits.csv", index=False)
    metrics = {
        "tracks_found": int(len(manifest)),
        "tracks_used": int(len(ok_ids)),
        "tracks_excluded": int(len(manifest) - len(usable)),
        "tracks_flagged": int(problems.loc[problems["kind"].isin(FLAG_KINDS), "path"].nunique()),

        "genres": int(usable["genre"].nunique()),
        "duplicate_pairs_exact": int((duplicates["kind"] == "exact").sum()),
        "duplicate_pairs_near": int((duplicates["kind"] == "near").sum()),
        "duplicate_pairs_cross_label": int(duplicates["cross_label"].astype(bool).sum()),
        "max_unflagged_similarity": round(float(duplicates.attrs.get("max_unflagged_similarity", float("nan"))), 4),
    }
    headline = {"tracks": metrics["tracks_used"], "excluded": metrics["tracks_excluded"],
                "duplicates": metrics["duplicate_pairs_exact"] + metrics["duplicate_pairs_near"]}
    write_stage_metrics(metrics, headline, metrics_path, summary_path)
    return Prepared(manifest, problems, duplicates, splits, metrics, notes)
