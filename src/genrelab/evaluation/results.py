"""The study's results table: scoring, confidence intervals, track aggregation, DVC metrics (headline figures).

Each model stage writes its rows to ``results/parts/<approach>.csv``; the ``scores`` stage
concatenates them into ``results/scores.csv``, the one table the book reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from genrelab.errors import DataError

SCORE_COLUMNS = [
    "approach",
    "model",
    "protocol",
    "level",
    "accuracy",
    "macro_f1",
    "ci_low",
    "ci_high",
    "n_test",
    "fit_seconds",
    "predict_seconds",
    "select_score",
    "select_std",
    "select_folds",
    "select_by",
    "selected",
]
LEVELS = ("segment", "track", "clip")
SCOPES = {"track": ("track", "clip"), "segment": ("segment",)}  # the levels that compete for an approach's entry
PREDICTION_COLUMNS = ["approach", "model", "protocol", "level", "track_id", "segment", "y_true", "y_pred"]


def bootstrap_ci(
    y_true, y_pred, groups, *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0, metric: str | None = None
) -> tuple[float, float]:
    """Percentile bootstrap interval of accuracy (or ``metric``), resampling whole groups (test tracks).

    Segments of one track are not independent, so resampling rows would give intervals that
    are too narrow; resampling tracks keeps each track's rows together.

    Parameters
    ----------
    y_true, y_pred : labels, shape (n_rows,).
    groups : track id of each row, shape (n_rows,).
    metric : ``"balanced_accuracy"`` or ``"macro_f1"`` (as scikit-learn computes them); ``None``: accuracy.

    Returns
    -------
    (low, high) bounds of the ``1 - alpha`` interval.
    """
    if metric is not None:
        return _bootstrap_metric(metric, y_true, y_pred, groups, n_boot, alpha, seed)
    correct = np.asarray(y_true, dtype=object) == np.asarray(y_pred, dtype=object)
    codes, _ = pd.factorize(np.asarray(groups, dtype=object))
    hits = np.bincount(codes, weights=correct.astype(float))
    sizes = np.bincount(codes).astype(float)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(sizes), size=(n_boot, len(sizes)))
    accs = hits[draws].sum(axis=1) / sizes[draws].sum(axis=1)
    low, high = np.quantile(accs, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _bootstrap_metric(metric: str, y_true, y_pred, groups, n_boot: int, alpha: float, seed: int) -> tuple[float, float]:
    """Resample groups, then score each draw from its summed confusion counts (vectorised)."""
    if metric not in CONFUSION_METRICS:
        raise ValueError(f"metric must be one of {', '.join(CONFUSION_METRICS)}; got {metric!r}")
    labels = pd.Index(pd.unique(np.concatenate([np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)])))
    t, p = labels.get_indexer(np.asarray(y_true, dtype=object)), labels.get_indexer(np.asarray(y_pred, dtype=object))
    codes, _ = pd.factorize(np.asarray(groups, dtype=object))
    k = len(labels)
    per_group = np.zeros((codes.max() + 1, k * k))
    np.add.at(per_group, (codes, t * k + p), 1)
    draws = np.random.default_rng(seed).integers(0, len(per_group), size=(n_boot, len(per_group)))
    counts = np.zeros((n_boot, len(per_group)))
    np.add.at(counts, (np.repeat(np.arange(n_boot), draws.shape[1]), draws.ravel()), 1)
    values = CONFUSION_METRICS[metric]((counts @ per_group).reshape(n_boot, k, k))
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _balanced_accuracy(M: np.ndarray) -> np.ndarray:
    """Mean recall over the classes present in y_true, per confusion matrix ``M[b, true, pred]`` (sklearn's)."""
    support = M.sum(axis=2)
    recall = np.divide(np.diagonal(M, axis1=1, axis2=2), support, out=np.zeros_like(support), where=support > 0)
    return recall.sum(axis=1) / (support > 0).sum(axis=1)


def _macro_f1(M: np.ndarray) -> np.ndarray:
    """Mean F1 over the classes in y_true or y_pred, per confusion matrix (sklearn's ``average="macro"``)."""
    both = M.sum(axis=2) + M.sum(axis=1)
    f1 = np.divide(2 * np.diagonal(M, axis1=1, axis2=2), both, out=np.zeros_like(both), where=both > 0)
    return f1.sum(axis=1) / (both > 0).sum(axis=1)


CONFUSION_METRICS = {"balanced_accuracy": _balanced_accuracy, "macro_f1": _macro_f1}


def score_row(
    *,
    approach: str,
    model: str,
    protocol: str,
    level: str,
    y_true,
    y_pred,
    groups,
    fit_seconds: float,
    predict_seconds: float,
    seed: int = 0,
    selection: tuple = ((), ""),
) -> dict:
    """One row of the results table for one model, protocol and level.

    ``groups`` is the track id of each test row (for ``track`` and ``clip`` levels, the rows are
    tracks already). Times are wall-clock seconds for the whole fit and the whole test prediction.
    ``selection`` is ``(fold accuracies at this level, how the folds were made)``: computed inside
    the training rows (:func:`genrelab.evaluation.selection.selection_folds`), they give ``select_score``
    (their mean), ``select_std`` and ``select_folds``; ``selected`` is set by :func:`mark_selected`.
    """
    if level not in LEVELS:
        raise DataError(f"unknown level {level!r}; use one of {LEVELS}")
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    if len(y_true) == 0:
        raise DataError(f"{approach}/{model}/{protocol}/{level}: the test set is empty. Check the splits.")
    low, high = bootstrap_ci(y_true, y_pred, groups, seed=seed)
    folds, selected_by = np.asarray(selection[0], dtype=float), selection[1]
    return {
        "approach": approach,
        "model": model,
        "protocol": protocol,
        "level": level,
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "ci_low": low,
        "ci_high": high,
        "n_test": int(len(y_true)),
        "fit_seconds": float(fit_seconds),
        "predict_seconds": float(predict_seconds),
        "select_score": float(folds.mean()) if len(folds) else float("nan"),
        "select_std": float(folds.std()) if len(folds) else float("nan"),
        "select_folds": int(len(folds)),
        "select_by": selected_by if len(folds) else "",
        "selected": False,
    }


def mark_selected(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of results rows with ``selected`` set: the entry each approach reports under each protocol.

    Within each approach, protocol and scope (:data:`SCOPES`: track and clip rows compete for the
    track-level entry, segment rows for the segment-level one), the row with the highest
    ``select_score`` is selected; ties go to the smaller ``select_std``, then to the model name and
    level in alphabetical order. Test scores play no part. Rows without a selection score are never
    selected; a group where none has one has no selected row.
    """
    ranked = table.assign(_std=table["select_std"].fillna(np.inf), _row=np.arange(len(table)))
    ranked = ranked.dropna(subset=["select_score"]).sort_values(
        ["select_score", "_std", "model", "level"], ascending=[False, True, True, True], kind="stable")
    selected = np.zeros(len(table), dtype=bool)
    for levels in SCOPES.values():
        part = ranked[ranked["level"].isin(levels)]
        selected[part.groupby(["approach", "protocol"], sort=False).head(1)["_row"].to_numpy()] = True
    return table.assign(selected=selected)


def aggregate_tracks(proba: np.ndarray, track_ids, classes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average segment probabilities per track (soft voting).

    Parameters
    ----------
    proba : shape (n_segments, n_classes), each row a probability vector.
    track_ids : shape (n_segments,).
    classes : shape (n_classes,), the label of each column.

    Returns
    -------
    tracks : unique track ids, sorted, shape (n_tracks,)
    mean_proba : shape (n_tracks, n_classes)
    predicted : the arg-max label of each track, shape (n_tracks,)
    """
    proba = np.asarray(proba, dtype=float)
    codes, tracks = pd.factorize(np.asarray(track_ids, dtype=object), sort=True)
    sums = np.zeros((len(tracks), proba.shape[1]))
    np.add.at(sums, codes, proba)
    mean = sums / np.bincount(codes)[:, None]
    return np.asarray(tracks, dtype=object), mean, np.asarray(classes, dtype=object)[mean.argmax(axis=1)]


def write_part(rows: list[dict], approach: str, parts_dir: str | Path = "results/parts") -> pd.DataFrame:
    """Write one approach's rows to ``parts_dir/<approach>.csv`` (replacing it) and return them."""
    table = mark_selected(pd.DataFrame(rows, columns=SCORE_COLUMNS))
    wrong = set(table["approach"]) - {approach}
    if wrong:
        raise DataError(f"rows of approach {sorted(wrong)} written to the part of {approach!r}")
    parts_dir = Path(parts_dir)
    parts_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(parts_dir / f"{approach}.csv", index=False)
    return table


def write_predictions(predictions: pd.DataFrame, approach: str, out_dir: str | Path = "results/predictions") -> Path:
    """Write one approach's test predictions to ``out_dir/<approach>.parquet`` (replacing it).

    One row per test example and (model, protocol, level); ``segment`` is -1 for track and clip
    rows. The compare stage reads these for per-genre F1, confusion matrices and paired tests.
    """
    missing = set(PREDICTION_COLUMNS) - set(predictions.columns)
    if missing:
        raise DataError(f"predictions of {approach!r} lack columns {sorted(missing)}")
    out = Path(out_dir) / f"{approach}.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    table = predictions[PREDICTION_COLUMNS].astype({"segment": "int64"})
    table.astype({c: str for c in PREDICTION_COLUMNS if c != "segment"}).to_parquet(out, index=False)
    return out


def stack_tables(folder: str | Path, suffix: str, columns: list[str], what: str) -> pd.DataFrame:
    """Every ``*.<suffix>`` table (``csv`` or ``parquet``) of ``folder``, one under the other, in file
    name order, with ``columns`` only; :class:`DataError` naming ``what`` if there is none or one
    lacks a column."""
    files = sorted(Path(folder).glob(f"*.{suffix}"))
    if not files:
        raise DataError(f"{folder}: no {what} (*.{suffix}). Run the model stages first (dvc repro).")
    read = pd.read_parquet if suffix == "parquet" else pd.read_csv
    table = pd.concat([read(f) for f in files], ignore_index=True)
    missing = set(columns) - set(table.columns)
    if missing:
        raise DataError(f"{folder}: {what} lack columns {sorted(missing)}")
    return table[list(columns)]


def read_scores(path: str | Path) -> pd.DataFrame:
    """A results table as written: text kept as text (a model may be called ``None``), empty selection
    scores as NaN."""
    return pd.read_csv(path, keep_default_na=False, na_values={c: [""] for c in ("select_score", "select_std")})


def collect_scores(parts_dir: str | Path = "results/parts", out: str | Path = "results/scores.csv") -> pd.DataFrame:
    """Concatenate every part into the study's results table, sorted for stable diffs."""
    table = mark_selected(stack_tables(parts_dir, "csv", SCORE_COLUMNS, "result parts").fillna({"select_by": ""}))
    table = table.sort_values(["approach", "model", "protocol", "level"]).reset_index(drop=True)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    return table


def write_curves(evaluation, curves_dir: str | Path) -> dict[tuple[str, str], Path]:
    """The learning curves of an evaluation's trained networks (estimators with ``history_``) as
    ``curves_dir/<approach>__<model>__<protocol>.csv``, for DVC plots.

    ``evaluation`` is a :class:`genrelab.evaluation.loop.Evaluation`. Returns (model, protocol) ->
    written file; the folder is made even when nothing has curves (a DVC output).
    """
    from genrelab.models import file_slug

    Path(curves_dir).mkdir(parents=True, exist_ok=True)
    paths = {}
    for (model, protocol), detail in evaluation.details.items():
        history = getattr(detail.estimator, "history_", None)
        if history is not None:
            paths[model, protocol] = Path(curves_dir) / f"{evaluation.approach}__{file_slug(model)}__{protocol}.csv"
            history.to_csv(paths[model, protocol], index=False)
    return paths


METRICS_DIGITS = 4


def headline_metrics(rows: list[dict] | pd.DataFrame) -> dict:
    """The headline figures of one approach's results rows, for ``dvc metrics show``.

    ``{protocol: test accuracy}``: under each protocol, the approach's selected track-level entry
    (:func:`mark_selected`'s pick among the track and clip rows, the rule that sets the parts'
    ``selected``), rounded to :data:`METRICS_DIGITS` places. A protocol without a selected entry
    (rows without selection scores) has no key. Every other figure (the selection score, the
    candidates) stays in the results part.
    """
    table = pd.DataFrame(rows)
    if table.empty:
        table = pd.DataFrame(columns=SCORE_COLUMNS)
    # The parts' own rule, applied here too: a stage's fresh rows are not marked yet (score_row).
    scores = {c: table[c] if c in table else np.nan for c in ("select_score", "select_std")}
    table = mark_selected(table.assign(**scores))
    table = table[table["level"].isin(SCOPES["track"])]
    return {r.protocol: round(float(r.accuracy), METRICS_DIGITS)
            for r in table[table["selected"]].sort_values("protocol").itertuples(index=False)}


def write_metrics(rows: list[dict] | pd.DataFrame, metrics_dir: str | Path, approaches=None) -> dict[str, dict]:
    """DVC metrics of a model stage: ``metrics_dir/<approach>.json`` (:func:`headline_metrics`) per approach.

    One file per approach, every file with the same keys, so that ``dvc metrics show`` puts the
    approaches in rows under shared columns (it makes one column per distinct key of all the files
    it shows) and stays a terminal wide. ``approaches`` lists the files to write, an approach
    without rows included (a DVC output must exist); by default the approaches of ``rows``.
    Returns ``{approach: metrics}``.
    """
    table = pd.DataFrame(rows)
    if table.empty:  # e.g. a stage whose approaches are all switched off: no rows, maybe no columns
        table = pd.DataFrame(columns=SCORE_COLUMNS)
    approaches = sorted(set(table["approach"])) if approaches is None else list(approaches)
    Path(metrics_dir).mkdir(parents=True, exist_ok=True)
    written = {}
    for approach in approaches:
        written[approach] = headline_metrics(table[table["approach"] == approach])
        text = json.dumps(written[approach], indent=2, sort_keys=True) + "\n"
        (Path(metrics_dir) / f"{approach}.json").write_text(text)
    return written


def write_metrics_from_parts(parts_dir: str | Path = "results/parts", metrics_dir: str | Path = "metrics/models"):
    """Rewrite every approach's metrics file from its results part, without rerunning its stage."""
    files = sorted(Path(parts_dir).glob("*.csv"))
    if not files:
        raise DataError(f"{parts_dir}: no result parts (*.csv). Run the model stages first (dvc repro).")
    return {f.stem: write_metrics(read_scores(f), metrics_dir, approaches=[f.stem])[f.stem] for f in files}
