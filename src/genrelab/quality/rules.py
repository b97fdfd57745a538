"""The baseline the study's models must beat: a file's cut-off read against LAME's table.

:class:`LameTableRule` is a scikit-learn classifier of collision groups
(:data:`genrelab.quality.conditions.COLLISION_GROUPS`) with nothing to learn: a cut-off goes to the
group whose LAME low-pass is nearest, and a file without one to ``lossless`` (V0, which has no
low-pass either, is then missed by construction: the rule cannot tell it, and says so by its score).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from genrelab.quality.conditions import COLLISION_GROUPS, LAME_LOWPASS_KHZ, LOSSLESS

# Each group's low-pass (Hz): the mean of its settings' measured edges.
GROUP_LOWPASS_HZ = {
    group: 1000 * float(np.mean([khz for setting, khz in LAME_LOWPASS_KHZ.items() if COLLISION_GROUPS[setting] == group]))
    for group in dict.fromkeys(COLLISION_GROUPS[s] for s in LAME_LOWPASS_KHZ)
}


class LameTableRule(ClassifierMixin, BaseEstimator):
    """Predicts a collision group from the columns ``cutoff_column`` (Hz) and ``has_cutoff_column`` of ``X``."""

    def __init__(self, cutoff_column: int = 0, has_cutoff_column: int = 1):
        self.cutoff_column = cutoff_column
        self.has_cutoff_column = has_cutoff_column

    def fit(self, X, y):
        self.classes_ = np.unique(np.asarray(y, dtype=object))
        return self

    def predict_proba(self, X) -> np.ndarray:
        """One-hot over :attr:`classes_` (the rule is certain; a group it never saw gets no column)."""
        return (self.predict(X)[:, None] == self.classes_[None, :]).astype(float)

    def predict(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        groups = np.array(list(GROUP_LOWPASS_HZ), dtype=object)
        edges = np.array(list(GROUP_LOWPASS_HZ.values()))
        nearest = groups[np.argmin(np.abs(X[:, [self.cutoff_column]] - edges[None, :]), axis=1)]
        return np.where(X[:, self.has_cutoff_column] > 0.5, nearest, LOSSLESS).astype(object)
