"""librosa's compiled kernels in numba's on-disk cache, built once and serially, before anything
runs in parallel.

librosa compiles its ``@guvectorize(cache=True)`` kernels when their modules are imported, and
writes each kernel and its wrapper to numba's cache. Two processes doing that at once on an empty
cache can leave a kernel from one compilation and its wrapper from the other; from then on every
call segfaults, in every process (numba #10128). Here it crashed a pytest-xdist worker in
``librosa.beat.beat_track`` on a fresh virtual environment, and it can hit the parallel stages
of a first ``make repro`` the same way; ``benchmarks/bench_numba_cache.py`` reproduces it.

``make setup`` runs ``python -m genrelab.numba_cache``: it deletes librosa's kernels from the
cache, compiles them in this one process, and checks in a fresh process that they load and run.
Later processes only read the cache. Run it again to repair a cache that already crashes.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

from genrelab.errors import GenrelabError

# The librosa modules that define @guvectorize kernels (grep guvectorize in librosa 0.11).
GUFUNC_MODULES = ("librosa.util.utils", "librosa.beat", "librosa.core.audio", "librosa.core.pitch")

# Calls that load every module's kernels from the cache; run in a fresh process.
SMOKE_TEST = """
import numpy as np, librosa
y = np.random.default_rng(0).standard_normal(22050 * 3).astype(np.float32)
librosa.beat.beat_track(y=y, sr=22050)
librosa.util.localmax(np.arange(8.0))
librosa.zero_crossings(y)
librosa.yin(y, fmin=80, fmax=800, sr=22050)
"""


def cache_folder(source: Path) -> Path | None:
    """The folder where numba caches the kernels of the module file ``source``: the first of its
    own locators that applies (``NUMBA_CACHE_DIR``, the module's ``__pycache__``, the user's cache)."""
    from numba.core.caching import CacheImpl

    for locator in CacheImpl._locator_classes:
        found = locator.from_function(cache_folder, str(source))
        if found is not None:
            return Path(found.get_cache_path())
    return None


def cached_kernels(source: Path) -> list[Path]:
    """The cache files (index ``.nbi`` and data ``.nbc``) of the kernels defined in ``source``,
    the wrappers of its gufuncs (``guf-`` prefix) included."""
    folder = cache_folder(source)
    if folder is None or not folder.is_dir():
        return []
    stem = source.stem
    return sorted(p for p in folder.iterdir() if p.suffix in {".nbi", ".nbc"}
                  and (p.name.startswith(f"{stem}.") or p.name.startswith(f"guf-{stem}.")))  # fmt: skip


def module_file(name: str) -> Path:
    """The source file of module ``name``, found without importing it (importing compiles)."""
    spec = importlib.util.find_spec(name)
    return Path(spec.origin)


def rebuild() -> list[Path]:
    """Delete librosa's kernels from the cache, compile them here, and check that a fresh process
    runs them; returns the cache files written. Raises :class:`GenrelabError` if the check fails."""
    sources = [module_file(name) for name in GUFUNC_MODULES]
    for source in sources:
        for path in cached_kernels(source):
            path.unlink()
    for name in GUFUNC_MODULES:
        importlib.import_module(name)  # eager signatures: the import compiles and writes the cache
    check = subprocess.run([sys.executable, "-c", SMOKE_TEST], capture_output=True, text=True)
    if check.returncode != 0:
        raise GenrelabError(f"librosa's numba kernels fail after a rebuild of their cache (exit status "
                            f"{check.returncode}): {check.stderr.strip()[-500:]}\nFix: delete the cache "
                            f"folders {sorted({str(cache_folder(s)) for s in sources})} and run `make setup` again.")  # fmt: skip
    return [path for source in sources for path in cached_kernels(source)]


def main() -> int:
    written = rebuild()
    print(f"numba cache: {len(written)} files of librosa's kernels compiled serially and checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
