"""The ``quality_models`` stage (chapter 9): the models of true quality on the ``quality_data`` stage's files
(:mod:`genrelab.stages.quality_data`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.stages.common import METRICS, SUMMARIES, write_stage_metrics
from genrelab.stages.quality_data import FILES, QUALITY, run_quality_data  # noqa: F401  (the chapter reads them here)

MODELS = Path("models/quality")
RESULTS = Path("results")
TARGETS = ("group", "effective")  # collision groups (the headline), then the raw settings
# Not features of quality: the excerpt's place, its level, and its rate (in the corpus every 48 kHz file but
# two is genuine lossless, so a model given the rate learns "48 kHz means lossless" and passes Opus).
NON_FEATURES = ("file", "offset_seconds", "excerpt_seconds", "reference_db", "nyquist_hz")


@dataclass
class QualityStudy:
    """What ``quality_models`` measured (also written to results/ and models/quality/)."""

    table: pd.DataFrame  # one row per excerpt: labels, source, split, probe flags, features
    feature_columns: list[str]
    test: np.ndarray  # bool per row: held out
    scores: pd.DataFrame  # target, model, excerpt_seconds, n_files, balanced_accuracy(+CI), macro_f1(+CI), cv_*, selected
    selection: pd.DataFrame  # the feature models' CV on the training sources (quality.evaluation.cross_validated)
    verdicts: pd.DataFrame  # model, excerpt_seconds: fake lossless caught, genuine lossless accused
    predictions: pd.DataFrame  # test rows: file, condition, excerpt_seconds, target, model, true, predicted
    shipped: str  # the model chosen by CV, saved for `genrelab quality`
    command: pd.DataFrame  # `genrelab quality` on the held-out files (quality.evaluation.command_scores)
    command_files: pd.DataFrame  # its verdict of each held-out file: file, condition, truth, verdict, detail
    generalisation: pd.DataFrame  # the chosen model beyond LAME at 44.1 kHz (quality.evaluation.generalisation)
    styles: pd.DataFrame  # the chosen model on each style left out (quality.evaluation.leave_one_style_out)
    skipped: pd.DataFrame  # condition, reason: probes whose encoder this machine lacks


def run_quality_models(params: dict, *, data_dir: Path = QUALITY, models_dir: Path = MODELS,
                       results_dir: Path = RESULTS, metrics_path: Path = METRICS / "quality.json",
                       summary_path: Path = SUMMARIES / "quality.json",
                       progress: bool = True) -> QualityStudy:  # fmt: skip
    """Features of every excerpt; the model to ship chosen by cross-validation over the training
    sources; every model scored once on the held-out sources; the command's verdicts on the held-out
    files; the generalisation tests; the shipped model.

    Every held-out figure comes from fits on the training sources only. The chosen model's
    train-only fit is saved as ``held_out_model.joblib`` (what the chapter's examples use); the
    shipped ``model.joblib`` is the same model refitted on every source.
    """
    from genrelab import models
    from genrelab.quality.evaluation import (cross_validated, generalisation, leave_one_style_out, lossless_verdicts,
                                             score)  # fmt: skip

    m = params["quality"]["models"]
    table, columns, pictures = _feature_rows(data_dir, m, params["parallel"], progress)
    test = (table["split"] == "test").to_numpy()
    main = ~table["probe"].to_numpy(bool) & ~table["probe_excerpt"].to_numpy(bool)  # LAME at 44.1 kHz, full excerpts
    X = table[columns].to_numpy(dtype=float)
    inputs = {"features": X, "band": pictures["band"], "spek": pictures["spek"].reshape(len(table), -1)}
    features = quality_models(m["models"], columns, m["seed"])
    train, groups = ~test & main, table["source_id"].to_numpy(dtype=object)
    # Chosen before any held-out row is scored, among the feature models only: `genrelab quality`
    # computes features, so a picture model could not be shipped, and needs no CV.
    selection = cross_validated(features, X[train], table.loc[train, "group"], groups[train], table.loc[train, "style"],
                                table.loc[train, "excerpt_seconds"], m["cv_folds"], m["seed"])  # fmt: skip
    shipped = str(selection.loc[selection["selected"], "model"].iloc[0])
    runs = [(target, name, "features", factory) for target in TARGETS for name, factory in features.items()
            if name != "rule" or target == "group"]  # the LAME table names groups, not settings
    runs += [("group", name, kind, factory) for name, (kind, factory) in picture_models(m).items()]
    scores, verdicts, predictions, held_out_groups = [], [], [], {}
    for target, name, kind, factory in runs:
        y, A = table[target].to_numpy(dtype=object), inputs[kind]
        fit = {"groups": groups[train]} if kind == "band" else {}  # the CNN stops early on whole sources
        estimator = factory().fit(A[train], y[train], **fit)
        predicted = estimator.predict(A[test])
        if target == "group":
            held_out_groups[name] = predicted
            if name == shipped and kind == "features":
                held_out_fit = estimator
        predicted, rows = predicted[main[test]], table[test & main]
        for seconds, part in rows.groupby("excerpt_seconds"):
            at = (rows["excerpt_seconds"] == seconds).to_numpy()
            scores.append({"target": target, "model": name, "input": kind, "excerpt_seconds": seconds,
                           **score(y[test & main][at], predicted[at], part["source_id"])})  # fmt: skip
            if target == "group":
                verdicts.append({"model": name, "excerpt_seconds": seconds, **lossless_verdicts(part, predicted[at])})
        predictions.append(pd.DataFrame({"file": rows["file"], "condition": rows["condition"],
                                         "excerpt_seconds": rows["excerpt_seconds"], "target": target, "model": name,
                                         "true": y[test & main], "predicted": predicted}))  # fmt: skip
    cv = selection.drop(columns="cv_folds").assign(target="group", input="features")
    scores = pd.DataFrame(scores).merge(cv, on=["target", "input", "model"], how="left")
    scores["selected"] = scores["selected"].astype("boolean").fillna(False).astype(bool)
    verdicts, predictions = pd.DataFrame(verdicts), pd.concat(predictions, ignore_index=True)
    held_out_model = _saved(held_out_fit, shipped, "train_sources", columns, m)
    command_files, command = _command(held_out_model, table[test & main], data_dir, m, params["parallel"], progress)
    held_out_model.features["held_out"] = _held_out(scores, verdicts, command, shipped)
    seconds = float(scores["excerpt_seconds"].min())
    general = generalisation(table[test], held_out_groups[shipped], seconds)
    styles = leave_one_style_out(table, X, features[shipped], main, seconds)
    models.save(held_out_model, models_dir / "held_out_model.joblib")
    everything = features[shipped]().fit(X[main], table.loc[main, "group"].to_numpy(dtype=object))
    models.save(_saved(everything, shipped, "all_sources", columns, m, held_out_model.features["held_out"]),
                models_dir / "model.joblib")
    skipped = pd.read_csv(data_dir / "skipped.csv", keep_default_na=False)
    results_dir.mkdir(parents=True, exist_ok=True)
    scores.to_csv(results_dir / "quality_scores.csv", index=False)
    verdicts.to_csv(results_dir / "quality_verdicts.csv", index=False)
    command.to_csv(results_dir / "quality_command.csv", index=False)
    general.to_csv(results_dir / "quality_generalisation.csv", index=False)
    styles.to_csv(results_dir / "quality_styles.csv", index=False)
    predictions.to_parquet(results_dir / "quality_predictions.parquet", index=False)
    best = scores[(scores["target"] == "group") & (scores["model"] == shipped)]
    summary = {"shipped": shipped,
                "selection": {"rule": SELECTION_RULE, "cv_folds": int(selection["cv_folds"].iloc[0]),
                              "cv_macro_f1": dict(zip(selection["model"], selection["cv_macro_f1"].round(4))),
                              "cv_std": dict(zip(selection["model"], selection["cv_std"].round(4)))},
                "fits": {"held_out_model.joblib": "fitted on the training sources only: the held-out figures, "
                                                  "the command's included, are its own",
                         "model.joblib": "the same model refitted on every source: what genrelab quality loads"},
                "files": int(table["file"].nunique()), "excerpts": int(len(table)),
                "test_excerpts": int((test & main).sum()),
                "held_out_sources": table.loc[test].groupby("style")["source_id"].nunique().to_dict(),
                "group_macro_f1": {f"{s:g}s": round(v, 4) for s, v in zip(best["excerpt_seconds"], best["macro_f1"])},
                "verdicts": verdicts[verdicts["model"] == shipped].round(4).to_dict("records"),
                "command": {r.measure: {"hits": r.hits, "of": r.rows, "sources": r.sources, "value": round(r.value, 4),
                                        "low": round(r.low, 4), "high": round(r.high, 4)} for r in command.itertuples()},
                "generalisation": {f"{r.test} {r.condition}".strip(): round(r.value, 4) for r in general.itertuples()},
                "style_left_out": round(float(styles["value"].iloc[-1]), 4),
                "probes_skipped": skipped["condition"].tolist()}  # fmt: skip
    verdict = command.set_index("measure").loc["right verdict"]
    shortest = best.sort_values("excerpt_seconds")["macro_f1"].iloc[0]  # the held-out group macro-F1, shortest excerpts
    headline = {"macro_f1": round(float(shortest), 4), "verdict": round(float(verdict["value"]), 4),
                "files": int(verdict["rows"])}  # the held-out files the command was scored on
    write_stage_metrics(summary, headline, metrics_path, summary_path)
    return QualityStudy(table, columns, test, scores, selection, verdicts, predictions, shipped, command, command_files,
                        general, styles, skipped)  # fmt: skip


SELECTION_RULE = ("the feature model (the command computes features) of the best group macro-F1 by cross-validation "
                  "grouped by source over the training sources only; ties: the smaller spread over folds, then the name")


def _command(model, rows: pd.DataFrame, data_dir: Path, m: dict, parallel: dict,
             progress: bool) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """``genrelab quality``'s own path (header, its excerpts, the gates, the verdict) run with
    ``model`` on the held-out files of ``rows``: each file's verdict, and their scores
    (:func:`genrelab.quality.evaluation.command_scores`)."""
    from genrelab.data import checks
    from genrelab.parallel import configured
    from genrelab.quality.check import check_files
    from genrelab.quality.evaluation import command_scores, true_verdict
    from genrelab.stages.common import refuse_failures

    files = rows.drop_duplicates("file")[["file", "source_id", "style", "condition", "nominal", "effective", "group"]]
    with configured(parallel):
        reports, failures = check_files([data_dir / "files" / f for f in files["file"]], model, jobs=m["jobs"],
                                        progress=progress)  # fmt: skip
    refuse_failures([checks.failure(str(f.item[0]), f.error, "left out of the command's scores") for f in failures],
                    "quality_models", data_dir / "files.csv")  # fmt: skip
    files = files.assign(truth=[true_verdict(*r) for r in files[["nominal", "effective", "group"]].itertuples(index=False)],
                         verdict=[r.verdict for r in reports], detail=[r.detail for r in reports])  # fmt: skip
    return files.reset_index(drop=True), command_scores(files, files["verdict"])


def _feature_rows(data_dir: Path, m: dict, parallel: dict, progress: bool) -> tuple[pd.DataFrame, list[str], dict]:
    """Every excerpt's features with its file's labels, the feature columns, and the excerpts'
    pictures (:data:`genrelab.quality.excerpts.PICTURES`) in the rows' order."""
    from genrelab.data import checks
    from genrelab.parallel import configured
    from genrelab.quality.conditions import parse
    from genrelab.quality.excerpts import feature_table
    from genrelab.stages.common import refuse_failures

    files = pd.read_csv(data_dir / "files.csv", keep_default_na=False, dtype={"probe": bool, "transcoded": bool})
    excerpts = pd.read_csv(data_dir / "excerpts.csv")
    with configured(parallel):
        features, pictures, failures = feature_table(data_dir / "files", excerpts, edge_db=m["edge_db"], pictures=True,
                                                     jobs=m["jobs"], progress=progress)  # fmt: skip
    refuse_failures([checks.failure(str(f.item[0]), f.error, "left out of the quality features") for f in failures],
                    "quality_models", data_dir / "files.csv")  # fmt: skip
    keys = ["file", "offset_seconds", "excerpt_seconds"]
    table = (features.assign(row=np.arange(len(features)))
             .merge(excerpts[[*keys, "probe_excerpt"]], on=keys, validate="one_to_one")
             .merge(files, on="file", validate="many_to_one"))  # fmt: skip
    order = table.pop("row").to_numpy()  # the merges may reorder rows; the pictures follow
    pictures = {name: array[order] for name, array in pictures.items()}
    kinds = {name: parse(name).probe_kind for name in table["condition"].unique()}
    table["probe_kind"] = table["condition"].map(kinds).where(table["probe"], "")
    return table, [c for c in features.columns if c not in NON_FEATURES], pictures


def quality_models(spec: dict, columns: list[str], seed: int) -> dict:
    """Factories of the quality models: ``rule`` (the LAME table) and any model of the audio-feature zoo."""
    from genrelab.approaches.audio_features import make_models
    from genrelab.quality.rules import LameTableRule

    spec = dict(spec)
    factories = {}
    if "rule" in spec:
        spec.pop("rule")
        cutoff, has_cutoff = columns.index("cutoff_hz"), columns.index("has_cutoff")
        factories["rule"] = lambda: LameTableRule(cutoff, has_cutoff)
    return (factories | make_models(spec, seed=seed)) if spec else factories  # make_models({}) would give the whole zoo


def picture_models(m: dict) -> dict:
    """Factories of the picture models, by name: ``(input, factory)``. ``pixels_<model>`` read
    Spek's picture (``spek``); ``cnn`` and ``cnn_freqmask`` the 11-22 kHz log spectrogram (``band``)."""
    from genrelab.approaches.audio_features import make_models
    from genrelab.quality.networks import QualityCNN

    pixels = {f"pixels_{name}": ("spek", factory) for name, factory in make_models(m["pixels"], seed=m["seed"]).items()}
    cnn = dict(m["cnn"])
    return pixels | {"cnn": ("band", lambda: QualityCNN(cnn | {"freq_mask": 0}, m["seed"])),
                     "cnn_freqmask": ("band", lambda: QualityCNN(cnn, m["seed"]))}  # fmt: skip


def _held_out(scores: pd.DataFrame, verdicts: pd.DataFrame, command: pd.DataFrame, name: str) -> dict:
    """What ``genrelab quality`` says of its model: the held-out figures of its train-only fit, at the
    shortest excerpts (its default), and the share of held-out files its verdict gets right."""
    seconds = scores["excerpt_seconds"].min()
    at = (scores["target"] == "group") & (scores["model"] == name) & (scores["excerpt_seconds"] == seconds)
    verdict = verdicts[(verdicts["model"] == name) & (verdicts["excerpt_seconds"] == seconds)].iloc[0]
    measures = command.set_index("measure")["value"]
    return {"excerpt_seconds": float(seconds), "group_macro_f1": round(float(scores.loc[at, "macro_f1"].iloc[0]), 4),
            "fake_detection": round(float(verdict["fake_detection"]), 4),
            "false_positive_rate": round(float(verdict["false_positive_rate"]), 4),
            "verdict_accuracy": round(float(measures["right verdict"]), 4),
            "undecidable": round(float(measures["undecidable"]), 4)}  # fmt: skip


def _saved(estimator, name: str, protocol: str, columns: list[str], m: dict, held_out: dict | None = None):
    """Model ``name`` fitted on ``protocol``'s sources (``train_sources`` or ``all_sources``) as the
    command loads it, with the held-out figures of its train-only fit (:func:`_held_out`) once known."""
    from genrelab.models import SavedModel

    return SavedModel(estimator, approach="quality", model=name, protocol=protocol, level="excerpt",
                      classes=[str(c) for c in estimator.classes_],
                      features={"input": "quality features of an excerpt (genrelab.quality.excerpts)",
                                "columns": columns, "edge_db": m["edge_db"], "held_out": held_out or {}})  # fmt: skip
