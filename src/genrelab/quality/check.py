"""``genrelab quality``: what a file claims, what its spectrum shows, and the verdict of the two.

For each file:

1. the claim, read from the header (:func:`genrelab.quality.header.read_header`);
2. the features of a few excerpts spread over the file (only they are decoded:
   :func:`genrelab.quality.excerpts.excerpt_features`);
3. the shipped model's collision group (:data:`genrelab.quality.conditions.COLLISION_GROUPS`), its
   probabilities averaged over the excerpts, and the measured bandwidth (the median cut-off);
4. the verdict, comparing the group with the one the claim implies (:func:`claimed_group`):

``genuine``
    the file holds at least what it claims;
``transcoded``
    an MP3 whose spectrum is that of a lower setting (``transcoded from ≈128 kbps``);
``fake lossless``
    a lossless file (FLAC, WAV, ...) whose spectrum is an MP3's (``fake lossless from ≈192 kbps``);
``undecidable``
    the spectrum cannot answer: the file's rate is too low to show a low-pass, it has no cut-off
    and too little content above 15 kHz to show one, or its codec is not one the model learned.

The confidence of ``transcoded`` and ``fake lossless`` is the model's probability of any group below
the claim; that of ``genuine`` is one minus it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.errors import AudioError
from genrelab.parallel import Failure, map_tracks
from genrelab.quality import spectral
from genrelab.quality.conditions import COLLISION_GROUPS, GROUP_ORDER, LOSSLESS, QUALITY_ORDER
from genrelab.quality.header import Header, read_header

EXCERPTS = 3
EXCERPT_SECONDS = 10.0  # as long as the study's shortest excerpts
MIN_SECONDS = 1.0
MIN_SAMPLE_RATE = 32000  # below it the Nyquist frequency is under every LAME low-pass but CBR 96's
# Content at 15-16 kHz less than an edge above 16-bit noise cannot show a low-pass (dB re a full-scale bin).
FAINT_HIGH_BAND_DB = spectral.PCM16_FLOOR_DB + spectral.EDGE_DB
VERDICTS = ("genuine", "transcoded", "fake lossless", "undecidable")


def group_label(group: str) -> str:
    """A collision group as a user reads it: ``lp17k`` -> ``≈128 kbps``, ``lp18k`` -> ``≈V3``."""
    settings = [s for s in QUALITY_ORDER if COLLISION_GROUPS[s] == group]
    if group == LOSSLESS:
        return LOSSLESS
    rates = [int(s[3:]) for s in settings if s.startswith("cbr")]
    if group == GROUP_ORDER[0]:
        return f"≤{rates[0]} kbps"
    if rates:
        return f"≈{rates[0]} kbps" if len(rates) == 1 else f"≈{rates[0]}–{rates[-1]} kbps"
    return "≈" + "/".join(s.upper() for s in settings)


def claimed_group(header: Header) -> str | None:
    """The collision group the header claims; None for a codec the model did not learn.

    A lossless codec claims ``lossless``. An MP3 claims the group of the highest LAME CBR rate at or
    below its bitrate (CBR 96 below that). A VBR file's header gives only its average bitrate, and
    rounding it down is lenient on purpose: V2 averages about 190 kbps and is not accused as a 192.
    """
    if header.claims_lossless:
        return LOSSLESS
    if header.codec != "mp3" or not header.bitrate_kbps:
        return None
    from genrelab.quality.codecs import LAME_CBR

    rate = max([k for k in LAME_CBR if k <= header.bitrate_kbps + 0.5], default=LAME_CBR[0])
    return COLLISION_GROUPS[f"cbr{rate}"]


@dataclass
class QualityReport:
    """One file's answer. ``probabilities`` are per collision group, in the model's class order."""

    path: str
    header: Header
    bandwidth_hz: float  # the median cut-off of the excerpts; the Nyquist frequency when there is none
    has_cutoff: bool
    group: str  # the most probable collision group
    probabilities: dict[str, float]
    verdict: str  # one of VERDICTS
    detail: str  # the verdict in words: "transcoded from ≈128 kbps", "undecidable: no cut-off ..."
    confidence: float | None  # None when undecidable
    excerpts: list[tuple[float, float]] = field(default_factory=list)  # (offset, seconds) decoded

    def as_dict(self) -> dict:
        return {"file": self.path, "claim": self.header.claim, **{f"header_{k}": v for k, v in self.header.as_dict().items()},
                "bandwidth_hz": round(self.bandwidth_hz, 1), "has_cutoff": self.has_cutoff, "class": self.group,
                "class_label": group_label(self.group), "verdict": self.verdict, "detail": self.detail,
                "confidence": None if self.confidence is None else round(self.confidence, 4),
                "probabilities": {g: round(p, 4) for g, p in self.probabilities.items()},
                "excerpts": [[round(o, 3), round(s, 3)] for o, s in self.excerpts]}  # fmt: skip


def excerpt_plan(seconds: float, n: int = EXCERPTS, length: float = EXCERPT_SECONDS) -> list[tuple[float, float]]:
    """``n`` excerpts of ``length`` s spread evenly over a file of ``seconds`` s, away from its ends
    (fade-ins and silences); the whole file, once, when it is shorter than one excerpt."""
    if seconds <= length:
        return [(0.0, float(seconds))]
    room = seconds - length
    return [(round(room * (k + 1) / (n + 1), 3), float(length)) for k in range(n)]


def file_features(path: str | Path, n_excerpts: int, seconds: float, edge_db: float) -> tuple[Header, list[dict]]:
    """The header of ``path`` and the quality features of its :func:`excerpt_plan`.
    Raises :class:`AudioError` naming the file when it is empty, has no header, or cannot be decoded."""
    from genrelab.data import audio
    from genrelab.quality.excerpts import excerpt_features

    path = Path(path)
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes). Copy it again from its source.", kind="empty")
    header = read_header(path)
    try:
        info = audio.info(path)
    except AudioError as err:
        reason = str(err).removeprefix(f"{path}: ")
        raise AudioError(f"{path}: {header.claim} header, but {reason}", kind=err.kind) from err
    duration = info.duration if info.frames > 0 else (header.seconds or 0.0)
    if duration < MIN_SECONDS:
        raise AudioError(f"{path}: {duration:.2f} s of audio; at least {MIN_SECONDS:g} s is needed to measure it.",
                         kind="too_short")  # fmt: skip
    return header, excerpt_features(path, excerpt_plan(duration, n_excerpts, seconds), edge_db)


def verdict(header: Header, group: str, probabilities: dict[str, float], has_cutoff: bool,
            high_band_db: float) -> tuple[str, str, float | None]:  # fmt: skip
    """``(verdict, detail, confidence)`` of a file whose header is ``header`` and whose spectrum
    the model reads as ``group`` with ``probabilities``; ``high_band_db`` is its 15-16 kHz level,
    dB re a full-scale sine's bin (about -91 for the demo's bright styles, -132 for 16-bit silence)."""
    if header.sample_rate and header.sample_rate < MIN_SAMPLE_RATE:
        return "undecidable", f"undecidable: sampled at {header.sample_rate} Hz, too low to show a low-pass", None
    claim = claimed_group(header)
    if claim is None:
        return "undecidable", f"undecidable: {header.codec or header.container} is not a codec the model learned", None
    if not has_cutoff and high_band_db < FAINT_HIGH_BAND_DB:
        return "undecidable", "undecidable: no cut-off, and too little content above 15 kHz to show one", None
    below = GROUP_ORDER[: GROUP_ORDER.index(claim)]
    p_below = float(sum(probabilities.get(g, 0.0) for g in below))
    if p_below <= 0.5:
        return "genuine", "genuine", 1.0 - p_below
    source = max(below, key=lambda g: probabilities.get(g, 0.0))
    kind = "fake lossless" if claim == LOSSLESS else "transcoded"
    return kind, f"{kind} from {group_label(source)}", p_below


def check_files(files: Sequence[str | Path], model, *, n_excerpts: int = EXCERPTS, seconds: float = EXCERPT_SECONDS,
                jobs: int = 1, progress: bool = True) -> tuple[list[QualityReport], list[Failure]]:  # fmt: skip
    """The :class:`QualityReport` of each file that could be read, in order, and the failures.

    ``model`` is the quality model the ``quality_models`` stage saved (a
    :class:`genrelab.models.SavedModel`); the excerpts' features are made on ``jobs`` workers and
    scored in one batch.
    """
    edge_db = float(model.features["edge_db"])
    work = [(Path(f), n_excerpts, seconds, edge_db) for f in files]
    results = map_tracks(file_features, work, jobs=jobs, desc="quality", unit="file", progress=progress)
    done = [(item[0], r) for item, r in zip(work, results) if not isinstance(r, Failure)]
    if not done:
        return [], [r for r in results if isinstance(r, Failure)]
    rows = pd.DataFrame([row for _, (_, features) in done for row in features])
    owner = np.repeat(np.arange(len(done)), [len(features) for _, (_, features) in done])
    proba = model.predict_proba(rows[model.features["columns"]].to_numpy(dtype=float))
    reports = [_report(path, header, rows[owner == k], proba[owner == k], list(model.classes))
               for k, (path, (header, _)) in enumerate(done)]  # fmt: skip
    return reports, [r for r in results if isinstance(r, Failure)]


def _report(path: Path, header: Header, rows: pd.DataFrame, proba: np.ndarray, classes: list[str]) -> QualityReport:
    mean = proba.mean(axis=0)
    probabilities = dict(zip(classes, mean.astype(float).tolist()))
    group = classes[int(np.argmax(mean))]
    has_cutoff = bool(rows["has_cutoff"].mean() > 0.5)
    kind, detail, confidence = verdict(header, group, probabilities, has_cutoff, float((rows["band_15k_db"] + rows["reference_db"]).median()))
    return QualityReport(str(path), header, float(rows["cutoff_hz"].median()), has_cutoff, group, probabilities, kind,
                         detail, confidence, list(zip(rows["offset_seconds"], rows["excerpt_seconds"])))  # fmt: skip


def load_model(path: str | Path):
    """The saved quality model; a :class:`DataError` saying how to build it when it is missing."""
    from genrelab import models
    from genrelab.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no quality model. Build it with `dvc repro quality_models` (or `make repro`).")
    saved = models.load(path)
    if saved.approach != "quality":
        raise DataError(f"{path}: a {saved.approach} model, not a quality model (from `dvc repro quality_models`).")
    return saved


def model_summary(model) -> str:
    """One line: which model, and what the study measured of it on held-out sources."""
    held_out = model.features.get("held_out", {})
    if not held_out:
        return f"model: quality / {model.model}"
    return (f"model: quality / {model.model}; on the study's held-out sources, fitted without them: collision-group "
            f"macro-F1 {held_out['group_macro_f1']:.0%}, fake lossless caught {held_out['fake_detection']:.0%}, genuine "
            f"lossless accused {held_out['false_positive_rate']:.0%}, this command's verdict right on "
            f"{held_out['verdict_accuracy']:.0%} of files ({held_out['undecidable']:.0%} undecidable) "
            "(LAME only; other encoders: see the book)")  # fmt: skip
