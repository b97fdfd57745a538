"""The ``spectrograms`` stage: log-mel arrays and pictures of every usable track."""

from __future__ import annotations

from pathlib import Path

from genrelab.stages.common import INTERIM, METRICS, SUMMARIES, write_stage_metrics

SPECTROGRAMS = Path("data/spectrograms")


def run_spectrograms(params: dict, *, out_dir: Path = SPECTROGRAMS, cache_dir: Path = Path(".cache/spectrograms"),
                     metrics_path: Path = METRICS / "spectrograms.json",
                     summary_path: Path = SUMMARIES / "spectrograms.json", progress: bool = True, strict: bool = False):
    """Log-mel spectrograms of every usable track, per segment and per clip (see genrelab.features.spectrograms).

    The per-track cache lives outside DVC's outputs (DVC deletes outputs before a rerun). Tracks
    that fail to decode are left out and listed in ``out_dir/problems.csv`` (``strict``: raise,
    writing nothing).
    """
    from genrelab.data.checks import write_problems
    from genrelab.data.manifest import read_manifest
    from genrelab.features.spectrograms import compute_spectrograms
    from genrelab.parallel import configured

    manifest = read_manifest(INTERIM / "manifest.csv")
    with configured(params["parallel"]):
        result = compute_spectrograms(
            manifest, params["data"]["root"], out_dir,
            segment_seconds=params["prepare"]["segment_seconds"], cache_dir=cache_dir, progress=progress,
            strict=strict, **params["spectrograms"],
        )  # fmt: skip
    write_problems(result.problems, out_dir / "problems.csv")
    summary = {"tracks": result.n_tracks, "segments": result.n_segments, "failed_files": len(result.problems),
               "segment_shape": list(result.segment_shape), "clip_shape": list(result.clip_shape)}
    write_stage_metrics(summary, {"tracks": result.n_tracks, "failed": len(result.problems)}, metrics_path, summary_path)
    return result
