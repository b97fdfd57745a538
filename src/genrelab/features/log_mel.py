"""Log-mel spectrograms of decoded audio: the settings, one spectrogram, a track's segments, the band frequencies.

Values are ``10 log10`` of mel power, referenced as :class:`SpectrogramSettings` ``ref`` says and
clipped to ``top_db`` below each spectrogram's maximum. The ``spectrograms`` stage
(:mod:`genrelab.features.spectrograms`) writes them for every track; inference computes them for a
new file with the stage's settings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from genrelab.data import audio
from genrelab.errors import DataError

REFS = ("max", "unit")
# Power below this counts as silence (librosa.power_to_db's default ``amin``).
_AMIN = 1e-10


@dataclass(frozen=True)
class SpectrogramSettings:
    """How spectrograms are computed. Frequencies in Hz, durations in seconds, levels in dB."""

    sr: int = audio.DEFAULT_SR
    n_mels: int = 128
    n_fft: int = 2048
    hop_length: int = 512
    fmin: float = 0.0
    fmax: float = 11025.0
    ref: str = "max"
    top_db: float = 80.0
    segment_seconds: float = 3.0
    clip_seconds: float = 30.0

    def __post_init__(self):
        if self.ref not in REFS:
            raise DataError(f"spectrograms.ref must be one of {REFS}, got {self.ref!r}")
        if not 0 <= self.fmin < self.fmax <= self.sr / 2:
            raise DataError(
                f"spectrograms.fmax must lie in (fmin, sr/2] = ({self.fmin}, {self.sr / 2}] Hz, got {self.fmax}"
            )
        for key in ("n_mels", "n_fft", "hop_length", "top_db", "segment_seconds", "clip_seconds"):
            if getattr(self, key) <= 0:
                raise DataError(f"spectrograms.{key} must be positive, got {getattr(self, key)}")

    @property
    def segment_samples(self) -> int:
        return int(round(self.segment_seconds * self.sr))

    @property
    def clip_samples(self) -> int:
        return int(round(self.clip_seconds * self.sr))

    @property
    def n_frames(self) -> int:
        """Frames of one segment spectrogram (centred STFT frames)."""
        return 1 + self.segment_samples // self.hop_length

    @property
    def n_clip_frames(self) -> int:
        return 1 + self.clip_samples // self.hop_length

    def key(self) -> str:
        """A short hash of the settings: cached spectrograms are only reused for equal settings."""
        text = json.dumps(self.__dict__, sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def log_mel(y: np.ndarray, settings: SpectrogramSettings) -> np.ndarray:
    """Log-mel spectrogram in dB of mono audio ``y`` (float32, shape (n_samples,)).

    Returns float32, shape (n_mels, 1 + n_samples // hop_length).
    """
    import librosa

    power = librosa.feature.melspectrogram(
        y=y, sr=settings.sr, n_fft=settings.n_fft, hop_length=settings.hop_length,
        n_mels=settings.n_mels, fmin=settings.fmin, fmax=settings.fmax, power=2.0,
    )  # fmt: skip
    peak = float(power.max())
    if peak <= _AMIN:
        # Digital silence: referenced to its own maximum it would read 0 dB everywhere (the
        # brightest picture); show it as the floor instead.
        floor = -settings.top_db if settings.ref == "max" else 10 * np.log10(_AMIN)
        return np.full(power.shape, floor, dtype=np.float32)
    ref = peak if settings.ref == "max" else 1.0
    return librosa.power_to_db(power, ref=ref, amin=_AMIN, top_db=settings.top_db).astype(np.float32)


def mel_band_centres(n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Centre frequency in Hz of each band of librosa's mel filter bank, shape (n_mels,).

    Band ``i`` of ``librosa.filters.mel`` is a triangle peaking at the ``i + 1``-th of
    ``n_mels + 2`` mel-spaced frequencies between ``fmin`` and ``fmax``.
    """
    import librosa

    return librosa.mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax)[1:-1]


def segment_spectrograms(y: np.ndarray, settings: SpectrogramSettings) -> np.ndarray:
    """The log-mel spectrogram of each segment of mono audio ``y`` (float32 (n,), at ``settings.sr``):
    float32 (n_segments, n_mels, n_frames), segments cut by :func:`genrelab.features.segments.segment_bounds`."""
    from genrelab.features.segments import segment_bounds

    bounds = segment_bounds(len(y), settings.sr, settings.segment_seconds)
    segments = np.empty((len(bounds), settings.n_mels, settings.n_frames), dtype=np.float32)
    for k, (start, stop) in enumerate(bounds):
        segments[k] = _fit_frames(log_mel(y[start:stop], settings), settings.n_frames, settings.top_db)
    return segments


def _fit_frames(S: np.ndarray, n_frames: int, top_db: float) -> np.ndarray:
    """Trim ``S`` (n_mels, t) to ``n_frames`` columns, or pad it at the end with its dB floor."""
    if S.shape[1] >= n_frames:
        return S[:, :n_frames]
    return np.pad(S, ((0, 0), (0, n_frames - S.shape[1])), constant_values=S.max() - top_db)
