"""What each DVC stage computes and writes, as plain functions.

The stage notebooks call one ``run_*`` function, then show what it returns. Keeping the work here
means it is tested without papermill, and the notebooks stay narrative. Paths are relative to
the project root, where DVC runs every stage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

INTERIM = Path("data/interim")
METRICS = Path("metrics")


def _write_json(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


# --------------------------------------------------------------------------------------------------
# prepare


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
                jobs: int = 2, progress: bool = True) -> Prepared:
    """Manifest, duplicate pairs and the split of every track under every protocol.

    Writes ``manifest.csv``, ``problems.csv``, ``duplicates.csv`` and ``splits.csv`` to ``out_dir``
    and the stage's DVC metrics to ``metrics_path``.
    """
    from genrelab.datasets import build_manifest, read_fault_filtered_split
    from genrelab.dedup import duplicate_groups, find_duplicates
    from genrelab.splits import make_splits

    data, prep = params["data"], params["prepare"]
    root, source = Path(data["root"]), data["source"]
    gtzan = source == "gtzan"
    manifest, problems = build_manifest(
        root,
        source,
        segment_seconds=prep["segment_seconds"],
        artists=(data["gtzan_artists"] or None) if gtzan else None,
        index=(data["gtzan_index"] or None) if gtzan else None,
        jobs=jobs,
        progress=progress,
    )
    duplicates = find_duplicates(manifest, root, near_threshold=prep["near_duplicate_threshold"], jobs=jobs, progress=progress)
    ok_ids = manifest.loc[manifest["status"] == "ok", "track_id"]
    notes = []
    fault_filtered = None
    if "fault_filtered" in prep["protocols"]:
        if gtzan and data["gtzan_splits"]:
            fault_filtered = read_fault_filtered_split(data["gtzan_splits"])
        else:
            notes.append("The fault_filtered protocol applies to GTZAN with data.gtzan_splits set; it is skipped here.")
    splits = make_splits(
        manifest,
        duplicate_groups(duplicates, ok_ids),
        protocols=prep["protocols"],
        test_fraction=prep["test_fraction"],
        seed=prep["seed"],
        fault_filtered=fault_filtered,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest.to_csv(out_dir / "manifest.csv", index=False)
    problems.to_csv(out_dir / "problems.csv", index=False)
    duplicates.to_csv(out_dir / "duplicates.csv", index=False)
    splits.to_csv(out_dir / "splits.csv", index=False)
    metrics = {
        "tracks_found": int(len(manifest)),
        "tracks_used": int(len(ok_ids)),
        "tracks_excluded": int((manifest["status"] != "ok").sum()),
        "genres": int(manifest.loc[manifest["status"] == "ok", "genre"].nunique()),
        "duplicate_pairs_exact": int((duplicates["kind"] == "exact").sum()),
        "duplicate_pairs_near": int((duplicates["kind"] == "near").sum()),
        "duplicate_pairs_cross_label": int(duplicates["cross_label"].astype(bool).sum()),
        "max_unflagged_similarity": round(float(duplicates.attrs.get("max_unflagged_similarity", float("nan"))), 4),
    }
    _write_json(metrics, metrics_path)
    return Prepared(manifest, problems, duplicates, splits, metrics, notes)


def read_prepared(out_dir: Path = INTERIM) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The manifest and split table written by ``prepare`` (ids kept as text)."""
    from genrelab.datasets import read_manifest

    splits = pd.read_csv(out_dir / "splits.csv", dtype=str, keep_default_na=False)
    return read_manifest(out_dir / "manifest.csv"), splits


# --------------------------------------------------------------------------------------------------
# features

FEATURES = Path("data/features")
TABLES = {"clip": "features_30_sec.csv", "segment": "features_3_sec.csv"}
NON_FEATURES = ("filename", "length", "label")


def feature_columns(table: pd.DataFrame) -> list[str]:
    """The 57 feature columns of a GTZAN-style table (everything but filename, length, label)."""
    return [c for c in table.columns if c not in NON_FEATURES]


def usable_tracks(manifest: pd.DataFrame) -> pd.DataFrame:
    return manifest[manifest["status"] == "ok"].reset_index(drop=True)


def run_features(params: dict, *, out_dir: Path = FEATURES, cache_dir: Path = Path(".cache/features"),
                 metrics_path: Path = METRICS / "features.json", progress: bool = True) -> dict[str, pd.DataFrame]:
    """The 57 GTZAN-table features of every usable track, per clip and per segment.

    Writes ``features_30_sec.csv`` and ``features_3_sec.csv`` (named after the public tables even
    when ``prepare.segment_seconds`` is not 3) with a ``label`` column from the manifest. The
    per-track cache lives outside DVC's outputs, so an interrupted run resumes.
    """
    from genrelab.datasets import read_manifest
    from genrelab.features import duplicate_feature_rows, extract_tables, split_filenames

    manifest = usable_tracks(read_manifest(INTERIM / "manifest.csv"))
    paths = [Path(params["data"]["root"]) / p for p in manifest["path"]]
    genre_of = manifest.set_index("track_id")["genre"]
    seconds = {"clip": 30.0, "segment": params["prepare"]["segment_seconds"]}
    out_dir.mkdir(parents=True, exist_ok=True)
    extracted = extract_tables(paths, segment_seconds=(seconds["clip"], seconds["segment"]),
                               jobs=params["features"]["jobs"], cache_dir=cache_dir, progress=progress)
    tables, metrics = {}, {}
    for level, name in TABLES.items():
        table = extracted[seconds[level]]
        ids = split_filenames(table["filename"], segmented=level == "segment")["track_id"]
        table["label"] = genre_of.reindex(ids.to_numpy(dtype=object)).to_numpy(dtype=object)
        table.to_csv(out_dir / name, index=False)
        tables[level] = table
        metrics[level] = {"rows": int(len(table)), "duplicate_feature_rows": int(len(duplicate_feature_rows(table)))}
    _write_json(metrics, metrics_path)
    return tables


def read_feature_table(level: str, features_dir: Path = FEATURES) -> pd.DataFrame:
    return pd.read_csv(features_dir / TABLES[level], dtype={"filename": str, "label": str}, keep_default_na=False)


# --------------------------------------------------------------------------------------------------
# audio_models

APPROACH_AUDIO = "audio_features"


def protocols_to_run(params: dict, splits: pd.DataFrame) -> list[str]:
    """The protocols asked for in ``prepare.protocols`` that the split table has."""
    from genrelab.splits import available_protocols

    return [p for p in available_protocols(splits) if p in params["prepare"]["protocols"]]


def run_audio_models(params: dict, *, features_dir: Path = FEATURES, parts_dir: Path = Path("results/parts"),
                     predictions_dir: Path = Path("results/predictions"),
                     metrics_path: Path = METRICS / "audio_models.json", progress: bool = True) -> dict:
    """Every audio-feature model under every protocol, per segment (and track) and per clip.

    With ``audio_models.input: public`` the models run on the public GTZAN tables named by
    ``data.public_features_3s`` / ``data.public_features_30s`` instead of the extracted features,
    with splits made from those tables (artists and fault-filtered lists from ``data.gtzan_*``).
    Returns ``{level: Evaluation}``; writes the approach's results part, predictions and metrics.
    """
    from genrelab.evaluation import evaluate
    from genrelab.models import make_models
    from genrelab.results import write_metrics, write_part, write_predictions

    settings, prep = params["audio_models"], params["prepare"]
    evaluations = {}
    for level in settings["levels"]:
        X, y, rows, splits = _audio_model_inputs(params, level, features_dir)
        evaluations[level] = evaluate(
            X, y, rows, splits,
            approach=APPROACH_AUDIO,
            models=make_models(settings["models"], seed=settings["seed"]),
            protocols=protocols_to_run(params, splits),
            level=level,
            cv_folds=settings["cv_folds"],
            seed=settings["seed"],
            split_seed=prep["seed"],
            test_fraction=prep["test_fraction"],
            progress=progress,
        )  # fmt: skip
    scores = pd.concat([e.scores for e in evaluations.values()], ignore_index=True)
    write_part(scores.to_dict("records"), APPROACH_AUDIO, parts_dir)
    write_predictions(pd.concat([e.predictions for e in evaluations.values()]), APPROACH_AUDIO, predictions_dir)
    write_metrics(scores, metrics_path)
    return evaluations


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
    from genrelab.errors import DataError
    from genrelab.public_tables import load_public_table

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


def run_public_gtzan(params: dict, *, out: Path = PUBLIC_RESULTS, progress: bool = True):
    """The published study's own starting point: every model on the public GTZAN 30 s table.

    Real GTZAN (1000 clips) rather than the corpus of this build, so its rows stay out of the
    study's results table: they go to ``out``. Cross-validation is skipped (the test split is what
    is reported) to keep the stage quick. Returns ``(Evaluation or None, message)``; when the table
    is not configured or not found, ``out`` is written empty and the message says how to enable it.
    """
    from genrelab.errors import DataError
    from genrelab.evaluation import evaluate
    from genrelab.models import make_models
    from genrelab.results import SCORE_COLUMNS

    settings = params["audio_models"]
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        X, y, rows, splits = _public_inputs(params, params["data"]["public_features_30s"], "public_features_30s")
    except DataError as err:
        pd.DataFrame(columns=SCORE_COLUMNS).to_csv(out, index=False)
        return None, str(err)
    evaluation = evaluate(
        X, y, rows, splits, approach="audio_features_public_gtzan",
        models=make_models(settings["models"], seed=settings["seed"]),
        protocols=protocols_to_run(params, splits), level="clip", cv_folds=0, seed=settings["seed"],
        split_seed=params["prepare"]["seed"], test_fraction=params["prepare"]["test_fraction"], progress=progress,
    )  # fmt: skip
    evaluation.scores.to_csv(out, index=False)
    return evaluation, f"{len(y)} clips from {params['data']['public_features_30s']}"


def _feature_matrix(table: pd.DataFrame, segmented: bool):
    from genrelab.features import split_filenames

    rows = split_filenames(table["filename"], segmented=segmented)
    X = table[feature_columns(table)].to_numpy(dtype=float)
    return X, table["label"].to_numpy(dtype=object), rows


# --------------------------------------------------------------------------------------------------
# spectrograms and image models

SPECTROGRAMS = Path("data/spectrograms")


def run_spectrograms(params: dict, *, out_dir: Path = SPECTROGRAMS, cache_dir: Path = Path(".cache/spectrograms"),
                     metrics_path: Path = METRICS / "spectrograms.json", progress: bool = True):
    """Log-mel spectrograms of every usable track, per segment and per clip (see genrelab.spectrograms).

    The per-track cache lives outside DVC's outputs (DVC deletes outputs before a rerun).
    """
    from genrelab.datasets import read_manifest
    from genrelab.spectrograms import compute_spectrograms

    manifest = read_manifest(INTERIM / "manifest.csv")
    result = compute_spectrograms(
        manifest, params["data"]["root"], out_dir,
        segment_seconds=params["prepare"]["segment_seconds"], cache_dir=cache_dir, progress=progress,
        **params["spectrograms"],
    )  # fmt: skip
    _write_json({"tracks": result.n_tracks, "segments": result.n_segments,
                 "segment_shape": list(result.segment_shape), "clip_shape": list(result.clip_shape)}, metrics_path)
    return result


def run_image_models(params: dict, *, spectrograms_dir: Path = SPECTROGRAMS, parts_dir: Path = Path("results/parts"),
                     predictions_dir: Path = Path("results/predictions"),
                     metrics_path: Path = METRICS / "image_models.json", progress: bool = True) -> dict:
    """The three spectrogram-as-image approaches under every protocol. Returns ``{approach: Evaluation}``."""
    from genrelab.image_models import evaluate_image_models
    from genrelab.results import write_metrics, write_part, write_predictions
    from genrelab.spectrograms import load_meta, load_segments

    _, splits = read_prepared()
    X, index = load_segments(spectrograms_dir)
    evaluations = evaluate_image_models(
        X, index, splits, params["image_models"],
        settings=load_meta(spectrograms_dir),
        protocols=protocols_to_run(params, splits),
        split_seed=params["prepare"]["seed"],
        test_fraction=params["prepare"]["test_fraction"],
        progress=progress,
    )  # fmt: skip
    for approach, evaluation in evaluations.items():
        write_part(evaluation.scores.to_dict("records"), approach, parts_dir)
        write_predictions(evaluation.predictions, approach, predictions_dir)
    scores = pd.concat([e.scores for e in evaluations.values()], ignore_index=True)
    write_metrics(scores.assign(model=scores["approach"] + "/" + scores["model"]), metrics_path)
    return evaluations


# --------------------------------------------------------------------------------------------------
# cnn

MODELS = Path("models/cnn")
CURVES = Path("results/curves")


def run_cnn_stage(params: dict, *, spectrograms_dir: Path = SPECTROGRAMS, models_dir: Path = MODELS, curves_dir: Path = CURVES,
                  parts_dir: Path = Path("results/parts"), predictions_dir: Path = Path("results/predictions"),
                  metrics_path: Path = METRICS / "cnn.json", progress=None):
    """The scratch and transfer CNNs under every protocol; writes models, learning curves and results."""
    from genrelab.cnn import SCRATCH, TRANSFER, run_cnn
    from genrelab.results import write_metrics, write_part, write_predictions
    from genrelab.spectrograms import load_segments

    _, splits = read_prepared()
    X, index = load_segments(spectrograms_dir)
    run = run_cnn(
        X, index, splits, params["cnn"],
        protocols=protocols_to_run(params, splits), models_dir=models_dir, curves_dir=curves_dir,
        split_seed=params["prepare"]["seed"], test_fraction=params["prepare"]["test_fraction"], progress=progress,
    )  # fmt: skip
    scores = pd.DataFrame(run.rows)
    for approach in (SCRATCH, TRANSFER):
        write_part(scores[scores["approach"] == approach].to_dict("records"), approach, parts_dir)
        write_predictions(run.predictions[run.predictions["approach"] == approach], approach, predictions_dir)
    write_metrics(scores.assign(model=scores["approach"] + "/" + scores["model"]), metrics_path)
    return run
