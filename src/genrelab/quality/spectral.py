"""What a file's spectrum says about its true quality: the cut-off and the features around it.

An MP3 encoder low-passes its input, and a transcode keeps that edge whatever it claims. Levels
are in dB relative to each frame's *reference band* (the median of 2–8 kHz), so that a quiet
passage and a loud one are measured alike. Frequencies are in Hz.

A cut-off is an *edge*: a fall of at least ``edge_db`` from the ~300 Hz below a frequency to the
~300 Hz above it. LAME's low-pass falls 25–70 dB within a few hundred Hz; music's own roll-off
is far gentler. Looking for an edge rather than for a level keeps the cut-off of a transcode whose
band above it is filled again: by the dither of a 16-bit FLAC (about 50 dB down), by a limiter's
harmonics (about 25 dB down), or by a second encoder's noise. The file's cut-off (its measured
bandwidth) is the *highest* edge above 11 kHz of the mean spectrum; with no edge it is the Nyquist
frequency: no cut-off. The *lowest* edge is a feature too: a fake 320 made from V2 keeps V2's edge
at 18.6 kHz below the 320 encoder's own at 20.5 kHz. It is not the cut-off, because music has
edges of its own: the demo sources have one near 13.7 kHz that reads 15 dB in the lossless file
and 20–35 dB once an MP3 encoder has thinned the band above it.

:func:`spectral_features` returns the study's features of one excerpt: the cut-off and the
spread of the per-frame cut-offs, the edge's steepness and its position on the MP3 filter-bank
grid (:data:`GRID_HZ`), high-band to reference-band ratios, the share of frames with holes above
16 kHz (MP3's scale-factor band 21), the floor above the cut-off, the side channel's high
band, and the seed study's "shelf" (the highest bin within 50 dB of the frame's peak).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

N_FFT = 2048  # 21.5 Hz bins at 44.1 kHz
HOP = 1024
GRID_HZ = 44100 / 64  # 689.06 Hz: one of the 32 polyphase bands of MP3's filter bank at 44.1 kHz
REFERENCE_HZ = (2000.0, 8000.0)
EDGE_DB = 20.0  # a fall this steep across an edge is an encoder's low-pass, not music's roll-off
EDGE_NEAR_HZ, EDGE_FAR_HZ = 100.0, 400.0  # the edge compares [f - far, f - near] with [f + near, f + far]
SEARCH_FROM_HZ = 11025.0
HIGH_BANDS_HZ = tuple((lo, lo + 1000.0) for lo in range(15000, 22000, 1000))  # 15-16 ... 21-22 kHz
SFB21_HZ = 16000.0
PROFILE_HZ = (11025.0, 22050.0)
PROFILE_BANDS = 64
FULL_SCALE_DB = 20 * np.log10(np.hanning(N_FFT).sum() / 2)  # a full-scale sine's bin
# 16-bit rounding noise in one bin, dB re a full-scale sine's bin: the floor of every CD rip and FLAC.
PCM16_FLOOR_DB = 10 * np.log10((1 / 32768) ** 2 / 12 * (np.hanning(N_FFT) ** 2).sum()) - FULL_SCALE_DB


@dataclass(frozen=True)
class Spectrum:
    """Log-power spectrogram of the mid (and side) channel, relative to each frame's reference band."""

    freqs: np.ndarray  # (n_bins,) Hz
    mid: np.ndarray  # (n_frames, n_bins) dB re the frame's reference band
    side: np.ndarray | None  # (n_frames, n_bins) dB re the *mid* reference band; None for mono
    peak: np.ndarray  # (n_frames,) dB re the reference band: the frame's loudest bin
    sr: int
    reference: np.ndarray  # (n_frames,) the reference band's level, dB re a full-scale bin

    @cached_property
    def mid_power(self) -> np.ndarray:
        """``mid`` as power ratios (n_frames, n_bins), computed once: the features, profile and
        pictures all average power."""
        return 10 ** (self.mid / 10)

    @cached_property
    def mid_mean_db(self) -> np.ndarray:
        """The mean power of ``mid`` over frames, in dB (n_bins,)."""
        return _db(self.mid_power.mean(axis=0))


def spectrum(y: np.ndarray, sr: int) -> Spectrum:
    """The :class:`Spectrum` of ``y`` ``(n_samples,)`` or ``(n_samples, channels)`` at ``sr`` Hz."""
    y = np.asarray(y, dtype=np.float32)
    y = y[:, None] if y.ndim == 1 else y
    mid = y.mean(axis=1)
    side = (y[:, 0] - y[:, 1]) / 2 if y.shape[1] >= 2 else None
    freqs = np.fft.rfftfreq(N_FFT, 1 / sr)
    P_mid = _power_db(mid)
    ref = np.median(P_mid[:, (freqs >= REFERENCE_HZ[0]) & (freqs < REFERENCE_HZ[1])], axis=1, keepdims=True)
    P_side = _power_db(side) - ref if side is not None else None
    return Spectrum(freqs, P_mid - ref, P_side, (P_mid - ref).max(axis=1), sr, ref[:, 0] - FULL_SCALE_DB)


def edge_drops(level_db: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """The fall (dB) across each frequency: the mean of ``[f - far, f - near]`` minus that of
    ``[f + near, f + far]`` (:data:`EDGE_NEAR_HZ`, :data:`EDGE_FAR_HZ`); 0 where a side leaves the spectrum.
    ``level_db`` is ``(n_bins,)`` or ``(n_frames, n_bins)``."""
    step = freqs[1] - freqs[0]
    near, far = int(round(EDGE_NEAR_HZ / step)), int(round(EDGE_FAR_HZ / step))
    level = np.atleast_2d(level_db)
    n = level.shape[1]
    c = np.concatenate([np.zeros((level.shape[0], 1)), np.cumsum(level, axis=1)], axis=1)
    i = np.arange(far, n - far)
    below = (c[:, i - near + 1] - c[:, i - far]) / (far - near + 1)
    above = (c[:, i + far + 1] - c[:, i + near]) / (far - near + 1)
    drops = np.zeros_like(level)
    drops[:, i] = below - above
    return drops.reshape(np.shape(level_db))


def cutoffs(level_db: np.ndarray, freqs: np.ndarray, edge_db: float = EDGE_DB) -> np.ndarray:
    """The lowest edge above :data:`SEARCH_FROM_HZ` of each row of ``level_db`` (Hz), at the
    steepest point of that edge; the last frequency where there is none."""
    drops = np.atleast_2d(edge_drops(level_db, freqs))
    drops[:, freqs < SEARCH_FROM_HZ] = 0
    steep = drops >= edge_db
    first = np.argmax(steep, axis=1)
    width = int(round(2 * EDGE_FAR_HZ / (freqs[1] - freqs[0])))
    window = np.minimum(first[:, None] + np.arange(width)[None, :], drops.shape[1] - 1)  # the edge's bins
    steepest = np.take_along_axis(window, np.argmax(np.take_along_axis(drops, window, axis=1), axis=1)[:, None], axis=1)
    found = np.where(steep.any(axis=1), freqs[steepest[:, 0]], np.nan)
    return np.nan_to_num(found, nan=freqs[-1])


def spectral_features(y: np.ndarray, sr: int, edge_db: float = EDGE_DB, spec: Spectrum | None = None) -> dict[str, float]:
    """The quality features of one excerpt ``y`` at ``sr`` Hz (names below; Hz, dB or shares).
    ``spec``: its :func:`spectrum`, when the caller has it already."""
    spec = spectrum(y, sr) if spec is None else spec
    f, nyquist = spec.freqs, sr / 2
    mean_db = spec.mid_mean_db
    drops = edge_drops(mean_db, f)
    cutoff = _top_edge(drops, f, edge_db)
    per_frame = cutoffs(_smooth(spec.mid, 5), f, edge_db)
    first = float(cutoffs(mean_db, f, edge_db)[0])
    features = {
        "cutoff_hz": cutoff,
        "has_cutoff": float(cutoff < f[-1]),
        "edge_db": float(drops[np.argmin(np.abs(f - cutoff))]),
        "first_edge_hz": first,
        "first_edge_db": float(drops[np.argmin(np.abs(f - first))]),
        "frames_p10_hz": float(np.percentile(per_frame, 10)),
        "frames_p50_hz": float(np.percentile(per_frame, 50)),
        "frames_p90_hz": float(np.percentile(per_frame, 90)),
        "frames_at_cutoff": float(np.mean(np.abs(per_frame - cutoff) <= GRID_HZ / 2)),
        "grid_band": cutoff / GRID_HZ,
        "grid_phase": (cutoff % GRID_HZ) / GRID_HZ,
        "sfb21_holes": float(np.mean(_band_rows(spec.mid_power, f, SFB21_HZ, nyquist) < -60.0)),
        "floor_above_db": _band(mean_db, f, cutoff + 300, nyquist) if cutoff + 300 < nyquist else 0.0,
        "shelf_hz": float(np.median(_shelf(spec))),
        "nyquist_hz": nyquist,
        "reference_db": float(np.median(spec.reference)),  # the level, for the verdict's "too faint"
    }
    for lo, hi in HIGH_BANDS_HZ:
        features[f"band_{lo / 1000:g}k_db"] = _band(mean_db, f, lo, hi) if hi <= nyquist else -120.0
    side = _band(_mean_db(spec.side), f, SFB21_HZ, nyquist) if spec.side is not None else -120.0
    features["side_high_db"] = side - _band(mean_db, f, SFB21_HZ, nyquist)
    return features


def _top_edge(drops: np.ndarray, freqs: np.ndarray, edge_db: float) -> float:
    """The highest edge, at the steepest point of the last run of steep bins."""
    steep = (drops >= edge_db) & (freqs >= SEARCH_FROM_HZ)
    if not steep.any():
        return float(freqs[-1])
    last = np.nonzero(steep)[0].max()
    start = last
    while start > 0 and steep[start - 1]:
        start -= 1
    return float(freqs[start + np.argmax(drops[start : last + 1])])


def _smooth(P_db: np.ndarray, bins: int) -> np.ndarray:
    """A running mean over ``bins`` (odd) bins along frequency, shrinking at the ends."""
    half = bins // 2
    c = np.concatenate([np.zeros((P_db.shape[0], 1)), np.cumsum(P_db, axis=1)], axis=1)
    i = np.arange(P_db.shape[1])
    lo, hi = np.maximum(i - half, 0), np.minimum(i + half + 1, P_db.shape[1])
    return (c[:, hi] - c[:, lo]) / (hi - lo)


def profile(y: np.ndarray, sr: int, spec: Spectrum | None = None) -> np.ndarray:
    """The mean level (dB re the reference band) in :data:`PROFILE_BANDS` bands of 11–22 kHz,
    float32 ``(PROFILE_BANDS,)``: the high-band spectrum D'Alessandro & Shi classify."""
    spec = spectrum(y, sr) if spec is None else spec
    mean_db = spec.mid_mean_db
    edges = np.linspace(*PROFILE_HZ, PROFILE_BANDS + 1)
    floor = -120.0
    return np.array([_band(mean_db, spec.freqs, lo, hi) if lo < sr / 2 else floor for lo, hi in zip(edges, edges[1:])],
                    dtype=np.float32)  # fmt: skip


def _power_db(x: np.ndarray) -> np.ndarray:
    if len(x) < N_FFT:
        x = np.pad(x, (0, N_FFT - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP] * np.hanning(N_FFT).astype(np.float32)
    return 10 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-12)


def _mean_db(P_db: np.ndarray) -> np.ndarray:
    """The mean power over frames, in dB (averaging power, not decibels)."""
    return _db(np.mean(10 ** (P_db / 10), axis=0))


def _db(power: np.ndarray) -> np.ndarray:
    return 10 * np.log10(power + 1e-20)


def _band(mean_db: np.ndarray, freqs: np.ndarray, lo: float, hi: float) -> float:
    mask = (freqs >= lo) & (freqs < hi)
    return float(10 * np.log10(np.mean(10 ** (mean_db[mask] / 10)) + 1e-20)) if mask.any() else -120.0


def _band_rows(power: np.ndarray, freqs: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Each frame's mean power (power ratios, (n_frames, n_bins)) over ``lo``-``hi`` Hz, in dB."""
    mask = (freqs >= lo) & (freqs < hi)
    if not mask.any():  # a band above the Nyquist frequency (LAME writes CBR 96 at 32 kHz)
        return np.full(len(power), -120.0)
    return _db(np.mean(power[:, mask], axis=1))


def _shelf(spec: Spectrum, below_peak_db: float = 50.0) -> np.ndarray:
    """The seed study's shelf: per frame, the highest bin within ``below_peak_db`` of the frame's peak."""
    bright = spec.mid > (spec.peak[:, None] - below_peak_db)
    last = spec.mid.shape[1] - 1 - np.argmax(bright[:, ::-1], axis=1)
    return spec.freqs[last]


BAND_PICTURE = (32, 64)  # (time chunks, frequency bands of 172 Hz over 11.025-22.05 kHz): the CNN's input
SPEK_PICTURE = (32, 32)  # (time chunks, bands of 689 Hz over 0-22.05 kHz): Spek's picture, for the pixels baseline
PICTURE_RANGE_DB = (-100.0, 10.0)  # dB re the reference band, as Spek's colour scale and plot_spectrogram


def picture(spec: Spectrum, shape: tuple[int, int], lo_hz: float, hi_hz: float) -> np.ndarray:
    """The spectrogram pooled to ``shape`` = (time chunks, frequency bands) over ``lo_hz``-``hi_hz``
    (power averaged, then dB re the reference band, clipped to :data:`PICTURE_RANGE_DB`); float32.
    A band above the Nyquist frequency holds the range's floor."""
    frames, bands = shape
    chunks = np.array_split(np.arange(spec.mid.shape[0]), min(frames, spec.mid.shape[0]))
    power = np.stack([np.mean(spec.mid_power[rows], axis=0) for rows in chunks])
    if len(chunks) < frames:  # an excerpt shorter than the picture: its last chunk repeated
        power = np.concatenate([power, np.repeat(power[-1:], frames - len(chunks), axis=0)])
    edges = np.linspace(lo_hz, hi_hz, bands + 1)
    which = np.digitize(spec.freqs, edges) - 1
    out = np.full((frames, bands), PICTURE_RANGE_DB[0], dtype=np.float32)
    for b in range(bands):
        mask = which == b
        if mask.any():
            out[:, b] = 10 * np.log10(power[:, mask].mean(axis=1) + 1e-20)
    return np.clip(out, *PICTURE_RANGE_DB)
