"""GTZAN's metadata files: mirdata's md5 index, Sturm's artist index, and the fault-filtered split lists.

Each reader raises :class:`DataError` naming the file (and line) when it is missing, unreadable or
malformed; :mod:`genrelab.data.sources.gtzan` reads the artists and the split as the source's
metadata, :func:`genrelab.data.datasets.validate` and ``build_manifest`` check bytes against the index.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from genrelab.data import audio
from genrelab.errors import DataError

SPLIT_SUBSETS = ("train", "valid", "test")

_MD5 = re.compile(r"[0-9a-f]{32}")


class IndexEntry(NamedTuple):
    """One track of an md5 index."""

    path: str  # as the index gives it: posix, relative to the index's own dataset root
    md5: str  # 32 lowercase hex digits, of the file's bytes


def read_md5_index(path: str | Path) -> dict[str, IndexEntry]:
    """Read a mirdata-style index: ``{"tracks": {track_id: {"audio": [relpath, md5], ...}}}``.

    Returns ``{track_id: IndexEntry(relpath, md5)}``. Raises :class:`DataError` naming the file
    (and the track) when it is missing, not JSON, or lacks a valid ``audio`` entry.
    """
    path = Path(path)
    try:
        data = json.loads(_read_text(path, "md5 index", "data.gtzan_index (or --index)"))
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON ({err.msg} at line {err.lineno}).") from err
    tracks = data.get("tracks") if isinstance(data, dict) else None
    if not isinstance(tracks, dict) or not tracks:
        expected = '{"tracks": {id: {"audio": [relpath, md5]}}}'
        raise DataError(f'{path}: no "tracks" mapping; expected a mirdata index, {expected}.')
    index = {}
    for track_id, entry in tracks.items():
        pair = entry.get("audio") if isinstance(entry, dict) else None
        well_formed = isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        if not (well_formed and _MD5.fullmatch(pair[1].lower())):
            raise DataError(f'{path}: track {track_id!r} has no valid "audio": [relpath, md5] entry (got {pair!r}).')
        index[track_id] = IndexEntry(pair[0], pair[1].lower())
    return index


def read_sturm_artists(path: str | Path) -> dict[str, str]:
    """Read Sturm's GTZAN artist index into ``{track_id: artist}``.

    Lines read ``blues.00000.wav ::: John Lee Hooker ::: Title``; lines starting with ``#`` and
    blank lines are skipped. Every listed track is in the result; a blank artist (one Sturm could
    not identify) is ``""``. Raises :class:`DataError` naming the file and line for a malformed
    line or a track listed twice with different artists.
    """
    path = Path(path)
    artists: dict[str, str] = {}
    lines = _read_text(path, "Sturm's artist index", "data.gtzan_artists").splitlines()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [field.strip() for field in line.split(":::")]
        if len(fields) < 2 or not fields[0]:
            raise DataError(f"{path}:{lineno}: expected 'file ::: artist ::: title', got {line!r}.")
        track_id, artist = _track_id(fields[0]), fields[1]
        if artists.setdefault(track_id, artist) != artist:
            raise DataError(
                f"{path}:{lineno}: {track_id} is listed twice, as {artists[track_id]!r} and {artist!r}; keep one."
            )
    if not artists:
        raise DataError(f"{path}: no entries. Expected lines like 'blues.00000.wav ::: artist ::: title'.")
    return artists


def read_fault_filtered_split(folder: str | Path) -> dict[str, str]:
    """Read the fault-filtered GTZAN split (Kereliuk, Sigtia & Sturm 2015) into ``{track_id: subset}``.

    ``folder`` holds ``train_filtered.txt``, ``valid_filtered.txt`` and ``test_filtered.txt``, one
    ``genre/genre.NNNNN.wav`` a line; subsets are ``"train"``, ``"valid"``, ``"test"``. Raises
    :class:`DataError` naming the file (and line) when a list is missing, a line is malformed, or
    a track appears in two lists.
    """
    folder = Path(folder)
    subsets: dict[str, str] = {}
    for subset in SPLIT_SUBSETS:
        path = folder / f"{subset}_filtered.txt"
        lines = _read_text(path, "fault-filtered split list", "data.gtzan_splits").splitlines()
        for lineno, line in enumerate(lines, start=1):
            entry = line.strip()
            if not entry:
                continue
            parts = PurePosixPath(entry).parts
            if len(parts) != 2:
                raise DataError(f"{path}:{lineno}: expected 'genre/genre.NNNNN.wav', got {entry!r}.")
            track_id = _track_id(parts[1])
            if subsets.setdefault(track_id, subset) != subset:
                raise DataError(
                    f"{path}:{lineno}: {track_id} is also in {subsets[track_id]}_filtered.txt; a track belongs to "
                    "one subset. Use the published lists unchanged."
                )
    return subsets


def _track_id(file_name: str) -> str:
    name = PurePosixPath(file_name).name
    return PurePosixPath(name).stem if audio.is_audio_file(name) else name


def _read_text(path: Path, what: str, setting: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: {what} not found. Check {setting}.") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: {what} is not UTF-8 text ({err.reason} at byte {err.start}).") from err
    except OSError as err:
        raise DataError(f"{path}: cannot read the {what} ({err.strerror}). Check {setting}.") from err
