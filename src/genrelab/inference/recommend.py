"""``genrelab recommend``: the nearest tracks of the study's corpus, never by the query's own artist.

A track is a point in one space (``recommend.space``): its mean musicnn segment embedding, or the
57-feature row of its 30 s clip, standardised over the corpus. Neighbours are found by a
scikit-learn ``NearestNeighbors`` index (Euclidean) built by the export stage.

The artist filter of Flexer & Schnitzer (2010): a recommender that returns the query's own artist
looks good at genre precision for the wrong reason. By default no neighbour shares an artist with
the query, or with any track of the query's duplicate group. For a file from outside the corpus,
its artist is its tag (when it has one), and its duplicate group is the corpus tracks whose
near-duplicate fingerprint (:mod:`genrelab.data.dedup`) matches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from genrelab.inference.inputs import AudioFile

TRACK_COLUMNS = ["track_id", "genre", "artist", "dup_group", "path"]


@dataclass
class RecommendIndex:
    """The corpus in one space, with what the artist filter needs.

    tracks : :data:`TRACK_COLUMNS`, one row per corpus track (``path`` relative to ``root``).
    vectors : float32 (n_tracks, dim), before standardisation.
    fingerprints : float16 (n_tracks, n_frames, n_bands), :attr:`genrelab.data.dedup.Fingerprint.bands`.
    """

    space: dict
    root: str
    tracks: pd.DataFrame
    vectors: np.ndarray
    fingerprints: np.ndarray
    near_threshold: float
    scaler: StandardScaler = field(init=False)
    neighbours: NearestNeighbors = field(init=False)

    def __post_init__(self):
        self.tracks = self.tracks[TRACK_COLUMNS].astype(str).reset_index(drop=True)
        self.scaler = StandardScaler().fit(self.vectors)
        self.neighbours = NearestNeighbors().fit(self.scaler.transform(self.vectors))

    def query(self, vector: np.ndarray, k: int, exclude: np.ndarray | None = None) -> pd.DataFrame:
        """The ``k`` nearest tracks to ``vector`` (dim,), none of the ``exclude`` mask (n_tracks,) bool.

        Returns :data:`TRACK_COLUMNS` plus ``distance`` (standardised units), nearest first.
        """
        excluded = np.zeros(len(self.tracks), bool) if exclude is None else np.asarray(exclude, bool)
        n = min(len(self.tracks), k + int(excluded.sum()))  # enough that k survive the filter
        distance, order = self.neighbours.kneighbors(self.scaler.transform(np.asarray(vector)[None]), n_neighbors=n)
        keep = ~excluded[order[0]]
        rows = self.tracks.iloc[order[0][keep][:k]].assign(distance=distance[0][keep][:k])
        return rows.reset_index(drop=True)

    def corpus_exclusions(self, position: int) -> np.ndarray:
        """The filter for corpus track ``position``: itself, its duplicate group, and every track by an
        artist of that group."""
        group = self.tracks["dup_group"].to_numpy(dtype=object)
        return self._by_group_and_artist(group == group[position])

    def file_exclusions(self, source: AudioFile, artist: str | None) -> tuple[np.ndarray, list[str]]:
        """The filter for a file: corpus tracks it duplicates (and their groups), and every track by their
        artists or by ``artist`` (its tag; case and spaces ignored). Also returns the duplicated track ids."""
        copies = self.duplicates_of(source)
        group = self.tracks["dup_group"].to_numpy(dtype=object)
        same = np.isin(group, group[copies])
        mask = self._by_group_and_artist(same)
        if artist:
            mask |= _norm(self.tracks["artist"]) == _norm(pd.Series([artist]))[0]
        return mask, self.tracks["track_id"].iloc[copies].tolist()

    def duplicates_of(self, source: AudioFile) -> np.ndarray:
        """Positions of corpus tracks whose fingerprint matches the file's at ``near_threshold`` or more."""
        from genrelab.data import audio, dedup

        # Only the frames the corpus prints hold can match (a long file is compared by its start).
        head = source.samples(audio.DEFAULT_SR)[: self.fingerprints.shape[1] * dedup.HOP_LENGTH]
        query = dedup.fingerprint(head, audio.DEFAULT_SR).bands
        max_lag = int(round(dedup.MAX_SHIFT_SECONDS * audio.DEFAULT_SR / dedup.HOP_LENGTH))
        similarity = dedup.similarity_to(query, self.fingerprints.astype(np.float32), max_lag)
        return np.flatnonzero(similarity >= self.near_threshold)

    def _by_group_and_artist(self, in_group: np.ndarray) -> np.ndarray:
        artists = self.tracks["artist"].to_numpy(dtype=object)
        return in_group | np.isin(artists, artists[in_group])

    def file_vector(self, source: AudioFile) -> np.ndarray:
        """The file's point in this index's space, made as the corpus vectors were."""
        return file_vector(source, self.space)


def _norm(names: pd.Series) -> np.ndarray:
    return names.astype(str).str.casefold().str.split().str.join(" ").to_numpy(dtype=object)


# ------------------------------------------------------------------------------------------ vectors


def space_settings(params: dict) -> dict:
    """The ``recommend`` section's space, with the segment length the embeddings were made with."""
    r = params["recommend"]
    if r["space"] == "features57":
        return {"space": "features57"}
    return {"space": "musicnn", "checkpoint": r["checkpoint"], "layer": r["layer"],
            "segment_seconds": params["prepare"]["segment_seconds"]}  # fmt: skip


def corpus_vectors(space: dict, *, features_dir: Path, embeddings_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """(track ids (n,), float32 vectors (n, dim)) of every track in the stage outputs, in track-id order."""
    if space["space"] == "features57":
        from genrelab.features.tables import feature_columns, read_feature_table

        table = read_feature_table("clip", features_dir)
        ids = table["filename"].map(lambda name: Path(name).stem).to_numpy(dtype=object)
        X = table[feature_columns(table)].to_numpy(dtype=np.float32)
    else:
        from genrelab.pretrained.embeddings import load_embeddings

        X_seg, index = load_embeddings(embeddings_dir, space["checkpoint"], space["layer"])
        frame = pd.DataFrame(np.asarray(X_seg, dtype=np.float64)).assign(track_id=index["track_id"].to_numpy(dtype=object))
        means = frame.groupby("track_id", sort=True).mean()
        ids, X = means.index.to_numpy(dtype=object), means.to_numpy(dtype=np.float32)
    order = np.argsort(ids, kind="stable")
    return ids[order], X[order]


def file_vector(source: AudioFile, space: dict) -> np.ndarray:
    """One file's point: the mean of its segments' embeddings, or its whole-file 57 features."""
    if space["space"] == "features57":
        from genrelab.features.gtzan57_dsp import SR, signal_features

        return signal_features(source.samples(SR), SR, 30.0, source.path)[1][0].astype(np.float32)
    out = source.musicnn(space["checkpoint"], space["segment_seconds"])[space["layer"]]
    return np.asarray(out, dtype=np.float64).mean(axis=0).astype(np.float32)


# --------------------------------------------------------------------------------------- evaluation


def neighbour_genres(index: RecommendIndex, splits: pd.DataFrame, protocol: str | None, k: int,
                     artist_filter: bool) -> pd.DataFrame:
    """The genre of each query track's ``k`` neighbours: ``query, genre, rank, neighbour_genre``.

    ``protocol`` None: every corpus track queries all the others (leave one out). A protocol:
    its test tracks query its training tracks. The share of rows with ``neighbour_genre == genre``
    is genre precision@k.
    """
    track_ids = index.tracks["track_id"].to_numpy(dtype=object)
    if protocol is None:
        queries, pool = np.arange(len(track_ids)), np.ones(len(track_ids), bool)
    else:
        subset = splits.set_index("track_id")[protocol].reindex(track_ids).to_numpy(dtype=object)
        queries, pool = np.flatnonzero(subset == "test"), subset == "train"
    genres = index.tracks["genre"].to_numpy(dtype=object)
    rows = []
    for q in queries:
        exclude = ~pool
        exclude[q] = True
        if artist_filter:
            exclude |= index.corpus_exclusions(q)
        found = index.query(index.vectors[q], k, exclude)
        rows += [(track_ids[q], genres[q], rank, g) for rank, g in enumerate(found["genre"], start=1)]
    return pd.DataFrame(rows, columns=["query", "genre", "rank", "neighbour_genre"])


def precision_table(index: RecommendIndex, splits: pd.DataFrame, protocols: list[str], k: int,
                    n_boot: int = 2000, seed: int = 42) -> pd.DataFrame:
    """Genre precision@k with a bootstrap CI over query tracks, with and without the artist filter,
    for leave-one-out over the corpus and for each track-level protocol's test tracks
    (``random_segment`` splits segments, so its tracks sit on both sides: left out)."""
    from genrelab.evaluation.results import bootstrap_ci

    out = []
    for protocol in [None, *[p for p in protocols if p != "random_segment"]]:
        for artist_filter in (False, True):
            rows = neighbour_genres(index, splits, protocol, k, artist_filter)
            hit = rows["genre"].to_numpy(dtype=object) == rows["neighbour_genre"].to_numpy(dtype=object)
            low, high = (bootstrap_ci(rows["genre"], rows["neighbour_genre"], rows["query"], n_boot=n_boot, seed=seed)
                         if len(rows) else (np.nan, np.nan))  # fmt: skip
            out.append({"queries": protocol or "all tracks, leave one out", "artist_filter": artist_filter,
                        "precision": float(hit.mean()) if len(rows) else np.nan, "ci_low": low, "ci_high": high,
                        "n_queries": rows["query"].nunique(), "k": k})  # fmt: skip
    return pd.DataFrame(out)
