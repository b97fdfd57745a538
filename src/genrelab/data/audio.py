"""Reading audio files into the study's one format: mono float32 at a fixed sample rate.

Everything that reads audio goes through :func:`load`, so resampling, downmixing and the error a
user sees for a broken file are the same in every stage. :func:`info` reads only the header;
:func:`scan` decodes a whole file without keeping it and measures it, which is how the data layer
proves that a file is readable (a header can look fine on a file whose body is truncated or
garbage); :func:`declared_frames` reads what a WAV or AU header declares, to catch truncation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from genrelab.errors import AudioError

AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".au")
DEFAULT_SR = 22050
_BLOCK_FRAMES = 1 << 16  # frames per block in scan: bounded memory for long files


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says, without decoding the samples."""

    path: Path
    sample_rate: int  # Hz
    channels: int
    frames: int  # samples per channel; for MP3 an estimate until decoded (see scan)

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
        raise _undecodable(path, err) from err
    return AudioInfo(path=path, sample_rate=int(meta.samplerate), channels=int(meta.channels), frames=int(meta.frames))


@dataclass(frozen=True)
class AudioScan:
    """What a full decode of a file measured (:func:`scan`)."""

    path: Path
    sample_rate: int  # Hz
    channels: int
    frames: int  # decoded samples per channel
    header_frames: int  # what the decoder's header read said (libsndfile; an estimate for MP3)
    declared_frames: int | None  # what the container's own size field declares (WAV, AU); None: no such field
    peak: float  # max |sample| over all channels, full scale = 1
    rms: float  # root mean square over all samples
    full_scale: int  # samples (all channels) with |x| >= FULL_SCALE

    @property
    def duration(self) -> float:
        """Decoded seconds."""
        return self.frames / self.sample_rate if self.sample_rate else 0.0


FULL_SCALE = 0.999  # |x| at or above this counts as clipped (16-bit full scale 32767 reads as 0.99997)


def scan(path: str | Path) -> AudioScan:
    """Decode all of ``path`` block by block and measure it: length, level, full-scale samples.

    Memory stays bounded whatever the file's length. A file with zero samples is returned as such
    (``frames == 0``); deciding what is usable is :mod:`genrelab.data.checks`' job. Raises
    :class:`AudioError` naming the file if any part fails to decode (``kind="corrupt"``) or holds
    non-finite samples (``kind="non_finite"``, with the time of the first one).
    """
    path = _existing(path)
    header = info(path)
    frames, peak, squares, full = 0, 0.0, 0.0, 0
    try:
        with sf.SoundFile(str(path)) as f:
            # Plain reads, not SoundFile.blocks: blocks() ignores short reads, so on a truncated
            # file it yields stale buffer contents up to the header's frame count.
            while len(block := f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)):
                finite = np.isfinite(block)
                if not finite.all():
                    first = frames + int(np.flatnonzero(~finite.all(axis=1))[0])
                    raise AudioError(
                        f"{path}: holds NaN or infinite samples (the first at {first / f.samplerate:.3f} s). "
                        f"{_FIX}", kind="non_finite",
                    )  # fmt: skip
                magnitude = np.abs(block)
                peak = max(peak, float(magnitude.max()))
                squares += float(np.dot(block.ravel().astype(np.float64), block.ravel()))
                full += int(np.count_nonzero(magnitude >= FULL_SCALE))
                frames += len(block)
    except AudioError:
        raise
    except Exception as err:
        raise _undecodable(path, err) from err
    n = frames * header.channels
    return AudioScan(
        path=path, sample_rate=header.sample_rate, channels=header.channels, frames=frames,
        header_frames=header.frames, declared_frames=declared_frames(path), peak=peak,
        rms=float(np.sqrt(squares / n)) if n else 0.0, full_scale=full,
    )  # fmt: skip


def declared_frames(path: str | Path) -> int | None:
    """Frames per channel that the container's own size field declares, read from the header bytes.

    WAV (the ``data`` chunk's size) and AU (the header's data size) only; ``None`` for other
    formats, for an unknown size (streamed files write 0xFFFFFFFF) and for headers it cannot
    parse. libsndfile reads a truncated WAV quietly, counting the frames actually present, so this
    is how a truncation shows: declared > decoded.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return _wav_declared_frames(head)
    if head[:4] == b".snd" and len(head) >= 24:
        return _au_declared_frames(head)
    return None


def _wav_declared_frames(head: bytes) -> int | None:
    block_align, pos = None, 12
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], int.from_bytes(head[pos + 4 : pos + 8], "little")
        if chunk == b"fmt " and pos + 22 <= len(head):
            block_align = int.from_bytes(head[pos + 20 : pos + 22], "little")
        elif chunk == b"data":
            if not block_align or size == 0xFFFFFFFF:
                return None
            return size // block_align
        pos += 8 + size + (size & 1)  # chunks are padded to an even length
    return None


_AU_BYTES = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4, 6: 4, 7: 8, 27: 1}  # encoding -> bytes per sample


def _au_declared_frames(head: bytes) -> int | None:
    size, encoding, channels = (int.from_bytes(head[k : k + 4], "big") for k in (8, 12, 20))
    width = _AU_BYTES.get(encoding)
    if size == 0xFFFFFFFF or not width or not channels:
        return None
    return size // (width * channels)


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
        raise _undecodable(path, err) from err
    if data.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no samples. {_FIX}", kind="empty")
    if not np.isfinite(data).all():
        raise AudioError(f"{path}: holds NaN or infinite samples. {_FIX}", kind="non_finite")
    y = data.T  # (channels, n)
    if mono:
        y = y.mean(axis=0) if y.shape[0] > 1 else y[0]
    if sr is not None and native_sr != sr:
        import librosa  # deferred: its first resample costs seconds of imports that plain reads never need

        y = librosa.resample(y, orig_sr=native_sr, target_sr=int(sr), res_type="soxr_hq")
        native_sr = sr
    return np.ascontiguousarray(y, dtype=np.float32), int(native_sr)


_FIX = "Replace it with a good copy, or remove it."


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file. Check the path (and data.root in params.yaml).", kind="unreadable")
    return path


def _undecodable(path: Path, err: Exception) -> AudioError:
    """The error for a file libsndfile refused: empty (0 bytes), or corrupt / not audio."""
    try:
        if path.stat().st_size == 0:
            return AudioError(f"{path}: the file is empty (0 bytes). {_FIX}", kind="empty")
    except OSError as os_err:
        return AudioError(f"{path}: cannot read the file ({os_err.strerror}). Check its permissions.", kind="unreadable")
    return AudioError(_unreadable(path, err))


def _unreadable(path: Path, err: Exception) -> str:
    reason = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
    # libsndfile says "Error opening '<path>': <why>"; the path already starts our message.
    reason = reason.split("': ", 1)[-1].rstrip(".")
    return f"{path}: cannot decode audio ({reason}). The file is corrupt or not audio. {_FIX}"
