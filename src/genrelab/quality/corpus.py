"""The labelled files of the true-quality study, made from lossless sources by every condition.

Sources are rendered by the demo synthesiser at 44.1 kHz in stereo (the right channel a little
later and quieter, so the side channel carries content). Each source's own bandwidth is measured
first: a source with a cut-off below ``min_bandwidth_hz`` cannot show an encoder's low-pass and
is excluded with its measured bandwidth as the reason. Every kept source is put through every
condition (:mod:`genrelab.quality.conditions`); the files land in ``out_dir/<source_id>/`` and one
row each in the files table, with the chain, its labels and where its excerpts start. Every
derivative of a source carries the source's id, the group every split keeps on one side.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.data.demo.render import render_track
from genrelab.evaluation.splits import unit_hash
from genrelab.parallel import Failure, map_tracks
from genrelab.quality import spectral
from genrelab.quality.conditions import Condition, apply, parse

SR = 44100
STEREO_DELAY = 11  # samples (0.25 ms) between the channels
FILE_COLUMNS = ("file", "source_id", "split", "style", "condition", "probe", "chain", "nominal", "effective", "group",
                "container", "transcoded", "sample_rate", "seconds")  # fmt: skip


def render_source(style: str, index: int, seconds: float, seed: int) -> np.ndarray:
    """A lossless stereo source, float32 ``(n_samples, 2)`` at 44.1 kHz."""
    pcm, _ = render_track(style, index, tracks_per_genre=max(2, index + 1), seconds=seconds, seed=seed,
                          sample_rate=SR)  # fmt: skip
    left = pcm.astype(np.float32) / 32768
    return np.stack([left, np.float32(0.9) * np.roll(left, STEREO_DELAY)], axis=1)


def condition_slug(condition: Condition) -> str:
    """A file name for a chain: ``lame:cbr128>flac`` -> ``lame_cbr128-flac``."""
    return condition.name.replace(":", "_").replace(">", "-")


def excerpt_offsets(files: pd.DataFrame, lengths: Sequence[float], seed: int) -> pd.DataFrame:
    """One row per file and excerpt length: ``file, excerpt_seconds, offset_seconds``.

    Offsets are uniform over the file and depend only on (seed, file, length), so a rerun or a
    bigger corpus draws the same ones; a file shorter than a length gives one excerpt of all of it.
    """
    rows = []
    for file, seconds in zip(files["file"], files["seconds"]):
        for length in lengths:
            share = unit_hash(seed, file, length)
            rows.append({"file": file, "excerpt_seconds": float(min(length, seconds)),
                         "offset_seconds": round(share * max(0.0, seconds - length), 3)})  # fmt: skip
    return pd.DataFrame(rows, columns=["file", "excerpt_seconds", "offset_seconds"])


def build_corpus(
    out_dir: str | Path,
    *,
    styles: Sequence[str],
    sources_per_style: int,
    seconds: float,
    conditions: Sequence[str],
    probes: Sequence[str] = (),
    test_fraction: float = 0.3,
    seed: int = 42,
    min_bandwidth_hz: float = 21000.0,
    jobs: int = 1,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Render the sources, check their bandwidth, hold out ``test_fraction`` of each style's sources
    (:func:`genrelab.quality.evaluation.held_out_sources`), and write every condition of each kept
    source, and every probe of each held-out one.

    Returns
    -------
    files : :data:`FILE_COLUMNS`, one row per written file (``file`` relative to ``out_dir``).
    sources : ``source_id, style, split, bandwidth_hz, status, reason``: every source, kept or excluded.
    skipped : ``condition, reason``: the probes whose encoder this machine lacks.
    """
    from genrelab.quality.codecs import missing_encoder
    from genrelab.quality.evaluation import held_out_sources

    parsed = [parse(name) for name in conditions]  # a bad chain fails before any work
    probed = [parse(name) for name in probes]
    missing = {c.name: [why for kind, _ in c.steps if (why := missing_encoder(kind))] for c in probed}
    skipped = pd.DataFrame([{"condition": name, "reason": why[0]} for name, why in missing.items() if why],
                           columns=["condition", "reason"])  # fmt: skip
    probed = [c for c in probed if not missing[c.name]]
    planned = [(style, index) for style in styles for index in range(sources_per_style)]
    test = held_out_sources({_source_id(*p): p[0] for p in planned}, test_fraction, seed)
    out_dir = Path(out_dir)
    work = [(out_dir, style, index, seconds, seed, parsed, probed if _source_id(style, index) in test else [],
             min_bandwidth_hz) for style, index in planned]  # fmt: skip
    results = map_tracks(_source_files, work, jobs=jobs, desc="quality corpus", unit="source", progress=progress)
    files, sources = [], []
    for (_, style, index, *_), result in zip(work, results):
        split = {"split": "test" if _source_id(style, index) in test else "train"}
        if isinstance(result, Failure):
            sources.append({"source_id": _source_id(style, index), "style": style, **split, "bandwidth_hz": np.nan,
                            "status": "excluded", "reason": str(result.error)})  # fmt: skip
            continue
        source, rows = result
        sources.append({**source, **split})
        files += [{**row, **split} for row in rows]
    return pd.DataFrame(files, columns=list(FILE_COLUMNS)), pd.DataFrame(sources), skipped


def _source_id(style: str, index: int) -> str:
    return f"{style}.{index:03d}"


def _source_files(out_dir: Path, style: str, index: int, seconds: float, seed: int, conditions: list[Condition],
                  probes: list[Condition], min_bandwidth_hz: float) -> tuple[dict, list[dict]]:  # fmt: skip
    source_id = _source_id(style, index)
    y = render_source(style, index, seconds, seed)
    bandwidth = spectral.spectral_features(y, SR)["cutoff_hz"]
    source = {"source_id": source_id, "style": style, "bandwidth_hz": bandwidth, "status": "ok", "reason": ""}
    if bandwidth < min_bandwidth_hz:
        reason = f"bandwidth {bandwidth:.0f} Hz, below {min_bandwidth_hz:.0f} Hz: no encoder low-pass could show"
        return {**source, "status": "excluded", "reason": reason}, []
    folder = out_dir / source_id
    folder.mkdir(parents=True, exist_ok=True)
    rows, memo = [], {}
    for condition, probe in [(c, False) for c in conditions] + [(c, True) for c in probes]:
        data, decoded, sr = apply(condition, y, SR, memo)
        name = f"{source_id}/{condition_slug(condition)}.{condition.container}"
        (out_dir / name).write_bytes(data)
        rows.append({"file": name, "source_id": source_id, "style": style, "condition": condition.name,
                     "probe": probe, "chain": condition.chain_json(), "nominal": condition.nominal, "effective": condition.effective,
                     "group": condition.group, "container": condition.container, "transcoded": condition.transcoded,
                     "sample_rate": sr, "seconds": round(len(decoded) / sr, 3)})  # fmt: skip
    return source, rows
