"""Patches per second of the musicnn port, and what the embeddings stage costs per track.

Times the Keras port of each checkpoint on random 3 s patches (187 frames x 96 mel bands), after
a warm-up batch, and the 16 kHz log-mel input of one 30 s clip. The embeddings stage runs every
study segment and every sliding patch of every track through the network: with the defaults
(10 segments and 28 sliding patches per 30 s clip) that is 38 patches a track.

    nice python benchmarks/bench_musicnn.py                      # every checkpoint, 512 patches
    nice python benchmarks/bench_musicnn.py --checkpoints MSD_musicnn --patches 1024
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from genrelab.pretrained import musicnn
from genrelab.pretrained.musicnn_input import SR, segment_patches, sliding_patches


def patches_per_second(checkpoint: str, n: int, batch_size: int = 64) -> float:
    model = musicnn.load_model(checkpoint)
    x = np.random.default_rng(0).gamma(1.0, 1.0, size=(n, musicnn.N_FRAMES, musicnn.N_MELS)).astype(np.float32)
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)  # warm-up: graph tracing
    start = time.perf_counter()
    model.predict(x, batch_size=batch_size, verbose=0)
    return n / (time.perf_counter() - start)


def input_seconds(repeats: int = 5) -> float:
    """Wall seconds of the log-mel patches (segments and sliding) of one 30 s clip."""
    y = np.random.default_rng(0).normal(0, 0.1, size=30 * SR).astype(np.float32)
    start = time.perf_counter()
    for _ in range(repeats):
        segment_patches(y), sliding_patches(y, 1.0)
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", nargs="+", default=list(musicnn.CHECKPOINTS), choices=musicnn.CHECKPOINTS)
    parser.add_argument("--patches", type=int, default=512)
    args = parser.parse_args()
    print(f"log-mel input of one 30 s clip (10 segments + 28 sliding patches): {input_seconds():.3f} s")
    for checkpoint in args.checkpoints:
        rate = patches_per_second(checkpoint, args.patches)
        print(f"{checkpoint:>12}: {rate:6.1f} patches/s  -> {38 / rate:5.2f} s per 30 s track, "
              f"{1000 * 38 / rate / 60:5.1f} min per 1000 tracks")


if __name__ == "__main__":
    main()
