"""The true-quality stages: ``quality_data`` (the labelled files) and ``quality_models`` (chapter 7)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.stages.common import METRICS, write_json

QUALITY = Path("data/quality")
FILES = QUALITY / "files"
MODELS = Path("models/quality")
RESULTS = Path("results")
TARGETS = ("group", "effective")  # collision groups (the headline), then the raw settings
NON_FEATURES = ("file", "offset_seconds", "excerpt_seconds")


def run_quality_data(params: dict, *, out_dir: Path = QUALITY, metrics_path: Path = METRICS / "quality_data.json",
                     progress: bool = True) -> dict:  # fmt: skip
    """Render the sources, put each through every condition, draw the excerpts; write the tables beside the files."""
    from genrelab.parallel import configured
    from genrelab.quality.corpus import build_corpus, excerpt_offsets

    c = params["quality"]["corpus"]
    with configured(params["parallel"]):
        files, sources = build_corpus(out_dir / "files", styles=c["styles"], sources_per_style=c["sources_per_style"],
                                      seconds=c["source_seconds"], conditions=c["conditions"], seed=c["seed"],
                                      min_bandwidth_hz=c["min_bandwidth_hz"], jobs=c["jobs"], progress=progress)  # fmt: skip
    excerpts = excerpt_offsets(files, c["excerpt_seconds"], c["seed"])
    out_dir.mkdir(parents=True, exist_ok=True)
    files.to_csv(out_dir / "files.csv", index=False)
    sources.to_csv(out_dir / "sources.csv", index=False)
    excerpts.to_csv(out_dir / "excerpts.csv", index=False)
    metrics = {"sources": int(len(sources)), "sources_excluded": int((sources["status"] != "ok").sum()),
               "files": int(len(files)), "conditions": len(c["conditions"]), "excerpts": int(len(excerpts))}  # fmt: skip
    write_json(metrics, metrics_path)
    return metrics


@dataclass
class QualityStudy:
    """What ``quality_models`` measured (also written to results/ and models/quality/)."""

    table: pd.DataFrame  # one row per excerpt: labels, source, features
    feature_columns: list[str]
    test: np.ndarray  # bool per row: held out
    scores: pd.DataFrame  # target, model, excerpt_seconds, n_files, balanced_accuracy(+CI), macro_f1(+CI)
    verdicts: pd.DataFrame  # model, excerpt_seconds: fake lossless caught, genuine lossless accused
    predictions: pd.DataFrame  # test rows: file, condition, excerpt_seconds, target, model, true, predicted
    shipped: str  # the model saved for `genrelab quality`


def run_quality_models(params: dict, *, data_dir: Path = QUALITY, models_dir: Path = MODELS,
                       results_dir: Path = RESULTS, metrics_path: Path = METRICS / "quality.json",
                       progress: bool = True) -> QualityStudy:  # fmt: skip
    """Features of every excerpt, every model on held-out sources, the verdicts, the shipped model."""
    from genrelab.data import checks
    from genrelab.parallel import configured
    from genrelab.quality.evaluation import held_out_sources, lossless_verdicts, score
    from genrelab.quality.excerpts import feature_table
    from genrelab.stages.common import refuse_failures

    m = params["quality"]["models"]
    files = pd.read_csv(data_dir / "files.csv", keep_default_na=False)
    excerpts = pd.read_csv(data_dir / "excerpts.csv")
    with configured(params["parallel"]):
        features, failures = feature_table(data_dir / "files", excerpts, edge_db=m["edge_db"], jobs=m["jobs"],
                                           progress=progress)  # fmt: skip
    refuse_failures([checks.failure(str(f.item[0]), f.error, "left out of the quality features") for f in failures],
                    "quality_models", data_dir / "files.csv")  # fmt: skip
    table = features.merge(files, on="file", validate="many_to_one")
    columns = [c for c in features.columns if c not in NON_FEATURES]
    test = table["source_id"].isin(held_out_sources(table["source_id"], m["test_fraction"], m["seed"])).to_numpy()
    X = table[columns].to_numpy(dtype=float)
    scores, verdicts, predictions = [], [], []
    for target in TARGETS:
        y = table[target].to_numpy(dtype=object)
        for name, factory in quality_models(m["models"], columns, m["seed"]).items():
            if name == "rule" and target != "group":  # the LAME table names groups, not settings
                continue
            predicted = factory().fit(X[~test], y[~test]).predict(X[test])
            rows = table[test]
            for seconds, part in rows.groupby("excerpt_seconds"):
                at = (rows["excerpt_seconds"] == seconds).to_numpy()
                scores.append({"target": target, "model": name, "excerpt_seconds": seconds,
                               **score(y[test][at], predicted[at], part["source_id"])})  # fmt: skip
                if target == "group":
                    verdicts.append({"model": name, "excerpt_seconds": seconds, **lossless_verdicts(part, predicted[at])})
            predictions.append(pd.DataFrame({"file": rows["file"], "condition": rows["condition"],
                                             "excerpt_seconds": rows["excerpt_seconds"], "target": target, "model": name,
                                             "true": y[test], "predicted": predicted}))  # fmt: skip
    scores, verdicts = pd.DataFrame(scores), pd.DataFrame(verdicts)
    predictions = pd.concat(predictions, ignore_index=True)
    shipped = _ship(scores, table, X, columns, m, models_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    scores.to_csv(results_dir / "quality_scores.csv", index=False)
    verdicts.to_csv(results_dir / "quality_verdicts.csv", index=False)
    predictions.to_parquet(results_dir / "quality_predictions.parquet", index=False)
    best = scores[(scores["target"] == "group") & (scores["model"] == shipped)]
    write_json({"shipped": shipped, "files": int(len(files)), "excerpts": int(len(table)), "test_excerpts": int(test.sum()),
                "group_macro_f1": {f"{s:g}s": round(v, 4) for s, v in zip(best["excerpt_seconds"], best["macro_f1"])},
                "verdicts": verdicts[verdicts["model"] == shipped].round(4).to_dict("records")}, metrics_path)  # fmt: skip
    return QualityStudy(table, columns, test, scores, verdicts, predictions, shipped)


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


def _ship(scores: pd.DataFrame, table: pd.DataFrame, X: np.ndarray, columns: list[str], m: dict, models_dir: Path) -> str:
    """Refit the best group model (mean held-out macro-F1 over excerpt lengths; ties by name) on every source and save it."""
    from genrelab import models
    from genrelab.models import SavedModel

    group = scores[scores["target"] == "group"].groupby("model")["macro_f1"].mean()
    name = sorted(group.index, key=lambda n: (-group[n], n))[0]
    estimator = quality_models(m["models"], columns, m["seed"])[name]().fit(X, table["group"].to_numpy(dtype=object))
    saved = SavedModel(estimator, approach="quality", model=name, protocol="all_sources", level="excerpt",
                       classes=[str(c) for c in estimator.classes_],
                       features={"input": "quality features of an excerpt (genrelab.quality.excerpts)",
                                 "columns": columns, "edge_db": m["edge_db"]})  # fmt: skip
    models.save(saved, models_dir / "model.joblib")
    return name
