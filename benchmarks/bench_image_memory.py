"""Peak memory and time of the spectrogram-pixels pipeline on a GTZAN-sized, memory-mapped input.

Writes a synthetic (rows, n_mels, n_frames) float32 array to disk as ``.npy`` (10 000 x 128 x 130,
670 MB, by default: 1000 clips x 10 segments), opens it memory-mapped as the stage does, and
fits the ``spectrogram_pixels`` pipeline (ChunkedPCA -> classifier) on the first
``1 - test_fraction`` of the rows, then predicts the rest. The target is 4 GB of RAM.

Reports wall and CPU seconds of fit and predict, the number of PCA components, the peak of
numpy's heap allocations (tracemalloc) and the process's peak RSS. RSS also counts the pages of
the memory-mapped file that were read (file-backed, reclaimable by the OS), so it is an upper
bound; the tracemalloc peak is what the pipeline itself allocates.

``--mode evaluate`` runs the same models through :func:`genrelab.evaluation.loop.evaluate` (one
protocol, no CV), as the stage does, to include that loop's own copies of the matrix.

    nice python benchmarks/bench_image_memory.py
    nice python benchmarks/bench_image_memory.py --model random_forest --fit-rows 2000
    nice python benchmarks/bench_image_memory.py --rows 2000 --mode evaluate
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from genrelab.approaches.image_models import make_image_models

N_GENRES = 10


def write_synthetic(path: Path, rows: int, n_mels: int, n_frames: int, *, seed: int = 0, chunk: int = 250) -> None:
    """Spectrogram-like data on disk, written in chunks, and its labels beside it (``.labels.npy``).

    Each row mixes 1000 smooth random templates with weights whose spread falls as
    ``(k + 1) ** -0.6``, plus noise, in dB around -40: a long tail of components like real
    spectrograms (on 1000 real GTZAN segments, 90 % of the standardised pixel variance takes 322
    components). The label is the largest of the first ten weights.
    """
    rng = np.random.default_rng(seed)
    n_templates = 1000
    freq = np.linspace(0, 1, n_mels)[:, None]
    time_ = np.linspace(0, 1, n_frames)[None, :]
    templates = np.stack(
        [
            np.sin(2 * np.pi * (rng.uniform(0.5, 16) * freq + rng.uniform(0, 32) * time_ + rng.uniform()))
            for _ in range(n_templates)
        ]
    ).reshape(n_templates, -1)
    spread = (np.arange(n_templates) + 1.0) ** -0.6
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, n_mels, n_frames))
    labels = np.empty(rows, dtype="<U3")
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        weights = rng.normal(size=(n, n_templates)) * spread
        images = weights @ templates * 10 - 40 + rng.normal(0, 1, size=(n, n_mels * n_frames))
        out[start : start + n] = images.reshape(n, n_mels, n_frames)
        labels[start : start + n] = [f"g{i}" for i in weights[:, :N_GENRES].argmax(axis=1)]
    out.flush()
    np.save(_labels_path(path), labels)


def _labels_path(path: Path) -> Path:
    return path.with_suffix(".labels.npy")


def run_pipeline(X, y, params: dict, model: str, test_fraction: float) -> dict:
    """Fit the pixel pipeline on the first rows, predict the rest; seconds and components."""
    pixels = make_image_models(params)["pixels"]
    F = pixels.features(X)  # a reshaped view of the memory map: nothing is read yet
    n_train = int(len(F) * (1 - test_fraction))
    estimator = pixels.models[model]()
    wall, cpu = time.perf_counter(), time.process_time()
    estimator.fit(F[:n_train], y[:n_train])
    fit = (time.perf_counter() - wall, time.process_time() - cpu)
    wall, cpu = time.perf_counter(), time.process_time()
    accuracy = float(np.mean(estimator.predict(F[n_train:]) == y[n_train:]))
    predict = (time.perf_counter() - wall, time.process_time() - cpu)
    components = estimator.named_steps["pca"].n_components_
    return {"fit": fit, "predict": predict, "components": components, "accuracy": accuracy}


def run_evaluate(X, y, params: dict, model: str, test_fraction: float) -> dict:
    """The same model through genrelab.evaluation.loop.evaluate (track_grouped, no CV)."""
    from genrelab.evaluation.loop import evaluate
    from genrelab.evaluation.splits import make_splits

    segments = 10
    track_ids = np.array([f"t{i // segments:05d}" for i in range(len(y))], dtype=object)
    rows = pd.DataFrame({"track_id": track_ids, "segment": np.arange(len(y)) % segments})
    # A track's label is its first segment's, so every segment of a track shares it.
    y = pd.Series(y).groupby(track_ids).transform("first").to_numpy(dtype=object)
    tracks = pd.DataFrame({"track_id": track_ids[::segments], "genre": y[::segments], "artist": "", "status": "ok"})
    splits = make_splits(tracks, protocols=["track_grouped"], test_fraction=test_fraction)
    pixels = make_image_models(params)["pixels"]
    wall, cpu = time.perf_counter(), time.process_time()
    result = evaluate(
        pixels.features(X), y, rows, splits, approach=pixels.approach, models={model: pixels.models[model]},
        protocols=["track_grouped"], level="segment", cv_folds=0, progress=False,
    )  # fmt: skip
    detail = result.details[model, "track_grouped"]
    return {
        "fit": (detail.fit_seconds, float("nan")),
        "predict": (detail.predict_seconds, float("nan")),
        "total": (time.perf_counter() - wall, time.process_time() - cpu),
        "components": detail.estimator.named_steps["pca"].n_components_,
        "accuracy": detail.test_accuracy,
    }


def _fraction_or_count(text: str) -> float | int:
    value = float(text)
    return int(value) if value > 1 else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add = parser.add_argument
    add("--rows", type=int, default=10_000, help="segments (default: GTZAN's 10 000)")
    add("--mels", type=int, default=128, help="mel bands (default 128)")
    add("--frames", type=int, default=130, help="frames per segment (default 130: 3 s, hop 512)")
    add("--model", choices=["logreg", "random_forest"], default="logreg", help="classifier (default logreg)")
    add("--fit-rows", type=int, default=None, help="ChunkedPCA fit_rows (default: image_models' default)")
    add("--n-components", type=_fraction_or_count, default=0.9,
        help="PCA variance fraction in (0, 1], or a whole number of components (default 0.9)")  # fmt: skip
    add("--test-fraction", type=float, default=0.25, help="rows held out for predict (default 0.25)")
    add("--mode", choices=["pipeline", "evaluate"], default="pipeline", help="see above (default pipeline)")
    add("--dir", type=Path, default=None, help="where the .npy goes (default: a temporary folder, removed)")
    args = parser.parse_args(argv)

    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench_image_memory_"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "segments.npy"
    try:
        wall = time.perf_counter()
        # In a child process, so that this process's peak RSS is the pipeline's alone.
        writer = multiprocessing.get_context("fork").Process(
            target=write_synthetic, args=(path, args.rows, args.mels, args.frames)
        )
        writer.start()
        writer.join()
        y = np.load(_labels_path(path)).astype(object)
        print(f"wrote {path} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - wall:.1f} s")
        X = np.load(path, mmap_mode="r")
        pixels = {"n_components": args.n_components, "models": {args.model: {}}}
        if args.fit_rows is not None:
            pixels["fit_rows"] = args.fit_rows
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
        tracemalloc.start()
        run = run_pipeline if args.mode == "pipeline" else run_evaluate
        result = run(X, y, {"pixels": pixels}, args.model, args.test_fraction)
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)

    print(f"input: {args.rows} x {args.mels} x {args.frames} float32, memory-mapped")
    print(f"mode {args.mode}, model {args.model}")
    for step in ("fit", "predict", "total"):
        if step in result:
            print(f"{step:>8}: {result[step][0]:7.1f} s wall, {result[step][1]:7.1f} s CPU")
    print(f"PCA components: {result['components']}; held-out accuracy {result['accuracy']:.3f} (a sanity check only)")
    print(f"peak numpy/Python heap (tracemalloc): {heap_peak / 2**20:7.0f} MiB")
    print(f"peak RSS (incl. mapped file pages):   {rss_peak:7.0f} MiB (before the pipeline: {rss_before:.0f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
