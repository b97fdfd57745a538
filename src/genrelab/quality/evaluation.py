"""Honest evaluation of the quality models: held-out sources, scores with CIs over sources, and
the two numbers a user cares about: fake lossless caught, genuine lossless accused.

Every derivative of a source (each condition, each excerpt) is on the side of its source, so a
model never meets at test time a recording it was trained on under another bitrate.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score, f1_score

from genrelab.evaluation.results import bootstrap_ci
from genrelab.quality.conditions import LOSSLESS

# Fake lossless the target covers: made from LAME at 256 kbps or less, or V2 or lower.
DETECTABLE_FAKES = ("cbr96", "cbr128", "cbr160", "cbr192", "cbr224", "cbr256", "v2", "v3", "v4", "v5", "v6")


def held_out_sources(source_ids, test_fraction: float, seed: int) -> set[str]:
    """The held-out sources: the ``test_fraction`` of them (at least one) first in a stable seeded order."""
    ids = sorted(set(source_ids))
    order = sorted(ids, key=lambda s: hashlib.blake2b(f"{seed}|{s}".encode(), digest_size=8).digest())
    return set(order[: max(1, round(test_fraction * len(ids)))])


def macro_f1(y_true, y_pred) -> float:
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


METRICS: dict[str, Callable] = {"balanced_accuracy": balanced_accuracy_score, "macro_f1": macro_f1}


def score(y_true, y_pred, sources, *, seed: int = 0) -> dict[str, float]:
    """Balanced accuracy and macro-F1 with 95 % bootstrap intervals over sources, and ``n_files``/``n_sources``."""
    row = {"n_files": int(len(y_true)), "n_sources": int(pd.Series(sources).nunique())}
    with warnings.catch_warnings():  # a resample may lack a class a model predicts: sklearn warns, the score stands
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        for name, metric in METRICS.items():
            row[name] = float(metric(y_true, y_pred))
            row[f"{name}_low"], row[f"{name}_high"] = bootstrap_ci(y_true, y_pred, sources, metric=name, seed=seed)
    return row


def lossless_verdicts(rows: pd.DataFrame, predicted) -> dict[str, float]:
    """On the files that claim lossless: the share of fakes (from :data:`DETECTABLE_FAKES`) caught and
    the share of genuine ones accused, with exact counts. ``rows`` has ``nominal`` and ``effective``."""
    claims = (rows["nominal"] == LOSSLESS).to_numpy()
    accused = np.asarray(predicted, dtype=object) != LOSSLESS
    fake = claims & rows["effective"].isin(DETECTABLE_FAKES).to_numpy()
    genuine = claims & (rows["effective"] == LOSSLESS).to_numpy()
    return {
        "fakes": int(fake.sum()), "fakes_caught": int((accused & fake).sum()),
        "fake_detection": float((accused & fake).sum() / fake.sum()) if fake.any() else float("nan"),
        "genuine": int(genuine.sum()), "genuine_accused": int((accused & genuine).sum()),
        "false_positive_rate": float((accused & genuine).sum() / genuine.sum()) if genuine.any() else float("nan"),
    }  # fmt: skip
