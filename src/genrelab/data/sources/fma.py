"""The Free Music Archive (Defferrard et al. 2017): ``ROOT/fma_<size>/NNN/NNNNNN.mp3`` plus
``ROOT/fma_metadata/tracks.csv``.

``tracks.csv`` is read as the FMA authors' ``utils.load`` reads it: a two-row column header
(``track``/``artist``/``set``/``album``, then the field) and ``track_id`` as the index. The study takes

- the genre from ``track.genre_top`` (FMA gives none for about half of fma_large; those tracks
  are counted and left out: a classifier needs a label);
- the artist from ``artist.id``, so ``artist_grouped`` keeps an artist's tracks on one side;
- the official split from ``set.split`` (``training``/``validation``/``test``), scored as protocol
  ``fma_official``, the FMA counterpart of GTZAN's ``fault_filtered``;
- the tracks of the chosen ``set.subset`` (``data.fma_subset``). Subsets nest: ``small`` is in
  ``medium``, which is in ``large``; ``full`` is every track, untrimmed.

The audio of a subset may sit in its own folder or a larger one (``fma_large/`` holds the small
tracks too); the smallest folder present that holds it is used. Broken clips (FMA ships a few
empty and very short ones) are found by reading every file, as for any source.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from genrelab.data.checks import Problem
from genrelab.data.sources.base import Metadata, Source
from genrelab.data.tracks import Scan, Track, entry_problem
from genrelab.errors import DataError

SUBSETS = ("small", "medium", "large", "full")  # each holds the ones before it
SPLITS = {"training": "train", "validation": "valid", "test": "test"}  # set.split -> the study's subsets
SPLIT_PROTOCOL = "fma_official"
METADATA = "fma_metadata/tracks.csv"
# (top, field) of the tracks.csv columns the study reads, by what it calls them.
COLUMNS = {"genre": ("track", "genre_top"), "artist": ("artist", "id"), "split": ("set", "split"),
           "subset": ("set", "subset")}  # fmt: skip


class Fma(Source):
    name = "fma"
    layout = "ROOT/fma_<size>/NNN/NNNNNN.mp3 plus ROOT/fma_metadata/tracks.csv"
    description = (
        "the **Free Music Archive** {cite}`defferrard2017fma`: Creative Commons music, top genres from "
        "its `tracks.csv`, with its artist-aware official split."
    )

    def recognises(self, root: Path) -> bool:
        return (Path(root) / METADATA).is_file()

    def metadata(self, root: Path, data: Mapping[str, Any] | None = None) -> Metadata:
        data = data or {}
        root, subset = Path(root), data.get("fma_subset") or "small"
        path = Path(data.get("fma_metadata") or root / METADATA)
        tracks = read_tracks(path)
        folder = audio_folder(root, subset)
        chosen = tracks["subset"].isin(SUBSETS[: SUBSETS.index(subset) + 1]) | (subset == "full")
        labelled = tracks[chosen & (tracks["genre"] != "")]
        unlabelled = {tid: f"outside set.subset {subset!r} of {path.name}" for tid in tracks.index[~chosen]}
        no_genre = tracks.index[chosen & (tracks["genre"] == "")]
        unlabelled |= {tid: f"no track.genre_top in {path.name}" for tid in no_genre}
        notes = (f"{len(no_genre)} tracks of FMA's {subset} subset have no top genre in {path.name}; "
                 "they are not in the study.",) if len(no_genre) else ()  # fmt: skip
        return Metadata(
            artists=dict(zip(labelled.index, labelled["artist"])),
            artists_from=f"{path.name} (artist.id)",
            listed={tid: f"{folder}/{tid[:3]}/{tid}.mp3" for tid in labelled.index},
            listed_in=f"{path.name}, subset {subset}",
            official_split={tid: SPLITS.get(split, "excluded") for tid, split in labelled["split"].items()},
            split_name=SPLIT_PROTOCOL,
            notes=notes,
            audio_dir=folder,
            genres=dict(labelled["genre"]),
            unlabelled=unlabelled,
        )

    def scan(self, root: Path, metadata: Metadata | None = None) -> Scan:
        """Every audio file of ``fma_<size>/NNN/``, labelled from ``tracks.csv``.

        A file ``tracks.csv`` labels is a track. Files it knows but does not label (another
        subset, no top genre) are counted, one problem per reason; a file it does not list is
        reported on its own. Files beside the ``NNN`` folders (FMA's README, checksums) are not audio.
        """
        metadata = self.metadata(root) if metadata is None else metadata
        audio_dir = Path(root) / metadata.audio_dir
        tracks, problems, unlabelled, left_out = [], [], [], Counter()
        for folder in sorted(p for p in audio_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for entry in sorted(folder.iterdir()):
                problem = entry_problem(root, entry, "an FMA audio folder", f"{metadata.audio_dir}/NNN/")
                if problem is not None:
                    problems.append(problem)
                    continue
                track = Track(entry.stem, (metadata.genres or {}).get(entry.stem, ""), entry.relative_to(root).as_posix())
                if track.genre:
                    tracks.append(track)
                elif entry.stem in metadata.unlabelled:
                    left_out[metadata.unlabelled[entry.stem]] += 1
                else:
                    unlabelled.append(track)
                    problems.append(Problem(track.path, "misplaced", "no row of FMA's tracks.csv lists it (no genre "
                                            "label)", "not in the study"))  # fmt: skip
        problems += [Problem(_rel(root, audio_dir), "extra", f"{n} audio file(s) {why}", "not in the study")
                     for why, n in sorted(left_out.items())]  # fmt: skip
        return Scan(audio_dir, tracks, problems, unlabelled)


def read_tracks(path: str | Path) -> pd.DataFrame:
    """FMA's ``tracks.csv`` as one row per track: ``genre, artist, split, subset`` (text, ``""``
    when empty), indexed by the six-digit track id of the audio file names (``2`` -> ``000002``).

    Raises :class:`DataError` naming the file when it is missing, not in the two-row-header
    format, lacks a column the study reads, or holds a track id that is not a number.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: FMA's tracks.csv not found. Unzip fma_metadata.zip into data.root, "
                        "or point data.fma_metadata at tracks.csv.")  # fmt: skip
    try:
        table = pd.read_csv(path, index_col=0, header=[0, 1], dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not FMA's tracks.csv format (a two-row header, track_id first): {err}") from err
    absent = [".".join(column) for column in COLUMNS.values() if column not in table.columns]
    if absent:
        raise DataError(f"{path}: no column(s) {', '.join(absent)}; expected FMA's tracks.csv, whose header "
                        "rows read e.g. 'track' then 'genre_top'.")  # fmt: skip
    ids = pd.Series(table.index, dtype=str)
    bad = ids[~ids.str.fullmatch(r"\d+")].tolist()
    if bad:
        raise DataError(f"{path}: track id(s) {bad[:3]} are not numbers; expected FMA's integer track ids.")
    tracks = pd.DataFrame({name: table[column].to_numpy(dtype=object) for name, column in COLUMNS.items()},
                          index=pd.Index([f"{int(i):06d}" for i in ids], name="track_id"))  # fmt: skip
    repeated = tracks.index[tracks.index.duplicated()].tolist()
    if repeated:
        raise DataError(f"{path}: track id(s) {repeated[:3]} are listed twice.")
    return tracks


def audio_folder(root: Path, subset: str) -> str:
    """The smallest ``fma_<size>`` folder under ``root`` holding ``subset``'s audio."""
    if subset not in SUBSETS:
        raise DataError(f"data.fma_subset must be one of {', '.join(SUBSETS)}; got {subset!r}.")
    for size in SUBSETS[SUBSETS.index(subset):]:
        if (Path(root) / f"fma_{size}").is_dir():
            return f"fma_{size}"
    larger = ", ".join(f"fma_{s}/" for s in SUBSETS[SUBSETS.index(subset) + 1:])
    raise DataError(f"{root}: no fma_{subset}/ folder{f' (nor {larger}, which hold its tracks too)' if larger else ''}. "
                    f"Expected {Fma.layout}; check data.root and data.fma_subset.")  # fmt: skip


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix() or "."
