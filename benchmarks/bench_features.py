"""Speed and parity of the 57-feature extraction (genrelab.features.gtzan57).

Speed: clips per second of the naive path (one librosa call per feature per segment, as the
notebook that made the public tables; ``features.reference_features``) and of ours
(``features.track_features``, what ``extract_table`` runs per file), for the 30 s and the 3 s
table, then both tables in one pass (``features.tracks_features``, what ``extract_tables`` runs), on the same clips and the same number of worker processes (loky, one thread each), and
how far apart their values are (per column: the largest difference over the rows, in units of
the column's standard deviation in the public 30 s table). Besides wall time, each path's CPU
seconds per clip (measured in the workers) give its speed on idle cores.

End to end (--full N): the target measurement. ``features.extract_tables`` (both tables, --jobs
workers, no cache, the progress bar off) on N GTZAN-length clips, the clips of --data repeated
under distinct names (symbolic links) up to N; wall-clock seconds, as a user waits for them.

Parity (--parity): our tables for every clip of a GTZAN folder against the public tables:
per-column largest error in standard deviations, and the share of clips / segments whose tempo
differs.

The machine may be shared: our timings are the best of --repeats runs (the naive path runs
once), the load average is printed beside them, and CPU time per clip is the steadier figure.

    python benchmarks/bench_features.py --clips 20 --jobs 2
    python benchmarks/bench_features.py --full 1000 --jobs 2
    python benchmarks/bench_features.py --parity
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GENRELAB_SHARED_DATA", ROOT.parent / "shared" / "data"))

from genrelab.data import audio  # noqa: E402
from genrelab.features import gtzan57 as features  # noqa: E402
from genrelab.features.segments import segment_bounds  # noqa: E402

HPSS = ["harmony_mean", "harmony_var", "perceptr_mean", "perceptr_var"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=SHARED / "gtzan-mini", help="folder of GTZAN clips (default: shared gtzan-mini)")
    p.add_argument("--public", type=Path, default=SHARED / "kaggle", help="folder of the public tables")
    p.add_argument("--clips", type=int, default=20, help="clips timed on our path (default 20)")
    p.add_argument("--naive-clips", type=int, default=4, help="clips timed on the naive path, a subset of the above (default 4)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes for both paths (default 2)")
    p.add_argument("--repeats", type=int, default=3, help="timings per measurement; the best is kept (default 3)")
    p.add_argument("--full", type=int, metavar="N", help="time extract_tables end to end on N clips (repeating --data) instead")
    p.add_argument("--parity", action="store_true", help="compare every clip of --data with the public tables instead")
    return p.parse_args(argv)


def pick_clips(folder: Path, n: int) -> list[Path]:
    """``n`` clips spread over the genres (clip i of each genre in turn)."""
    files, _ = features.find_audio_files(folder)
    by_genre: dict[str, list[Path]] = {}
    for path in files:
        by_genre.setdefault(path.parent.name, []).append(path)
    ordered = [g[i] for i in range(max(map(len, by_genre.values()))) for g in by_genre.values() if i < len(g)]
    return ordered[:n]


def naive_track(path: Path, segment_seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """The naive path for one file: lengths (n_segments,) and features (n_segments, 57)."""
    y, sr = audio.load(path)
    bounds = segment_bounds(len(y), sr, segment_seconds)
    rows = [features.reference_features(y[a:b], sr) for a, b in bounds]
    return np.array([b - a for a, b in bounds]), np.stack(rows)


def load_line() -> str:
    return "load average %.1f %.1f %.1f" % os.getloadavg()


def timed(fn, *args):
    """``fn(*args)`` and the CPU seconds it took in this process (insensitive to other users' load)."""
    start = time.process_time()
    result = fn(*args)
    return result, time.process_time() - start


def run(fn, clips: list[Path], seconds: float, jobs: int, repeats: int):
    """Best wall time of ``fn`` over ``clips`` on ``jobs`` processes, mean CPU s per clip, the features."""
    from joblib import Parallel, delayed, parallel_config

    best = np.inf
    with parallel_config(backend="loky", inner_max_num_threads=1):  # as features.extract_table
        for _ in range(repeats):
            start = time.perf_counter()
            out = Parallel(n_jobs=jobs)(delayed(timed)(fn, path, seconds) for path in clips)
            best = min(best, time.perf_counter() - start)
    cpu = sum(c for _, c in out) / len(clips)
    return best, cpu, np.concatenate([f for (_, f), _ in out])


def speed(args: argparse.Namespace) -> None:
    clips = pick_clips(args.data, args.clips)
    naive_clips = clips[: args.naive_clips]
    std = pd.read_csv(args.public / "features_30_sec.csv")[list(features.FEATURE_COLUMNS)].std()
    print(f"{len(clips)} clips from {args.data} (naive path: the first {len(naive_clips)}), {args.jobs} jobs, "
          f"best of {args.repeats}; {os.cpu_count()} CPUs, {load_line()}")
    # Warm the worker pool (imports, numba compilation) so that it is not timed.
    run(features.track_features, clips[: args.jobs], 3.0, args.jobs, 1)
    run(naive_track, clips[: args.jobs], 3.0, args.jobs, 1)

    cpu_both = wall_both = 0.0
    for seconds in (30.0, 3.0):
        t_ours, cpu_ours, ours = run(features.track_features, clips, seconds, args.jobs, args.repeats)
        t_naive, cpu_naive, naive = run(naive_track, naive_clips, seconds, args.jobs, 1)  # slow: timed once
        cpu_both, wall_both = cpu_both + cpu_ours, wall_both + t_ours / len(clips)
        ours = ours[: len(naive)]
        diff = pd.Series(np.abs(ours - naive).max(axis=0), index=features.FEATURE_COLUMNS) / std
        same = int((ours == naive).all(axis=0).sum())
        print(f"\n{seconds:g} s table  [{load_line()}]")
        for name, t, n, cpu in (("naive", t_naive, len(naive_clips), cpu_naive), ("ours", t_ours, len(clips), cpu_ours)):
            print(f"  {name:5s}: {n / t:6.2f} clips/s measured ({t:.1f} s for {n} clips); {cpu:.3f} CPU s/clip "
                  f"-> {args.jobs / cpu:.2f} clips/s on {args.jobs} idle cores")
        print(f"  speed-up: x{(len(clips) / t_ours) / (len(naive_clips) / t_naive):.1f} measured, x{cpu_naive / cpu_ours:.1f} in CPU time")
        print(f"  values on {len(naive)} rows: {same} of 57 columns bit-identical; largest difference "
              f"{diff.max():.1e} std of the public 30 s column ({diff.idxmax()}); tempo identical: "
              f"{bool((ours[:, 16] == naive[:, 16]).all())}")
    print(f"\nboth tables, one table at a time: {1 / wall_both:.2f} clips/s measured with {args.jobs} jobs; "
          f"{cpu_both:.3f} CPU s/clip -> {args.jobs / cpu_both:.2f} clips/s on {args.jobs} idle cores, 1000 clips in "
          f"{1000 * cpu_both / args.jobs / 60:.1f} min")
    # What extract_tables runs per file: one decode for both tables.
    t_one, cpu_one, _ = run(both_tables, clips, 0.0, args.jobs, args.repeats)
    print(f"both tables in one pass (extract_tables) [{load_line()}]: {len(clips) / t_one:.2f} clips/s measured; "
          f"{cpu_one:.3f} CPU s/clip -> {args.jobs / cpu_one:.2f} clips/s on {args.jobs} idle cores, 1000 clips in "
          f"{1000 * cpu_one / args.jobs / 60:.1f} min (target: under 5 min)")


def both_tables(path: Path, _seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """``features.tracks_features`` for the 30 s and 3 s tables, shaped as ``run`` expects (rows stacked)."""
    out = features.tracks_features(path, (30.0, 3.0))
    return np.concatenate([lengths for lengths, _ in out.values()]), np.concatenate([f for _, f in out.values()])


def full(args: argparse.Namespace) -> None:
    import tempfile

    clips, _ = features.find_audio_files(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.full):
            source = clips[i % len(clips)]
            (Path(tmp) / f"{source.stem}.r{i // len(clips)}{source.suffix}").symlink_to(source.resolve())
        print(f"{args.full} clips ({len(clips)} distinct, from {args.data}), both tables, {args.jobs} jobs, "
              f"{os.cpu_count()} CPUs, {load_line()}")
        start = time.perf_counter()
        tables = features.extract_tables(tmp, (30.0, 3.0), jobs=args.jobs, progress=False).tables
        wall = time.perf_counter() - start
    rows = {f"{s:g} s": len(t) for s, t in tables.items()}
    print(f"extract_tables: {wall:.1f} s wall ({wall / 60:.2f} min; target: under 5 min for 1000), "
          f"{args.full / wall:.2f} clips/s; rows {rows}; {load_line()}")


def parity(args: argparse.Namespace) -> None:
    public30 = pd.read_csv(args.public / "features_30_sec.csv").set_index("filename")
    public3 = pd.read_csv(args.public / "features_3_sec_mini.csv").set_index("filename")
    std30 = public30[list(features.FEATURE_COLUMNS)].std()
    files, _ = features.find_audio_files(args.data)
    for seconds, public, std in ((30.0, public30, std30), (3.0, public3, public3[list(features.FEATURE_COLUMNS)].std())):
        paths = files if seconds == 30 else [p for p in files if f"{p.stem}.0{p.suffix}" in public.index]
        ours = features.extract_table(paths, segment_seconds=seconds, jobs=args.jobs, progress=False).table.set_index("filename")
        missing = ours.index.difference(public.index)
        print(f"\n{seconds:g} s: {len(ours)} rows, {len(missing)} not in the public table {list(missing[:3])}")
        ref = public.loc[ours.index]
        print(f"  length equal on {(ref['length'] == ours['length']).sum()} of {len(ours)} rows")
        err = ((ours[list(features.FEATURE_COLUMNS)] - ref[list(features.FEATURE_COLUMNS)]).abs() / std).max()
        tempo = err.pop("tempo")
        print(f"  std: {'public 30 s table' if seconds == 30 else 'public 3 s rows here'}")
        print(f"  largest error, the 56 columns but tempo: {err.max():.1e} std ({err.idxmax()}); per column:")
        print("   " + ", ".join(f"{k} {v:.0e}" for k, v in err.items()))
        print("  of which HPSS: " + ", ".join(f"{k} {err[k]:.1e}" for k in HPSS))
        mismatch = (ours["tempo"] - ref["tempo"]).abs() > 1e-6
        print(f"  tempo differs on {mismatch.sum()} of {len(ours)} rows ({mismatch.mean():.1%}); largest {tempo:.2f} std")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.data.is_dir():
        print(f"no clips at {args.data}: pass --data or set GENRELAB_SHARED_DATA", file=sys.stderr)
        return 2
    if args.full:
        full(args)
    elif args.parity:
        parity(args)
    else:
        speed(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
