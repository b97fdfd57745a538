"""Time the CNN stage on synthetic spectrograms of a given size.

Prints the wall and CPU seconds of one epoch of each training step (scratch CNN, the transfer model's frozen
feature pass and head epoch, one fine-tuning epoch) and, with ``--full``, the wall time of
:func:`genrelab.approaches.cnn.run_cnn` with the default params on the demo-sized protocols.

    nice python benchmarks/bench_cnn.py                 # demo corpus size, default params
    nice python benchmarks/bench_cnn.py --full          # + the whole stage, 3 protocols
    nice python benchmarks/bench_cnn.py --backbone vgg19 --input-size 64
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pandas as pd

from genrelab.approaches import cnn
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


def time_epochs(X, index, splits, params, seed: int = 0) -> dict[str, tuple[float, float]]:
    """(wall, cpu) seconds of each step for one protocol (track_grouped), one epoch each."""
    p = cnn.check_params(params)
    s, t = p["scratch"], p["transfer"]
    s["epochs"] = t["frozen_epochs"] = t["fine_tune_epochs"] = 1
    roles = cnn.protocol_roles(splits, index, "track_grouped", p, seed)
    fit, valid = np.flatnonzero(roles == "fit"), np.flatnonzero(roles == "valid")
    print(f"track_grouped: {len(fit)} training segments, {len(valid)} validation segments")
    codes = pd.factorize(index["genre"], sort=True)[0]
    n_classes = int(codes.max() + 1)
    out: dict = {}
    with _Clock(out, "resize all segments (both sizes)"):
        small = cnn.resize_segments(X, s["input_size"])
        gray = cnn.resize_segments(X, t["input_size"], image_range=True)
    with _Clock(out, "scratch: 1 epoch (incl. build)"):
        cnn.fit_scratch(small[fit], codes[fit], small[valid], codes[valid], n_classes, p, seed)
    x_fit = cnn.to_images(gray, fit, t["channels"], t["backbone"])
    x_val = cnn.to_images(gray, valid, t["channels"], t["backbone"])
    fine_tune_layers, t["fine_tune_layers"] = t["fine_tune_layers"], 0
    with _Clock(out, "transfer: frozen phase, 1 epoch"):
        cnn.fit_transfer(x_fit, codes[fit], x_val, codes[valid], n_classes, p, seed)
    t["fine_tune_layers"] = fine_tune_layers
    with _Clock(out, "transfer: frozen + 1 fine-tune"):
        model, _ = cnn.fit_transfer(x_fit, codes[fit], x_val, codes[valid], n_classes, p, seed)
    with _Clock(out, "transfer: predict 500 segments"):
        model.predict(x_val[:500], batch_size=t["batch_size"], verbose=0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=200)
    parser.add_argument("--segments", type=int, default=10, help="segments per track")
    parser.add_argument("--mels", type=int, default=128)
    parser.add_argument("--frames", type=int, default=130)
    parser.add_argument("--genres", type=int, default=10)
    parser.add_argument("--backbone", default=None, help="override cnn.transfer.backbone")
    parser.add_argument("--input-size", type=int, default=None, help="override cnn.transfer.input_size")
    parser.add_argument("--full", action="store_true", help="also time run_cnn on 3 protocols")
    args = parser.parse_args()

    params: dict = {"transfer": {}}
    if args.backbone:
        params["transfer"]["backbone"] = args.backbone
    if args.input_size:
        params["transfer"]["input_size"] = args.input_size
    X, index, splits = synthetic(args.tracks, args.segments, args.mels, args.frames, args.genres)
    print(f"X {X.shape}, params {cnn.check_params(params)}")
    print(f"{'step':>36}  wall_s   cpu_s")
    for key, (wall, cpu) in time_epochs(X, index, splits, params).items():
        print(f"{key:>36}  {wall:6.1f}  {cpu:6.1f}")
    if args.full:
        with tempfile.TemporaryDirectory() as tmp:
            clock: dict = {}
            with _Clock(clock, "run_cnn"):
                run = cnn.run_cnn(
                    X, index, splits, params, protocols=["random_segment", "track_grouped", "artist_grouped"],
                    out_dir=tmp, progress=print,
                )
            print("run_cnn, 3 protocols: wall {:.1f} s, cpu {:.1f} s".format(*clock["run_cnn"]))
        print(pd.DataFrame(run.rows)[["approach", "model", "protocol", "level", "accuracy", "fit_seconds"]])


if __name__ == "__main__":
    main()
