"""The one folder walker: the audio files of the files and folders a user names.

Every command that takes files or folders (``features``, ``predict``, ``recommend``, ``quality``)
walks them here, so they agree on what counts: a folder is searched recursively; a hidden file,
or a file under a hidden folder, is ignored (an OS or editor file), and so is a file whose
extension is not audio (:data:`genrelab.data.audio.AUDIO_EXTENSIONS`); each is reported as an
ignored :class:`~genrelab.data.checks.Problem`. A file named explicitly is kept whatever its
extension: the decoder says whether it is audio.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from genrelab.data import audio, checks


@dataclass
class FoundAudio:
    """What :func:`find_audio` found: ``files`` in the order given (a folder's sorted by path), without repeats; ``ignored``, the
    other files of the folders; ``missing``, a line for each input that is no path, or a folder without audio."""

    files: list[Path] = field(default_factory=list)
    ignored: list[checks.Problem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def find_audio(inputs: str | Path | Iterable[str | Path]) -> FoundAudio:
    """The audio files of ``inputs`` (files, or folders searched recursively)."""
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    found, files = FoundAudio(), {}
    for item in map(Path, inputs):
        if item.is_dir():
            in_folder = _scan_folder(item, found.ignored)
            if not in_folder:
                found.missing.append(f"{item}: no audio files ({audio.extensions_text()}) in this folder.")
            files |= dict.fromkeys(sorted(in_folder))
        elif item.is_file():
            files[item] = None
        else:
            found.missing.append(f"{item}: no such file or folder. Check the path.")
    found.files = list(files)
    return found


def _scan_folder(folder: Path, ignored: list[checks.Problem]) -> set[Path]:
    found = set()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            ignored.append(checks.Problem(str(path), "hidden", "hidden file (an OS or editor file)", "ignored"))
        elif audio.is_audio_file(path):
            found.add(path)
        else:
            what = f"not an audio file ({path.suffix or 'no extension'})"
            ignored.append(checks.Problem(str(path), "non_audio", what, f"ignored; audio files end in {audio.extensions_text()}"))
    return found
