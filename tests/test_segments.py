"""How clips are cut into segments (genrelab.features.segments)."""

from __future__ import annotations

import pytest

from genrelab.features.segments import segment_bounds

SR = 22050


def test_thirty_second_table_takes_the_whole_clip_whatever_its_length():
    for n in (660000, 661794, 675808, 1000):
        assert segment_bounds(n, SR, 30.0) == [(0, n)]


def test_three_second_segments_reproduce_the_public_table():
    bounds = segment_bounds(661794, SR, 3.0)
    assert len(bounds) == 10
    # Segment k starts at k * 66150 and holds 66149 samples (the public table's `length`).
    assert bounds == [(k * 66150, k * 66150 + 66149) for k in range(10)]


@pytest.mark.parametrize("n_samples", [660000, 661100, 661408, 661504, 661794, 669680, 675808])
def test_every_gtzan_length_gets_ten_segments(n_samples):
    # Every GTZAN clip is 660000 to 675808 samples long.
    bounds = segment_bounds(n_samples, SR, 3.0)
    assert len(bounds) == 10
    assert all(stop <= n_samples for _, stop in bounds)


@pytest.mark.shared_data
def test_the_public_30s_lengths_give_ten_segments_each(shared_data):
    import pandas as pd

    lengths = pd.read_csv(shared_data / "kaggle" / "features_30_sec.csv")["length"]
    counts = [len(segment_bounds(int(n), SR, 3.0)) for n in lengths]
    assert len(counts) == 1000 and set(counts) == {10}
    short = lengths[lengths < 10 * 66150 - 1]  # their last segment is shorter than 66149 samples
    assert len(short) == 9 and short.min() == 660000


def test_a_short_clip_keeps_a_shortened_last_segment():
    # The shortest GTZAN clip (hiphop.00032): the 10th segment stops at the end of the clip.
    bounds = segment_bounds(660000, SR, 3.0)
    assert bounds[-1] == (595350, 660000)
    assert {stop - start for start, stop in bounds[:-1]} == {66149}


def test_tail_is_kept_from_half_a_segment():
    hop = 66150
    assert len(segment_bounds(5 * hop + hop // 2, SR, 3.0)) == 6
    assert len(segment_bounds(5 * hop + hop // 2 - 1, SR, 3.0)) == 5


def test_longer_and_very_short_clips():
    bounds = segment_bounds(60 * SR, SR, 3.0)  # a 60 s track
    assert len(bounds) == 20 and bounds[-1] == (19 * 66150, 19 * 66150 + 66149)
    assert segment_bounds(SR, SR, 3.0) == [(0, SR)]  # 1 s: one (short) segment


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        segment_bounds(0, SR, 3.0)
    with pytest.raises(ValueError):
        segment_bounds(1000, SR, 0.0)
