"""Files per second of ``genrelab quality`` on 4-minute files, and the time 5000 of them take (target: 10 min).

Makes ``--distinct`` different 4-minute 44.1 kHz stereo files (a demo source looped with a
changing gain, so every excerpt differs; MP3 320, MP3 128, a fake 320 and FLAC in turn), lists
each ``--repeat`` times (hard links: every one is opened, sought and decoded again), and times
:func:`genrelab.quality.check.check_files` on them with the shipped model, loaded beforehand, as
the command does. Only the excerpts are decoded, so the cost per file hardly depends on its length.

    nice python benchmarks/bench_quality.py                       # 8 files x 25, 2 workers
    nice python benchmarks/bench_quality.py --repeat 50 --jobs 1 2 --excerpts 3
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from genrelab.quality.check import EXCERPT_SECONDS, check_files, load_model

SR = 44100
CHAINS = ("lame:cbr320", "lame:cbr128", "lame:cbr128>lame:cbr320", "flac")
TARGET_FILES, TARGET_SECONDS = 5000, 600.0


def long_files(folder: Path, n: int, minutes: float) -> list[Path]:
    """``n`` different files of ``minutes`` each, cycling through :data:`CHAINS`."""
    from genrelab.quality.conditions import apply, parse
    from genrelab.quality.corpus import render_source

    styles = ("funk", "thrash", "swing", "techno")
    paths = []
    for k in range(n):
        loop = render_source(styles[k % len(styles)], k, seconds=12.0, seed=k)
        repeats = int(np.ceil(minutes * 60 * SR / len(loop)))
        gain = np.repeat(np.linspace(0.5, 1.0, repeats, dtype=np.float32), len(loop))[: int(minutes * 60 * SR), None]
        y = np.tile(loop, (repeats, 1))[: len(gain)] * gain
        condition = parse(CHAINS[k % len(CHAINS)])
        data, _, _ = apply(condition, y, SR)
        path = folder / f"long{k:02d}.{condition.container}"
        path.write_bytes(data)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("models/quality/model.joblib"))
    parser.add_argument("--distinct", type=int, default=8, help="different files made")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=25, help="times each file is listed")
    parser.add_argument("--jobs", type=int, nargs="+", default=[2])
    parser.add_argument("--excerpts", type=int, default=3)
    parser.add_argument("--excerpt-seconds", type=float, default=EXCERPT_SECONDS)
    args = parser.parse_args()
    model = load_model(args.model)
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        made = long_files(folder, args.distinct, args.minutes)
        print(f"made {len(made)} files of {args.minutes:g} min in {time.perf_counter() - start:.1f} s "
              f"({sum(p.stat().st_size for p in made) / 1e6:.0f} MB)")  # fmt: skip
        listed = []
        for r in range(args.repeat):
            for p in made:
                link = folder / f"r{r:03d}-{p.name}"
                os.link(p, link)
                listed.append(link)
        for jobs in args.jobs:
            start = time.perf_counter()
            reports, failures = check_files(listed, model, n_excerpts=args.excerpts, seconds=args.excerpt_seconds,
                                            jobs=jobs, progress=False)  # fmt: skip
            elapsed = time.perf_counter() - start
            assert not failures, failures[:3]
            rate = len(listed) / elapsed
            projected = TARGET_FILES / rate
            verdicts = {v: sum(r.verdict == v for r in reports) for v in sorted({r.verdict for r in reports})}
            print(f"jobs {jobs}: {len(listed)} files in {elapsed:.1f} s = {rate:.1f} files/s; {TARGET_FILES} files "
                  f"of {args.minutes:g} min: {projected / 60:.1f} min (target {TARGET_SECONDS / 60:.0f} min: "
                  f"{'met' if projected <= TARGET_SECONDS else 'MISSED'}); verdicts {verdicts}")  # fmt: skip


if __name__ == "__main__":
    main()
