"""Excerpts of a file, and the quality features of each: the one input of every quality model.

Only the excerpts are decoded (``soundfile`` seeks in MP3 and FLAC), so a 4-minute file costs a
few seconds of decoding, not four minutes'. A feature row is :func:`genrelab.quality.spectral.spectral_features`
plus the high-band profile as ``profile_00`` ... ``profile_63``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from genrelab.errors import AudioError
from genrelab.parallel import Failure, map_tracks
from genrelab.quality import spectral

PROFILE_COLUMNS = tuple(f"profile_{k:02d}" for k in range(spectral.PROFILE_BANDS))


def read_excerpt(path: str | Path, offset_seconds: float, seconds: float) -> tuple[np.ndarray, int]:
    """``seconds`` of ``path`` from ``offset_seconds`` (fewer at the end of the file), float32
    ``(n_samples, channels)``, and the file's rate. Raises :class:`AudioError` naming the file."""
    try:
        with sf.SoundFile(str(path)) as f:
            sr = f.samplerate
            f.seek(min(int(offset_seconds * sr), max(0, f.frames - 1)))
            y = f.read(int(seconds * sr), dtype="float32", always_2d=True)
    except Exception as err:  # libsndfile's errors differ by format and version
        raise AudioError(f"{path}: cannot be decoded ({err}).", kind="corrupt") from err
    if len(y) == 0:
        raise AudioError(f"{path}: holds no samples at {offset_seconds:g} s.", kind="empty")
    return y, sr


def excerpt_features(path: str | Path, excerpts: Sequence[tuple[float, float]], edge_db: float) -> list[dict]:
    """One feature row per ``(offset_seconds, seconds)`` excerpt of ``path``."""
    rows = []
    for offset, seconds in excerpts:
        y, sr = read_excerpt(path, offset, seconds)
        spec = spectral.spectrum(y, sr)
        row = {"offset_seconds": offset, "excerpt_seconds": seconds, **spectral.spectral_features(y, sr, edge_db, spec)}
        rows.append(row | dict(zip(PROFILE_COLUMNS, spectral.profile(y, sr, spec).tolist())))
    return rows


def feature_table(root: str | Path, excerpts: pd.DataFrame, *, edge_db: float = spectral.EDGE_DB, jobs: int = 1,
                  progress: bool = True) -> tuple[pd.DataFrame, list[Failure]]:  # fmt: skip
    """The features of every excerpt (``file, excerpt_seconds, offset_seconds`` rows) of files under ``root``.

    Returns the rows (``file`` first, then the features) and the files that failed to decode.
    """
    grouped = excerpts.groupby("file", sort=False)
    work = [(Path(root) / file, list(zip(part["offset_seconds"], part["excerpt_seconds"])), edge_db)
            for file, part in grouped]  # fmt: skip
    results = map_tracks(excerpt_features, work, jobs=jobs, desc="quality features", unit="file", progress=progress)
    rows = [{"file": file, **row} for (file, _), result in zip(grouped, results) if not isinstance(result, Failure)
            for row in result]  # fmt: skip
    return pd.DataFrame(rows), [r for r in results if isinstance(r, Failure)]
