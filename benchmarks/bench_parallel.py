"""Clips per second of the per-track work on each backend of genrelab.parallel, and what FMA would cost.

Extracts both 57-feature tables (30 s and 3 s; no cache) of the same clips with loky on 1 and 2
workers and with Dask on a LocalCluster of 1 and 2 workers (the cluster started and its workers
warmed up beforehand, as a stage reuses them), checks the tables are identical, and projects hours for fma_large (106,574 30 s
clips) and fma_full (106,574 untrimmed tracks, 343 days of audio: 278 s a track on average, so
about 9.3 clips' worth each) on N workers from the measured per-clip cost of one worker, each
worker on a core of its own (WAV clips: FMA's MP3s add their decoding).

    nice python benchmarks/bench_parallel.py                  # 40 clips of ../shared/data/gtzan-mini
    nice python benchmarks/bench_parallel.py --clips 100 --workers 1 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from genrelab.features.gtzan57 import extract_tables
from genrelab.parallel import close_dask_clients, configured, dask_client

FMA = {"fma_large": 106_574, "fma_full": 106_574 * 278 / 30}  # in 30 s clip equivalents


def clips_per_second(paths: list[Path], backend: str, workers: int) -> tuple[float, dict]:
    start = time.perf_counter()
    with configured({"backend": backend, "dask_scheduler": ""}):
        result = extract_tables(paths, segment_seconds=(30.0, 3.0), jobs=workers, progress=False)
    return len(paths) / (time.perf_counter() - start), result.tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/gtzan-mini"))
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = sorted(args.data.rglob("*.wav"))[: args.clips]
    if not paths:
        raise SystemExit(f"no clips under {args.data}; pass --data")
    extract_tables(paths[:2], segment_seconds=(30.0, 3.0), jobs=1, progress=False)  # warm-up: numba compiles
    reference, rates = None, {}
    for _ in range(args.rounds):  # backends alternate, so a slow spell of the machine hits each alike
        for workers in args.workers:
            for backend in ("loky", "dask"):
                if backend == "dask":
                    dask_client("", workers)  # start the cluster outside the timing
                clips_per_second(paths[: 2 * workers], backend, workers)  # warm-up: fresh workers compile numba kernels
                rate, tables = clips_per_second(paths, backend, workers)
                if reference is not None and not all(tables[k].equals(reference[k]) for k in tables):
                    raise SystemExit(f"{backend} x {workers}: the tables differ from the first run's")
                reference = reference or tables
                rates.setdefault((backend, workers), []).append(rate)
                close_dask_clients()
    for (backend, workers), values in sorted(rates.items()):
        print(f"{backend:>5} x {workers}: {np.median(values):5.2f} clips/s (median of {len(values)} runs of "
              f"{len(paths)} clips: {', '.join(f'{v:.2f}' for v in values)}); tables identical")
    one_worker = {backend: np.median(v) for (backend, workers), v in rates.items() if workers == 1}
    per_clip = 1 / one_worker["dask"]
    for name, clips in FMA.items():
        hours = ", ".join(f"{n} workers {_duration(clips * per_clip / n)}" for n in (1, 16, 64, 256))
        print(f"{name}: {clips:,.0f} clip equivalents x {per_clip:.2f} s -> {hours}")


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


if __name__ == "__main__":
    main()
