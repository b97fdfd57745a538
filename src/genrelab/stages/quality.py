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
# Not features of quality: the excerpt's place, its level, and its rate (in the corpus every 48 kHz file but
# two is genuine lossless, so a model given the rate learns "48 kHz means lossless" and passes Opus).
NON_FEATURES = ("file", "offset_seconds", "excerpt_seconds", "reference_db", "nyquist_hz")


def run_quality_data(params: dict, *, out_dir: Path = QUALITY, metrics_path: Path = METRICS / "quality_data.json",
                     progress: bool = True) -> dict:  # fmt: skip
    """Render the sources, put each through every condition, draw the excerpts; write the tables beside the files."""
    from genrelab.parallel import configured
    from genrelab.quality.corpus import build_corpus, excerpt_offsets

    c = params["quality"]["corpus"]
    with configured(params["parallel"]):
        files, sources, skipped = build_corpus(
            out_dir / "files", styles=c["styles"], sources_per_style=c["sources_per_style"], seconds=c["source_seconds"],
            conditions=c["conditions"], probes=c["probes"], test_fraction=c["test_fraction"], seed=c["seed"],
            min_bandwidth_hz=c["min_bandwidth_hz"], jobs=c["jobs"], progress=progress)  # fmt: skip
    held_out = files[files["split"] == "test"]
    excerpts = pd.concat([excerpt_offsets(files, c["excerpt_seconds"], c["seed"]).assign(probe_excerpt=False),
                          excerpt_offsets(held_out, c["probe_excerpt_seconds"], c["seed"]).assign(probe_excerpt=True)],
                         ignore_index=True)  # fmt: skip
    # A file shorter than two lengths gives the same whole-file excerpt twice: keep it once (as a main one).
    excerpts = excerpts.drop_duplicates(["file", "excerpt_seconds", "offset_seconds"], ignore_index=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    files.to_csv(out_dir / "files.csv", index=False)
    sources.to_csv(out_dir / "sources.csv", index=False)
    excerpts.to_csv(out_dir / "excerpts.csv", index=False)
    skipped.to_csv(out_dir / "skipped.csv", index=False)
    metrics = {"sources": int(len(sources)), "sources_excluded": int((sources["status"] != "ok").sum()),
               "held_out": int((sources["split"] == "test").sum()), "files": int(len(files)),
               "conditions": len(c["conditions"]), "probes": len(c["probes"]) - len(skipped),
               "probes_skipped": skipped["condition"].tolist(), "excerpts": int(len(excerpts))}  # fmt: skip
    write_json(metrics, metrics_path)
    return metrics


@dataclass
class QualityStudy:
    """What ``quality_models`` measured (also written to results/ and models/quality/)."""

    table: pd.DataFrame  # one row per excerpt: labels, source, split, probe flags, features
    feature_columns: list[str]
    test: np.ndarray  # bool per row: held out
    scores: pd.DataFrame  # target, model, excerpt_seconds, n_files, balanced_accuracy(+CI), macro_f1(+CI)
    verdicts: pd.DataFrame  # model, excerpt_seconds: fake lossless caught, genuine lossless accused
    predictions: pd.DataFrame  # test rows: file, condition, excerpt_seconds, target, model, true, predicted
    shipped: str  # the model saved for `genrelab quality`
    generalisation: pd.DataFrame  # the shipped model beyond LAME at 44.1 kHz (quality.evaluation.generalisation)
    styles: pd.DataFrame  # the shipped model on each style left out (quality.evaluation.leave_one_style_out)
    skipped: pd.DataFrame  # condition, reason: probes whose encoder this machine lacks


def run_quality_models(params: dict, *, data_dir: Path = QUALITY, models_dir: Path = MODELS,
                       results_dir: Path = RESULTS, metrics_path: Path = METRICS / "quality.json",
                       progress: bool = True) -> QualityStudy:  # fmt: skip
    """Features of every excerpt, every model on held-out sources, the verdicts, the shipped model
    and its generalisation tests."""
    from genrelab.quality.evaluation import generalisation, leave_one_style_out, lossless_verdicts, score

    m = params["quality"]["models"]
    table, columns, pictures = _feature_rows(data_dir, m, params["parallel"], progress)
    test = (table["split"] == "test").to_numpy()
    main = ~table["probe"].to_numpy(bool) & ~table["probe_excerpt"].to_numpy(bool)  # LAME at 44.1 kHz, full excerpts
    X = table[columns].to_numpy(dtype=float)
    inputs = {"features": X, "band": pictures["band"], "spek": pictures["spek"].reshape(len(table), -1)}
    features = quality_models(m["models"], columns, m["seed"])
    runs = [(target, name, "features", factory) for target in TARGETS for name, factory in features.items()
            if name != "rule" or target == "group"]  # the LAME table names groups, not settings
    runs += [("group", name, kind, factory) for name, (kind, factory) in picture_models(m).items()]
    train, groups = ~test & main, table["source_id"].to_numpy(dtype=object)
    scores, verdicts, predictions, held_out_groups = [], [], [], {}
    for target, name, kind, factory in runs:
        y, A = table[target].to_numpy(dtype=object), inputs[kind]
        fit = {"groups": groups[train]} if kind == "band" else {}  # the CNN stops early on whole sources
        predicted = factory().fit(A[train], y[train], **fit).predict(A[test])
        if target == "group":
            held_out_groups[name] = predicted
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
    scores, verdicts = pd.DataFrame(scores), pd.DataFrame(verdicts)
    predictions = pd.concat(predictions, ignore_index=True)
    shipped = _best_group_model(scores[scores["input"] == "features"])  # `genrelab quality` computes the features
    seconds = float(scores["excerpt_seconds"].min())
    general = generalisation(table[test], held_out_groups[shipped], seconds)
    styles = leave_one_style_out(table, X, quality_models(m["models"], columns, m["seed"])[shipped], main, seconds)
    _ship(shipped, _held_out(scores, verdicts, shipped), table[main], X[main], columns, m, models_dir)
    skipped = pd.read_csv(data_dir / "skipped.csv", keep_default_na=False)
    results_dir.mkdir(parents=True, exist_ok=True)
    scores.to_csv(results_dir / "quality_scores.csv", index=False)
    verdicts.to_csv(results_dir / "quality_verdicts.csv", index=False)
    general.to_csv(results_dir / "quality_generalisation.csv", index=False)
    styles.to_csv(results_dir / "quality_styles.csv", index=False)
    predictions.to_parquet(results_dir / "quality_predictions.parquet", index=False)
    best = scores[(scores["target"] == "group") & (scores["model"] == shipped)]
    write_json({"shipped": shipped, "files": int(table["file"].nunique()), "excerpts": int(len(table)),
                "test_excerpts": int((test & main).sum()),
                "group_macro_f1": {f"{s:g}s": round(v, 4) for s, v in zip(best["excerpt_seconds"], best["macro_f1"])},
                "verdicts": verdicts[verdicts["model"] == shipped].round(4).to_dict("records"),
                "generalisation": {f"{r.test} {r.condition}".strip(): round(r.value, 4) for r in general.itertuples()},
                "style_left_out": round(float(styles["value"].iloc[-1]), 4),
                "probes_skipped": skipped["condition"].tolist()}, metrics_path)  # fmt: skip
    return QualityStudy(table, columns, test, scores, verdicts, predictions, shipped, general, styles, skipped)


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


def _best_group_model(scores: pd.DataFrame) -> str:
    """The group model of the best mean held-out macro-F1 over excerpt lengths; ties by name."""
    group = scores[scores["target"] == "group"].groupby("model")["macro_f1"].mean()
    return sorted(group.index, key=lambda n: (-group[n], n))[0]


def _held_out(scores: pd.DataFrame, verdicts: pd.DataFrame, name: str) -> dict:
    """What ``genrelab quality`` says of its model: the held-out figures at the shortest excerpts (its default)."""
    seconds = scores["excerpt_seconds"].min()
    at = (scores["target"] == "group") & (scores["model"] == name) & (scores["excerpt_seconds"] == seconds)
    verdict = verdicts[(verdicts["model"] == name) & (verdicts["excerpt_seconds"] == seconds)].iloc[0]
    return {"excerpt_seconds": float(seconds), "group_macro_f1": round(float(scores.loc[at, "macro_f1"].iloc[0]), 4),
            "fake_detection": round(float(verdict["fake_detection"]), 4),
            "false_positive_rate": round(float(verdict["false_positive_rate"]), 4)}  # fmt: skip


def _ship(name: str, held_out: dict, table: pd.DataFrame, X: np.ndarray, columns: list[str], m: dict,
          models_dir: Path) -> None:  # fmt: skip
    """Refit model ``name`` on every source and save it, with its held-out figures."""
    from genrelab import models
    from genrelab.models import SavedModel

    estimator = quality_models(m["models"], columns, m["seed"])[name]().fit(X, table["group"].to_numpy(dtype=object))
    saved = SavedModel(estimator, approach="quality", model=name, protocol="all_sources", level="excerpt",
                       classes=[str(c) for c in estimator.classes_],
                       features={"input": "quality features of an excerpt (genrelab.quality.excerpts)",
                                 "columns": columns, "edge_db": m["edge_db"], "held_out": held_out})  # fmt: skip
    models.save(saved, models_dir / "model.joblib")
