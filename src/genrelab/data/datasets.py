"""The top of the data layer: a corpus's tracks as its source finds them, checking a folder, and the manifest.

The layouts (the ``data.source`` parameter) and what each source knows about its tracks are
the modules of :mod:`genrelab.data.sources`; :func:`find_tracks` asks the source to scan its
folder (genre folders: :mod:`genrelab.data.tracks`) and refuses two files with the same track id
with a :class:`DataError` naming both. A track's genre is the name of its folder (or what its
source's metadata say, for FMA) and its id is its file name without extension.

Every audio file is decoded completely and checked by :func:`genrelab.data.checks.check_file`; the
problem kinds, their severity and the exit-status rule are :mod:`genrelab.data.checks`'. With an md5
index (:func:`genrelab.data.gtzan_files.read_md5_index`) the bytes are checked against it too.

An unknown artist is the empty string ``""``, never NaN: pandas' ``groupby`` drops NaN keys, which
would silently drop those tracks from artist-grouped splits. :func:`genrelab.data.manifest.read_manifest` reads a
manifest back keeping ``""`` (and ids such as ``000002`` as text).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from genrelab.data import checks
from genrelab.data.checks import EXCLUDED, Problem
from genrelab.data.gtzan_files import IndexEntry, read_md5_index
from genrelab.data.manifest import EXCLUDED as EXCLUDED_STATUS
from genrelab.data.manifest import USABLE, manifest_frame
from genrelab.data.sources.base import Metadata
from genrelab.data.sources.registry import get, recognise
from genrelab.data.tracks import Track
from genrelab.errors import DataError


@dataclass(frozen=True)
class Corpus:
    """The tracks and layout problems found under ``root`` (see :func:`find_tracks`)."""

    root: Path
    source: str
    audio_dir: str  # folder holding the genre folders, relative to root (posix; "." for root)
    tracks: tuple[Track, ...]  # sorted by genre, then track_id
    problems: tuple[Problem, ...]
    unlabelled: tuple[Track, ...] = ()  # audio files outside genre folders (genre ""), reported as misplaced


# --------------------------------------------------------------------------------------------------
# Finding tracks


def find_tracks(root: str | Path, source: str = "folder", metadata: Metadata | None = None) -> Corpus:
    """Scan the corpus under ``root`` laid out as ``source`` (a name of :mod:`genrelab.data.sources.registry`).

    Reads directory entries (and a source's metadata, which label FMA's files), not audio.
    ``metadata``: what the source knows (default: what it reads without params). Raises :class:`DataError` for an
    unknown source, a missing folder, a GTZAN root without genre folders, or two files with the
    same track id.
    """
    root, layout = Path(root), get(source)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder. Expected a corpus laid out as {layout.layout} (check data.root).")
    scan = layout.scan(root, metadata)
    tracks = sorted(scan.tracks, key=lambda t: (t.genre, t.track_id))
    _refuse_colliding_ids(root, tracks + scan.unlabelled)
    audio_dir = scan.audio_dir.relative_to(root).as_posix()
    return Corpus(root, source, audio_dir, tuple(tracks), tuple(scan.problems), tuple(scan.unlabelled))


def _refuse_colliding_ids(root: Path, tracks: Iterable[Track]) -> None:
    first: dict[str, Track] = {}
    for track in tracks:
        other = first.setdefault(track.track_id, track)
        if other is not track:
            raise DataError(
                f"{root}: two files have the track id {track.track_id!r}: {other.path} and {track.path}. "
                "A track id is the file name without extension and must be unique; rename or remove one."
            )


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
