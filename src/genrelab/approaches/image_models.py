"""Spectrograms as images: three approaches that classify log-mel segments without audio features.

``spectrogram_pixels``
    Every dB value is a feature (:func:`pixel_features`): standardised, reduced by PCA to the
    components holding ``n_components`` of the variance (:class:`ChunkedPCA`), then a random
    forest or a logistic regression.
``spectrogram_hog``
    Histograms of oriented gradients (:func:`hog_features`, :func:`skimage.feature.hog`) at one or
    more cell sizes, reduced by PCA, then a logistic regression or LightGBM. Model names carry the
    cell size: ``hog9_logreg``, ``hog12_lightgbm``.
``spectrogram_shelf``
    The "spectral shelf" (:func:`shelf_profile`): per time column, the highest mel band that
    reaches ``floor_db`` below the spectrogram's maximum, summarised per segment
    (:func:`shelf_features`), then an SVM or a logistic regression. A source study used the shelf
    to judge the real quality of MP3s: an encoder's low-pass cut-off shows as a flat ceiling. GTZAN
    is 22.05 kHz audio, so most cut-offs (16 kHz and up) lie above its 11.025 kHz Nyquist limit and
    the shelf mostly measures how far up a genre's energy reaches.

Features are computed once for all rows (they are stateless per segment, so this leaks nothing);
everything fitted (scaling, PCA, classifier) sits in the model's pipeline and is refitted on each
training fold by :func:`genrelab.evaluation.loop.evaluate`. :func:`make_image_models` builds the
feature sets and model factories from ``image_models`` in params.yaml; :func:`evaluate_image_models`
runs them all and returns one :class:`~genrelab.evaluation.loop.Evaluation` per approach.

Memory: a full GTZAN segment array is 10 000 x 128 x 130 float32 (670 MB). Pixel features are a
reshaped view of it (memory-mapped when loaded with ``mmap=True``), and :class:`ChunkedPCA` never
holds more than ``fit_rows`` standardised rows plus one chunk at a time: fitting the pixel
pipeline on 7500 such rows allocates about 0.6 GB (``benchmarks/bench_image_memory.py``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted, validate_data

from genrelab.approaches.audio_features import PlattSVC, estimator_kwargs
from genrelab.config import ParamsError, section
from genrelab.errors import DataError
from genrelab.features.log_mel import SpectrogramSettings, mel_band_centres
from genrelab.features.spectrograms import example_rows, hz_to_axis, show_spectrogram

APPROACHES = ("spectrogram_pixels", "spectrogram_hog", "spectrogram_shelf")
PARAMS_KEY = "image_models"
SHELF_FEATURES = ("shelf_mean_hz", "shelf_std_hz", "shelf_p10_hz", "shelf_p50_hz", "shelf_p90_hz", "shelf_top_fraction")

class FeatureSet(NamedTuple):
    """One feature builder and the models evaluated on its features."""

    approach: str  # the results table's ``approach``
    features: Callable[[np.ndarray], np.ndarray]  # (n, n_mels, n_frames) dB -> (n, n_features)
    models: dict[str, Callable[[], BaseEstimator]]  # model name -> zero-argument factory
    settings: dict  # how ``features`` turns spectrograms into rows (JSON-compatible), saved with each model
    cv_folds: int  # selection folds (:func:`genrelab.evaluation.loop.selection_folds`'s ``n_folds``)


# --------------------------------------------------------------------------------------------
# Features


def pixel_features(X: np.ndarray) -> np.ndarray:
    """Flatten spectrograms to one row of dB values each, without copying.

    Parameters
    ----------
    X : float32 dB spectrograms, shape (n, n_mels, n_frames); a memory map stays one.

    Returns
    -------
    float32, shape (n, n_mels * n_frames), row-major (mel band-major): pixel ``(m, t)`` is
    column ``m * n_frames + t``.
    """
    X = _check_images(X)
    return X.reshape(len(X), -1)


def hog_features(
    X: np.ndarray, pixels_per_cell: int, orientations: int = 9, *, cells_per_block: int = 2, jobs: int = 1
) -> np.ndarray:
    """Histogram-of-oriented-gradients descriptor of each spectrogram (:func:`skimage.feature.hog`).

    The image is the dB spectrogram as is (frequency rows, time columns); cells are square,
    ``pixels_per_cell`` bins by frames, and blocks of ``cells_per_block`` squared cells are
    L2-Hys normalised.

    Parameters
    ----------
    X : dB spectrograms, shape (n, n_mels, n_frames).
    pixels_per_cell : side of a cell in pixels (e.g. 9 or 12).
    orientations : gradient orientation bins per cell.
    cells_per_block : side of a normalisation block in cells.
    jobs : worker processes (:func:`genrelab.parallel.map_tracks`).

    Returns
    -------
    float32, shape (n, d) with ``d = bx * by * cells_per_block**2 * orientations`` where
    ``bx = n_mels // pixels_per_cell - cells_per_block + 1`` (``by`` likewise over frames):
    6084 for 128 x 130 images with 9 x 9 cells, 2916 with 12 x 12.
    """
    from genrelab.parallel import map_tracks

    X = _check_images(X)
    _hog_dims(X.shape[1:], pixels_per_cell, orientations, cells_per_block)  # fail early, clearly
    chunks = np.array_split(np.arange(len(X)), max(1, min(len(X), 8 * jobs)))
    work = [(np.asarray(X[idx]), pixels_per_cell, orientations, cells_per_block) for idx in chunks]
    parts = map_tracks(_hog_chunk, work, jobs=jobs, desc="HOG", unit="chunk", progress=False)
    return np.concatenate(parts) if parts else np.empty((0, 0), np.float32)


def hog_dims(
    image_shape: tuple[int, int], pixels_per_cell: int, orientations: int = 9, cells_per_block: int = 2
) -> int:
    """Length of the HOG descriptor of one (n_mels, n_frames) image (see :func:`hog_features`)."""
    return _hog_dims(image_shape, pixels_per_cell, orientations, cells_per_block)


def shelf_profile(S: np.ndarray, mel_freqs: np.ndarray, floor_db: float) -> np.ndarray:
    """The spectral shelf of one spectrogram: per frame, the highest band reaching the floor.

    Parameters
    ----------
    S : dB spectrogram, shape (n_mels, n_frames).
    mel_freqs : centre frequency of each mel band in Hz, shape (n_mels,)
        (:func:`genrelab.features.spectrograms.mel_band_centres`).
    floor_db : level relative to the spectrogram's maximum (<= 0 dB): a band counts when it is
        at least this loud.

    Returns
    -------
    float, shape (n_frames,): the centre frequency (Hz) of the highest band at or above the floor
    in each frame; 0 Hz for frames with no band above it (silence).
    """
    S = np.asarray(S)
    if S.ndim != 2:
        raise DataError(f"shelf_profile takes one spectrogram of shape (n_mels, n_frames), got shape {S.shape}")
    return _shelf_hz(S[None], np.asarray(mel_freqs, dtype=float), floor_db)[0]


def shelf_features(X: np.ndarray, mel_freqs: np.ndarray, floor_db: float, *, chunk_rows: int = 512) -> np.ndarray:
    """Summaries of each spectrogram's shelf profile (:func:`shelf_profile`).

    Returns
    -------
    float32, shape (n, 6): columns :data:`SHELF_FEATURES`: mean, standard deviation, 10th, 50th
    and 90th percentile of the profile (Hz), and the fraction of frames whose shelf is the top band.
    """
    X = _check_images(X)
    mel_freqs = np.asarray(mel_freqs, dtype=float)
    if mel_freqs.shape != (X.shape[1],):
        raise DataError(f"mel_freqs has shape {mel_freqs.shape}, but the spectrograms have {X.shape[1]} mel bands")
    out = np.empty((len(X), len(SHELF_FEATURES)), dtype=np.float32)
    for start in range(0, len(X), chunk_rows):
        hz = _shelf_hz(np.asarray(X[start : start + chunk_rows]), mel_freqs, floor_db)
        percentiles = np.percentile(hz, [10, 50, 90], axis=1)
        top = (hz == mel_freqs[-1]).mean(axis=1)
        out[start : start + len(hz)] = np.column_stack([hz.mean(axis=1), hz.std(axis=1), *percentiles, top])
    return out


def _shelf_hz(X: np.ndarray, mel_freqs: np.ndarray, floor_db: float) -> np.ndarray:
    """Shelf profile (Hz) of each spectrogram of X (n, n_mels, n_frames) -> (n, n_frames)."""
    if floor_db > 0:
        raise DataError(f"{PARAMS_KEY}.shelf.floor_db is relative to the maximum and must be <= 0, got {floor_db}")
    above = X >= X.max(axis=(1, 2), keepdims=True) + floor_db
    # argmax over the flipped band axis finds the highest band that is above the floor.
    highest = X.shape[1] - 1 - above[:, ::-1, :].argmax(axis=1)
    return np.where(above.any(axis=1), mel_freqs[highest], 0.0)


# --------------------------------------------------------------------------------------------
# PCA for matrices larger than memory


class ChunkedPCA(TransformerMixin, BaseEstimator):
    """Standardisation and PCA for tall, wide float32 matrices (memory maps), fitted in chunks.

    Equivalent to ``StandardScaler()`` followed by ``PCA(n_components)`` (up to the sign of each
    component), with three changes that bound its memory (about 0.6 GB for 7500 GTZAN segments
    of 16 640 pixels with ``fit_rows=3000``):

    - means and standard deviations are accumulated over chunks of ``chunk_rows`` rows;
    - the components are those of a random subsample of ``fit_rows`` rows, found from the
      ``fit_rows x fit_rows`` Gram matrix (exact for that subsample, and far cheaper than an SVD
      of the ``n_features``-wide matrix); with ``n_components`` a fraction, the kept variance is
      measured on that subsample;
    - :meth:`transform` works chunk by chunk and returns float32.

    Parameters
    ----------
    n_components : float in (0, 1]: keep the fewest components whose explained variance reaches
        this fraction; int >= 1: keep that many (at most ``fit_rows - 1``).
    standardize : scale every feature to unit variance before the PCA (constant features keep
        scale 1, as in StandardScaler); ``False`` only centres.
    fit_rows : rows the components are computed from (all rows when there are fewer).
    chunk_rows : rows read at a time.
    random_state : seed of the subsample.

    Attributes
    ----------
    mean_, scale_ : float32, shape (n_features,).
    components_ : float32, shape (n_components_, n_features), unit-norm rows.
    explained_variance_ratio_ : shape (n_components_,), on the subsample.
    """

    def __init__(
        self,
        n_components: float | int = 0.9,
        *,
        standardize: bool = True,
        fit_rows: int = 3000,
        chunk_rows: int = 1024,
        random_state: int | None = None,
    ):
        self.n_components = n_components
        self.standardize = standardize
        self.fit_rows = fit_rows
        self.chunk_rows = chunk_rows
        self.random_state = random_state

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=[np.float32, np.float64], ensure_min_samples=2)
        self.mean_, self.scale_ = self._moments(X)
        rng = np.random.default_rng(self.random_state)
        rows = np.sort(rng.choice(len(X), size=min(self.fit_rows, len(X)), replace=False))
        Z = self._standardise(X[rows])  # (m, d) float32
        gram = (Z @ Z.T).astype(np.float64)
        eigvals, eigvecs = np.linalg.eigh(gram)
        eigvals, eigvecs = np.clip(eigvals[::-1], 0, None), eigvecs[:, ::-1]
        ratio = eigvals / eigvals.sum() if eigvals.sum() > 0 else np.zeros_like(eigvals)
        k = self._n_kept(ratio)
        # Right singular vectors from the left ones: v_i = Z^T u_i / s_i, with s_i^2 = eigval_i.
        self.components_ = ((Z.T @ eigvecs[:, :k].astype(np.float32)) / np.sqrt(eigvals[:k]).astype(np.float32)).T
        self.components_ = np.ascontiguousarray(self.components_, dtype=np.float32)
        self.n_components_ = k
        self.explained_variance_ = eigvals[:k] / (len(rows) - 1)
        self.explained_variance_ratio_ = ratio[:k]
        return self

    def transform(self, X):
        check_is_fitted(self, "components_")
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        out = np.empty((len(X), self.n_components_), dtype=np.float32)
        for start in range(0, len(X), self.chunk_rows):
            chunk = slice(start, start + self.chunk_rows)
            out[chunk] = self._standardise(X[chunk]) @ self.components_.T
        return out

    def _moments(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature mean and standard deviation, accumulated in float64 over chunks."""
        total = np.zeros(X.shape[1])
        for start in range(0, len(X), self.chunk_rows):
            total += X[start : start + self.chunk_rows].sum(axis=0, dtype=np.float64)
        mean = total / len(X)
        squares = np.zeros(X.shape[1])
        for start in range(0, len(X), self.chunk_rows):
            squares += ((X[start : start + self.chunk_rows] - mean) ** 2).sum(axis=0)
        std = np.sqrt(squares / len(X))
        scale = np.where(std > 0, std, 1.0) if self.standardize else np.ones_like(std)
        return mean.astype(np.float32), scale.astype(np.float32)

    def _standardise(self, rows) -> np.ndarray:
        return (np.asarray(rows, dtype=np.float32) - self.mean_) / self.scale_

    def _n_kept(self, ratio: np.ndarray) -> int:
        rank = max(1, int(np.count_nonzero(ratio > 1e-12)))
        n = self.n_components
        if isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1:
            return int(min(n, rank))
        if isinstance(n, float) and 0 < n <= 1:
            return int(min(np.searchsorted(np.cumsum(ratio), n - 1e-9) + 1, rank))
        raise ParamsError(
            f"n_components must be a fraction of variance in (0, 1] or a whole number >= 1, got {n!r} "
            f"({PARAMS_KEY}.pixels/hog.n_components)"
        )


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
        _hog_dims((settings.n_mels, settings.n_frames), cell, hog["orientations"], hog["cells_per_block"])
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
    from genrelab.evaluation.loop import Evaluation, evaluate

    p = section(PARAMS_KEY, params)
    settings = settings or SpectrogramSettings()
    y = index["genre"].to_numpy(dtype=object)
    runs: dict[str, list] = {}
    for fs in make_image_models(params, settings).values():
        runs.setdefault(fs.approach, []).append(
            evaluate(
                fs.features(X), y, index, splits, approach=fs.approach, models=fs.models, protocols=protocols,
                level="segment", cv_folds=fs.cv_folds, seed=p["seed"], split_seed=split_seed,
                test_fraction=test_fraction, progress=progress,
                models_dir=None if models_dir is None else Path(models_dir) / fs.approach,
                features={"input": "log-mel segments", "spectrograms": dict(settings.__dict__), **fs.settings},
            )
        )  # fmt: skip

    return {
        approach: Evaluation(
            approach=approach,
            level="segment",
            scores=pd.concat([e.scores for e in evals], ignore_index=True),
            predictions=pd.concat([e.predictions for e in evals], ignore_index=True),
            details={key: d for e in evals for key, d in e.details.items()},
        )
        for approach, evals in runs.items()
    }


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


def _check_images(X) -> np.ndarray:
    X = X if isinstance(X, np.ndarray) else np.asarray(X)
    if X.ndim != 3:
        raise DataError(f"expected spectrograms of shape (n, n_mels, n_frames), got shape {X.shape}")
    return X if X.dtype == np.float32 else X.astype(np.float32)


def _hog_dims(shape, pixels_per_cell: int, orientations: int, cells_per_block: int) -> int:
    cells = [size // pixels_per_cell for size in shape]
    if min(cells) < cells_per_block:
        raise ParamsError(
            f"'{PARAMS_KEY}.hog.pixels_per_cell' = {pixels_per_cell} leaves {cells} cells on a {tuple(shape)} "
            f"spectrogram, fewer than cells_per_block = {cells_per_block}; use smaller cells."
        )
    blocks = [c - cells_per_block + 1 for c in cells]
    return blocks[0] * blocks[1] * cells_per_block**2 * orientations


def _hog_chunk(X: np.ndarray, pixels_per_cell: int, orientations: int, cells_per_block: int) -> np.ndarray:
    from skimage.feature import hog

    return np.stack(
        [
            hog(img, orientations=orientations, pixels_per_cell=(pixels_per_cell,) * 2,
                cells_per_block=(cells_per_block,) * 2, block_norm="L2-Hys", feature_vector=True)
            for img in X
        ]
    ).astype(np.float32)  # fmt: skip


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
