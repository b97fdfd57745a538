"""The small CNN of the true-quality study: the 11–22 kHz log spectrogram of an excerpt in, a
collision group out, with or without random frequency masking while it trains.

The input is :data:`genrelab.quality.excerpts.PICTURES` ``["band"]``: float32 ``(32, 64)``, time
chunks by 172 Hz bands, dB re the 2–8 kHz reference. Masking (SpecAugment's frequency masks)
hides a random run of up to ``freq_mask`` bands of each training picture, so the network cannot
lean on one band's level and must find the edge wherever it is. It trains as the genre study's
CNNs do (:func:`genrelab.nn.training.train_with_early_stopping`: Adam, balanced class
weights, early stopping on held-out sources).
"""

from __future__ import annotations

import numpy as np

from genrelab.nn.estimator import KerasClassifier
from genrelab.nn.head import classifier_head
from genrelab.nn.training import seed_everything, train_with_early_stopping

import keras  # noqa: E402  (after genrelab.nn has set TensorFlow up)

@keras.saving.register_keras_serializable(package="genrelab")
class FrequencyMask(keras.layers.Layer):
    """While training, sets a random run of 0 to ``width`` frequency bands (the last axis but the
    channel) of each example to zero, the standardised mean; the identity at prediction."""

    def __init__(self, width: int, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.width, self.seed = int(width), int(seed)
        self._generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=False):
        if not training or self.width == 0:
            return x
        batch, bands = keras.ops.shape(x)[0], keras.ops.shape(x)[2]
        width = keras.random.randint((batch, 1), 0, self.width + 1, seed=self._generator)
        start = keras.random.randint((batch, 1), 0, bands - self.width, seed=self._generator)
        index = keras.ops.arange(bands)[None, :]
        keep = keras.ops.logical_or(index < start, index >= start + width)  # (batch, bands)
        return x * keras.ops.cast(keep, x.dtype)[:, None, :, None]

    def get_config(self) -> dict:
        return {**super().get_config(), "width": self.width, "seed": self.seed}


def build(input_shape: tuple[int, int], n_classes: int, p: dict, mean: float, variance: float, seed: int) -> keras.Model:
    """Standardise, mask (training only), conv/BN/ReLU/max-pool blocks, pooling, the head."""
    inputs = keras.Input(shape=(*input_shape, 1))
    x = keras.layers.Normalization(axis=None, mean=mean, variance=variance)(inputs)
    if p["freq_mask"]:
        x = FrequencyMask(p["freq_mask"], seed)(x)
    for filters in p["filters"]:
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)  # BN adds the bias
        x = keras.layers.BatchNormalization(momentum=p["bn_momentum"])(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D(2, padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, classifier_head(x, int(n_classes), p["dense_units"], p["dropout"]), name="quality_cnn")


class QualityCNN(KerasClassifier):
    """The quality CNN as a classifier. ``params``: keys of ``quality.models.cnn`` (missing ones take
    their value in params.yaml); ``fit(X, y, groups)`` holds out whole groups (sources) to stop early.
    ``X``: float32 ``(n, 32, 64)`` band pictures."""

    def _settings(self) -> dict:
        from genrelab.config import section

        return section("quality", {"models": {"cnn": dict(self.params or {})}})["models"]["cnn"]

    def _inputs(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float32)

    def _train(self, x, y, x_val, y_val):
        p = self._settings()
        seed_everything(self.seed)
        model = build(x.shape[1:], len(self.classes_), p, float(x.mean()), float(x.var()), self.seed)
        history = train_with_early_stopping(
            model, x[..., None], y, x_val[..., None], y_val, learning_rate=p["learning_rate"], cosine=True,
            epochs=p["epochs"], batch_size=p["batch_size"], patience=p["patience"], seed=self.seed, phase="train",
        )  # fmt: skip
        return model, history

    def _valid_fraction(self) -> float:
        return float(self._settings()["valid_fraction"])

    def _batch_size(self) -> int:
        return int(self._settings()["batch_size"])
