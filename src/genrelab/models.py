"""Saving and restoring every fitted model of the study.

The evaluation loop writes each fitted model to ``models/<approach>/<model>__<protocol>__<level>.joblib``
(Keras: ``.keras`` plus a ``.json`` description) as a :class:`SavedModel`: the estimator, its
classes, and how its input is made. :func:`load` restores it and :meth:`SavedModel.predict_proba`
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

from genrelab.errors import GenrelabError


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

    estimator: Any  # a fitted scikit-learn estimator, or a Keras model
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
        if hasattr(self.estimator, "predict_proba"):
            return np.asarray(self.estimator.predict_proba(X))
        return np.asarray(self.estimator.predict(np.asarray(X), verbose=0))  # Keras: softmax outputs

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def file_slug(name: str) -> str:
    """The file-name form of a model name: ``mobilenetv2[random]`` -> ``mobilenetv2-random``."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", name).strip("-")


def model_path(models_dir: str | Path, model: str, protocol: str, level: str, suffix: str = ".joblib") -> Path:
    """``models_dir/<model>__<protocol>__<level><suffix>``, the model's name made file-safe."""
    return Path(models_dir) / f"{file_slug(model)}__{protocol}__{level}{suffix}"


def save(saved: SavedModel, path: str | Path) -> Path:
    """Write ``saved`` to ``path``: one joblib file for scikit-learn (``.joblib``), or the Keras
    model (``.keras``) plus its description beside it (``.json``). Written beside, then renamed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    saved.versions = saved.versions or _versions(saved.estimator)
    if path.suffix == ".keras":
        tmp = path.with_name(f".{path.stem}.tmp.keras")
        saved.estimator.save(tmp)
        os.replace(tmp, path)
        meta = {k: v for k, v in asdict(saved).items() if k != "estimator"}
        _atomic_write(path.with_suffix(".json"), (json.dumps({"format": MODEL_FORMAT, **meta}, indent=2) + "\n").encode())
        return path
    if path.suffix != ".joblib":
        raise ModelError(f"{path}: saved models end in .joblib (scikit-learn) or .keras (Keras).")
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
            import keras

            bundle = json.loads(path.with_suffix(".json").read_text())
            bundle["estimator"] = keras.saving.load_model(path)
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


def _versions(estimator: Any) -> dict:
    import sklearn

    versions = {"sklearn": sklearn.__version__}
    if type(estimator).__module__.startswith("keras"):
        import keras

        versions["keras"] = keras.__version__
    return versions


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
