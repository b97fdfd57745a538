"""genrelab.parallel.map_tracks: order, per-track failures, backends."""

from __future__ import annotations

import pytest

from genrelab.errors import AudioError, GenrelabError
from genrelab.parallel import Failure, failures, map_tracks


def square_unless_odd_multiple_of_three(k: int, scale: int) -> int:
    if k % 3 == 0 and k % 2:
        raise AudioError(f"track{k}.wav: cannot decode audio", kind="corrupt")
    return k * k * scale


def explode(k: int) -> int:
    raise ZeroDivisionError("a bug, not a bad file")


@pytest.mark.parametrize("jobs, backend", [(1, "loky"), (2, "loky"), (2, "threads")])
def test_results_in_order_with_a_failure_in_place_of_each_bad_track(jobs, backend):
    results = map_tracks(square_unless_odd_multiple_of_three, [(k, 10) for k in range(12)], jobs=jobs,
                         backend=backend, progress=False)  # fmt: skip
    assert [r for r in results if not isinstance(r, Failure)] == [k * k * 10 for k in range(12) if not (k % 3 == 0 and k % 2)]
    failed = failures(results)
    assert [f.item for f in failed] == [(3, 10), (9, 10)]
    assert [(str(f.error), f.error.kind) for f in failed] == [
        ("track3.wav: cannot decode audio", "corrupt"), ("track9.wav: cannot decode audio", "corrupt")
    ]
    assert isinstance(results[3], Failure) and results[4] == 160


@pytest.mark.parametrize("jobs", [1, 2])
def test_any_other_exception_is_a_bug_and_stops_the_map(jobs):
    with pytest.raises(ZeroDivisionError, match="a bug"):
        map_tracks(explode, [(1,), (2,)], jobs=jobs, progress=False)


def test_unknown_backend_and_empty_input():
    with pytest.raises(GenrelabError, match="backend must be one of loky, threads, dask, got 'spark'"):
        map_tracks(explode, [(1,)], backend="spark", progress=False)
    assert map_tracks(explode, [], jobs=2, progress=False) == []


def test_cache_entries_round_trip_and_a_bad_entry_reads_as_absent(tmp_path):
    import numpy as np

    from genrelab.parallel import load_entry, save_entry

    entry = tmp_path / "deep" / "track.npz"
    save_entry(entry, lengths=np.arange(3), features=np.ones((3, 2)))
    stored = load_entry(entry, ("lengths", "features"))
    assert stored["lengths"].tolist() == [0, 1, 2] and stored["features"].shape == (3, 2)
    assert [p.name for p in entry.parent.iterdir()] == ["track.npz"]  # the temporary file was renamed
    assert load_entry(entry, ("lengths", "clip")) is None  # incomplete: recompute
    assert load_entry(tmp_path / "absent.npz", ("lengths",)) is None
    entry.write_bytes(entry.read_bytes()[:40])  # killed mid-write
    assert load_entry(entry, ("lengths",)) is None
