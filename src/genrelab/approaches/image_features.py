"""What the image models see: each spectrogram as a row of features, and the PCA that shrinks them.

:func:`pixel_features` (every dB value), :func:`hog_features` (histograms of oriented gradients,
:func:`skimage.feature.hog`) and :func:`shelf_features` (summaries of the spectral shelf,
:func:`shelf_profile`) are stateless per segment, so they are computed once for all rows and
leak nothing; :class:`ChunkedPCA` is fitted inside each model's pipeline
(:mod:`genrelab.approaches.image_models`).

Memory: a full GTZAN segment array is 10 000 x 128 x 130 float32 (670 MB). Pixel features are a
reshaped view of it (memory-mapped when loaded with ``mmap=True``), and :class:`ChunkedPCA` never
holds more than ``fit_rows`` standardised rows plus one chunk at a time: fitting the pixel
pipeline on 7500 such rows allocates about 0.6 GB (``benchmarks/bench_image_memory.py``).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from genrelab.config import ParamsError
from genrelab.errors import DataError

PARAMS_KEY = "image_models"  # the params.yaml section, named in error messages
SHELF_FEATURES = ("shelf_mean_hz", "shelf_std_hz", "shelf_p10_hz", "shelf_p50_hz", "shelf_p90_hz", "shelf_top_fraction")


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
