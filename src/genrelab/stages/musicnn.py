"""The ``musicnn`` stage: transfer from music-pretrained networks (embeddings, the published pipeline, fine-tuning)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from genrelab.evaluation.splits import available_protocols
from genrelab.stages.common import METRICS, MODELS, read_prepared
from genrelab.stages.embeddings import EMBEDDINGS


def run_musicnn_stage(params: dict, *, embeddings_dir: Path = EMBEDDINGS, models_dir: Path = MODELS,
                      curves_dir: Path = Path("results/curves_musicnn"), parts_dir: Path = Path("results/parts"),
                      predictions_dir: Path = Path("results/predictions"), metrics_dir: Path = METRICS / "models",
                      progress: bool = True) -> dict:
    """Every musicnn model under every protocol; writes models, learning curves, results and the
    headline figures (``metrics_dir/<approach>.json``).

    Returns :func:`genrelab.approaches.musicnn.run_musicnn`'s ``{approach: [Evaluation, ...]}``.
    """
    from genrelab.approaches.musicnn import run_musicnn
    from genrelab.evaluation.results import (
        PREDICTION_COLUMNS,
        write_curves,
        write_metrics,
        write_part,
        write_predictions,
    )

    _, splits = read_prepared()
    runs = run_musicnn(
        embeddings_dir, splits, params["musicnn"],
        protocols=available_protocols(splits, params["prepare"]["protocols"]), models_dir=models_dir,
        valid_fraction=params["cnn"]["valid_fraction"], split_seed=params["prepare"]["seed"],
        test_fraction=params["prepare"]["test_fraction"], progress=progress,
    )  # fmt: skip
    scores = []
    for approach, evaluations in runs.items():
        part = pd.concat([e.scores for e in evaluations], ignore_index=True) if evaluations else pd.DataFrame()
        write_part(part.to_dict("records"), approach, parts_dir)
        predictions = [e.predictions for e in evaluations] or [pd.DataFrame(columns=PREDICTION_COLUMNS)]
        write_predictions(pd.concat(predictions, ignore_index=True), approach, predictions_dir)
        for evaluation in evaluations:
            write_curves(evaluation, curves_dir)
        scores.append(part)
    curves_dir.mkdir(parents=True, exist_ok=True)  # a DVC output even when fine-tuning is off
    write_metrics(pd.concat(scores, ignore_index=True), metrics_dir, approaches=list(runs))
    return runs
