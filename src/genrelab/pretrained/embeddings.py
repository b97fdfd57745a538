"""musicnn embeddings of every usable track: per segment for the study, per sliding patch for the
published pipeline.

For each checkpoint (:data:`genrelab.pretrained.musicnn.CHECKPOINTS`) :func:`compute_embeddings`
writes two tables under ``out_dir/<checkpoint>/``, each a folder of Parquet shards
(:mod:`genrelab.data.shards`, ``shard_tracks`` tracks a shard, so memory stays bounded):

``segments/``
    one row per study segment: ``track_id, segment, genre`` (the segment rule of
    :mod:`genrelab.features.segments`, so row ``(t, k)`` is the audio of spectrogram row ``(t, k)``)
    and a float32 vector column for each embedding layer and for ``taggram``.
``patches/``
    the same for each 3 s patch every ``hop_seconds`` of the whole track (``track_id, patch, genre``),
    for the pipeline the musicnn authors published (PCA, SVM, vote over patches). With
    ``hop_seconds=None`` that pipeline votes over the segments instead, and this table is not written.

Each track's arrays are cached per checkpoint under a key made of its md5 and the settings, so a
rerun (other classifier params, an interrupted run) computes only what is missing. Decoding and
the log-mel input run on ``jobs`` workers; the networks run in this process, in batches, on all
cores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from genrelab.data import audio, checks
from genrelab.data.manifest import usable_tracks
from genrelab.data.shards import ShardWriter, read_vectors, shard_paths, with_vectors
from genrelab.errors import DataError
from genrelab.parallel import Failure, load_entry, map_tracks, save_entry
from genrelab.pretrained import musicnn
from genrelab.pretrained.musicnn import N_FRAMES, N_MELS
from genrelab.pretrained.musicnn_input import SR, segment_patches, sliding_patches

EMBEDDING_VERSION = 1  # bump when a change alters any cached value
_LEFT_OUT = "left out of the embeddings"


@dataclass(frozen=True)
class EmbeddingRun:
    """What :func:`compute_embeddings` wrote (for the stage's metrics)."""

    out_dir: Path
    n_tracks: int
    n_segments: int
    n_patches: int
    computed: int  # tracks run through the networks (the others came from the cache)
    problems: tuple[checks.Problem, ...] = ()


def outputs(checkpoint: str) -> tuple[str, ...]:
    """The arrays kept per row: the checkpoint's embedding layers and its taggram."""
    return (*musicnn.EMBEDDING_LAYERS[musicnn.architecture(checkpoint)], "taggram")


def compute_embeddings(
    manifest: pd.DataFrame,
    root: str | Path,
    out_dir: str | Path,
    *,
    checkpoints: tuple[str, ...] | list[str] = ("MSD_musicnn",),
    segment_seconds: float = 3.0,
    hop_seconds: float | None = 1.0,
    cache_dir: str | Path | None = None,
    jobs: int = 1,
    batch_tracks: int = 16,
    shard_tracks: int = 1000,
    progress: bool = True,
) -> EmbeddingRun:
    """Embeddings of every usable track of ``manifest`` (audio under ``root``) into ``out_dir``.

    Parameters
    ----------
    checkpoints : which networks.
    segment_seconds : the study's segment length (``prepare.segment_seconds``).
    hop_seconds : step between the sliding 3 s patches of the published pipeline; None: no sliding
        patches (the pipeline reads the segments).
    cache_dir : per-track cache (default ``out_dir/cache``; keep it outside a DVC output).
    jobs : workers decoding audio and computing the log-mel patches.
    batch_tracks : tracks decoded, then embedded, at a time (bounds memory).
    shard_tracks : tracks per Parquet shard of the output tables (bounds memory).

    A track that fails to decode is left out of every array and listed in ``problems``.
    """
    for checkpoint in checkpoints:
        musicnn.checkpoint_dir(checkpoint)  # fail before any work when a weight file is missing
    tracks = usable_tracks(manifest).sort_values("track_id", kind="stable").reset_index(drop=True)
    if tracks.empty:
        raise DataError("the manifest has no tracks with status 'ok': nothing to embed. Check data.root.")
    root, out_dir = Path(root), Path(out_dir)
    cache = Path(cache_dir) if cache_dir is not None else out_dir / "cache"
    keys = {c: [_cache_key(t.md5, c, segment_seconds, hop_seconds) for t in tracks.itertuples()] for c in checkpoints}
    missing = [i for i in range(len(tracks)) if any(load_entry(cache / f"{keys[c][i]}.npz", ()) is None for c in checkpoints)]
    problems = []
    with tqdm(total=len(missing), desc="embeddings", unit="track", disable=not progress) as bar:
        for start in range(0, len(missing), batch_tracks):
            chunk = missing[start : start + batch_tracks]
            work = [(root / tracks.at[i, "path"], segment_seconds, hop_seconds) for i in chunk]
            results = map_tracks(_track_patches, work, jobs=jobs, progress=False)
            for i, result in zip(chunk, results):
                if isinstance(result, Failure):
                    problems.append(checks.failure(tracks.at[i, "path"], result.error, _LEFT_OUT, path=result.item[0]))
            done = [(i, r) for i, r in zip(chunk, results) if not isinstance(r, Failure)]
            for checkpoint in checkpoints:
                _embed_and_cache(checkpoint, done, [cache / f"{keys[checkpoint][i]}.npz" for i, _ in done])
            bar.update(len(chunk))
    failed = {p.path for p in problems}
    kept = tracks[~tracks["path"].isin(failed)].reset_index(drop=True)
    kept_keys = {c: [k for k, path in zip(keys[c], tracks["path"]) if path not in failed] for c in checkpoints}
    for checkpoint in checkpoints:  # the counts are the same for every checkpoint
        counts = _assemble(checkpoint, kept, [cache / f"{k}.npz" for k in kept_keys[checkpoint]], out_dir / checkpoint,
                           shard_tracks, sliding=hop_seconds is not None)  # fmt: skip
    return EmbeddingRun(out_dir, len(kept), counts["segments"], counts["patches"],
                        len(missing) - len(problems), tuple(problems))  # fmt: skip


def load_embeddings(out_dir: str | Path, checkpoint: str, layer: str, *, patches: bool = False):
    """One layer of :func:`compute_embeddings`' output.

    Returns
    -------
    X : float32 (n_rows, dim); only this layer's column is read.
    index : ``track_id, segment, genre`` (or ``track_id, patch, genre`` with ``patches``).
    """
    folder = Path(out_dir) / checkpoint / ("patches" if patches else "segments")
    if not shard_paths(folder):
        raise DataError(f"{folder}: not found. Run the embeddings stage (dvc repro embeddings) with {checkpoint} "
                        "in musicnn.checkpoints.")  # fmt: skip
    return read_vectors(folder, layer)


def _cache_key(md5: str, checkpoint: str, segment_seconds: float, hop_seconds: float | None) -> str:
    if not md5:
        raise DataError("the manifest lacks the md5 of a track; rebuild it with the prepare stage.")
    hop = "none" if hop_seconds is None else f"{hop_seconds:g}s"
    return f"{md5}-{checkpoint}-seg{segment_seconds:g}s-hop{hop}-v{EMBEDDING_VERSION}"


def _track_patches(path: Path, segment_seconds: float, hop_seconds: float | None) -> tuple[np.ndarray, np.ndarray]:
    """One track's segment patches (n_segments, 187, 96) and sliding patches (n_patches, 187, 96;
    none when ``hop_seconds`` is None)."""
    y, _ = audio.load(path, sr=SR)
    none = np.zeros((0, N_FRAMES, N_MELS), np.float32)
    return segment_patches(y, segment_seconds), none if hop_seconds is None else sliding_patches(y, hop_seconds)


def _embed_and_cache(checkpoint: str, done: list, entries: list[Path]) -> None:
    """Run ``checkpoint`` on the chunk's patches in one batch and write each track's entry."""
    if not done:
        return
    model = musicnn.load_model(checkpoint)
    pieces = [p for _, (segments, sliding) in done for p in (segments, sliding)]
    sizes = [len(p) for p in pieces]
    out = model.predict(np.concatenate(pieces), batch_size=64, verbose=0)
    bounds = np.cumsum([0, *sizes])
    for n, entry in enumerate(entries):
        seg, slide = slice(bounds[2 * n], bounds[2 * n + 1]), slice(bounds[2 * n + 1], bounds[2 * n + 2])
        arrays = {name: np.asarray(out[name][seg], dtype=np.float32) for name in outputs(checkpoint)}
        arrays |= {f"patches_{name}": np.asarray(out[name][slide], dtype=np.float32) for name in outputs(checkpoint)}
        save_entry(entry, **arrays)


def _assemble(checkpoint: str, tracks: pd.DataFrame, entries: list[Path], folder: Path, shard_tracks: int, *,
              sliding: bool = True) -> dict[str, int]:  # fmt: skip
    """The cached entries of ``tracks`` written as the sharded tables of one checkpoint (``patches``
    only with ``sliding``)."""
    if not entries:
        raise DataError("no track could be embedded (every one failed to decode); see the problems listed above.")
    names = outputs(checkpoint)
    tables = (("segments", "segment", ""), ("patches", "patch", "patches_"))[: 2 if sliding else 1]
    writers = {table: ShardWriter(folder / table) for table, _, _ in tables}
    counts = {"segments": 0, "patches": 0}
    for start in range(0, len(entries), shard_tracks):
        chunk = tracks.iloc[start : start + shard_tracks]
        stored = [load_entry(e, [*names, *(f"patches_{n}" for n in names)]) for e in entries[start : start + shard_tracks]]
        if any(s is None for s in stored):
            raise DataError(f"{folder}: a cache entry vanished while the stage ran; rerun it.")
        for table, column, prefix in tables:
            sizes = [len(s[f"{prefix}{names[0]}"]) for s in stored]
            shard = with_vectors(
                {"track_id": np.repeat(chunk["track_id"].to_numpy(dtype=object), sizes).astype(str),
                 column: np.concatenate([np.arange(n, dtype=np.int64) for n in sizes]),
                 "genre": np.repeat(chunk["genre"].to_numpy(dtype=object), sizes).astype(str)},
                {n: np.concatenate([s[f"{prefix}{n}"] for s in stored]) for n in names},
            )  # fmt: skip
            writers[table].write(shard)
            counts[table] += int(sum(sizes))
    return counts
