"""Keras CNNs on log-mel segments: a small network trained from scratch, and transfer learning.

Both approaches read the spectrogram stage's output (``segments.npy``, float32
``(n_segments, n_mels, n_frames)`` log-mel dB, and ``segments.csv`` with ``track_id, segment,
genre`` in the same row order) and are evaluated under every protocol of the split table:

``cnn_scratch``
    Conv / batch-norm / ReLU / max-pool blocks, global average pooling, dropout and a softmax
    layer, on the segment's log-mel spectrogram at its native resolution (or resized to
    ``input_size`` squared), one channel of dB values standardised by the training mean and
    variance. Batch norm keeps its moving statistics with momentum ``bn_momentum`` (0.9): with
    Keras' default 0.99 and ~50 steps an epoch they still hold mostly their initial values when
    validation runs, so validation accuracy falls while training accuracy climbs (measured on the
    demo corpus, ``artist_grouped``: 20 % track-level at 0.99, 94 % at 0.9). The learning rate
    decays along a cosine.
``cnn_transfer``
    A ``keras.applications`` backbone (``mobilenetv2``, ``efficientnetb0``, ``vgg19``) on the
    spectrogram as a 3-channel image: first a frozen phase (only the new head learns), then
    fine-tuning of the top ``fine_tune_layers`` layers of the backbone. The backbone's weights are
    ImageNet (read from Keras' local cache, never downloaded here), random (a *random-feature
    baseline*, not transfer learning) or a local weights file; the model column says which
    (:func:`weights_label`), so the results table states plainly what actually ran.

Training is seeded and deterministic on CPU, stops early on a validation split carved out of
the training tracks (grouped like the protocol), weights classes as ``balanced``, and keeps the
learning curves. Segment probabilities are averaged per track for the track-level score.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from genrelab.config import BACKBONE_NAMES, IMAGENET_SIZES, ParamsError, section
from genrelab.errors import DataError, GenrelabError
from genrelab.evaluation.loop import Evaluation, concat_evaluations, evaluate
from genrelab.evaluation.splits import segment_subsets
from genrelab.models import ProbabilityClassifier, file_slug, model_path
from genrelab.tensorflow_setup import import_tensorflow

tf = import_tensorflow()  # quiet (no C++ start-up lines in notebook output), oneDNN off, ops deterministic
import keras  # noqa: E402

SCRATCH = "cnn_scratch"
TRANSFER = "cnn_transfer"
HISTORY_COLUMNS = ["epoch", "phase", "loss", "val_loss", "accuracy", "val_accuracy"]

class WeightsError(GenrelabError):
    """Backbone weights cannot be used: not in the local cache, or not matching the backbone."""


@dataclass(frozen=True)
class Backbone:
    """How to build one ``keras.applications`` backbone and prepare its input."""

    build: Callable[..., keras.Model]
    preprocess: Callable[[np.ndarray], np.ndarray]  # 0..255 RGB images -> what the backbone expects
    imagenet_file: Callable[[int], str]  # input side (px) -> file name in Keras' cache (no top)
    url: str  # folder the ImageNet files are published under
    imagenet_sizes: tuple[int, ...] | None = None  # input sides ImageNet weights exist for; None: any


BACKBONES: dict[str, Backbone] = {
    "mobilenetv2": Backbone(
        build=keras.applications.MobileNetV2,
        preprocess=keras.applications.mobilenet_v2.preprocess_input,
        imagenet_file=lambda size: f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{size}_no_top.h5",
        url="https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/",
        imagenet_sizes=IMAGENET_SIZES["mobilenetv2"],
    ),
    "efficientnetb0": Backbone(
        build=keras.applications.EfficientNetB0,
        # EfficientNet rescales and normalises inside the model: it takes 0..255 as is.
        preprocess=keras.applications.efficientnet.preprocess_input,
        imagenet_file=lambda size: "efficientnetb0_notop.h5",
        url="https://storage.googleapis.com/keras-applications/",
    ),
    "vgg19": Backbone(
        build=keras.applications.VGG19,
        preprocess=keras.applications.vgg19.preprocess_input,
        imagenet_file=lambda size: "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
        url="https://storage.googleapis.com/tensorflow/keras-applications/vgg19/",
    ),
}
assert tuple(BACKBONES) == BACKBONE_NAMES, "genrelab.config lists the backbones params.yaml may name"


# --------------------------------------------------------------------------------------- params


def check_params(raw: dict | None) -> dict:
    """The ``cnn:`` section of params.yaml checked by the one schema (:class:`genrelab.config.Cnn`),
    defaults filled in, and its weights file, when one is named, found on disk.

    A relative weights path is taken from the working directory (the project root).
    """
    params = section("cnn", raw)
    weights = params["transfer"]["weights"]
    if weights not in ("imagenet", "random") and not Path(weights).is_file():
        raise ParamsError(f"params.yaml: 'cnn.transfer.weights' names no file (looked at {Path(weights).resolve()}); "
                          f"got {weights!r}.")  # fmt: skip
    return params


# -------------------------------------------------------------------------------- model names


def weights_label(params: dict) -> str:
    """Model name of the transfer model for the results table, saying which weights ran.

    ``mobilenetv2[imagenet]`` (transfer learning), ``mobilenetv2[random]`` (a random-feature
    baseline, not transfer learning) or ``mobilenetv2[file:<file name>]`` (a local weights file).
    ``params`` is the checked ``cnn`` section.
    """
    p = params["transfer"]
    weights = p["weights"] if p["weights"] in ("imagenet", "random") else f"file:{Path(p['weights']).name}"
    return f"{p['backbone']}[{weights}]"


def scratch_label(params: dict) -> str:
    """Model name of the scratch CNN: its filters per block, e.g. ``convnet[16-32-64-128]``, and
    the square input side when the segments are resized (``convnet[16-32-64]@64px``)."""
    p = params["scratch"]
    label = "convnet[" + "-".join(str(f) for f in p["filters"]) + "]"
    return label if p["input_size"] == "native" else f"{label}@{p['input_size']}px"


# ------------------------------------------------------------------------------------ weights


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded weights: ``$KERAS_HOME/models``, else ``~/.keras/models``.

    Keras' own rule, read now (Keras itself reads it once, at import), with its fallback to
    ``/tmp/.keras`` when the home folder is not writable.
    """
    home = os.environ.get("KERAS_HOME")
    if home is None:
        base = Path.home() if os.access(Path.home(), os.W_OK) else Path("/tmp")
        home = str(base / ".keras")
    return Path(home).expanduser() / "models"


def imagenet_weights_path(backbone: str, input_size: int) -> Path:
    """The local ImageNet weights file of ``backbone`` without its top; raise if it is absent.

    Checked before Keras is asked for the weights, because Keras would otherwise try to download
    them and, without a network, hang until a timeout. Nothing falls back to random weights.

    Raises
    ------
    WeightsError naming the missing file, where to put it and where to get it.
    """
    spec = BACKBONES[backbone]
    name = spec.imagenet_file(input_size)
    path = keras_cache_dir() / name
    if not path.is_file():
        raise WeightsError(
            f"cnn.transfer.weights is 'imagenet' but the ImageNet weights of {backbone} "
            f"(include_top=False, input {input_size}x{input_size}x3) are not in Keras' cache: missing "
            f"file {path}. This run does not download. On a machine with network, fetch "
            f"{spec.url}{name} and copy it to {path} (or point KERAS_HOME at a folder whose models/ "
            "holds it, before starting Python). Or set cnn.transfer.weights to 'random' (a "
            "random-feature baseline) or to the path of a local weights file."
        )
    return path


def _check_keras_reads(path: Path) -> None:
    """Refuse when Keras would look for ``path`` elsewhere (and so try to download it).

    Keras fixes its cache folder when it is imported; a KERAS_HOME set later is not seen by it.
    """
    # Private accessor: Keras has no public one for the folder its get_file() caches in.
    from keras.src.backend.config import keras_home

    if Path(keras_home()).expanduser().resolve() / "models" != path.parent.resolve():
        raise WeightsError(
            f"cnn.transfer.weights: {path} is where KERAS_HOME says, but Keras (imported earlier) reads "
            f"{Path(keras_home()) / 'models'}. Set KERAS_HOME before starting Python."
        )


def check_weights_available(params: dict) -> None:
    """Fail fast, before any training, when the configured ImageNet weights are not cached."""
    p = params["transfer"]
    if p["weights"] == "imagenet":
        imagenet_weights_path(p["backbone"], p["input_size"])


def build_backbone(params: dict) -> keras.Model:
    """The convolutional base (no top, global average pooling) with the configured weights.

    Input: float32 images ``(batch, input_size, input_size, 3)`` already passed through the
    backbone's preprocessing (:func:`to_images`). Output: features ``(batch, n_features)``.
    """
    p = params["transfer"]
    spec = BACKBONES[p["backbone"]]
    size = p["input_size"]
    if p["weights"] == "imagenet":
        _check_keras_reads(imagenet_weights_path(p["backbone"], size))
        weights: str | None = "imagenet"
    else:
        weights = None
    model = spec.build(include_top=False, weights=weights, input_shape=(size, size, 3), pooling="avg")
    if p["weights"] not in ("imagenet", "random"):
        _load_weights_file(model, p["weights"], f"{p['backbone']} (include_top=False, input {size}x{size}x3)")
    return model


def _load_weights_file(model: keras.Model, path: str, what: str) -> None:
    """Load a local weights file, refusing a partial match.

    Keras only warns when parts of a ``.weights.h5`` / ``.keras`` file do not fit (those layers
    keep their random weights): here a warning is an error, or a random model would be labelled
    as a trained one.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.load_weights(path)
        problem = str(caught[0].message) if caught else None
    except (ValueError, OSError, KeyError) as err:
        problem = str(err)
    if problem:
        raise WeightsError(
            f"cnn.transfer.weights: {path} does not hold weights for {what}: {problem[:300]}. Save them "
            "from that architecture (model.save_weights('x.weights.h5')) or use 'imagenet' / 'random'."
        )


# -------------------------------------------------------------------------------------- inputs


def neighbour_rows(track_ids, segments, within=None) -> tuple[np.ndarray, np.ndarray]:
    """Row of the previous and next segment of each row's track, for ``stack`` channels.

    Parameters
    ----------
    track_ids, segments : shape (n_rows,), one per row of the segment table (segment 0-based).
    within : shape (n_rows,) or None; a neighbour counts only if it has the same value here
        (the row's subset), so stacking never shows a test segment's audio to a training input.

    Returns
    -------
    prev, next : int arrays shape (n_rows,). At a track's edges (first or last segment, or a
        neighbour missing or in another subset) the row itself stands in, like edge padding.
    """
    track_ids = np.asarray(track_ids, dtype=object)
    segments = np.asarray(segments, dtype=np.int64)
    within = np.zeros(len(track_ids), dtype=object) if within is None else np.asarray(within, dtype=object)
    rows = {key: i for i, key in enumerate(zip(track_ids, segments, within))}
    if len(rows) != len(track_ids):
        raise DataError("segments.csv repeats a (track_id, segment) pair; rerun the spectrograms stage.")
    keys = list(zip(track_ids, segments, within))
    prev = np.array([rows.get((t, s - 1, w), i) for i, (t, s, w) in enumerate(keys)], dtype=np.int64)
    nxt = np.array([rows.get((t, s + 1, w), i) for i, (t, s, w) in enumerate(keys)], dtype=np.int64)
    return prev, nxt


def resize_segments(X: np.ndarray, size: int, *, image_range: bool = False, batch: int = 256) -> np.ndarray:
    """Segments resized to ``size`` x ``size`` (bilinear, anti-aliased).

    Works in batches, so a memory-mapped ``X`` is read piece by piece.

    Parameters
    ----------
    X : float32 (n_segments, n_mels, n_frames), log-mel dB.
    image_range : map each segment to 0..255 first (:func:`to_image_range`). Done before
        resizing, because resampling noise in a flat segment would be stretched to full range.

    Returns
    -------
    float32 (n_segments, size, size): dB, or 0..255 with ``image_range``.
    """
    out = np.empty((len(X), size, size), dtype=np.float32)
    for start in range(0, len(X), batch):
        chunk = np.asarray(X[start : start + batch], dtype=np.float32)
        if image_range:
            chunk = to_image_range(chunk)
        resized = tf.image.resize(chunk[..., None], (size, size), antialias=True).numpy()[..., 0]
        # Anti-aliasing overshoots a little at sharp edges; images must stay in 0..255.
        out[start : start + batch] = np.clip(resized, 0.0, 255.0) if image_range else resized
    return out


def to_image_range(segments: np.ndarray) -> np.ndarray:
    """Each segment's own dB range (min..max) mapped linearly to 0..255, the range image models expect.

    Per segment, so the images do not depend on the reference level the spectrogram stage used;
    a constant (silent) segment maps to 0.

    Parameters
    ----------
    segments : float32 (n, height, width), dB.

    Returns
    -------
    float32 (n, height, width), in [0, 255].
    """
    low = segments.min(axis=(1, 2), keepdims=True)
    span = segments.max(axis=(1, 2), keepdims=True) - low
    return np.divide(segments - low, span, out=np.zeros_like(segments), where=span > 0) * np.float32(255.0)


def stack_channels(gray: np.ndarray, index: pd.DataFrame, within=None) -> np.ndarray:
    """Three-channel images of the previous, this and the next segment of the same track.

    Parameters
    ----------
    gray : float32 (n_segments, size, size) in 0..255 (:func:`resize_segments` with
        ``image_range=True``).
    index : ``track_id, segment`` of each row of ``gray``.
    within : each row's subset under the protocol (see :func:`neighbour_rows`), so a test
        segment's audio never becomes a channel of a training input.

    Returns
    -------
    float32 (n_segments, size, size, 3), channels previous, this, next.
    """
    prev, nxt = neighbour_rows(index["track_id"].to_numpy(dtype=object), index["segment"].to_numpy(), within)
    return np.stack([gray[prev], gray, gray[nxt]], axis=-1)


def backbone_inputs(images: np.ndarray, backbone: str) -> np.ndarray:
    """Images made ready for a backbone: three channels, then its own ``preprocess_input``.

    Parameters
    ----------
    images : float32 in 0..255, (n, size, size) (one segment, repeated to three channels) or
        (n, size, size, 3) (:func:`stack_channels`).

    Returns
    -------
    float32 (n, size, size, 3).
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = np.repeat(images[..., None], 3, axis=-1)
    return np.asarray(BACKBONES[backbone].preprocess(images), dtype=np.float32)


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


# -------------------------------------------------------------------------------------- models


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (same seed, same model: ops are deterministic from
    :func:`genrelab.tensorflow_setup.import_tensorflow` on)."""
    keras.utils.set_random_seed(seed)


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
    outputs = _head(x, int(n_classes), p["dense_units"], p["dropout"])
    return keras.Model(inputs, outputs, name="convnet")


def _head(x, n_classes: int, units: int, dropout: float):
    """Dropout, a hidden ReLU layer of ``units`` (none when 0) with its own dropout, and softmax."""
    x = keras.layers.Dropout(dropout)(x)
    if units:
        x = keras.layers.Dense(units, activation="relu")(x)
        x = keras.layers.Dropout(dropout)(x)
    return keras.layers.Dense(n_classes, activation="softmax")(x)


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


def fit_scratch(x, y, x_val, y_val, n_classes: int, params: dict, seed: int) -> tuple[keras.Model, pd.DataFrame]:
    """Train the scratch CNN.

    Parameters
    ----------
    x, x_val : float32 (n, height, width) dB segments (:func:`resize_segments`) for training and
        early stopping.
    y, y_val : int class codes (n,).

    Returns
    -------
    The model with its best validation weights, and its history (:data:`HISTORY_COLUMNS`).
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
    x, x_val : float32 (n, size, size, 3) backbone-ready images (:func:`to_images`).
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
    head = keras.Model(feature_input, _head(feature_input, int(n_classes), p["dense_units"], p["dropout"]), name="head")
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


def history_table(table: pd.DataFrame) -> pd.DataFrame:
    """Training histories (one row per epoch, phases in order) numbered by epoch, :data:`HISTORY_COLUMNS`."""
    table = table.copy()
    table.insert(0, "epoch", np.arange(1, len(table) + 1))
    return table[HISTORY_COLUMNS]


# ----------------------------------------------------------------------------------- estimators


class KerasClassifier(ProbabilityClassifier):
    """The scikit-learn face of a Keras network, so the one evaluation loop can score it.

    ``fit(X, y, groups)`` holds out whole groups of the training rows (:func:`validation_mask`), or
    the positions ``validation_rows`` (an official validation split) when given, for early stopping,
    trains, and keeps the learning curves in ``history_`` (:data:`HISTORY_COLUMNS`), the held-out
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

    def _valid_fraction(self) -> float:
        return check_params(self.params)["valid_fraction"]


class ScratchCNN(KerasClassifier):
    """The scratch CNN (:func:`build_scratch`) as a classifier; ``params`` is the ``cnn`` section.

    ``X`` : float32 (n, n_mels, n_frames) log-mel dB segments, or (n, input_size, input_size)
    when resized (:func:`resize_segments`).
    """

    def _inputs(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float32)

    def _train(self, x, y, x_val, y_val):
        return fit_scratch(x, y, x_val, y_val, len(self.classes_), check_params(self.params), self.seed)

    def _batch_size(self) -> int:
        return check_params(self.params)["scratch"]["batch_size"]


class TransferCNN(KerasClassifier):
    """The transfer CNN (:func:`fit_transfer`) as a classifier; ``params`` is the ``cnn`` section.

    ``X`` : float32 in 0..255 (:func:`resize_segments` with ``image_range=True``), either
    (n, size, size), one segment repeated to three channels, or (n, size, size, 3) stacked
    channels (:func:`stack_channels`). The backbone's own preprocessing is applied here.
    """

    def _inputs(self, X) -> np.ndarray:
        return backbone_inputs(X, check_params(self.params)["transfer"]["backbone"])

    def _train(self, x, y, x_val, y_val):
        return fit_transfer(x, y, x_val, y_val, len(self.classes_), check_params(self.params), self.seed)

    def _batch_size(self) -> int:
        return check_params(self.params)["transfer"]["batch_size"]


# ----------------------------------------------------------------------------------------- run


@dataclass
class CnnRun:
    """What :func:`run_cnn` produced.

    evaluations : approach -> the loop's :class:`genrelab.evaluation.loop.Evaluation`
        (scores, predictions, and per (model, protocol) the fitted estimator).
    models_dir : where the models were saved.
    """

    evaluations: dict[str, Evaluation]
    models_dir: Path

    @property
    def scores(self) -> pd.DataFrame:
        return pd.concat([e.scores for e in self.evaluations.values()], ignore_index=True)

    @property
    def predictions(self) -> pd.DataFrame:
        return pd.concat([e.predictions for e in self.evaluations.values()], ignore_index=True)

    @property
    def histories(self) -> dict[tuple[str, str, str], pd.DataFrame]:
        """(approach, model, protocol) -> learning curves (:data:`HISTORY_COLUMNS`)."""
        return {(a, m, p): d.estimator.history_ for a, e in self.evaluations.items() for (m, p), d in e.details.items()}

    @property
    def model_paths(self) -> dict[tuple[str, str, str], Path]:
        """The same keys -> the saved ``.keras`` file."""
        return {(a, m, p): model_path(self.models_dir / a, m, p, "segment", ".keras") for a, m, p in self.histories}


def run_cnn(
    X: np.ndarray,
    index: pd.DataFrame,
    splits: pd.DataFrame,
    params: dict | None,
    *,
    protocols: list[str] | tuple[str, ...],
    models_dir: str | Path,
    seed: int | None = None,
    split_seed: int = 42,
    test_fraction: float = 0.25,
    progress: bool = True,
) -> CnnRun:
    """Score the scratch and transfer CNNs under each protocol with the one evaluation loop.

    Parameters
    ----------
    X : float32 (n_segments, n_mels, n_frames) log-mel dB (memory-mapped is fine).
    index : ``track_id, segment, genre`` of each row of ``X``.
    splits : the split table (``genrelab.evaluation.splits.make_splits``).
    params : the ``cnn`` section of params.yaml (checked here; None: all defaults).
    models_dir : receives ``<approach>/<model>__<protocol>__segment.keras`` (best weights) and its
        ``.json`` description (:func:`genrelab.models.save`; :func:`genrelab.models.load` restores both).
    seed : overrides ``cnn.seed``.
    split_seed, test_fraction : ``prepare.seed`` and ``prepare.test_fraction``, with which the
        ``random_segment`` segments are drawn, so the CNNs test on the same segments as every
        other approach.
    progress : show the loop's progress bar.

    Times in the rows are wall-clock seconds: fit (including the frozen phase's feature pass
    and the backbone's preprocessing of the training images) and prediction of the test segments.
    """
    params = check_params(params)
    check_weights_available(params)  # before minutes of scratch training, not after
    seed = params["seed"] if seed is None else seed
    if len(X) != len(index):
        raise DataError(f"segments.npy has {len(X)} rows but segments.csv {len(index)}; rerun the spectrograms stage.")
    scratch, transfer = params["scratch"], params["transfer"]
    y = index["genre"].to_numpy(dtype=object)
    common = dict(protocols=protocols, level="segment", cv_folds=0, seed=seed, split_seed=split_seed,
                  test_fraction=test_fraction, progress=progress)  # fmt: skip
    run = CnnRun({}, Path(models_dir))
    # Resized once for all protocols (outside the fit timings: every approach needs its input).
    small = X if scratch["input_size"] == "native" else resize_segments(X, scratch["input_size"])
    run.evaluations[SCRATCH] = evaluate(
        small, y, index, splits, approach=SCRATCH, models={scratch_label(params): lambda: ScratchCNN(params, seed)},
        models_dir=Path(models_dir) / SCRATCH, features={"input": "log-mel segments", "resize": scratch["input_size"]},
        **common,
    )  # fmt: skip
    del small
    gray = resize_segments(X, transfer["input_size"], image_range=True)
    features = {"input": "log-mel segments in image range", "resize": transfer["input_size"],
                "channels": transfer["channels"], "backbone": transfer["backbone"]}  # fmt: skip
    transfer_models = {weights_label(params): lambda: TransferCNN(params, seed)}
    if transfer["channels"] == "repeat":
        run.evaluations[TRANSFER] = evaluate(gray, y, index, splits, approach=TRANSFER, models=transfer_models,
                                             models_dir=Path(models_dir) / TRANSFER, features=features, **common)  # fmt: skip
    else:  # the stacked neighbours depend on each protocol's subsets
        parts = []
        for protocol in protocols:
            subsets = segment_subsets(splits, index["track_id"].to_numpy(dtype=object), index["segment"].to_numpy(),
                                      protocol, seed=split_seed, test_fraction=test_fraction)  # fmt: skip
            images = stack_channels(gray, index, within=subsets)
            parts.append(evaluate(images, y, index, splits, approach=TRANSFER, models=transfer_models,
                                  models_dir=Path(models_dir) / TRANSFER, features=features,
                                  **{**common, "protocols": [protocol]}))  # fmt: skip
            del images
        run.evaluations[TRANSFER] = concat_evaluations(parts)
    keras.backend.clear_session()  # free the graphs of the trained models
    return run
