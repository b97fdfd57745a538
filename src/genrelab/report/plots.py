"""Figures shared by the model chapters. Each ``plot_*`` returns a new matplotlib figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

PROTOCOL_COLORS = {
    "random_segment": "#c44e52",
    "track_grouped": "#dd8452",
    "artist_grouped": "#4c72b0",
    "fault_filtered": "#55a868",
    "fma_official": "#55a868",  # FMA's counterpart of fault_filtered; a study has one or the other
}


def plot_leakage(scores: pd.DataFrame, level: str, title: str = "") -> plt.Figure:
    """Test accuracy of each model under each protocol, with 95 % bootstrap intervals.

    Parameters
    ----------
    scores : rows of the results table; bars are labelled by ``model`` (prefixed by ``approach``
        when several approaches are drawn).
    level : which level's rows to draw (``segment``, ``track`` or ``clip``).
    """
    rows = scores[scores["level"] == level]
    if "approach" in rows and rows["approach"].nunique() > 1:  # model names repeat across approaches
        rows = rows.assign(model=rows["approach"] + "\n" + rows["model"])
    models = list(dict.fromkeys(rows.sort_values("accuracy", ascending=False)["model"]))
    protocols = [p for p in PROTOCOL_COLORS if p in set(rows["protocol"])]
    width = 0.8 / max(len(protocols), 1)
    fig, ax = plt.subplots(figsize=(max(6, 0.75 * len(models) + 2), 3.8))
    for i, protocol in enumerate(protocols):
        part = rows[rows["protocol"] == protocol].set_index("model").reindex(models)
        x = np.arange(len(models)) + (i - (len(protocols) - 1) / 2) * width
        err = np.vstack([part["accuracy"] - part["ci_low"], part["ci_high"] - part["accuracy"]]) * 100
        ax.bar(x, part["accuracy"] * 100, width, yerr=err, capsize=2, label=protocol,
               color=PROTOCOL_COLORS[protocol], error_kw={"elinewidth": 0.8})
    ax.set_xticks(np.arange(len(models)), models, rotation=30, ha="right")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(title="protocol", fontsize=8, ncols=len(protocols), loc="upper right")
    ax.set_title(title or f"Accuracy by protocol ({level} level)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_confusion(confusion: pd.DataFrame, title: str = "", ax: plt.Axes | None = None) -> plt.Figure:
    """Row-normalised confusion matrix (rows: true class, columns: predicted), counts annotated."""
    import seaborn as sns

    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 4.8))
    else:
        fig = ax.figure
    share = confusion.div(confusion.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    sns.heatmap(share, annot=confusion.to_numpy(), fmt="d", cmap="Blues", vmin=0, vmax=1, cbar=False, ax=ax,
                annot_kws={"fontsize": 7})
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_importances(importances: pd.Series, title: str, top: int = 20) -> plt.Figure:
    """Horizontal bars of the ``top`` largest importances."""
    top_values = importances.sort_values(ascending=False).head(top)[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.25 * len(top_values) + 1))
    ax.barh(top_values.index, top_values.to_numpy(), color="#4c72b0")
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    return fig


def plot_learning_curves(history: pd.DataFrame, title: str = "", ax=None):
    """Loss and accuracy per epoch, training vs validation, with phase changes marked.

    Parameters
    ----------
    history : a table with :data:`genrelab.approaches.cnn.HISTORY_COLUMNS` (a CNN's ``history_``,
        or read back from a learning-curve CSV).
    ax : two matplotlib axes (loss, accuracy), or None for a new figure.

    Returns
    -------
    The matplotlib Figure.
    """
    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    else:
        fig = ax[0].figure
    for axis, metric in zip(ax, ("loss", "accuracy")):
        axis.plot(history["epoch"], history[metric], marker="o", label="training")
        axis.plot(history["epoch"], history[f"val_{metric}"], marker="o", label="validation")
        for epoch in history["epoch"][history["phase"].ne(history["phase"].shift()).to_numpy()][1:]:
            axis.axvline(epoch - 0.5, color="grey", linestyle=":", linewidth=1)
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
    ax[0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
