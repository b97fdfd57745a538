"""A folder of the user's own music: ``ROOT/<genre>/<file>``; the genre is the folder's name, artists unknown."""

from __future__ import annotations

from genrelab.data.sources.base import Source


class Folder(Source):
    name = "folder"
    layout = "ROOT/<genre>/<file> with wav, mp3, flac, ogg or au files"
    description = "a **folder of the user's own music** (`<genre>/<file>`)."
