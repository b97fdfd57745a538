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
from genrelab.quality.conditions import GROUP_ORDER, LOSSLESS

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


def generalisation(rows: pd.DataFrame, predicted, seconds: float) -> pd.DataFrame:
    """How a model trained on LAME at 44.1 kHz does beyond it, on held-out sources, beside its reference.

    ``rows``: held-out feature rows with ``probe``, ``probe_kind``, ``probe_excerpt``, ``condition``,
    ``group``, ``source_id``, ``excerpt_seconds`` and ``cutoff_hz``; ``predicted``: the model's
    group of each. ``seconds``: the excerpt length of every test but the short-excerpt one.

    One row per test: ``test, condition, files, measure, value, low, high, cutoff_khz``. A test
    whose files hold LAME's low-pass measures the share of right collision groups; one of an unseen
    encoder measures the share caught: called fake lossless (``X>flac``) or transcoded (``X>lame:cbr320``).
    """
    rows = rows.assign(predicted=np.asarray(predicted, dtype=object))
    at = (rows["excerpt_seconds"] == seconds) & ~rows["probe_excerpt"]
    lame = ~rows["probe"]
    tests = [("LAME at 44.1 kHz (reference)", "", lame & at),
             (f"{rows.loc[rows['probe_excerpt'], 'excerpt_seconds'].min():g} s excerpts", "", lame & rows["probe_excerpt"]),
             ("LAME at 48 kHz", "", rows["probe_kind"].eq("48 kHz") & at),
             ("resampled after encoding", "", rows["probe_kind"].eq("resampled") & at)]  # fmt: skip
    unseen = rows["probe"] & ~rows["probe_kind"].isin(["48 kHz", "resampled"]) & at
    tests += [(f"unseen encoder: {kind}", condition, unseen & rows["condition"].eq(condition))
              for kind, condition in rows.loc[unseen, ["probe_kind", "condition"]].drop_duplicates().itertuples(index=False)]
    out = []
    for test, condition, mask in tests:
        part = rows[mask.to_numpy()]
        if part.empty:
            continue
        if not condition:
            measure, hit = "right collision group", part["predicted"] == part["group"]
        elif condition.endswith(">flac"):
            measure, hit = "called fake lossless", part["predicted"] != LOSSLESS
        else:
            below = set(GROUP_ORDER[: GROUP_ORDER.index("lp20.5k")])
            measure, hit = "called transcoded", part["predicted"].isin(below)
        low, high = bootstrap_ci(np.ones(len(part), bool), hit.to_numpy(), part["source_id"])
        out.append({"test": test, "condition": condition, "files": int(part["file"].nunique()), "measure": measure,
                    "value": float(hit.mean()), "low": low, "high": high,
                    "cutoff_khz": float(part["cutoff_hz"].median() / 1000)})  # fmt: skip
    return pd.DataFrame(out)


def leave_one_style_out(table: pd.DataFrame, X: np.ndarray, factory: Callable, usable: np.ndarray,
                        seconds: float) -> pd.DataFrame:  # fmt: skip
    """Each style's sources scored by a model fitted on the other styles' (their ``usable`` rows).

    Returns one row per left-out style (``style, files, value, low, high``: the share of right
    collision groups at ``seconds``, with its interval over sources) and a last row pooling them.
    """
    y = table["group"].to_numpy(dtype=object)
    styles = table["style"].to_numpy(dtype=object)
    at = (table["excerpt_seconds"] == seconds).to_numpy() & usable
    pooled, out = [], []
    for style in sorted(set(styles)):
        fitted = factory().fit(X[usable & (styles != style)], y[usable & (styles != style)])
        mask = at & (styles == style)
        hit = fitted.predict(X[mask]) == y[mask]
        pooled.append(pd.DataFrame({"hit": hit, "source_id": table.loc[mask, "source_id"].to_numpy()}))
        out.append(_share(style, hit, pooled[-1]["source_id"], table.loc[mask, "file"]))
    everything = pd.concat(pooled, ignore_index=True)
    out.append(_share("all, pooled", everything["hit"].to_numpy(), everything["source_id"],
                      table.loc[at, "file"]))  # fmt: skip
    return pd.DataFrame(out)


def _share(style: str, hit: np.ndarray, sources, files) -> dict:
    low, high = bootstrap_ci(np.ones(len(hit), bool), hit, sources)
    return {"style": style, "files": int(pd.Series(files).nunique()), "value": float(np.mean(hit)), "low": low,
            "high": high}  # fmt: skip
