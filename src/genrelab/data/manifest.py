"""The manifest's contract: its columns, reading it back, and which of its tracks the study uses.

:func:`genrelab.data.datasets.build_manifest` writes it (``data/interim/manifest.csv``): one row per
audio file found, broken ones included, ``status`` ``ok`` or ``excluded``. Every stage that takes
tracks from it takes :func:`usable_tracks`, the one place the ``ok`` filter is written. This
module reads no audio, so a stage that only reads the manifest does not depend on the decoders.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from genrelab.errors import DataError

# CONTRIBUTING.md's columns, then "notes": what is worth knowing but no reason to exclude.
MANIFEST_COLUMNS = (
    "track_id", "path", "genre", "artist", "duration_s", "sample_rate", "channels", "md5", "status", "reason",
    "notes",
)  # fmt: skip
PREPARED = Path("data/interim")  # where the prepare stage writes the manifest and the split table
USABLE = "ok"
EXCLUDED = "excluded"
_NUMERIC = {"duration_s": "float64", "sample_rate": "Int64", "channels": "Int64"}


def manifest_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows (dicts keyed by column) as a manifest: :data:`MANIFEST_COLUMNS` in order, with their
    dtypes; a column a row lacks is empty (``""``, or NaN/<NA> for the numbers)."""
    table = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    text = [c for c in MANIFEST_COLUMNS if c not in _NUMERIC]
    table[text] = table[text].fillna("")
    return table.astype(_NUMERIC)


def usable_tracks(manifest: pd.DataFrame) -> pd.DataFrame:
    """The rows of the tracks the study uses (``status == "ok"``), in manifest order, index reset."""
    if "status" not in manifest.columns:
        raise DataError("the manifest has no status column; rebuild it with the prepare stage.")
    return manifest[manifest["status"] == USABLE].reset_index(drop=True)


def read_manifest(path: str | Path) -> pd.DataFrame:
    """Read a manifest CSV written with ``manifest.to_csv(path, index=False)``, with its dtypes:
    text columns keep ``""`` (not NaN) and ids like ``000002`` stay text."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: manifest not found. Build it first (dvc repro, or datasets.build_manifest).")
    try:
        table = pd.read_csv(
            path,
            dtype={c: _NUMERIC.get(c, str) for c in MANIFEST_COLUMNS},
            keep_default_na=False,
            na_values={c: [""] for c in _NUMERIC},
        )
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path}: not a readable manifest ({err}). Rebuild it.") from err
    if tuple(table.columns) != MANIFEST_COLUMNS:
        raise DataError(f"{path}: columns {list(table.columns)} differ from {list(MANIFEST_COLUMNS)}. Rebuild it.")
    return table


def read_prepared(out_dir: Path = PREPARED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The manifest and split table written by ``prepare`` (ids kept as text)."""
    splits = pd.read_csv(out_dir / "splits.csv", dtype=str, keep_default_na=False)
    return read_manifest(out_dir / "manifest.csv"), splits
