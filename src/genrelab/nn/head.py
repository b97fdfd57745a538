"""The classifier head the study's networks end in: dropout, an optional hidden layer, softmax."""

from __future__ import annotations

from genrelab.tensorflow_setup import import_tensorflow

import_tensorflow()  # quiet (no C++ start-up lines in notebook output), oneDNN off, ops deterministic
import keras  # noqa: E402


def classifier_head(x, n_classes: int, units: int, dropout: float):
    """Dropout, a hidden ReLU layer of ``units`` (none when 0) with its own dropout, and softmax."""
    x = keras.layers.Dropout(dropout)(x)
    if units:
        x = keras.layers.Dense(units, activation="relu")(x)
        x = keras.layers.Dropout(dropout)(x)
    return keras.layers.Dense(n_classes, activation="softmax")(x)
