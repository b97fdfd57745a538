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

The pieces live beside this module: ``cnn_params`` (the checked section, the model names),
``cnn_weights`` (backbones and their weights), ``cnn_inputs`` (resized segments, images, stacked
channels) and ``cnn_networks`` (building and training); the estimators and the run are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.approaches.cnn_inputs import backbone_inputs, resize_segments, stack_channels
from genrelab.approaches.cnn_networks import fit_scratch, fit_transfer
from genrelab.approaches.cnn_params import check_params, scratch_label, weights_label
from genrelab.approaches.cnn_weights import check_weights_available
from genrelab.errors import DataError
from genrelab.evaluation.loop import Evaluation, concat_evaluations, evaluate
from genrelab.evaluation.splits import segment_subsets
from genrelab.models import model_path
from genrelab.nn.estimator import KerasClassifier
from genrelab.tensorflow_setup import import_tensorflow

import_tensorflow()  # quiet (no C++ start-up lines in notebook output), oneDNN off, ops deterministic
import keras  # noqa: E402

SCRATCH = "cnn_scratch"
TRANSFER = "cnn_transfer"


# ----------------------------------------------------------------------------------- estimators


class ScratchCNN(KerasClassifier):
    """The scratch CNN (:func:`genrelab.approaches.cnn_networks.build_scratch`) as a classifier;
    ``params`` is the ``cnn`` section.

    ``X`` : float32 (n, n_mels, n_frames) log-mel dB segments, or (n, input_size, input_size)
    when resized (:func:`resize_segments`).
    """

    def _inputs(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float32)

    def _train(self, x, y, x_val, y_val):
        return fit_scratch(x, y, x_val, y_val, len(self.classes_), check_params(self.params), self.seed)

    def _valid_fraction(self) -> float:
        return check_params(self.params)["valid_fraction"]

    def _batch_size(self) -> int:
        return check_params(self.params)["scratch"]["batch_size"]


class TransferCNN(KerasClassifier):
    """The transfer CNN (:func:`genrelab.approaches.cnn_networks.fit_transfer`) as a classifier;
    ``params`` is the ``cnn`` section.

    ``X`` : float32 in 0..255 (:func:`resize_segments` with ``image_range=True``), either
    (n, size, size), one segment repeated to three channels, or (n, size, size, 3) stacked
    channels (:func:`stack_channels`). The backbone's own preprocessing is applied here.
    """

    def _inputs(self, X) -> np.ndarray:
        return backbone_inputs(X, check_params(self.params)["transfer"]["backbone"])

    def _train(self, x, y, x_val, y_val):
        return fit_transfer(x, y, x_val, y_val, len(self.classes_), check_params(self.params), self.seed)

    def _valid_fraction(self) -> float:
        return check_params(self.params)["valid_fraction"]

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
        """(approach, model, protocol) -> learning curves (:data:`genrelab.nn.training.HISTORY_COLUMNS`)."""
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
