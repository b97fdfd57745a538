"""The comparison chapter's conclusions as Markdown, every number, name and ordering read from
the tables (:func:`conclusions`)."""

from __future__ import annotations

import pandas as pd

from genrelab.data.sources.registry import get
from genrelab.report.compare.stats import paired_tests
from genrelab.report.compare.tables import (
    APPROACHES,
    LEAKY,
    RANDOM_WEIGHTS_TAG,
    STUDY,
    cheapest_within_ci,
    entry_label,
    leaderboard,
    leakage,
    most_honest,
    oracle_gap,
    selected_entries,
)

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
    selected = selected_entries(board)
    honest = most_honest(board)
    honest_selected = selected[selected["protocol"] == honest]
    if honest_selected.empty:
        return f"No entry under `{honest}` has a selection score: turn on its stage's `cv_folds` and rerun."
    parts = [
        _best_sentence(honest_selected, honest),
        _best_overall_table(selected),
        _oracle_sentence(oracle_gap(board), honest),
        _leakage_sentence(leakage(board), honest),
        _paired_sentence(paired_tests(predictions, honest_selected, settings), honest, settings["alpha"]),
        _cheapest_sentence(honest_selected, honest),
        _caveats(scores, board, source),
    ]
    return "\n\n".join(p for p in parts if p)


def _best_sentence(selected: pd.DataFrame, honest: str) -> str:
    top = selected.iloc[0]
    text = (f"Under the most honest protocol available here, `{honest}`, the entry chosen inside the training data "
            f"(highest selection score: {top.select_by}, {_pct(top.select_score)}) is **{entry_label(top)}**: "
            f"{_pct(top.accuracy)} test accuracy (95 % CI {_ci(top)}) on {int(top.n_test)} test tracks.")
    if len(selected) > 1:
        second = selected.iloc[1]
        text += (f" The next approach by selection score is **{entry_label(second)}** at {_pct(second.accuracy)} "
                 f"(CI {_ci(second)}).")
    return text


def _best_overall_table(selected: pd.DataFrame) -> str:
    top = selected.groupby("protocol", sort=False).head(1)
    table = pd.DataFrame({
        "protocol": [f"`{p}`" for p in top["protocol"]],
        "chosen entry": [entry_label(r) for r in top.itertuples()],
        "selection score (%)": [f"{100 * a:.1f}" for a in top["select_score"]],
        "test accuracy (%)": [f"{100 * a:.1f}" for a in top["accuracy"]],
        "95 % CI": [_ci(r) for r in top.itertuples()],
        "test tracks": top["n_test"].astype(int).to_numpy(),
    })
    return "The entry chosen under each protocol (highest selection score across approaches):\n\n" + table.to_markdown(
        index=False)


def _oracle_sentence(gap: pd.DataFrame, honest: str) -> str:
    rows = gap[gap["protocol"] == honest]
    study = rows[rows["approach"] == STUDY]
    per_approach = rows[rows["approach"] != STUDY]
    if study.empty:
        return ""
    s = study.iloc[0]
    worst = per_approach.sort_values("gap_points", ascending=False).iloc[0]
    if s.gap_points > 0:
        study_text = (f"Had the test set chosen the entry under `{honest}`, the study would report "
                      f"{_pct(s.oracle_accuracy)} ({s.oracle}) instead of {_pct(s.selected_accuracy)}: "
                      f"{s.gap_points:.1f} points of selection noise.")
    else:
        study_text = (f"Under `{honest}` the entry chosen inside the training data also scores highest on the test "
                      f"set, of {int(s.candidates)} candidates.")
    return (f"**The price of peeking.** {study_text} Within one approach the gap reaches {worst.gap_points:.1f} points "
            f"(`{worst.approach}`, {int(worst.candidates)} candidates); "
            f"{int((per_approach['gap_points'] == 0).sum())} of {len(per_approach)} approaches chose their best-on-test "
            "entry anyway.")


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
    return (f"**The two chosen first under `{honest}`.** On their {t['n_shared']} shared test tracks, **{t['a']}** "
            f"({_pct(t['acc_a'])}) and **{t['b']}** ({_pct(t['acc_b'])}) disagree on {t['a_only'] + t['b_only']}: "
            f"{t['a_only']} right only for the first, {t['b_only']} only for the second. McNemar's exact test gives "
            f"p = {t['p_value']:.3g}, {t['p_holm']:.3g} after Holm's correction for the {len(tests)} pairs tested: "
            f"{verdict} at α = {alpha:g}. The paired bootstrap puts the difference at "
            f"{t['diff_points']:+.1f} points (95 % interval {t['diff_low']:+.1f} to {t['diff_high']:+.1f}).")


def _cheapest_sentence(selected: pd.DataFrame, honest: str) -> str:
    cheap = cheapest_within_ci(selected)
    if cheap is None:
        return ""
    top = selected.iloc[0]
    cost = cheap["fit_seconds"] + cheap["predict_seconds"]
    if cheap["approach"] == top["approach"]:
        return (f"**Cost.** Under `{honest}`, no approach whose chosen entry lies inside the first one's 95 % CI is "
                f"cheaper than {entry_label(top)} itself: {cost:.3g} s of fit and prediction.")
    top_cost = top["fit_seconds"] + top["predict_seconds"]
    return (f"**Cost.** The cheapest approach whose chosen entry lies inside the 95 % CI of the first under `{honest}` "
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
    unscored = sorted(set(board["approach"]) - set(selected_entries(board)["approach"]))
    if unscored:
        notes.append(f"No selection score, so no entry: {', '.join(f'`{a}`' for a in unscored)} (its stage's `cv_folds` is 0).")
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
