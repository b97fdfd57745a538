"""The comparison's figures: leaderboard, the price of peeking, per-genre F1, confusion matrices, leakage, cost.
Each ``plot_*`` returns a new matplotlib figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from genrelab.report import plots
from genrelab.report.compare.tables import STUDY, PROTOCOL_MARKERS, approach_order, most_honest, protocols_present


def plot_leaderboard(selected: pd.DataFrame, title: str = "") -> plt.Figure:
    """The leaderboard as a figure: one panel per protocol, leaky (left) to honest (right); in each,
    every approach's selected entry (:func:`~genrelab.report.compare.tables.selected_entries`) as its
    test accuracy (%) with the 95 % CI.

    Approaches are ordered by their selection rank under the most honest protocol, first on top.
    """
    protocols = protocols_present(selected)
    honest = most_honest(selected)
    order = selected.loc[selected["protocol"] == honest, "approach"].tolist()
    order += [a for a in dict.fromkeys(selected["approach"]) if a not in order]
    fig, axes = plt.subplots(1, len(protocols), figsize=(2.6 * len(protocols) + 2.2, 0.42 * len(order) + 1.6),
                             sharey=True, squeeze=False)  # fmt: skip
    y = np.arange(len(order))
    for ax, protocol in zip(axes[0], protocols):
        part = selected[selected["protocol"] == protocol].set_index("approach").reindex(order)
        err = 100 * np.vstack([part["accuracy"] - part["ci_low"], part["ci_high"] - part["accuracy"]])
        ax.errorbar(100 * part["accuracy"], y, xerr=err, fmt=PROTOCOL_MARKERS.get(protocol, "o"), ms=4,
                    color=plots.PROTOCOL_COLORS.get(protocol, "gray"), elinewidth=1, capsize=2)
        ax.set_title(protocol + (" (most honest)" if protocol == honest else ""), fontsize=9)
        ax.set_xlim(0, 105)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel("test accuracy (%)")
    axes[0][0].set_yticks(y, order, fontsize=8)
    axes[0][0].invert_yaxis()
    fig.suptitle(title or f"Each approach's selected entry with its 95 % CI, ordered by selection under {honest}",
                 fontsize=10)
    fig.tight_layout()
    return fig


def plot_oracle_gap(gap: pd.DataFrame, title: str = "") -> plt.Figure:
    """The price of peeking (:func:`~genrelab.report.compare.tables.oracle_gap`): one panel per protocol
    (leaky to honest), per approach the selected entry's test accuracy (dot) and the best-on-test
    entry's (open circle), joined by the gap."""
    protocols = [p for p in protocols_present(gap)]
    approaches = [a for a in approach_order(set(gap["approach"]) - {STUDY})] + [STUDY]
    fig, axes = plt.subplots(1, len(protocols), figsize=(3.2 * len(protocols) + 2.2, 0.42 * len(approaches) + 1.6),
                             sharey=True, squeeze=False)  # fmt: skip
    for ax, protocol in zip(axes[0], protocols):
        part = gap[gap["protocol"] == protocol].set_index("approach").reindex(approaches)
        y = np.arange(len(approaches))
        chosen, oracle = 100 * part["selected_accuracy"], 100 * part["oracle_accuracy"]
        ax.hlines(y, chosen, oracle, color="#d62728", lw=2, zorder=1)
        ax.scatter(chosen, y, color="#1f77b4", s=30, zorder=2, label="selected (training data)")
        ax.scatter(oracle, y, facecolors="none", edgecolors="#d62728", s=40, zorder=3, label="best on test (oracle)")
        ax.set_title(protocol, fontsize=9)
        ax.set_xlim(0, 105)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel("test accuracy (%)")
    axes[0][0].set_yticks(range(len(approaches)), approaches, fontsize=8)
    axes[0][0].invert_yaxis()
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.suptitle(title or "The price of peeking: chosen inside the training data vs. chosen on the test set", fontsize=10)
    fig.tight_layout()
    return fig


def plot_genre_f1(table: pd.DataFrame, title: str = "") -> plt.Figure:
    """Heatmap of :func:`per_genre_f1` (F1 in [0, 1], annotated)."""
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(0.6 * table.shape[1] + 4, 0.45 * len(table) + 1.6))
    sns.heatmap(table, annot=True, fmt=".2f", cmap="viridis", vmin=0, vmax=1, ax=ax, annot_kws={"fontsize": 7},
                cbar_kws={"label": "F1"})
    ax.set_xlabel("genre")
    ax.set_ylabel("")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_confusions(matrices: dict[str, pd.DataFrame], ncols: int = 3) -> plt.Figure:
    """Row-normalised confusion matrices side by side (``ncols`` per row), titled by entry."""
    n = max(len(matrices), 1)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, min(n, ncols), figsize=(4.6 * min(n, ncols), 4.2 * nrows), squeeze=False)
    for ax, (label, matrix) in zip(axes.flat, matrices.items()):
        plots.plot_confusion(matrix, label.replace(" / ", "\n", 1), ax=ax)
    for ax in axes.flat[len(matrices):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_leakage(table: pd.DataFrame, title: str = "") -> plt.Figure:
    """Dumbbell chart of :func:`leakage`: per approach, a dot per protocol on a line from lowest to highest."""
    protocols = [c for c in table.columns if c != "gap_points"]
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * len(table) + 1.6))
    y = np.arange(len(table))
    values = 100 * table[protocols].to_numpy(dtype=float)
    ax.hlines(y, np.nanmin(values, axis=1), np.nanmax(values, axis=1), color="#bbbbbb", lw=2, zorder=1)
    for i, protocol in enumerate(protocols):
        ax.scatter(values[:, i], y, s=40, zorder=2, label=protocol, marker=PROTOCOL_MARKERS.get(protocol, "o"),
                   color=plots.PROTOCOL_COLORS.get(protocol, "gray"))
    for yi, gap, right in zip(y, table["gap_points"], np.nanmax(values, axis=1)):
        if np.isfinite(gap):
            ax.annotate(f"{gap:+.1f} pt", (right, yi), xytext=(6, 0), textcoords="offset points", va="center",
                        fontsize=8)
    ax.set_yticks(y, table.index)
    ax.invert_yaxis()
    ax.set_xlim(0, 105)
    ax.set_xlabel("test accuracy (%) of the selected entry")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(title="protocol", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(title or "Leakage: each approach's selected entry per protocol", fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------- cost


def plot_cost(board: pd.DataFrame, title: str = "") -> plt.Figure:
    """Accuracy against fit time and against prediction time (log seconds), one colour per approach.

    ``board`` is one protocol's leaderboard rows. Times are floored at 1 ms so that a
    near-instant model (the dummy baseline) stays on the log axis.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    colors = dict(zip(approach_order(board["approach"].unique()), plt.get_cmap("tab10").colors))
    for ax, column, what in zip(axes, ("fit_seconds", "predict_seconds"), ("fit", "prediction of the test set")):
        for approach, color in colors.items():
            part = board[board["approach"] == approach]
            ax.scatter(part[column].clip(lower=1e-3), 100 * part["accuracy"], label=approach, s=25, color=color)
        ax.set_xscale("log")
        ax.set_xlabel(f"{what} (s, log scale)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy (%)")
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.suptitle(title or "Cost against accuracy", fontsize=10)
    fig.tight_layout()
    return fig
