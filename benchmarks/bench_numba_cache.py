"""Does a numba cache that two processes filled at once crash later processes (numba #10128), and
does ``genrelab.numba_cache`` (what ``make setup`` runs) prevent it?

Each round starts from an empty ``NUMBA_CACHE_DIR``. "cold": two processes import librosa and call
its kernels at once, then a third runs them from the cache. "rebuilt": ``python -m
genrelab.numba_cache`` first, then the same three processes. Counts the processes that crash.

    .venv/bin/python benchmarks/bench_numba_cache.py --rounds 6
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from genrelab.numba_cache import SMOKE_TEST


def start(cache: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    return subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def crashes(cache: Path, rebuild_first: bool) -> tuple[int, int]:
    """(crashed of the two concurrent processes, crashed of the later one) on an empty cache."""
    shutil.rmtree(cache, ignore_errors=True)
    if rebuild_first:
        assert start(cache, "-m", "genrelab.numba_cache").wait() == 0
    pair = [start(cache, "-c", SMOKE_TEST) for _ in range(2)]
    concurrent = sum(p.wait() != 0 for p in pair)
    later = int(start(cache, "-c", SMOKE_TEST).wait() != 0)
    return concurrent, later


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "numba"
        for mode, rebuild_first in (("cold", False), ("rebuilt", True)):
            results = [crashes(cache, rebuild_first) for _ in range(rounds)]
            concurrent, later = (sum(r[i] for r in results) for i in (0, 1))
            print(f"{mode:8s} {rounds} rounds: {concurrent} of {2 * rounds} concurrent processes crashed, "
                  f"{later} of {rounds} later processes crashed")


if __name__ == "__main__":
    main()
