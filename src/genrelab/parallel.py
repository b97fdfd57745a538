"""One way to map work over tracks: workers, a progress bar, per-track failures, the per-track cache.

:func:`map_tracks` runs ``func(*item)`` for every item on a backend, in order, with a progress
bar. A call that raises :class:`~genrelab.errors.AudioError` (a file that cannot be used) gives a
:class:`Failure` in its place and the other tracks go on; any other exception is a bug and stops
the map.

The backend is ``loky`` (worker processes on this machine), ``threads``, or ``dask``: a Dask
``distributed`` cluster, a ``LocalCluster`` of ``jobs`` single-threaded worker processes on
127.0.0.1, or an existing cluster at a scheduler address. Stages choose it from the ``parallel``
params section with :func:`configured`. Results come back in order whatever the backend, and the
per-track caches are written by the workers, so a worker that dies loses only its current track:
a rerun reads the finished ones from the cache. On a real cluster the workers need genrelab
installed and the data root and cache folders on a filesystem they all see.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genrelab.errors import AudioError, GenrelabError

BACKENDS = ("loky", "threads", "dask")
_SETTINGS: ContextVar[dict] = ContextVar("parallel_settings", default={"backend": "loky", "dask_scheduler": ""})
# One BLAS thread per worker (see map_tracks); the loky backend sets this itself.
_WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextmanager
def configured(settings: dict):
    """Inside, :func:`map_tracks` calls that name no backend use ``settings`` (the ``parallel`` section
    of params.yaml: ``backend``, ``dask_scheduler``)."""
    token = _SETTINGS.set(dict(settings))
    try:
        yield
    finally:
        _SETTINGS.reset(token)


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
    backend: str | None = None,
    desc: str | None = None,
    unit: str = "track",
    progress: bool = True,
) -> list[Any]:
    """``[func(*item) for item in items]``, on ``jobs`` workers, each result or :class:`Failure` in order.

    Parameters
    ----------
    func : a module-level function (the loky backend pickles it); ``func(*item)`` does one track.
    items : argument tuples, one per track.
    jobs : workers; 1 runs in this process, -1 one per core (joblib's convention). With ``dask``
        and no scheduler address, the size of the local cluster; an existing cluster uses all its workers.
    backend : ``"loky"`` (worker processes, for CPU-bound Python and NumPy work), ``"threads"``
        (for work in libraries that release the GIL, such as decoding and hashing) or ``"dask"``;
        None: the one :func:`configured` sets (``loky`` by default).
    desc, unit, progress : the progress bar's label and unit, and whether to show it.

    BLAS runs one thread per worker: the matrices of per-track work are small, so more threads
    cost more in start-up than they save, and ``jobs`` workers each running threads would
    oversubscribe the cores.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    settings = _SETTINGS.get()
    backend = backend or settings["backend"]
    if backend not in BACKENDS:
        raise GenrelabError(f"map_tracks: backend must be one of {', '.join(BACKENDS)}, got {backend!r}.")
    in_process = jobs == 1 and not (backend == "dask" and settings["dask_scheduler"])
    results = []
    with tqdm(total=len(items), desc=desc, unit=unit, disable=not progress) as bar, \
            _backend(backend, jobs, settings["dask_scheduler"]):
        calls = (
            (_guarded(func, item) for item in items) if in_process
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
def _backend(backend: str, jobs: int, scheduler: str = ""):
    """joblib's configuration for ``backend`` with BLAS limited to one thread per worker."""
    from joblib import parallel_config
    from threadpoolctl import threadpool_limits

    if backend == "dask" and (jobs != 1 or scheduler):
        client = dask_client(scheduler, jobs)
        with parallel_config(backend="dask", client=client):
            yield
    elif jobs == 1 or backend == "threads":  # threadpoolctl's limits are process-wide: they cover threads
        with threadpool_limits(limits=1), parallel_config(backend="threading", n_jobs=jobs):
            yield
    else:
        with parallel_config(backend="loky", n_jobs=jobs, inner_max_num_threads=1):
            yield


def dask_client(scheduler: str = "", jobs: int = 2):
    """A Dask client: of the cluster at ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``), or of
    a ``LocalCluster`` of ``jobs`` single-threaded worker processes on 127.0.0.1 (-1: one per core),
    started once per process and reused by every later map (:func:`close_dask_clients` ends them)."""
    key = (scheduler, jobs if not scheduler else 0)
    if key not in _CLIENTS:
        _CLIENTS[key] = _connect(scheduler, jobs)
    return _CLIENTS[key]


def close_dask_clients() -> None:
    """Close every client :func:`dask_client` opened, and the local clusters it started."""
    while _CLIENTS:
        _, client = _CLIENTS.popitem()
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()


_CLIENTS: dict[tuple[str, int], Any] = {}


def _connect(scheduler: str, jobs: int):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as err:
        raise GenrelabError("parallel.backend: dask needs the distributed package (pip install 'dask[distributed]', "
                            "in requirements.lock).") from err  # fmt: skip
    if scheduler:
        try:
            return Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as err:
            raise GenrelabError(f"parallel.dask_scheduler: no Dask scheduler answers at {scheduler!r} ({err}). "
                                "Start the cluster, or leave the address empty for a local one.") from err  # fmt: skip
    workers = jobs if jobs >= 1 else (os.cpu_count() or 1)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0", env=_WORKER_ENV)  # fmt: skip
    return Client(cluster)


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
