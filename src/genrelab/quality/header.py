"""What a file's header claims: container, codec, nominal bitrate, rate and channels (``mutagen``).

The claim is read, never guessed: a field the header does not hold is ``None`` (a WAV or FLAC
has no bitrate to claim beyond its PCM's; an MP3 without a Xing/LAME tag does not say whether it
is VBR). The true quality is measured from the samples (:mod:`genrelab.quality.spectral`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from genrelab.errors import AudioError

LOSSLESS_CODECS = ("flac", "pcm", "alac", "wavpack", "tta", "ape")
# mutagen's class -> (container, codec); MP4's codec is its sample entry's (:func:`_mp4_codec`).
_CONTAINERS = {"MP3": ("mp3", "mp3"), "FLAC": ("flac", "flac"), "WAVE": ("wav", "pcm"), "OggVorbis": ("ogg", "vorbis"),
               "OggOpus": ("ogg", "opus"), "MP4": ("mp4", None), "AIFF": ("aiff", "pcm"), "ASF": ("asf", "wma"),
               "AAC": ("aac", "aac"), "AC3": ("ac3", "ac3"), "WavPack": ("wv", "wavpack"), "TrueAudio": ("tta", "tta"),
               "MonkeysAudio": ("ape", "ape")}  # fmt: skip


@dataclass(frozen=True)
class Header:
    """What the header claims; ``None`` where it says nothing."""

    container: str  # mp3, flac, wav, ogg, mp4, aiff, asf, aac, ac3, wv, tta, ape
    codec: str | None  # mp3, flac, pcm, vorbis, opus, aac, alac, wma, ac3, wavpack, tta, ape
    bitrate_kbps: float | None  # nominal: CBR's rate, or the average the header gives
    bitrate_mode: str | None  # cbr, vbr, abr (MP3 with a Xing/LAME tag)
    encoder: str | None  # e.g. "LAME 3.100"
    sample_rate: int | None  # Hz
    channels: int | None
    seconds: float | None

    @property
    def claims_lossless(self) -> bool:
        return self.codec in LOSSLESS_CODECS

    @property
    def claim(self) -> str:
        """One phrase: ``MP3 320 kbps CBR``, ``FLAC (lossless)``, ``ALAC (lossless)``, ``WAV (lossless)``."""
        if self.claims_lossless:
            return f"{(self.container if self.codec == 'pcm' else self.codec).upper()} (lossless)"
        rate = f" {self.bitrate_kbps:.0f} kbps" if self.bitrate_kbps else ""
        mode = f" {self.bitrate_mode.upper()}" if self.bitrate_mode else ""
        return f"{(self.codec or self.container).upper()}{rate}{mode}"

    def as_dict(self) -> dict:
        return asdict(self)


def read_header(path: str | Path) -> Header:
    """The header of ``path``. Raises :class:`AudioError` (naming the file) when none can be read."""
    import mutagen

    path = Path(path)
    try:
        found = mutagen.File(path)
    except (mutagen.MutagenError, OSError) as err:
        raise AudioError(f"{path}: no readable audio header ({err}). Check the file is complete.", kind="corrupt") from err
    if found is None or getattr(found, "info", None) is None:
        raise AudioError(f"{path}: no audio header mutagen knows (it reads MP3, FLAC, WAV, Ogg, MP4/M4A, AIFF, WMA, "
                         "WavPack, TTA and APE; not Matroska/WebM or CAF): not audio, or a format to convert to FLAC to judge it.",
                         kind="corrupt")  # fmt: skip
    info = found.info
    container, codec = _CONTAINERS.get(type(found).__name__, (type(found).__name__.lower(), None))
    if container == "mp4":
        codec = _mp4_codec(getattr(info, "codec", None))
    bitrate = getattr(info, "bitrate", 0) or None
    mode = str(getattr(info, "bitrate_mode", "")).rpartition(".")[2].lower() or None
    encoder = " ".join(filter(None, [getattr(info, "encoder_info", ""), getattr(info, "encoder_settings", "")])) or None
    return Header(
        container=container,
        codec=codec,
        bitrate_kbps=round(bitrate / 1000, 1) if bitrate and codec not in LOSSLESS_CODECS else None,
        bitrate_mode=mode if mode in ("cbr", "vbr", "abr") else None,
        encoder=encoder,
        sample_rate=getattr(info, "sample_rate", None),
        channels=getattr(info, "channels", None),
        seconds=round(info.length, 3) if getattr(info, "length", None) else None,
    )


def _mp4_codec(entry: str | None) -> str | None:
    """The codec of an MP4 sample entry as mutagen names it: ``alac``; ``mp4a.40.N`` is AAC of any
    profile (2: LC, 5: HE, 29: HE v2); another entry is kept as it is."""
    if entry and entry.startswith("mp4a.40."):
        return "aac"
    return entry
