"""The ``export`` stage: the model ``genrelab predict`` ships, and the recommender's index.

The model is chosen by the rule in params (``predict``), never by hand and never by the test set:
among the servable approaches' track-level rows of ``results/scores.csv``, under the most honest
protocol present (``predict.honesty``, first wins), the one with the highest selection score
(computed inside that protocol's training data; ties to the smaller spread, then by approach and
model name, so a rerun ships the same model: timings are not used, they differ between runs).
``predict.approach``, ``model`` and ``protocol`` pin any of those choices.

``models/predict/`` then holds:

``model.joblib`` (or ``model.keras`` + ``model.json``)
    the chosen model, refitted on every ``ok`` track (``predict.refit``) or the protocol's own fit.
``card.json``
    what was chosen and how (``selected_by``, and its ``selection`` score), its test accuracy with
    the CI (the chosen entry's, scored once on the chosen protocol's test tracks, even when
    refitted), its classes and input settings, and the study's commit.
``recommend.joblib``
    :class:`genrelab.inference.recommend.RecommendIndex` over the corpus.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.config import SERVABLE_APPROACHES
from genrelab.errors import DataError
from genrelab.evaluation.results import read_scores

PREDICT_DIR = Path("models/predict")
CARD = "card.json"
INDEX = "recommend.joblib"


def selection_rule(p: dict) -> str:
    """The rule of :func:`select_model` in words, for the card and the book."""
    pins = [f"{k} = {p[k]}" for k in ("approach", "model", "protocol") if p[k]]
    protocol = p["protocol"] or f"the first of {', '.join(p['honesty'])} present"
    return (f"the track-level entries of the servable approaches ({', '.join(SERVABLE_APPROACHES)}) under {protocol}, "
            "ranked by their selection score, computed inside that protocol's training data (select_score in "
            "results/scores.csv); ties go to the smaller spread across folds, then by approach and model name. "
            "The test set only scores the chosen entry"
            + (f"; pinned: {', '.join(pins)}" if pins else ""))  # fmt: skip


def select_model(scores: pd.DataFrame, p: dict) -> pd.Series:
    """The results row of the model to ship, by the rule of the ``predict`` params section ``p``.

    Test scores play no part: candidates are ranked by ``select_score`` (:func:`selection_rule`).
    """
    rows = scores[(scores["level"] == "track") & scores["approach"].isin(SERVABLE_APPROACHES)]
    rows = rows[rows["select_score"].notna()]
    for key in ("approach", "model"):
        if p[key]:
            rows = rows[rows[key] == p[key]]
    present = [q for q in ([p["protocol"]] if p["protocol"] else p["honesty"]) if q in set(rows["protocol"])]
    if rows.empty or not present:
        raise DataError(f"results/scores.csv has no track-level row with a selection score matching predict params "
                        f"({selection_rule(p)}). Check predict.approach/model/protocol, or run the model stages "
                        "(dvc repro).")  # fmt: skip
    rows = rows[rows["protocol"] == present[0]].assign(_std=lambda t: t["select_std"].fillna(np.inf))
    ranked = rows.sort_values(["select_score", "_std", "approach", "model"], ascending=[False, True, True, True],
                              kind="stable")  # fmt: skip
    return ranked.drop(columns="_std").iloc[0]


@dataclass(frozen=True)
class Export:
    out_dir: Path
    card: dict


def run_export(params: dict, *, scores_path: Path = Path("results/scores.csv"), models_dir: Path = Path("models"),
               features_dir: Path = Path("data/features"), embeddings_dir: Path = Path("data/embeddings"),
               spectrograms_dir: Path = Path("data/spectrograms"), interim_dir: Path = Path("data/interim"),
               out_dir: Path = PREDICT_DIR, progress: bool = True) -> Export:
    """Choose, (re)fit and write the shipped model and the recommender index to ``out_dir``."""
    import joblib

    from genrelab import models
    from genrelab.inference.inputs import complete_features
    from genrelab.inference.recommend import RecommendIndex, corpus_vectors, space_settings
    from genrelab.parallel import configured
    from genrelab.stages.common import read_prepared

    p = params["predict"]
    chosen = select_model(read_scores(scores_path), p)
    saved = models.load(_saved_path(models_dir / chosen["approach"], chosen["model"], chosen["protocol"]))
    features = complete_features(chosen["approach"], saved.features, params, spectrograms_dir)
    manifest, splits = read_prepared(interim_dir)
    dirs = dict(features_dir=features_dir, embeddings_dir=embeddings_dir, spectrograms_dir=spectrograms_dir)
    estimator, n_tracks = saved.estimator, None
    if p["refit"]:
        estimator, n_tracks = _refit(saved.estimator, chosen["approach"], features, splits, dirs)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("model.*"):
        old.unlink()
    fitted_on = "all ok tracks" if p["refit"] else chosen["protocol"]
    shipped = models.SavedModel(estimator, chosen["approach"], chosen["model"], fitted_on, "segment", saved.classes, features)
    model_file = models.save(shipped, out_dir / f"model{models.suffix_for(estimator)}")

    space = space_settings(params)
    ids, vectors = corpus_vectors(space, features_dir=features_dir, embeddings_dir=embeddings_dir)
    tracks = _track_table(manifest, splits, ids)
    keep = np.isin(ids, tracks["track_id"].to_numpy(dtype=object))
    with configured(params["parallel"]):
        prints = _fingerprints(tracks, params["data"]["root"], params["recommend"]["jobs"], progress)
    index = RecommendIndex(space, str(params["data"]["root"]), tracks, vectors[keep], prints,
                           params["prepare"]["near_duplicate_threshold"])  # fmt: skip
    joblib.dump(index, out_dir / INDEX, compress=3)

    card = {
        "approach": chosen["approach"], "model": chosen["model"], "protocol": chosen["protocol"],
        "selected_by": selection_rule(p),
        "selection": {"score": _number(chosen["select_score"]), "std": _number(chosen["select_std"]),
                      "folds": int(chosen["select_folds"]), "method": str(chosen["select_by"])},
        "refit": p["refit"], "model_file": model_file.name,
        "trained_on_tracks": n_tracks if n_tracks is not None else int((splits[chosen["protocol"]] == "train").sum()),
        "test": {k: _number(chosen[k]) for k in ("accuracy", "macro_f1", "ci_low", "ci_high", "n_test")},
        "classes": list(saved.classes), "features": features, "recommend": {**space, "tracks": len(tracks)},
        "commit": study_commit(),
    }  # fmt: skip
    (out_dir / CARD).write_text(json.dumps(card, indent=2) + "\n")
    return Export(out_dir, card)


def _saved_path(folder: Path, model: str, protocol: str) -> Path:
    from genrelab.models import model_path

    for suffix in (".joblib", ".keras"):
        path = model_path(folder, model, protocol, "segment", suffix)
        if path.exists():
            return path
    raise DataError(f"{model_path(folder, model, protocol, 'segment')}: the saved model of the chosen entry is "
                    "missing (.joblib or .keras). Rerun its stage (dvc repro).")  # fmt: skip


def _refit(estimator, approach: str, features: dict, splits: pd.DataFrame, dirs: dict):
    """A fresh copy of ``estimator`` fitted on every segment of every ``ok`` track (grouped by artist
    where it holds out groups for early stopping)."""
    from sklearn.base import clone

    from genrelab.evaluation.loop import fit_with_groups
    from genrelab.inference.inputs import corpus_inputs

    X, index = corpus_inputs(approach, features, **dirs)
    track_ids = index["track_id"].to_numpy(dtype=object)
    rows = np.flatnonzero(np.isin(track_ids, splits["track_id"].to_numpy(dtype=object)))
    groups = splits.set_index("track_id")["artist_group"].reindex(track_ids[rows]).to_numpy(dtype=object)
    fitted = fit_with_groups(clone(estimator), np.asarray(X[rows]), index["genre"].to_numpy(dtype=object)[rows], groups)
    return fitted, int(len(set(track_ids[rows])))


def _track_table(manifest: pd.DataFrame, splits: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    from genrelab.inference.recommend import TRACK_COLUMNS

    tracks = splits[["track_id", "genre", "artist", "dup_group"]].merge(manifest[["track_id", "path"]], on="track_id")
    tracks = tracks[tracks["track_id"].isin(ids)].sort_values("track_id", kind="stable")
    return tracks[TRACK_COLUMNS].reset_index(drop=True)


def _fingerprints(tracks: pd.DataFrame, root, jobs: int, progress: bool) -> np.ndarray:
    """float16 (n_tracks, n_frames, n_bands): each track's near-duplicate fingerprint, zero-padded."""
    from genrelab.parallel import failures, map_tracks

    results = map_tracks(_bands, [(Path(root) / path,) for path in tracks["path"]], jobs=jobs, desc="fingerprints",
                         unit="track", progress=progress)  # fmt: skip
    if failed := failures(results):  # these files passed the prepare stage's checks
        raise failed[0].error
    out = np.zeros((len(results), max(len(b) for b in results), results[0].shape[1]), dtype=np.float16)
    for i, bands in enumerate(results):
        out[i, : len(bands)] = bands
    return out


def _bands(path: Path) -> np.ndarray:
    from genrelab.data import audio, dedup

    return dedup.fingerprint(audio.load(path, sr=audio.DEFAULT_SR)[0], audio.DEFAULT_SR).bands


def _number(value):
    return int(value) if isinstance(value, (int, np.integer)) else float(value)


def study_commit(cwd: str | Path = ".") -> dict:
    """The study's commit, and whether tracked files differed from it (``dirty``)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()

    try:
        return {"sha": git("rev-parse", "HEAD"), "dirty": git("status", "--porcelain", "--untracked-files=no") != ""}
    except (OSError, subprocess.CalledProcessError):
        return {"sha": "unknown (no git commit here)", "dirty": None}
