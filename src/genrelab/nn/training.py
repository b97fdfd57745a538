"""Training the study's Keras networks: seeding, the early-stopping validation split, the seeded
batch order, the fit with balanced class weights and early stopping, and the learning-curve table.

Every network of the study (the genre CNNs, the musicnn fine-tuning, the quality CNN) trains
through :func:`train_with_early_stopping`, so the same seed gives the same model on CPU.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.utils.class_weight import compute_class_weight

from genrelab.errors import DataError
from genrelab.tensorflow_setup import import_tensorflow

import_tensorflow()  # quiet (no C++ start-up lines in notebook output), oneDNN off, ops deterministic
import keras  # noqa: E402

HISTORY_COLUMNS = ["epoch", "phase", "loss", "val_loss", "accuracy", "val_accuracy"]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (same seed, same model: ops are deterministic from
    :func:`genrelab.tensorflow_setup.import_tensorflow` on)."""
    keras.utils.set_random_seed(seed)


def validation_mask(y, groups, valid_fraction: float, seed: int) -> np.ndarray:
    """Which training rows are held out for early stopping (True) — whole groups at a time.

    Parameters
    ----------
    y : labels of the training rows, shape (n,).
    groups : group of each row (:func:`genrelab.evaluation.splits.cv_groups`), or None for a segment-level
        draw (``random_segment``, whose rows are independent by the protocol's design).
    valid_fraction : share of the groups to hold out (one fold of a stratified group k-fold).
    """
    y = np.asarray(y, dtype=object)
    groups = np.arange(len(y)) if groups is None else np.asarray(groups, dtype=object)
    n_folds = max(2, round(1 / valid_fraction))
    if len(set(groups)) < n_folds:
        raise DataError(
            f"only {len(set(groups))} groups in the training set: too few for a validation split of "
            f"cnn.valid_fraction={valid_fraction}. Use more tracks or a larger cnn.valid_fraction."
        )
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    _, valid_idx = next(splitter.split(np.zeros(len(y)), y, groups))
    mask = np.zeros(len(y), dtype=bool)
    mask[valid_idx] = True
    return mask


class _Batches(keras.utils.PyDataset):
    """Training batches ``(x, y, sample_weight)`` in an order drawn from a seeded generator.

    Rows are reshuffled at the end of every epoch by ``numpy.random.default_rng(seed)``, so the
    order depends on nothing but the seed.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray, batch_size: int, seed: int):
        super().__init__()
        self.x, self.y, self.weights, self.batch_size = x, y, weights, batch_size
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i: int):
        rows = np.sort(self.order[i * self.batch_size : (i + 1) * self.batch_size])
        return self.x[rows], self.y[rows], self.weights[rows]

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.x))


def train_with_early_stopping(
    model: keras.Model, x, y, x_val, y_val, *, learning_rate: float, epochs: int, batch_size: int, patience: int,
    seed: int, phase: str, cosine: bool = False,
) -> pd.DataFrame:  # fmt: skip
    """Compile (Adam, sparse cross-entropy) and fit with balanced class weights and early stopping
    on ``val_loss``, the best weights kept.

    ``cosine``: the learning rate decays along a cosine from ``learning_rate`` to 5 % of it over
    ``epochs``. Batches come in a seeded order (:class:`_Batches`). Returns the history, one row
    per epoch, with ``phase``.
    """
    if cosine:
        steps = epochs * -(-len(x) // batch_size)
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps, alpha=0.05)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    classes = np.unique(y)
    weight_of = dict(zip(classes, compute_class_weight("balanced", classes=classes, y=y)))
    sample_weights = np.array([weight_of[c] for c in y], dtype=np.float32)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(
        _Batches(x, y, sample_weights, batch_size, seed),
        validation_data=(x_val, y_val),
        epochs=epochs,
        callbacks=[stop],
        shuffle=False,  # _Batches shuffles, from its own seeded generator
        verbose=0,
    )
    table = pd.DataFrame(history.history)
    table.insert(0, "phase", phase)
    return table


def history_table(table: pd.DataFrame) -> pd.DataFrame:
    """Training histories (one row per epoch, phases in order) numbered by epoch, :data:`HISTORY_COLUMNS`."""
    table = table.copy()
    table.insert(0, "epoch", np.arange(1, len(table) + 1))
    return table[HISTORY_COLUMNS]
