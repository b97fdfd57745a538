"""The ``export`` stage: ships the model ``genrelab predict`` uses and the recommender index (no chapter:
``genrelab export``; the ``recommend`` chapter reports on both)."""

from __future__ import annotations

from pathlib import Path

from genrelab.stages.common import INTERIM, METRICS, SUMMARIES, write_stage_metrics


def run_export_stage(params: dict, *, metrics_path: Path = METRICS / "export.json",
                     summary_path: Path = SUMMARIES / "export.json", progress: bool = True):
    """:func:`genrelab.inference.export.run_export` with the stage's metrics."""
    from genrelab.inference.export import run_export

    result = run_export(params, interim_dir=INTERIM, progress=progress)
    card = result.card
    summary = {"approach": card["approach"], "model": card["model"], "protocol": card["protocol"],
               "refit": card["refit"], "trained_on_tracks": card["trained_on_tracks"], **card["test"],
               "recommend_tracks": card["recommend"]["tracks"]}  # fmt: skip
    headline = {"accuracy": card["test"]["accuracy"], "tracks": card["trained_on_tracks"]}
    write_stage_metrics(summary, headline, metrics_path, summary_path)
    return result
