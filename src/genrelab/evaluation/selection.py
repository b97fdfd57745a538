"""Selection folds: where, inside a protocol's training rows, each candidate model is scored for selection.

:func:`selection_folds` makes them (the protocol's official validation split, or cross-validation
grouped like the protocol, so the estimate is as honest as the test); :func:`fit_with_groups`
fits a model handing it the protocol's groups, so a search's or a network's own inner split is
grouped too. :func:`genrelab.evaluation.loop.evaluate` scores every candidate on these folds and
:func:`genrelab.evaluation.results.mark_selected` chooses from those scores alone.
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, StratifiedGroupKFold, StratifiedKFold

from genrelab.errors import DataError

SEARCHES = (GridSearchCV, RandomizedSearchCV)
OFFICIAL_SPLIT = "official validation split"
ONE_FOLD_OF = 5  # cv_folds = 1: one fold of a 5-fold split, a fifth of the training groups validates
FRACTIONS = {2: "half", 3: "a third", 4: "a quarter", 5: "a fifth"}
UNITS = {"random_segment": "segments", "track_grouped": "tracks, duplicates kept together", "artist_grouped": "artists"}


def selection_folds(subsets, y, groups, n_folds: int, seed: int, protocol: str = "") -> tuple[list, str]:
    """The folds inside the training rows that score each candidate for selection, and how they were made.

    Parameters
    ----------
    subsets : ``train`` or ``valid`` of each training row, shape (n_train,).
    y : labels of the training rows, shape (n_train,).
    groups : CV group of each training row (:func:`genrelab.evaluation.splits.cv_groups`), or None.
    n_folds : 0 (none), 1 (one grouped validation fold, a fifth of the training groups) or k >= 2.
    protocol : names the groups in the description.

    A protocol with an official validation split (``valid`` rows: ``fault_filtered``, ``fma_official``)
    uses it whatever ``n_folds`` says: fit on ``train``, score ``valid``. Otherwise grouped protocols use
    :class:`~sklearn.model_selection.StratifiedGroupKFold` over ``groups`` and ``random_segment``
    StratifiedKFold, with no more folds than the training rows have groups or rows of their largest
    genre, which the description states. Returns ``([(fit, validation) positions into the
    training rows], description)``.
    """
    subsets = np.asarray(subsets, dtype=object)
    if (subsets == "valid").any():
        return [(np.flatnonzero(subsets == "train"), np.flatnonzero(subsets == "valid"))], OFFICIAL_SPLIT
    if n_folds == 0:
        return [], ""
    # A small training set caps the folds: each needs a group, and a row of the largest genre.
    most = int(np.unique(y, return_counts=True)[1].max())
    most = min(most, len(set(groups))) if groups is not None else most
    splitter_folds = min(ONE_FOLD_OF if n_folds == 1 else n_folds, most)
    if splitter_folds < 2:
        raise DataError(f"the training rows hold {most} group(s): too few for selection folds. Use more tracks.")
    if groups is None:
        splitter = StratifiedKFold(n_splits=splitter_folds, shuffle=True, random_state=seed)
        unit = "rows, ungrouped"
    else:
        splitter = StratifiedGroupKFold(n_splits=splitter_folds, shuffle=True, random_state=seed)
        unit = UNITS.get(protocol, "the protocol's groups")
    # The splitters only count X's rows: a placeholder spares a copy of the training features.
    folds = list(splitter.split(np.zeros((len(y), 1), dtype=np.int8), y, groups))
    if n_folds == 1:
        return folds[:1], f"one validation fold ({FRACTIONS.get(splitter_folds, f'1/{splitter_folds}')} of the training {unit})"
    k = splitter_folds
    return folds, f"{k}-fold CV grouped by {unit}" if groups is not None else f"{k}-fold CV ({unit})"


def fit_with_groups(estimator: BaseEstimator, X, y, groups, validation_rows=None) -> BaseEstimator:
    """Fit, handing the CV groups (``None`` for random_segment) to a search or to an estimator
    that takes them, so its inner splits are grouped like the protocol, and ``validation_rows``
    (positions into ``X``) to an estimator that validates itself (:func:`validates_itself`)."""
    extra = {"validation_rows": validation_rows} if validation_rows is not None else {}
    if isinstance(estimator, SEARCHES) or "groups" in inspect.signature(estimator.fit).parameters:
        return estimator.fit(X, y, groups=groups, **extra)
    return estimator.fit(X, y, **extra)


def validates_itself(estimator: BaseEstimator) -> bool:
    """Whether ``fit`` holds out rows of its own (the CNNs' early stopping) and takes ``validation_rows``."""
    return "validation_rows" in inspect.signature(estimator.fit).parameters
