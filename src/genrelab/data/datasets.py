"""Finding a corpus's tracks, reading GTZAN's metadata, checking a folder, and the manifest.

The layouts (the ``data.source`` parameter) and what each source knows about its tracks are
the modules of :mod:`genrelab.data.sources`; this module scans genre folders for them.

A track's genre is the name of its folder (or what its source's metadata say, for FMA) and its id
is its file name without extension; two files with the same id stop the scan with a
:class:`DataError` naming both.

Reported, never skipped silently: files in a genre folder that are not audio, hidden files in a
genre folder (``.DS_Store``, macOS ``._name.wav`` shadows), genre folders without audio, folders
nested in a genre folder, audio files outside any genre folder. Files beside the genre folders
(``metadata.csv``, a README) and hidden folders (``.git``) are not part of a corpus.

Every audio file is decoded completely and checked by :func:`genrelab.data.checks.check_file`; the
problem kinds, their severity and the exit-status rule are :mod:`genrelab.data.checks`'.

An unknown artist is the empty string ``""``, never NaN: pandas' ``groupby`` drops NaN keys, which
would silently drop those tracks from artist-grouped splits. :func:`genrelab.data.manifest.read_manifest` reads a
manifest back keeping ``""`` (and ids such as ``000002`` as text).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import pandas as pd

from genrelab.data import audio, checks
from genrelab.data.checks import EXCLUDED, Problem
from genrelab.data.manifest import EXCLUDED as EXCLUDED_STATUS
from genrelab.data.manifest import USABLE, manifest_frame
from genrelab.data.sources.base import Metadata
from genrelab.errors import DataError

SPLIT_SUBSETS = ("train", "valid", "test")

_MD5 = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Track:
    """One audio file of a corpus."""

    track_id: str  # file name without extension
    genre: str  # name of its folder
    path: str  # relative to the corpus root, posix separators


@dataclass(frozen=True)
class Corpus:
    """The tracks and layout problems found under ``root`` (see :func:`find_tracks`)."""

    root: Path
    source: str
    audio_dir: str  # folder holding the genre folders, relative to root (posix; "." for root)
    tracks: tuple[Track, ...]  # sorted by genre, then track_id
    problems: tuple[Problem, ...]
    unlabelled: tuple[Track, ...] = ()  # audio files outside genre folders (genre ""), reported as misplaced


class IndexEntry(NamedTuple):
    """One track of an md5 index."""

    path: str  # as the index gives it: posix, relative to the index's own dataset root
    md5: str  # 32 lowercase hex digits, of the file's bytes


# --------------------------------------------------------------------------------------------------
# Finding tracks


class Scan(NamedTuple):
    """What a source's :meth:`~genrelab.data.sources.base.Source.scan` found under a corpus root."""

    audio_dir: Path  # the folder it scanned
    tracks: list[Track]
    problems: list[Problem]
    unlabelled: list[Track]  # audio files the study cannot label (genre "")


def find_tracks(root: str | Path, source: str = "folder", metadata: Metadata | None = None) -> Corpus:
    """Scan the corpus under ``root`` laid out as ``source`` (a name of :mod:`genrelab.data.sources.registry`).

    Reads directory entries (and a source's metadata, which label FMA's files), not audio.
    ``metadata``: what the source knows (default: what it reads without params). Raises :class:`DataError` for an
    unknown source, a missing folder, a GTZAN root without genre folders, or two files with the
    same track id.
    """
    from genrelab.data.sources.registry import get

    root, layout = Path(root), get(source)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder. Expected a corpus laid out as {layout.layout} (check data.root).")
    scan = layout.scan(root, metadata)
    tracks = sorted(scan.tracks, key=lambda t: (t.genre, t.track_id))
    _refuse_colliding_ids(root, tracks + scan.unlabelled)
    return Corpus(root, source, _rel(root, scan.audio_dir), tuple(tracks), tuple(scan.problems), tuple(scan.unlabelled))


def scan_genre_folders(root: Path, audio_dir: Path) -> Scan:
    """``audio_dir/<genre>/<file>``: the genre is the folder's name."""
    tracks, problems, unlabelled = [], [], []
    for entry in sorted(audio_dir.iterdir()):
        if entry.is_dir() and not entry.name.startswith("."):
            found, trouble = _scan_genre_folder(root, entry)
            tracks += found
            problems += trouble
        elif entry.is_file() and audio.is_audio_file(entry):
            unlabelled.append(Track(entry.stem, "", _rel(root, entry)))
            problems.append(Problem(_rel(root, entry), "misplaced", "audio file outside any genre folder (no label)",
                                    "not in the study; move it into a <genre>/ folder"))
    return Scan(audio_dir, tracks, problems, unlabelled)


def _scan_genre_folder(root: Path, folder: Path) -> tuple[list[Track], list[Problem]]:
    tracks, problems = [], []
    for entry in sorted(folder.iterdir()):
        problem = entry_problem(root, entry, "a genre folder", "<genre>/")
        if problem is not None:
            problems.append(problem)
        else:
            tracks.append(Track(entry.stem, folder.name, _rel(root, entry)))
    if not tracks:
        problems.append(
            Problem(_rel(root, folder), "empty_genre", "empty genre folder (no audio files)", "no tracks from it")
        )
    return tracks, problems


def entry_problem(root: Path, entry: Path, where: str, belongs: str) -> Problem | None:
    """What is wrong with an entry of a folder that should hold only audio files (``None``: an audio file).

    ``where`` names the folder for the message (``a genre folder``), ``belongs`` where files go (``<genre>/``).
    """
    rel = _rel(root, entry)
    if entry.name.startswith("."):
        what = f"hidden file in {where} (an OS or editor file, such as .DS_Store or a ._ shadow)"
        return Problem(rel, "hidden", what, "ignored")
    if entry.is_dir():
        return Problem(rel, "misplaced", f"folder inside {where} (its files are not scanned)",
                       f"not in the study; files belong directly in {belongs}")  # fmt: skip
    if audio.is_audio_file(entry):
        return None
    what = f"not an audio file ({entry.suffix or 'no extension'}) in {where}"
    return Problem(rel, "non_audio", what, f"ignored; audio files end in {', '.join(audio.AUDIO_EXTENSIONS)}")


def _refuse_colliding_ids(root: Path, tracks: Iterable[Track]) -> None:
    first: dict[str, Track] = {}
    for track in tracks:
        other = first.setdefault(track.track_id, track)
        if other is not track:
            raise DataError(
                f"{root}: two files have the track id {track.track_id!r}: {other.path} and {track.path}. "
                "A track id is the file name without extension and must be unique; rename or remove one."
            )


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


# --------------------------------------------------------------------------------------------------
# GTZAN metadata


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


# --------------------------------------------------------------------------------------------------
# Checking files


@dataclass(frozen=True)
class _FileCheck:
    md5: str  # of the bytes; "" when they could not be read
    check: checks.FileCheck


def _check_file(root: Path, track: Track, min_seconds: float) -> _FileCheck:
    """md5 of the bytes plus a full decode: a header can look fine on a truncated or garbage body."""
    path = root / track.path
    try:
        with open(path, "rb") as f:
            md5 = hashlib.file_digest(f, "md5").hexdigest()
    except OSError as err:
        problem = Problem(track.path, "unreadable", f"cannot read the file ({err.strerror}). Check its permissions.", EXCLUDED)
        return _FileCheck("", checks.FileCheck(None, (problem,)))
    return _FileCheck(md5, checks.check_file(path, min_seconds=min_seconds, label=track.path))


def _check_files(root: Path, tracks: Iterable[Track], min_seconds: float, jobs: int, progress: bool) -> list[_FileCheck]:
    from genrelab.parallel import map_tracks

    # Threads: the work is in libsndfile and hashlib, which release the GIL, and threads start
    # at once where worker processes would spend seconds importing pandas.
    return map_tracks(_check_file, [(root, t, min_seconds) for t in tracks], jobs=jobs, backend="threads",
                      desc="reading audio", unit="file", progress=progress)


def _track_problems(
    track: Track, check: _FileCheck, index: Mapping[str, IndexEntry] | None, index_name: str
) -> list[Problem]:
    """The file's own problems plus (with an index) extra/unverified/checksum."""
    found = list(check.check.problems)
    if index is not None and check.md5:
        found += _checksum_problems(track, check.md5, index, index_name)
    return found


def _checksum_problems(track: Track, md5: str, index: Mapping[str, IndexEntry], index_name: str) -> list[Problem]:
    entry = index.get(track.track_id)
    if entry is None:
        return [Problem(track.path, "extra", f"extra: not in {index_name}", "kept; its bytes are not verified")]
    listed, actual = PurePosixPath(entry.path).suffix.lower(), PurePosixPath(track.path).suffix.lower()
    if listed != actual:  # e.g. the original .au files against mirdata's .wav md5s: not comparable
        what = f"md5 not checked: {index_name} lists a {listed} file, this is {actual}"
        return [Problem(track.path, "unverified", what, "kept")]
    if md5 != entry.md5:
        mismatch = f"checksum mismatch: md5 {md5}, {index_name} says {entry.md5} (not the original bytes)"
        return [Problem(track.path, "checksum", mismatch, EXCLUDED)]
    return []


def _missing_problems(corpus: Corpus, expected: Mapping[str, str], listed_in: str) -> list[Problem]:
    """``expected`` maps track ids to where their files should be (relative to the corpus root)."""
    found = {track.track_id for track in corpus.tracks}
    return [
        Problem(path, "missing", f"missing (listed in {listed_in})", "not in the study")
        for track_id, path in sorted(expected.items())
        if track_id not in found
    ]


def _index_locations(corpus: Corpus, index: Mapping[str, IndexEntry]) -> dict[str, str]:
    # Index paths carry their own prefix (mirdata: gtzan_genre/genres/...); keep <genre>/<file>.
    base = PurePosixPath(corpus.audio_dir)
    listed = {tid: PurePosixPath(entry.path) for tid, entry in index.items()}
    return {tid: (base / path.parent.name / path.name).as_posix() for tid, path in listed.items()}


def _as_index(index: Mapping[str, IndexEntry] | str | Path | None) -> tuple[Mapping[str, IndexEntry] | None, str]:
    if index is None or isinstance(index, Mapping):
        return index, "the md5 index"
    return read_md5_index(index), Path(index).name


# --------------------------------------------------------------------------------------------------
# Validation


@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate` found in a folder."""

    data_dir: Path
    problems: list[Problem]  # paths under data_dir (posix), least serious first
    n_files: int  # audio files found, inside genre folders or not
    usable_files: dict[str, int]  # genre -> files the study can use ("" for files outside genre folders)
    index: Path | None

    @property
    def lines(self) -> list[str]:
        """One line per problem, ``<file>: <what is wrong and the fix> [<what the study does>]``."""
        return [p.line() for p in self.problems]

    @property
    def counts(self) -> dict[str, int]:
        """Problem kind -> number of problems."""
        return checks.counts(self.problems)

    @property
    def usable(self) -> bool:
        """Usable audio in at least two genres; other problems only exclude single files."""
        return len(self.usable_files.keys() - {""}) >= 2

    @property
    def exit_status(self) -> int:
        """2 when the folder is not usable, 1 when some files are not, 0 when all are."""
        return 2 if not self.usable else checks.exit_status(1, self.problems)

    def summary(self) -> str:
        """One line: file and genre counts, problem counts by kind, and the verdict."""
        checked = f"; checked against {self.index.name}" if self.index else ""
        n_failed = len({p.path for p in checks.failed(self.problems)})
        if not self.usable:
            verdict = "NOT usable: usable audio in fewer than two genres"
        else:
            verdict = f"usable; {n_failed} file(s) excluded" if n_failed else "usable"
        return (
            f"{self.data_dir}: {self.n_files} audio files, {sum(self.usable_files.values())} usable, "
            f"in {len(self.usable_files.keys() - {''})} genre folders"
            f"{checked}; problems: {checks.summary(self.problems)} -> {verdict}"
        )


def validate(
    data_dir: str | Path, index: str | Path | None = None, *, segment_seconds: float = 3.0, jobs: int = 1,
    progress: bool = False,
) -> ValidationReport:
    """Check every audio file under ``data_dir`` and, with ``index``, against a mirdata md5 index.

    ``data_dir`` is a ``<genre>/<file>`` folder, or a GTZAN root holding ``genres_original/`` or
    ``genres/``. Each audio file is decoded completely, including files outside genre folders
    (reported as misplaced, never counted towards usability), and checked as the manifest checks
    it (:func:`genrelab.data.checks.check_file`; shorter than ``segment_seconds`` is too short).
    Reported besides: missing, extra, checksum mismatch, md5 not comparable (the index lists
    another format), non-audio, hidden, misplaced, empty genre folder. Raises :class:`DataError`
    when ``data_dir`` is not a folder or the index is unreadable.
    """
    from genrelab.data.sources.registry import recognise

    data_dir = Path(data_dir)
    entries, index_name = _as_index(index)
    corpus = find_tracks(data_dir, recognise(data_dir).name if data_dir.is_dir() else "folder")
    problems = list(corpus.problems)
    if entries is not None:
        problems += _missing_problems(corpus, _index_locations(corpus, entries), index_name)
    usable: Counter[str] = Counter()
    files = corpus.tracks + corpus.unlabelled
    for track, check in zip(files, _check_files(data_dir, files, segment_seconds, jobs, progress)):
        found = _track_problems(track, check, entries, index_name)
        problems += found
        if not checks.failed(found):
            usable[track.genre] += 1
    return ValidationReport(
        data_dir=data_dir,
        problems=[dataclasses.replace(p, path=(data_dir / p.path).as_posix()) for p in checks.sort_problems(problems)],
        n_files=len(files),
        usable_files=dict(sorted(usable.items())),
        index=Path(index) if index is not None and not isinstance(index, Mapping) else None,
    )


# --------------------------------------------------------------------------------------------------
# Manifest


def build_manifest(
    root: str | Path,
    source: str,
    *,
    segment_seconds: float = 3.0,
    metadata: Metadata | None = None,
    jobs: int = 1,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per audio file under ``root``, broken ones included, and a table of problems.

    Parameters
    ----------
    root : corpus folder, laid out as ``source`` (``demo``, ``gtzan`` or ``folder``).
    segment_seconds : a clip shorter than one segment (seconds) is excluded.
    metadata : what the source knows about its tracks (:meth:`genrelab.data.sources.base.Source.metadata`):
        artists (unknown, ``""``, without), the tracks it lists (a listed track without a file is
        reported as missing), an md5 index (files whose bytes differ are excluded). Default: the
        source's own, without params (the demo corpus reads its metadata.csv).
    jobs : threads reading files (joblib semantics: -1 for one per core; 1 reads in this thread).
    progress : show a progress bar over files.

    Returns
    -------
    manifest : columns :data:`genrelab.data.manifest.MANIFEST_COLUMNS`, sorted by genre then track_id. ``path`` is relative
        to ``root`` (posix); ``duration_s`` is the decoded length in seconds (NaN, and
        ``sample_rate``/``channels`` <NA>, when undecodable); ``md5`` is of the file's bytes;
        ``status`` is ``ok`` or ``excluded``; ``reason`` says why excluded (``""`` when ok);
        ``notes`` holds what is not a reason to exclude (resampled or downmixed on load, flagged
        as truncated, silent or clipped, artist not in the artist index, extra or unverified
        against the index), ``"; "``-joined.
    problems : columns :data:`genrelab.data.checks.PROBLEM_COLUMNS`, one row per problem (every kind of
        :data:`genrelab.data.checks.KINDS`: excluded and flagged files, conversions on load, missing,
        non-audio, hidden and misplaced files, empty genre folders, ...), most serious last.

    Each file is read completely (md5 and a full decode), about a second per hundred 30 s clips.
    """
    from genrelab.data.sources.registry import get

    if not segment_seconds > 0:
        raise DataError(f"segment_seconds must be a positive number of seconds, got {segment_seconds!r}.")
    corpus = find_tracks(root, source, metadata)
    if not corpus.tracks:
        raise DataError(f"{corpus.root}: no audio files found. Expected {get(source).layout}.")
    metadata = get(source).metadata(corpus.root) if metadata is None else metadata
    entries, index_name = _as_index(metadata.index)
    artist_of, artists_name = metadata.artists, metadata.artists_from or "the artist index"
    problems = list(corpus.problems) + _missing_problems(corpus, metadata.listed, metadata.listed_in)
    if entries is not None:
        problems += _missing_problems(corpus, _index_locations(corpus, entries), index_name)
    rows = []
    for track, check in zip(corpus.tracks, _check_files(corpus.root, corpus.tracks, segment_seconds, jobs, progress)):
        found = _track_problems(track, check, entries, index_name)
        reasons = [p.problem for p in checks.failed(found)]
        notes = [p.problem for p in found if p.problem not in reasons]
        if artist_of is not None and track.track_id not in artist_of:
            notes.append(f"artist unknown (not in {artists_name})")
        problems += found
        rows.append(_manifest_row(track, check, (artist_of or {}).get(track.track_id, ""), reasons, notes))
    return manifest_frame(rows), checks.problems_frame(problems)


def _manifest_row(track: Track, check: _FileCheck, artist: str, reasons: list[str], notes: list[str]) -> dict:
    scan = check.check.scan
    return {
        "track_id": track.track_id,
        "path": track.path,
        "genre": track.genre,
        "artist": artist,
        "duration_s": scan.duration if scan else float("nan"),
        "sample_rate": scan.sample_rate if scan else pd.NA,
        "channels": scan.channels if scan else pd.NA,
        "md5": check.md5,
        "status": EXCLUDED_STATUS if reasons else USABLE,
        "reason": "; ".join(reasons),
        "notes": "; ".join(notes),
    }
