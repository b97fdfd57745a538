"""How the input of each servable approach is made: from a new audio file, and from the stage outputs.

A servable approach scores segments and averages their probabilities per track, as the study
scores tracks. Its input per segment (the segment rule of :mod:`genrelab.features.segments`):

``audio_features``      the 57 GTZAN-table features of the segment, 22050 Hz (``genrelab.features.gtzan57``)
                        (a 30 s clip model, the GTZAN one: of each 30 s window, :func:`clip_windows`)
``musicnn_embeddings``  one layer of a musicnn checkpoint on the segment's 3 s patch, 16 kHz
``musicnn_finetune``    the checkpoint's max and mean pools, interleaved (1506)
``cnn_scratch``         the segment's log-mel spectrogram, with the spectrograms stage's settings

:func:`file_inputs` and :func:`corpus_inputs` make the same rows for the same audio (tested), so a
model refitted on the corpus sees at prediction time exactly what it was trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.constants import SERVABLE_APPROACHES
from genrelab.data import audio
from genrelab.errors import DataError
from genrelab.features.segments import CLIP_SECONDS, segment_bounds


class AudioFile:
    """A file decoded at most once per sample rate, with its musicnn outputs kept, so the predictor
    and the recommender share the work on one file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._samples: dict[int, np.ndarray] = {}
        self._musicnn: dict[tuple[str, float], dict[str, np.ndarray]] = {}

    def samples(self, sr: int) -> np.ndarray:
        """Mono float32 (n,) at ``sr`` Hz (:func:`genrelab.data.audio.load`; raises :class:`AudioError`)."""
        if sr not in self._samples:
            self._samples[sr] = audio.load(self.path, sr=sr)[0]
        return self._samples[sr]

    def duration(self) -> float:
        """Seconds of audio (from a rate already decoded, else 22050 Hz)."""
        sr = next(iter(self._samples), audio.DEFAULT_SR)
        return len(self.samples(sr)) / sr

    def musicnn(self, checkpoint: str, segment_seconds: float) -> dict[str, np.ndarray]:
        """Every output of ``checkpoint`` on each segment's patch: ``{layer: float32 (n_segments, dim)}``."""
        from genrelab.pretrained import musicnn
        from genrelab.pretrained.musicnn_input import SR, segment_patches

        key = (checkpoint, segment_seconds)
        if key not in self._musicnn:
            patches = segment_patches(self.samples(SR), segment_seconds)
            out = musicnn.load_model(checkpoint).predict(patches, batch_size=64, verbose=0)
            self._musicnn[key] = {name: np.asarray(v, dtype=np.float32) for name, v in out.items()}
        return self._musicnn[key]


def check_servable(approach: str) -> None:
    if approach not in SERVABLE_APPROACHES:
        raise DataError(f"approach {approach!r} cannot be served by genrelab predict; servable approaches score "
                        f"segments and vote per track: {', '.join(SERVABLE_APPROACHES)}. Set predict.approach.")  # fmt: skip


def file_inputs(source: AudioFile, approach: str, features: dict) -> np.ndarray:
    """One file's input rows for ``approach``, made as ``features`` (a shipped model's settings) says.

    Returns float (n_segments, ...). Raises :class:`AudioError` naming the file when it cannot be
    decoded or is shorter than one segment.
    """
    check_servable(approach)
    seconds = features["segment_seconds"]
    _check_length(source, seconds, int(features["sample_rate"] if "sample_rate" in features else features["spectrograms"]["sr"]))
    if approach == "audio_features":
        from genrelab.features.gtzan57_dsp import SR, signal_features

        if seconds < CLIP_SECONDS:
            return signal_features(source.samples(SR), SR, seconds, source.path)[1]
        y = source.samples(SR)
        return np.vstack([signal_features(y[start:stop], SR, seconds, source.path)[1]
                          for start, stop in clip_windows(len(y), SR)])  # fmt: skip
    if approach == "musicnn_embeddings":
        return source.musicnn(features["checkpoint"], seconds)[features["layer"]]
    if approach == "musicnn_finetune":
        from genrelab.approaches.musicnn import pooled_features

        out = source.musicnn(features["checkpoint"], seconds)
        return pooled_features(out["max_pool"], out["mean_pool"])
    from genrelab.features.log_mel import SpectrogramSettings, segment_spectrograms

    settings = SpectrogramSettings(**features["spectrograms"])
    return _resized(segment_spectrograms(source.samples(settings.sr), settings), features["resize"])


def clip_windows(n_samples: int, sr: int) -> list[tuple[int, int]]:
    """Sample ranges ``(start, stop)`` of the 30 s windows a clip-level model (the GTZAN model) scores.

    A model of 30 s clips learned each clip's features measured whole, so a file is cut into
    consecutive 30 s windows (:func:`genrelab.features.segments.segment_bounds`' rule: a tail of at
    least 15 s is a window), the last running to the end of the file: a GTZAN clip (29.9 to 30.6 s)
    is one window, the whole clip, exactly the public table's row.
    """
    windows = segment_bounds(n_samples, sr, CLIP_SECONDS, clip_seconds=np.inf)
    return [*windows[:-1], (windows[-1][0], int(n_samples))]


def _check_length(source: AudioFile, seconds: float, sr: int) -> None:
    from genrelab.errors import AudioError

    y = source.samples(sr)
    if len(y) < seconds * sr / 2:  # the segment rule keeps a tail of half a segment
        raise AudioError(f"{source.path}: {len(y) / sr:.2f} s of audio is shorter than half a "
                         f"{seconds:g} s segment; the model needs at least {seconds / 2:g} s. Use a longer recording.",
                         kind="too_short")  # fmt: skip


def _resized(X: np.ndarray, resize) -> np.ndarray:
    if resize == "native":
        return X
    from genrelab.approaches.cnn_inputs import resize_segments

    return resize_segments(X, int(resize))


def corpus_inputs(approach: str, features: dict, *, features_dir: Path, embeddings_dir: Path,
                  spectrograms_dir: Path) -> tuple[np.ndarray, pd.DataFrame]:
    """The stage outputs' input rows for ``approach``: X (n_rows, ...) and ``track_id, segment, genre``."""
    check_servable(approach)
    if approach == "audio_features":
        from genrelab.features.gtzan57 import split_filenames
        from genrelab.features.tables import read_feature_table

        table = read_feature_table("segment", features_dir)
        index = split_filenames(table["filename"], segmented=True).assign(genre=table["label"].to_numpy(dtype=object))
        return table[features["columns"]].to_numpy(dtype=float), index[["track_id", "segment", "genre"]]
    from genrelab.pretrained.embeddings import load_embeddings

    if approach == "musicnn_embeddings":
        return load_embeddings(embeddings_dir, features["checkpoint"], features["layer"])
    if approach == "musicnn_finetune":
        from genrelab.approaches.musicnn import pooled_features

        max_pool, index = load_embeddings(embeddings_dir, features["checkpoint"], "max_pool")
        mean_pool, _ = load_embeddings(embeddings_dir, features["checkpoint"], "mean_pool")
        return pooled_features(max_pool, mean_pool), index
    from genrelab.features.spectrograms import load_segments

    X, index = load_segments(spectrograms_dir)
    return _resized(X, features["resize"]), index


def complete_features(approach: str, features: dict, params: dict, spectrograms_dir: Path) -> dict:
    """A saved model's ``features`` with what a new file needs besides: the segment length, and the
    spectrogram settings for the CNN."""
    out = {**features, "segment_seconds": params["prepare"]["segment_seconds"]}
    if approach == "cnn_scratch":
        from dataclasses import asdict

        from genrelab.features.spectrograms import load_meta

        out["spectrograms"] = asdict(load_meta(spectrograms_dir))
    return out
