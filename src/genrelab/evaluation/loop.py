"""The evaluation loop shared by every approach (audio features, spectrogram images, CNNs).

For each model and protocol, :func:`evaluate` trains on the protocol's training rows, computes a
*selection score* inside them (:func:`~genrelab.evaluation.selection.selection_folds`: the
protocol's official validation split, or cross-validation grouped like the protocol, so the
estimate is as honest as the test), tests once on the held-out rows and, for segment-level data,
also scores tracks by averaging their segments' probabilities. Rows of the ``excluded`` subset are
never used. Which entry an approach reports is chosen from the selection scores alone
(:func:`genrelab.evaluation.results.mark_selected`): the test rows score the chosen entry, they
never choose it. :class:`Evaluation` holds what it measured; :func:`concat_evaluations` merges
the evaluations of one approach made in parts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.metrics import classification_report, confusion_matrix
from tqdm.auto import tqdm

from genrelab.errors import DataError
from genrelab.evaluation.results import PREDICTION_COLUMNS, SCORE_COLUMNS, aggregate_tracks, score_row
from genrelab.evaluation.selection import OFFICIAL_SPLIT, fit_with_groups, selection_folds, validates_itself
from genrelab.evaluation.splits import PROTOCOLS, available_protocols, cv_groups, segment_subsets
from genrelab.models import suffix_for
from genrelab.parallel import Failure, map_tracks

EXAMPLE_LEVELS = ("segment", "clip")
BASELINE = "random_segment"


@dataclass
class RunDetail:
    """What one model learned and scored under one protocol, at the evaluation's example level.

    Accuracies are fractions in [0, 1]; times are wall-clock seconds.

    cv_scores : accuracy of each selection fold (:func:`~genrelab.evaluation.selection.selection_folds`)
        on its validation rows (segments or clips), shape (n_folds,); empty when there was none. ``cv_mean``/``cv_std``
        are their mean and standard deviation (NaN when none).
    cv_track_scores : the same folds scored per track (segment probabilities averaged), at
        segment level; empty otherwise.
    selected_by : how the folds were made, in words (``""`` when there was none).
    train_accuracy : accuracy of the final model on its own training rows.
    test_accuracy : accuracy on the test rows (segments or clips).
    track_accuracy : accuracy of tracks from averaged segment probabilities (segment level only).
    report : :func:`sklearn.metrics.classification_report` of the test rows, as a dict.
    confusion : test confusion matrix, rows = true label, columns = predicted label (counts).
    estimator : the model fitted on all training rows.
    fit_seconds, predict_seconds : the final fit, and ``predict_proba`` on the test rows.
    """

    model: str
    protocol: str
    level: str
    cv_scores: np.ndarray
    cv_track_scores: np.ndarray
    selected_by: str
    train_accuracy: float
    test_accuracy: float
    track_accuracy: float | None
    report: dict
    confusion: pd.DataFrame
    estimator: BaseEstimator
    fit_seconds: float
    predict_seconds: float

    @property
    def cv_mean(self) -> float:
        return float(np.mean(self.cv_scores)) if len(self.cv_scores) else float("nan")

    @property
    def cv_std(self) -> float:
        return float(np.std(self.cv_scores)) if len(self.cv_scores) else float("nan")


@dataclass
class Evaluation:
    """Everything :func:`evaluate` measured for one approach and one example level.

    scores : the approach's rows of the results table (:data:`genrelab.evaluation.results.SCORE_COLUMNS`);
        levels ``segment`` and ``track``, or ``clip``.
    predictions : one row per test example (:data:`genrelab.evaluation.results.PREDICTION_COLUMNS`).
    details : (model, protocol) -> :class:`RunDetail`.
    """

    approach: str
    level: str
    scores: pd.DataFrame
    predictions: pd.DataFrame
    details: dict[tuple[str, str], RunDetail] = field(repr=False)

    def summary(self) -> pd.DataFrame:
        """One row per model and protocol: CV mean and std, train, test (and track) accuracy, times."""
        table = pd.DataFrame(
            [
                {
                    "model": d.model,
                    "protocol": d.protocol,
                    "level": d.level,
                    "cv_mean": d.cv_mean,
                    "cv_std": d.cv_std,
                    "train_accuracy": d.train_accuracy,
                    "test_accuracy": d.test_accuracy,
                    "track_accuracy": d.track_accuracy,
                    "fit_seconds": d.fit_seconds,
                    "predict_seconds": d.predict_seconds,
                }
                for d in self.details.values()
            ]
        )
        return table.drop(columns=[] if self.level == "segment" else ["track_accuracy"])

    def leakage(self, level: str | None = None) -> pd.DataFrame:
        """Test accuracy (%) per model (rows) and protocol (columns), and the drop vs ``random_segment``.

        ``drop_<protocol>`` is ``random_segment`` accuracy minus that protocol's, in percentage
        points: how much of the leaky score came from seeing the test tracks (or artists).

        Parameters
        ----------
        level : a level of :attr:`scores` (default: the evaluation's example level).
        """
        level = level or self.level
        rows = self.scores[self.scores["level"] == level]
        if rows.empty:
            raise DataError(f"no scores at level {level!r}; levels here: {sorted(self.scores['level'].unique())}")
        table = rows.pivot(index="model", columns="protocol", values="accuracy") * 100
        table = table.reindex(index=list(dict.fromkeys(rows["model"])), columns=[p for p in PROTOCOLS if p in table])
        if BASELINE not in table:
            raise DataError(f"the leakage table needs the {BASELINE!r} protocol; evaluate it too.")
        for protocol in table.columns.drop(BASELINE):
            table[f"drop_{protocol}"] = table[BASELINE] - table[protocol]
        table.columns.name = None
        return table


def evaluate(
    X,
    y,
    rows: pd.DataFrame,
    splits: pd.DataFrame,
    *,
    approach: str,
    models: dict[str, Callable[[], BaseEstimator]],
    protocols: Sequence[str],
    level: str,
    cv_folds: int = 5,
    seed: int = 42,
    split_seed: int = 42,
    test_fraction: float = 0.25,
    progress: bool = True,
    models_dir: str | Path | None = None,
    features: dict | None = None,
    jobs: int = 1,
) -> Evaluation:
    """Train, cross-validate and test every model under every protocol.

    Parameters
    ----------
    X : features, shape (n_rows, n_features), or (n_rows, ...) for a network's input (a CNN's
        segments), finite. Floating arrays are used in their own dtype
        and not copied (a memory-mapped float32 pixel matrix stays float32 and on disk; only the
        training and test rows are read into memory); other numbers are converted to float64.
    y : genre labels, shape (n_rows,).
    rows : one row per row of ``X``: ``track_id``, and ``segment`` (0-based) at segment level.
        At clip level each track appears once.
    splits : the split table (:func:`genrelab.evaluation.splits.make_splits`).
    approach : name of the approach, for the results rows (e.g. ``audio_features``).
    models : name -> zero-argument factory of an unfitted scikit-learn-style classifier
        (``fit``, ``predict_proba``, ``classes_``). GridSearchCV, RandomizedSearchCV and any
        estimator whose ``fit`` takes ``groups`` (the CNNs' early-stopping split) get the
        protocol's CV groups, so their inner splits are grouped too.
    protocols : columns of ``splits`` to evaluate.
    level : ``segment`` (many rows per track; also scored per track) or ``clip``.
    cv_folds : the selection folds inside the training rows
        (:func:`~genrelab.evaluation.selection.selection_folds`): 0 none (an estimator with its own
        early-stopping hold-out is scored on it), 1 one validation fold, k >= 2 k-fold CV grouped
        like the protocol. A protocol with an official validation split uses it.
    seed : seeds the CV folds and the bootstrap intervals.
    split_seed, test_fraction : ``prepare.seed`` and ``prepare.test_fraction``, with which
        :func:`genrelab.evaluation.splits.segment_subsets` draws the ``random_segment`` segments, so every
        approach tests on the same segments.
    progress : show a tqdm bar over model x protocol.
    models_dir : when given, each fitted model is saved there as
        ``<model>__<protocol>__<level>.joblib``, or ``.keras`` for a Keras-backed estimator
        (:func:`genrelab.models.save`; restore it with
        :func:`genrelab.models.load`), described by ``features``: how its input is made.
    jobs : candidates (model x protocol) fitted at a time, on :func:`genrelab.parallel.map_tracks`'
        workers (-1: one per core). Each fit is seeded, so the results do not depend on it. Keras-backed
        models are always fitted one at a time in this process: TensorFlow uses every core itself.

    Training rows are ``train`` (and ``valid``, which only ``fault_filtered`` has); test rows are
    ``test``. At clip level every protocol, ``random_segment`` included, takes the track's subset
    from the split table (there, a plain random split of tracks).
    """
    X, y, rows = _check_inputs(X, y, rows, level, cv_folds)
    track_ids = rows["track_id"].to_numpy(dtype=object)
    labels = np.unique(y)
    runs = []
    for protocol in protocols:
        subset = _subsets(splits, rows, protocol, level, split_seed, test_fraction)
        train = np.flatnonzero(np.isin(subset, ["train", "valid"]))
        test = np.flatnonzero(subset == "test")
        if len(train) == 0 or len(test) == 0:
            raise DataError(
                f"protocol {protocol!r} leaves {len(train)} training and {len(test)} test rows for {approach}; "
                "check that the rows' track ids match the split table."
            )
        groups = cv_groups(splits, track_ids[train], protocol)
        folds, selected_by = selection_folds(subset[train], y[train], groups, cv_folds, seed, protocol)
        runs += [(name, factory, protocol, level, X, y, rows, train, test, groups, (folds, selected_by), labels)
                 for name, factory in models.items()]  # fmt: skip
    desc = f"{approach} ({level})"
    if jobs == 1 or any(suffix_for(factory()) == ".keras" for factory in models.values()):
        done = [_run(*run) for run in tqdm(runs, desc=desc, unit="fit", disable=not progress)]
    else:  # worker processes, one BLAS thread each
        done = map_tracks(_run, runs, jobs=jobs, desc=desc, unit="fit", progress=progress)
        if failed := next((d for d in done if isinstance(d, Failure)), None):
            raise failed.error  # a fit reading a file: not something a loop over models expects
    results, predictions, details = [], [], {}
    for detail, predicted in done:
        details[detail.model, detail.protocol] = detail
        if models_dir is not None:
            _save(detail, approach, models_dir, features or {})
        results += [score_row(approach=approach, seed=seed, **p) for p in _score_args(detail, predicted)]
        predictions.append(_prediction_table(approach, detail, predicted))
    return Evaluation(
        approach=approach,
        level=level,
        scores=pd.DataFrame(results, columns=SCORE_COLUMNS),
        predictions=pd.concat(predictions, ignore_index=True)[PREDICTION_COLUMNS],
        details=details,
    )


def concat_evaluations(parts: Sequence[Evaluation]) -> Evaluation:
    """One :class:`Evaluation` of an approach evaluated in parts (e.g. one protocol at a time)."""
    first = parts[0]
    if any((p.approach, p.level) != (first.approach, first.level) for p in parts):
        raise DataError("concat_evaluations: the parts must share one approach and level.")
    return Evaluation(
        approach=first.approach,
        level=first.level,
        scores=pd.concat([p.scores for p in parts], ignore_index=True),
        predictions=pd.concat([p.predictions for p in parts], ignore_index=True),
        details={key: detail for p in parts for key, detail in p.details.items()},
    )


def _save(detail: RunDetail, approach: str, models_dir: str | Path, features: dict) -> None:
    from genrelab.models import SavedModel, model_path, save

    classes = [str(c) for c in detail.estimator.classes_]
    saved = SavedModel(detail.estimator, approach, detail.model, detail.protocol, detail.level, classes, features)
    save(saved, model_path(models_dir, detail.model, detail.protocol, detail.level, suffix_for(detail.estimator)))


def _check_inputs(
X, y, rows: pd.DataFrame, level: str, cv_folds: int) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    if level not in EXAMPLE_LEVELS:
        raise DataError(f"level must be one of {EXAMPLE_LEVELS}, got {level!r}")
    X = _as_float_matrix(X)
    y = np.asarray(y, dtype=object)
    if X.ndim < 2 or y.ndim != 1 or not len(X) == len(y) == len(rows):
        raise DataError(
            f"X {X.shape}, y {y.shape} and rows ({len(rows)}) must describe the same rows: "
            "X (n_rows, n_features) or (n_rows, ...), y 1-D (n_rows,)."
        )
    needed = ["track_id", "segment"] if level == "segment" else ["track_id"]
    missing = [c for c in needed if c not in rows.columns]
    if missing:
        raise DataError(f"rows lack column(s) {missing}; {level}-level rows need {needed}.")
    if level == "clip" and rows["track_id"].duplicated().any():
        first = rows.loc[rows["track_id"].duplicated(), "track_id"].iloc[0]
        raise DataError(f"clip-level rows must hold one row per track; {first!r} appears more than once.")
    _check_finite(X)
    if cv_folds < 0:
        raise DataError(f"cv_folds must be 0 (no selection folds), 1 (one validation fold) or k >= 2, got {cv_folds}.")
    return X, y, rows.reset_index(drop=True)


def _as_float_matrix(X) -> np.ndarray:
    """``X`` as an array without copying floating data (float32 stays float32, float64 float64);
    integers and other numbers become float64."""
    X = np.asarray(X)
    return X if np.issubdtype(X.dtype, np.floating) else X.astype(np.float64)


_FINITE_CHUNK_BYTES = 64 * 2**20  # the boolean mask of one chunk is a quarter of this for float32


def _check_finite(X: np.ndarray) -> None:
    """Raise :class:`DataError` naming the first non-finite value of ``X`` (n_rows, ...).

    Checked a block of rows at a time, so a large (memory-mapped) matrix never gets a full-size
    temporary mask.
    """
    row_size = int(np.prod(X.shape[1:]))
    step = max(1, _FINITE_CHUNK_BYTES // max(1, row_size * X.itemsize))
    for start in range(0, len(X), step):
        bad = np.argwhere(~np.isfinite(X[start : start + step].reshape(-1, row_size)))
        if len(bad):
            row, column = bad[0]
            raise DataError(f"X has non-finite value(s), the first at row {start + row}, feature {column}.")


def _subsets(splits, rows, protocol, level, split_seed, test_fraction) -> np.ndarray:
    """Subset of each row; at clip level the track's own subset under every protocol."""
    track_ids = rows["track_id"].to_numpy(dtype=object)
    segments = rows["segment"].to_numpy() if level == "segment" else np.zeros(len(rows), dtype=int)
    if protocol not in splits.columns:
        raise DataError(f"protocol {protocol!r} is not in the split table; available: {available_protocols(splits)}.")
    if level == "clip" and protocol == BASELINE:
        # segment_subsets draws random_segment per row; a clip is a whole track, so take the
        # table's track-level split (a plain random split of tracks).
        return splits.set_index("track_id")[BASELINE].reindex(track_ids).fillna("excluded").to_numpy(dtype=object)
    return segment_subsets(splits, track_ids, segments, protocol, seed=split_seed, test_fraction=test_fraction)


def _run(name, factory, protocol, level, X, y, rows, train, test, groups, selection, labels):
    """Selection folds, final fit and test prediction of one model under one protocol.

    ``selection`` is :func:`~genrelab.evaluation.selection.selection_folds`' ``(folds, description)``.
    Without folds, an estimator that holds out part of its training rows itself (``validation_rows_``, ``validation_proba_``:
    the CNNs' early-stopping split) is scored on those rows.

    Returns the :class:`RunDetail` and the test predictions: a DataFrame with ``level, track_id,
    segment, y_true, y_pred`` (segment -1 for clip and track rows), track rows after segment rows.
    """
    folds, selected_by = selection
    track_ids = rows["track_id"].to_numpy(dtype=object)
    fold_scores = []
    estimator = factory()
    validation_rows = None
    if validates_itself(estimator) and selected_by == OFFICIAL_SPLIT:
        # Early stopping on the official validation split is the selection fold: one fit, not two.
        validation_rows, folds = folds[0][1], []
    for fit_idx, val_idx in folds:
        rows_fit, rows_val = train[fit_idx], train[val_idx]
        model = fit_with_groups(factory(), X[rows_fit], y[rows_fit], None if groups is None else groups[fit_idx])
        fold_scores.append(_validation_scores(model.predict_proba(X[rows_val]), model.classes_, y[rows_val],
                                              track_ids[rows_val], level))  # fmt: skip

    X_train = X[train]  # one copy, for the fit and the training accuracy
    start = time.perf_counter()
    fit_with_groups(estimator, X_train, y[train], groups, validation_rows)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    proba = estimator.predict_proba(X[test])
    predict_seconds = time.perf_counter() - start
    classes = np.asarray(estimator.classes_, dtype=object)
    y_pred = classes[proba.argmax(axis=1)]
    train_pred = classes[estimator.predict_proba(X_train).argmax(axis=1)]
    del X_train
    if not folds and hasattr(estimator, "validation_rows_"):
        rows_val = train[estimator.validation_rows_]
        fold_scores.append(_validation_scores(estimator.validation_proba_, classes, y[rows_val], track_ids[rows_val],
                                              level))  # fmt: skip
        if validation_rows is None:
            selected_by = f"the early-stopping hold-out ({'random training rows' if groups is None else 'whole training groups'})"

    test_tracks = track_ids[test]
    segments = rows["segment"].to_numpy(dtype=int)[test] if level == "segment" else np.full(len(test), -1)
    predicted = [pd.DataFrame({"level": level, "track_id": test_tracks, "segment": segments, "y_true": y[test], "y_pred": y_pred})]
    if level == "segment":
        predicted.append(_track_votes(proba, classes, test_tracks, y[test]))
    predicted = pd.concat(predicted, ignore_index=True)

    detail = RunDetail(
        model=name,
        protocol=protocol,
        level=level,
        cv_scores=np.asarray([example for example, _ in fold_scores]),
        cv_track_scores=np.asarray([track for _, track in fold_scores if track is not None]),
        selected_by=selected_by,
        train_accuracy=float(np.mean(train_pred == y[train])),
        test_accuracy=float(np.mean(y_pred == y[test])),
        track_accuracy=_accuracy(predicted[predicted["level"] == "track"]) if level == "segment" else None,
        report=classification_report(y[test], y_pred, labels=labels, output_dict=True, zero_division=0),
        confusion=pd.DataFrame(
            confusion_matrix(y[test], y_pred, labels=labels),
            index=pd.Index(labels, name="true"),
            columns=pd.Index(labels, name="predicted"),
        ),
        estimator=estimator,
        fit_seconds=fit_seconds,
        predict_seconds=predict_seconds,
    )
    return detail, predicted


def _validation_scores(proba, classes, y_val, track_ids, level: str) -> tuple[float, float | None]:
    """Accuracy of one selection fold's validation rows, and at segment level of their tracks (soft vote)."""
    classes = np.asarray(classes, dtype=object)
    example = float(np.mean(classes[np.asarray(proba).argmax(axis=1)] == y_val))
    if level != "segment":
        return example, None
    votes = _track_votes(proba, classes, track_ids, y_val)
    return example, _accuracy(votes)


def _accuracy(predicted: pd.DataFrame) -> float:
    return float(np.mean(predicted["y_true"].to_numpy(dtype=object) == predicted["y_pred"].to_numpy(dtype=object)))


def _track_votes(proba, classes, track_ids, y_true) -> pd.DataFrame:
    """Track-level predictions: each test track's segment probabilities averaged (soft voting)."""
    tracks, _, voted = aggregate_tracks(proba, track_ids, classes)
    truth = pd.Series(y_true, dtype=object).groupby(track_ids)
    mixed = truth.nunique()[lambda n: n > 1]
    if len(mixed):
        raise DataError(f"segments of one track carry different labels (e.g. {list(mixed.index[:3])}); fix y.")
    return pd.DataFrame(
        {"level": "track", "track_id": tracks, "segment": -1, "y_true": truth.first().reindex(tracks).to_numpy(dtype=object), "y_pred": voted}
    )


def _score_args(detail: RunDetail, predicted: pd.DataFrame) -> list[dict]:
    """Keyword arguments of :func:`genrelab.evaluation.results.score_row` for each level of the predictions:
    track rows carry the folds' track-level scores, the others their example-level ones."""
    return [
        dict(
            model=detail.model, protocol=detail.protocol, level=level,
            y_true=part["y_true"], y_pred=part["y_pred"], groups=part["track_id"],
            fit_seconds=detail.fit_seconds, predict_seconds=detail.predict_seconds,
            selection=(detail.cv_track_scores if level == "track" else detail.cv_scores, detail.selected_by),
        )  # fmt: skip
        for level, part in predicted.groupby("level", sort=False)
    ]


def _prediction_table(approach: str, detail: RunDetail, predicted: pd.DataFrame) -> pd.DataFrame:
    return predicted.assign(approach=approach, model=detail.model, protocol=detail.protocol)[PREDICTION_COLUMNS]
