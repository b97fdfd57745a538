"""Time the CNNs, and measure what batch-norm momentum does to the scratch CNN.

Default: the wall and CPU seconds of one training epoch of each network (scratch CNN; the
transfer model's frozen phase; frozen + one fine-tuning epoch) and of predicting 500 segments, on
synthetic spectrograms of the demo corpus's size, with the default params.

``--ablation``: the scratch CNN under one protocol of the built study (``data/spectrograms``,
``data/interim/splits.csv``: run ``dvc repro spectrograms`` first) with ``cnn.scratch.bn_momentum``
0.99 (Keras' default) and 0.9 (the study's), and at the native resolution against a 64 px resize:
track-level test accuracy and the best validation accuracy of each.

    nice python benchmarks/bench_cnn.py                     # epoch times, demo size
    nice python benchmarks/bench_cnn.py --backbone vgg19 --input-size 64
    nice python benchmarks/bench_cnn.py --ablation --protocol artist_grouped
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from genrelab.approaches import cnn
from genrelab.evaluation.loop import evaluate
from genrelab.evaluation.splits import make_splits


def synthetic(n_tracks: int, n_segments: int, n_mels: int, n_frames: int, n_genres: int, seed: int = 0):
    """Random dB segments with a genre-dependent offset, their index, and a split table."""
    rng = np.random.default_rng(seed)
    genres = [f"g{i}" for i in range(n_genres)]
    tracks = pd.DataFrame(
        {
            "track_id": [f"{genres[i % n_genres]}.{i:05d}" for i in range(n_tracks)],
            "genre": [genres[i % n_genres] for i in range(n_tracks)],
            "artist": [f"a{i // 4}" for i in range(n_tracks)],
            "status": "ok",
        }
    )
    index = tracks.loc[tracks.index.repeat(n_segments), ["track_id", "genre"]].reset_index(drop=True)
    index.insert(1, "segment", np.tile(np.arange(n_segments), n_tracks))
    offset = index["genre"].str[1:].astype(int).to_numpy()[:, None, None] * 2.0
    X = (rng.normal(-40, 10, size=(len(index), n_mels, n_frames)) + offset).astype(np.float32)
    return X, index, make_splits(tracks, protocols=["random_segment", "track_grouped", "artist_grouped"])


class _Clock:
    """Wall and CPU (all threads) seconds of a block: on a shared machine CPU time is the steadier."""

    def __init__(self, out: dict, name: str):
        self.out, self.name = out, name

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __exit__(self, *exc):
        self.out[self.name] = (time.perf_counter() - self.wall, time.process_time() - self.cpu)


def time_epochs(X, index, params, seed: int = 0) -> dict[str, tuple[float, float]]:
    """(wall, cpu) seconds of one epoch of each network on 80 % of the rows (20 % validate)."""
    p = cnn.check_params(params)
    s, t = p["scratch"], p["transfer"]
    s["epochs"] = t["frozen_epochs"] = t["fine_tune_epochs"] = 1
    y = index["genre"].to_numpy(dtype=object)
    out: dict = {}
    with _Clock(out, "resize to the transfer input"):
        gray = cnn.resize_segments(X, t["input_size"], image_range=True)
    small = X if s["input_size"] == "native" else cnn.resize_segments(X, s["input_size"])
    with _Clock(out, "scratch: 1 epoch (incl. build)"):
        cnn.ScratchCNN(p, seed).fit(small, y)
    frozen_only = {**p, "transfer": {**t, "fine_tune_layers": 0}}
    with _Clock(out, "transfer: frozen phase, 1 epoch"):
        cnn.TransferCNN(frozen_only, seed).fit(gray, y)
    with _Clock(out, "transfer: frozen + 1 fine-tune"):
        model = cnn.TransferCNN(p, seed).fit(gray, y)
    with _Clock(out, "transfer: predict 500 segments"):
        model.predict_proba(gray[:500])
    return out


def ablation(protocol: str) -> pd.DataFrame:
    """Track-level accuracy of the scratch CNN with each batch-norm momentum and input size."""
    from genrelab.config import load_params
    from genrelab.features.spectrograms import load_segments
    from genrelab.stages.common import read_prepared

    params = load_params("params.yaml")
    X, index = load_segments("data/spectrograms")
    _, splits = read_prepared()
    rows = []
    for momentum in (0.99, 0.9):
        for size in ("native", 64):
            p = cnn.check_params({**params["cnn"], "scratch": {**params["cnn"]["scratch"], "bn_momentum": momentum,
                                                               "input_size": size}})  # fmt: skip
            inputs = X if size == "native" else cnn.resize_segments(X, size)
            result = evaluate(inputs, index["genre"].to_numpy(dtype=object), index, splits, approach="cnn_scratch",
                              models={"scratch": lambda: cnn.ScratchCNN(p, p["seed"])}, protocols=[protocol],
                              level="segment", cv_folds=0, seed=p["seed"], split_seed=params["prepare"]["seed"],
                              test_fraction=params["prepare"]["test_fraction"], progress=False)  # fmt: skip
            detail = result.details["scratch", protocol]
            rows.append({"bn_momentum": momentum, "input": size, "track_accuracy": detail.track_accuracy,
                         "best_val_accuracy": detail.estimator.history_["val_accuracy"].max(),
                         "epochs": len(detail.estimator.history_), "fit_s": detail.fit_seconds})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=200)
    parser.add_argument("--segments", type=int, default=10, help="segments per track")
    parser.add_argument("--mels", type=int, default=128)
    parser.add_argument("--frames", type=int, default=130)
    parser.add_argument("--genres", type=int, default=10)
    parser.add_argument("--backbone", default=None, help="override cnn.transfer.backbone")
    parser.add_argument("--input-size", type=int, default=None, help="override cnn.transfer.input_size")
    parser.add_argument("--ablation", action="store_true", help="batch-norm momentum and input size, on the built study")
    parser.add_argument("--protocol", default="artist_grouped", help="protocol of --ablation")
    args = parser.parse_args()

    if args.ablation:
        print(ablation(args.protocol).round(3).to_string(index=False))
        return
    params: dict = {"transfer": {}}
    if args.backbone:
        params["transfer"]["backbone"] = args.backbone
    if args.input_size:
        params["transfer"]["input_size"] = args.input_size
    X, index, _ = synthetic(args.tracks, args.segments, args.mels, args.frames, args.genres)
    print(f"X {X.shape}, params {cnn.check_params(params)}")
    print(f"{'step':>36}  wall_s   cpu_s")
    for key, (wall, cpu) in time_epochs(X, index, params).items():
        print(f"{key:>36}  {wall:6.1f}  {cpu:6.1f}")


if __name__ == "__main__":
    main()
