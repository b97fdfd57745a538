"""Time reading each audio format: ``load`` (mono, 22050 Hz), ``scan`` and ``genrelab quality``'s excerpts.

A stereo 44.1 kHz source of ``--seconds`` s (a rendered demo style, looped) is written as WAV, FLAC,
MP3 (libsndfile) and as ALAC and AAC in M4A, Opus and WMA (the bundled ffmpeg), then each file is
read ``--repeat`` times; the best time is printed. ffmpeg's formats cost a process start and, for
excerpts, a decode up to each excerpt's end (they are cut by sample number, not by ffmpeg's seek).

    nice python benchmarks/bench_formats.py
    nice python benchmarks/bench_formats.py --seconds 240 --repeat 3
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from genrelab.data import audio
from genrelab.quality.check import excerpt_plan
from genrelab.quality.corpus import render_source
from genrelab.quality.excerpts import read_excerpt

SR = 44100
FORMATS = {"wav": [], "flac": ["-c:a", "flac"], "mp3": ["-c:a", "libmp3lame", "-b:a", "192k"],
           "alac.m4a": ["-c:a", "alac"], "aac.m4a": ["-c:a", "aac", "-b:a", "192k"],
           "opus": ["-c:a", "libopus", "-b:a", "128k"], "wma": ["-c:a", "wmav2", "-b:a", "192k"]}  # fmt: skip


def best(func, repeat: int) -> float:
    """The fastest of ``repeat`` calls of ``func``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=240.0, help="length of each file (default 240)")
    parser.add_argument("--repeat", type=int, default=3, help="timed reads per file (default 3)")
    args = parser.parse_args()
    piece = render_source("swing", 0, seconds=10.0, seed=3)
    y = np.tile(piece, (int(np.ceil(args.seconds / 10.0)), 1))[: int(args.seconds * SR)]
    with tempfile.TemporaryDirectory(prefix="genrelab-bench-formats-") as folder:
        wav = Path(folder) / "source.wav"
        sf.write(wav, y, SR, subtype="PCM_16")
        print(f"{'format':10s} {'decoder':8s} {'load s':>7s} {'scan s':>7s} {'excerpts s':>10s}  ({args.seconds:g} s stereo)")
        for name, codec in FORMATS.items():
            path = wav if not codec else Path(folder) / f"file.{name}"
            if codec:
                subprocess.run([audio.bundled_ffmpeg(), "-nostdin", "-v", "error", "-i", str(wav), *codec, str(path)],
                               check=True)  # fmt: skip
            plan = excerpt_plan(audio.info(path).duration)
            load = best(lambda: audio.load(path), args.repeat)
            scan = best(lambda: audio.scan(path), args.repeat)
            excerpts = best(lambda: [read_excerpt(path, o, s) for o, s in plan], args.repeat)
            decoder = "ffmpeg" if audio.via_ffmpeg(path) else "sndfile"
            print(f"{name:10s} {decoder:8s} {load:7.2f} {scan:7.2f} {excerpts:10.2f}")


if __name__ == "__main__":
    main()
