"""Finding a corpus's tracks under its genre folders: :class:`Track`, :class:`Scan`, and what is wrong with an entry.

A track's genre is the name of its folder and its id is its file name without extension.
Reported, never skipped silently: files in a genre folder that are not audio, hidden files in a
genre folder (``.DS_Store``, macOS ``._name.wav`` shadows), genre folders without audio, folders
nested in a genre folder, audio files outside any genre folder. Files beside the genre folders
(``metadata.csv``, a README) and hidden folders (``.git``) are not part of a corpus.

A source (:mod:`genrelab.data.sources`) scans its folder with these;
:func:`genrelab.data.datasets.find_tracks` gathers what a source found into a corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from genrelab.data import audio
from genrelab.data.checks import Problem


@dataclass(frozen=True)
class Track:
    """One audio file of a corpus."""

    track_id: str  # file name without extension
    genre: str  # name of its folder
    path: str  # relative to the corpus root, posix separators


class Scan(NamedTuple):
    """What a source's :meth:`~genrelab.data.sources.base.Source.scan` found under a corpus root."""

    audio_dir: Path  # the folder it scanned
    tracks: list[Track]
    problems: list[Problem]
    unlabelled: list[Track]  # audio files the study cannot label (genre "")


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


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()
