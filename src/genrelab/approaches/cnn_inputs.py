"""The CNNs' inputs from log-mel segments: resized segments, the 0..255 image range, stacked
neighbour channels, and each backbone's own preprocessing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from genrelab.approaches.cnn_weights import BACKBONES
from genrelab.errors import DataError
from genrelab.tensorflow_setup import import_tensorflow

tf = import_tensorflow()  # quiet (no C++ start-up lines in notebook output), oneDNN off, ops deterministic


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
    # a new array either way: preprocess_input rewrites its argument in place
    images = np.repeat(images[..., None], 3, axis=-1) if images.ndim == 3 else images.copy()
    return np.asarray(BACKBONES[backbone].preprocess(images), dtype=np.float32)
