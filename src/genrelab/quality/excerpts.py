"""Excerpts of a file, and the quality features of each: the one input of every quality model.

Only the excerpts are decoded (``soundfile`` seeks in MP3 and FLAC), so a 4-minute file costs a
few seconds of decoding, not four minutes'. The formats :func:`genrelab.data.audio.via_ffmpeg`
gives ffmpeg are decoded up to each excerpt's end and cut by sample number, since ffmpeg's own seek
in AAC is not sample-exact: three 10 s excerpts of a 4-minute AAC file take 1.3 s (FLAC: 0.06 s),
measured on a busy 2-core machine. A feature row is :func:`genrelab.quality.spectral.spectral_features`
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
    from genrelab.data import audio

    if audio.via_ffmpeg(path):
        y, sr = audio.read_ffmpeg(path, offset_seconds, seconds)
    else:
        y, sr = _read_sndfile(path, offset_seconds, seconds)
    if len(y) == 0:
        raise AudioError(f"{path}: holds no samples at {offset_seconds:g} s.", kind="empty")
    return y, sr


def _read_sndfile(path: str | Path, offset_seconds: float, seconds: float) -> tuple[np.ndarray, int]:
    try:
        with sf.SoundFile(str(path)) as f:
            sr = f.samplerate
            f.seek(min(int(offset_seconds * sr), max(0, f.frames - 1)))
            y = f.read(int(seconds * sr), dtype="float32", always_2d=True)
    except Exception as err:  # libsndfile's errors differ by format and version
        raise AudioError(f"{path}: cannot be decoded ({err}).", kind="corrupt") from err
    return y, sr


PICTURES = {  # name: (shape, frequency range in Hz) of spectral.picture
    "band": (spectral.BAND_PICTURE, (spectral.PROFILE_HZ[0], spectral.PROFILE_HZ[1])),  # the CNN's 11-22 kHz
    "spek": (spectral.SPEK_PICTURE, (0.0, spectral.PROFILE_HZ[1])),  # Spek's whole picture, for the pixels baseline
}


def excerpt_features(path: str | Path, excerpts: Sequence[tuple[float, float]], edge_db: float,
                     pictures: bool = False) -> list[dict]:  # fmt: skip
    """One feature row per ``(offset_seconds, seconds)`` excerpt of ``path``; with ``pictures``,
    each row also holds the :data:`PICTURES` arrays under their names."""
    rows = []
    for offset, seconds in excerpts:
        y, sr = read_excerpt(path, offset, seconds)
        spec = spectral.spectrum(y, sr)
        row = {"offset_seconds": offset, "excerpt_seconds": seconds, **spectral.spectral_features(y, sr, edge_db, spec)}
        row |= dict(zip(PROFILE_COLUMNS, spectral.profile(y, sr, spec).tolist()))
        if pictures:
            row |= {name: spectral.picture(spec, shape, *hz) for name, (shape, hz) in PICTURES.items()}
        rows.append(row)
    return rows


def feature_table(root: str | Path, excerpts: pd.DataFrame, *, edge_db: float = spectral.EDGE_DB, pictures: bool = False,
                  jobs: int = 1, progress: bool = True) -> tuple[pd.DataFrame, dict[str, np.ndarray], list[Failure]]:  # fmt: skip
    """The features of every excerpt (``file, excerpt_seconds, offset_seconds`` rows) of files under ``root``.

    Returns the rows (``file`` first, then the features), the pictures (with ``pictures``: name ->
    float32 ``(n_rows, *shape)`` in the rows' order; else empty) and the files that failed to decode.
    """
    grouped = excerpts.groupby("file", sort=False)
    work = [(Path(root) / file, list(zip(part["offset_seconds"], part["excerpt_seconds"])), edge_db, pictures)
            for file, part in grouped]  # fmt: skip
    results = map_tracks(excerpt_features, work, jobs=jobs, desc="quality features", unit="file", progress=progress)
    rows = [{"file": file, **row} for (file, _), result in zip(grouped, results) if not isinstance(result, Failure)
            for row in result]  # fmt: skip
    arrays = {name: np.stack([row.pop(name) for row in rows]) for name in PICTURES} if pictures and rows else {}
    return pd.DataFrame(rows), arrays, [r for r in results if isinstance(r, Failure)]
