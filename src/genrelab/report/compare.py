"""The comparison chapter: every approach side by side, from the results table and the predictions.

Everything here is a pure function of ``results/scores.csv`` (:data:`genrelab.evaluation.results.SCORE_COLUMNS`)
and ``results/predictions/*.parquet`` (:data:`genrelab.evaluation.results.PREDICTION_COLUMNS`): tables come
back as DataFrames, figures as new matplotlib figures, and the chapter's conclusions as Markdown
whose every number, name and ordering is read from those tables. An approach or protocol that is
absent from the results is simply absent from every table, figure and sentence.

Conventions
-----------
- A model *entry* is ``(approach, model, level)``; the same estimator name can be fitted on
  segments and on clips, and those are different entries.
- *Track scope* ranks the rows that predict one label per track: ``track`` rows (segment
  probabilities averaged per track) and ``clip`` rows (one 30 s example per track).
  *Segment scope* ranks ``segment`` rows.
- Accuracies, F1 scores and CI bounds are fractions in [0, 1]; gaps and differences called
  *points* are percentage points. Times are wall-clock seconds.
- The *most honest* protocol is the first present of ``fault_filtered > artist_grouped >
  track_grouped``; ``random_segment`` is the leaky reference.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import confusion_matrix, f1_score

from genrelab.data.sources.registry import get
from genrelab.errors import DataError
from genrelab.evaluation.results import PREDICTION_COLUMNS, SCORE_COLUMNS, stack_tables
from genrelab.report import plots

APPROACHES = (
    "audio_features",
    "spectrogram_pixels",
    "spectrogram_hog",
    "spectrogram_shelf",
    "cnn_scratch",
    "cnn_transfer",
    "musicnn_embeddings",
    "musicnn_finetune",
)
LEAKY = "random_segment"
HONEST_ORDER = ("fault_filtered", "artist_grouped", "track_grouped")  # most honest first
PROTOCOL_ORDER = (LEAKY, "track_grouped", "artist_grouped", "fault_filtered")  # leaky -> honest
SCOPES = {"track": ("track", "clip"), "segment": ("segment",)}
ENTRY = ["approach", "model", "level"]
PROTOCOL_MARKERS = {"random_segment": "o", "track_grouped": "s", "artist_grouped": "D", "fault_filtered": "^"}
RANDOM_WEIGHTS_TAG = "[random]"

# ---------------------------------------------------------------------------------------- inputs


def load_scores(path: str | Path = "results/scores.csv") -> pd.DataFrame:
    """The results table, checked for its columns."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} is missing: run the model stages and `dvc repro scores` first.")
    table = pd.read_csv(path)
    missing = set(SCORE_COLUMNS) - set(table.columns)
    if missing:
        raise DataError(f"{path} lacks columns {sorted(missing)}; rebuild it with `dvc repro scores`.")
    return table[SCORE_COLUMNS]


def load_predictions(pred_dir: str | Path = "results/predictions") -> pd.DataFrame:
    """Every approach's test predictions in one table; labels as Python strings (object dtype).

    Object dtype because pandas 3 reads Arrow-backed strings, which numpy fancy indexing and
    scikit-learn's label handling do not take as they are.
    """
    table = stack_tables(pred_dir, "parquet", PREDICTION_COLUMNS, "predictions")
    text = [c for c in PREDICTION_COLUMNS if c != "segment"]
    return table.astype({c: object for c in text}).astype({"segment": "int64"})


def model_sizes(models_dir: str | Path = "models", approaches=None) -> pd.DataFrame:
    """Size on disk of each saved model: the model stages write ``<approach>/<model>__<protocol>__<level>``
    with ``.joblib`` (scikit-learn) or ``.keras`` (Keras) under ``models_dir``. ``approaches``:
    only these folders (None: all).

    Returns ``approach, model_file, protocol, level, size_mb`` (MB = 10**6 bytes), sorted; empty
    when nothing was saved.
    """
    rows = []
    for path in sorted(Path(models_dir).glob("*/*")):
        if approaches is not None and path.parent.name not in set(approaches):
            continue
        parts = path.stem.split("__")
        if path.suffix in (".joblib", ".keras") and len(parts) == 3:
            rows.append({"approach": path.parent.name, "model_file": parts[0], "protocol": parts[1], "level": parts[2],
                         "size_mb": path.stat().st_size / 1e6})  # fmt: skip
    return pd.DataFrame(rows, columns=["approach", "model_file", "protocol", "level", "size_mb"])


# ----------------------------------------------------------------------------------- protocols


def protocols_present(scores: pd.DataFrame) -> list[str]:
    """Protocols in the table, leaky first, most honest last; unknown names (if any) at the end."""
    present = set(scores["protocol"])
    return [p for p in PROTOCOL_ORDER if p in present] + sorted(present - set(PROTOCOL_ORDER))


def most_honest(scores: pd.DataFrame) -> str:
    """The most honest protocol present (``fault_filtered > artist_grouped > track_grouped``).

    Falls back to ``random_segment`` when it is the only one, which the conclusions flag.
    """
    present = set(scores["protocol"])
    for protocol in (*HONEST_ORDER, LEAKY):
        if protocol in present:
            return protocol
    raise DataError(f"no known protocol in the results (found {sorted(present)})")


# ---------------------------------------------------------------------------------- leaderboard


def leaderboard(scores: pd.DataFrame, scope: str = "track") -> pd.DataFrame:
    """Every entry under every protocol, ranked by accuracy within each protocol.

    Parameters
    ----------
    scores : the results table.
    scope : ``track`` (track and clip rows) or ``segment``.

    Returns
    -------
    Columns ``protocol, rank`` (1 = best), the entry (``approach, model, level``), ``accuracy,
    ci_low, ci_high`` (95 % bootstrap interval over test tracks), ``macro_f1, n_test,
    fit_seconds, predict_seconds``. Protocols come most honest first; ties in accuracy go to
    the faster fit, then by name, so the order is stable.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {list(SCOPES)}, got {scope!r}")
    rows = scores[scores["level"].isin(SCOPES[scope])].copy()
    order = {p: i for i, p in enumerate(reversed(protocols_present(scores)))}
    rows["_order"] = rows["protocol"].map(order)
    rows = rows.sort_values(["_order", "accuracy", "fit_seconds", "approach", "model", "level"],
                            ascending=[True, False, True, True, True, True])
    rows["rank"] = rows.groupby("protocol").cumcount() + 1
    columns = ["protocol", "rank", *ENTRY, "accuracy", "ci_low", "ci_high", "macro_f1", "n_test",
               "fit_seconds", "predict_seconds"]
    return rows[columns].reset_index(drop=True)


def track_levels(scores: pd.DataFrame) -> pd.DataFrame:
    """Which rows make each approach's track-level results: ``track`` (averaged segments), ``clip``, or both."""
    rows = scores[scores["level"].isin(SCOPES["track"])]
    used = rows.groupby("approach")["level"].agg(lambda s: " and ".join(sorted(set(s))))
    return used.rename("track-level rows").reindex(_approach_order(used.index)).to_frame()


def best_per_approach(board: pd.DataFrame) -> pd.DataFrame:
    """The best entry of each approach under each protocol (the first row of each in ``board``)."""
    best = board.groupby(["protocol", "approach"], sort=False).head(1)
    return best.reset_index(drop=True)


def best_table(best: pd.DataFrame) -> pd.DataFrame:
    """Compact view of :func:`best_per_approach`: approaches by protocols (leaky to honest), each cell
    ``model (level) 71.2 [63.0, 79.1]`` (accuracy and 95 % CI in %)."""
    cells = best.assign(cell=[
        f"{r.model} ({r.level}) {100 * r.accuracy:.1f} [{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}]"
        for r in best.itertuples()
    ])
    wide = cells.pivot(index="approach", columns="protocol", values="cell")
    wide = wide.reindex(index=_approach_order(wide.index), columns=protocols_present(best))
    return wide.fillna("")


def as_percent(table: pd.DataFrame) -> pd.DataFrame:
    """A copy for display: accuracy, CI bounds and macro-F1 in %, one decimal; times to 3 significant digits."""
    out = table.copy()
    for column in ("accuracy", "ci_low", "ci_high", "macro_f1"):
        if column in out:
            out[column] = (100 * out[column]).round(1)
    for column in ("fit_seconds", "predict_seconds"):
        if column in out:
            out[column] = out[column].map(lambda s: float(f"{s:.3g}"))
    return out


def entry_label(row) -> str:
    """``approach / model (level)``: one entry's name in figures and sentences."""
    return f"{row.approach} / {row.model} ({row.level})"


def plot_leaderboard(board: pd.DataFrame, title: str = "") -> plt.Figure:
    """Point plot: one line per entry, accuracy (%) with its 95 % CI per protocol (colour and marker).

    Entries are ordered by their accuracy under the most honest protocol, best on top.
    """
    protocols = protocols_present(board)
    honest = most_honest(board)
    labels = board.assign(label=[entry_label(r) for r in board.itertuples()])
    order = labels[labels["protocol"] == honest]["label"].tolist()
    order += [x for x in dict.fromkeys(labels["label"]) if x not in order]
    y_of = {label: i for i, label in enumerate(order)}
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * len(order) + 1.5))
    step = 0.6 / max(len(protocols), 1)
    for i, protocol in enumerate(protocols):
        part = labels[labels["protocol"] == protocol]
        y = part["label"].map(y_of).to_numpy() + (i - (len(protocols) - 1) / 2) * step
        err = 100 * np.vstack([part["accuracy"] - part["ci_low"], part["ci_high"] - part["accuracy"]])
        ax.errorbar(100 * part["accuracy"], y, xerr=err, fmt=PROTOCOL_MARKERS.get(protocol, "o"), ms=4,
                    color=plots.PROTOCOL_COLORS.get(protocol, "gray"), elinewidth=0.8, capsize=2, label=protocol)
    ax.set_yticks(range(len(order)), order, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("test accuracy (%) with 95 % CI")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(title="protocol", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(title or f"All models, ordered by accuracy under {honest}", fontsize=10)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- per-genre results


def select(predictions: pd.DataFrame, row) -> pd.DataFrame:
    """The prediction rows of one entry under one protocol (``row`` has approach, model, level, protocol)."""
    mask = ((predictions["approach"] == row.approach) & (predictions["model"] == row.model)
            & (predictions["level"] == row.level) & (predictions["protocol"] == row.protocol))
    return predictions[mask]


def per_genre_f1(predictions: pd.DataFrame, picks: pd.DataFrame) -> pd.DataFrame:
    """F1 of each genre (columns, sorted) for each picked entry (rows, :func:`entry_label`).

    ``picks`` are leaderboard rows (e.g. the best of each approach under one protocol); entries
    without predictions are left out.
    """
    genres = sorted(set(predictions["y_true"]))
    rows = {}
    for row in picks.itertuples():
        part = select(predictions, row)
        if len(part):
            rows[entry_label(row)] = f1_score(part["y_true"].to_numpy(dtype=object), part["y_pred"].to_numpy(dtype=object),
                                              labels=genres, average=None, zero_division=0)
    return pd.DataFrame.from_dict(rows, orient="index", columns=genres)


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


def confusions(predictions: pd.DataFrame, picks: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Confusion counts (rows: true genre, columns: predicted; all genres of the predictions) per picked entry."""
    genres = sorted(set(predictions["y_true"]) | set(predictions["y_pred"]))
    out = {}
    for row in picks.itertuples():
        part = select(predictions, row)
        if len(part):
            counts = confusion_matrix(part["y_true"].to_numpy(dtype=object), part["y_pred"].to_numpy(dtype=object),
                                      labels=genres)
            out[entry_label(row)] = pd.DataFrame(counts, index=genres, columns=genres)
    return out


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


# ------------------------------------------------------------------------------------ leakage


def leakage(board: pd.DataFrame) -> pd.DataFrame:
    """Best accuracy of each approach under each protocol, and the leakage gap.

    Each protocol's best is the number a study would report under that protocol (the best model
    may differ between protocols). Returns one row per approach: one accuracy column per
    protocol (fractions, leaky to honest) and ``gap_points`` = (``random_segment`` minus the
    most honest protocol) x 100, NaN when either is missing.
    """
    best = best_per_approach(board)
    wide = best.pivot(index="approach", columns="protocol", values="accuracy")
    wide = wide.reindex(index=_approach_order(wide.index), columns=protocols_present(board))
    honest = most_honest(board)
    if LEAKY in wide and honest != LEAKY:
        wide["gap_points"] = 100 * (wide[LEAKY] - wide[honest])
    else:
        wide["gap_points"] = np.nan
    wide.columns.name = None
    return wide


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
    ax.set_xlabel("best test accuracy (%)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(title="protocol", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(title or "Leakage: best accuracy of each approach per protocol", fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------- cost


def plot_cost(board: pd.DataFrame, title: str = "") -> plt.Figure:
    """Accuracy against fit time and against prediction time (log seconds), one colour per approach.

    ``board`` is one protocol's leaderboard rows. Times are floored at 1 ms so that a
    near-instant model (the dummy baseline) stays on the log axis.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    colors = dict(zip(_approach_order(board["approach"].unique()), plt.get_cmap("tab10").colors))
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


# -------------------------------------------------------------------------------- paired tests


def paired_outcomes(predictions: pd.DataFrame, a, b) -> pd.DataFrame:
    """Correctness of two entries on the test examples they share (same ``track_id`` and ``segment``).

    ``a`` and ``b`` have approach, model, level, protocol. Returns ``track_id, segment,
    correct_a, correct_b`` (bools), one row per shared example; empty when none are shared.
    """
    keys = ["track_id", "segment"]
    left, right = (select(predictions, r).assign(correct=lambda t: t["y_true"] == t["y_pred"])[[*keys, "correct"]]
                   for r in (a, b))
    return left.merge(right, on=keys, suffixes=("_a", "_b"))


def mcnemar_exact(correct_a, correct_b) -> dict:
    """McNemar's exact test: a two-sided binomial test on the discordant pairs.

    Parameters
    ----------
    correct_a, correct_b : bools, shape (n,): whether each model got each shared example right.

    Returns
    -------
    ``n`` (shared examples), ``a_only`` / ``b_only`` (right for one model only) and ``p_value``
    (1.0 when there is no discordant pair: nothing to tell them apart).
    """
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    discordant = a_only + b_only
    p = binomtest(a_only, discordant, 0.5).pvalue if discordant else 1.0
    return {"n": int(len(a)), "a_only": a_only, "b_only": b_only, "p_value": float(p)}


def paired_bootstrap(correct_a, correct_b, groups, *, n_boot: int = 2000, alpha: float = 0.05,
                     seed: int = 0) -> tuple[float, float, float]:
    """Accuracy difference a - b (points) and its paired percentile interval, resampling whole tracks.

    Both models are resampled on the same tracks in each draw, so the interval reflects the
    difference between them, not each model's own uncertainty. ``groups`` is the track id of
    each example, shape (n,).
    """
    diff = np.asarray(correct_a, dtype=float) - np.asarray(correct_b, dtype=float)
    codes, _ = pd.factorize(np.asarray(groups, dtype=object))
    sums = np.bincount(codes, weights=diff)
    sizes = np.bincount(codes).astype(float)
    draws = np.random.default_rng(seed).integers(0, len(sizes), size=(n_boot, len(sizes)))
    boot = sums[draws].sum(axis=1) / sizes[draws].sum(axis=1)
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return 100 * float(diff.mean()), 100 * float(low), 100 * float(high)


def paired_tests(predictions: pd.DataFrame, candidates: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """McNemar and paired bootstrap for every pair of the ``settings['top']`` first candidates.

    ``candidates`` are leaderboard rows of one protocol, best first (e.g. the best of each
    approach). Pairs that share no test example are skipped. Accuracies in the result
    (``acc_a``, ``acc_b``) are on the shared examples only; ``diff_points`` and its interval are
    a - b in points; ``significant`` is ``p_value < alpha``.
    """
    columns = ["a", "b", "n_shared", "acc_a", "acc_b", "a_only", "b_only", "p_value", "diff_points",
               "diff_low", "diff_high", "significant"]
    rows = []
    for a, b in itertools.combinations(list(candidates.head(settings["top"]).itertuples()), 2):
        shared = paired_outcomes(predictions, a, b)
        if shared.empty:
            continue
        test = mcnemar_exact(shared["correct_a"], shared["correct_b"])
        diff, low, high = paired_bootstrap(shared["correct_a"], shared["correct_b"], shared["track_id"],
                                           n_boot=settings["n_boot"], alpha=settings["alpha"], seed=settings["seed"])
        rows.append({"a": entry_label(a), "b": entry_label(b), "n_shared": test["n"],
                     "acc_a": shared["correct_a"].mean(), "acc_b": shared["correct_b"].mean(),
                     "a_only": test["a_only"], "b_only": test["b_only"], "p_value": test["p_value"],
                     "diff_points": diff, "diff_low": low, "diff_high": high,
                     "significant": test["p_value"] < settings["alpha"]})
    return pd.DataFrame(rows, columns=columns)


# ------------------------------------------------------------------------------------ cheapest


def cheapest_within_ci(best: pd.DataFrame) -> pd.Series | None:
    """Among one protocol's best-per-approach rows, the cheapest whose accuracy is inside the best's CI.

    Cost is fit plus prediction seconds. Returns that row, or None for an empty table.
    """
    if best.empty:
        return None
    top = best.sort_values("accuracy", ascending=False).iloc[0]
    close = best[best["accuracy"] >= top["ci_low"]]
    cost = close["fit_seconds"] + close["predict_seconds"]
    return close.loc[cost.idxmin()]


# -------------------------------------------------------------------------------- conclusions


def conclusions(scores: pd.DataFrame, predictions: pd.DataFrame, *, source: str, settings: dict) -> str:
    """The chapter's conclusions as Markdown, every number and name computed from the tables.

    Parameters
    ----------
    scores : the results table; predictions : the test predictions (for the paired test).
    source : ``data.source`` of params.yaml (``demo``, ``gtzan`` or ``folder``).
    settings : the ``compare`` section of params.yaml (:func:`genrelab.config.section`).
    """
    board = leaderboard(scores, "track")
    if board.empty:
        return "No track-level results yet: run the model stages (`dvc repro`)."
    best = best_per_approach(board)
    honest = most_honest(board)
    honest_best = best[best["protocol"] == honest]
    parts = [
        _best_sentence(board, honest),
        _best_overall_table(board),
        _leakage_sentence(leakage(board), honest),
        _paired_sentence(paired_tests(predictions, honest_best, settings), honest, settings["alpha"]),
        _cheapest_sentence(honest_best, honest),
        _caveats(scores, board, source),
    ]
    return "\n\n".join(p for p in parts if p)


def _best_sentence(board: pd.DataFrame, honest: str) -> str:
    rows = board[board["protocol"] == honest]
    top = rows.iloc[0]
    text = (f"Under the most honest protocol available here, `{honest}`, the best track-level result is "
            f"**{entry_label(top)}**: {_pct(top.accuracy)} accuracy (95 % CI {_ci(top)}) on "
            f"{int(top.n_test)} test tracks.")
    rivals = rows[rows["approach"] != top["approach"]]
    if not rivals.empty:
        second = rivals.iloc[0]
        text += f" The best other approach is **{entry_label(second)}** at {_pct(second.accuracy)} (CI {_ci(second)})."
    return text


def _best_overall_table(board: pd.DataFrame) -> str:
    top = board[board["rank"] == 1]
    table = pd.DataFrame({
        "protocol": [f"`{p}`" for p in top["protocol"]],
        "best entry": [entry_label(r) for r in top.itertuples()],
        "accuracy (%)": [f"{100 * a:.1f}" for a in top["accuracy"]],
        "95 % CI": [_ci(r) for r in top.itertuples()],
        "test tracks": top["n_test"].astype(int).to_numpy(),
    })
    return "Best track-level entry under each protocol:\n\n" + table.to_markdown(index=False)


def _leakage_sentence(table: pd.DataFrame, honest: str) -> str:
    gaps = table["gap_points"].dropna()
    if gaps.empty:
        return f"The leakage gap cannot be measured: the results lack `{LEAKY}` or an honest protocol."
    worst = gaps.idxmax()
    inflated = int((gaps > 0).sum())
    text = (f"**Leakage.** Splitting segments at random (`{LEAKY}`) instead of using `{honest}` raises the best "
            f"accuracy of {inflated} of {len(gaps)} approaches; the gap runs from {gaps.min():+.1f} to "
            f"{gaps.max():+.1f} points, largest for `{worst}` ({_pct(table.at[worst, LEAKY])} against "
            f"{_pct(table.at[worst, honest])}).")
    if (gaps <= 0).any():
        text += f" Not inflated: {', '.join(f'`{a}`' for a in gaps[gaps <= 0].index)}."
    return text


def _paired_sentence(tests: pd.DataFrame, honest: str, alpha: float) -> str:
    if tests.empty:
        return (f"No paired test: fewer than two approaches have predictions on shared test tracks under "
                f"`{honest}`.")
    t = tests.iloc[0]
    verdict = "a significant difference" if t["significant"] else "no significant difference"
    return (f"**Top two under `{honest}`.** On their {t['n_shared']} shared test tracks, **{t['a']}** "
            f"({_pct(t['acc_a'])}) and **{t['b']}** ({_pct(t['acc_b'])}) disagree on {t['a_only'] + t['b_only']}: "
            f"{t['a_only']} right only for the first, {t['b_only']} only for the second. McNemar's exact test gives "
            f"p = {t['p_value']:.3g}, {verdict} at α = {alpha:g}; the paired bootstrap puts the difference at "
            f"{t['diff_points']:+.1f} points (95 % interval {t['diff_low']:+.1f} to {t['diff_high']:+.1f}).")


def _cheapest_sentence(honest_best: pd.DataFrame, honest: str) -> str:
    cheap = cheapest_within_ci(honest_best)
    if cheap is None:
        return ""
    top = honest_best.sort_values("accuracy", ascending=False).iloc[0]
    cost = cheap["fit_seconds"] + cheap["predict_seconds"]
    if cheap["approach"] == top["approach"]:
        return (f"**Cost.** Under `{honest}`, no approach whose best accuracy lies inside the best's 95 % CI is cheaper "
                f"than the best itself, {entry_label(top)}: {cost:.3g} s of fit and prediction.")
    top_cost = top["fit_seconds"] + top["predict_seconds"]
    return (f"**Cost.** The cheapest approach whose best accuracy lies inside the best's 95 % CI under `{honest}` "
            f"is **{entry_label(cheap)}**: {_pct(cheap['accuracy'])} for {cost:.3g} s of fit and prediction, against "
            f"{top_cost:.3g} s for {entry_label(top)}.")


def _caveats(scores: pd.DataFrame, board: pd.DataFrame, source: str) -> str:
    notes = []
    if get(source).synthetic:
        notes.append("These results come from the **synthetic demo corpus**, not from real music: they show how "
                     "the methods and protocols behave, not how well genres can be told apart.")
    for r in board.drop_duplicates(["approach", "model"]).itertuples():
        if RANDOM_WEIGHTS_TAG in r.model:
            notes.append(f"`{r.approach} / {r.model}` ran with **random weights**: a random-feature baseline, not "
                         "transfer learning from a pretrained network.")
    missing = [a for a in APPROACHES if a not in set(scores["approach"])]
    if missing:
        notes.append(f"Not in the results table: {', '.join(f'`{a}`' for a in missing)}.")
    if most_honest(board) == LEAKY:
        notes.append(f"Only the leaky `{LEAKY}` protocol was run: every number above is optimistic.")
    honest_rows = board[board["protocol"] == most_honest(board)]
    width = 100 * (honest_rows["ci_high"] - honest_rows["ci_low"]).median()
    notes.append(f"With {int(honest_rows['n_test'].median())} test tracks, the median 95 % CI is {width:.1f} points "
                 "wide: smaller differences between single entries are within noise.")
    return "**Caveats.**\n\n" + "\n".join(f"- {n}" for n in notes)


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _ci(row) -> str:
    return f"{100 * row.ci_low:.1f}–{100 * row.ci_high:.1f} %"


def _approach_order(approaches) -> list[str]:
    """Known approaches in the study's order, then any others alphabetically."""
    present = set(approaches)
    return [a for a in APPROACHES if a in present] + sorted(present - set(APPROACHES))


# ------------------------------------------------------------------------------------ DVC plots


def write_leaderboard_csv(board: pd.DataFrame, path: str | Path = "results/plots/leaderboard.csv") -> pd.DataFrame:
    """Best entry of each approach under each protocol, for a ``dvc plots`` horizontal bar chart.

    Columns ``entry`` (``approach / model (level) | protocol``, unique), ``approach, model,
    level, protocol, accuracy, ci_low, ci_high`` (accuracies in %).
    """
    best = best_per_approach(board)
    table = as_percent(best[["approach", "model", "level", "protocol", "accuracy", "ci_low", "ci_high"]])
    table.insert(0, "entry", [f"{entry_label(r)} | {r.protocol}" for r in best.itertuples()])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return table


def write_confusion_csvs(predictions: pd.DataFrame, picks: pd.DataFrame,
                         out_dir: str | Path = "results/plots") -> list[Path]:
    """One ``confusion_<approach>.csv`` (``actual, predicted``, a row per test example) per picked entry.

    ``picks`` has at most one row per approach (e.g. the best of each under the most honest
    protocol), for DVC's ``confusion`` template.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for row in picks.itertuples():
        part = select(predictions, row)
        path = out_dir / f"confusion_{row.approach}.csv"
        part[["y_true", "y_pred"]].set_axis(["actual", "predicted"], axis=1).to_csv(path, index=False)
        written.append(path)
    return written
