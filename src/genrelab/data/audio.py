"""Reading audio files into the study's one format: mono float32 at a fixed sample rate.

Everything that reads audio goes through :func:`load`, so resampling, downmixing and the error a
user sees for a broken file are the same in every stage. :func:`info` reads only the header;
:func:`scan` decodes a whole file without keeping it and measures it, which is how the data layer
proves that a file is readable (a header can look fine on a file whose body is truncated or
garbage); :func:`declared_frames` reads what a WAV or AU header declares, to catch truncation.

Two decoders share these functions. libsndfile (``soundfile``) reads the study's own formats
(:data:`SNDFILE_EXTENSIONS`) and whatever file of :data:`SNDFILE_FIRST_EXTENSIONS` it can open;
the ffmpeg binary that ``imageio-ffmpeg`` ships (:func:`bundled_ffmpeg`, never one on ``PATH``)
decodes the rest (:data:`FFMPEG_EXTENSIONS`: AAC and ALAC in MP4, WMA, WebM, ...) through a pipe
(:func:`read_ffmpeg`), and :func:`info` reads their headers with mutagen. Resampling and
downmixing happen after decoding, in this module, whatever the decoder: an ALAC copy of a WAV
loads to the same samples.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from genrelab.errors import AudioError

SNDFILE_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".au")  # libsndfile only: the study's corpora
# libsndfile reads most such files (PCM AIFF, Ogg Opus, PCM CAF), ffmpeg the others (ALAC in CAF,
# AIFF-C codecs libsndfile lacks, Opus before libsndfile 1.0.29).
SNDFILE_FIRST_EXTENSIONS = (".aiff", ".aif", ".aifc", ".caf", ".opus")
FFMPEG_EXTENSIONS = (".m4a", ".m4b", ".mp4", ".aac", ".wma", ".webm", ".mka", ".wv", ".ape", ".tta", ".ac3")
AUDIO_EXTENSIONS = SNDFILE_EXTENSIONS + SNDFILE_FIRST_EXTENSIONS + FFMPEG_EXTENSIONS
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


def extensions_text() -> str:
    """:data:`AUDIO_EXTENSIONS` as messages list them: ``wav, mp3, flac, ...``."""
    return ", ".join(ext.lstrip(".") for ext in AUDIO_EXTENSIONS)


def via_ffmpeg(path: str | Path) -> bool:
    """Whether ``path`` is decoded by the bundled ffmpeg rather than libsndfile: its extension is one
    of :data:`FFMPEG_EXTENSIONS`, or one of :data:`SNDFILE_FIRST_EXTENSIONS` in a file libsndfile
    cannot open. Any other extension (or none) stays with libsndfile, as before ffmpeg was used."""
    suffix = Path(path).suffix.lower()
    if suffix in FFMPEG_EXTENSIONS:
        return True
    if suffix not in SNDFILE_FIRST_EXTENSIONS:
        return False
    try:
        sf.info(str(path))
    except Exception:  # soundfile raises several types for a format or codec it lacks
        return True
    return False


def info(path: str | Path) -> AudioInfo:
    """Read the header of ``path``. Raises :class:`AudioError` naming the file if it is unreadable.

    A file :func:`via_ffmpeg` gets its rate, channels and length from mutagen; a value mutagen
    does not give (Opus has no rate field, Matroska and CAF no mutagen reader) comes from what
    ffmpeg prints when it opens the file. ``frames`` is then ``length * rate``, an estimate as for MP3.
    """
    path = _existing(path)
    if via_ffmpeg(path):
        return _ffmpeg_info(path)
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
        for block in _ffmpeg_blocks(path, header) if via_ffmpeg(path) else _sndfile_blocks(path):
            finite = np.isfinite(block)
            if not finite.all():
                first = frames + int(np.flatnonzero(~finite.all(axis=1))[0])
                raise AudioError(
                    f"{path}: holds NaN or infinite samples (the first at {first / header.sample_rate:.3f} s). "
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


def _sndfile_blocks(path: Path) -> Iterator[np.ndarray]:
    """float32 blocks ``(frames, channels)`` of ``path`` decoded by libsndfile."""
    with sf.SoundFile(str(path)) as f:
        # Plain reads, not SoundFile.blocks: blocks() ignores short reads, so on a truncated
        # file it yields stale buffer contents up to the header's frame count.
        while len(block := f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)):
            yield block


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
    path : audio file, any of :data:`AUDIO_EXTENSIONS` (another extension is tried with libsndfile).
    sr : target sample rate in Hz; other rates are resampled (soxr, as librosa does).
        ``None`` keeps the file's rate.
    mono : average the channels (a stereo file is downmixed, as ``librosa.load`` does).

    Returns
    -------
    y : float32 array, shape (n_samples,) if mono else (channels, n_samples)
    sr : the sample rate of ``y`` in Hz

    Raises
    ------
    AudioError : the file is missing, cannot be decoded (by libsndfile, or by the bundled ffmpeg
        for the formats :func:`via_ffmpeg` gives it, or that ffmpeg is missing), holds no samples
        or non-finite samples, or ``sr`` is not a positive integer.
    """
    if sr is not None and (isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0):
        raise AudioError(f"{path}: sr must be a positive integer in Hz or None, got {sr!r}.")
    path = _existing(path)
    if via_ffmpeg(path):
        data, native_sr = read_ffmpeg(path)
    else:
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


# --------------------------------------------------------------------------------------------------
# The formats libsndfile does not read: the bundled ffmpeg decodes them, mutagen reads their headers.


def bundled_ffmpeg() -> str:
    """The path of the ffmpeg binary that ``imageio-ffmpeg`` ships.

    Not ``imageio_ffmpeg.get_ffmpeg_exe()``: without its binary that falls back to whatever
    ``ffmpeg`` is on ``PATH``, whose codecs and version the study does not pin. Raises
    :class:`AudioError` saying how to get the binary back when it is missing.
    """
    import imageio_ffmpeg

    folder = Path(imageio_ffmpeg.__file__).parent / "binaries"
    found = sorted(str(p) for p in folder.glob("ffmpeg-*") if p.is_file() and os.access(p, os.X_OK))
    if not found:
        raise AudioError(f"the ffmpeg binary that imageio-ffmpeg ships is missing from {folder}. Reinstall it: "
                         "pip install --force-reinstall imageio-ffmpeg (the version in requirements.lock).",
                         kind="unreadable")  # fmt: skip
    return found[-1]


def read_ffmpeg(path: str | Path, offset_seconds: float = 0.0, seconds: float | None = None) -> tuple[np.ndarray, int]:
    """``seconds`` of ``path`` from ``offset_seconds`` (default: all of it), decoded by the bundled
    ffmpeg at the file's own rate and channel count (:func:`info`).

    Returns float32 ``(n_samples, channels)`` in [-1, 1] and the rate in Hz. Raises
    :class:`AudioError` naming the file when ffmpeg is missing or reports an error.
    """
    path = _existing(path)
    header = _ffmpeg_info(path)
    blocks = list(_ffmpeg_blocks(path, header, offset_seconds, seconds))
    data = np.concatenate(blocks) if blocks else np.zeros((0, header.channels), np.float32)
    return data, header.sample_rate


def _ffmpeg_blocks(path: Path, header: AudioInfo, offset_seconds: float = 0.0,
                   seconds: float | None = None) -> Iterator[np.ndarray]:  # fmt: skip
    """float32 blocks ``(frames, channels)`` of ``path``'s first audio stream, piped from ffmpeg as
    raw 32-bit floats at ``header``'s rate and channels (so the bytes always split into its frames);
    from sample ``int(offset_seconds * rate)`` for ``int(seconds * rate)`` samples, as libsndfile seeks."""
    exe = _ffmpeg_for(path)
    # Cut by sample number after decoding from the start: ffmpeg's seek (-ss before -i) lands on an
    # AAC packet after the offset, without the frame before it that its first one overlaps (measured:
    # 875 samples late at 0.7 s, and not the samples a full decode gives).
    start = int(offset_seconds * header.sample_rate)
    end = f":end_sample={start + int(seconds * header.sample_rate)}" if seconds is not None else ""
    cut = ["-af", f"atrim=start_sample={start}{end}"] if start or end else []
    command = [exe, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", *cut, "-f", "f32le",
               "-ac", str(header.channels), "-ar", str(header.sample_rate), "pipe:1"]  # fmt: skip
    frame_bytes = 4 * header.channels
    # stderr goes to a file: a pipe left unread would block ffmpeg once a damaged file filled it.
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors) as proc:
            while raw := proc.stdout.read(_BLOCK_FRAMES * frame_bytes):
                usable = len(raw) - len(raw) % frame_bytes
                yield np.frombuffer(raw[:usable], dtype="<f4").reshape(-1, header.channels)
        errors.seek(0)
        message = errors.read().decode(errors="replace").strip()
    # At -v error ffmpeg prints only errors; one about a packet means samples were dropped, so
    # the file is reported as damaged rather than decoded short.
    if proc.returncode != 0 or message:
        raise _ffmpeg_error(path, message or f"ffmpeg exited with status {proc.returncode}")


_PROBE_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_PROBE_AUDIO = re.compile(r"Stream #\S+.*?: Audio: .*?, (\d+) Hz, ([^,]+)")
# ffmpeg's names of channel layouts (a layout it has no name for prints as "N channels").
_LAYOUT_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4, "4.1": 5, "5.0": 5, "5.1": 6,
                    "6.0": 6, "6.1": 7, "7.0": 7, "7.1": 8}  # fmt: skip


def _ffmpeg_info(path: Path) -> AudioInfo:
    rate, channels, length = _mutagen_stream(path)
    if not (rate and channels and length):
        probed = _probe(path)
        rate, channels, length = rate or probed[0], channels or probed[1], length or probed[2]
    # A length of 0 (unknown) gives frames 0, which callers read as "unknown until decoded".
    return AudioInfo(path=path, sample_rate=int(rate), channels=int(channels), frames=round(length * rate))


def _mutagen_stream(path: Path) -> tuple[int | None, int | None, float | None]:
    """``(rate Hz, channels, seconds)`` from the header mutagen reads; ``None`` for each it lacks."""
    import mutagen

    try:
        found = mutagen.File(path)
    except (mutagen.MutagenError, OSError):  # a damaged header: ffmpeg's probe says why
        return None, None, None
    meta = getattr(found, "info", None)
    return (getattr(meta, "sample_rate", None) or None, getattr(meta, "channels", None) or None,
            getattr(meta, "length", None) or None)  # fmt: skip


def _probe(path: Path) -> tuple[int, int, float]:
    """``(rate Hz, channels, seconds)`` of the first audio stream, from what ``ffmpeg -i`` prints
    when it opens the file (it then exits 1 for want of an output: that is not a failure here).
    ``seconds`` is 0 for a stream whose length nothing states (``Duration: N/A``: a Matroska file
    written to a pipe): it is known once decoded."""
    exe = _ffmpeg_for(path)
    # level+info tags each line with its level, so that the reason is the first error, not a warning.
    text = subprocess.run([exe, "-nostdin", "-hide_banner", "-loglevel", "level+info", "-i", str(path)],
                          capture_output=True).stderr.decode(errors="replace")  # fmt: skip
    audio, duration = _PROBE_AUDIO.search(text), _PROBE_DURATION.search(text)
    if audio is None:
        errors = [line.partition("[error] ")[2] for line in text.splitlines() if "[error] " in line]
        raise _ffmpeg_error(path, errors[0] if errors else "no audio stream in the file")
    layout = audio[2].split("(")[0].strip()  # "5.1(side)" -> "5.1"; "6 channels"
    count = re.fullmatch(r"(\d+) channels", layout)
    channels = int(count[1]) if count else _LAYOUT_CHANNELS.get(layout)
    if not channels:
        raise AudioError(f"{path}: ffmpeg names its channel layout {layout!r}, which genrelab does not know. "
                         "Convert it to stereo: ffmpeg -i IN -ac 2 OUT.flac.")  # fmt: skip
    if duration is None:
        return int(audio[1]), channels, 0.0
    hours, minutes, secs = duration.groups()
    return int(audio[1]), channels, 3600 * int(hours) + 60 * int(minutes) + float(secs)


def _ffmpeg_for(path: Path) -> str:
    try:
        return bundled_ffmpeg()
    except AudioError as err:
        raise AudioError(f"{path}: decoding {path.suffix or 'this'} files needs ffmpeg, and {err}", kind=err.kind) from err


def _ffmpeg_error(path: Path, message: str) -> AudioError:
    """The error for a file ffmpeg refused: empty (0 bytes), or corrupt / not audio, with ffmpeg's first line."""
    if path.stat().st_size == 0:
        return AudioError(f"{path}: the file is empty (0 bytes). {_FIX}", kind="empty")
    first = re.sub(r"^(\[[^]]*\] ?)+", "", message.splitlines()[0]).strip().rstrip(".")  # drop ffmpeg's [module @ 0x..]
    return AudioError(f"{path}: cannot decode audio (ffmpeg: {first}). The file is corrupt or not audio. {_FIX}")
