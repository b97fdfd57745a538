"""Exploratory views of the corpus for the data chapter: balance, durations, loudness, examples.

Functions that compute return DataFrames; functions named ``plot_*`` draw on a new matplotlib
figure and return it, so notebooks only call and show.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.feature_selection import f_classif

from genrelab.constants import PROTOCOLS
from genrelab.data.audio import load
from genrelab.data.manifest import usable_tracks
from genrelab.parallel import failures, map_tracks

HIGH_CORRELATION = 0.9  # |Pearson r| above which two features count as near-redundant


def loudness(manifest: pd.DataFrame, root: str | Path, *, sr: int = 22050, jobs: int = 1) -> pd.DataFrame:
    """RMS and peak level (dBFS) of every usable track.

    Returns a DataFrame with ``track_id, genre, rms_dbfs, peak_dbfs``; 0 dBFS is a full-scale
    sine's peak, so a full-scale sine has an RMS of about -3 dBFS.
    """
    ok = usable_tracks(manifest)
    levels = map_tracks(_levels, [(Path(root) / p, sr) for p in ok["path"]], jobs=jobs, progress=False)
    if failed := failures(levels):  # usable tracks decoded moments ago in the prepare stage
        raise failed[0].error
    table = ok[["track_id", "genre"]].reset_index(drop=True)
    table[["rms_dbfs", "peak_dbfs"]] = np.array(levels, dtype=float).reshape(-1, 2)
    return table


def _levels(path: Path, sr: int) -> tuple[float, float]:
    y, _ = load(path, sr=sr)
    eps = 1e-10
    return 20 * np.log10(np.sqrt(np.mean(y**2)) + eps), 20 * np.log10(np.max(np.abs(y)) + eps)


def plot_class_balance(manifest: pd.DataFrame) -> plt.Figure:
    """Tracks per class, stacked by status (used / excluded)."""
    counts = manifest.pivot_table(index="genre", columns="status", values="track_id", aggfunc="count", fill_value=0)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    counts.plot.bar(stacked=True, ax=ax, color={"ok": "#4c72b0", "excluded": "#dd8452"})
    ax.set_xlabel("class")
    ax.set_ylabel("tracks")
    ax.set_title("Class balance")
    fig.tight_layout()
    return fig


def plot_durations(manifest: pd.DataFrame) -> plt.Figure:
    """Histogram of clip durations (s) of usable tracks."""
    durations = pd.to_numeric(usable_tracks(manifest)["duration_s"])
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(durations, bins=30, color="#4c72b0")
    ax.set_xlabel("duration (s)")
    ax.set_ylabel("tracks")
    ax.set_title(f"Durations: {durations.min():.2f}–{durations.max():.2f} s")
    fig.tight_layout()
    return fig


def plot_loudness(levels: pd.DataFrame) -> plt.Figure:
    """RMS level per class as box plots: a class that is simply louder is an easy, shallow cue."""
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(8, 3.5))
    sns.boxplot(data=levels, x="genre", y="rms_dbfs", ax=ax, color="#8da0cb")
    ax.set_xlabel("class")
    ax.set_ylabel("RMS level (dBFS)")
    ax.set_title("Loudness per class")
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    return fig


def plot_example_spectrograms(
    manifest: pd.DataFrame, root: str | Path, *, sr: int = 22050, seconds: float = 10.0, n_mels: int = 128
) -> plt.Figure:
    """One log-mel spectrogram per class (the first usable track of each), first ``seconds`` s."""
    import librosa
    import librosa.display

    ok = usable_tracks(manifest).sort_values("track_id")
    examples = ok.groupby("genre", sort=True).head(1)
    n = len(examples)
    cols = min(n, 5)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False, sharey=True)
    for ax, track in zip(axes.flat, examples.itertuples(index=False)):
        y, _ = load(Path(root) / track.path, sr=sr)
        y = y[: int(seconds * sr)]
        mel = librosa.feature.melspectrogram(y=y, sr=sr, n_mels=n_mels)
        image = librosa.display.specshow(
            librosa.power_to_db(mel, ref=np.max), sr=sr, x_axis="time", y_axis="mel", ax=ax, cmap="magma"
        )
        ax.set_title(f"{track.genre}\n{track.track_id}", fontsize=9)
        ax.label_outer()
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.colorbar(image, ax=axes, format="%+.0f dB", shrink=0.8)
    return fig


def plot_feature_distributions(table: pd.DataFrame, labels, features: list[str]) -> plt.Figure:
    """Per-class box plots of a few features (one panel each), from a features table."""
    import seaborn as sns

    data = table[features].assign(genre=np.asarray(labels, dtype=object))
    cols = 2
    rows = int(np.ceil(len(features) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.8 * rows), squeeze=False)
    for ax, feature in zip(axes.flat, features):
        sns.boxplot(data=data, x="genre", y=feature, ax=ax, color="#8da0cb", fliersize=1)
        ax.set_xlabel("")
        ax.tick_params(axis="x", rotation=45, labelsize=8)
    for ax in list(axes.flat)[len(features):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_correlation(table: pd.DataFrame, features: list[str]) -> plt.Figure:
    """Pearson correlation between features: blocks of redundant features show as squares."""
    import seaborn as sns

    corr = table[features].corr()
    fig, ax = plt.subplots(figsize=(11, 9))
    sns.heatmap(corr, cmap="vlag", center=0, vmin=-1, vmax=1, ax=ax, xticklabels=True, yticklabels=True,
                cbar_kws={"label": "Pearson r"})
    ax.tick_params(labelsize=6)
    ax.set_title("Feature correlation")
    fig.tight_layout()
    return fig


def plot_feature_variance(table: pd.DataFrame, features: list[str]) -> plt.Figure:
    """Variance of each feature after scaling by its mean (coefficient of variation), log scale.

    Raw variances span many orders of magnitude (a spectral centroid in Hz against a ZCR in
    [0, 1]), which is why every model scales its inputs."""
    values = table[features]
    cv = (values.std() / values.mean().abs().replace(0, np.nan)).sort_values()
    fig, ax = plt.subplots(figsize=(11, 3.5))
    ax.bar(range(len(cv)), cv.to_numpy(), color="#4c72b0")
    ax.set_xticks(range(len(cv)), cv.index, rotation=90, fontsize=6)
    ax.set_yscale("log")
    ax.set_ylabel("std / |mean|")
    ax.set_title("Spread of each feature (coefficient of variation)")
    fig.tight_layout()
    return fig


def data_finding(manifest: pd.DataFrame, splits: pd.DataFrame, duplicates: pd.DataFrame) -> str:
    """The data chapter's opening: files used and excluded, classes, duplicates, the most honest test set."""
    ok = usable_tracks(manifest)
    excluded = len(manifest) - len(ok)
    cross = int(duplicates["cross_label"].astype(bool).sum()) if len(duplicates) else 0
    honest = [p for p in PROTOCOLS if p in splits.columns][-1]  # canonical order: the most honest last
    n_test = int((splits[honest] == "test").sum())
    dropped = f"{excluded} excluded, each listed below with its reason" if excluded else "none excluded"
    return (f"**{len(ok)} of {len(manifest)} audio files are used** ({dropped}), {ok['genre'].nunique()} classes "
            f"and {pd.to_numeric(ok['duration_s']).sum() / 3600:.2f} h of audio. The duplicate search found "
            f"{len(duplicates)} pair(s), {cross} of them across labels; the grouped protocols keep each pair on one "
            f"side of the split. The most honest protocol here, `{honest}`, tests {n_test} tracks.")


def features_finding(clips: pd.DataFrame, columns: list[str]) -> str:
    """The features chapter's opening: table size, the single most separating feature, near-redundant pairs."""
    X = clips[columns].to_numpy(dtype=float)
    labels = clips["label"].to_numpy(dtype=object)
    f_stat, _ = f_classif(X, labels)
    best = columns[int(pd.Series(f_stat).fillna(-1).to_numpy().argmax())]
    r = clips[columns].corr().abs().to_numpy()
    pairs = int(((r > HIGH_CORRELATION).sum() - len(columns)) // 2)  # off-diagonal, each pair once
    return (f"**Every clip gets the {len(columns)} columns of the public GTZAN tables** ({len(clips)} clips here). "
            f"On its own, `{best}` separates the classes best (one-way ANOVA F = {f_stat.max():.0f}); "
            f"{pairs} pair(s) of features correlate beyond |r| = {HIGH_CORRELATION:g}, so the columns carry less "
            "information than their count suggests.")
