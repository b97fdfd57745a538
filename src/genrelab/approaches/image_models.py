"""Spectrograms as images: three approaches that classify log-mel segments without audio features.

``spectrogram_pixels``
    Every dB value is a feature (:func:`~genrelab.approaches.image_features.pixel_features`):
    standardised, reduced by PCA to the components holding ``n_components`` of the variance
    (:class:`~genrelab.approaches.image_features.ChunkedPCA`), then a random forest or a logistic
    regression.
``spectrogram_hog``
    Histograms of oriented gradients (:func:`~genrelab.approaches.image_features.hog_features`,
    :func:`skimage.feature.hog`) at one or more cell sizes, reduced by PCA, then a logistic
    regression or LightGBM. Model names carry the cell size: ``hog9_logreg``, ``hog12_lightgbm``.
``spectrogram_shelf``
    The "spectral shelf" (:func:`~genrelab.approaches.image_features.shelf_profile`): per time
    column, the highest mel band that reaches ``floor_db`` below the spectrogram's maximum,
    summarised per segment (:func:`~genrelab.approaches.image_features.shelf_features`), then an
    SVM or a logistic regression. A source study used the shelf to judge the real quality of MP3s:
    an encoder's low-pass cut-off shows as a flat ceiling. GTZAN is 22.05 kHz audio, so most
    cut-offs (16 kHz and up) lie above its 11.025 kHz Nyquist limit and the shelf mostly measures
    how far up a genre's energy reaches.

The features (:mod:`genrelab.approaches.image_features`) are computed once for all rows (they
are stateless per segment, so this leaks nothing); everything fitted (scaling, PCA, classifier)
sits in the model's pipeline and is refitted on each training fold by
:func:`genrelab.evaluation.loop.evaluate`. This module owns the models: :func:`make_image_models`
builds the feature sets and model factories from ``image_models`` in params.yaml;
:func:`evaluate_image_models` runs them all and returns one
:class:`~genrelab.evaluation.loop.Evaluation` per approach. The book's pictures of the three
(:func:`pixel_importances`, :func:`plot_hog_examples`, :func:`plot_shelf_examples`) are here too.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from genrelab.approaches.audio_features import PlattSVC, estimator_kwargs
from genrelab.approaches.image_features import (
    PARAMS_KEY,
    ChunkedPCA,
    hog_dims,
    hog_features,
    pixel_features,
    shelf_features,
    shelf_profile,
)
from genrelab.config import ParamsError, section
from genrelab.errors import DataError
from genrelab.features.log_mel import SpectrogramSettings, mel_band_centres
from genrelab.features.spectrograms import example_rows, hz_to_axis, show_spectrogram

APPROACHES = ("spectrogram_pixels", "spectrogram_hog", "spectrogram_shelf")


class FeatureSet(NamedTuple):
    """One feature builder and the models evaluated on its features."""

    approach: str  # the results table's ``approach``
    features: Callable[[np.ndarray], np.ndarray]  # (n, n_mels, n_frames) dB -> (n, n_features)
    models: dict[str, Callable[[], BaseEstimator]]  # model name -> zero-argument factory
    settings: dict  # how ``features`` turns spectrograms into rows (JSON-compatible), saved with each model
    cv_folds: int  # selection folds (:func:`genrelab.evaluation.selection.selection_folds`'s ``n_folds``)


# --------------------------------------------------------------------------------------------
# Models


def make_image_models(params: dict | None = None, settings: SpectrogramSettings | None = None) -> dict[str, FeatureSet]:
    """Feature sets and model factories of the three image approaches, from ``image_models``.

    Parameters
    ----------
    params : the ``image_models`` section of params.yaml (:class:`genrelab.config.ImageModels`); ``None`` or
        empty uses the defaults.
    settings : the spectrograms' settings (:func:`genrelab.features.spectrograms.load_meta`), for the mel
        band frequencies of the shelf; default: :class:`~genrelab.features.spectrograms.SpectrogramSettings`.

    Returns
    -------
    dict feature-set name -> :class:`FeatureSet`, in order: ``pixels``, ``hog<cell>`` for each
    HOG cell size, ``shelf``. Pass each to :func:`genrelab.evaluation.loop.evaluate` with
    ``approach=fs.approach`` (or use :func:`evaluate_image_models`).

    Raises
    ------
    ParamsError : an unknown key, model name or classifier keyword, naming the dotted key.
    """
    p = section(PARAMS_KEY, params)
    settings = settings or SpectrogramSettings()
    seed = p["seed"]
    sets: dict[str, FeatureSet] = {}

    def folds(part: dict) -> int:  # an approach's own setting wins over the section's
        return p["cv_folds"] if part["cv_folds"] is None else part["cv_folds"]

    pix = p["pixels"]
    pca = ChunkedPCA(pix["n_components"], standardize=True, fit_rows=pix["fit_rows"], random_state=seed)
    sets["pixels"] = FeatureSet("spectrogram_pixels", pixel_features, _factories("pixels", pix["models"], pca, seed),
                                {"transform": "pixels"}, folds(pix))  # fmt: skip

    hog = p["hog"]
    for cell in hog["pixels_per_cell"]:
        hog_dims((settings.n_mels, settings.n_frames), cell, hog["orientations"], hog["cells_per_block"])
        pca = ChunkedPCA(hog["n_components"], standardize=False, fit_rows=hog["fit_rows"], random_state=seed)
        models = _factories("hog", hog["models"], pca, seed)

        def features(X, cell=cell):
            return hog_features(X, cell, hog["orientations"], cells_per_block=hog["cells_per_block"], jobs=hog["jobs"])

        described = {"transform": "hog", "pixels_per_cell": cell, "orientations": hog["orientations"],
                     "cells_per_block": hog["cells_per_block"]}  # fmt: skip
        sets[f"hog{cell}"] = FeatureSet("spectrogram_hog", features, {f"hog{cell}_{n}": f for n, f in models.items()},
                                        described, folds(hog))  # fmt: skip

    shelf = p["shelf"]
    freqs = mel_band_centres(settings.n_mels, settings.fmin, settings.fmax)
    floor_db = shelf["floor_db"]
    if floor_db > 0:
        raise ParamsError(f"'{PARAMS_KEY}.shelf.floor_db' is relative to the maximum and must be <= 0, got {floor_db}.")

    def shelf_fn(X):
        return shelf_features(X, freqs, floor_db)

    sets["shelf"] = FeatureSet("spectrogram_shelf", shelf_fn, _factories("shelf", shelf["models"], None, seed),
                               {"transform": "shelf", "floor_db": floor_db}, folds(shelf))  # fmt: skip
    return sets


def evaluate_image_models(
    X: np.ndarray,
    index: pd.DataFrame,
    splits: pd.DataFrame,
    params: dict | None = None,
    *,
    settings: SpectrogramSettings | None = None,
    protocols,
    split_seed: int = 42,
    test_fraction: float = 0.25,
    progress: bool = True,
    models_dir: str | Path | None = None,
) -> dict:
    """Evaluate every image approach on segment spectrograms; one Evaluation per approach.

    Parameters
    ----------
    X, index : :func:`genrelab.features.spectrograms.load_segments` output.
    splits : the split table.
    params, settings : as for :func:`make_image_models` (``seed`` comes from params, each approach's
        selection folds from its :class:`FeatureSet`).
    protocols, split_seed, test_fraction, progress : passed to :func:`genrelab.evaluation.loop.evaluate`.
    models_dir : when given, each fitted model is saved in ``models_dir/<approach>/``, with the
        spectrogram settings and the feature transform its input needs.

    Returns
    -------
    dict approach -> :class:`genrelab.evaluation.loop.Evaluation` (the HOG cell sizes are evaluated
    separately and merged into one ``spectrogram_hog`` evaluation).
    """
    from genrelab.evaluation.loop import concat_evaluations, evaluate

    p = section(PARAMS_KEY, params)
    settings = settings or SpectrogramSettings()
    y = index["genre"].to_numpy(dtype=object)
    runs: dict[str, list] = {}
    for fs in make_image_models(params, settings).values():
        runs.setdefault(fs.approach, []).append(
            evaluate(
                fs.features(X), y, index, splits, approach=fs.approach, models=fs.models, protocols=protocols,
                level="segment", cv_folds=fs.cv_folds, seed=p["seed"], split_seed=split_seed,
                test_fraction=test_fraction, progress=progress, jobs=p["jobs"],
                models_dir=None if models_dir is None else Path(models_dir) / fs.approach,
                features={"input": "log-mel segments", "spectrograms": dict(settings.__dict__), **fs.settings},
            )
        )  # fmt: skip

    return {approach: concat_evaluations(evals) for approach, evals in runs.items()}


def _classifiers(approach: str, seed: int) -> dict[str, BaseEstimator]:
    """Each approach's classifiers with their defaults (single-threaded: the machine is shared)."""
    logreg = LogisticRegression(C=0.1, max_iter=2000)
    return {
        "pixels": {
            "random_forest": RandomForestClassifier(n_estimators=200, min_samples_leaf=2, n_jobs=1, random_state=seed),
            "logreg": logreg,
        },
        "hog": {
            "logreg": logreg,
            "lightgbm": LGBMClassifier(
                n_estimators=200, learning_rate=0.05, num_leaves=15, min_child_samples=10,
                subsample=0.8, subsample_freq=1, colsample_bytree=0.5,
                max_bin=63,  # a few thousand rows fill no more; 2.5x faster (benchmarks/bench_lightgbm_bins.py)
                n_jobs=1, verbose=-1, random_state=seed,
            ),  # fmt: skip
        },
        "shelf": {"svm": SVC(C=10.0, gamma="scale"), "logreg": LogisticRegression(C=1.0, max_iter=2000)},
    }[approach]


def _factories(approach: str, spec: dict, pca: ChunkedPCA | None, seed: int) -> dict[str, Callable[[], BaseEstimator]]:
    """Check ``<approach>.models`` and return name -> factory of a fresh pipeline."""
    key = f"{PARAMS_KEY}.{approach}.models"
    if not isinstance(spec, dict) or not spec:
        raise ParamsError(f"'{key}' must map at least one model name to keyword arguments, got {spec!r}.")
    known = _classifiers(approach, seed)
    return {name: _factory(approach, name, dict(estimator_kwargs(key, name, kwargs, known)), pca, seed)
            for name, kwargs in spec.items()}  # fmt: skip


def _factory(approach: str, name: str, kwargs: dict, pca: ChunkedPCA | None, seed: int) -> Callable[[], BaseEstimator]:
    def factory() -> BaseEstimator:
        clf = _classifiers(approach, seed)[name].set_params(**kwargs)
        if isinstance(clf, SVC):
            clf = PlattSVC(clf)  # probabilities for track voting
        steps = [] if pca is None else [("pca", copy.deepcopy(pca))]
        # Trees do not care about scale; the linear models and the SVM need unit-variance inputs
        # (PCA scores shrink with the component's rank).
        if name != "random_forest" and name != "lightgbm":
            steps.append(("scale", StandardScaler()))
        return Pipeline(steps + [("clf", clf)])

    factory.__name__ = f"make_{approach}_{name}"
    return factory


# --------------------------------------------------------------------------------------------
# Pictures for the book


def pixel_importances(fitted: Pipeline, image_shape: tuple[int, int]) -> np.ndarray:
    """Random-forest importances mapped back from PCA components to pixels.

    The forest ranks components; a pixel's importance is the sum over components of the
    component's importance times the pixel's squared loading (each component has unit norm, so the
    result sums to 1 like the forest's own importances).

    Parameters
    ----------
    fitted : a fitted ``spectrogram_pixels`` random-forest pipeline.
    image_shape : (n_mels, n_frames).

    Returns
    -------
    float, shape (n_mels, n_frames).
    """
    if "pca" not in fitted.named_steps or not hasattr(fitted[-1], "feature_importances_"):
        raise DataError("pixel_importances needs a fitted pixels pipeline with a tree classifier (random_forest).")
    components = fitted.named_steps["pca"].components_
    return (fitted[-1].feature_importances_ @ components.astype(float) ** 2).reshape(image_shape)


def plot_pixel_importances(importances: np.ndarray, mean_spectrogram: np.ndarray, settings: SpectrogramSettings):
    """The mean spectrogram in grey with the pixel importances (top 10 %) drawn over it in colour."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.add_subplot()
    title = "random forest pixel importance over the mean spectrogram"
    show_spectrogram(mean_spectrogram, settings, ax, colorbar=False, title=title).set_cmap("gray")
    top = np.ma.masked_less(importances, np.quantile(importances, 0.9))
    overlay = show_spectrogram(top, settings, ax, colorbar=False, title=title)
    overlay.set(cmap="autumn_r", alpha=0.8)
    fig.colorbar(overlay, ax=ax, label="importance (share)")
    return fig


def plot_hog_examples(
    X: np.ndarray, index: pd.DataFrame, settings: SpectrogramSettings, *, pixels_per_cell: int = 9,
    orientations: int = 9, ncols: int = 5,
):  # fmt: skip
    """One example per genre: its spectrogram above the HOG picture of its gradients."""
    from matplotlib.figure import Figure
    from skimage.feature import hog

    rows = example_rows(index)
    nrows = 2 * -(-len(rows) // ncols)
    fig = Figure(figsize=(3 * ncols, 2 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, (genre, row) in enumerate(rows.items()):
        top, bottom = axes[2 * (i // ncols), i % ncols], axes[2 * (i // ncols) + 1, i % ncols]
        show_spectrogram(X[row], settings, top, colorbar=False, title=genre)
        _, picture = hog(np.asarray(X[row], dtype=float), orientations=orientations,
                         pixels_per_cell=(pixels_per_cell,) * 2, cells_per_block=(2, 2), visualize=True)  # fmt: skip
        title = f"HOG {pixels_per_cell}x{pixels_per_cell}"
        show_spectrogram(picture, settings, bottom, colorbar=False, title=title).set_cmap("gray")
    for j in range(len(rows), nrows // 2 * ncols):  # empty slots of the last row pair
        axes[2 * (j // ncols), j % ncols].set_axis_off()
        axes[2 * (j // ncols) + 1, j % ncols].set_axis_off()
    return fig


def plot_shelf_examples(
    X: np.ndarray, index: pd.DataFrame, settings: SpectrogramSettings, *, floor_db: float = -50.0, ncols: int = 5
):
    """One example per genre with its shelf profile (Hz) drawn over its spectrogram."""
    from matplotlib.figure import Figure

    rows = example_rows(index)
    freqs = mel_band_centres(settings.n_mels, settings.fmin, settings.fmax)
    nrows = -(-len(rows) // ncols)
    fig = Figure(figsize=(3 * ncols, 2.4 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    for ax, (genre, row) in zip(axes.flat, rows.items()):
        show_spectrogram(X[row], settings, ax, colorbar=False, title=genre)
        profile = shelf_profile(X[row], freqs, floor_db)
        times = (np.arange(len(profile)) + 0.5) * settings.hop_length / settings.sr  # frame centres (s)
        ax.plot(times, hz_to_axis(profile), color="cyan", lw=1, label=f"shelf ({floor_db:+.0f} dB)")
        ax.label_outer()
    for ax in axes.flat[len(rows) :]:
        ax.set_axis_off()
    axes.flat[0].legend(loc="lower left", fontsize="small")
    return fig
