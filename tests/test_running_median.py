import numpy as np
import pytest
from scipy.ndimage import median_filter as scipy_median

from genrelab.features import running_median
from genrelab.features.running_median import median_filter


def scipy_along(x, size, axis):
    return scipy_median(x, size=[size if a == axis % x.ndim else 1 for a in range(x.ndim)], mode="reflect")


@pytest.mark.parametrize(
    "shape, axis",
    [
        ((1025, 130), -1),  # HPSS along time, a 3 s segment
        ((1025, 130), 0),  # along frequency
        ((3, 64, 47), 1),  # several segments; 47 is not a multiple of the kernel's group of 3
        ((3, 64, 47), -1),
        ((2, 16, 5), 1),  # the shortest line the kernel takes: 16 = half a window + 1
        ((2, 15, 5), 1),  # a line of half a window: scipy's own repeated reflection
        ((4, 3), 0),
    ],
)
def test_equals_scipy(shape, axis):
    rng = np.random.default_rng(0)
    x = rng.random(shape, dtype=np.float32)
    x.flat[::5] = 0.25  # ties
    x.flat[::11] = 0.0
    got = median_filter(x, 31, axis)
    assert got.shape == x.shape and got.dtype == x.dtype
    np.testing.assert_array_equal(got, scipy_along(x, 31, axis))


def test_other_dtypes_and_sizes_equal_scipy():
    x = np.random.default_rng(1).standard_normal((40, 33))
    np.testing.assert_array_equal(median_filter(x, 31, 0), scipy_along(x, 31, 0))  # float64 kernel
    np.testing.assert_array_equal(median_filter(x, 9, 1), scipy_along(x, 9, 1))  # another size: scipy


def test_input_is_not_modified():
    x = np.random.default_rng(2).random((50, 20), dtype=np.float32)
    before = x.copy()
    median_filter(x, 31, 0)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("n, ranks", [(31, [15]), (29, range(13, 16)), (5, [2]), (8, range(8))])
def test_selection_network_selects_ranks(n, ranks):
    network = running_median.selection_network(n, ranks)
    values = np.random.default_rng(n).integers(0, 6, size=(n, 4000))  # many ties
    wires = values.copy()
    for i, j in network:
        wires[i], wires[j] = np.minimum(wires[i], wires[j]), np.maximum(wires[i], wires[j])
    expected = np.sort(values, axis=0)
    for r in ranks:
        np.testing.assert_array_equal(wires[r], expected[r])


def test_pruning_keeps_fewer_comparators_than_a_sort():
    full = running_median.selection_network(31, range(31))
    median = running_median.selection_network(31, [15])
    assert len(median) < len(full) == len(running_median.batcher_network(32)) - sum(
        j == 31 for _, j in running_median.batcher_network(32)
    )


def test_committed_kernel_is_current():
    assert running_median.KERNEL_FILE.read_text() == running_median.kernel_source(), (
        "src/genrelab/features/_median_kernel.py is stale: run python -m genrelab.features.running_median"
    )
