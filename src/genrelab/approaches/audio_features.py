"""The audio-feature model zoo: one scikit-learn pipeline per model, configured from params.yaml.

Every model is a :class:`~sklearn.pipeline.Pipeline` whose first step standardises the features
(``scale``) and whose last step is the classifier (``clf``), so the scaler is refitted on each
training fold and never sees test rows. Models that pick a hyper-parameter (the decision tree's
depth, KNN's ``k``) wrap that pipeline in a :class:`~sklearn.model_selection.GridSearchCV` with a
:class:`~sklearn.model_selection.StratifiedGroupKFold`; :func:`genrelab.evaluation.loop.evaluate` passes
it the protocol's CV groups, so the inner search is as honest as the outer evaluation.

``audio_models.models`` in params.yaml maps a model name to keyword arguments of its classifier,
plus three reserved keys:

``enabled``
    ``false`` leaves the model out.
``grid``
    (``tree``, ``knn``) classifier parameter -> list of values searched.
``inner_folds``
    (``tree``, ``knn``) folds of the inner search.

An empty or missing mapping runs the whole zoo with its defaults; otherwise the models listed run,
in the order listed.
"""

from __future__ import annotations

import difflib
from typing import Any, Callable

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import BaggingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

from genrelab.config import ParamsError
from genrelab.models import ModelError, ProbabilityClassifier

PARAMS_KEY = "audio_models.models"
RESERVED = ("enabled", "grid", "inner_folds")
LINEAR_MODELS = ("logreg_none", "logreg_l2", "logreg_l1")
TREE_MODELS = ("tree", "bagging", "random_forest", "lightgbm")


def _classifiers(seed: int) -> dict[str, BaseEstimator]:
    """The zoo's classifiers with their defaults (before params.yaml overrides).

    Defaults are chosen so that the whole ``audio_models`` stage (3 protocols x 2 levels x the
    zoo, each with 5-fold CV) runs in minutes on 2000 x 57 segment rows and 2 cores: every
    estimator is single-threaded (``n_jobs=1``) because the machine is shared.
    """
    return {
        "dummy": DummyClassifier(strategy="most_frequent"),
        # C=inf is sklearn's spelling of "no penalty" (``penalty`` is deprecated since 1.8).
        "logreg_none": LogisticRegression(C=np.inf, max_iter=2000),
        "logreg_l2": LogisticRegression(C=1.0, max_iter=2000),
        # saga is the only multinomial L1 solver; its default tol=1e-4 takes ~5x longer on
        # standardised features for a change in accuracy well under a point.
        "logreg_l1": LogisticRegression(C=1.0, l1_ratio=1.0, solver="saga", tol=1e-3, max_iter=2000, random_state=seed),
        "tree": DecisionTreeClassifier(random_state=seed),
        "bagging": BaggingClassifier(DecisionTreeClassifier(), n_estimators=20, n_jobs=1, random_state=seed),
        "random_forest": RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=seed),
        "knn": KNeighborsClassifier(),
        "svm_rbf": SVC(C=10.0, gamma="scale"),
        # L-BFGS (full batch) converges in tens of iterations on a few thousand rows, where adam
        # needs hundreds of epochs to stop warning; sklearn recommends it for small data.
        "mlp": MLPClassifier(hidden_layer_sizes=(64,), solver="lbfgs", alpha=1e-2, max_iter=1000, random_state=seed),
        "lightgbm": LGBMClassifier(
            n_estimators=200, learning_rate=0.05, num_leaves=15, min_child_samples=10,
            subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
            max_bin=63,  # a few thousand rows fill no more bins than this (benchmarks/bench_lightgbm_bins.py)
            n_jobs=1, verbose=-1, random_state=seed,
        ),  # fmt: skip
    }


# Hyper-parameter grids of the models that search one: cheap, a handful of values each.
_GRIDS: dict[str, dict[str, list]] = {
    "tree": {"max_depth": [4, 6, 8, 12, None]},
    "knn": {"n_neighbors": [1, 5, 15, 30]},
}
_INNER_FOLDS = 3

MODEL_NAMES = tuple(_classifiers(0))


class PlattSVC(ProbabilityClassifier):
    """An SVC with class probabilities by Platt scaling, for track voting.

    The sigmoid is fitted on cross-validated decision values of the training rows (what
    ``SVC(probability=True)`` did internally; that flag is deprecated since sklearn 1.9): ``folds``
    stratified folds, fewer when the rarest class has fewer training rows, as on a small corpus
    under a grouped protocol. Those folds are not grouped, so on segment rows the probabilities
    may be a little overconfident. When a class has a single training row no value can be held
    out, and the sigmoid is fitted on the training rows themselves; ``calibration_`` says which
    ran (``"3-fold"``, ``"2-fold"`` or ``"in-sample"``).
    """

    def __init__(self, svc: SVC | None = None, folds: int = 3):
        self.svc = svc
        self.folds = folds

    def fit(self, X, y):
        svc = clone(self.svc if self.svc is not None else SVC())
        folds = min(self.folds, int(np.unique(np.asarray(y, dtype=object), return_counts=True)[1].min()))
        if folds >= 2:
            self.calibrated_ = CalibratedClassifierCV(svc, method="sigmoid", cv=folds, ensemble=False).fit(X, y)
            self.calibration_ = f"{folds}-fold"
        else:
            self.calibrated_ = CalibratedClassifierCV(FrozenEstimator(svc.fit(X, y)), method="sigmoid").fit(X, y)
            self.calibration_ = "in-sample"
        self.classes_ = self.calibrated_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "calibrated_")
        return self.calibrated_.predict_proba(X)


def make_models(params: dict | None = None, *, seed: int = 42) -> dict[str, Callable[[], BaseEstimator]]:
    """Factories of the zoo's unfitted models, configured by ``audio_models.models``.

    Parameters
    ----------
    params : model name -> keyword arguments of its classifier (or ``None``), with the reserved
        keys ``enabled``, ``grid`` and ``inner_folds`` (see the module docstring). ``None`` or
        empty: every model with its defaults.
    seed : random state of every randomised estimator and inner CV.

    Returns
    -------
    dict name -> zero-argument callable returning a fresh unfitted estimator with
    ``predict_proba`` (a Pipeline, or a GridSearchCV over one).

    Raises
    ------
    ParamsError : unknown model name, unknown classifier keyword, or malformed reserved key,
        naming ``audio_models.models.<name>[.<key>]``.
    """
    if not params:
        params = {name: None for name in MODEL_NAMES}
    if not isinstance(params, dict):
        raise ParamsError(f"'{PARAMS_KEY}' must be a mapping of model name -> keyword arguments, got {params!r}.")
    factories = {}
    for name, kwargs in params.items():
        spec = _model_spec(name, kwargs, seed)
        if spec is not None:
            factories[name] = spec
    return factories


def _model_spec(name: str, kwargs: Any, seed: int) -> Callable[[], BaseEstimator] | None:
    """Check one model's entry and return its factory (``None`` when disabled)."""
    key = f"{PARAMS_KEY}.{name}"
    zoo = _classifiers(seed)
    kwargs = dict(estimator_kwargs(PARAMS_KEY, name, kwargs, zoo, check=False))
    enabled = kwargs.pop("enabled", True)
    if not isinstance(enabled, bool):
        raise ParamsError(f"'{key}.enabled' must be true or false, got {enabled!r}.")
    grid = kwargs.pop("grid", _GRIDS.get(name))
    inner_folds = kwargs.pop("inner_folds", _INNER_FOLDS)
    if name not in _GRIDS and (grid is not None or inner_folds != _INNER_FOLDS):
        raise ParamsError(f"'{key}': grid/inner_folds apply only to {', '.join(_GRIDS)}. Remove them.")

    estimator_kwargs(PARAMS_KEY, name, kwargs, zoo)
    known = zoo[name].get_params(deep=True)
    if grid is not None:
        grid = _check_grid(f"{key}.grid", grid, known)
        if not isinstance(inner_folds, int) or isinstance(inner_folds, bool) or inner_folds < 2:
            raise ParamsError(f"'{key}.inner_folds' must be an integer >= 2, got {inner_folds!r}.")
    if not enabled:
        return None

    def factory() -> BaseEstimator:
        return _build(name, kwargs, grid, inner_folds, seed)

    factory.__name__ = f"make_{name}"
    return factory


def estimator_kwargs(key: str, name: Any, kwargs: Any, known: dict[str, BaseEstimator | None], *,
                     check: bool = True) -> dict:
    """The keyword arguments params.yaml gives model ``name`` under ``key`` (``*.models``), checked.

    ``known`` maps the model names allowed there to an instance of each (its ``get_params`` are
    the keywords allowed; with ``check=False`` only the name and the mapping are checked). This
    is the one check of the free-form ``models`` mappings that the params schema leaves open.
    Raises :class:`ParamsError` naming ``<key>.<name>[.<keyword>]``, with the nearest known name.
    """
    dotted = f"{key}.{name}"
    if name not in known:
        raise ParamsError(f"unknown model '{dotted}'. {_suggest(name, known, 'Known models')}")
    kwargs = {} if kwargs is None else kwargs
    if not isinstance(kwargs, dict):
        raise ParamsError(f"'{dotted}' must be a mapping of keyword arguments (or empty), got {kwargs!r}.")
    if check:
        allowed = known[name].get_params(deep=True)
        estimator = type(known[name]).__name__
        for arg in kwargs:
            if arg not in RESERVED and arg not in allowed:
                raise ParamsError(f"unknown keyword '{dotted}.{arg}' for {estimator}. {_suggest(arg, allowed, 'Known')}")
    return kwargs


def _suggest(name: Any, known, what: str) -> str:
    hint = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f"Did you mean '{hint[0]}'?" if hint else f"{what}: {', '.join(sorted(map(str, known)))}."


def _check_param(dotted: str, arg: str, known: dict) -> None:
    if arg not in known:
        raise ParamsError(f"unknown keyword '{dotted}' for this estimator. {_suggest(arg, known, 'Known')}")


def _check_grid(dotted: str, grid: Any, known: dict) -> dict[str, list]:
    if not isinstance(grid, dict) or not grid:
        raise ParamsError(f"'{dotted}' must map a parameter to a list of values, got {grid!r}.")
    for arg, values in grid.items():
        _check_param(f"{dotted}.{arg}", arg, known)
        if not isinstance(values, list) or not values:
            raise ParamsError(f"'{dotted}.{arg}' must be a non-empty list of values, got {values!r}.")
    return grid


def _build(name: str, kwargs: dict, grid: dict | None, inner_folds: int, seed: int) -> BaseEstimator:
    """A fresh estimator: scaler + classifier pipeline, wrapped in a grid search when it has one."""
    clf = _classifiers(seed)[name].set_params(**kwargs)
    if name == "svm_rbf":
        clf = PlattSVC(clf)
    pipeline = Pipeline([("scale", StandardScaler()), ("clf", clf)])
    if grid is None:
        return pipeline
    return GridSearchCV(
        pipeline,
        {f"clf__{arg}": values for arg, values in grid.items()},
        cv=InnerCV(n_splits=inner_folds, shuffle=True, random_state=seed),
        n_jobs=1,
    )


class InnerCV(StratifiedGroupKFold):
    """Stratified group k-fold that falls back to stratified k-fold when there are no groups.

    The inner search of a grid model is grouped like the protocol it is evaluated under, and
    ``random_segment`` has no groups (its segments are independent by design). On small training
    sets the number of folds shrinks to what the rarest class (and the number of groups) allows,
    never below two, so a tiny corpus still runs instead of failing inside the search.
    """

    def get_n_splits(self, X=None, y=None, groups=None):
        n = self.n_splits
        if y is not None:
            n = min(n, int(np.unique(np.asarray(y, dtype=object), return_counts=True)[1].min()))
        if groups is not None:
            n = min(n, len(np.unique(np.asarray(groups, dtype=object))))
        return max(2, n)

    def split(self, X, y=None, groups=None):
        n = self.get_n_splits(X, y, groups)
        if groups is None:
            return StratifiedKFold(n, shuffle=self.shuffle, random_state=self.random_state).split(X, y)
        return StratifiedGroupKFold(n, shuffle=self.shuffle, random_state=self.random_state).split(X, y, groups)


def feature_importance(fitted, feature_names) -> pd.Series:
    """Importance of each input feature in a fitted zoo model, largest first.

    Linear models: mean absolute coefficient across classes. The features are standardised inside
    the pipeline, so coefficients are per standard deviation and comparable across features.
    Tree models: impurity decrease (decision tree, bagging, random forest; bagging averages its
    trees) or total split gain (LightGBM), normalised to sum to 1.

    Parameters
    ----------
    fitted : a fitted zoo model (Pipeline, or GridSearchCV over one).
    feature_names : shape (n_features,).

    Returns
    -------
    Series indexed by feature name, named ``importance``.
    """
    clf = _final_classifier(fitted)
    if hasattr(clf, "coef_"):
        values = np.abs(np.atleast_2d(clf.coef_)).mean(axis=0)
    elif isinstance(clf, LGBMClassifier):
        values = clf.booster_.feature_importance(importance_type="gain")
    elif isinstance(clf, BaggingClassifier):
        values = _bagged_importance(clf, len(feature_names))
    elif hasattr(clf, "feature_importances_"):
        values = clf.feature_importances_
    else:
        raise ModelError(
            f"{type(clf).__name__} has neither coefficients nor feature importances; "
            f"use one of {LINEAR_MODELS + TREE_MODELS}."
        )
    values = np.asarray(values, dtype=float)
    if len(values) != len(feature_names):
        raise ModelError(f"the model has {len(values)} features but {len(feature_names)} names were given.")
    if not hasattr(clf, "coef_") and values.sum() > 0:
        values = values / values.sum()
    return pd.Series(values, index=pd.Index(feature_names, name="feature"), name="importance").sort_values(
        ascending=False
    )


def _final_classifier(fitted) -> BaseEstimator:
    """The classifier at the end of a fitted zoo model, unwrapping the search and the pipeline."""
    model = getattr(fitted, "best_estimator_", fitted)
    if isinstance(model, Pipeline):
        model = model[-1]
    if not hasattr(model, "classes_"):
        raise ModelError(f"{type(model).__name__} is not fitted: fit it (or take it from Evaluation.details) first.")
    return model


def _bagged_importance(bagging: BaggingClassifier, n_features: int) -> np.ndarray:
    """Mean impurity importance of the bagged trees, each mapped back to its feature subset."""
    total = np.zeros(n_features)
    for tree, features in zip(bagging.estimators_, bagging.estimators_features_):
        total[features] += tree.feature_importances_
    return total / len(bagging.estimators_)
