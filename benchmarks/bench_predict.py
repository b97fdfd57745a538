"""Seconds for `genrelab predict` and `recommend` to answer one file, the model already loaded.

Loads the shipped model (models/predict, from `dvc repro export`) once, as `genrelab serve` keeps
it, then times predict, recommend (vector, duplicate search, neighbours) and both together, on
a 30 s and a 4 min file (a corpus clip, and it repeated), after one warm-up call. Target: predict
under 2 s for a 30 s file on 2 cores.

    nice python benchmarks/bench_predict.py                     # a corpus clip of data/raw
    nice python benchmarks/bench_predict.py --file song.mp3 --repeats 5
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from genrelab.inference.inputs import AudioFile
from genrelab.inference.predict import Predictor


def timed(func, repeats: int) -> float:
    """Median wall seconds of ``func()`` over ``repeats`` calls, after one warm-up call."""
    func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=Path("models/predict"))
    parser.add_argument("--file", type=Path, default=None, help="default: the first clip under data/raw")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    predictor = Predictor.load(args.models)
    index = predictor.recommender()
    print(f"{predictor.summary()}\nloading the model and index: {time.perf_counter() - start:.2f} s")
    clip = args.file or sorted(Path("data/raw").rglob("*.wav"))[0]
    y, sr = sf.read(clip, dtype="float32")
    with tempfile.TemporaryDirectory() as folder:
        long = Path(folder) / "long.wav"
        sf.write(long, np.tile(y, int(np.ceil(240 * sr / len(y))))[: 240 * sr], sr)
        for path, label in ((clip, f"{len(y) / sr:.0f} s"), (long, "240 s")):

            def recommend(source):
                exclude, _ = index.file_exclusions(source, None)
                return index.query(index.file_vector(source), 5, exclude)

            def both():
                source = AudioFile(path)
                predictor.predict(source)
                recommend(source)

            p = timed(lambda: predictor.predict(path), args.repeats)
            r = timed(lambda: recommend(AudioFile(path)), args.repeats)
            print(f"{label:>6} file: predict {p:5.2f} s, recommend {r:5.2f} s, both on one decode {timed(both, args.repeats):5.2f} s")


if __name__ == "__main__":
    main()
