"""The ``embeddings`` stage: musicnn embeddings of every usable track (no chapter: ``genrelab embeddings``)."""

from __future__ import annotations

from pathlib import Path

from genrelab.stages.common import INTERIM, METRICS, SUMMARIES, write_stage_metrics

EMBEDDINGS = Path("data/embeddings")


def run_embeddings(params: dict, *, out_dir: Path = EMBEDDINGS, cache_dir: Path = Path(".cache/embeddings"),
                   metrics_path: Path = METRICS / "embeddings.json",
                   summary_path: Path = SUMMARIES / "embeddings.json", progress: bool = True):
    """Per-segment and sliding-patch embeddings of every checkpoint in ``musicnn.checkpoints``.

    The per-track cache lives outside DVC's outputs (DVC deletes outputs before a rerun). Tracks
    that fail to decode are left out and listed in ``out_dir/problems.csv``.
    """
    from genrelab.data.checks import write_problems
    from genrelab.data.manifest import read_manifest
    from genrelab.parallel import configured
    from genrelab.pretrained.embeddings import compute_embeddings

    p = params["musicnn"]
    with configured(params["parallel"]):
        result = compute_embeddings(
            read_manifest(INTERIM / "manifest.csv"), params["data"]["root"], out_dir,
            checkpoints=p["checkpoints"], segment_seconds=params["prepare"]["segment_seconds"],
            hop_seconds=p["published"]["hop_seconds"], cache_dir=cache_dir, jobs=p["jobs"],
            shard_tracks=p["shard_tracks"], progress=progress,
        )  # fmt: skip
    write_problems(result.problems, out_dir / "problems.csv")
    summary = {"tracks": result.n_tracks, "segments": result.n_segments, "patches": result.n_patches,
               "tracks_computed": result.computed, "failed_files": len(result.problems),
               "checkpoints": list(p["checkpoints"])}  # fmt: skip
    write_stage_metrics(summary, {"tracks": result.n_tracks, "failed": len(result.problems)}, metrics_path, summary_path)
    return result
