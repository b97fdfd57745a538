"""The musicnn and VGG taggers of Pons & Serra (2019), ported to Keras 3, with their published weights.

The PyPI package ``musicnn==0.1.0`` (ISC licence, Music Technology Group, Universitat Pompeu
Fabra) ships four TF1 checkpoints: :data:`CHECKPOINTS`, trained to tag 3 s patches with the 50
most frequent tags of the Million Song Dataset (``MSD_*``) or of MagnaTagATune (``MTT_*``). Its
own code does not run on Keras 3 (nor install on Python 3.11 with its pins), so this module holds
the architectures and reads the checkpoint values into them; the wheel is installed with
``--no-deps`` for its data files only (``make setup`` does it).

Input (:func:`genrelab.pretrained.musicnn_input.log_mel`): 16 kHz mono, patches of 187 frames
(3 s) by 96 mel bands, ``log10(10000 x + 1)`` of the power mel spectrogram. Output of
:func:`load_model`: a Keras model from patches ``(batch, 187, 96)`` to a dict of

``taggram`` (batch, 50)
    the tag probabilities (sigmoid), columns :data:`LABELS` ``[dataset]``.
``max_pool``, ``mean_pool`` (batch, 753), ``penultimate`` (batch, 200)
    musicnn only: the front- and mid-end features pooled over time (max, mean), and the
    batch-normalised hidden layer of the back-end.
``pool5`` (batch, 256)
    VGG only: the last pooling block, flattened.

The port matches the original graphs (the ``.meta`` files of the wheel) to within 1e-5 on the
same input (``tests/test_musicnn.py``); the original extractor's copy of patch 1's
``penultimate`` and ``cnn1``-``cnn3`` into every later patch (a bug of 0.1.0) is not reproduced.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from genrelab.constants import MUSICNN_CHECKPOINTS, MUSICNN_EMBEDDING_LAYERS, musicnn_architecture
from genrelab.errors import GenrelabError

CHECKPOINTS = MUSICNN_CHECKPOINTS
N_FRAMES = 187  # 3 s patches at 16 kHz, hop 256
N_MELS = 96
EMBEDDING_LAYERS = MUSICNN_EMBEDDING_LAYERS
# The tags, in the order of the taggram's columns (musicnn's configuration.py).
LABELS = {
    "MTT": (
        "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast", "piano",
        "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male", "singing", "vocals",
        "no vocals", "harpsichord", "loud", "quiet", "flute", "woman", "male vocal", "no vocal", "pop", "soft",
        "sitar", "solo", "man", "classic", "choir", "voice", "new age", "dance", "male voice", "female vocal",
        "beats", "harp", "cello", "no voice", "weird", "country", "metal", "female voice", "choral",
    ),
    "MSD": (
        "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
        "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul",
        "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies",
        "blues", "hard rock", "ambient", "acoustic", "experimental", "female vocalist", "guitar", "Hip-Hop",
        "70s", "party", "country", "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal",
        "Progressive rock", "60s", "rnb", "indie pop", "sad", "House", "happy",
    ),
}  # fmt: skip
# VGG max-pooling (size, stride) per block, (time, frequency), as in each checkpoint's .meta graph.
# The package's models.py gives MSD_vgg the MTT pools: its weights load, but its outputs are wrong.
VGG_POOLS = {
    "MTT": (((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4))),
    "MSD": (((4, 1), (4, 1)), ((1, 4), (1, 4)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4))),
}
EPSILON = 1e-3  # of every batch norm (tf.compat.v1.layers' default)


class PretrainedError(GenrelabError):
    """A pretrained network's weights are not installed or do not fit its architecture."""


def architecture(checkpoint: str) -> str:
    """``musicnn`` or ``vgg``."""
    _check_name(checkpoint)
    return musicnn_architecture(checkpoint)


def dataset(checkpoint: str) -> str:
    """``MSD`` or ``MTT``: the tags the checkpoint was trained on."""
    _check_name(checkpoint)
    return checkpoint.split("_", 1)[0]


def checkpoint_dir(checkpoint: str) -> Path:
    """The installed wheel's folder of ``checkpoint``; raise naming the fix when it is absent.

    Found without importing the package (its modules import TensorFlow 1 APIs).
    """
    _check_name(checkpoint)
    spec = importlib.util.find_spec("musicnn")
    folder = Path(next(iter(spec.submodule_search_locations))) / checkpoint if spec else None
    if folder is None or not (folder / ".index").is_file():
        raise PretrainedError(
            f"the {checkpoint} weights are not installed (looked for the Python package musicnn==0.1.0, "
            f"folder {folder or 'musicnn/'}{checkpoint}/.index). Install the wheel for its data files only: "
            "`.venv/bin/pip install --no-deps musicnn==0.1.0` (make setup does this). Nothing is downloaded "
            "at run time."
        )
    return folder


@lru_cache(maxsize=4)
def load_model(checkpoint: str):
    """The Keras port of ``checkpoint`` with its published weights (cached per process).

    Returns a Keras model from float32 patches ``(batch, 187, 96)`` to the dict of outputs in the
    module docstring.
    """
    from genrelab.tensorflow_setup import import_tensorflow

    import_tensorflow()
    model, variables = (_musicnn if architecture(checkpoint) == "musicnn" else _vgg)(dataset(checkpoint))
    _load_checkpoint(model, variables, checkpoint)
    return model


def _check_name(checkpoint: str) -> None:
    if checkpoint not in CHECKPOINTS:
        raise PretrainedError(f"unknown musicnn checkpoint {checkpoint!r}; choose one of {', '.join(CHECKPOINTS)}.")


# ----------------------------------------------------------------------------------- architectures


def _musicnn(dataset_name: str, n_frames: int = N_FRAMES):
    """musicnn: timbral and temporal front end, residual mid-end, pooled dense back end.

    Returns the model and ``{keras layer name: checkpoint variable scope}`` for the weights.
    Every convolution is conv -> ReLU -> batch norm, as in the original.
    """
    import keras
    from keras import layers

    scopes: dict[str, str] = {}

    def named(layer, scope: str):
        scopes[layer.name] = scope
        return layer

    def norm(name: str, scope: str):
        return named(layers.BatchNormalization(epsilon=EPSILON, name=name), scope)

    def freq_max(x, name: str):  # max over the frequency axis: (b, t, f, c) -> (b, t, c)
        x = layers.MaxPooling2D(pool_size=(1, x.shape[2]), name=f"{name}_freq_max")(x)
        return layers.Reshape((n_frames, x.shape[-1]), name=f"{name}_squeeze")(x)

    patches = keras.Input(shape=(n_frames, N_MELS), name="patches")
    x = layers.Reshape((n_frames, N_MELS, 1), name="expand")(patches)
    x = norm("input_bn", "batch_normalization")(x)
    padded = layers.ZeroPadding2D(((3, 3), (0, 0)), name="timbral_pad")(x)
    front = []
    for i, width in enumerate((38, 67)):  # 0.4 and 0.7 of 96 bands
        name = f"timbral_{width}"
        y = named(layers.Conv2D(204, (7, width), activation="relu", name=name), "conv2d" + (f"_{i}" if i else ""))(padded)
        y = norm(f"{name}_bn", f"batch_normalization_{1 + i}")(y)
        front.append(freq_max(y, name))
    for i, length in enumerate((128, 64, 32)):
        name = f"temporal_{length}"
        y = named(layers.Conv2D(51, (length, 1), padding="same", activation="relu", name=name), f"conv2d_{2 + i}")(x)
        y = norm(f"{name}_bn", f"batch_normalization_{3 + i}")(y)
        front.append(freq_max(y, name))
    front = layers.Concatenate(axis=2, name="frontend")(front)  # (b, t, 561)

    features = [layers.Reshape((n_frames, front.shape[-1], 1), name="frontend_expand")(front)]
    previous = features[0]
    for i in range(3):
        name = f"midend_{i + 1}"
        y = layers.ZeroPadding2D(((3, 3), (0, 0)), name=f"{name}_pad")(previous)
        y = named(layers.Conv2D(64, (7, previous.shape[2]), activation="relu", name=name), f"conv2d_{5 + i}")(y)
        y = norm(f"{name}_bn", f"batch_normalization_{6 + i}")(y)
        y = layers.Permute((1, 3, 2), name=f"{name}_transpose")(y)  # (b, t, 1, 64) -> (b, t, 64, 1)
        previous = y if i == 0 else layers.Add(name=f"{name}_residual")([y, previous])
        features.append(previous)
    midend = layers.Concatenate(axis=2, name="midend")(features)  # (b, t, 753, 1)
    midend = layers.Reshape((n_frames, midend.shape[2]), name="midend_squeeze")(midend)

    max_pool = layers.GlobalMaxPooling1D(name="max_pool")(midend)
    mean_pool = layers.GlobalAveragePooling1D(name="mean_pool")(midend)
    # The original stacks (max, mean) per feature and flattens: max0, mean0, max1, mean1, ...
    pooled = layers.Concatenate(axis=2, name="pools")(
        [layers.Reshape((-1, 1), name=f"{n}_expand")(p) for n, p in (("max", max_pool), ("mean", mean_pool))]
    )
    y = layers.Flatten(name="pools_flat")(pooled)
    y = norm("pools_bn", "batch_normalization_9")(y)
    y = layers.Dropout(0.5, name="pools_dropout")(y)
    y = named(layers.Dense(200, activation="relu", name="dense"), "dense")(y)
    penultimate = norm("penultimate", "batch_normalization_10")(y)
    y = layers.Dropout(0.5, name="penultimate_dropout")(penultimate)
    logits = named(layers.Dense(len(LABELS[dataset_name]), name="logits"), "dense_1")(y)
    taggram = layers.Activation("sigmoid", name="taggram")(logits)
    outputs = {"taggram": taggram, "max_pool": max_pool, "mean_pool": mean_pool, "penultimate": penultimate}
    return keras.Model(patches, outputs, name=f"{dataset_name}_musicnn"), scopes


def _vgg(dataset_name: str, n_frames: int = N_FRAMES):
    """The VGG-like baseline: five 3x3 convolutions of 128 filters, each ReLU -> batch norm -> max pool."""
    import keras
    from keras import layers

    scopes: dict[str, str] = {}
    patches = keras.Input(shape=(n_frames, N_MELS), name="patches")
    x = layers.Reshape((n_frames, N_MELS, 1), name="expand")(patches)
    x = layers.BatchNormalization(epsilon=EPSILON, name="input_bn")(x)
    scopes["input_bn"] = "batch_normalization"
    for i, (size, stride) in enumerate(VGG_POOLS[dataset_name], start=1):
        x = layers.Conv2D(128, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.BatchNormalization(epsilon=EPSILON, name=f"conv{i}_bn")(x)
        scopes[f"conv{i}"], scopes[f"conv{i}_bn"] = f"{i}CNN", f"batch_normalization_{i}"
        x = layers.MaxPooling2D(pool_size=size, strides=stride, name=f"pool{i}")(x)
        x = layers.Dropout(0.25, name=f"pool{i}_dropout")(x) if i < 5 else x
    pool5 = layers.Flatten(name="pool5_flat")(x)
    y = layers.Dropout(0.5, name="pool5_dropout")(pool5)
    logits = layers.Dense(len(LABELS[dataset_name]), name="logits")(y)
    scopes["logits"] = "dense"
    taggram = layers.Activation("sigmoid", name="taggram")(logits)
    return keras.Model(patches, {"taggram": taggram, "pool5": pool5}, name=f"{dataset_name}_vgg"), scopes


# ----------------------------------------------------------------------------------------- weights


_WEIGHT_NAMES = {
    "Conv2D": ("kernel", "bias"),
    "Dense": ("kernel", "bias"),
    "BatchNormalization": ("gamma", "beta", "moving_mean", "moving_variance"),
}


def _load_checkpoint(model, scopes: dict[str, str], checkpoint: str) -> None:
    """Copy the checkpoint's values into the layers named in ``scopes``.

    TF1 kernels are HWIO and dense weights [in, out], as Keras keeps them, so they copy as they
    are. Every trainable variable of the checkpoint must find its layer, and every weighted
    layer its variables, or the port is refused.
    """
    import tensorflow as tf

    folder = checkpoint_dir(checkpoint)
    # The checkpoint's own index points at the author's machine; the reader takes the folder's
    # empty-stem files directly.
    reader = tf.compat.v1.train.NewCheckpointReader(str(folder) + os.sep)
    stored = {k for k in reader.get_variable_to_shape_map() if "Adam" not in k and not k.startswith("beta")}
    used = set()
    for layer in model.layers:
        if not layer.weights:
            continue
        scope = scopes.get(layer.name)
        if scope is None:
            raise PretrainedError(f"{checkpoint}: layer {layer.name} has no checkpoint scope; the port is incomplete.")
        names = [f"{scope}/{w}" for w in _WEIGHT_NAMES[type(layer).__name__]]
        values = []
        for name, weight in zip(names, layer.weights, strict=True):
            if not reader.has_tensor(name):
                raise PretrainedError(f"{checkpoint}: the checkpoint has no {name} for layer {layer.name}.")
            value = reader.get_tensor(name)
            if tuple(value.shape) != tuple(weight.shape):
                raise PretrainedError(f"{checkpoint}: {name} is {value.shape}, layer {layer.name} wants {weight.shape}.")
            values.append(value)
        layer.set_weights(values)
        used |= set(names)
    if stored - used:
        raise PretrainedError(f"{checkpoint}: checkpoint variables {sorted(stored - used)[:4]} were not loaded.")


def tag_scores(taggram: np.ndarray, checkpoint: str, top: int = 5) -> list[tuple[str, float]]:
    """The ``top`` tags of a track: its patches' tag probabilities averaged, highest first.

    Parameters
    ----------
    taggram : (n_patches, 50) sigmoid outputs of ``checkpoint``.
    """
    mean = np.asarray(taggram, dtype=np.float64).mean(axis=0)
    order = np.argsort(-mean, kind="stable")[:top]
    labels = LABELS[dataset(checkpoint)]
    return [(labels[i], float(mean[i])) for i in order]
