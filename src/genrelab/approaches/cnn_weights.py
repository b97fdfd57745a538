"""The transfer CNN's backbones and their weights: the ``keras.applications`` networks, the
ImageNet files in Keras' local cache (never downloaded here), and local weights files checked to
fit their architecture."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genrelab.config import BACKBONE_NAMES, IMAGENET_SIZES
from genrelab.errors import GenrelabError
from genrelab.tensorflow_setup import import_tensorflow

import_tensorflow()  # quiet (no C++ start-up lines in notebook output), oneDNN off, ops deterministic
import keras  # noqa: E402


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
    backbone's preprocessing (:func:`genrelab.approaches.cnn_inputs.backbone_inputs`). Output:
    features ``(batch, n_features)``.
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
