"""The ``image_models`` stage: the spectrogram-as-image approaches under every protocol."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from genrelab.evaluation.splits import available_protocols
from genrelab.stages.common import METRICS, MODELS, read_prepared
from genrelab.stages.spectrograms import SPECTROGRAMS


def run_image_models(params: dict, *, spectrograms_dir: Path = SPECTROGRAMS, parts_dir: Path = Path("results/parts"),
                     predictions_dir: Path = Path("results/predictions"), models_dir: Path = MODELS,
                     metrics_dir: Path = METRICS / "models", progress: bool = True) -> dict:
    """The three spectrogram-as-image approaches under every protocol. Returns ``{approach: Evaluation}``;
    each fitted model is saved under ``models_dir/<approach>/``, the headline figures under
    ``metrics_dir/<approach>.json``."""
    from genrelab.approaches.image_models import evaluate_image_models
    from genrelab.evaluation.results import write_metrics, write_part, write_predictions
    from genrelab.features.spectrograms import load_meta, load_segments

    _, splits = read_prepared()
    X, index = load_segments(spectrograms_dir)
    evaluations = evaluate_image_models(
        X, index, splits, params["image_models"],
        settings=load_meta(spectrograms_dir),
        protocols=available_protocols(splits, params["prepare"]["protocols"]),
        split_seed=params["prepare"]["seed"],
        test_fraction=params["prepare"]["test_fraction"],
        progress=progress,
        models_dir=models_dir,
    )  # fmt: skip
    for approach, evaluation in evaluations.items():
        write_part(evaluation.scores.to_dict("records"), approach, parts_dir)
        write_predictions(evaluation.predictions, approach, predictions_dir)
    scores = pd.concat([e.scores for e in evaluations.values()], ignore_index=True)
    write_metrics(scores, metrics_dir, approaches=list(evaluations))
    return evaluations
