"""Run the study on a public GTZAN feature table instead of features extracted from audio.

The Kaggle tables ``features_30_sec.csv`` (one row per clip) and ``features_3_sec.csv`` (one row
per 3 s segment, ``blues.00000.3.wav``) carry ``filename, length``, the 57 features and ``label``.
:func:`load_public_table` turns one into the inputs of :func:`genrelab.evaluation.loop.evaluate`: the
track id comes from the file name, the genre from ``label``, the artist from Sturm's index, and
the split table is made exactly as the ``prepare`` stage makes it, with exact duplicates (tracks
sharing an identical feature row) grouped so that a repeated clip never straddles train and test.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.data.dedup import duplicate_groups
from genrelab.data.gtzan_files import read_fault_filtered_split, read_sturm_artists
from genrelab.data.manifest import USABLE, manifest_frame
from genrelab.errors import DataError
from genrelab.evaluation.splits import PROTOCOLS, make_splits
from genrelab.features.gtzan57 import split_filenames

META_COLUMNS = ("filename", "length", "label")
# blues.00000.wav (a clip) or blues.00000.3.wav (its segment 3).
_FILENAME = re.compile(r"^(?P<track>[^/\\]+?\.\d+)(?:\.(?P<segment>\d+))?\.(?:wav|au|mp3)$", re.IGNORECASE)


def load_public_table(
    csv_path: str | Path,
    *,
    artists_path: str | Path | None = None,
    splits_dir: str | Path | None = None,
    protocols: tuple[str, ...] | list[str] = PROTOCOLS,
    test_fraction: float = 0.25,
    seed: int = 42,
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Features, labels, row ids and split table of a public GTZAN feature table.

    Parameters
    ----------
    csv_path : ``features_30_sec.csv`` or ``features_3_sec.csv`` (CRLF line ends are fine).
    artists_path : Sturm's ``GTZANindex.txt`` (``file ::: artist ::: title``); without it every
        track is its own artist, so ``artist_grouped`` equals ``track_grouped``.
    splits_dir : folder with ``{train,valid,test}_filtered.txt``; without it there is no
        ``fault_filtered`` protocol.
    protocols, test_fraction, seed : as in :func:`genrelab.evaluation.splits.make_splits` (``prepare.*``).

    Returns
    -------
    X : DataFrame (n_rows, 57) of float features, columns named as in the table.
    y : genre label of each row, shape (n_rows,).
    rows : ``track_id, segment`` of each row; ``segment`` is 0-based for a 3 s table and -1 for a
        30 s table (whole clips, evaluated at level ``clip``).
    splits : the split table, one row per track.
    """
    table = _read_table(Path(csv_path))
    rows = _split_filenames(table["filename"], Path(csv_path))
    features = table.drop(columns=list(META_COLUMNS)).astype(float)
    y = table["label"].to_numpy(dtype=object)
    artists = read_sturm_artists(artists_path) if artists_path else {}
    manifest = _manifest(rows, y, table["filename"], artists, Path(csv_path))
    pairs = _identical_row_pairs(features, rows["track_id"])
    splits = make_splits(
        manifest,
        duplicate_groups(pairs, manifest["track_id"]),
        protocols=protocols,
        test_fraction=test_fraction,
        seed=seed,
        official={"fault_filtered": read_fault_filtered_split(splits_dir)} if splits_dir else None,
    )
    return features, y, rows, splits


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"{path}: public feature table not found. This needs the GTZAN feature tables published on "
                        "Kaggle (dataset 'GTZAN Dataset - Music Genre Classification', files Data/features_30_sec.csv "
                        "and Data/features_3_sec.csv): put them there or set data.public_features_30s/_3s in params.yaml.")
    table = pd.read_csv(path)  # the C parser drops the CR of CRLF line ends
    missing = [c for c in META_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{path}: columns {missing} missing; expected a Kaggle GTZAN feature table ({', '.join(META_COLUMNS)}, features).")
    non_numeric = [c for c in table.columns if c not in META_COLUMNS and not pd.api.types.is_numeric_dtype(table[c])]
    if non_numeric:
        raise DataError(f"{path}: feature columns {non_numeric[:5]} are not numeric; check the file is intact.")
    return table


def _split_filenames(filenames: pd.Series, source: Path) -> pd.DataFrame:
    """``track_id, segment`` of each file name (:func:`genrelab.features.gtzan57.split_filenames`: segment
    0-based, -1 for a whole clip), after checking the names are GTZAN-like and of one kind.

    The check decides whether the table is segmented: a generic ``<track>.<k>`` rule cannot, as
    ``blues.00000`` itself would read as segment 0 of track ``blues``.
    """
    names = filenames.astype(str).str.strip()
    matches = names.str.extract(_FILENAME)
    bad = filenames[matches["track"].isna()]
    if len(bad):
        raise DataError(f"{source}: file name {bad.iloc[0]!r} is not like 'blues.00000.wav' or 'blues.00000.3.wav'.")
    segmented = matches["segment"].notna()
    if segmented.any() and not segmented.all():
        raise DataError(f"{source}: mixes clip rows and 3 s segment rows; use one table at a time.")
    rows = split_filenames(names, segmented=bool(segmented.all()))
    repeated = rows.duplicated()
    if repeated.any():
        raise DataError(f"{source}: row {filenames[repeated].iloc[0]!r} appears twice.")
    return rows


def _manifest(rows: pd.DataFrame, y: np.ndarray, filenames: pd.Series, artists: dict[str, str], source: Path) -> pd.DataFrame:
    """The table's manifest (:func:`genrelab.data.manifest.manifest_frame`): one usable track per clip,
    its path the table's file name; what only the audio could tell (duration, md5) stays empty."""
    labels = pd.Series(y, dtype=object).groupby(rows["track_id"].to_numpy(dtype=object))
    mixed = labels.nunique()[lambda n: n > 1]
    if len(mixed):
        raise DataError(f"{source}: segments of track {mixed.index[0]!r} carry different labels.")
    tracks = labels.first()
    paths = filenames.groupby(rows["track_id"].to_numpy(dtype=object)).first()
    return manifest_frame([
        {"track_id": track, "path": paths[track], "genre": genre, "artist": artists.get(track, ""), "status": USABLE,
         "notes": f"a row of {source.name}"}
        for track, genre in tracks.items()
    ])  # fmt: skip


def _identical_row_pairs(features: pd.DataFrame, track_ids: pd.Series) -> pd.DataFrame:
    """``track_a, track_b`` for tracks sharing an identical feature row (an exact duplicate).

    Two recordings never produce the same 57 floats by chance, so an identical row means the
    same audio: in the 30 s table, 14 clips repeat another (one pair across labels).
    """
    row_group = features.groupby(list(features.columns), dropna=False, sort=False).ngroup().to_numpy()
    tracks = pd.DataFrame({"row": row_group, "track": track_ids.to_numpy(dtype=object)}).drop_duplicates()
    shared = tracks[tracks.duplicated("row", keep=False)].sort_values(["row", "track"])
    first = shared.groupby("row")["track"].transform("first")
    pairs = pd.DataFrame({"track_a": first, "track_b": shared["track"]})
    return pairs[pairs["track_a"] != pairs["track_b"]].reset_index(drop=True)
