"""The encoders and decoders of the true-quality study, all offline.

- MP3 through LAME 3.100 (``lameenc``): constant bitrate (``cbr128``) or variable (``v2``: LAME's
  ``-V 2``, the mt/rh VBR mode of its presets).
- FLAC and WAV through libsndfile (``soundfile``), which also decodes MP3 (mpg123).
- Resampling with soxr (as the study's loader does), and the gain change or limiter of a
  re-mastering after decoding.

Every function takes and returns float32 samples shaped ``(n_samples, channels)`` in [-1, 1], as
``soundfile`` does, or the bytes of a file.
"""

from __future__ import annotations

import io
import re

import numpy as np
import soundfile as sf

from genrelab.errors import AudioError

LAME_CBR = (96, 128, 160, 192, 224, 256, 320)  # kbps
LAME_VBR = (0, 1, 2, 3, 4, 5, 6)  # -V quality
_LAME = re.compile(r"cbr(\d+)|v(\d)")
_VBR_MTRH = 4  # LAME's vbr_mtrh, the mode of its -V presets


def lame(y: np.ndarray, sr: int, setting: str, quality: int = 2) -> bytes:
    """MP3 bytes of ``y`` encoded by LAME at ``setting`` (``cbr96`` ... ``cbr320``, ``v0`` ... ``v6``).

    ``quality`` is LAME's algorithm quality (``-q``: 0 best, 9 fastest; 2 is its recommended high
    quality). LAME may resample on its own for low bitrates (CBR 96 at 44.1 kHz is written at 32 kHz).
    """
    match = _LAME.fullmatch(setting)
    if match is None or (match[1] and int(match[1]) not in LAME_CBR) or (match[2] and int(match[2]) not in LAME_VBR):
        raise AudioError(f"unknown LAME setting {setting!r}; use cbr{LAME_CBR} or v{LAME_VBR}.")
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(int(sr))
    encoder.set_channels(y.shape[1])
    encoder.set_quality(quality)
    if match[1]:
        encoder.set_bit_rate(int(match[1]))
    else:
        encoder.set_vbr(_VBR_MTRH)
        encoder.set_vbr_quality(int(match[2]))
    pcm = np.round(np.clip(y, -1, 1) * 32767).astype("<i2")  # LAME takes interleaved 16-bit PCM
    return bytes(encoder.encode(pcm.tobytes()) + encoder.flush())


def flac(y: np.ndarray, sr: int) -> bytes:
    """FLAC bytes of ``y`` (16-bit, the CD format a "lossless" download claims)."""
    return _write(y, sr, "FLAC", "PCM_16")


def wav(y: np.ndarray, sr: int) -> bytes:
    """16-bit WAV bytes of ``y``."""
    return _write(y, sr, "WAV", "PCM_16")


def decode(data: bytes, what: str = "the encoded audio") -> tuple[np.ndarray, int]:
    """Samples ``(n_samples, channels)`` float32 and the rate of an MP3, FLAC or WAV file's bytes."""
    try:
        y, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as err:  # libsndfile raises LibsndfileError, RuntimeError or TypeError by format
        raise AudioError(f"{what}: cannot be decoded ({err}).", kind="corrupt") from err
    return y, int(sr)


def resample(y: np.ndarray, sr: int, to: int) -> np.ndarray:
    """``y`` at ``to`` Hz (soxr, high quality, as :func:`genrelab.data.audio.load` resamples)."""
    if to == sr:
        return y
    import librosa  # deferred: seconds of imports that plain encoding never needs

    return np.ascontiguousarray(librosa.resample(y.T, orig_sr=sr, target_sr=to, res_type="soxr_hq").T, dtype=np.float32)


def gain(y: np.ndarray, db: float) -> np.ndarray:
    """``y`` scaled by ``db`` decibels and clipped to [-1, 1] (a level change after decoding)."""
    return np.clip(y * np.float32(10 ** (db / 20)), -1, 1).astype(np.float32)


def limiter(y: np.ndarray, drive_db: float = 6.0, ceiling_db: float = -1.0) -> np.ndarray:
    """A loudness "re-master": ``drive_db`` of gain into a soft (tanh) limiter at ``ceiling_db``.

    Its saturation adds harmonics, also above an encoder's low-pass: what a cut-off detector must
    survive when a transcode was re-mastered.
    """
    ceiling = np.float32(10 ** (ceiling_db / 20))
    return (ceiling * np.tanh(y * np.float32(10 ** (drive_db / 20)) / ceiling)).astype(np.float32)


def _write(y: np.ndarray, sr: int, fmt: str, subtype: str) -> bytes:
    out = io.BytesIO()
    sf.write(out, y, int(sr), format=fmt, subtype=subtype)
    return out.getvalue()
