"""The scikit-learn face of the study's Keras networks (:class:`KerasClassifier`), which the one
evaluation loop scores and :mod:`genrelab.models` saves and restores."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from genrelab.models import ProbabilityClassifier
from genrelab.nn.training import validation_mask


class KerasClassifier(ProbabilityClassifier):
    """The scikit-learn face of a Keras network, so the one evaluation loop can score it.

    ``fit(X, y, groups)`` holds out whole groups of the training rows (:func:`validation_mask`), or
    the positions ``validation_rows`` (an official validation split) when given, for early stopping,
    trains, and keeps the learning curves in ``history_`` (one row per epoch), the held-out
    positions in ``validation_rows_`` and their softmax outputs in ``validation_proba_`` (the
    evaluation loop's selection score). ``predict_proba`` gives softmax outputs, columns in the order
    of ``classes_``. :func:`genrelab.models.save` writes the network as ``.keras`` and the
    estimator's parameters beside it, so :func:`genrelab.models.load` restores the estimator.

    A subclass says how its input is made (``_inputs``), how it trains (``_train``), which share
    of the groups validates (``_valid_fraction``) and its prediction batch (``_batch_size``).

    Parameters
    ----------
    params : the params.yaml section the network reads (None: all defaults).
    seed : seeds the validation split, the weights and the batch order.
    """

    saved_as = ".keras"  # genrelab.models: the network is saved in Keras' own format

    def __init__(self, params: dict | None = None, seed: int = 42):
        self.params = params
        self.seed = seed

    def fit(self, X, y, groups=None, validation_rows=None):
        y = np.asarray(y, dtype=object)
        self.classes_ = np.unique(y)
        codes = np.searchsorted(self.classes_, y)
        if validation_rows is None:
            held = validation_mask(y, groups, self._valid_fraction(), self.seed)
        else:  # an official validation split (genrelab.evaluation.loop) stops the training instead
            held = np.zeros(len(y), dtype=bool)
            held[validation_rows] = True
        x = self._inputs(X)
        self.model_, self.history_ = self._train(x[~held], codes[~held], x[held], codes[held])
        # The held-out rows score the network for selection (genrelab.evaluation.loop): inside the training data.
        self.validation_rows_ = np.flatnonzero(held)
        self.validation_proba_ = self.model_.predict(x[held], batch_size=self._batch_size(), verbose=0)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict(self._inputs(X), batch_size=self._batch_size(), verbose=0)
