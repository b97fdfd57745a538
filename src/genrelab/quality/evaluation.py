"""Honest evaluation of the quality models: held-out sources, the model chosen by cross-validation
on the training sources, scores with CIs over sources, the two numbers a user cares about (fake
lossless caught, genuine lossless accused), and the ``genrelab quality`` verdicts themselves.

Every derivative of a source (each condition, each excerpt) is on the side of its source, so a
model never meets at test time a recording it was trained on under another bitrate. For the same
reason every interval has the source, not the file, as its unit.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from scipy.stats import beta
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold

from genrelab.evaluation.results import bootstrap_ci
from genrelab.evaluation.splits import unit_hash
from genrelab.quality.conditions import COLLISION_GROUPS, GROUP_ORDER, LOSSLESS

# Fake lossless the target covers: made from LAME at 256 kbps or less, or V2 or lower.
DETECTABLE_FAKES = ("cbr96", "cbr128", "cbr160", "cbr192", "cbr224", "cbr256", "v2", "v3", "v4", "v5", "v6")


def held_out_sources(styles: Mapping[str, str], test_fraction: float, seed: int) -> set[str]:
    """The held-out sources, stratified by style: ``styles`` maps each source id to its style.

    Each style with ``n >= 2`` sources holds out ``round(test_fraction * n)`` of them, at least one
    and at most ``n - 1``, the first in a stable seeded order (:func:`genrelab.evaluation.splits.unit_hash`
    of seed and source id), so a rerun holds out the same ones, whatever order the sources come in.
    A source alone in its style cannot be split within it: such sources are pooled into one stratum
    held out the same way.
    """
    by_style: dict[str, list[str]] = {}
    for source, style in styles.items():
        by_style.setdefault(style, []).append(source)
    singles = sorted(ids[0] for ids in by_style.values() if len(ids) == 1)
    strata = [ids for ids in by_style.values() if len(ids) > 1] + ([singles] if singles else [])
    held = set()
    for ids in strata:
        order = sorted(ids, key=lambda s: (unit_hash(seed, s), s))
        k = round(test_fraction * len(ids))
        held |= set(order[: min(max(k, 1), len(ids) - 1) if len(ids) > 1 else k])
    return held


def clopper_pearson(successes: float, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """The exact (Clopper–Pearson) ``1 - alpha`` interval of a share of ``successes`` in ``n`` trials.

    A perfect score has no two-sided interval worth the name (the percentile bootstrap gives
    ``[1, 1]``): 0 of ``n`` gives the one-sided bound ``[0, 1 - alpha ** (1 / n)]`` and ``n`` of ``n``
    gives ``[alpha ** (1 / n), 1]``. ``successes`` may be fractional (see :func:`source_share`);
    the beta quantiles are defined there too. ``(nan, nan)`` when ``n`` is 0.
    """
    if n <= 0:
        return float("nan"), float("nan")
    if successes <= 0:
        return 0.0, float(1 - alpha ** (1 / n))
    if successes >= n:
        return float(alpha ** (1 / n)), 1.0
    return float(beta.ppf(alpha / 2, successes, n - successes + 1)), float(beta.ppf(1 - alpha / 2, successes + 1, n - successes))


def source_share(hit, sources, alpha: float = 0.05) -> dict:
    """A share of files and its interval with the source as the unit.

    ``hit``: bool per file (or excerpt), shape ``(n_rows,)``; ``sources``: the source id of each.
    Files of one source are alike (same music, often the same verdict), so they are not independent
    trials: the share ``p`` of the rows of ``n`` sources is read as ``n * p`` successes in ``n`` trials,
    each source weighing one trial whatever its number of files, and given its
    :func:`clopper_pearson` interval (one-sided when ``p`` is 0 or 1).

    Returns ``{"hits", "rows", "sources", "value", "low", "high"}`` (``value`` = hits / rows).
    """
    hit = np.asarray(hit, dtype=bool)
    n = int(pd.Series(np.asarray(sources, dtype=object)).nunique())
    value = float(hit.mean()) if len(hit) else float("nan")
    low, high = clopper_pearson(n * value, n, alpha) if len(hit) else (float("nan"), float("nan"))
    return {"hits": int(hit.sum()), "rows": int(len(hit)), "sources": n, "value": value, "low": low, "high": high}


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
    """On the excerpts that claim lossless: the share of fakes (from :data:`DETECTABLE_FAKES`) caught and
    the share of genuine ones accused, with exact counts and 95 % intervals over sources
    (:func:`source_share`). ``rows`` has ``nominal``, ``effective`` and ``source_id``."""
    claims = (rows["nominal"] == LOSSLESS).to_numpy()
    accused = np.asarray(predicted, dtype=object) != LOSSLESS
    fake = claims & rows["effective"].isin(DETECTABLE_FAKES).to_numpy()
    genuine = claims & (rows["effective"] == LOSSLESS).to_numpy()
    sources = rows["source_id"].to_numpy(dtype=object)
    caught, wrong = source_share(accused[fake], sources[fake]), source_share(accused[genuine], sources[genuine])
    return {
        "fakes": int(fake.sum()), "fakes_caught": int((accused & fake).sum()), "fake_detection": caught["value"],
        "fake_detection_low": caught["low"], "fake_detection_high": caught["high"],
        "genuine": int(genuine.sum()), "genuine_accused": int((accused & genuine).sum()),
        "false_positive_rate": wrong["value"], "false_positive_low": wrong["low"], "false_positive_high": wrong["high"],
        "sources": caught["sources"],
    }  # fmt: skip


def generalisation(rows: pd.DataFrame, predicted, seconds: float) -> pd.DataFrame:
    """How a model trained on LAME at 44.1 kHz does beyond it, on held-out sources, beside its reference.

    ``rows``: held-out feature rows with ``probe``, ``probe_kind``, ``probe_excerpt``, ``condition``,
    ``group``, ``source_id``, ``excerpt_seconds`` and ``cutoff_hz``; ``predicted``: the group of
    each by a model fitted on the training sources only. ``seconds``: the excerpt length of every
    test but the short-excerpt one.

    One row per test: ``test, condition, files, measure, value, low, high, sources, cutoff_khz``
    (the interval is :func:`source_share`'s). A test
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
        share = source_share(hit.to_numpy(), part["source_id"])
        out.append({"test": test, "condition": condition, "files": int(part["file"].nunique()), "measure": measure,
                    "value": share["value"], "low": share["low"], "high": share["high"], "sources": share["sources"],
                    "cutoff_khz": float(part["cutoff_hz"].median() / 1000)})  # fmt: skip
    return pd.DataFrame(out)


def leave_one_style_out(table: pd.DataFrame, X: np.ndarray, factory: Callable, usable: np.ndarray,
                        seconds: float) -> pd.DataFrame:  # fmt: skip
    """Each style's sources scored by a model fitted on the other styles' (their ``usable`` rows).

    Returns one row per left-out style (``style, files, sources, value, low, high``: the share of right
    collision groups at ``seconds``, with its :func:`source_share` interval) and a last row pooling them.
    The fit never sees the left-out style, so every source of it is scored, training and held-out ones.
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
    share = source_share(hit, sources)
    return {"style": style, "files": int(pd.Series(files).nunique()), "sources": share["sources"],
            "value": share["value"], "low": share["low"], "high": share["high"]}  # fmt: skip


def cross_validated(factories: Mapping[str, Callable], X: np.ndarray, y, sources, styles, excerpt_seconds,
                    folds: int, seed: int) -> pd.DataFrame:  # fmt: skip
    """Each candidate's group macro-F1 by cross-validation over the training sources, and the one chosen.

    ``X``: float ``(n_rows, n_features)``; ``y`` (collision groups), ``sources``, ``styles`` and
    ``excerpt_seconds``: shape ``(n_rows,)``. Pass the training rows only: no held-out row may take
    part in the choice. The folds are ``StratifiedGroupKFold(min(folds, n_sources), shuffle, seed)``
    with the source as the group and its style as the stratum, so a fold holds whole sources and as
    even a mix of styles as they allow. A fold's score is the headline metric of the held-out table:
    macro-F1 of its left-out rows at each excerpt length, averaged over the lengths.

    Returns one row per model: ``model, cv_macro_f1`` (mean over folds), ``cv_std`` (standard
    deviation over folds, ddof 1), ``cv_folds``, ``selected``. The rule: the highest
    ``cv_macro_f1``; a tie goes to the smaller ``cv_std``, then to the first name in alphabetical order.
    """
    y, sources = np.asarray(y, dtype=object), np.asarray(sources, dtype=object)
    seconds = np.asarray(excerpt_seconds, dtype=float)
    n = min(folds, len(set(sources)))
    if n < 2:
        from genrelab.errors import DataError

        raise DataError(f"{len(set(sources))} training source(s): cross-validation over sources needs at least 2 "
                        "(raise quality.corpus.sources_per_style or lower quality.corpus.test_fraction)")  # fmt: skip
    splits = list(StratifiedGroupKFold(n_splits=n, shuffle=True, random_state=seed)
                  .split(X, np.asarray(styles, dtype=object), sources))  # fmt: skip
    rows = []
    for name, factory in factories.items():
        per_fold = []
        for fit, held in splits:
            predicted = factory().fit(X[fit], y[fit]).predict(X[held])
            per_fold.append(np.mean([macro_f1(y[held][seconds[held] == s], predicted[seconds[held] == s])
                                     for s in np.unique(seconds[held])]))  # fmt: skip
        rows.append({"model": name, "cv_macro_f1": float(np.mean(per_fold)), "cv_std": float(np.std(per_fold, ddof=1)),
                     "cv_folds": n})  # fmt: skip
    table = pd.DataFrame(rows)
    best = min(table.itertuples(), key=lambda r: (-r.cv_macro_f1, r.cv_std, r.model)).model
    return table.assign(selected=table["model"] == best)


COMMAND_VERDICTS = ("genuine", "transcoded", "fake lossless")  # the ones a file can deserve; never "undecidable"


def true_verdict(nominal: str, effective: str, group: str) -> str:
    """The verdict ``genrelab quality`` should give a file, from its labels (:mod:`genrelab.quality.conditions`).

    ``fake lossless``
        it claims lossless (``nominal == "lossless"``) and holds a lossy encoding (``effective`` is not lossless);
    ``transcoded``
        it claims an MP3 setting and holds less than that setting's collision group: ``group`` (of
        ``effective``) lies below ``COLLISION_GROUPS[nominal]`` in :data:`GROUP_ORDER`
        (``lame:cbr128>lame:cbr320``);
    ``genuine``
        anything else: it holds what it claims, or what no spectrum tells from its claim (a transcode
        within one collision group; ``lame:cbr320>lame:cbr128``, whose effective setting is its claim).

    A verdict is right when the command's equals this; ``undecidable`` is never right, and is counted apart.
    """
    if nominal == LOSSLESS:
        return "genuine" if effective == LOSSLESS else "fake lossless"
    return "transcoded" if GROUP_ORDER.index(group) < GROUP_ORDER.index(COLLISION_GROUPS[nominal]) else "genuine"


def command_scores(files: pd.DataFrame, verdicts) -> pd.DataFrame:
    """The ``genrelab quality`` verdicts of held-out files scored against :func:`true_verdict`.

    ``files``: one row per file with ``source_id, nominal, effective, group``; ``verdicts``: the
    command's verdict of each, shape ``(n_files,)``. One row per measure (``measure, of, hits, rows,
    sources, value, low, high``; the interval is :func:`source_share`'s):

    - ``right verdict``: of all files, the verdict equals the truth;
    - ``fake lossless caught``: of the fakes from :data:`DETECTABLE_FAKES`, called ``fake lossless``;
    - ``transcoded caught``: of the transcoded MP3s, called ``transcoded``;
    - ``genuine accused``: of the genuine files, called ``transcoded`` or ``fake lossless``;
    - ``genuine lossless accused``: the same, of the genuine files that claim lossless;
    - ``undecidable``: of all files, no verdict.
    """
    verdicts = np.asarray(verdicts, dtype=object)
    truth = np.array([true_verdict(*r) for r in files[["nominal", "effective", "group"]].itertuples(index=False)],
                     dtype=object)  # fmt: skip
    sources = files["source_id"].to_numpy(dtype=object)
    accused = np.isin(verdicts, ["transcoded", "fake lossless"])
    genuine = truth == "genuine"
    fake = (truth == "fake lossless") & files["effective"].isin(DETECTABLE_FAKES).to_numpy()
    every = np.ones(len(files), bool)
    measures = [("right verdict", "files", every, verdicts == truth),
                ("fake lossless caught", "fakes", fake, verdicts == "fake lossless"),
                ("transcoded caught", "transcoded files", truth == "transcoded", verdicts == "transcoded"),
                ("genuine accused", "genuine files", genuine, accused),
                ("genuine lossless accused", "genuine lossless files", genuine & (files["nominal"] == LOSSLESS).to_numpy(), accused),
                ("undecidable", "files", every, verdicts == "undecidable")]  # fmt: skip
    return pd.DataFrame([{"measure": measure, "of": of, **source_share(hit[mask], sources[mask])}
                         for measure, of, mask, hit in measures])  # fmt: skip
