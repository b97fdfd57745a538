"""The 57 features of the public GTZAN tables (``features_30_sec.csv``, ``features_3_sec.csv``).

Each feature is the mean and the variance over frames of one librosa frame-level feature (2048-point
frames, 512-sample hop, 22050 Hz), plus the tempo. Values reproduce the public tables with
librosa 0.11 given two details of the older librosa the tables were made with: ``pad_mode="reflect"``
everywhere, and HPSS signals inverted to whole hops and zero-padded (:func:`_legacy_hpss`).
Measured on the 100 shared GTZAN clips and the 300 shared 3 s rows
(``benchmarks/bench_features.py --parity``), in standard deviations of each public column:

- the 56 columns other than tempo: at most 2e-5 (30 s table) and 5e-6 (3 s rows), HPSS included
  (today's ``librosa.effects.hpss`` fills the last samples instead: 0.33 std off on 3 s segments);
- ``tempo``: equal on all 100 clips and 300 segments. The beat tracker changed since the tables
  were made, so some GTZAN clips (reportedly 5-8 %) differ; librosa 0.11's default padding
  ("constant") already makes one of the 100 differ.

Two implementations compute the same values:

- :func:`reference_features`, one librosa call per feature, as the notebook that made the tables;
- :func:`segment_features`, the fast one: one STFT per segment shared by every spectral feature
  (chroma, centroid, bandwidth, roll-off, the mel spectrogram behind the MFCCs and the onset
  envelope behind the tempo, and HPSS), all segments of a clip in one batch, the HPSS median
  filters as selection networks (:mod:`genrelab.features.running_median`, 6-8x faster than scipy) and the
  soft mask in one compiled pass, one inverse STFT instead of two, the tuning estimate on the bins
  it uses, the tempo without the beat tracking, spectra laid out (segment, frame, bin).
  Its values equal the reference's to float32 rounding (5e-7 std, tempo identical).
  RMS stays computed from the signal: from the STFT magnitude it is the energy of the
  Hann-windowed frames, 0.8 std away.

:func:`signal_features` cuts decoded audio into segments (:mod:`genrelab.features.segments`) and
batches them through the fast path; :mod:`genrelab.features.gtzan57` builds the tables from files.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from genrelab.errors import AudioError
from genrelab.features.running_median import median_filter
from genrelab.features.segments import segment_bounds

SR = 22050  # Hz, the rate of GTZAN and of the public tables
N_FFT = 2048  # samples per frame
HOP_LENGTH = 512  # samples between frames
PAD_MODE = "reflect"  # librosa < 0.10 default; 0.11's "constant" moves HPSS and tempo further
HPSS_KERNEL = 31  # frames / bins of librosa's HPSS median filters
N_MFCC = 20

# Bump when a change alters any value: it is part of every cache key (of :mod:`genrelab.features.gtzan57`).
FEATURE_VERSION = 2

_PAIRED = (
    "chroma_stft", "rms", "spectral_centroid", "spectral_bandwidth", "rolloff",
    "zero_crossing_rate", "harmony", "perceptr",
)  # fmt: skip
FEATURE_COLUMNS: tuple[str, ...] = (
    tuple(f"{name}_{stat}" for name in _PAIRED for stat in ("mean", "var"))
    + ("tempo",)
    + tuple(f"mfcc{i}_{stat}" for i in range(1, N_MFCC + 1) for stat in ("mean", "var"))
)
"""The 57 feature columns, in the order of the public tables."""


# --------------------------------------------------------------------------------------------
# The two implementations


def reference_features(y: np.ndarray, sr: int = SR) -> np.ndarray:
    """The 57 features of one clip or segment, one librosa call per feature (slow, for checks).

    Parameters
    ----------
    y : float32 audio, shape (n_samples,), at ``sr``.
    sr : sample rate in Hz.

    Returns
    -------
    features : float64, shape (57,), in the order of :data:`FEATURE_COLUMNS`.
    """
    import librosa

    pad = {"pad_mode": PAD_MODE}
    frame_level = [
        librosa.feature.chroma_stft(y=y, sr=sr, **pad),
        librosa.feature.rms(y=y, **pad),
        librosa.feature.spectral_centroid(y=y, sr=sr, **pad),
        librosa.feature.spectral_bandwidth(y=y, sr=sr, **pad),
        librosa.feature.spectral_rolloff(y=y, sr=sr, **pad),
        librosa.feature.zero_crossing_rate(y),
        *_legacy_hpss(y),
    ]
    values = [stat(x) for x in frame_level for stat in (np.mean, np.var)]
    onset = librosa.onset.onset_strength(y=y, sr=sr, aggregate=np.median, **pad)
    tempo, _ = librosa.beat.beat_track(onset_envelope=onset, sr=sr)
    values.append(np.ravel(tempo)[0])
    mfcc = librosa.feature.mfcc(y=y, sr=sr, **pad)
    values += [stat(row) for row in mfcc for stat in (np.mean, np.var)]
    return np.asarray(values, dtype=np.float64)


def _legacy_hpss(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``librosa.effects.hpss(y)`` as the older librosa that made the public tables computed it.

    Old ``effects.hpss`` inverted each part without ``length`` (so only ``hop * (n_frames - 1)``
    samples) and zero-padded it to ``len(y)`` with ``util.fix_length``. Today's passes ``length``,
    which fills the last samples (101 of a 3 s segment) from the edge frames: 0.33 std on the
    3 s table's ``perceptr_mean``, 0.02 on the 30 s table's. With the zeros: 1e-6 std.
    """
    import librosa

    stft = librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH, pad_mode=PAD_MODE)
    return tuple(
        librosa.util.fix_length(librosa.istft(part, hop_length=HOP_LENGTH, dtype=y.dtype), size=len(y))
        for part in librosa.decompose.hpss(stft)
    )


def segment_features(segments: np.ndarray, sr: int = SR) -> np.ndarray:
    """The 57 features of equally long segments, sharing one STFT per segment (fast path).

    Parameters
    ----------
    segments : float32 audio, shape (n_segments, n_samples), at ``sr``; ``n_samples >= 2048``.
    sr : sample rate in Hz.

    Returns
    -------
    features : float64, shape (n_segments, 57), rows as :func:`reference_features` gives them for
        each segment alone, to float32 rounding (about 1e-6 relative; see ``benchmarks/``).
    """
    import librosa

    segments = np.atleast_2d(segments)
    # Spectra are (n_segments, n_frames, n_bins), bins contiguous: the layout the FFT gives and the
    # one the HPSS time filter and the reductions over bins run fastest on (librosa's is the transpose).
    stft = _stft(segments)
    mag = np.abs(stft)
    power = mag**2
    centroid, bandwidth = _centroid_bandwidth(mag, sr)
    frame_level = {
        "chroma_stft": _chroma(power, sr),
        "rms": librosa.feature.rms(y=segments, pad_mode=PAD_MODE),
        "spectral_centroid": centroid,
        "spectral_bandwidth": bandwidth,
        "rolloff": _rolloff(mag, sr),
        "zero_crossing_rate": _zero_crossing_rate(segments),
    }
    frame_level["harmony"], frame_level["perceptr"] = _hpss(stft, mag, segments)
    log_mel = np.swapaxes(_power_to_db(power @ _mel_basis(sr).T), -1, -2)  # librosa's (n_segments, n_mels, n_frames)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=N_MFCC)  # (n_segments, 20, n_frames)

    columns = []
    for name in _PAIRED:
        values = frame_level[name].reshape(len(segments), -1)  # all frames (and bins) of a segment
        columns += [values.mean(axis=-1), values.var(axis=-1)]
    columns.append(_tempo(log_mel, sr))
    for k in range(N_MFCC):
        columns += [mfcc[:, k].mean(axis=-1), mfcc[:, k].var(axis=-1)]
    return np.stack(columns, axis=-1).astype(np.float64)


def _stft(segments: np.ndarray) -> np.ndarray:
    """``librosa.stft(segments, n_fft=2048, hop_length=512, pad_mode="reflect")``, transposed.

    The same values as librosa (frames windowed and transformed in float64, then rounded to
    complex64: a float32 FFT is 1.5x faster but moves a roll-off bin now and then, 1e-4 std of the
    public roll-off variance), in blocks of frames that stay in cache: 1.3x faster than librosa.

    Parameters
    ----------
    segments : float32 audio, shape (n_segments, n_samples).

    Returns
    -------
    stft : complex64, shape (n_segments, n_frames, 1 + n_fft/2), C-contiguous; frames centred.
    """
    from scipy.fft import rfft
    from scipy.signal import get_window

    padded = np.pad(segments, [(0, 0), (N_FFT // 2, N_FFT // 2)], mode=PAD_MODE)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT, axis=-1)[:, ::HOP_LENGTH]
    window = get_window("hann", N_FFT, fftbins=True)  # float64, as librosa's
    stft = np.empty((*frames.shape[:2], 1 + N_FFT // 2), dtype=np.complex64)
    block = 64  # frames: 1 MB of float64
    for segment, segment_frames in zip(stft, frames):
        for start in range(0, len(segment_frames), block):
            segment[start : start + block] = rfft(segment_frames[start : start + block] * window, axis=-1)
    return stft


def _chroma(power: np.ndarray, sr: int) -> np.ndarray:
    """``librosa.feature.chroma_stft`` of power spectra (n_segments, n_frames, n_bins) -> (n_segments, n_frames, 12).

    The tuning is estimated per segment, as a call per segment does.
    """
    import librosa

    chroma = np.empty((*power.shape[:2], 12), dtype=power.dtype)
    for i, spectrum in enumerate(power):
        raw = spectrum @ _chroma_filter(sr, _estimate_tuning(spectrum, sr)).T
        chroma[i] = librosa.util.normalize(raw, norm=np.inf, axis=-1)
    return chroma


def _estimate_tuning(power: np.ndarray, sr: int) -> float:
    """``librosa.estimate_tuning(S=power.T, sr=sr, bins_per_octave=12)`` of one (n_frames, n_bins) spectrum.

    librosa's ``piptrack`` interpolates and searches peaks in every bin, then keeps those of
    150-4000 Hz; this does the same arithmetic (same float types) on those bins only, a third
    of the spectrum.
    """
    import librosa

    freq = librosa.fft_frequencies(sr=sr, n_fft=N_FFT)
    band = np.flatnonzero((150.0 <= freq) & (freq < min(4000.0, sr / 2)))
    lo, hi = band[0], band[-1] + 1  # the band's neighbours (lo - 1, hi) are bins too: 150 Hz > 0
    # `piptrack`: local maxima of the spectrum after zeroing bins below 0.1 of the frame's maximum.
    spectrum = power[:, lo - 1 : hi + 1]
    gated = spectrum * (spectrum > 0.1 * power.max(axis=-1, keepdims=True))
    below, centre, above = spectrum[:, :-2], spectrum[:, 1:-1], spectrum[:, 2:]
    peak = (gated[:, 1:-1] > gated[:, :-2]) & (gated[:, 1:-1] >= gated[:, 2:])
    # Parabolic interpolation of the peak (librosa's numba stencil computes this in float64).
    curvature = (above + below).astype(np.float64) - 2 * centre.astype(np.float64)
    slope = (above - below).astype(np.float64) / 2
    shift = np.zeros_like(slope)
    np.divide(-slope, curvature, out=shift, where=np.abs(slope) < np.abs(curvature))
    shift = shift.astype(power.dtype)[peak]
    bins = np.nonzero(peak)[1] + lo
    magnitude = centre[peak] + 0.5 * ((above - below) / 2)[peak] * shift
    pitch = ((bins + shift) * (float(sr) / N_FFT)).astype(power.dtype)
    # `estimate_tuning`: the tuning of the peaks at least as strong as their median.
    if not len(magnitude):  # silence: no peak at all; librosa's answer, without its warning
        return 0.0
    threshold = np.median(magnitude)
    return float(librosa.pitch_tuning(pitch[magnitude >= threshold], resolution=0.01, bins_per_octave=12))


@lru_cache(maxsize=256)  # the tuning takes 100 values (0.01 steps)
def _chroma_filter(sr: int, tuning: float) -> np.ndarray:
    import librosa

    return librosa.filters.chroma(sr=sr, n_fft=N_FFT, tuning=tuning, n_chroma=12)


@lru_cache(maxsize=4)
def _mel_basis(sr: int) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=N_FFT)  # librosa.feature.melspectrogram's defaults


def _power_to_db(mel: np.ndarray) -> np.ndarray:
    """``librosa.power_to_db`` (ref 1, amin 1e-10, top_db 80) of each segment of (n_segments, ..., ...)."""
    log_mel = 10.0 * np.log10(np.maximum(1e-10, mel))
    # top_db is relative to each segment's own maximum, as a call per segment computes it.
    return np.maximum(log_mel, log_mel.max(axis=(-2, -1), keepdims=True) - 80.0)


def _centroid_bandwidth(mag: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """``librosa.feature.spectral_centroid`` and ``spectral_bandwidth`` (Hz) of magnitudes.

    From the first three moments of each frame's spectrum, one matrix product in float64 (librosa
    forms the deviation from the centroid for every bin instead: 3x slower, same values to 1e-7).

    Parameters
    ----------
    mag : magnitudes, shape (n_segments, n_frames, n_bins).

    Returns two arrays of shape (n_segments, n_frames).
    """
    import librosa

    freq = librosa.fft_frequencies(sr=sr, n_fft=N_FFT)
    moments = mag.astype(np.float64) @ np.stack([np.ones_like(freq), freq, freq**2], axis=-1)
    total = moments[..., 0]
    # librosa.util.normalize leaves frames whose sum is below float32's tiny as they are.
    norm = np.where(total < np.finfo(mag.dtype).tiny, 1.0, total)
    centroid = moments[..., 1] / norm
    spread = (moments[..., 2] - 2 * centroid * moments[..., 1] + centroid**2 * total) / norm
    return centroid, np.sqrt(np.maximum(spread, 0.0))  # max(): rounding can dip below 0 for a pure tone


def _rolloff(mag: np.ndarray, sr: int, roll_percent: float = 0.85) -> np.ndarray:
    """``librosa.feature.spectral_rolloff`` (Hz) of magnitudes (n_segments, n_frames, n_bins), shape
    (n_segments, n_frames): the first bin whose cumulative magnitude reaches ``roll_percent`` of the frame's total."""
    import librosa

    cumulative = np.cumsum(mag, axis=-1)
    reached = cumulative >= roll_percent * cumulative[..., -1:]
    return librosa.fft_frequencies(sr=sr, n_fft=N_FFT)[np.argmax(reached, axis=-1)]


def _zero_crossing_rate(segments: np.ndarray) -> np.ndarray:
    """``librosa.feature.zero_crossing_rate`` (crossings per sample), shape (n_segments, n_frames).

    Counts the crossings once per sample and sums them per frame with a cumulative sum, instead
    of testing every sample once per overlapping frame (4 times). Same integer counts.
    """
    half = N_FFT // 2
    padded = np.pad(segments, [(0, 0), (half, half)], mode="edge")  # librosa's centring
    # librosa counts samples within 1e-10 of zero as positive zeros.
    negative = np.signbit(np.where(np.abs(padded) <= np.float64(1e-10), 0.0, padded))
    crossings = np.zeros((len(segments), padded.shape[-1]), dtype=np.int64)
    np.cumsum(negative[:, 1:] != negative[:, :-1], axis=-1, out=crossings[:, 1:])
    starts = np.arange(1 + (padded.shape[-1] - N_FFT) // HOP_LENGTH) * HOP_LENGTH
    # Frame [s, s + n_fft) holds the crossings between consecutive samples s .. s + n_fft - 1.
    counts = crossings[:, starts + N_FFT - 1] - crossings[:, starts]
    return counts / N_FFT


def _tempo(log_mel: np.ndarray, sr: int) -> np.ndarray:
    """Tempo (BPM) per segment as ``librosa.beat.beat_track`` estimates it, from dB mel spectra.

    ``beat_track`` estimates the tempo from the onset envelope before, and independently of,
    tracking the beats, so the beat tracking itself is skipped; the tempo estimate is
    ``librosa.feature.tempo`` with its defaults, computed as in :func:`_mean_tempogram`.

    Parameters
    ----------
    log_mel : dB mel spectra, shape (n_segments, n_mels, n_frames).

    Returns
    -------
    tempo : float64, shape (n_segments,); 0 for a segment without onsets, as ``beat_track``.
    """
    import librosa

    onset = librosa.onset.onset_strength(S=log_mel, sr=sr, aggregate=np.median)  # (n_segments, n_frames)
    win_length = int(librosa.time_to_frames(8.0, sr=sr, hop_length=HOP_LENGTH))  # tempo()'s ac_size=8 s
    bpms = librosa.tempo_frequencies(win_length, hop_length=HOP_LENGTH, sr=sr)
    log_prior = -0.5 * (np.log2(bpms) - np.log2(120.0)) ** 2  # start_bpm=120, std_bpm=1
    log_prior[: int(np.argmax(bpms < 320.0))] = -np.inf  # max_tempo=320
    score = np.log1p(1e6 * _mean_tempogram(onset, win_length)) + log_prior
    tempo = bpms[np.argmax(score, axis=-1)]
    tempo[~onset.any(axis=-1)] = 0.0
    return tempo


def _mean_tempogram(onset: np.ndarray, win_length: int) -> np.ndarray:
    """``librosa.feature.tempogram(onset_envelope=onset, win_length=win_length)`` averaged over
    frames, shape (n_segments, win_length).

    The autocorrelations use an FFT of a fast length (librosa takes ``2 * win_length - 1``, a
    slow one here) on contiguous frames: the same values to float64 rounding, 4x faster.
    """
    from scipy.fft import irfft, next_fast_len, rfft
    from scipy.signal import get_window

    n_frames, half = onset.shape[-1], win_length // 2
    padded = np.pad(onset, [(0, 0), (half, half)], mode="linear_ramp", end_values=0)
    frames = np.lib.stride_tricks.sliding_window_view(padded, win_length, axis=-1)[:, :n_frames]
    frames = frames * get_window("hann", win_length, fftbins=True)  # (n_segments, n_frames, win_length)
    n_fft = next_fast_len(2 * win_length - 1, real=True)
    autocorr = irfft(np.abs(rfft(frames, n=n_fft, axis=-1)) ** 2, n=n_fft, axis=-1)[..., :win_length]
    peak = np.abs(autocorr).max(axis=-1, keepdims=True)  # norm=inf, librosa.util.normalize's rule
    autocorr /= np.where(peak < np.finfo(autocorr.dtype).tiny, 1.0, peak)
    return autocorr.mean(axis=-2)


def _hpss(stft: np.ndarray, mag: np.ndarray, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Harmonic and percussive signals, as :func:`_legacy_hpss` computes them (the tables' HPSS).

    Parameters
    ----------
    stft, mag : the STFT and its magnitude, shape (n_segments, n_frames, n_bins), C-contiguous.
    segments : the audio, shape (n_segments, n_samples).

    Returns
    -------
    harmonic, percussive : float32, shape (n_segments, n_samples).
    """
    from genrelab.features._softmask import harmonic_part

    harm = median_filter(mag, HPSS_KERNEL, axis=-2)  # along time: sustained partials
    perc = median_filter(mag, HPSS_KERNEL, axis=-1)  # along frequency: broadband clicks
    harmonic = _istft(harmonic_part(stft, harm, perc), segments.shape[-1])
    # The harmonic and percussive soft masks sum to one and the STFT inverts exactly, so the
    # percussive signal is the rest: one inverse STFT instead of two, same values to float32 rounding.
    percussive = segments - harmonic
    inverted = HOP_LENGTH * (stft.shape[-2] - 1)  # samples the old librosa inverted; it zero-padded the rest
    harmonic[:, inverted:] = percussive[:, inverted:] = 0.0
    return harmonic, percussive


def _istft(stft: np.ndarray, n_samples: int) -> np.ndarray:
    """``librosa.istft(stft, n_fft=2048, hop_length=512, length=n_samples)`` to float32 rounding.

    All frames in one inverse FFT (scipy's: the same values as numpy's, 1.5x faster on complex64)
    and the overlap-add as ``n_fft / hop`` shifted block sums, instead of librosa's chunked loop.

    Parameters
    ----------
    stft : complex, shape (n_segments, n_frames, 1 + n_fft/2), centred frames.
    n_samples : length of the signal to return.

    Returns
    -------
    signal : float32, shape (n_segments, n_samples).
    """
    from scipy.fft import irfft
    from scipy.signal import get_window

    window = get_window("hann", N_FFT, fftbins=True).astype(np.float32)
    frames = irfft(stft, n=N_FFT, axis=-1)  # (n_segments, n_frames, n_fft)
    frames *= window
    n_frames, overlap = frames.shape[-2], N_FFT // HOP_LENGTH
    signal = np.zeros((len(frames), n_frames + overlap - 1, HOP_LENGTH), dtype=np.float32)
    weight = np.zeros((n_frames + overlap - 1, HOP_LENGTH), dtype=np.float32)  # sum of squared windows
    for q in range(overlap):
        block = slice(q * HOP_LENGTH, (q + 1) * HOP_LENGTH)
        signal[:, q : q + n_frames] += frames[..., block]
        weight[q : q + n_frames] += window[block] ** 2
    keep = slice(N_FFT // 2, N_FFT // 2 + n_samples)  # undo the centring
    signal, weight = signal.reshape(len(frames), -1)[:, keep], weight.reshape(-1)[keep]
    return np.divide(signal, weight, out=signal, where=weight > np.finfo(np.float32).tiny)


# --------------------------------------------------------------------------------------------
# Decoded audio, cut into segments


def signal_features(y: np.ndarray, sr: int, segment_seconds: float, path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Lengths (n_segments,) and features (n_segments, 57) of decoded audio ``y`` (float32 (n,), at ``sr``)
    cut into ``segment_seconds`` segments; ``path`` names the file in errors."""
    bounds = segment_bounds(len(y), sr, segment_seconds)
    lengths = np.array([stop - start for start, stop in bounds], dtype=np.int64)
    if lengths.min() < N_FFT:
        raise AudioError(
            f"{path}: a segment of {lengths.min()} samples ({lengths.min() / sr:.3f} s) is too short for "
            f"the features, which need at least {N_FFT} samples ({N_FFT / sr:.2f} s). "
            "Remove the file from the corpus or use a longer recording.", kind="too_short",
        )
    features = np.empty((len(bounds), len(FEATURE_COLUMNS)))
    # Segments of equal length go through the fast path as one batch (the last may be shorter).
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        batch = np.stack([y[bounds[k][0] : bounds[k][1]] for k in rows])
        features[rows] = segment_features(batch, sr)
    return lengths, features
