"""librosa's numba kernels, compiled serially into an empty cache (genrelab.numba_cache), and a
cache left by an earlier compilation replaced. ``benchmarks/bench_numba_cache.py`` shows the
crash that a concurrent compilation leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from genrelab.numba_cache import GUFUNC_MODULES, SMOKE_TEST

pytestmark = pytest.mark.slow  # each rebuild compiles librosa's kernels (about 25 s)


def run_with_cache(cache, *args):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)


def test_rebuild_fills_an_empty_cache_and_replaces_what_was_cached(tmp_path):
    built = run_with_cache(tmp_path, "-m", "genrelab.numba_cache")
    assert built.returncode == 0, built.stderr
    for name in GUFUNC_MODULES:  # every module's kernels, gufunc wrappers included
        stem = name.rsplit(".", 1)[1]
        assert list(tmp_path.rglob(f"{stem}.*.nbi")) and list(tmp_path.rglob(f"guf-{stem}.*.nbc")), name

    index = next(tmp_path.rglob("guf-utils._localmax-*.nbi"))
    leftover = index.with_name(index.name.replace(".nbi", ".99.nbc"))  # as a racing process leaves one
    leftover.write_bytes(b"not a compiled kernel")
    rebuilt = run_with_cache(tmp_path, "-m", "genrelab.numba_cache")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert not leftover.exists() and index.exists()
    assert "compiled serially and checked" in rebuilt.stdout
    assert run_with_cache(tmp_path, "-c", SMOKE_TEST).returncode == 0
