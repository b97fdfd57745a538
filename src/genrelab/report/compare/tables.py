"""The comparison's tables: results and predictions read back, the leaderboard of selected entries,
the price of peeking (oracle gap), per-genre F1, confusions, the leakage table, the cheapest entry
within the selected winner's CI, and the DVC plot files.

Every "best" here is chosen by the selection score (``select_score``, computed inside the training
data, :func:`genrelab.evaluation.results.mark_selected`); test accuracy only scores the choice.

Pure functions of ``results/scores.csv`` and ``results/predictions/*.parquet``; see
:mod:`genrelab.report.compare` for the conventions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, f1_score

from genrelab.errors import DataError
from genrelab.evaluation.results import PREDICTION_COLUMNS, SCOPES, SCORE_COLUMNS, read_scores, stack_tables

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
HONEST_ORDER = ("fault_filtered", "fma_official", "artist_grouped", "track_grouped")  # most honest first
PROTOCOL_ORDER = (LEAKY, "track_grouped", "artist_grouped", "fault_filtered", "fma_official")  # leaky -> honest
ENTRY = ["approach", "model", "level"]
PROTOCOL_MARKERS = {"random_segment": "o", "track_grouped": "s", "artist_grouped": "D", "fault_filtered": "^", "fma_official": "v"}
RANDOM_WEIGHTS_TAG = "[random]"

# ---------------------------------------------------------------------------------------- inputs


def load_scores(path: str | Path = "results/scores.csv") -> pd.DataFrame:
    """The results table, checked for its columns."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} is missing: run the model stages and `dvc repro scores` first.")
    table = read_scores(path)
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
    """The most honest protocol present (``fault_filtered``/``fma_official > artist_grouped > track_grouped``).

    Falls back to ``random_segment`` when it is the only one, which the conclusions flag.
    """
    present = set(scores["protocol"])
    for protocol in (*HONEST_ORDER, LEAKY):
        if protocol in present:
            return protocol
    raise DataError(f"no known protocol in the results (found {sorted(present)})")


# ---------------------------------------------------------------------------------- leaderboard


def leaderboard(scores: pd.DataFrame, scope: str = "track") -> pd.DataFrame:
    """Every entry under every protocol, ranked by its selection score within each protocol.

    Parameters
    ----------
    scores : the results table.
    scope : ``track`` (track and clip rows) or ``segment``.

    Returns
    -------
    Columns ``protocol, rank`` (1 = highest selection score), the entry (``approach, model,
    level``), ``selected`` (the entry its approach reports), ``select_score, select_std``, ``accuracy,
    ci_low, ci_high`` (test, 95 % bootstrap interval over test tracks), ``macro_f1, n_test,
    fit_seconds, predict_seconds, select_by``. Protocols come most honest first; ties go as in
    :func:`genrelab.evaluation.results.mark_selected` (spread, then name), entries without a
    selection score last, so the order never depends on the test set or on timings.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {list(SCOPES)}, got {scope!r}")
    rows = scores[scores["level"].isin(SCOPES[scope])].copy()
    order = {p: i for i, p in enumerate(reversed(protocols_present(scores)))}
    rows["_order"] = rows["protocol"].map(order)
    rows["_score"] = rows["select_score"].fillna(-np.inf)
    rows["_std"] = rows["select_std"].fillna(np.inf)
    rows = rows.sort_values(["_order", "_score", "_std", "approach", "model", "level"],
                            ascending=[True, False, True, True, True, True], kind="stable")  # fmt: skip
    rows["rank"] = rows.groupby("protocol").cumcount() + 1
    columns = ["protocol", "rank", *ENTRY, "selected", "select_score", "select_std", "accuracy", "ci_low", "ci_high",
               "macro_f1", "n_test", "fit_seconds", "predict_seconds", "select_by"]  # fmt: skip
    return rows[columns].reset_index(drop=True)


def track_levels(scores: pd.DataFrame) -> pd.DataFrame:
    """Which rows make each approach's track-level results: ``track`` (averaged segments), ``clip``, or both."""
    rows = scores[scores["level"].isin(SCOPES["track"])]
    used = rows.groupby("approach")["level"].agg(lambda s: " and ".join(sorted(set(s))))
    return used.rename("track-level rows").reindex(approach_order(used.index)).to_frame()


def selected_entries(board: pd.DataFrame) -> pd.DataFrame:
    """The selected entry of each approach under each protocol, in the board's order (selection score)."""
    return board[board["selected"].astype(bool)].reset_index(drop=True)


def selected_table(selected: pd.DataFrame) -> pd.DataFrame:
    """Compact view of :func:`selected_entries`, narrow enough for a page: one row per approach
    (selection order under the most honest protocol), the entry it selected under that protocol,
    then under each protocol (leaky to honest) its selected entry's test accuracy and 95 % CI in %,
    ``71.2 [63, 79]``. Each protocol's own entry is in the leaderboard CSV."""
    honest = most_honest(selected)
    cells = selected.assign(cell=[f"{100 * r.accuracy:.1f} [{100 * r.ci_low:.0f}, {100 * r.ci_high:.0f}]"
                                  for r in selected.itertuples()])  # fmt: skip
    wide = cells.pivot(index="approach", columns="protocol", values="cell")
    order = selected.loc[selected["protocol"] == honest, "approach"].tolist()
    order += [a for a in approach_order(wide.index) if a not in order]
    wide = wide.reindex(index=order, columns=protocols_present(selected)).fillna("")
    chosen = selected[selected["protocol"] == honest].set_index("approach")
    wide.insert(0, f"entry ({honest})", [f"{chosen.at[a, 'model']} ({chosen.at[a, 'level']})" if a in chosen.index
                                         else "" for a in wide.index])  # fmt: skip
    wide.columns.name = None
    return wide


def candidates_table(board: pd.DataFrame, protocol: str) -> pd.DataFrame:
    """Every candidate under ``protocol``, ranked by selection score, in six columns that fit a page:
    approach, model (level), whether it is its approach's entry, selection score, test accuracy with
    its 95 % CI, and macro-F1 (all in %). The full rows are in the leaderboard CSV."""
    rows = board[board["protocol"] == protocol]
    return pd.DataFrame({
        "approach": rows["approach"].to_numpy(dtype=object),
        "model (level)": [f"{r.model} ({r.level})" for r in rows.itertuples()],
        "entry": np.where(rows["selected"].astype(bool), "✓", ""),
        "selection (%)": (100 * rows["select_score"]).round(1).to_numpy(),
        "test (%) [95 % CI]": [f"{100 * r.accuracy:.1f} [{100 * r.ci_low:.0f}, {100 * r.ci_high:.0f}]"
                               for r in rows.itertuples()],
        "macro-F1 (%)": (100 * rows["macro_f1"]).round(1).to_numpy(),
    }, index=pd.Index(rows["rank"].to_numpy(), name="rank"))


STUDY = "all approaches"  # the oracle-gap row of the study's own choice across approaches


def oracle_gap(board: pd.DataFrame) -> pd.DataFrame:
    """The price of peeking: per approach and protocol, the selected entry's test accuracy beside the
    best-on-test entry's ("oracle"), and the gap.

    A study that reports its best test score among many candidates reports the oracle; one that
    chooses inside the training data reports the selected entry. One row per protocol and approach,
    then per protocol a row ``approach = "all approaches"``: the protocol's rank-1 selected entry
    against the best test score of every entry. Columns ``protocol, approach, candidates,
    selected, selected_accuracy, oracle, oracle_accuracy, gap_points`` (accuracies as fractions;
    ``gap_points`` = (oracle - selected) x 100, never negative). Ties for the oracle go to the
    higher macro-F1, then by name.
    """
    rows = []
    for protocol, part in board.groupby("protocol", sort=False):
        groups = [(approach, entries) for approach, entries in part.groupby("approach", sort=False)]
        for approach, entries in [*groups, (STUDY, part)]:
            chosen = entries[entries["selected"].astype(bool)] if approach != STUDY else selected_entries(part).head(1)
            if chosen.empty:
                continue
            oracle = entries.sort_values(["accuracy", "macro_f1", "approach", "model", "level"],
                                         ascending=[False, False, True, True, True]).iloc[0]  # fmt: skip
            pick = chosen.iloc[0]
            rows.append({"protocol": protocol, "approach": approach, "candidates": len(entries),
                         "selected": _short(pick, approach == STUDY), "selected_accuracy": pick["accuracy"],
                         "oracle": _short(oracle, approach == STUDY), "oracle_accuracy": oracle["accuracy"],
                         "gap_points": 100 * (oracle["accuracy"] - pick["accuracy"])})  # fmt: skip
    columns = ["protocol", "approach", "candidates", "selected", "selected_accuracy", "oracle", "oracle_accuracy",
               "gap_points"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _short(row, with_approach: bool) -> str:
    return entry_label(row) if with_approach else f"{row['model']} ({row['level']})"


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


# ----------------------------------------------------------------------------- per-genre results


def select(predictions: pd.DataFrame, row) -> pd.DataFrame:
    """The prediction rows of one entry under one protocol (``row`` has approach, model, level, protocol)."""
    mask = ((predictions["approach"] == row.approach) & (predictions["model"] == row.model)
            & (predictions["level"] == row.level) & (predictions["protocol"] == row.protocol))
    return predictions[mask]


def per_genre_f1(predictions: pd.DataFrame, picks: pd.DataFrame) -> pd.DataFrame:
    """F1 of each genre (columns, sorted) for each picked entry (rows, :func:`entry_label`).

    ``picks`` are leaderboard rows (e.g. the selected entry of each approach under one protocol); entries
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


# ------------------------------------------------------------------------------------ leakage


def leakage(board: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy of each approach's selected entry under each protocol, and the leakage gap.

    Each protocol's entry is the one a study would report under that protocol, chosen inside its
    training data (the entry may differ between protocols). Returns one row per approach: one
    accuracy column per protocol (fractions, leaky to honest) and ``gap_points`` = (``random_segment``
    minus the most honest protocol) x 100, NaN when either is missing.
    """
    selected = selected_entries(board)
    wide = selected.pivot(index="approach", columns="protocol", values="accuracy")
    wide = wide.reindex(index=approach_order(wide.index), columns=protocols_present(board))
    honest = most_honest(board)
    if LEAKY in wide and honest != LEAKY:
        wide["gap_points"] = 100 * (wide[LEAKY] - wide[honest])
    else:
        wide["gap_points"] = np.nan
    wide.columns.name = None
    return wide


# ------------------------------------------------------------------------------------ cheapest


def cheapest_within_ci(selected: pd.DataFrame) -> pd.Series | None:
    """Among one protocol's selected entries (best selection score first), the cheapest whose test
    accuracy is inside the first one's CI.

    Cost is fit plus prediction seconds. Returns that row, or None for an empty table.
    """
    if selected.empty:
        return None
    top = selected.iloc[0]
    close = selected[selected["accuracy"] >= top["ci_low"]]
    cost = close["fit_seconds"] + close["predict_seconds"]
    return close.loc[cost.idxmin()]


# ------------------------------------------------------------------------------------ DVC plots


def write_leaderboard_csv(board: pd.DataFrame, path: str | Path = "results/plots/leaderboard.csv") -> pd.DataFrame:
    """The selected entry of each approach under each protocol, for a ``dvc plots`` horizontal bar chart.

    Columns ``entry`` (``approach / model (level) | protocol``, unique), ``approach, model,
    level, protocol, accuracy, ci_low, ci_high`` (accuracies in %).
    """
    selected = selected_entries(board)
    table = as_percent(selected[["approach", "model", "level", "protocol", "accuracy", "ci_low", "ci_high"]])
    table.insert(0, "entry", [f"{entry_label(r)} | {r.protocol}" for r in selected.itertuples()])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return table


def write_oracle_gap_csv(gap: pd.DataFrame, path: str | Path = "results/plots/oracle_gap.csv") -> pd.DataFrame:
    """:func:`oracle_gap` for ``dvc plots`` and the note: ``entry`` (``approach | protocol``, unique), then
    its columns, accuracies and gap in %."""
    table = gap.assign(selected_accuracy=(100 * gap["selected_accuracy"]).round(1),
                       oracle_accuracy=(100 * gap["oracle_accuracy"]).round(1), gap_points=gap["gap_points"].round(1))
    table.insert(0, "entry", table["approach"] + " | " + table["protocol"])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return table


def selection_methods(board: pd.DataFrame) -> pd.DataFrame:
    """How each approach's entries were scored for selection: per approach and protocol, the method
    (``select_by``) and the number of candidates that competed."""
    table = board.groupby(["approach", "protocol"], sort=False).agg(
        candidates=("model", "size"), method=("select_by", lambda s: "; ".join(sorted(set(s) - {""})) or "none"))
    return table.reset_index().pivot(index="approach", columns="protocol", values="method").reindex(
        index=approach_order(board["approach"].unique()), columns=protocols_present(board)).fillna("")


def write_confusion_csvs(predictions: pd.DataFrame, picks: pd.DataFrame,
                         out_dir: str | Path = "results/plots") -> list[Path]:
    """One ``confusion_<approach>.csv`` (``actual, predicted``, a row per test example) per picked entry.

    ``picks`` has at most one row per approach (e.g. the selected entry of each under the most
    honest protocol), for DVC's ``confusion`` template.
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


def approach_order(approaches) -> list[str]:
    """Known approaches in the study's order, then any others alphabetically."""
    present = set(approaches)
    return [a for a in APPROACHES if a in present] + sorted(present - set(APPROACHES))
