"""The ``audio_models`` stage: every audio-feature model under every protocol, and the public GTZAN table run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.evaluation.splits import available_protocols
from genrelab.stages.common import METRICS, MODELS, read_prepared
from genrelab.features.tables import FEATURES, feature_columns, read_feature_table

APPROACH_AUDIO = "audio_features"


def run_audio_models(params: dict, *, features_dir: Path = FEATURES, parts_dir: Path = Path("results/parts"),
                     predictions_dir: Path = Path("results/predictions"), models_dir: Path = MODELS / APPROACH_AUDIO,
                     metrics_dir: Path = METRICS / "models", progress: bool = True) -> dict:
    """Every audio-feature model under every protocol, per segment (and track) and per clip.

    Each fitted model is saved under ``models_dir`` (:func:`genrelab.models.load` restores it),
    with the feature settings its input needs.

    With ``audio_models.input: public`` the models run on the public GTZAN tables named by
    ``data.public_features_3s`` / ``data.public_features_30s`` instead of the extracted features,
    with splits made from those tables (artists and fault-filtered lists from ``data.gtzan_*``).
    Returns ``{level: Evaluation}``; writes the approach's results part, predictions and metrics
    (``metrics_dir/audio_features.json``: the headline figures).
    """
    from genrelab.approaches.audio_features import make_models
    from genrelab.evaluation.loop import evaluate
    from genrelab.evaluation.results import write_metrics, write_part, write_predictions

    settings, prep = params["audio_models"], params["prepare"]
    evaluations = {}
    for level in settings["levels"]:
        X, y, rows, splits = _audio_model_inputs(params, level, features_dir)
        evaluations[level] = evaluate(
            X, y, rows, splits,
            approach=APPROACH_AUDIO,
            models=make_models(settings["models"], seed=settings["seed"]),
            protocols=available_protocols(splits, params["prepare"]["protocols"]),
            level=level,
            cv_folds=settings["cv_folds"],
            seed=settings["seed"],
            split_seed=prep["seed"],
            test_fraction=prep["test_fraction"],
            progress=progress,
            models_dir=models_dir,
            jobs=settings["jobs"],
            features=feature_settings(params, level),
        )  # fmt: skip
    scores = pd.concat([e.scores for e in evaluations.values()], ignore_index=True)
    write_part(scores.to_dict("records"), APPROACH_AUDIO, parts_dir)
    write_predictions(pd.concat([e.predictions for e in evaluations.values()]), APPROACH_AUDIO, predictions_dir)
    write_metrics(scores, metrics_dir, approaches=[APPROACH_AUDIO])
    return evaluations


def feature_settings(params: dict, level: str) -> dict:
    """How the input of an audio-feature model is made: the 57 columns of the 30 s table (one row
    per clip) or of the segment table (rows vote per track), at 22050 Hz."""
    from genrelab.features.gtzan57_dsp import FEATURE_COLUMNS, FEATURE_VERSION, SR

    seconds = params["prepare"]["segment_seconds"] if level == "segment" else 30.0
    return {"table": "gtzan57", "input": params["audio_models"]["input"], "segment_seconds": seconds,
            "sample_rate": SR, "feature_version": FEATURE_VERSION, "columns": list(FEATURE_COLUMNS)}  # fmt: skip


def _audio_model_inputs(params: dict, level: str, features_dir: Path):
    """(X, y, rows, splits) for one level, from the features stage or a public table."""
    source = params["audio_models"]["input"]
    if source == "extracted":
        _, splits = read_prepared()
        return (*_feature_matrix(read_feature_table(level, features_dir), segmented=level == "segment"), splits)
    if source != "public":
        from genrelab.config import ParamsError

        raise ParamsError(f"params.yaml: 'audio_models.input' must be 'extracted' or 'public', got {source!r}.")
    key = "public_features_3s" if level == "segment" else "public_features_30s"
    X, y, rows, splits = _public_inputs(params, params["data"][key], key)
    return X, y, rows, splits


def _public_inputs(params: dict, path: str, key: str):
    from genrelab.evaluation.public_tables import load_public_table
    from genrelab.errors import DataError

    if not path or not Path(path).is_file():
        raise DataError(
            f"data.{key} is {path!r}, which is not a file. Put the public GTZAN table there "
            "(Kaggle 'GTZAN Dataset - Music Genre Classification', features_30_sec.csv / features_3_sec.csv) "
            "or set data.{key} to its path."
        )
    data, prep = params["data"], params["prepare"]
    X, y, rows, splits = load_public_table(
        path,
        artists_path=data["gtzan_artists"] or None,
        splits_dir=data["gtzan_splits"] or None,
        protocols=prep["protocols"],
        test_fraction=prep["test_fraction"],
        seed=prep["seed"],
    )
    return np.asarray(X, dtype=float), y, rows, splits


PUBLIC_RESULTS = Path("results/public_gtzan_30s.csv")
APPROACH_PUBLIC = "audio_features_public_gtzan"


def run_public_gtzan(params: dict, *, out: Path = PUBLIC_RESULTS, models_dir: Path = MODELS / APPROACH_PUBLIC,
                     progress: bool = True):
    """The published study's own starting point: every model on the public GTZAN 30 s table.

    Real GTZAN (1000 clips) rather than the corpus of this build, so its rows stay out of the
    study's results table: they go to ``out``. Cross-validation is skipped (the test split is what
    is reported) to keep the stage quick. Each fitted model is saved under ``models_dir``. Returns
    ``(Evaluation or None, message)``. When the table is not configured or not found, an existing
    ``out`` is left as it is (dvc.yaml marks it ``persist``: a fresh clone without the table keeps the
    committed results, which the README quotes), a missing one is written empty, and the message says
    how to enable the run.
    """
    from genrelab.approaches.audio_features import make_models
    from genrelab.errors import DataError
    from genrelab.evaluation.loop import evaluate
    from genrelab.evaluation.results import SCORE_COLUMNS

    settings = params["audio_models"]
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        X, y, rows, splits = _public_inputs(params, params["data"]["public_features_30s"], "public_features_30s")
    except DataError as err:
        kept = out.is_file()
        if not kept:
            pd.DataFrame(columns=SCORE_COLUMNS).to_csv(out, index=False)
        models_dir.mkdir(parents=True, exist_ok=True)  # an empty output: no table, no models
        return None, f"{err}" + (f" `{out}` keeps the results of the last run that had the table." if kept else "")
    evaluation = evaluate(
        X, y, rows, splits, approach=APPROACH_PUBLIC,
        models=make_models(settings["models"], seed=settings["seed"]),
        protocols=available_protocols(splits, params["prepare"]["protocols"]), level="clip", cv_folds=0, seed=settings["seed"],
        split_seed=params["prepare"]["seed"], test_fraction=params["prepare"]["test_fraction"], progress=progress,
        models_dir=models_dir, features={**feature_settings(params, "clip"), "input": "public"}, jobs=settings["jobs"],
    )  # fmt: skip
    evaluation.scores.to_csv(out, index=False)
    return evaluation, f"{len(y)} clips from {params['data']['public_features_30s']}"


def _feature_matrix(table: pd.DataFrame, segmented: bool):
    from genrelab.features.gtzan57 import split_filenames

    rows = split_filenames(table["filename"], segmented=segmented)
    X = table[feature_columns(table)].to_numpy(dtype=float)
    return X, table["label"].to_numpy(dtype=object), rows
