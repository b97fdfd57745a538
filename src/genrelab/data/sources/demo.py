"""The generated demo corpus (``genrelab demo``): ``ROOT/<style>/<style>.NNNNN.wav`` plus ``ROOT/metadata.csv``.

Its artists and the tracks it should hold come from ``metadata.csv``; it is synthetic (not GTZAN).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from genrelab.data.sources.base import Metadata, Source
from genrelab.errors import DataError

METADATA = "metadata.csv"


class Demo(Source):
    name = "demo"
    layout = "ROOT/<style>/<style>.NNNNN.wav plus ROOT/metadata.csv"
    description = (
        "the **generated demo corpus**: synthetic music in ten invented styles, made by "
        "`genrelab demo`. It is *not* GTZAN and its style names are not GTZAN's genres; it exists "
        "so that the whole study runs offline in minutes. Its numbers show how the methods "
        "behave, not how they fare on real music."
    )
    synthetic = True

    def metadata(self, root: Path, data: Mapping[str, Any] | None = None) -> Metadata:
        meta = read_metadata(root)
        return Metadata(
            artists=dict(zip(meta["track_id"], meta["artist"])),
            artists_from=METADATA,
            listed={tid: f"{genre}/{tid}.wav" for tid, genre in zip(meta["track_id"], meta["genre"])},
            listed_in=METADATA,
        )


def read_metadata(root: Path) -> pd.DataFrame:
    """``ROOT/metadata.csv`` as text columns (``track_id, genre, artist, ...``), checked."""
    path = Path(root) / METADATA
    if not path.is_file():
        raise DataError(
            f"{path}: not found; a demo corpus has metadata.csv beside its style folders. "
            f"Regenerate it with `genrelab demo {root}`, or set data.source: folder."
        )
    try:
        meta = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not a readable CSV ({err}). Regenerate it with `genrelab demo {root}`.") from err
    absent = [c for c in ("track_id", "genre", "artist") if c not in meta.columns]
    if absent:
        raise DataError(f"{path}: missing column(s) {', '.join(absent)}. Regenerate it with `genrelab demo {root}`.")
    repeated = meta["track_id"][meta["track_id"].duplicated()].tolist()
    if repeated:
        raise DataError(f"{path}: track id(s) listed twice: {', '.join(repeated[:5])}. Regenerate it.")
    return meta
