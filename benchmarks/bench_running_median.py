"""Speed of genrelab.features.running_median.median_filter against scipy.ndimage.median_filter (mode "reflect").

The inputs are shaped as HPSS filters them in the feature extraction: the magnitude spectrogram of
a 30 s clip (1292 frames x 1025 bins) and of the ten 3 s segments of a clip (10 x 130 x 1025),
each along time and along frequency, with a 31-point window. scipy is timed in its fastest
form (the lines, each padded with its reflection, filtered as one 1-D signal: its 1-D running
median; its n-D filter is 20x slower still). Each timing is the best of --repeats; the values
are checked equal.

    python benchmarks/bench_running_median.py
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from scipy.ndimage import median_filter as scipy_median
from threadpoolctl import threadpool_limits

from genrelab.features.running_median import median_filter

SIZE = 31


def scipy_lines(x: np.ndarray, axis: int) -> np.ndarray:
    """scipy's 1-D running median over every line of ``x`` along ``axis``, reflect-padded."""
    half = SIZE // 2
    lines = np.moveaxis(x, axis, -1)
    padded = np.pad(lines, [(0, 0)] * (lines.ndim - 1) + [(half, half)], mode="symmetric")
    filtered = scipy_median(padded.reshape(-1), size=SIZE, mode="reflect").reshape(padded.shape)
    return np.moveaxis(filtered[..., half:-half], -1, axis)


def best_time(fn, repeats: int) -> tuple[float, np.ndarray]:
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timings per case; the best is kept (default 5)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    cases = {"30 s clip (frames, bins)": rng.random((1, 1292, 1025), dtype=np.float32),
             "3 s segments (segment, frames, bins)": rng.random((10, 130, 1025), dtype=np.float32)}
    median_filter(cases["3 s segments (segment, frames, bins)"], SIZE, axis=-1)  # compile (or load the cache)
    with threadpool_limits(limits=1):
        for name, x in cases.items():
            for axis, along in ((-2, "time"), (-1, "frequency")):
                t_scipy, ref = best_time(lambda: scipy_lines(x, axis), args.repeats)
                t_ours, ours = best_time(lambda: median_filter(x, SIZE, axis), args.repeats)
                per_value = 1e9 / x.size
                print(f"{name:38s} along {along:9s}: scipy {t_scipy * 1e3:6.1f} ms ({t_scipy * per_value:4.1f} ns/value), "
                      f"ours {t_ours * 1e3:5.1f} ms ({t_ours * per_value:4.1f} ns/value): x{t_scipy / t_ours:.1f}; "
                      f"equal: {np.array_equal(ref, ours)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
