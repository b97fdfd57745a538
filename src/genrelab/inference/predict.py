"""``genrelab predict``: genre probabilities of audio files from the model the export stage shipped.

A file is cut into the study's segments (any length, format, channel count or sample rate the
loader reads); the model scores each segment and the file's probabilities are the mean of its
segments', as the study scores tracks. The spread is each class's standard deviation over the
segments: a song that changes style shows it there.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genrelab.errors import AudioError, DataError
from genrelab.inference.export import ABSENT, CARD, INDEX, PREDICT_DIR
from genrelab.inference.inputs import AudioFile, file_inputs


@dataclass
class FilePrediction:
    """One file's answer. ``probabilities`` and ``spread`` are per class, in the model's class order."""

    path: str
    classes: list[str]
    probabilities: np.ndarray  # float (n_classes,), sums to 1
    spread: np.ndarray  # float (n_classes,), std over segments
    n_segments: int
    seconds: float  # audio duration
    elapsed: float  # wall-clock seconds to answer, model loaded

    def top(self, n: int = 3) -> list[tuple[str, float, float]]:
        """The ``n`` most probable ``(genre, probability, spread)``, most probable first."""
        order = np.argsort(-self.probabilities, kind="stable")[:n]
        return [(self.classes[i], float(self.probabilities[i]), float(self.spread[i])) for i in order]

    def as_dict(self, top: int = 3) -> dict:
        return {"file": self.path, "segments": self.n_segments, "seconds": round(self.seconds, 2),
                "top": [{"genre": g, "probability": round(p, 4), "spread": round(s, 4)} for g, p, s in self.top(top)],
                "probabilities": {c: round(float(v), 6) for c, v in zip(self.classes, self.probabilities)}}  # fmt: skip


@dataclass
class Predictor:
    """The shipped model with its card, loaded once (``serve`` keeps one for its lifetime)."""

    folder: Path
    card: dict
    model: object = field(repr=False)
    _index: object = field(default=None, repr=False)

    @classmethod
    def load(cls, folder: str | Path = PREDICT_DIR) -> Predictor:
        """Raises :class:`DataError` saying how to build ``folder`` when it is missing."""
        from genrelab import models

        folder = Path(folder)
        if (folder / ABSENT).is_file():  # the export stage said why it shipped nothing here
            raise DataError(f"{folder}: {json.loads((folder / ABSENT).read_text())['reason']}")
        if not (folder / CARD).is_file():
            raise DataError(f"{folder}: no shipped model ({CARD} missing). Build it with `dvc repro export` "
                            "(or `make repro`).")  # fmt: skip
        card = json.loads((folder / CARD).read_text())
        return cls(folder, card, models.load(folder / card["model_file"]))

    @property
    def classes(self) -> list[str]:
        return list(self.card["classes"])

    def summary(self) -> str:
        """One line: which model, and how far to trust it."""
        t, c = self.card["test"], self.card
        trained = "GTZAN's" if "data" in c else "the study's"  # only the GTZAN card describes its data
        return (f"model: {c['approach']} / {c['model']}; measured track accuracy {t['accuracy']:.0%} "
                f"(95% CI {t['ci_low']:.0%}-{t['ci_high']:.0%}, {t['n_test']} test tracks, {c['protocol']}) on "
                f"{trained} {len(self.classes)} genres: {', '.join(self.classes)}")  # fmt: skip

    def predict(self, source: AudioFile | str | Path) -> FilePrediction:
        """Raises :class:`AudioError` naming the file when it is unreadable or too short."""
        start = time.perf_counter()
        source = source if isinstance(source, AudioFile) else AudioFile(source)
        X = file_inputs(source, self.card["approach"], self.card["features"])
        proba = np.asarray(self.model.predict_proba(X), dtype=np.float64)
        mean = proba.mean(axis=0)
        return FilePrediction(str(source.path), self.classes, mean / mean.sum(), proba.std(axis=0), len(X),
                              source.duration(), time.perf_counter() - start)  # fmt: skip

    def recommender(self):
        """The corpus index written beside the model (:class:`genrelab.inference.recommend.RecommendIndex`),
        loaded once. A relative data root is taken from the project holding ``models/predict``."""
        import joblib

        if self._index is None:
            path = self.folder / INDEX
            if not path.is_file():
                raise DataError(f"{path}: the recommender index is missing. Build it with `dvc repro export`.")
            self._index = joblib.load(path)
            self._index.root = str(Path(self.folder).resolve().parents[1] / self._index.root)
        return self._index


def predict_files(predictor: Predictor, paths: list[Path], progress: bool = True):
    """Each file's :class:`FilePrediction`, or its :class:`AudioError` (the others carry on)."""
    from tqdm.auto import tqdm

    out = []
    for path in tqdm(paths, desc="predict", unit="file", disable=not progress or len(paths) < 2):
        try:
            out.append(predictor.predict(path))
        except AudioError as err:
            out.append(err)
    return out
