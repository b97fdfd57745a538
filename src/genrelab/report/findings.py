"""What the model chapters and the comparison found, in two or three sentences computed from the results.

Each chapter of the book opens with its finding, before any table, so that a reader who stops
there still leaves with the result; every number, name and ordering is read from the tables the
chapter itself shows. The other chapters' openings live with their views: ``eda.data_finding``,
``eda.features_finding``, ``recommend.recommend_finding``, ``quality.quality_finding``. This module
imports only the leaderboard's tables, so a model stage's notebook gains no other dependency.
"""

from __future__ import annotations

import pandas as pd

from genrelab.evaluation.results import mark_selected
from genrelab.report.compare.tables import (
    LEAKY,
    STUDY,
    entry_label,
    leaderboard,
    most_honest,
    oracle_gap,
    selected_entries,
)


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


def compare(scores: pd.DataFrame) -> str:
    """The study's answer: the entry chosen across all approaches under the most honest protocol, the
    weakest approach's entry, and what choosing on the test set would have reported instead."""
    board = leaderboard(scores, "track")
    selected = selected_entries(board)
    honest = most_honest(board)
    chosen = selected[selected["protocol"] == honest]
    if chosen.empty:
        return f"No entry under `{honest}` has a selection score: turn on the stages' `cv_folds` and rerun."
    top, worst = chosen.iloc[0], chosen.sort_values("accuracy", kind="stable").iloc[0]
    parts = [f"Under `{honest}`, the most honest protocol here, the entry chosen inside the training data across "
             f"all approaches is **{entry_label(top)}**: {_pct(top.accuracy)} test accuracy (95 % CI {_ci(top)}) on "
             f"{int(top.n_test)} test tracks. The weakest approach's entry, {entry_label(worst)}, scores "
             f"{_pct(worst.accuracy)}."]
    study = oracle_gap(board)
    study = study[(study["protocol"] == honest) & (study["approach"] == STUDY)]
    if len(study) and study["gap_points"].iloc[0] > 0:
        s = study.iloc[0]
        parts.append(f"Had the test set chosen among the {int(s.candidates)} candidates, the study would report "
                     f"{_pct(s.oracle_accuracy)} instead: {s.gap_points:.1f} points of selection noise.")
    elif len(study):
        parts.append(f"Choosing on the test set among the {int(study['candidates'].iloc[0])} candidates would have "
                     "picked the same entry.")
    return " ".join(parts)
