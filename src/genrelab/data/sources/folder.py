"""A folder of the user's own music: ``ROOT/<genre>/<file>``; the genre is the folder's name, artists unknown."""

from __future__ import annotations

from genrelab.data.audio import extensions_text
from genrelab.data.sources.base import Source


class Folder(Source):
    name = "folder"
    layout = f"ROOT/<genre>/<file> with audio files ({extensions_text()})"
    description = "a **folder of the user's own music** (`<genre>/<file>`)."
