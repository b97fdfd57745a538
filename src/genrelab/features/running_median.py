"""Running medians along one axis, as ``scipy.ndimage.median_filter(mode="reflect")`` computes them.

HPSS (:mod:`genrelab.features.gtzan57_dsp`) filters every magnitude spectrogram twice with a 31-point median,
along time and along frequency; with scipy's running median (45-75 ns a value here) that was
over a third of the feature extraction. This module computes the same values with a *selection
network*: a fixed sequence of compare-exchanges (``a, b = min(a, b), max(a, b)``) whose middle
wire ends up holding the median. It has no branches, so the compiled kernel runs it on 8 or 16
independent lines at once (one SIMD lane each): about 4 ns a value, 7-12 ns with the padding and
transposes around it, 6-8x faster than scipy, and exact (a network only moves values, it never
computes new ones). ``benchmarks/bench_running_median.py`` measures it.

The network is Batcher's odd-even merge sort, pruned to the comparators the median depends on.
Three neighbouring outputs share one network over the 29 values common to their windows, which
yields the 3 order statistics that each output's median can come from; each output then takes
the median of those 3 and its own 2 other values with an 8-comparator network. That is 55
comparators an output instead of 152 for one window alone (four outputs a group spill
registers and run 4x slower: measured).

The kernel is generated Python in :mod:`genrelab.features._median_kernel` (numba compiles and caches it):
regenerate it with ``python -m genrelab.features.running_median`` after changing this module; a test checks
that the committed file is current.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

KERNEL_SIZE = 31  # window of the generated kernel: librosa's HPSS default
GROUP = 3  # outputs computed together by one pass of the kernel
KERNEL_FILE = Path(__file__).with_name("_median_kernel.py")


def median_filter(x: np.ndarray, size: int, axis: int = -1) -> np.ndarray:
    """``scipy.ndimage.median_filter(x, mode="reflect")`` with a window of ``size`` along ``axis`` only.

    Parameters
    ----------
    x : real array, any shape; float32 is the fast case (others are compiled on first use).
    size : window length in samples; odd. The fast kernel is for :data:`KERNEL_SIZE`; other sizes,
        and lines no longer than half a window (where scipy reflects more than once), go to scipy.
    axis : the axis to filter along.

    Returns
    -------
    filtered : same shape and dtype as ``x``, C-contiguous, equal to scipy's values (medians are
        values of ``x``).
    """
    axis = axis % x.ndim
    n, half = x.shape[axis], size // 2
    if size != KERNEL_SIZE or n <= half:
        from scipy.ndimage import median_filter as scipy_median

        return scipy_median(x, size=[size if a == axis else 1 for a in range(x.ndim)], mode="reflect")
    from genrelab.features._median_kernel import median31_rows

    # Rows along the filtered axis, lanes (every other axis) contiguous, and the rows padded with
    # their mirror image (d c b a | a b c d: scipy's "reflect") plus zeros up to whole groups.
    lines = np.moveaxis(x, axis, 0)
    n_out = -(-n // GROUP) * GROUP
    padded = np.zeros((n_out + size - 1, lines[0].size), dtype=x.dtype)
    padded[half : half + n] = lines.reshape(n, -1)
    padded[:half] = padded[2 * half - 1 : half - 1 : -1]
    padded[half + n : 2 * half + n] = padded[half + n - 1 : n - 1 : -1]
    out = np.empty((n_out, padded.shape[1]), dtype=x.dtype)
    median31_rows(padded, out)  # rows past n read the zeros: dropped below
    return np.ascontiguousarray(np.moveaxis(out[:n].reshape(lines.shape), 0, axis))


# --------------------------------------------------------------------------------------------
# Generating the kernel


def batcher_network(n: int) -> list[tuple[int, int]]:
    """Comparators ``(i, j)``, ``i < j``, of Batcher's odd-even merge sort of ``n`` wires (a power of
    two): applying ``w[i], w[j] = min(w[i], w[j]), max(w[i], w[j])`` in order sorts any input."""
    pairs = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


def selection_network(n: int, outputs: range | list[int]) -> list[tuple[int, int]]:
    """Comparators that put the values of ranks ``outputs`` (0 = smallest) of ``n`` wires on those wires.

    Batcher's network for the next power of two, whose extra wires would hold +inf (so every
    comparator touching them is a no-op and goes), pruned backwards to the comparators that the
    wanted wires depend on.
    """
    full = [(i, j) for i, j in batcher_network(1 << (n - 1).bit_length()) if j < n]
    needed, kept = set(outputs), []
    for i, j in reversed(full):
        if i in needed or j in needed:
            kept.append((i, j))
            needed |= {i, j}
    return kept[::-1]


def kernel_source(size: int = KERNEL_SIZE, group: int = GROUP) -> str:
    """Python source of the numba kernel ``median{size}_rows(padded, out)``.

    ``out[t, lane]`` becomes the median of ``padded[t : t + size, lane]``, for ``t`` in groups of
    ``group`` (``len(out)`` must be a multiple of ``group``; ``padded`` has ``len(out) + size - 1``
    rows). The ``group`` windows of ``t .. t + group - 1`` share ``size + 1 - group`` rows (the
    core); the median of window ``g`` has rank ``half`` in it, so it is one of the core's ranks
    ``half - extra .. half`` (``extra = group - 1`` values of the window lie outside the core),
    namely the median of those ``extra + 1`` and the window's ``extra`` others.
    """
    half, extra = size // 2, group - 1
    core = size + 1 - group
    ranks = range(half - extra, half + 1)
    body = [f"c{k} = padded[t + {extra + k}, lane]" for k in range(core)]
    body += [f"c{i}, c{j} = min(c{i}, c{j}), max(c{i}, c{j})" for i, j in selection_network(core, ranks)]
    last = selection_network(2 * extra + 1, [extra])
    for g in range(group):
        others = [k for k in range(g, g + size) if not extra <= k < extra + core]
        values = [f"c{r}" for r in ranks] + [f"padded[t + {k}, lane]" for k in others]
        body += [f"m{q} = {value}" for q, value in enumerate(values)]
        body += [f"m{i}, m{j} = min(m{i}, m{j}), max(m{i}, m{j})" for i, j in last]
        body.append(f"out[t + {g}, lane] = m{extra}")
    header = f'''"""Generated by ``python -m genrelab.features.running_median``: do not edit; see :mod:`genrelab.features.running_median`."""

import numba


@numba.njit(cache=True, boundscheck=False)
def median{size}_rows(padded, out):  # pragma: no cover - compiled
    """out[t, lane] = median of padded[t : t + {size}, lane]; len(out) a multiple of {group}."""
    for t in range(0, out.shape[0], {group}):
        for lane in range(out.shape[1]):
'''
    return header + "".join(f"            {line}\n" for line in body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate genrelab/_median_kernel.py from this module.")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not current, write nothing")
    args = parser.parse_args(argv)
    current = KERNEL_FILE.read_text() if KERNEL_FILE.exists() else ""
    if args.check:
        raise SystemExit(0 if current == kernel_source() else f"{KERNEL_FILE} is stale: run python -m genrelab.features.running_median")
    KERNEL_FILE.write_text(kernel_source())
    print(f"wrote {KERNEL_FILE}")


if __name__ == "__main__":
    main()
