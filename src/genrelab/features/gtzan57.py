"""The GTZAN feature tables of audio files: file discovery, the per-file cache, the tables, and reading them.

The 57 features of a signal (what they are, how closely they reproduce the public GTZAN tables)
are computed in :mod:`genrelab.features.gtzan57_dsp`; its public names are importable from here too.
:func:`extract_table` builds a table (one row per file, or per segment, cut with
:mod:`genrelab.features.segments`) in parallel, with a per-file cache so an interrupted run resumes;
:func:`extract_tables` builds several (the 30 s and the 3 s table) decoding each file once;
:func:`split_filenames` and :func:`duplicate_feature_rows` read them for the models and the EDA.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.data import audio, checks
from genrelab.errors import AudioError, DataError
from genrelab.features.gtzan57_dsp import FEATURE_COLUMNS, FEATURE_VERSION, SR, signal_features
# The kernels' other public names, importable from here as before the split (benchmarks/bench_features.py).
from genrelab.features.gtzan57_dsp import HOP_LENGTH, HPSS_KERNEL, N_FFT, N_MFCC, PAD_MODE  # noqa: F401
from genrelab.features.gtzan57_dsp import reference_features, segment_features  # noqa: F401
from genrelab.features.segments import CLIP_SECONDS
from genrelab.parallel import Failure, load_entry, map_tracks, save_entry

COLUMNS: tuple[str, ...] = ("filename", "length") + FEATURE_COLUMNS
"""Columns of :func:`extract_table`: the public header without ``label``."""


# --------------------------------------------------------------------------------------------
# Files and tables


def track_features(path: str | Path, segment_seconds: float = CLIP_SECONDS) -> tuple[np.ndarray, np.ndarray]:
    """Decode one audio file and compute the features of each of its segments.

    Parameters
    ----------
    path : audio file; decoded to mono 22050 Hz with :func:`genrelab.data.audio.load`.
    segment_seconds : 30 for one row per file, 3 for the 3 s segments (see :mod:`genrelab.features.segments`).

    Returns
    -------
    lengths : int64, shape (n_segments,), samples in each segment (the ``length`` column).
    features : float64, shape (n_segments, 57).

    Raises
    ------
    AudioError : the file cannot be decoded or is too short (naming it).
    """
    y, sr = audio.load(path, sr=SR)
    return signal_features(y, sr, segment_seconds, path)


def tracks_features(
    path: str | Path, segment_seconds: Sequence[float] = (CLIP_SECONDS, 3.0)
) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """:func:`track_features` for several segment lengths, decoding the file once.

    Nothing else is shared: segment ``k`` of 3 s starts at ``k * 66150`` samples, not a multiple
    of the 512-sample hop (66150 = 129 * 512 + 102), so a segment's STFT frames are not frames
    of the clip's STFT, and the chroma tuning is estimated per segment, as the tables were made.

    Returns
    -------
    ``{segment_seconds: (lengths, features)}`` for each requested length, as :func:`track_features`.
    """
    y, sr = audio.load(path, sr=SR)
    return {seconds: signal_features(y, sr, seconds, path) for seconds in segment_seconds}


@dataclass(frozen=True)
class FeatureTables:
    """What :func:`extract_tables` gives: a table per segment length, and every problem met."""

    tables: dict[float, pd.DataFrame]  # segment seconds -> table with COLUMNS
    problems: list[checks.Problem]  # files left out (errors), flagged or converted, inputs ignored

    @property
    def table(self) -> pd.DataFrame:
        """The table, when one segment length was asked for."""
        (only,) = self.tables.values()
        return only

    @property
    def failed(self) -> list[checks.Problem]:
        """The problems of the files left out of every table."""
        return checks.failed(self.problems)


def extract_table(
    inputs: str | Path | Iterable[str | Path],
    segment_seconds: float = CLIP_SECONDS,
    jobs: int = 1,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    min_seconds: float | None = None,
) -> FeatureTables:
    """The feature table of audio files: one row per file (30 s) or per segment (3 s).

    Parameters
    ----------
    inputs : audio files and/or folders (searched recursively for :data:`genrelab.data.audio.AUDIO_EXTENSIONS`).
    segment_seconds : 30 (one row per file, the whole file) or 3 (segments of :mod:`genrelab.features.segments`).
    jobs, cache_dir, progress, min_seconds : as :func:`extract_tables`.

    Returns
    -------
    :class:`FeatureTables`; its ``.table`` has :data:`COLUMNS` (``filename``, ``length`` in samples,
    the 57 features), files in sorted path order, segments in order. ``filename`` is the file name
    (``blues.00000.wav``) or, for segments, ``<stem>.<k><ext>`` (``blues.00000.3.wav``).
    """
    return extract_tables(inputs, (segment_seconds,), jobs, cache_dir, progress, min_seconds)


MIN_SECONDS = 3.0  # default shortest usable file: one 3 s segment, as the manifest's default
_LEFT_OUT = "left out of the table"


def extract_tables(
    inputs: str | Path | Iterable[str | Path],
    segment_seconds: Sequence[float] = (CLIP_SECONDS, 3.0),
    jobs: int = 1,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    min_seconds: float | None = None,
) -> FeatureTables:
    """Feature tables of audio files for several segment lengths, decoding each file once.

    Every file is first checked as the manifest checks it (:func:`genrelab.data.checks.check_file`).
    A file that cannot be used (undecodable, empty, non-finite, shorter than ``min_seconds``) is
    left out of every table and listed in ``problems``; all the other files are computed.

    Parameters
    ----------
    inputs : audio files and/or folders (searched recursively for :data:`genrelab.data.audio.AUDIO_EXTENSIONS`).
    segment_seconds : segment lengths in seconds, one table each: 30 (one row per file) and/or
        3 (segments of :mod:`genrelab.features.segments`).
    jobs : parallel worker processes (each single-threaded, so ``jobs`` = cores is right).
    cache_dir : folder of per-file results keyed by the file's content, the feature version,
        librosa's version and the segment length (one entry per file and length, shared with
        :func:`extract_table`); a rerun (or an interrupted run) reads what is there and computes
        only the rest. ``None``: no cache.
    progress : show a progress bar.
    min_seconds : shortest usable file in seconds. Default: the shortest segment asked for, at
        most :data:`MIN_SECONDS`, so that the 30 s and the 3 s tables hold the same files.

    Returns
    -------
    :class:`FeatureTables`: ``{seconds: table}`` for each of ``segment_seconds`` (each as
    :func:`extract_table` gives it), and the problems.
    """
    files, problems = find_audio_files(inputs)
    seconds = tuple(dict.fromkeys(float(s) for s in segment_seconds))  # unique, in order
    min_seconds = min((*seconds, MIN_SECONDS)) if min_seconds is None else float(min_seconds)
    cache = Path(cache_dir) if cache_dir is not None else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    work = [(path, seconds, cache, min_seconds) for path in files]
    results = map_tracks(_file_features, work, jobs=jobs, desc="features", unit="file", progress=progress)
    frames: dict[float, list[pd.DataFrame]] = {s: [] for s in seconds}
    for path, result in zip(files, results):
        if isinstance(result, Failure):  # raised past the checks (a segment under N_FFT samples)
            problems.append(checks.failure(str(path), result.error, _LEFT_OUT))
            continue
        per_length, found = result
        problems += found
        for s, (lengths, values) in (per_length or {}).items():
            frames[s].append(_rows(path, lengths, values, segmented=s < CLIP_SECONDS))
    tables = {s: pd.concat(frames[s], ignore_index=True) if frames[s] else _empty_table() for s in seconds}
    return FeatureTables(tables, checks.sort_problems(problems))


def _file_features(
    path: Path, segment_seconds: tuple[float, ...], cache_dir: Path | None, min_seconds: float
) -> tuple[dict[float, tuple[np.ndarray, np.ndarray]] | None, tuple[checks.Problem, ...]]:
    """One file's check and, when it is usable, its features per segment length (else ``None``)."""
    check = checks.check_file(path, min_seconds=min_seconds, excluded=_LEFT_OUT)
    if not check.usable:
        return None, check.problems
    return _cached_tracks_features(path, segment_seconds, cache_dir), check.problems


def _rows(path: Path, lengths: np.ndarray, features: np.ndarray, segmented: bool) -> pd.DataFrame:
    if segmented:
        names = [f"{path.stem}.{k}{path.suffix}" for k in range(len(lengths))]
    else:
        names = [path.name]
    table = pd.DataFrame(features, columns=list(FEATURE_COLUMNS))
    table.insert(0, "length", lengths)
    table.insert(0, "filename", names)
    return table


def _empty_table() -> pd.DataFrame:
    table = pd.DataFrame(np.zeros((0, len(FEATURE_COLUMNS))), columns=list(FEATURE_COLUMNS))
    table.insert(0, "length", np.zeros(0, dtype=np.int64))
    table.insert(0, "filename", pd.Series([], dtype=object))
    return table


def find_audio_files(inputs: str | Path | Iterable[str | Path]) -> tuple[list[Path], list[checks.Problem]]:
    """Audio files of ``inputs`` (:func:`genrelab.data.files.find_audio`), sorted by path, and the
    other files of those folders (not audio, or hidden), reported as ignored problems.

    Raises :class:`DataError` for a missing input, an input without audio, a file named explicitly
    that is not audio, or two files with the same name (their track ids would collide), naming them.
    """
    from genrelab.data.files import find_audio

    found = find_audio(inputs)
    if found.missing:
        raise DataError(found.missing[0])
    found.files = sorted(found.files)  # the tables' row order
    for path in found.files:
        if not audio.is_audio_file(path):
            raise DataError(f"{path}: not an audio file; expected one of {audio.extensions_text()}.")
    seen: dict[str, Path] = {}
    for path in found.files:
        if path.name in seen:
            raise DataError(
                f"{seen[path.name]} and {path}: two files share a name, so their rows would share a "
                "track id. Rename one or pass only one of them."
            )
        seen[path.name] = path
    return found.files, found.ignored


# --------------------------------------------------------------------------------------------
# Cache


def _cached_tracks_features(
    path: Path, segment_seconds: tuple[float, ...], cache_dir: Path | None
) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """:func:`tracks_features`, each length read from or written to ``cache_dir`` when given;
    the file is decoded only if some length is not cached."""
    if cache_dir is None:
        return tracks_features(path, segment_seconds)
    digest = _file_digest(path)
    entries = {s: cache_dir / f"{_cache_key(digest, s)}.npz" for s in segment_seconds}
    stored = {s: load_entry(entries[s], ("lengths", "features")) for s in segment_seconds}
    result = {s: (entry["lengths"], entry["features"]) for s, entry in stored.items() if entry is not None}
    missing = [s for s in segment_seconds if s not in result]
    if missing:
        computed = tracks_features(path, missing)
        for s in missing:
            save_entry(entries[s], lengths=computed[s][0], features=computed[s][1])
        result.update(computed)
    return {s: result[s] for s in segment_seconds}


def _file_digest(path: Path) -> str:
    """blake2b (16 bytes, hex) of the file's content."""
    digest = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as err:
        raise AudioError(f"{path}: cannot read the file ({err.strerror}). Check it exists and is readable.") from err
    return digest.hexdigest()


def _cache_key(digest: str, segment_seconds: float) -> str:
    """Cache entry name: the file's content digest + everything else that decides its features."""
    return f"{digest}-{segment_seconds:g}s-v{FEATURE_VERSION}-librosa{_librosa_version()}"


@lru_cache(maxsize=1)
def _librosa_version() -> str:
    import librosa

    return librosa.__version__


# --------------------------------------------------------------------------------------------
# Helpers for the models and the EDA

_SEGMENT_NAME = re.compile(r"^(?P<track>.+)\.(?P<segment>\d+)$")


def split_filenames(filenames: Sequence[str] | pd.Series, segmented: bool) -> pd.DataFrame:
    """Track id and segment index of each ``filename`` of a feature table.

    Parameters
    ----------
    filenames : ``blues.00000.wav`` (``segmented=False``) or ``blues.00000.3.wav`` (``True``).
    segmented : whether the table has one row per segment (3 s table) or per clip (30 s table).

    Returns
    -------
    DataFrame with ``track_id`` (file name without extension: ``blues.00000``) and ``segment``
    (int: 0-based for segments; -1 for every row of an unsegmented table, as clip rows of the
    predictions contract read), one row per filename, same order.
    """
    track_ids, segments = [], []
    for name in filenames:
        stem = Path(name).stem
        if segmented:
            match = _SEGMENT_NAME.match(stem)
            if match is None:
                raise DataError(
                    f"{name}: not a segment file name (expected <track>.<segment><ext>, e.g. "
                    "blues.00000.3.wav). Was the table made with 30 s clips? Then pass segmented=False."
                )
            track_ids.append(match["track"])
            segments.append(int(match["segment"]))
        else:
            track_ids.append(stem)
            segments.append(-1)
    return pd.DataFrame({"track_id": track_ids, "segment": np.asarray(segments, dtype=np.int64)})


def duplicate_feature_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows that repeat an earlier row on all 57 feature columns (identical audio, as a rule).

    Parameters
    ----------
    table : a feature table with :data:`FEATURE_COLUMNS` (other columns are carried along).

    Returns
    -------
    The repeating rows (index kept, so ``table.drop(result.index)`` removes them, keeping the first
    of each group), with a ``duplicate_of`` column: the ``filename`` of the first row of the group
    (its index if the table has no ``filename``).
    """
    missing = [c for c in FEATURE_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"the table lacks feature columns {missing[:3]}...: is it a genrelab/GTZAN feature table?")
    features = list(FEATURE_COLUMNS)
    repeats = table.duplicated(features, keep="first")
    first = table.groupby(features, sort=False, dropna=False).ngroup()
    name = table["filename"] if "filename" in table.columns else pd.Series(table.index, index=table.index)
    first_name = name[~repeats].set_axis(first[~repeats].to_numpy())
    result = table[repeats].copy()
    result["duplicate_of"] = first_name.loc[first[repeats].to_numpy()].to_numpy()
    return result
