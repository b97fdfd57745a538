"""Reading audio files into the study's one format: mono float32 at a fixed sample rate.

Everything that reads audio goes through :func:`load`, so resampling, downmixing and the error a
user sees for a broken file are the same in every stage. :func:`info` reads only the header;
:func:`count_frames` decodes a whole file without keeping it, which is how the data layer proves
that a file is readable (a header can look fine on a file whose body is truncated or garbage).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from genrelab.errors import AudioError

AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".au")
DEFAULT_SR = 22050
_BLOCK_FRAMES = 1 << 16  # frames per block in count_frames: bounded memory for long files


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says, without decoding the samples."""

    path: Path
    sample_rate: int  # Hz
    channels: int
    frames: int  # samples per channel; for MP3 an estimate until decoded (see count_frames)

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def is_audio_file(path: str | Path) -> bool:
    """True when the extension (any case) is one of :data:`AUDIO_EXTENSIONS`; the content is not read."""
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def info(path: str | Path) -> AudioInfo:
    """Read the header of ``path``. Raises :class:`AudioError` naming the file if it is unreadable."""
    path = _existing(path)
    try:
        meta = sf.info(str(path))
    except Exception as err:  # soundfile raises several types for broken files
        raise AudioError(_unreadable(path, err)) from err
    return AudioInfo(path=path, sample_rate=int(meta.samplerate), channels=int(meta.channels), frames=int(meta.frames))


def count_frames(path: str | Path) -> int:
    """Decode all of ``path`` block by block and return the number of frames (samples per channel).

    Memory stays bounded whatever the file's length. Raises :class:`AudioError` naming the file if
    any part fails to decode or holds non-finite samples.
    """
    path = _existing(path)
    frames = 0
    try:
        with sf.SoundFile(str(path)) as f:
            # Plain reads, not SoundFile.blocks: blocks() ignores short reads, so on a truncated
            # file it yields stale buffer contents up to the header's frame count.
            while len(block := f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)):
                if not np.isfinite(block).all():
                    where = f"near {frames / f.samplerate:.2f} s"
                    raise AudioError(f"{path}: holds NaN or infinite samples {where}. {_FIX}")
                frames += len(block)
    except AudioError:
        raise
    except Exception as err:
        raise AudioError(_unreadable(path, err)) from err
    return frames


def load(path: str | Path, sr: int | None = DEFAULT_SR, mono: bool = True) -> tuple[np.ndarray, int]:
    """Decode ``path`` to float32 samples in [-1, 1].

    Parameters
    ----------
    path : audio file (wav, mp3, flac, ogg, au).
    sr : target sample rate in Hz; other rates are resampled (soxr, as librosa does).
        ``None`` keeps the file's rate.
    mono : average the channels (a stereo file is downmixed, as ``librosa.load`` does).

    Returns
    -------
    y : float32 array, shape (n_samples,) if mono else (channels, n_samples)
    sr : the sample rate of ``y`` in Hz

    Raises
    ------
    AudioError : the file is missing, cannot be decoded, holds no samples or non-finite samples,
        or ``sr`` is not a positive integer.
    """
    if sr is not None and (isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0):
        raise AudioError(f"{path}: sr must be a positive integer in Hz or None, got {sr!r}.")
    path = _existing(path)
    try:
        data, native_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as err:
        raise AudioError(_unreadable(path, err)) from err
    if data.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no samples. {_FIX}")
    if not np.isfinite(data).all():
        raise AudioError(f"{path}: holds NaN or infinite samples. {_FIX}")
    y = data.T  # (channels, n)
    if mono:
        y = y.mean(axis=0) if y.shape[0] > 1 else y[0]
    if sr is not None and native_sr != sr:
        import librosa  # deferred: its first resample costs seconds of imports that plain reads never need

        y = librosa.resample(y, orig_sr=native_sr, target_sr=int(sr), res_type="soxr_hq")
        native_sr = sr
    return np.ascontiguousarray(y, dtype=np.float32), int(native_sr)


_FIX = "Replace it with a good copy, or remove it (it is listed as excluded meanwhile)."


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file. Check the path (and data.root in params.yaml).")
    return path


def _unreadable(path: Path, err: Exception) -> str:
    reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
    # libsndfile says "Error opening '<path>': <why>"; the path already starts our message.
    reason = reason.split("': ", 1)[-1].rstrip(".")
    return f"{path}: cannot decode audio ({reason}). The file is corrupt or not audio. {_FIX}"
