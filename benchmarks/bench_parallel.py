"""Clips per second of the per-track work on each backend of genrelab.parallel, and what FMA would cost.

Extracts both 57-feature tables (30 s and 3 s; no cache) of the same clips with loky on 1 and 2
workers and with Dask on a LocalCluster of 1 and 2 workers (the cluster started and its workers
warmed up beforehand, as a stage reuses them), checks the tables are identical, and projects hours for fma_large (106,574 30 s
clips) and fma_full (106,574 untrimmed tracks, 343 days of audio: 278 s a track on average, so
about 9.3 clips' worth each) on N workers from the measured per-clip cost of one worker, each
worker on a core of its own. FMA's own clips are 44.1 kHz stereo MP3s, dearer to decode than
GTZAN's 22.05 kHz WAVs: measure them with ``--data`` on an FMA MP3.

    nice python benchmarks/bench_parallel.py                  # 40 clips of ../shared/data/gtzan-mini
    nice python benchmarks/bench_parallel.py --clips 100 --workers 1 2
    nice python benchmarks/bench_parallel.py --data ../shared/data/fma-samples/000002.mp3 --repeat 20
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from genrelab.data.audio import is_audio_file
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
    parser.add_argument("--data", type=Path, default=Path("../shared/data/gtzan-mini"), help="a folder or one file")
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1, help="each clip this many times (no cache: each is computed)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    found = [args.data] if args.data.is_file() else sorted(p for p in args.data.rglob("*") if is_audio_file(p))
    paths = _repeated(found, args.repeat)[: args.clips]
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


def _repeated(paths: list[Path], times: int) -> list[Path]:
    """``paths`` ``times`` over, as links of distinct names (a file list keeps one of each name)."""
    if times == 1:
        return paths
    folder = Path(tempfile.mkdtemp(prefix="bench_parallel_"))
    links = []
    for k in range(times):
        for path in paths:
            links.append(folder / f"{path.stem}.r{k:03d}{path.suffix}")
            links[-1].symlink_to(path.resolve())
    return links


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


if __name__ == "__main__":
    main()
