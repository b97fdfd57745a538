"""One way to map work over tracks: workers, a progress bar, per-track failures, the per-track cache.

:func:`map_tracks` runs ``func(*item)`` for every item on a backend, in order, with a progress
bar. A call that raises :class:`~genrelab.errors.AudioError` (a file that cannot be used) gives a
:class:`Failure` in its place and the other tracks go on; any other exception is a bug and stops
the map.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genrelab.errors import AudioError, GenrelabError

BACKENDS = ("loky", "threads")


@dataclass(frozen=True)
class Failure:
    """The place of a track whose call raised :class:`AudioError`."""

    item: tuple
    error: AudioError  # its message names the file


def map_tracks(
    func: Callable[..., Any],
    items: Sequence[tuple],
    *,
    jobs: int = 1,
    backend: str = "loky",
    desc: str | None = None,
    unit: str = "track",
    progress: bool = True,
) -> list[Any]:
    """``[func(*item) for item in items]``, on ``jobs`` workers, each result or :class:`Failure` in order.

    Parameters
    ----------
    func : a module-level function (the loky backend pickles it); ``func(*item)`` does one track.
    items : argument tuples, one per track.
    jobs : workers; 1 runs in this process, -1 one per core (joblib's convention).
    backend : ``"loky"`` (worker processes, for CPU-bound Python and NumPy work) or ``"threads"``
        (for work in libraries that release the GIL, such as decoding and hashing).
    desc, unit, progress : the progress bar's label and unit, and whether to show it.

    BLAS runs one thread per worker: the matrices of per-track work are small, so more threads
    cost more in start-up than they save, and ``jobs`` workers each running threads would
    oversubscribe the cores.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    if backend not in BACKENDS:
        raise GenrelabError(f"map_tracks: backend must be one of {', '.join(BACKENDS)}, got {backend!r}.")
    results = []
    with tqdm(total=len(items), desc=desc, unit=unit, disable=not progress) as bar, _backend(backend, jobs):
        calls = (
            (_guarded(func, item) for item in items) if jobs == 1
            else Parallel(return_as="generator")(delayed(_guarded)(func, item) for item in items)
        )  # fmt: skip
        for result in calls:
            results.append(result)
            bar.update()
    return results


def failures(results: Iterable[Any]) -> list[Failure]:
    """The :class:`Failure` entries of :func:`map_tracks`' results."""
    return [r for r in results if isinstance(r, Failure)]


def _guarded(func: Callable[..., Any], item: tuple) -> Any:
    try:
        return func(*item)
    except AudioError as err:
        return Failure(item, err)


@contextmanager
def _backend(backend: str, jobs: int):
    """joblib's configuration for ``backend`` with BLAS limited to one thread per worker."""
    from joblib import parallel_config
    from threadpoolctl import threadpool_limits

    if jobs == 1 or backend == "threads":  # threadpoolctl's limits are process-wide: they cover threads
        with threadpool_limits(limits=1), parallel_config(backend="threading", n_jobs=jobs):
            yield
    else:
        with parallel_config(backend="loky", n_jobs=jobs, inner_max_num_threads=1):
            yield


# --------------------------------------------------------------------------------------------------
# The per-track cache: one .npz file per entry, written beside and renamed, so an interrupted run
# never leaves a half-written entry and a rerun resumes. Each user names its entries by what decides
# their content (a file digest, the settings); reading a bad entry gives None, and it is recomputed.


def load_entry(path: str | Path, names: Sequence[str]) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` of the cache entry at ``path``; ``None`` if absent, unreadable or incomplete."""
    try:
        with np.load(path) as stored:
            return {name: stored[name] for name in names}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None  # absent, or left half-written by a killed run (os.replace makes that rare)


def save_entry(path: str | Path, **arrays: np.ndarray) -> None:
    """Write the cache entry ``path`` (``.npz``) atomically: to a temporary file beside it, then renamed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, path)
