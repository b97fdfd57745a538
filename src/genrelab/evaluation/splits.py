"""Evaluation protocols: which tracks (or segments) are trained on and which are tested.

Every approach in the study reads the same split table, written once by the ``prepare`` stage, so
all models see the same tracks. The protocols, from leakiest to most honest:

``random_segment``
    Segments are assigned to train or test independently, so pieces of one song sit on both
    sides. This is how the widely quoted 90 % GTZAN figures were obtained.
``track_grouped``
    Whole tracks go to one side. Exact and near duplicates are grouped with each other, so a
    repeated clip cannot be trained on and tested on.
``artist_grouped``
    Whole artists go to one side (duplicates stay with them too): the model must generalise to
    artists it has never heard.
``fault_filtered``
    GTZAN only: the artist-conscious, fault-filtered split of Kereliuk, Sigtia & Sturm (2015);
    tracks outside its lists are excluded.
``fma_official``
    FMA only: the official artist-aware split of ``tracks.csv`` (``set.split``), its counterpart.

The last two are *official* splits: a source's metadata give them (:data:`OFFICIAL`), they are
not drawn here.

At clip level (one 30 s example per track) ``random_segment`` is a plain random split of tracks
that ignores duplicates and artists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from genrelab.constants import PROTOCOLS
from genrelab.data.manifest import usable_tracks
from genrelab.errors import DataError

OFFICIAL = {"fault_filtered": "GTZAN with data.gtzan_splits set", "fma_official": "FMA (data.source: fma)"}  # -> who has it
GROUPED = {"track_grouped": "dup_group", "artist_grouped": "artist_group"}
SUBSETS = ("train", "valid", "test", "excluded")


def make_splits(
    manifest: pd.DataFrame,
    dup_groups: pd.Series | None = None,
    *,
    protocols: tuple[str, ...] | list[str] = PROTOCOLS,
    test_fraction: float = 0.25,
    seed: int = 42,
    official: Mapping[str, Mapping[str, str]] | None = None,
) -> pd.DataFrame:
    """Assign every usable track to a subset under each protocol.

    Parameters
    ----------
    manifest : the corpus manifest; rows with ``status == "ok"`` are split.
    dup_groups : track id -> duplicate group id (see :func:`genrelab.data.dedup.duplicate_groups`);
        ``None`` means no duplicates.
    protocols : protocol names to compute; an official one (:data:`OFFICIAL`) is skipped when
        ``official`` lacks it.
    test_fraction : share of groups held out for testing, in (0, 1).
    official : official protocol -> (track id -> ``train``/``valid``/``test``), e.g. the GTZAN
        lists as ``{"fault_filtered": ...}``; a track it does not list is ``excluded``.

    Returns
    -------
    DataFrame, one row per usable track: ``track_id, genre, artist, dup_group, artist_group`` and
    one column per protocol holding ``train``/``valid``/``test``/``excluded``.
    """
    unknown = set(protocols) - set(PROTOCOLS)
    if unknown:
        raise DataError(f"unknown protocol(s) {sorted(unknown)} in prepare.protocols; known: {list(PROTOCOLS)}")
    if not 0 < test_fraction < 1:
        raise DataError(f"prepare.test_fraction must be between 0 and 1, got {test_fraction}")
    tracks = usable_tracks(manifest)[["track_id", "genre", "artist"]].copy()
    tracks = tracks.sort_values("track_id").reset_index(drop=True)
    if tracks["genre"].nunique() < 2:
        raise DataError("fewer than two genres have usable tracks: nothing to classify. Check the manifest.")
    tracks["artist"] = tracks["artist"].fillna("").astype(str)
    ids = tracks["track_id"].to_numpy(dtype=object)
    dups = dup_groups.reindex(ids).fillna(pd.Series(ids, index=ids)) if dup_groups is not None else pd.Series(ids, index=ids)
    tracks["dup_group"] = dups.to_numpy(dtype=object)
    tracks["artist_group"] = _artist_groups(tracks)

    n_folds = max(2, round(1 / test_fraction))
    for protocol in protocols:
        if protocol in OFFICIAL:
            if protocol not in (official or {}):
                continue
            tracks[protocol] = [official[protocol].get(t, "excluded") for t in ids]
        elif protocol == "random_segment":
            tracks[protocol] = _held_out(tracks, groups=ids, n_folds=n_folds, seed=seed)
        else:
            tracks[protocol] = _held_out(tracks, groups=tracks[GROUPED[protocol]].to_numpy(dtype=object), n_folds=n_folds, seed=seed)
    return tracks


def official_notes(protocols: Sequence[str], official: Mapping[str, object], source_split: str = "") -> list[str]:
    """What the data chapter says about official splits: those asked for that the source lacks,
    and the source's own when it is not asked for."""
    notes = [f"The {name} protocol needs {who}; it is skipped here."
             for name, who in OFFICIAL.items() if name in protocols and name not in official]  # fmt: skip
    if source_split in official and source_split not in protocols:
        notes.append(f"This source has an official split, protocol {source_split}; add it to prepare.protocols "
                     "to score it.")  # fmt: skip
    return notes


def _artist_groups(tracks: pd.DataFrame) -> np.ndarray:
    """Artist, merged with duplicate groups: tracks linked by an artist or a duplicate share a group.

    A track with no known artist is its own artist (all we can do; the book says so).
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for track, artist, dup in tracks[["track_id", "artist", "dup_group"]].itertuples(index=False):
        keys = [f"track:{track}", f"dup:{dup}"] + ([f"artist:{artist}"] if artist else [])
        for key in keys[1:]:
            a, b = find(keys[0]), find(key)
            if a != b:
                parent[max(a, b)] = min(a, b)
    roots = [find(f"track:{t}") for t in tracks["track_id"]]
    # Name each group by its first track so the table stays readable.
    first: dict[str, str] = {}
    for track, root in zip(tracks["track_id"], roots):
        first.setdefault(root, track)
    return np.array([first[r] for r in roots], dtype=object)


def _held_out(tracks: pd.DataFrame, groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Hold out one fold of a stratified group k-fold: ``test`` for its tracks, ``train`` otherwise.

    Deterministic for a given ``seed`` (shuffled folds, first fold held out). A genre all of whose
    tracks share one group (one artist, as GTZAN's first blues clips do) stays in training: held out,
    it would be tested with no training example of its genre, a score no model can earn.
    """
    genres = tracks["genre"].to_numpy(dtype=object)
    groups_per_genre = pd.Series(groups).groupby(genres).nunique()
    drawn = ~np.isin(genres, groups_per_genre.index[groups_per_genre < 2].to_numpy(dtype=object))
    subset = np.full(len(tracks), "train", dtype=object)
    subset[np.flatnonzero(drawn)] = _draw(tracks[drawn], groups[drawn], n_folds, seed)
    return subset


def _draw(tracks: pd.DataFrame, groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """:func:`_held_out`'s draw over the tracks of genres with two groups or more."""
    n_groups = len(set(groups))
    if n_groups < 2:
        raise DataError("only one group of tracks: a grouped split needs at least two (more artists or tracks).")
    folds = min(n_folds, n_groups)
    genres = tracks["genre"].to_numpy(dtype=object)
    if n_groups == len(groups) and pd.Series(genres).value_counts().max() >= folds:
        # One track per group: StratifiedKFold is the same split semantics and ~1000x faster
        # than StratifiedGroupKFold, whose greedy search is quadratic in the number of groups
        # (3-15 s for 1000 tracks). It needs some genre with at least `folds` tracks.
        splitter, groups = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed), None
    else:
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    _, test_idx = next(splitter.split(np.zeros(len(tracks)), genres, groups))
    subset = np.full(len(tracks), "train", dtype=object)
    subset[test_idx] = "test"
    return subset


def segment_subsets(
    splits: pd.DataFrame, track_ids, segments, protocol: str, *, seed: int = 42, test_fraction: float = 0.25
) -> np.ndarray:
    """Subset (``train``/``valid``/``test``/``excluded``) of each segment row.

    Parameters
    ----------
    splits : the split table from :func:`make_splits`.
    track_ids, segments : one entry per row of a segment-level table (segment index 0-based).
    protocol : a column of ``splits``.

    Grouped protocols give each segment its track's subset. ``random_segment`` draws every segment
    on its own from a stable hash of (seed, track id, segment), so the same segment lands on the
    same side in every approach, whatever the row order. Tracks absent from ``splits`` are
    ``excluded``.
    """
    _check_protocol(splits, protocol)
    track_ids = np.asarray(track_ids, dtype=object)
    per_track = splits.set_index("track_id")[protocol]
    subset = per_track.reindex(track_ids).fillna("excluded").to_numpy(dtype=object)
    if protocol != "random_segment":
        return subset
    draws = np.array([unit_hash(seed, t, int(s)) for t, s in zip(track_ids, segments)])
    known = subset != "excluded"
    return np.where(known, np.where(draws < test_fraction, "test", "train"), "excluded").astype(object)


def cv_groups(splits: pd.DataFrame, track_ids, protocol: str) -> np.ndarray | None:
    """Group label of each row for grouped cross-validation inside the training set.

    ``None`` for ``random_segment`` (rows are independent there, by design of that protocol).
    The official splits group by artist, as the splits themselves do.
    """
    _check_protocol(splits, protocol)
    if protocol == "random_segment":
        return None
    column = GROUPED.get(protocol, "artist_group")
    return splits.set_index("track_id")[column].reindex(np.asarray(track_ids, dtype=object)).to_numpy(dtype=object)


def available_protocols(splits: pd.DataFrame, requested: Sequence[str] | None = None) -> list[str]:
    """The protocols present in a split table (and among ``requested``, e.g. ``prepare.protocols``,
    when given), in canonical order."""
    return [p for p in PROTOCOLS if p in splits.columns and (requested is None or p in requested)]


def _check_protocol(splits: pd.DataFrame, protocol: str) -> None:
    if protocol not in splits.columns:
        raise DataError(
            f"protocol {protocol!r} is not in the split table; available: {available_protocols(splits)}. "
            "Add it to prepare.protocols and rerun the prepare stage."
        )


def unit_hash(seed: int, *parts) -> float:
    """A number in [0, 1) that depends only on ``seed`` and ``parts`` (their ``str``, joined by ``|``),
    not on Python's salted hash: the study's one seeded draw (segments, held-out sources, excerpt offsets)."""
    digest = hashlib.blake2b("|".join(map(str, (seed, *parts))).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
