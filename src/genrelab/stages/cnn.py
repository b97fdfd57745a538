"""The ``cnn`` stage: the scratch and transfer CNNs under every protocol."""

from __future__ import annotations

from pathlib import Path

from genrelab.evaluation.splits import available_protocols
from genrelab.stages.common import METRICS, MODELS, read_prepared
from genrelab.stages.spectrograms import SPECTROGRAMS

CURVES = Path("results/curves")


def run_cnn_stage(params: dict, *, spectrograms_dir: Path = SPECTROGRAMS, models_dir: Path = MODELS, curves_dir: Path = CURVES,
                  parts_dir: Path = Path("results/parts"), predictions_dir: Path = Path("results/predictions"),
                  metrics_dir: Path = METRICS / "models", progress: bool = True):
    """The scratch and transfer CNNs under every protocol; writes models, learning curves, results and
    the headline figures (``metrics_dir/<approach>.json``)."""
    from genrelab.approaches.cnn import run_cnn
    from genrelab.evaluation.results import write_curves, write_metrics, write_part, write_predictions
    from genrelab.features.spectrograms import load_segments

    _, splits = read_prepared()
    X, index = load_segments(spectrograms_dir)
    run = run_cnn(
        X, index, splits, params["cnn"],
        protocols=available_protocols(splits, params["prepare"]["protocols"]), models_dir=models_dir,
        split_seed=params["prepare"]["seed"], test_fraction=params["prepare"]["test_fraction"], progress=progress,
    )  # fmt: skip
    for approach, evaluation in run.evaluations.items():
        write_part(evaluation.scores.to_dict("records"), approach, parts_dir)
        write_predictions(evaluation.predictions, approach, predictions_dir)
        write_curves(evaluation, curves_dir)
    write_metrics(run.scores, metrics_dir, approaches=list(run.evaluations))
    return run
