"""The Dask backend of the one map over tracks: a LocalCluster of 2 workers on 127.0.0.1 gives the
loky backend's features row for row, fills the same per-track cache, and reports a broken file
as a failure while the others are computed."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from genrelab.errors import GenrelabError
from genrelab.features.gtzan57 import extract_table
from genrelab.parallel import close_dask_clients, configured, dask_client, map_tracks

pytest.importorskip("distributed", reason="needs dask[distributed] (in requirements.lock)")
SR = 22050


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(0)
    t = np.arange(int(6.5 * SR)) / SR
    for genre, f0 in (("a", 220.0), ("b", 330.0)):
        for k in range(2):
            y = 0.3 * np.sin(2 * np.pi * f0 * (k + 1) * t) + 0.05 * rng.standard_normal(len(t))
            (folder / genre).mkdir(exist_ok=True)
            sf.write(folder / genre / f"{genre}.{k:05d}.wav", y.astype(np.float32), SR)
    (folder / "b" / "b.00009.wav").write_bytes(b"RIFF" + bytes(64))  # broken
    return folder


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0")
    yield local
    close_dask_clients()  # the clients of this module's maps, before the cluster they talk to
    local.close()


def test_dask_features_equal_lokys_row_for_row(clips, cluster, tmp_path):
    loky = extract_table(clips, segment_seconds=3.0, jobs=2, progress=False)
    with configured({"backend": "dask", "dask_scheduler": cluster.scheduler_address}):
        dask = extract_table(clips, segment_seconds=3.0, jobs=2, cache_dir=tmp_path / "cache", progress=False)
    assert len(loky.table) == 8 and dask.table.equals(loky.table)
    assert [p.path for p in dask.failed] == [p.path for p in loky.failed] == [str(clips / "b" / "b.00009.wav")]
    # The workers wrote the cache: a loky rerun reads every finished track from it.
    cached = sorted((tmp_path / "cache").rglob("*.npz"))
    assert len(cached) == 4
    again = extract_table(clips, segment_seconds=3.0, jobs=1, cache_dir=tmp_path / "cache", progress=False)
    assert again.table.equals(loky.table) and sorted((tmp_path / "cache").rglob("*.npz")) == cached


def test_failures_come_back_in_place_and_bugs_stop_the_map(cluster):
    from test_parallel import explode, square_unless_odd_multiple_of_three

    items = [(k, 10) for k in range(12)]
    loky = map_tracks(square_unless_odd_multiple_of_three, items, jobs=2, progress=False)
    with configured({"backend": "dask", "dask_scheduler": cluster.scheduler_address}):
        dask = map_tracks(square_unless_odd_multiple_of_three, items, jobs=2, progress=False)
        with pytest.raises(ZeroDivisionError, match="a bug"):
            map_tracks(explode, [(1,), (2,)], jobs=2, progress=False)
    assert [getattr(r, "item", r) for r in dask] == [getattr(r, "item", r) for r in loky]
    assert str(dask[3].error) == "track3.wav: cannot decode audio" and dask[3].error.kind == "corrupt"


def test_a_local_cluster_is_started_when_no_scheduler_is_given(clips):
    with configured({"backend": "dask", "dask_scheduler": ""}):
        pids = map_tracks(_pid, [(i,) for i in range(6)], jobs=2, progress=False)
    client = dask_client("", 2)
    assert client.cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    assert set(pids) <= set(client.run(_pid, 0).values()) and len(client.run(_pid, 0)) == 2


def test_an_unreachable_scheduler_is_a_clear_error():
    with configured({"backend": "dask", "dask_scheduler": "tcp://127.0.0.1:9"}), \
            pytest.raises(GenrelabError, match="no Dask scheduler answers at 'tcp://127.0.0.1:9'"):
        map_tracks(_pid, [(0,)], jobs=2, progress=False)


def _pid(_):
    import os

    return os.getpid()
