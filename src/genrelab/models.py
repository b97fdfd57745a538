"""Saving and restoring every fitted model of the study.

The evaluation loop writes each fitted model to ``models/<approach>/<model>__<protocol>__<level>.joblib``
as a :class:`SavedModel`: the estimator, its classes, and how its input is made. A Keras-backed
estimator (one whose class says ``saved_as = ".keras"``, such as the CNNs) is written as its
network (``.keras``) plus a ``.json`` description holding the estimator's class and parameters. :func:`load` restores it and :meth:`SavedModel.predict_proba`
predicts on new features.
"""

from __future__ import annotations

import io
import json
import os
import re
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from genrelab.errors import GenrelabError


class ProbabilityClassifier(ClassifierMixin, BaseEstimator):
    """Base of the study's own estimators (CNNs, musicnn models, the calibrated SVM): ``predict``
    is the most probable of ``classes_`` by ``predict_proba``."""

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.asarray(self.predict_proba(X)).argmax(axis=1)]


class ModelError(GenrelabError):
    """A saved model cannot be written or read, or a fitted model cannot answer what is asked of it."""


MODEL_FORMAT = 1  # bump when the saved bundle's layout changes


@dataclass
class SavedModel:
    """A fitted model of the study, with what it needs to be used on new data.

    ``predict_proba(X)`` takes features made as ``features`` says (for example the 57 GTZAN-table
    columns of 3 s segments, or HOG descriptors of log-mel segments with the settings listed) and
    returns, per row, the probability of each of :attr:`classes_`.
    """

    estimator: Any  # a fitted scikit-learn(-style) estimator
    approach: str
    model: str
    protocol: str  # the protocol whose training rows fitted it
    level: str  # the example level it predicts: "segment" (tracks vote) or "clip"
    classes: list[str]
    features: dict = field(default_factory=dict)  # how its input is made (JSON-compatible)
    versions: dict = field(default_factory=dict)  # library versions it was fitted with

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.classes, dtype=object)

    def predict_proba(self, X) -> np.ndarray:
        """float (n_rows, n_classes), columns in the order of :attr:`classes_`."""
        return np.asarray(self.estimator.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def file_slug(name: str) -> str:
    """The file-name form of a model name: ``mobilenetv2[random]`` -> ``mobilenetv2-random``."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", name).strip("-")


def model_path(models_dir: str | Path, model: str, protocol: str, level: str, suffix: str = ".joblib") -> Path:
    """``models_dir/<model>__<protocol>__<level><suffix>``, the model's name made file-safe."""
    return Path(models_dir) / f"{file_slug(model)}__{protocol}__{level}{suffix}"


def suffix_for(estimator: Any) -> str:
    """The file suffix :func:`save` writes ``estimator`` with: ``.keras`` or ``.joblib``."""
    return getattr(estimator, "saved_as", ".joblib")


def save(saved: SavedModel, path: str | Path) -> Path:
    """Write ``saved`` to ``path``: one joblib file for scikit-learn (``.joblib``), or a Keras-backed
    estimator's network (``.keras``) plus its description beside it (``.json``). Written beside,
    then renamed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix not in (".joblib", ".keras") or path.suffix != suffix_for(saved.estimator):
        raise ModelError(f"{path}: this model is saved as {suffix_for(saved.estimator)}; saved models end in "
                         ".joblib (scikit-learn) or .keras (Keras-backed estimators).")  # fmt: skip
    saved.versions = saved.versions or _versions(saved.estimator)
    if path.suffix == ".keras":
        tmp = path.with_name(f".{path.stem}.tmp.keras")
        saved.estimator.model_.save(tmp)
        os.replace(tmp, path)
        meta = {k: v for k, v in asdict(saved).items() if k != "estimator"}
        estimator = type(saved.estimator)
        meta["estimator"] = {"class": f"{estimator.__module__}.{estimator.__qualname__}",
                             "params": saved.estimator.get_params(deep=False)}  # fmt: skip
        _atomic_write(path.with_suffix(".json"), (json.dumps({"format": MODEL_FORMAT, **meta}, indent=2) + "\n").encode())
        return path
    buffer = io.BytesIO()
    joblib.dump({"format": MODEL_FORMAT, **asdict(saved)}, buffer, compress=3)
    _atomic_write(path, buffer.getvalue())
    return path


def load(path: str | Path) -> SavedModel:
    """Restore a model written by :func:`save` (a ``.joblib`` file, or a ``.keras`` file with its ``.json``).

    Raises :class:`ModelError` naming the file when it is missing, unreadable or of another
    format; warns when it was fitted with another scikit-learn or Keras version than the one here.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file. The model stages write them under models/<approach>/ (dvc repro).")
    try:
        if path.suffix == ".keras":
            bundle = json.loads(path.with_suffix(".json").read_text())
            bundle["estimator"] = _restore_keras_backed(path, bundle["estimator"], bundle["classes"])
        else:
            bundle = joblib.load(path)
    except Exception as err:  # joblib, pickle, zip and Keras raise many types for a bad file
        raise ModelError(f"{path}: cannot read the saved model ({type(err).__name__}: {err}). Rerun its stage.") from err
    if not isinstance(bundle, dict) or bundle.get("format") != MODEL_FORMAT:
        got = bundle.get("format") if isinstance(bundle, dict) else type(bundle).__name__
        raise ModelError(f"{path}: not a genrelab model of format {MODEL_FORMAT} (got {got!r}). Rerun its stage.")
    bundle.pop("format")
    saved = SavedModel(**bundle)
    here = _versions(saved.estimator)
    changed = {k: (v, here.get(k)) for k, v in saved.versions.items() if here.get(k) != v}
    if changed:
        warnings.warn(f"{path}: fitted with {changed} (saved, here); predictions may differ.", stacklevel=2)
    return saved


def _restore_keras_backed(path: Path, spec: dict, classes: list[str]) -> Any:
    """The estimator described by ``spec`` (class and parameters), fitted with the network at ``path``."""
    import importlib

    from genrelab.tensorflow_setup import import_tensorflow

    import_tensorflow()  # the CPU pins and the quiet start, before Keras loads TensorFlow
    import keras

    module, _, name = spec["class"].rpartition(".")
    estimator = getattr(importlib.import_module(module), name)(**spec["params"])
    estimator.model_ = keras.saving.load_model(path)
    estimator.classes_ = np.asarray(classes, dtype=object)
    return estimator


def _versions(estimator: Any) -> dict:
    import sklearn

    versions = {"sklearn": sklearn.__version__}
    if suffix_for(estimator) == ".keras":
        import keras

        versions["keras"] = keras.__version__
    return versions


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
