"""Time LightGBM fits when two run at once on a 2-core machine, with 2 threads each and with 1.

LightGBM's OpenMP threads spin at each barrier, so two fits of 2 threads on 2 cores wait for each
other's descheduled threads. That is what `audio_models` does with ``jobs: 2`` (two candidates at a
time) and a LightGBM of ``n_jobs: 2``, and what `make test` did building two studies side by side.
An explicit ``n_jobs`` overrides ``OMP_NUM_THREADS`` and threadpoolctl's limits, which is why the
stage's workers cannot cap it. The rows have the audio zoo's shape (segments x 57 features).

    nice python benchmarks/bench_oversubscription.py
    nice python benchmarks/bench_oversubscription.py --rows 200 --threads 2 1
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

FIT = """
import sys, time, numpy as np
from lightgbm import LGBMClassifier
rows, threads = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
X, y = rng.standard_normal((rows, 57)), rng.integers(0, 10, rows)
clf = LGBMClassifier(n_estimators=100, num_leaves=15, max_bin=63, n_jobs=threads, verbose=-1)
start = time.perf_counter(); clf.fit(X, y); print(time.perf_counter() - start)
"""


def fit_seconds(rows: int, threads: int, at_once: int) -> list[float]:
    """Wall seconds of each of ``at_once`` fits run in as many processes at the same time."""
    procs = [subprocess.Popen([sys.executable, "-c", FIT, str(rows), str(threads)], stdout=subprocess.PIPE, text=True)
             for _ in range(at_once)]  # fmt: skip
    return [float(p.communicate()[0]) for p in procs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1600, help="training rows (default: a protocol's segments)")
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    args = parser.parse_args()
    for threads in args.threads:
        alone = fit_seconds(args.rows, threads, 1)[0]
        start = time.perf_counter()
        pair = fit_seconds(args.rows, threads, 2)
        print(f"n_jobs {threads}: one fit alone {alone:5.2f} s; two at once {max(pair):5.2f} s each "
              f"({time.perf_counter() - start:5.1f} s wall, {max(pair) / alone:4.1f}x)")


if __name__ == "__main__":
    main()
