"""Time and peak memory of genrelab.data.dedup.cross_similarity on GTZAN-sized fingerprints.

Builds --clips random fingerprints shaped like real ones (float32 (n_frames, 32 bands), n_frames
drawn from --frames +- 2 %, as GTZAN clips run 29.9 to 30.6 s), plants a few shifted noisy copies
so the result can be sanity-checked (each copy must be found at its lag, above every distinct
pair), and times one call of ``cross_similarity(bands, max_lag)``, best of --repeats.

Reports wall and CPU seconds, the BLAS threads used, the load average (the machine may be
shared: compare CPU seconds), the peak of Python/numpy heap allocations during the call
(tracemalloc) and the process's peak RSS.

    nice python benchmarks/bench_dedup.py
    python benchmarks/bench_dedup.py --clips 200 --threads 1
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from genrelab.data.dedup import N_BANDS, cross_similarity


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--clips", type=int, default=1000, help="fingerprints (default: GTZAN's 1000)")
    p.add_argument("--frames", type=int, default=650, help="typical frames per fingerprint (default 650: 30 s, hop 1024)")
    p.add_argument("--bands", type=int, default=N_BANDS, help=f"bands per frame (default {N_BANDS}, as dedup)")
    p.add_argument("--max-lag", type=int, default=22, help="largest lag tried, in frames (default 22: 1 s)")
    p.add_argument("--copies", type=int, default=5, help="planted shifted copies, for the sanity check (default 5)")
    p.add_argument("--threads", type=int, default=None, help="BLAS threads (default: the library's own)")
    p.add_argument("--repeats", type=int, default=1, help="timed calls; the best is kept (default 1)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def make_fingerprints(args: argparse.Namespace) -> tuple[list[np.ndarray], list[tuple[int, int, int]]]:
    """Random fingerprints, and ``(original, copy, lag)`` of each planted copy.

    Frames are smoothed over time (a 5-frame moving average, as dedup smooths its power) so
    neighbouring lags correlate as with real music; copy ``j`` of clip ``i`` is ``i`` delayed by
    ``lag`` frames plus noise, so ``lag[i, j] == lag`` is expected.
    """
    rng = np.random.default_rng(args.seed)
    lengths = rng.integers(int(args.frames * 0.98), int(args.frames * 1.02) + 1, size=args.clips)
    kernel = np.ones(5) / 5
    bands = []
    for n in lengths:
        raw = rng.normal(size=(n + 4, args.bands))
        smooth = np.apply_along_axis(np.convolve, 0, raw, kernel, mode="valid")
        bands.append((10 * (smooth - smooth.mean(axis=0))).astype(np.float32))
    planted = []
    for k in range(min(args.copies, args.clips // 2)):
        original, copy, lag = 2 * k, 2 * k + 1, int(rng.integers(1, args.max_lag + 1))
        source = bands[original]
        shifted = np.concatenate([rng.normal(size=(lag, args.bands)) * 10, source])[: len(source)]
        bands[copy] = (shifted + rng.normal(size=shifted.shape)).astype(np.float32)
        planted.append((original, copy, lag))
    return bands, planted


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bands, planted = make_fingerprints(args)
    size_mb = sum(b.nbytes for b in bands) / 2**20
    print(f"{args.clips} fingerprints (~{args.frames} x {args.bands} float32, {size_mb:.0f} MiB), "
          f"max_lag {args.max_lag}; {os.cpu_count()} CPUs")  # fmt: skip
    best_wall = best_cpu = np.inf
    with threadpool_limits(limits=args.threads):
        threads = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
        for _ in range(args.repeats):
            load = "load average %.1f %.1f %.1f" % os.getloadavg()
            tracemalloc.start()
            wall, cpu = time.perf_counter(), time.process_time()
            similarity, lag = cross_similarity(bands, args.max_lag)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            _, heap_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
            print(f"  run: {wall:.2f} s wall, {cpu:.2f} s CPU [{load}]")
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"cross_similarity: best {best_wall:.2f} s wall, {best_cpu:.2f} s CPU (BLAS threads {threads})")
    print(f"peak heap during the call (tracemalloc): {heap_peak / 2**20:.0f} MiB; process peak RSS: {rss_peak:.0f} MiB")

    # Sanity check: every planted copy is found at its lag and scores above all distinct pairs.
    off = similarity.copy()
    np.fill_diagonal(off, -np.inf)
    for i, j, _ in planted:
        off[i, j] = off[j, i] = -np.inf
    found = [(float(similarity[i, j]), int(lag[i, j]) == want) for i, j, want in planted]
    ok = all(at_lag for _, at_lag in found) and (not found or min(s for s, _ in found) > off.max())
    print(f"sanity: {len(planted)} planted copies, similarity {min((s for s, _ in found), default=float('nan')):.3f}+ "
          f"at the right lag: {all(a for _, a in found)}; largest distinct pair {off.max():.3f} -> {'ok' if ok else 'FAILED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
