"""The two CNNs built and trained: the scratch network, and a head on a backbone, frozen and then
fine-tuned (a random-weight backbone's batch-norm statistics set from the training images first)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from genrelab.approaches.cnn_params import weights_label
from genrelab.approaches.cnn_weights import build_backbone
from genrelab.models import file_slug
from genrelab.nn.head import classifier_head
from genrelab.nn.training import history_table, seed_everything, train_with_early_stopping
from genrelab.tensorflow_setup import import_tensorflow

import_tensorflow()  # quiet (no C++ start-up lines in notebook output), oneDNN off, ops deterministic
import keras  # noqa: E402




def build_scratch(input_shape: tuple[int, int], n_classes: int, params: dict, mean: float, variance: float) -> keras.Model:
    """The scratch CNN: standardise, then conv/BN/ReLU/max-pool blocks, pooling, dropout, dense.

    Parameters
    ----------
    input_shape : (height, width) of one segment; the model takes dB (batch, height, width, 1).
    mean, variance : of the training dB values, baked into the model so it takes raw dB.

    Returns
    -------
    An uncompiled model giving class probabilities (batch, n_classes).
    """
    p = params["scratch"]
    inputs = keras.Input(shape=(*input_shape, 1))
    x = keras.layers.Normalization(axis=None, mean=mean, variance=variance)(inputs)
    for filters in p["filters"]:
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)  # BN adds the bias
        x = keras.layers.BatchNormalization(momentum=p["bn_momentum"])(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D(2, padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = classifier_head(x, int(n_classes), p["dense_units"], p["dropout"])
    return keras.Model(inputs, outputs, name="convnet")


def fit_scratch(x, y, x_val, y_val, n_classes: int, params: dict, seed: int) -> tuple[keras.Model, pd.DataFrame]:
    """Train the scratch CNN.

    Parameters
    ----------
    x, x_val : float32 (n, height, width) dB segments
        (:func:`genrelab.approaches.cnn_inputs.resize_segments`) for training and early stopping.
    y, y_val : int class codes (n,).

    Returns
    -------
    The model with its best validation weights, and its history
    (:data:`genrelab.nn.training.HISTORY_COLUMNS`).
    """
    p = params["scratch"]
    seed_everything(seed)
    model = build_scratch(x.shape[1:], n_classes, params, float(x.mean()), float(x.var()))
    history = train_with_early_stopping(
        model, x[..., None], y, x_val[..., None], y_val, learning_rate=p["learning_rate"], cosine=True,
        epochs=p["epochs"], batch_size=p["batch_size"], patience=p["patience"], seed=seed, phase="train",
    )  # fmt: skip
    return model, history_table(history)


def fit_transfer(x, y, x_val, y_val, n_classes: int, params: dict, seed: int) -> tuple[keras.Model, pd.DataFrame]:
    """Train a head on a frozen backbone, then fine-tune the backbone's top layers.

    A random-weight backbone first gets batch-norm statistics from the training images
    (:func:`calibrate_batch_norm`). The frozen phase runs the backbone once over the data and
    trains the head on the features:
    with frozen weights and batch-norm in inference mode that is the same computation as
    running the whole model every epoch, at a fraction of the cost.

    Parameters
    ----------
    x, x_val : float32 (n, size, size, 3) backbone-ready images
        (:func:`genrelab.approaches.cnn_inputs.backbone_inputs`).
    y, y_val : int class codes (n,).

    Returns
    -------
    The whole model (images -> probabilities) with its best validation weights, and the
    history of both phases (``phase`` is ``frozen`` or ``fine_tune``).
    """
    p = params["transfer"]
    seed_everything(seed)
    backbone = build_backbone(params)
    if p["weights"] == "random":
        calibrate_batch_norm(backbone, x, seed)
    backbone.trainable = False
    batch = p["batch_size"]
    features, features_val = backbone.predict(x, batch_size=batch, verbose=0), backbone.predict(x_val, batch_size=batch, verbose=0)
    feature_input = keras.Input(shape=features.shape[1:])
    head = keras.Model(feature_input, classifier_head(feature_input, int(n_classes), p["dense_units"], p["dropout"]),
                       name="head")
    phases = [
        train_with_early_stopping(head, features, y, features_val, y_val, learning_rate=p["learning_rate"],
                                  epochs=p["frozen_epochs"], batch_size=batch, patience=p["patience"], seed=seed,
                                  phase="frozen")
    ]  # fmt: skip
    inputs = keras.Input(shape=x.shape[1:])
    # training=False keeps batch-norm statistics frozen even once its layers' weights are unfrozen.
    model = keras.Model(inputs, head(backbone(inputs, training=False)), name=file_slug(weights_label(params)))
    if p["fine_tune_layers"] and p["fine_tune_epochs"]:
        _unfreeze_top(backbone, p["fine_tune_layers"])
        phases.append(
            train_with_early_stopping(model, x, y, x_val, y_val, learning_rate=p["fine_tune_learning_rate"],
                                      epochs=p["fine_tune_epochs"], batch_size=batch, patience=p["patience"],
                                      seed=seed, phase="fine_tune")
        )  # fmt: skip
    return model, history_table(pd.concat(phases, ignore_index=True))


def calibrate_batch_norm(backbone: keras.Model, x: np.ndarray, seed: int, n: int = 256) -> None:
    """Set batch-norm statistics of a random-weight backbone from ``n`` training images.

    Fresh batch-norm layers hold mean 0 and variance 1, so a random deep network run in
    inference mode shrinks every signal to ~1e-13: its features would be constant and the
    baseline would sit at chance for that reason alone. With the statistics of real inputs the
    random features carry information, which is what a random-feature baseline should measure.
    """
    layers = [layer for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0  # the moving statistics become this one batch's statistics
    sample = np.random.default_rng(seed).permutation(len(x))[:n]
    backbone(x[np.sort(sample)], training=True)
    for layer, momentum in zip(layers, momenta):
        layer.momentum = momentum


def _unfreeze_top(backbone: keras.Model, n_layers: int) -> None:
    """Make the top ``n_layers`` layers trainable, except batch-norm (small data ruins its statistics)."""
    backbone.trainable = True
    for i, layer in enumerate(backbone.layers):
        top = i >= len(backbone.layers) - n_layers
        layer.trainable = top and not isinstance(layer, keras.layers.BatchNormalization)

