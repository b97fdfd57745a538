"""What a file's tags say (ID3, Vorbis comments, MP4 atoms), read with mutagen; never guessed."""

from __future__ import annotations

from pathlib import Path


def artist_tag(path: str | Path) -> str | None:
    """The file's artist tag, or None when it has none or the header cannot be read."""
    import mutagen

    try:
        tags = mutagen.File(str(path), easy=True)
    except Exception:  # mutagen raises many types for files it cannot parse; the decoder reports those
        return None
    values = (tags or {}).get("artist") or []
    name = " ".join(str(values[0]).split()) if values else ""
    return name or None
