"""Paired tests of two model entries on the same test examples: exact McNemar (Holm-adjusted over
the pairs tested) and a paired bootstrap of the accuracy difference over test tracks."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from genrelab.report.compare.tables import entry_label, select

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


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of ``p_values`` (shape (m,)) for ``m`` tests: adjusted p-values,
    each at most 1, monotone in the raw ones; reject where the adjusted value is below alpha."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    scaled = np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order])
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(scaled, 1.0)
    return adjusted


def paired_tests(predictions: pd.DataFrame, candidates: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """McNemar and paired bootstrap for every pair of the ``settings['top']`` first candidates.

    ``candidates`` are leaderboard rows of one protocol, in the order they were chosen (the
    selected entry of each approach, highest selection score first). Pairs that share no test
    example are skipped. Accuracies in the result (``acc_a``, ``acc_b``) are on the shared examples
    only; ``diff_points`` and its interval are a - b in points; ``p_holm`` is McNemar's p-value
    adjusted for the number of pairs tested (Holm), and ``significant`` is ``p_holm < alpha``.
    """
    columns = ["a", "b", "n_shared", "acc_a", "acc_b", "a_only", "b_only", "p_value", "p_holm", "diff_points",
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
                     "diff_points": diff, "diff_low": low, "diff_high": high})
    table = pd.DataFrame(rows, columns=columns)
    table["p_holm"] = holm(table["p_value"]) if len(table) else []
    table["significant"] = table["p_holm"] < settings["alpha"]
    return table


def paired_table(tests: pd.DataFrame) -> pd.DataFrame:
    """:func:`paired_tests` narrow enough for a page: each side by its approach alone (an approach has
    one selected entry, named in the leaderboard), accuracies and the difference in %, Holm's p."""
    approach = [label.split(" / ")[0] for label in tests["a"]], [label.split(" / ")[0] for label in tests["b"]]
    return pd.DataFrame({
        "a": approach[0], "b": approach[1], "shared tracks": tests["n_shared"].to_numpy(),
        "a, b (%)": [f"{100 * a:.1f}, {100 * b:.1f}" for a, b in zip(tests["acc_a"], tests["acc_b"])],
        "right only for a, b": [f"{a}, {b}" for a, b in zip(tests["a_only"], tests["b_only"])],
        "p (Holm)": tests["p_holm"].map(lambda p: f"{p:.3g}").to_numpy(),
        "a − b (points) [95 %]": [f"{d:+.1f} [{lo:+.1f}, {hi:+.1f}]"
                                  for d, lo, hi in zip(tests["diff_points"], tests["diff_low"], tests["diff_high"])],
    })
