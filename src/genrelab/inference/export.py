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

``models/predict_gtzan/`` (:func:`run_export_gtzan`) holds a model of GTZAN's ten genres in the same
format, so ``genrelab predict --model gtzan`` answers with real genres whatever corpus the study ran
on: the public GTZAN 30 s table's entry under ``fault_filtered`` (results of the ``audio_models``
stage) with the highest selection score, its accuracy on the official valid split. Its card has the
keys of the main card (no recommender index) and ``data``: what it learned from, and its limits.
Without that run (no public table), the folder holds only ``absent.json`` saying why.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.constants import SERVABLE_APPROACHES
from genrelab.errors import DataError
from genrelab.evaluation.results import read_scores

PREDICT_DIR = Path("models/predict")
GTZAN_DIR = Path("models/predict_gtzan")
SHIPPED = {"main": PREDICT_DIR, "gtzan": GTZAN_DIR}  # the names `genrelab predict --model` knows
CARD = "card.json"
ABSENT = "absent.json"  # what a shipped-model folder holds instead of a card when there was nothing to ship
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


def select_model(scores: pd.DataFrame, p: dict, *, levels=("track",), approaches=SERVABLE_APPROACHES) -> pd.Series:
    """The results row of the model to ship, by the rule of the ``predict`` params section ``p``.

    Test scores play no part: candidates are ranked by ``select_score`` (:func:`selection_rule`).
    ``levels`` and ``approaches`` are the candidate rows (the GTZAN model's: clip rows of the public run).
    """
    rows = scores[scores["level"].isin(levels) & scores["approach"].isin(approaches)]
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
    from genrelab.data.manifest import read_prepared

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


GTZAN_PROTOCOL = "fault_filtered"
GTZAN_DATA = {
    "dataset": "GTZAN (Tzanetakis & Cook 2002): 1,000 clips of 30 s, 100 in each of 10 genres, 22050 Hz mono",
    "input": "the public GTZAN 30 s feature table (Kaggle features_30_sec.csv, 57 features a clip), whose columns "
             "genrelab.features.gtzan57 reproduces from any audio file",
    "fitted_on": "the train and valid clips of the fault-filtered split (Kereliuk, Sigtia & Sturm 2015); its test "
                 "clips only score it",
    "limits": ["30 s clips: a longer file is cut into 30 s windows whose probabilities are averaged",
               "recordings up to about 2000, many from CDs and radio; newer production styles are unseen",
               "10 genres only: blues, classical, country, disco, hiphop, jazz, metal, pop, reggae, rock; any "
               "other music is answered with the nearest of them",
               "known label faults, repeated clips and artists (Sturm 2013): the fault-filtered split avoids them "
               "in its test score, the training clips still hold some mislabelled ones"],
}  # fmt: skip


def gtzan_selection_rule(approach: str) -> str:
    """How :func:`run_export_gtzan` chooses, in words, for its card."""
    return (f"the clip-level entries of {approach} (every audio_models model on the public GTZAN 30 s table) under "
            f"{GTZAN_PROTOCOL}, ranked by their selection score: accuracy on the split's official valid clips of a fit "
            "on its train clips; ties go to the smaller spread, then by model name. The test clips only score the "
            "chosen entry, once")  # fmt: skip


def run_export_gtzan(scores_path: Path, models_dir: Path, approach: str, splits_dir: str,
                     out_dir: Path = GTZAN_DIR) -> tuple[dict | None, str]:
    """Ship the model of GTZAN's ten genres to ``out_dir``, from the public-table run of the audio_models stage.

    Parameters
    ----------
    scores_path : that run's results rows (``results/public_gtzan_30s.csv``).
    models_dir : its fitted models (``models/audio_features_public_gtzan``), ``approach`` their approach name.
    splits_dir : ``data.gtzan_splits``, the fault-filtered lists; they count the clips the model learned from.

    The shipped model is the chosen entry's own fit on the train and valid clips (the selection fit
    used train only), so the test accuracy on the card is the shipped model's. Returns ``(card,
    message)``; without any model of that run under ``fault_filtered`` (the stage ran without the public
    table or the split lists), ``(None, why)``, and ``out_dir`` holds only :data:`ABSENT` saying so: the
    folder is always written (a DVC output), and always the same for the same inputs.
    """
    from genrelab import models
    from genrelab.config import section
    from genrelab.data.gtzan_files import read_fault_filtered_split

    out_dir.mkdir(parents=True, exist_ok=True)
    for old in [*out_dir.glob("model.*"), out_dir / CARD, out_dir / ABSENT]:
        old.unlink(missing_ok=True)
    if not list(models_dir.glob(f"*__{GTZAN_PROTOCOL}__clip.joblib")) or not splits_dir:
        why = (f"no GTZAN model shipped: {models_dir} holds no model fitted on the public GTZAN 30 s table under "
               f"{GTZAN_PROTOCOL}. Set data.public_features_30s (Kaggle features_30_sec.csv) and data.gtzan_splits "
               "in params.yaml, then run `dvc repro export`.")  # fmt: skip
        (out_dir / ABSENT).write_text(json.dumps({"shipped": False, "reason": why}, indent=2) + "\n")
        return None, why
    rule = section("predict", {"protocol": GTZAN_PROTOCOL})
    chosen = select_model(read_scores(scores_path), rule, levels=("clip",), approaches=(approach,))
    saved = models.load(models.model_path(models_dir, chosen["model"], GTZAN_PROTOCOL, "clip"))
    subsets = pd.Series(read_fault_filtered_split(splits_dir)).value_counts()
    if int(chosen["n_test"]) != subsets.get("test", 0):
        raise DataError(f"{scores_path}: {chosen['model']} was tested on {chosen['n_test']} clips, but {splits_dir} "
                        f"lists {subsets.get('test', 0)} test clips. Rerun the audio_models stage (dvc repro).")  # fmt: skip
    shipped = models.SavedModel(saved.estimator, "audio_features", chosen["model"], GTZAN_PROTOCOL, "clip",
                                saved.classes, saved.features)  # fmt: skip
    model_file = models.save(shipped, out_dir / f"model{models.suffix_for(saved.estimator)}")
    card = {
        "approach": "audio_features", "model": chosen["model"], "protocol": GTZAN_PROTOCOL,
        "selected_by": gtzan_selection_rule(approach),
        "selection": {"score": _number(chosen["select_score"]), "std": _number(chosen["select_std"]),
                      "folds": int(chosen["select_folds"]), "method": str(chosen["select_by"])},
        "refit": False, "model_file": model_file.name,
        "trained_on_tracks": int(subsets.get("train", 0) + subsets.get("valid", 0)),
        "test": {k: _number(chosen[k]) for k in ("accuracy", "macro_f1", "ci_low", "ci_high", "n_test")},
        "classes": list(saved.classes), "features": saved.features, "recommend": None, "data": GTZAN_DATA,
        "commit": study_commit(),
    }  # fmt: skip
    (out_dir / CARD).write_text(json.dumps(card, indent=2) + "\n")
    return card, f"{out_dir}/"


def shipped_folder(name_or_path: str | Path) -> Path:
    """The folder of a shipped model: a name of :data:`SHIPPED` (``main``, ``gtzan``) or a path."""
    return SHIPPED.get(str(name_or_path), Path(name_or_path))


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

    from genrelab.evaluation.selection import fit_with_groups
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
