"""The ``export`` stage: ships the model ``genrelab predict`` uses, the recommender index, and the model of
GTZAN's ten genres (no chapter: ``genrelab export``; the ``recommend`` chapter reports on the first two)."""

from __future__ import annotations

from pathlib import Path

from genrelab.stages.common import INTERIM, METRICS, MODELS, SUMMARIES, write_stage_metrics


def run_export_stage(params: dict, *, metrics_path: Path = METRICS / "export.json",
                     summary_path: Path = SUMMARIES / "export.json", progress: bool = True):
    """:func:`genrelab.inference.export.run_export` and :func:`~genrelab.inference.export.run_export_gtzan`
    with the stage's metrics. Returns ``(Export, GTZAN card or None, message about the GTZAN model)``.

    The GTZAN model's figures go to the summary only (``gtzan``: null when none was shipped), so the
    DVC metrics keep their columns.
    """
    from genrelab.inference.export import run_export, run_export_gtzan
    from genrelab.stages.audio_models import APPROACH_PUBLIC, PUBLIC_RESULTS

    result = run_export(params, interim_dir=INTERIM, progress=progress)
    gtzan, message = run_export_gtzan(PUBLIC_RESULTS, MODELS / APPROACH_PUBLIC, APPROACH_PUBLIC,
                                      params["data"]["gtzan_splits"])  # fmt: skip
    card = result.card
    summary = {"approach": card["approach"], "model": card["model"], "protocol": card["protocol"],
               "refit": card["refit"], "trained_on_tracks": card["trained_on_tracks"], **card["test"],
               "recommend_tracks": card["recommend"]["tracks"],
               "gtzan": None if gtzan is None else {"model": gtzan["model"], "protocol": gtzan["protocol"],
                                                    "trained_on_tracks": gtzan["trained_on_tracks"], **gtzan["test"]}}  # fmt: skip
    headline = {"accuracy": card["test"]["accuracy"], "tracks": card["trained_on_tracks"]}
    write_stage_metrics(summary, headline, metrics_path, summary_path)
    return result, gtzan, message
