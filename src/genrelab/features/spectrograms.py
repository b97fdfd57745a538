"""Log-mel spectrograms of every usable track, per segment and per clip, plus pictures of them.

The ``spectrograms`` stage writes one folder that the image approaches (:mod:`genrelab.approaches.image_models`)
and the CNNs (:mod:`genrelab.approaches.cnn`) read. Its contract:

``out_dir/segments.npy``
    float32, shape (n_segments, n_mels, n_frames): one log-mel spectrogram in dB per segment,
    computed from exactly the samples :func:`genrelab.features.segments.segment_bounds` gives, so segment
    ``k`` is the same audio in every approach. ``n_frames = 1 + round(segment_seconds * sr) //
    hop_length`` (130 for 3 s at 22050 Hz and hop 512); a short last segment (a clip slightly
    under 30 s) gets its missing frames at the end, at the dB floor (``top_db`` below its maximum,
    i.e. silence).
``out_dir/segments.csv``
    ``track_id, segment, genre``, one row per row of ``segments.npy``, in the same order: tracks
    sorted by ``track_id``, segments in time order (``segment`` is 0-based).
``out_dir/clips.npy``
    float32, shape (n_tracks, n_mels, n_clip_frames): one spectrogram per whole clip. Clips are
    brought to a common length of ``clip_seconds`` before the STFT: longer clips lose their end,
    shorter ones are zero-padded at the end (silence, which shows as the dB floor), so
    ``n_clip_frames = 1 + round(clip_seconds * sr) // hop_length`` (1292 for 30 s).
``out_dir/clips.csv``
    ``track_id, genre``, one row per row of ``clips.npy``, same track order as the segments.
``out_dir/meta.json``
    the settings (``sr``, ``n_mels``, ``n_fft``, ``hop_length``, ``fmin``, ``fmax``, ``ref``,
    ``top_db``, ``segment_seconds``, ``clip_seconds``) needed to label axes or map mel bands to Hz.
``out_dir/png/<genre>/<track_id>.png``
    a small picture of each clip's spectrogram (time in s, mel-scaled frequency axis labelled in
    Hz, colour bar in dB), for a person to look at.

Values are ``10 log10`` of mel power (computed by :mod:`genrelab.features.log_mel`). With
``ref="max"`` each spectrogram (each segment, each clip) is referenced to its own loudest bin, so
it spans ``[-top_db, 0]`` dB and loudness differences between tracks are removed; with
``ref="unit"`` 0 dB is power 1.0 and the level is kept (values still clipped to ``top_db`` below
each spectrogram's maximum). Only manifest rows with ``status == "ok"`` are used. Read the arrays
with :func:`load_segments` and :func:`load_clips` (memory-mapped by default: the full GTZAN segment
array is about 670 MB).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.data import audio, checks
from genrelab.data.manifest import usable_tracks
from genrelab.errors import AudioError, DataError
from genrelab.features.log_mel import SpectrogramSettings, log_mel, segment_spectrograms
from genrelab.features.log_mel import REFS, mel_band_centres  # noqa: F401 - importable from here too, as before
from genrelab.parallel import load_entry, save_entry

_REQUIRED_COLUMNS = ("track_id", "path", "genre", "status")


@dataclass(frozen=True)
class SpectrogramSet:
    """What :func:`compute_spectrograms` wrote (for the stage's metrics)."""

    out_dir: Path
    n_tracks: int
    n_segments: int
    segment_shape: tuple[int, int]  # (n_mels, n_frames)
    clip_shape: tuple[int, int]  # (n_mels, n_clip_frames)
    cache_hits: int  # tracks read from the cache instead of decoded
    problems: tuple[checks.Problem, ...] = ()  # tracks that failed to decode, left out of every array


def compute_spectrograms(
    manifest: pd.DataFrame,
    root: str | Path,
    out_dir: str | Path,
    *,
    sr: int = audio.DEFAULT_SR,
    n_mels: int = 128,
    n_fft: int = 2048,
    hop_length: int = 512,
    fmin: float = 0.0,
    fmax: float = 11025.0,
    ref: str = "max",
    top_db: float = 80.0,
    segment_seconds: float = 3.0,
    clip_seconds: float = 30.0,
    png: bool = True,
    image_dpi: int = 100,
    jobs: int = 2,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    strict: bool = False,
) -> SpectrogramSet:
    """Write the log-mel spectrograms of every ``ok`` track of ``manifest`` to ``out_dir``.

    A track that fails to decode (it passed the manifest's checks, so its file changed since) is
    left out of every array and listed in the result's ``problems``; the others are all written.
    With ``strict`` such a failure raises :class:`AudioError` and nothing is written.

    Parameters
    ----------
    manifest : the corpus manifest (``track_id, path, genre, status``; ``md5`` if present keys the
        cache). ``path`` is relative to ``root``.
    root : the data root the manifest's paths are relative to.
    out_dir : output folder; see the module docstring for its files.
    sr : sample rate in Hz the audio is resampled to.
    n_mels, n_fft, hop_length, fmin, fmax : mel filter bank and STFT (samples, Hz).
    ref : ``"max"`` (0 dB at each spectrogram's loudest bin) or ``"unit"`` (0 dB = power 1).
    top_db : dynamic range kept below each spectrogram's maximum, in dB.
    segment_seconds : segment length (cut by :func:`genrelab.features.segments.segment_bounds`).
    clip_seconds : common clip length; longer clips are trimmed, shorter ones zero-padded.
    png : also draw ``out_dir/png/<genre>/<track_id>.png`` (``image_dpi`` dots per inch).
    jobs : worker processes (joblib); 1 runs in this process.
    cache_dir : per-track cache, reused when a track and the settings are unchanged, so an
        interrupted run resumes; defaults to ``out_dir/cache``. Point it outside ``out_dir`` when
        a pipeline tool deletes stage outputs before a rerun.
    progress : show a progress bar over tracks.
    strict : raise instead of leaving failed tracks out.
    """
    from genrelab.parallel import Failure, map_tracks

    settings = SpectrogramSettings(
        sr=sr, n_mels=n_mels, n_fft=n_fft, hop_length=hop_length, fmin=fmin, fmax=fmax, ref=ref,
        top_db=top_db, segment_seconds=segment_seconds, clip_seconds=clip_seconds,
    )  # fmt: skip
    tracks = _usable_tracks(manifest)
    root, out_dir = Path(root), Path(out_dir)
    cache = Path(cache_dir) if cache_dir is not None else out_dir / "cache"
    cache = cache / settings.key()
    cache.mkdir(parents=True, exist_ok=True)

    tasks = [
        (root / t.path, _source_key(root / t.path, t.md5), cache / f"{t.track_id}.npz",
         out_dir / "png" / t.genre.replace("/", "-") / f"{t.track_id}.png" if png else None)  # FMA: "Old-Time / Historic"
        for t in tracks.itertuples(index=False)
    ]  # fmt: skip
    results = map_tracks(_track_spectrograms, [(*task, settings, image_dpi) for task in tasks], jobs=jobs,
                         desc="spectrograms", progress=progress)  # fmt: skip
    ok = [not isinstance(r, Failure) for r in results]
    problems = tuple(
        checks.failure(path, r.error, "left out of the spectrograms", path=r.item[0])
        for path, r in zip(tracks["path"], results) if isinstance(r, Failure)
    )  # fmt: skip
    if problems and (strict or not any(ok)):
        lines = "\n".join(p.line() for p in problems)
        error = AudioError if any(ok) else DataError  # the CLI's exit status 1 (strict) or 2 (nothing usable)
        raise error(f"{len(problems)} of {len(tracks)} tracks failed to decode; nothing written:\n{lines}")

    tracks = tracks[ok].reset_index(drop=True)
    done = [r for r in results if not isinstance(r, Failure)]
    n_segments = _assemble(tracks, [cache_file for cache_file, _ in done], [count for _, (_, count) in done],
                           out_dir, settings)  # fmt: skip
    (out_dir / "meta.json").write_text(json.dumps(settings.__dict__, indent=2, sort_keys=True) + "\n")
    return SpectrogramSet(
        out_dir=out_dir,
        n_tracks=len(tracks),
        n_segments=n_segments,
        segment_shape=(settings.n_mels, settings.n_frames),
        clip_shape=(settings.n_mels, settings.n_clip_frames),
        cache_hits=sum(hit for _, (hit, _) in done),
        problems=problems,
    )


def load_segments(out_dir: str | Path, mmap: bool = True) -> tuple[np.ndarray, pd.DataFrame]:
    """Read the segment spectrograms.

    Returns
    -------
    X : float32, shape (n_segments, n_mels, n_frames); read-only memory map if ``mmap``.
    index : ``track_id, segment, genre``, one row per row of ``X``.
    """
    return _load(Path(out_dir), "segments", mmap, {"track_id": str, "segment": "int64", "genre": str})


def load_clips(out_dir: str | Path, mmap: bool = True) -> tuple[np.ndarray, pd.DataFrame]:
    """Read the clip spectrograms: X float32 (n_tracks, n_mels, n_clip_frames), index ``track_id, genre``."""
    return _load(Path(out_dir), "clips", mmap, {"track_id": str, "genre": str})


def load_meta(out_dir: str | Path) -> SpectrogramSettings:
    """The settings the spectrograms in ``out_dir`` were computed with."""
    path = Path(out_dir) / "meta.json"
    if not path.exists():
        raise DataError(f"{path}: not found. Run the spectrograms stage (dvc repro spectrograms) first.")
    return SpectrogramSettings(**json.loads(path.read_text()))


def show_spectrogram(S: np.ndarray, settings: SpectrogramSettings, ax, *, colorbar: bool = True, title: str = ""):
    """Draw ``S`` (dB, shape (n_mels, n_frames)) on ``ax``: time in s, mel-scaled frequency in Hz.

    The y axis runs in mel units (librosa's Slaney scale) so every band has the same height, and
    its ticks are labelled in Hz; draw on it with :func:`hz_to_axis`. It uses ``imshow`` (one
    image) rather than ``librosa.display.specshow`` (a mesh of every cell), which is cheaper for
    the PNG drawn per track.

    Returns the AxesImage (for a shared colour bar).
    """
    import librosa

    lo, hi = librosa.hz_to_mel(settings.fmin), librosa.hz_to_mel(settings.fmax)
    # Band i of the filter bank peaks at lo + (i + 1) * step: centre each image row on it.
    step = (hi - lo) / (settings.n_mels + 1)
    seconds = S.shape[1] * settings.hop_length / settings.sr
    image = ax.imshow(
        S, origin="lower", aspect="auto", interpolation="nearest", cmap="magma",
        extent=(0, seconds, lo + step / 2, hi - step / 2),
    )  # fmt: skip
    ticks = [f for f in (0, 512, 1024, 2048, 4096, 8192, 16384) if settings.fmin <= f <= settings.fmax]
    ax.set_yticks(hz_to_axis(ticks), labels=[f"{f:g}" for f in ticks])
    ax.set(title=title, xlabel="time (s)", ylabel="frequency (Hz)")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, format="%+.0f dB")
    return image


def hz_to_axis(hz) -> np.ndarray:
    """Y coordinate on a :func:`show_spectrogram` axis of frequencies in Hz."""
    import librosa

    return np.asarray(librosa.hz_to_mel(np.asarray(hz, dtype=float)))


def plot_examples(out_dir: str | Path, *, level: str = "clips", ncols: int = 5, width: float = 15.0):
    """One spectrogram per genre (its first track by id) in a grid, for the book.

    Parameters
    ----------
    out_dir : a spectrograms stage output.
    level : ``"clips"`` (whole clips) or ``"segments"`` (segment 0 of each example track).
    ncols : panels per row.
    width : figure width in inches.

    Returns a matplotlib Figure.
    """
    from matplotlib.figure import Figure

    if level not in ("clips", "segments"):
        raise DataError(f"plot_examples: level must be 'clips' or 'segments', got {level!r}")
    X, index = load_clips(out_dir) if level == "clips" else load_segments(out_dir)
    settings = load_meta(out_dir)
    rows = example_rows(index)
    nrows = -(-len(rows) // ncols)
    fig = Figure(figsize=(width, 2.4 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    for ax, (genre, row) in zip(axes.flat, rows.items()):
        mesh = show_spectrogram(X[row], settings, ax, colorbar=False, title=f"{genre} ({index['track_id'].iloc[row]})")
        ax.label_outer()
    for ax in axes.flat[len(rows) :]:
        ax.set_axis_off()
    fig.colorbar(mesh, ax=axes, format="%+.0f dB", shrink=0.8)
    return fig


def example_rows(index: pd.DataFrame) -> dict[str, int]:
    """Genre -> row of ``index`` of its example: the first row of the first track (by id)."""
    order = index.sort_values(["genre", "track_id"], kind="stable")
    first = order.drop_duplicates("genre")
    return dict(zip(first["genre"].astype(str), first.index.to_numpy()))


def _usable_tracks(manifest: pd.DataFrame) -> pd.DataFrame:
    missing = set(_REQUIRED_COLUMNS) - set(manifest.columns)
    if missing:
        raise DataError(f"the manifest lacks columns {sorted(missing)}; rebuild it with the prepare stage.")
    tracks = usable_tracks(manifest)
    if tracks.empty:
        raise DataError("the manifest has no tracks with status 'ok': nothing to compute. Check data.root.")
    if "md5" not in tracks.columns:
        tracks["md5"] = ""
    tracks["md5"] = tracks["md5"].fillna("").astype(str)
    tracks = tracks[["track_id", "path", "genre", "md5"]].astype(str)
    return tracks.sort_values("track_id", kind="stable").reset_index(drop=True)


def _source_key(path: Path, md5: str) -> str:
    """What identifies a track's audio for the cache: its md5, else its size and mtime."""
    if md5:
        return md5
    try:
        stat = path.stat()
    except OSError:
        return ""  # load() raises the clear error later
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def _track_spectrograms(
    path: Path, source: str, cache_file: Path, png_file: Path | None, settings: SpectrogramSettings, dpi: int
) -> tuple[Path, tuple[bool, int]]:
    """Compute (or reuse) one track's spectrograms into ``cache_file``.

    Returns ``(cache_file, (cache hit?, number of segments))``.
    """
    hit = _cache_valid(cache_file, source)
    if not hit:
        _write_cache(cache_file, source, *_compute_track(path, settings))
    with np.load(cache_file) as cached:
        n_segments = cached["segments"].shape[0]
        # A recomputed track gets a new picture too (the settings may have changed).
        if png_file is not None and (not hit or not png_file.exists()):
            _save_png(cached["clip"], settings, png_file, dpi, title=path.stem)
    return cache_file, (hit, n_segments)


def _compute_track(path: Path, settings: SpectrogramSettings) -> tuple[np.ndarray, np.ndarray]:
    """Segment spectrograms (n_segments, n_mels, n_frames) and clip spectrogram (n_mels, n_clip_frames)."""
    y, _ = audio.load(path, sr=settings.sr)
    n = settings.clip_samples
    clip = log_mel(y[:n] if len(y) >= n else np.pad(y, (0, n - len(y))), settings)
    return segment_spectrograms(y, settings), clip


def _cache_valid(cache_file: Path, source: str) -> bool:
    stored = load_entry(cache_file, ("source",)) if source else None
    return stored is not None and str(stored["source"]) == source


def _write_cache(cache_file: Path, source: str, segments: np.ndarray, clip: np.ndarray) -> None:
    save_entry(cache_file, segments=segments, clip=clip, source=np.array(source))


def _save_png(S: np.ndarray, settings: SpectrogramSettings, png_file: Path, dpi: int, title: str) -> None:
    from matplotlib.figure import Figure

    png_file.parent.mkdir(parents=True, exist_ok=True)
    # Fixed margins: a layout engine would double the ~0.15 s CPU each picture costs.
    fig = Figure(figsize=(5, 2.2))
    fig.subplots_adjust(left=0.14, right=0.98, bottom=0.2, top=0.88)
    show_spectrogram(S, settings, fig.add_subplot(), title=title)
    fig.savefig(png_file, dpi=dpi)


def _assemble(
    tracks: pd.DataFrame, cache_files: list[Path], counts: list[int], out_dir: Path, settings: SpectrogramSettings
) -> int:
    """Copy the cached per-track arrays into ``segments.npy``/``clips.npy`` (memory-mapped, so
    the full corpus never sits in RAM) and write the index tables. Returns n_segments."""
    out_dir.mkdir(parents=True, exist_ok=True)
    segs = np.lib.format.open_memmap(
        out_dir / "segments.npy", mode="w+", dtype=np.float32,
        shape=(sum(counts), settings.n_mels, settings.n_frames),
    )  # fmt: skip
    clips = np.lib.format.open_memmap(
        out_dir / "clips.npy", mode="w+", dtype=np.float32,
        shape=(len(tracks), settings.n_mels, settings.n_clip_frames),
    )  # fmt: skip
    row = 0
    for i, (cache_file, count) in enumerate(zip(cache_files, counts)):
        with np.load(cache_file) as cached:
            segs[row : row + count] = cached["segments"]
            clips[i] = cached["clip"]
        row += count
    segs.flush()
    clips.flush()
    del segs, clips

    ids, genres = tracks["track_id"].to_numpy(dtype=object), tracks["genre"].to_numpy(dtype=object)
    segment = np.concatenate([np.arange(c, dtype=np.int64) for c in counts])
    pd.DataFrame({"track_id": np.repeat(ids, counts), "segment": segment, "genre": np.repeat(genres, counts)}).to_csv(
        out_dir / "segments.csv", index=False
    )
    pd.DataFrame({"track_id": ids, "genre": genres}).to_csv(out_dir / "clips.csv", index=False)
    return int(sum(counts))


def _load(out_dir: Path, name: str, mmap: bool, dtypes: dict) -> tuple[np.ndarray, pd.DataFrame]:
    array_path, index_path = out_dir / f"{name}.npy", out_dir / f"{name}.csv"
    for path in (array_path, index_path):
        if not path.exists():
            raise DataError(f"{path}: not found. Run the spectrograms stage (dvc repro spectrograms) first.")
    X = np.load(array_path, mmap_mode="r" if mmap else None)
    index = pd.read_csv(index_path, dtype=dtypes)
    if len(index) != len(X) or X.dtype != np.float32 or X.ndim != 3:
        raise DataError(
            f"{array_path} ({X.dtype}, shape {X.shape}) does not match {index_path} ({len(index)} rows); "
            "the stage was interrupted or the files come from different runs. Rerun the spectrograms stage."
        )
    return X, index
