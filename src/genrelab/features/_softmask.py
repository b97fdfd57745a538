"""The harmonic part of a spectrogram under HPSS's soft mask, in one compiled pass (numba).

Imported lazily by :mod:`genrelab.features.gtzan57_dsp`, so that importing genrelab does not import numba.
"""

import numba
import numpy as np


@numba.njit(cache=True)
def harmonic_part(stft, harm, perc):  # pragma: no cover - compiled
    """``stft * librosa.util.softmask(harm, perc, power=2, split_zeros=True)``, the same float32
    operations (so the same values) in one pass instead of eight array-wide ones.

    Parameters
    ----------
    stft : complex64, any shape, C-contiguous.
    harm, perc : float32 median-filtered magnitudes, the shape of ``stft``, C-contiguous.

    Returns
    -------
    complex64, the shape of ``stft``.
    """
    if not (stft.flags.c_contiguous and harm.flags.c_contiguous and perc.flags.c_contiguous):
        raise ValueError("harmonic_part needs C-contiguous arrays")  # ravel() would copy, not view
    out = np.empty_like(stft)
    tiny = np.finfo(harm.dtype).tiny
    flat_out, flat_stft, flat_harm, flat_perc = out.ravel(), stft.ravel(), harm.ravel(), perc.ravel()
    for i in range(flat_stft.size):
        h, p = flat_harm[i], flat_perc[i]
        scale = max(h, p)
        if scale < tiny:
            mask = np.float32(0.5)  # split_zeros: where both are ~0, each part gets half
        else:
            h, p = h / scale, p / scale
            mask = h * h / (h * h + p * p)
        flat_out[i] = flat_stft[i] * mask
    return out
