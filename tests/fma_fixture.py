"""A small corpus laid out as the Free Music Archive ships it, for the FMA source's tests.

``ROOT/fma_metadata/tracks.csv`` is written in the real file's format: pandas' CSV of a frame with
two-level columns (the 52 fields of FMA's ``tracks.csv``, grouped under ``album``, ``artist``,
``set`` and ``track``) and an index named ``track_id``. So its first three lines read
``,album,album,...``, ``,comments,date_created,...`` and ``track_id,,,...``, as in fma_metadata.zip.
The audio is rendered by the demo synthesiser at 44.1 kHz and written as MP3
(``ROOT/fma_small/NNN/NNNNNN.mp3``), with the faults FMA is known for: an empty file and a clip
shorter than a segment. Everything else a source must report is there once: a listed track with no
file, a file no row lists, a track of another subset, a track without a top genre.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from genrelab.data.demo.render import render_track

# The columns of FMA's tracks.csv (fma_metadata.zip, 2017), in the file's order.
TRACKS_COLUMNS = (
    *(("album", f) for f in ("comments", "date_created", "date_released", "engineer", "favorites", "id",
                             "information", "listens", "producer", "tags", "title", "tracks", "type")),
    *(("artist", f) for f in ("active_year_begin", "active_year_end", "associated_labels", "bio", "comments",
                              "date_created", "favorites", "id", "latitude", "location", "longitude", "members",
                              "name", "related_projects", "tags", "website", "wikipedia_page")),
    ("set", "split"), ("set", "subset"),
    *(("track", f) for f in ("bit_rate", "comments", "composer", "date_created", "date_recorded", "duration",
                             "favorites", "genre_top", "genres", "genres_all", "information", "interest",
                             "language_code", "license", "listens", "lyricist", "number", "publisher", "tags",
                             "title")),
)  # fmt: skip
# FMA top genres, each rendered by a demo style; "Old-Time / Historic" has FMA's slash and spaces.
GENRES = {"Hip-Hop": "funk", "Electronic": "techno", "Rock": "thrash", "Old-Time / Historic": "waltz"}
SPLIT_BY_ARTIST = ("training", "validation", "test")  # FMA's split is artist-aware: one split per artist
SAMPLE_RATE = 44100


@dataclass(frozen=True)
class FmaFixture:
    root: Path
    tracks: pd.DataFrame  # the rows written to tracks.csv (two-level columns, index track_id as int)
    good: tuple[str, ...]  # six-digit ids of the clips the study should use
    empty: str  # a zero-byte file: found by reading
    short: str  # 1.5 s: shorter than a 3 s segment
    missing: str  # listed in the subset, no file
    unlisted: str  # a file no row lists
    other_subset: str  # a file of a medium-only track
    no_genre: str  # a large-subset track without track.genre_top


def write_fma_corpus(root: Path, tracks_per_genre: int = 6, seconds: float = 10.0, seed: int = 0) -> FmaFixture:
    """Write the corpus under ``root`` (created) and return what it holds."""
    rows, good, n_artists = {}, [], 3
    for g, (genre, style) in enumerate(GENRES.items()):
        for i in range(tracks_per_genre):
            track_id, artist = 1000 * g + 7 * i + 2, 10 * g + i % n_artists + 1
            rows[track_id] = _row(genre, artist, SPLIT_BY_ARTIST[i % n_artists], "small", f"{style} {i}")
            pcm, _ = render_track(style, i, tracks_per_genre=tracks_per_genre, seconds=seconds, seed=seed,
                                  sample_rate=SAMPLE_RATE)  # fmt: skip
            _write_mp3(root, track_id, pcm.astype(np.float32) / 32768)
            good.append(f"{track_id:06d}")
    faults = {"empty": 9001, "short": 9002, "missing": 9003, "unlisted": 9004, "other_subset": 9005, "no_genre": 9006}
    rows[faults["empty"]] = _row("Rock", 99, "training", "small", "empty")
    rows[faults["short"]] = _row("Rock", 99, "training", "small", "short")
    rows[faults["missing"]] = _row("Rock", 99, "test", "small", "missing")
    rows[faults["other_subset"]] = _row("Rock", 98, "training", "medium", "medium only")
    rows[faults["no_genre"]] = _row("", 97, "training", "large", "no genre")
    _path(root, faults["empty"]).write_bytes(b"")
    pcm, _ = render_track("thrash", 0, tracks_per_genre=2, seconds=4.0, seed=seed, sample_rate=SAMPLE_RATE)
    _write_mp3(root, faults["short"], pcm[: int(1.5 * SAMPLE_RATE)].astype(np.float32) / 32768)
    for name in ("unlisted", "other_subset", "no_genre"):
        pcm, _ = render_track("funk", 0, tracks_per_genre=2, seconds=4.0, seed=seed + 1, sample_rate=SAMPLE_RATE)
        _write_mp3(root, faults[name], pcm.astype(np.float32) / 32768)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.columns = pd.MultiIndex.from_tuples(TRACKS_COLUMNS)
    table.index.name = "track_id"
    (root / "fma_metadata").mkdir(parents=True, exist_ok=True)
    table.sort_index().to_csv(root / "fma_metadata" / "tracks.csv")
    (root / "fma_small" / "README.txt").write_text("FMA's own README sits beside the NNN folders.\n")
    return FmaFixture(root, table, tuple(good), **{k: f"{v:06d}" for k, v in faults.items()})


def _row(genre: str, artist: int, split: str, subset: str, title: str) -> list:
    values = {("artist", "id"): artist, ("artist", "name"): f"Artist {artist}", ("set", "split"): split,
              ("set", "subset"): subset, ("track", "genre_top"): genre, ("track", "title"): title,
              ("track", "genres"): "[]", ("track", "genres_all"): "[]", ("track", "tags"): "[]",
              ("album", "tags"): "[]", ("artist", "tags"): "[]", ("track", "bit_rate"): 320000,
              ("track", "license"): "Attribution"}  # fmt: skip
    return [values.get(column, "") for column in TRACKS_COLUMNS]


def _path(root: Path, track_id: int) -> Path:
    name = f"{track_id:06d}"
    path = root / "fma_small" / name[:3] / f"{name}.mp3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _write_mp3(root: Path, track_id: int, y: np.ndarray) -> None:
    stereo = np.stack([y, 0.9 * y], axis=1)  # FMA clips are stereo 44.1 kHz
    sf.write(_path(root, track_id), stereo, SAMPLE_RATE, format="MP3")  # float32: int16 corrupts MP3 samples
