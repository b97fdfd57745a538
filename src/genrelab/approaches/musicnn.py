"""Transfer from music-pretrained networks: musicnn embeddings and fine-tuning, through the one loop.

``musicnn_embeddings``
    Frozen embeddings: a layer of a checkpoint (``MSD_musicnn.max_pool``, ...) per 3 s segment
    feeds the study's classic classifiers (standardised, as the audio-feature models), scored
    per segment and per track. One more model at clip level reproduces the pipeline the
    musicnn authors published (:class:`PatchVoteSVM`).
``musicnn_finetune``
    The checkpoint's back end (batch norm, dense 200, batch norm; initialised from the
    checkpoint) with a new softmax genre head, trained on the study's segments
    (:class:`MusicnnFineTune`). Its input is the frozen front and mid end's pooled features,
    which the embeddings stage has already computed, so an epoch costs seconds.

Model names say which checkpoint and layer ran: ``MSD_musicnn.max_pool+svm_rbf``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from genrelab.config import section
from genrelab.errors import DataError
from genrelab.evaluation.loop import Evaluation, evaluate
from genrelab.models import ProbabilityClassifier
from genrelab.nn.estimator import KerasClassifier
from genrelab.nn.training import history_table, seed_everything, train_with_early_stopping
from genrelab.pretrained import musicnn
from genrelab.pretrained.embeddings import load_embeddings

EMBEDDINGS = "musicnn_embeddings"
FINETUNE = "musicnn_finetune"


def published_label(params: dict) -> str:
    """Model name of the published pipeline, e.g. ``MSD_musicnn.max_pool+pca128w_svm_rbf_vote[1s]``."""
    p = params["published"]
    patches = "segments" if p["hop_seconds"] is None else f"{p['hop_seconds']:g}s"
    return f"{p['checkpoint']}.{p['layer']}+pca{p['pca_components']}w_svm_rbf_vote[{patches}]"


def finetune_label(params: dict) -> str:
    """Model name of the fine-tuned network, e.g. ``MSD_musicnn+backend_finetune``."""
    p = params["finetune"]
    return f"{p['checkpoint']}+{p['trainable']}_finetune"


# --------------------------------------------------------------------------------------- estimators


class PatchVoteSVM(ProbabilityClassifier):
    """The published musicnn genre pipeline: PCA (whitened) and an RBF SVM on every patch, then a
    majority vote of a track's patches.

    ``X`` : float (n_tracks, n_patches, dim), one bag of patch embeddings per track.
    ``predict_proba`` gives each class's share of the track's patch votes, so its argmax is the
    majority vote (ties go to the first class in ``classes_``).
    """

    def __init__(self, n_components: int = 128, C: float = 1.0, seed: int = 42):
        self.n_components = n_components
        self.C = C
        self.seed = seed

    def fit(self, X, y):
        X = _bags(X)
        self.classes_ = np.unique(np.asarray(y, dtype=object))
        rows = X.reshape(-1, X.shape[2])
        labels = np.repeat(np.asarray(y, dtype=object), X.shape[1])
        self.pipeline_ = make_pipeline(
            PCA(n_components=min(self.n_components, *rows.shape), whiten=True, random_state=self.seed),
            SVC(C=self.C, kernel="rbf", gamma="scale"),
        ).fit(rows, labels)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        X = _bags(X)
        votes = self.pipeline_.predict(X.reshape(-1, X.shape[2])).reshape(X.shape[:2])
        return np.stack([(votes == c).mean(axis=1) for c in self.classes_], axis=1)


def _bags(X) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 3:
        raise DataError(f"PatchVoteSVM takes (n_tracks, n_patches, dim) bags of patch embeddings, got shape {X.shape}.")
    return X


class MusicnnFineTune(KerasClassifier):
    """The pretrained back end of a musicnn checkpoint with a new genre head, as a classifier.

    ``X`` : float32 (n, 1506), the frozen mid end's features pooled over the patch: max and
    mean of each of the 753 features, interleaved (:func:`pooled_features`), as the back end
    takes them. ``fit(X, y, groups)`` holds out whole groups for early stopping, as the CNNs do.

    ``trainable``: ``backend`` trains the dense layer and the new head (batch norms keep the
    checkpoint's statistics); ``head`` only the new softmax layer.

    Parameters
    ----------
    params : the ``musicnn`` section of params.yaml (None: all defaults).
    valid_fraction : share of the training groups held out for early stopping (``cnn.valid_fraction``).
    seed : seeds the split, the new head and the batch order.
    """

    def __init__(self, params: dict | None = None, valid_fraction: float = 0.2, seed: int = 42):
        super().__init__(params, seed)
        self.valid_fraction = valid_fraction

    def _valid_fraction(self) -> float:
        return self.valid_fraction

    def _inputs(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float32)

    def _train(self, x, y, x_val, y_val):
        p = section("musicnn", self.params)["finetune"]
        seed_everything(self.seed)
        model = _finetune_model(p, len(self.classes_))
        history = train_with_early_stopping(
            model, x, y, x_val, y_val, learning_rate=p["learning_rate"], cosine=True, epochs=p["epochs"],
            batch_size=p["batch_size"], patience=p["patience"], seed=self.seed, phase=p["trainable"],
        )  # fmt: skip
        return model, history_table(history)

    def _batch_size(self) -> int:
        return 256


def _finetune_model(p: dict, n_classes: int):
    """Pooled features (1506) -> the checkpoint's back end -> a new softmax over ``n_classes``."""
    import keras
    from keras import layers

    if musicnn.architecture(p["checkpoint"]) != "musicnn":
        raise DataError(f"musicnn.finetune.checkpoint must be a musicnn checkpoint (its back end), got {p['checkpoint']}.")
    pretrained = musicnn.load_model(p["checkpoint"])
    inputs = keras.Input(shape=(pretrained.get_layer("pools_bn").input.shape[-1],), name="pooled")
    x = inputs
    for name in ("pools_bn", "pools_dropout", "dense", "penultimate"):
        source = pretrained.get_layer(name)
        layer = type(source).from_config(source.get_config())
        x = layer(x)
        layer.set_weights(source.get_weights())
        # Batch norm keeps the checkpoint's statistics (small data would ruin them); the dense
        # layer learns only when the back end is fine-tuned.
        layer.trainable = name == "dense" and p["trainable"] == "backend"
    x = layers.Dropout(p["dropout"], name="head_dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="genre")(x)
    return keras.Model(inputs, outputs, name=f"{p['checkpoint']}_finetune")


def pooled_features(max_pool: np.ndarray, mean_pool: np.ndarray) -> np.ndarray:
    """The back end's input from the two pooled embeddings (n, 753) each: (n, 1506), interleaved."""
    return np.stack([np.asarray(max_pool), np.asarray(mean_pool)], axis=2).reshape(len(max_pool), -1).astype(np.float32)


# ---------------------------------------------------------------------------------------------- run


def run_musicnn(
    embeddings_dir: str | Path,
    splits: pd.DataFrame,
    params: dict,
    *,
    protocols: list[str],
    models_dir: str | Path,
    valid_fraction: float = 0.2,
    split_seed: int = 42,
    test_fraction: float = 0.25,
    progress: bool = True,
) -> dict[str, list[Evaluation]]:
    """Every musicnn model under every protocol.

    Parameters
    ----------
    embeddings_dir : the embeddings stage's output (:func:`genrelab.pretrained.embeddings.compute_embeddings`).
    params : the ``musicnn`` section of params.yaml.
    models_dir : receives ``<approach>/<model>__<protocol>__<level>.joblib`` / ``.keras``.

    Returns ``{approach: [Evaluation, ...]}`` (segment-level embeddings, the published pipeline at
    clip level, fine-tuning).
    """
    from genrelab.approaches.audio_features import make_models

    p = section("musicnn", params)
    common = dict(splits=splits, protocols=protocols, seed=p["seed"], split_seed=split_seed, test_fraction=test_fraction,
                  progress=progress, jobs=p["jobs"])  # fmt: skip
    out: dict[str, list[Evaluation]] = {EMBEDDINGS: [], FINETUNE: []}
    for checkpoint in p["checkpoints"]:
        for layer in [layer for layer in p["layers"] if layer in musicnn.EMBEDDING_LAYERS[musicnn.architecture(checkpoint)]]:
            X, index = load_embeddings(embeddings_dir, checkpoint, layer)
            models = {f"{checkpoint}.{layer}+{name}": f for name, f in make_models(p["models"], seed=p["seed"]).items()}
            out[EMBEDDINGS].append(evaluate(
                X, index["genre"].to_numpy(dtype=object), index, approach=EMBEDDINGS, models=models, level="segment",
                cv_folds=p["cv_folds"], models_dir=Path(models_dir) / EMBEDDINGS,
                features={"input": "musicnn embedding", "checkpoint": checkpoint, "layer": layer, "sample_rate": 16000},
                **common,
            ))  # fmt: skip
    if p["published"]["enabled"]:
        out[EMBEDDINGS].append(_published(embeddings_dir, p, models_dir, common))
    if p["finetune"]["enabled"]:
        checkpoint = p["finetune"]["checkpoint"]
        max_pool, index = load_embeddings(embeddings_dir, checkpoint, "max_pool")
        mean_pool, _ = load_embeddings(embeddings_dir, checkpoint, "mean_pool")
        out[FINETUNE].append(evaluate(
            pooled_features(max_pool, mean_pool), index["genre"].to_numpy(dtype=object), index, approach=FINETUNE,
            models={finetune_label(p): lambda: MusicnnFineTune(p, valid_fraction, p["seed"])}, level="segment",
            cv_folds=0, models_dir=Path(models_dir) / FINETUNE,
            features={"input": "musicnn pooled features (max, mean interleaved)", "checkpoint": checkpoint,
                      "sample_rate": 16000},
            **common,
        ))  # fmt: skip
    return out


def _published(embeddings_dir, p: dict, models_dir, common: dict) -> Evaluation:
    """The published pipeline at clip level: one bag of patch embeddings per track (sliding patches
    every ``hop_seconds``, or the study's segments)."""
    q = p["published"]
    sliding = q["hop_seconds"] is not None
    X, index = load_embeddings(embeddings_dir, q["checkpoint"], q["layer"], patches=sliding)
    bags, tracks = patch_bags(X, index)
    return evaluate(
        bags, tracks["genre"].to_numpy(dtype=object), tracks[["track_id"]], approach=EMBEDDINGS,
        models={published_label(p): lambda: PatchVoteSVM(q["pca_components"], q["C"], p["seed"])}, level="clip",
        cv_folds=p["cv_folds"], models_dir=Path(models_dir) / EMBEDDINGS,
        features={"input": f"musicnn embedding of {'sliding patches' if sliding else 'the segments'}",
                  "checkpoint": q["checkpoint"], "layer": q["layer"],
                  "hop_seconds": q["hop_seconds"], "patches_per_track": int(bags.shape[1]), "sample_rate": 16000},
        **common,
    )  # fmt: skip


def patch_bags(X: np.ndarray, index: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Each track's patch embeddings as one bag of the median number of patches.

    A track with fewer patches repeats its own in order (vote shares stay those of its patches,
    up to rounding); one with more keeps its first ones.

    Returns bags float32 (n_tracks, n_patches, dim) and ``track_id, genre`` per bag.
    """
    track_ids = index["track_id"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, track_ids[1:] != track_ids[:-1]])
    sizes = np.diff(np.r_[starts, len(track_ids)])
    if len(starts) != len(set(track_ids)):
        raise DataError("patches.csv must list each track's patches together; rerun the embeddings stage.")
    n = int(np.median(sizes))
    bags = np.stack([np.resize(np.asarray(X[s : s + k]), (n, X.shape[1])) for s, k in zip(starts, sizes)])
    tracks = index.iloc[starts][["track_id", "genre"]].reset_index(drop=True)
    return bags.astype(np.float32), tracks
