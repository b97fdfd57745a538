"""GTZAN (Tzanetakis & Cook 2002): Kaggle's ``ROOT/genres_original/<genre>/*.wav`` or the original
``ROOT/genres/<genre>/*.au`` (ROOT may also be that folder itself).

Its metadata come from params.yaml's ``data`` section: artists from Sturm's index
(``data.gtzan_artists``), md5s from mirdata's index (``data.gtzan_index``) and the fault-filtered,
artist-conscious split of Kereliuk, Sigtia & Sturm (``data.gtzan_splits``); each is optional.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from genrelab.data.gtzan_files import read_fault_filtered_split, read_sturm_artists
from genrelab.data.sources.base import Metadata, Source
from genrelab.errors import DataError

GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")
AUDIO_FOLDERS = ("genres_original", "genres")  # Kaggle copy, original tarball
SPLIT_PROTOCOL = "fault_filtered"


class Gtzan(Source):
    name = "gtzan"
    layout = "ROOT/genres_original/<genre>/*.wav (Kaggle) or ROOT/genres/<genre>/*.au (original)"
    description = "**GTZAN** {cite}`tzanetakis2002musical`, with the faults documented by {cite}`sturm2013gtzan`."

    def recognises(self, root: Path) -> bool:
        return any((Path(root) / name).is_dir() for name in AUDIO_FOLDERS)

    def audio_dir(self, root: Path) -> Path:
        root = Path(root)
        for name in AUDIO_FOLDERS:
            if (root / name).is_dir():
                return root / name
        if any((root / genre).is_dir() for genre in GENRES):
            return root
        raise DataError(
            f"{root}: no GTZAN genre folders found. Expected {self.layout}, or ROOT being one of those "
            "folders. Check data.root, or use data.source: folder for another layout."
        )

    def metadata(self, root: Path, data: Mapping[str, Any] | None = None) -> Metadata:
        data = data or {}
        artists_path, index, splits = (data.get(k) or None for k in ("gtzan_artists", "gtzan_index", "gtzan_splits"))
        return Metadata(
            artists=read_sturm_artists(artists_path) if artists_path else None,
            artists_from=Path(artists_path).name if artists_path else "",
            index=index,
            official_split=read_fault_filtered_split(splits) if splits else None,
            split_name=SPLIT_PROTOCOL,
        )
