"""The encoders and decoders of the true-quality study, all offline.

- MP3 through LAME (libmp3lame in the static ffmpeg that ``imageio-ffmpeg`` ships): constant
  bitrate (``cbr128``) or variable (``v2``: LAME's ``-V 2``, the mt/rh VBR mode of its presets),
  at LAME's default algorithm quality. ffmpeg writes the Xing/Info tag a real LAME file carries
  when its output is a seekable file. ``lameenc`` writes none, and libsndfile then decodes a VBR
  stream only as far as the first frame's bitrate predicts: 9.44 s of a 12 s V2 file, measured.
- FLAC through libsndfile (``soundfile``), which also decodes MP3 (mpg123).
- The encoders the models never learn, for the generalisation probes
  (:data:`OTHER_ENCODERS`): FFmpeg's native AAC, libvorbis and libopus from the same bundled
  ffmpeg, and the fixed-point MP3 encoder libshine, which only Debian's ``ffmpeg`` links
  (``apt-get install ffmpeg``). They are decoded by ffmpeg too.
- Resampling with soxr (as the study's loader does), and the gain change or limiter of a
  re-mastering after decoding.

Every function takes and returns float32 samples shaped ``(n_samples, channels)`` in [-1, 1], as
``soundfile`` does, or the bytes of a file.
"""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile as sf

from genrelab.errors import AudioError

LAME_CBR = (96, 128, 160, 192, 224, 256, 320)  # kbps
LAME_VBR = (0, 1, 2, 3, 4, 5, 6)  # -V quality
_LAME = re.compile(r"cbr(\d+)|v(\d)")


class Encoder(NamedTuple):
    """An ffmpeg encoder: its arguments (``{}`` is the setting's number), its file suffix, the
    setting's form, and the ffmpeg that has it (``bundled``: imageio-ffmpeg's; ``system``: on PATH)."""

    args: tuple[str, ...]
    suffix: str
    setting: str  # a regular expression with one group: the number put into args
    ffmpeg: str


OTHER_ENCODERS = {
    "aac": Encoder(("-c:a", "aac", "-b:a", "{}k"), ".m4a", r"(\d+)", "bundled"),
    "vorbis": Encoder(("-c:a", "libvorbis", "-q:a", "{}"), ".ogg", r"q(\d+)", "bundled"),
    "opus": Encoder(("-c:a", "libopus", "-b:a", "{}k"), ".opus", r"(\d+)", "bundled"),
    "shine": Encoder(("-c:a", "libshine", "-b:a", "{}k"), ".mp3", r"(\d+)", "system"),
}


def lame(y: np.ndarray, sr: int, setting: str) -> bytes:
    """MP3 bytes of ``y`` encoded by LAME at ``setting`` (``cbr96`` ... ``cbr320``, ``v0`` ... ``v6``).

    LAME may resample on its own for low bitrates (CBR 96 at 44.1 kHz is written at 32 kHz).
    """
    match = _LAME.fullmatch(setting)
    if match is None or (match[1] and int(match[1]) not in LAME_CBR) or (match[2] and int(match[2]) not in LAME_VBR):
        raise AudioError(f"unknown LAME setting {setting!r}; use cbr{LAME_CBR} or v{LAME_VBR}.")
    rate = ["-b:a", f"{match[1]}k"] if match[1] else ["-q:a", match[2]]
    return ffmpeg_encode(y, sr, ["-c:a", "libmp3lame", *rate], ".mp3")


def valid_setting(kind: str, setting: str) -> bool:
    """Whether ``setting`` (``128``, ``q4``) is of the form :data:`OTHER_ENCODERS` ``[kind]`` takes."""
    return re.fullmatch(OTHER_ENCODERS[kind].setting, setting) is not None


@functools.cache
def missing_encoder(kind: str) -> str | None:
    """Why encoder ``kind`` of :data:`OTHER_ENCODERS` cannot run on this machine; None when it can,
    or when ``kind`` is not one of them (LAME and FLAC always can)."""
    import subprocess

    if kind not in OTHER_ENCODERS:
        return None
    encoder = OTHER_ENCODERS[kind]
    exe = _ffmpeg(encoder.ffmpeg)
    if exe is None:
        return f"{kind}: no ffmpeg on PATH (its encoder {encoder.args[1]} is in Debian's: apt-get install ffmpeg)"
    listed = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return None if f" {encoder.args[1]} " in listed else f"{kind}: {exe} has no {encoder.args[1]} encoder"


def _ffmpeg(which: str) -> str | None:
    import shutil

    from genrelab.data.audio import bundled_ffmpeg

    return bundled_ffmpeg() if which == "bundled" else shutil.which("ffmpeg")


def encode_other(kind: str, setting: str, y: np.ndarray, sr: int) -> bytes:
    """The bytes of ``y`` encoded by :data:`OTHER_ENCODERS` ``[kind]`` at ``setting`` (``aac``, ``128``)."""
    encoder = OTHER_ENCODERS[kind]
    why = missing_encoder(kind)
    if why is not None:
        raise AudioError(why, kind="missing_encoder")
    number = re.fullmatch(encoder.setting, setting)[1]
    return ffmpeg_encode(y, sr, [a.format(number) for a in encoder.args], encoder.suffix, _ffmpeg(encoder.ffmpeg))


def ffmpeg_encode(y: np.ndarray, sr: int, codec_args: list[str], suffix: str, exe: str | None = None) -> bytes:
    """The bytes of ``y`` encoded by ffmpeg (``exe``; default the bundled one) with ``codec_args``, into a
    ``suffix`` file (a real file, so that ffmpeg can go back and write the header a seekable output gets)."""
    import tempfile

    pcm = np.round(np.clip(y, -1, 1) * 32767).astype("<i2").tobytes()  # interleaved 16-bit PCM in
    with tempfile.TemporaryDirectory(prefix="genrelab-encode-") as folder:
        out = Path(folder) / f"out{suffix}"
        _run_ffmpeg(["-f", "s16le", "-ar", str(int(sr)), "-ac", str(y.shape[1]), "-i", "pipe:0", *codec_args, str(out)],
                    pcm, exe)  # fmt: skip
        return out.read_bytes()


def ffmpeg_decode(data: bytes, suffix: str, what: str = "the encoded audio") -> tuple[np.ndarray, int]:
    """Samples ``(n_samples, channels)`` float32 and the rate of a file's bytes, decoded by the bundled
    ffmpeg as :func:`genrelab.data.audio.read_ffmpeg` decodes a user's file (the same samples as
    ffmpeg's float WAV of them, measured on AAC, Vorbis and Opus)."""
    import tempfile

    from genrelab.data.audio import read_ffmpeg

    with tempfile.TemporaryDirectory(prefix="genrelab-decode-") as folder:
        source = Path(folder) / f"in{suffix}"
        source.write_bytes(data)
        try:
            return read_ffmpeg(source)
        except AudioError as err:
            raise AudioError(f"{what}: {str(err).removeprefix(f'{source}: ')}", kind=err.kind) from err


def _run_ffmpeg(args: list[str], stdin: bytes, exe: str | None) -> None:
    import subprocess

    from genrelab.data.audio import bundled_ffmpeg

    done = subprocess.run([exe or bundled_ffmpeg(), "-nostdin", "-v", "error", *args], input=stdin,
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        raise AudioError(f"ffmpeg: ffmpeg {' '.join(args[-5:-1])} failed: "
                         f"{done.stderr.decode(errors='replace').strip()}")  # fmt: skip


def flac(y: np.ndarray, sr: int) -> bytes:
    """FLAC bytes of ``y`` (16-bit, the CD format a "lossless" download claims)."""
    return _write(y, sr, "FLAC", "PCM_16")


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
