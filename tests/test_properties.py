"""Property-based tests (Hypothesis) of the pure functions that take arbitrary arrays.

For any finite input of at least one segment: no crash, no NaN or infinity in the output. Below
that: a clear error, not a crash deep inside a library.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from genrelab.data import dedup
from genrelab.errors import AudioError
from genrelab.features import gtzan57_dsp as features
from genrelab.features.segments import segment_bounds

SR = 22050
# Feature extraction is tens of milliseconds per example: few examples, no per-example deadline.
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

amplitudes = st.one_of(
    st.just(0.0),  # digital silence
    st.floats(1e-30, 1e-6),  # far below 16-bit quantisation: subnormal-adjacent power
    st.floats(1e-3, 1.0),
)


@st.composite
def signals(draw, min_samples: int, max_samples: int) -> np.ndarray:
    """Finite float32 audio: noise, tones, a constant, impulses or square waves, at any level."""
    n = draw(st.integers(min_samples, max_samples))
    kind = draw(st.sampled_from(["noise", "tone", "constant", "impulses", "square", "raw"]))
    level = draw(amplitudes)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    t = np.arange(n) / SR
    if kind == "noise":
        y = rng.standard_normal(n)
    elif kind == "tone":
        y = np.sin(2 * np.pi * draw(st.floats(20.0, 11000.0)) * t)
    elif kind == "constant":
        y = np.ones(n)
    elif kind == "impulses":
        y = np.zeros(n)
        y[rng.integers(0, n, size=draw(st.integers(1, 5)))] = 1.0
    elif kind == "square":
        y = np.sign(np.sin(2 * np.pi * draw(st.floats(1.0, 2000.0)) * t))
    else:
        y = draw(arrays(np.float32, n, elements=st.floats(-1.0, 1.0, width=32)))
    return (level * np.asarray(y, dtype=np.float64)).astype(np.float32)


# -------------------------------------------------------------------------------------- segments


@given(n=st.integers(1, 10**7), sr=st.sampled_from([8000, 16000, 22050, 44100, 48000]),
       seconds=st.floats(0.1, 40.0))  # fmt: skip
def test_segment_bounds_cover_the_clip_in_order_with_no_empty_segment(n, sr, seconds):
    bounds = segment_bounds(n, sr, seconds)
    assert len(bounds) >= 1
    if seconds >= 30.0:
        assert bounds == [(0, n)]
        return
    hop = round(seconds * sr)
    assert len(bounds) == max(1, int(n / hop + 0.5))
    for k, (start, stop) in enumerate(bounds):
        assert start == k * hop and start < stop <= min(n, start + hop - 1)


@given(n=st.integers(-5, 0), seconds=st.floats(0.1, 3.0))
def test_segment_bounds_refuse_an_empty_clip_clearly(n, seconds):
    with pytest.raises(ValueError, match="needs n_samples, sr and segment_seconds > 0"):
        segment_bounds(n, SR, seconds)


# -------------------------------------------------------------------------------------- features


@SLOW
@given(y=signals(features.N_FFT, 2 * SR))
def test_features_of_any_finite_clip_are_finite(y):
    lengths, values = features.signal_features(y, SR, 30.0, "clip.wav")
    assert lengths.tolist() == [len(y)] and values.shape == (1, len(features.FEATURE_COLUMNS))
    assert np.isfinite(values).all(), [c for c, v in zip(features.FEATURE_COLUMNS, values[0]) if not np.isfinite(v)]


@SLOW
@given(y=signals(int(1.5 * SR), int(4.6 * SR)))
def test_segment_features_of_any_finite_clip_are_finite(y):
    lengths, values = features.signal_features(y, SR, 3.0, "clip.wav")
    assert len(lengths) == len(segment_bounds(len(y), SR, 3.0))
    assert np.isfinite(values).all()


@given(n=st.integers(1, features.N_FFT - 1))
@settings(max_examples=20, deadline=None)
def test_features_refuse_a_clip_under_one_frame_naming_it(n):
    with pytest.raises(AudioError, match=r"blip\.wav: a segment of \d+ samples .* too short") as err:
        features.signal_features(np.zeros(n, dtype=np.float32), SR, 30.0, "blip.wav")
    assert err.value.kind == "too_short"


# ----------------------------------------------------------------------------------- fingerprint


@settings(max_examples=40, deadline=None)
@given(a=signals(dedup.N_FFT, 3 * SR), b=signals(dedup.N_FFT, 3 * SR))
def test_fingerprints_and_their_similarity_are_finite(a, b):
    fa, fb = dedup.fingerprint(a, SR), dedup.fingerprint(b, SR)
    for fp in (fa, fb):
        assert fp.bands.shape[1] == dedup.N_BANDS and len(fp.level_db) == len(fp.bands)
        assert np.isfinite(fp.bands).all() and np.isfinite(fp.level_db).all()
    similarity, lags = dedup.cross_similarity([fa.bands, fb.bands], max_lag=3)
    assert np.isfinite(similarity).all() and (np.abs(similarity) <= 1 + 1e-5).all()
    assert np.isfinite(dedup.pair_similarity(fa.bands, fb.bands, int(lags[0, 1])))
