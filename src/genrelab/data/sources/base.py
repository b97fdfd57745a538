"""What a data source is: how its folder is laid out, and what it knows about its tracks.

A source (mirdata's "dataset") is one module of :mod:`genrelab.data.sources`: its layout, a line
the book shows, how its tracks are found under ``data.root`` (:meth:`Source.scan`: genre folders,
unless its metadata give the labels, as FMA's ``tracks.csv`` does), and :meth:`Source.metadata`:
the artists, the tracks it lists (so a missing one is reported), an md5 index, an official split.
:func:`genrelab.data.datasets.build_manifest` builds the manifest from it; the stages never branch
on a source's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from genrelab.data.tracks import Scan, scan_genre_folders


@dataclass(frozen=True)
class Metadata:
    """What a source knows about its tracks beyond their folders and files."""

    artists: Mapping[str, str] | None = None  # track id -> artist ("" unknown); None: no artist list
    artists_from: str = ""  # where the artists come from, for the manifest's notes
    listed: Mapping[str, str] = field(default_factory=dict)  # track id -> expected path (posix, under root)
    listed_in: str = ""  # what lists them, for the "missing" problems
    index: Any = None  # md5 index: {track_id: IndexEntry} or its path; None: bytes not verified
    official_split: Mapping[str, str] | None = None  # track id -> train / valid / test, if the source has one
    split_name: str = ""  # the protocol the official split is scored as (e.g. fault_filtered)
    notes: tuple[str, ...] = ()  # what the data chapter should say about what is missing
    # Sources whose metadata label the tracks (FMA): where the audio sits, the labels, and why
    # the other tracks the metadata name are not in the study (track id -> reason).
    audio_dir: str = ""  # relative to root (posix); empty: the source's audio_dir(root)
    genres: Mapping[str, str] | None = None  # track id -> genre; None: the genre is the folder's name
    unlabelled: Mapping[str, str] = field(default_factory=dict)


class Source:
    """One layout of ``data.root``; subclasses set the class attributes and override what differs."""

    name: ClassVar[str]
    layout: ClassVar[str]  # how ROOT is laid out, for errors and docs
    description: ClassVar[str]  # one Markdown sentence for the book (citations allowed: it goes to a .md page)
    synthetic: ClassVar[bool] = False  # numbers on it show how methods behave, not how they fare on music

    def audio_dir(self, root: Path) -> Path:
        """The folder holding the genre folders."""
        return root

    def scan(self, root: Path, metadata: Metadata | None = None) -> Scan:
        """The audio files under ``root`` as tracks, and the layout's problems (reads no audio).

        ``metadata``: what :meth:`metadata` gave with the run's params (``None``: read without them).
        """
        return scan_genre_folders(root, self.audio_dir(root))

    def metadata(self, root: Path, data: Mapping[str, Any] | None = None) -> Metadata:
        """What the source knows about the tracks under ``root``, given params.yaml's ``data`` section."""
        return Metadata()

    def recognises(self, root: Path) -> bool:
        """Whether ``root`` is laid out as this source (for ``genrelab validate``, which is not told)."""
        return False
