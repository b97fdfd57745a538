"""How a clip is cut into segments, so that segment ``k`` is the same audio in every approach.

The features, spectrogram and CNN stages all cut clips with :func:`segment_bounds`. The rule
reproduces the rows of the public GTZAN 3 s feature table (``features_3_sec.csv``):

- segment ``k`` starts at ``k * hop`` samples, ``hop = round(segment_seconds * sr)`` (66150 for
  3 s at 22050 Hz), and holds ``hop - 1`` samples: the original code dropped the last sample of
  every segment, which is why the public table's ``length`` column reads 66149, not 66150.
  Measured on the shared clips: any other start (one sample either way) or length moves the
  features by 1e-3 to 1e-2 of a column's standard deviation, this rule by less than 1e-8;
- a clip gets ``round(n_samples / hop)`` segments (at least one): a tail holding at least half a
  segment is kept, shortened to the end of the clip. Every GTZAN clip (660000 to 675808 samples)
  thus gets exactly 10 segments, as in the public table, including the 9 clips shorter than
  ``10 * hop - 1`` samples (hiphop.00032, country.00007, ...): their last segment is up to 1499
  samples shorter. The shared 3 s rows include none of them, so whether the public table wrote
  that shorter length, or 66149, is unchecked. Applied to the 1000 ``length`` values of the public
  30 s table, the rule gives 10000 segments; the full public 3 s table is said to hold 9990 rows.
  Which 10 it lacks cannot be told from the 300 shared rows: all of jazz.00054 (corrupt in the
  Kaggle copy) would account for them, the 9 short clips' last segments for 9;
- ``segment_seconds >= clip_seconds`` (30 s) means no cutting: one segment, the whole clip,
  whatever its real length (the public 30 s table measured 29.9 to 30.6 s clips whole).
"""

from __future__ import annotations

CLIP_SECONDS = 30.0


def segment_bounds(
    n_samples: int, sr: int, segment_seconds: float, clip_seconds: float = CLIP_SECONDS
) -> list[tuple[int, int]]:
    """Sample ranges of the segments of a clip.

    Parameters
    ----------
    n_samples : length of the clip in samples (> 0).
    sr : sample rate in Hz.
    segment_seconds : nominal segment length in seconds (3 for the 3 s table).
    clip_seconds : nominal clip length in seconds; ``segment_seconds >= clip_seconds`` gives one
        segment covering the whole clip.

    Returns
    -------
    bounds : list of ``(start, stop)`` sample indices, half-open (``y[start:stop]``), in order;
        ``len(bounds)`` is the number of segments, segment ``k`` is ``bounds[k]``.
    """
    if n_samples <= 0 or sr <= 0 or segment_seconds <= 0:
        raise ValueError(
            f"segment_bounds needs n_samples, sr and segment_seconds > 0, "
            f"got {n_samples}, {sr}, {segment_seconds}"
        )
    if segment_seconds >= clip_seconds:
        return [(0, int(n_samples))]
    hop = int(round(segment_seconds * sr))
    if hop < 2:
        raise ValueError(f"segment_seconds={segment_seconds} is shorter than two samples at {sr} Hz")
    # round(): keep a tail of at least half a segment (half-way rounds up, as "at least" says).
    count = max(1, int(n_samples / hop + 0.5))
    return [(k * hop, min(k * hop + hop - 1, int(n_samples))) for k in range(count)]
