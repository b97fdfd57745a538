"""The data sources ``data.source`` may name, by name (one module each)."""

from __future__ import annotations

from pathlib import Path

from genrelab.data.sources.base import Source
from genrelab.data.sources.demo import Demo
from genrelab.data.sources.fma import Fma
from genrelab.data.sources.folder import Folder
from genrelab.data.sources.gtzan import Gtzan
from genrelab.errors import DataError

SOURCES: dict[str, Source] = {source.name: source for source in (Demo(), Gtzan(), Fma(), Folder())}


def get(name: str) -> Source:
    """The source called ``name``; a :class:`DataError` naming the known ones otherwise."""
    if name not in SOURCES:
        raise DataError(f"data.source must be one of {', '.join(SOURCES)}; got {name!r}.")
    return SOURCES[name]


def recognise(root: str | Path) -> Source:
    """The source whose layout ``root`` has (GTZAN's folders, say); a plain folder otherwise."""
    return next((s for s in SOURCES.values() if s.recognises(Path(root))), SOURCES["folder"])
