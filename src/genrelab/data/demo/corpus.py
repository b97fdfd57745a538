"""Writing the demo corpus: every track in parallel, the injected duplicates, ``metadata.csv``
(:func:`generate_corpus`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from tqdm.auto import tqdm

from genrelab.data.demo.recipes import _is_int, _Settings, _validate
from genrelab.data.demo.render import _to_pcm16, render_track
from genrelab.data.demo.styles import (
    EXACT_DUPLICATES,
    METADATA_COLUMNS,
    NEAR_DUPLICATES,
    STYLES,
    DemoError,
)
from genrelab.parallel import map_tracks

# The corpus
# --------------------------------------------------------------------------------------------


def _write_track(out_dir: Path, style: str, index: int, s: _Settings) -> dict:
    pcm, row = render_track(
        style, index, tracks_per_genre=s.tracks_per_genre, seconds=s.seconds, seed=s.seed,
        sample_rate=s.sample_rate, overlap=s.overlap, noise=s.noise,
    )
    sf.write(out_dir / row["path"], pcm, s.sample_rate, subtype="PCM_16", format="WAV")
    return row


def _injections(tracks_per_genre: int) -> dict[str, tuple[str, float | None, float | None]]:
    """copy track id -> (source track id, gain dB, delay s); gain None for an exact copy."""
    last = tracks_per_genre - 1
    plan = {f"{copy}.{last:05d}": (f"{src}.00000", None, None) for src, copy in EXACT_DUPLICATES}
    for style, gain, delay in NEAR_DUPLICATES:
        plan[f"{style}.{last:05d}"] = (f"{style}.00000", gain, delay)
    return plan


def _inject(out_dir: Path, copy_id: str, source: dict, gain_db: float | None, delay: float | None) -> dict:
    style = copy_id.split(".")[0]
    row = {**source, "track_id": copy_id, "genre": style, "path": f"{style}/{copy_id}.wav"}
    row["duplicate_of"] = source["track_id"]
    if gain_db is None:
        shutil.copyfile(out_dir / source["path"], out_dir / row["path"])
        row["injected"] = f"exact_duplicate_of={source['track_id']}"
        return row
    pcm, sr = sf.read(out_dir / source["path"], dtype="int16")
    shift = int(round(delay * sr))
    y = np.concatenate([np.zeros(shift), pcm[: len(pcm) - shift] / 32767.0]) * 10 ** (gain_db / 20)
    sf.write(out_dir / row["path"], _to_pcm16(y), sr, subtype="PCM_16", format="WAV")
    row["injected"] = f"near_duplicate_of={source['track_id']} (gain {gain_db:+.1f} dB, shift {delay:.2f} s)"
    return row


def _check_out_dir(out_dir: Path, s: _Settings) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise DemoError(f"{out_dir}: exists and is not a folder; choose another OUT_DIR.")
    expected = {f"{style}/{style}.{i:05d}.wav" for style in STYLES for i in range(s.tracks_per_genre)}
    stale = sorted(
        p.relative_to(out_dir).as_posix()
        for style in STYLES
        for p in (out_dir / style).glob("*.wav")
        if p.relative_to(out_dir).as_posix() not in expected
    )
    if stale:
        raise DemoError(
            f"{out_dir}: holds {len(stale)} audio file(s) this corpus would not write (e.g. {stale[0]}), "
            "which a loader would pick up; choose an empty folder or delete them."
        )


def generate_corpus(
    out_dir: str | Path,
    *,
    tracks_per_genre: int = 20,
    seconds: float = 30.0,
    seed: int = 0,
    sample_rate: int = 22050,
    overlap: float = 0.2,
    noise: float = 0.05,
    jobs: int = 2,
    progress: bool = True,
) -> pd.DataFrame:
    """Write the synthetic demo corpus (not GTZAN) to ``out_dir`` and return its metadata.

    Parameters
    ----------
    out_dir : folder to write; created if missing. Files of the same corpus are overwritten;
        other ``<style>/*.wav`` files there are refused (a loader would pick them up).
    tracks_per_genre : tracks per style, >= 2 (an injected copy needs its source beside it).
    seconds : clip length in s, >= 3.
    seed : non-negative integer; the same arguments give byte-identical files.
    sample_rate : Hz, 8000..96000 (22050, as GTZAN, by default).
    overlap : in [0, 1], probability that an artist borrows one of its layers from another
        style (a track borrows one more with probability ``overlap / 2``). Default 0.2.
    noise : in [0, 1], background-noise RMS relative to the music's. Default 0.05.
    jobs : parallel worker processes (-1 = all cores; default 2). Does not change the output.
    progress : show a tqdm progress bar.

    Returns
    -------
    DataFrame with one row per track, columns :data:`METADATA_COLUMNS`, sorted by style then
    index; also written to ``out_dir/metadata.csv``.
    """
    s = _validate(tracks_per_genre, seconds, seed, sample_rate, overlap, noise)
    if not _is_int(jobs) or jobs == 0:
        raise DemoError(f"jobs (--jobs) must be a non-zero integer (-1 = all cores); got {jobs!r}.")
    out_dir = Path(out_dir)
    _check_out_dir(out_dir, s)
    for style in STYLES:
        (out_dir / style).mkdir(parents=True, exist_ok=True)

    plan = _injections(s.tracks_per_genre)
    todo = [(st, i) for st in STYLES for i in range(s.tracks_per_genre) if f"{st}.{i:05d}" not in plan]
    # Each track is seeded on its own, so the order workers finish in cannot change a byte.
    written = map_tracks(_write_track, [(out_dir, st, i, s) for st, i in todo], jobs=jobs, desc="demo corpus",
                         progress=progress)  # fmt: skip
    rows = {row["track_id"]: row for row in written}
    for copy_id, (src, gain, delay) in tqdm(plan.items(), desc="injected copies", unit="track", disable=not progress):
        rows[copy_id] = _inject(out_dir, copy_id, rows[src], gain, delay)

    meta = pd.DataFrame([rows[f"{st}.{i:05d}"] for st in STYLES for i in range(s.tracks_per_genre)],
                        columns=list(METADATA_COLUMNS))
    meta.to_csv(out_dir / "metadata.csv", index=False)
    return meta
