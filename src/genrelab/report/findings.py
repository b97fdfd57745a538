"""What each chapter found, in two or three sentences computed from its results.

Each chapter of the book opens with one of these, before any table, so that a reader who stops
there still leaves with the result. Every number, name and ordering is read from the tables the
chapter itself shows; nothing is typed in.
"""

from __future__ import annotations

import pandas as pd
from sklearn.feature_selection import f_classif

from genrelab.data.manifest import usable_tracks
from genrelab.evaluation.results import mark_selected
from genrelab.evaluation.splits import available_protocols
from genrelab.report.compare.prose import best_sentence, oracle_sentence
from genrelab.report.compare.tables import (
    LEAKY,
    entry_label,
    leaderboard,
    most_honest,
    oracle_gap,
    selected_entries,
)

HIGH_CORRELATION = 0.9  # |Pearson r| above which two features count as near-redundant


def data(manifest: pd.DataFrame, splits: pd.DataFrame, duplicates: pd.DataFrame) -> str:
    """The corpus in numbers: files used and excluded, classes, duplicates, the most honest test set."""
    ok = usable_tracks(manifest)
    excluded = len(manifest) - len(ok)
    cross = int(duplicates["cross_label"].astype(bool).sum()) if len(duplicates) else 0
    honest = most_honest(pd.DataFrame({"protocol": available_protocols(splits)}))
    n_test = int((splits[honest] == "test").sum())
    dropped = f"{excluded} excluded, each listed below with its reason" if excluded else "none excluded"
    return (f"**{len(ok)} of {len(manifest)} audio files are used** ({dropped}), {ok['genre'].nunique()} classes "
            f"and {pd.to_numeric(ok['duration_s']).sum() / 3600:.2f} h of audio. The duplicate search found "
            f"{len(duplicates)} pair(s), {cross} of them across labels; the grouped protocols keep each pair on one "
            f"side of the split. The most honest protocol here, `{honest}`, tests {n_test} tracks.")


def features(clips: pd.DataFrame, columns: list[str]) -> str:
    """The feature table: size, the single most separating feature, near-redundant pairs."""
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


def models(scores: pd.DataFrame) -> str:
    """A model chapter's result: each approach's selected entry under the most honest protocol, what
    the leaky random split would report instead, and what letting the test set choose would add.

    ``scores``: the chapter's rows of the results table (one or more approaches); which entry each
    approach reports is set here from the selection scores, as the results table sets it.
    """
    board = leaderboard(mark_selected(scores), "track")
    selected = selected_entries(board)
    honest = most_honest(board)
    chosen = selected[selected["protocol"] == honest]
    if chosen.empty:
        return f"No entry under `{honest}` has a selection score: turn on the stage's `cv_folds` and rerun."
    entries = "; ".join(f"**{entry_label(r)}** {_pct(r.accuracy)} (95 % CI {_ci(r)})" for r in chosen.itertuples())
    noun = "entry" if len(chosen) == 1 else "entries"
    parts = [f"Under `{honest}`, the most honest protocol here, the {noun} chosen inside the training data "
             f"{'scores' if len(chosen) == 1 else 'score'}: {entries}, on {int(chosen['n_test'].max())} test tracks."]
    leaky = selected[selected["protocol"] == LEAKY].set_index("approach")["accuracy"].reindex(chosen["approach"])
    if honest != LEAKY and leaky.notna().any():
        points = 100 * (leaky.to_numpy() - chosen["accuracy"].to_numpy())
        parts.append(f"Splitting segments at random (`{LEAKY}`) would report {_span(100 * leaky.dropna())} % instead "
                     f"({_span(pd.Series(points).dropna(), signed=True)} points).")
    gap = oracle_gap(board)
    gap = gap[(gap["protocol"] == honest) & (gap["approach"].isin(chosen["approach"]))]
    if len(gap) and gap["gap_points"].max() > 0:
        parts.append(f"Letting the test set pick among the {int(gap['candidates'].sum())} candidates instead would "
                     f"add up to {gap['gap_points'].max():.1f} points of selection noise.")
    elif len(gap):
        parts.append(f"Letting the test set pick among the {int(gap['candidates'].sum())} candidates would change "
                     "nothing here: the chosen entries also score highest on the test set.")
    return " ".join(parts)


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _ci(row) -> str:
    return f"{100 * row.ci_low:.1f}–{100 * row.ci_high:.1f} %"


def _span(values: pd.Series, signed: bool = False) -> str:
    """``a`` or ``a–b`` (one decimal) over ``values``; ``signed``: with a sign."""
    values = values.round(1) + 0.0  # no "-0.0"
    form = "{:+.1f}" if signed else "{:.1f}"
    low, high = form.format(values.min()), form.format(values.max())
    return low if low == high else f"{low} to {high}"


def recommend(card: dict, precision: pd.DataFrame, k: int) -> str:
    """The shipped model and how often the recommender's neighbours share the query's genre.

    ``precision``: the recommend stage's table (``queries, artist_filter, precision``).
    """
    test = card["test"]
    filtered = precision[precision["queries"].str.startswith("all") & precision["artist_filter"].astype(bool)]
    neighbours = (f" Among a query's {k} nearest neighbours from other artists, {filtered['precision'].iloc[0]:.0%} "
                  "share its genre." if len(filtered) else "")
    return (f"**The shipped model is {card['approach']} / {card['model']}**, chosen under `{card['protocol']}` by "
            f"its selection score inside the training data; that protocol's {test['n_test']} test tracks then scored "
            f"it once: {test['accuracy']:.1%} (95 % CI {test['ci_low']:.1%} to {test['ci_high']:.1%}). "
            f"It knows {len(card['classes'])} genres.{neighbours}")


def quality(shipped: str, selection: pd.DataFrame, command: pd.DataFrame) -> str:
    """The quality model chosen by cross-validation, and what the command gets right on held-out sources.

    ``selection``: ``model, cv_macro_f1, cv_std, cv_folds``; ``command``: ``measure, hits, rows, sources``.
    """
    chosen = selection.set_index("model").loc[shipped]
    by = command.set_index("measure")

    def share(measure: str) -> str:
        row = by.loc[measure]
        return f"{int(row['hits'])} of {int(row['rows'])}"

    sources = int(by["sources"].iloc[0])
    return (f"**Cross-validation over the training sources chose `{shipped}`** "
            f"({100 * chosen['cv_macro_f1']:.1f} % collision-group macro-F1 over {int(chosen['cv_folds'])} folds). "
            f"On {sources} held-out sources, `genrelab quality` gives the right verdict for {share('right verdict')} "
            f"files, catches {share('fake lossless caught')} fake lossless files and accuses "
            f"{share('genuine accused')} genuine ones.")


def compare(scores: pd.DataFrame) -> str:
    """The study's answer: the entry chosen across all approaches under the most honest protocol."""
    board = leaderboard(scores, "track")
    selected = selected_entries(board)
    honest = most_honest(board)
    honest_selected = selected[selected["protocol"] == honest]
    if honest_selected.empty:
        return f"No entry under `{honest}` has a selection score: turn on the stages' `cv_folds` and rerun."
    worst = honest_selected.sort_values("accuracy").iloc[0]
    return (best_sentence(honest_selected, honest)
            + f" The weakest approach's entry is {entry_label(worst)} at {100 * worst.accuracy:.1f} %. "
            + oracle_sentence(oracle_gap(board), honest))
