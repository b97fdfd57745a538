"""The input the musicnn checkpoints were trained on: 3 s log-mel patches of 16 kHz audio.

16 kHz mono; power mel spectrogram with n_fft 512, hop 256, Hann window, 96 Slaney mel bands up
to 8 kHz; then ``log10(10000 x + 1)``. A patch is 187 frames (3 s).

Two differences from the 0.1.0 extractor, both deliberate:

- the log is taken in float32. The extractor casts to float16 first, which under NumPy 2
  overflows to inf for loud bins and makes the patch NaN;
- frames at a patch's edges are padded by reflection, as the training data was; librosa >= 0.10
  pads with zeros by default, which darkens the first and last frames.
"""

from __future__ import annotations

import numpy as np

from genrelab.pretrained.musicnn import N_FRAMES, N_MELS

SR = 16000  # Hz
N_FFT = 512
HOP = 256
PATCH_SECONDS = 3.0


def log_mel(y: np.ndarray) -> np.ndarray:
    """Log-compressed mel spectrogram of 16 kHz mono audio ``y`` (float32, (n_samples,)).

    Returns float32 (1 + n_samples // 256, 96): time by mel band, as the networks take it.
    """
    import librosa

    power = librosa.feature.melspectrogram(
        y=np.asarray(y, dtype=np.float32), sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, pad_mode="reflect"
    )
    return np.log10(np.float32(10000) * power.astype(np.float32) + np.float32(1)).T


def segment_patches(y: np.ndarray, segment_seconds: float = PATCH_SECONDS) -> np.ndarray:
    """One patch per segment of the study's segment rule (:func:`genrelab.features.segments.segment_bounds`).

    Each segment's spectrogram is computed on its own samples, so a patch depends on nothing but
    its segment, and patch ``k`` is segment ``k`` of the spectrogram and feature tables.

    Parameters
    ----------
    y : float32 (n_samples,), 16 kHz mono.
    segment_seconds : the study's segment length (``prepare.segment_seconds``); patches are 3 s,
        so a longer segment gives its first 3 s and a shorter one is padded by reflection.

    Returns
    -------
    float32 (n_segments, 187, 96).
    """
    from genrelab.features.segments import segment_bounds

    bounds = segment_bounds(len(y), SR, segment_seconds)
    out = np.empty((len(bounds), N_FRAMES, N_MELS), dtype=np.float32)
    for k, (start, stop) in enumerate(bounds):
        rep = log_mel(y[start:stop])
        if len(rep) < N_FRAMES:
            rep = np.pad(rep, ((0, N_FRAMES - len(rep)), (0, 0)), mode="reflect")
        out[k] = rep[:N_FRAMES]
    return out


def sliding_patches(y: np.ndarray, hop_seconds: float = PATCH_SECONDS) -> np.ndarray:
    """3 s patches of the whole recording every ``hop_seconds``, as the original extractor cuts them.

    Returns float32 (n_patches, 187, 96); a recording shorter than 3 s gives none.
    """
    rep = log_mel(y)
    hop = max(1, int(hop_seconds * SR / HOP))  # frames, floored as the extractor's librosa.time_to_frames: 3 s -> 187
    starts = range(0, len(rep) - N_FRAMES + 1, hop)
    return np.stack([rep[s : s + N_FRAMES] for s in starts]) if len(starts) else np.zeros((0, N_FRAMES, N_MELS), np.float32)
