"""The conditions of the true-quality study: what was done to a lossless source, and its labels.

A condition is a chain of steps written ``step>step>...``, applied in order to the source's
samples:

``lame:cbr128``, ``lame:v2``
    encode with LAME at that setting, then decode (:func:`genrelab.quality.codecs.lame`);
``flac``
    encode losslessly (the samples do not change; the file claims lossless);
``aac:128``, ``vorbis:q4``, ``opus:96``, ``shine:128``
    an encoder the models never learn (:data:`genrelab.quality.codecs.OTHER_ENCODERS`), then
    decode: the generalisation probes. Such a step is followed by the file a user gets
    (``aac:128>flac``: a fake lossless made from AAC), never last;
``resample:48000``
    resample to that rate (Hz);
``gain:-3``
    change the level by that many dB after decoding;
``limiter``
    a loudness re-master (:func:`genrelab.quality.codecs.limiter`).

A chain ends with an encoding step (``lame:...`` or ``flac``), which is the file a user gets.
Its labels:

``nominal``
    what the file claims: the last encoder's setting (``cbr320``), or ``lossless`` for FLAC;
``effective``
    the lowest quality any step left: the lossy step lowest in :data:`QUALITY_ORDER`, or
    ``lossless`` when there is none. ``lame:cbr128>flac`` claims ``lossless`` and is ``cbr128``.
    An unseen encoder's step is off LAME's ladder and is the effective label itself (``aac:128``);
``group``
    the effective label's collision group (:data:`COLLISION_GROUPS`): LAME settings whose
    low-pass lands on the same edge of its ~689 Hz filter-bank bands, so that no cut-off tells
    them apart. An unseen encoder's group is its name (``aac``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from genrelab.errors import DataError
from genrelab.quality import codecs

LOSSLESS = "lossless"
# Lowest quality first: by LAME 3.100's low-pass at 44.1 kHz, then by bitrate.
QUALITY_ORDER = ("cbr96", "v6", "v5", "cbr128", "v4", "cbr160", "v3", "v2", "cbr192", "v1", "cbr224", "cbr256",
                 "cbr320", "v0", LOSSLESS)  # fmt: skip
# LAME 3.100's low-pass (kHz, 44.1 kHz input) per setting, measured; V0 has none.
LAME_LOWPASS_KHZ = {"cbr96": 15.1, "cbr128": 17.0, "cbr160": 17.5, "cbr192": 18.6, "cbr224": 19.4, "cbr256": 19.7,
                    "cbr320": 20.5, "v1": 19.5, "v2": 18.5, "v3": 18.0, "v4": 17.5, "v5": 16.7, "v6": 16.7}  # fmt: skip
COLLISION_GROUPS = {
    "cbr96": "lp15k", "v6": "lp17k", "v5": "lp17k", "cbr128": "lp17k", "v4": "lp17.5k", "cbr160": "lp17.5k",
    "v3": "lp18k", "v2": "lp18.6k", "cbr192": "lp18.6k", "v1": "lp19.5k", "cbr224": "lp19.5k", "cbr256": "lp19.5k",
    "cbr320": "lp20.5k", "v0": "no_lowpass", LOSSLESS: LOSSLESS,
}  # fmt: skip
GROUP_ORDER = tuple(dict.fromkeys(COLLISION_GROUPS[s] for s in QUALITY_ORDER))  # lowest quality first
ENCODERS = ("lame", "flac")
EDITS = ("resample", "gain", "limiter")
OTHER_ENCODERS = tuple(codecs.OTHER_ENCODERS)  # never the last step: libsndfile reads no AAC


@dataclass(frozen=True)
class Condition:
    """One chain of steps and its labels."""

    name: str  # the chain as written, e.g. "lame:cbr128>flac"
    steps: tuple[tuple[str, str], ...]  # (kind, argument): ("lame", "cbr128"), ("flac", "")
    nominal: str
    effective: str
    group: str
    container: str  # the file's format: "mp3" or "flac"

    @property
    def transcoded(self) -> bool:
        """Claims more than it holds (a fake lossless or a fake 320)."""
        if self.effective not in QUALITY_ORDER:  # an unseen encoder's step, then the file
            return True
        return QUALITY_ORDER.index(self.effective) < QUALITY_ORDER.index(self.nominal)

    @property
    def probe_kind(self) -> str:
        """What a generalisation probe tests: the unseen encoder, ``48 kHz`` (encoded at 48 kHz),
        ``resampled`` (resampled after encoding), or ``""`` for LAME at 44.1 kHz."""
        kinds = [kind for kind, _ in self.steps]
        other = [kind for kind in kinds if kind in OTHER_ENCODERS]
        if other:
            return other[0]
        first_lame = kinds.index("lame") if "lame" in kinds else len(kinds)
        if any(kind == "resample" for kind in kinds[:first_lame]) and first_lame < len(kinds):
            return "48 kHz"
        return "resampled" if "resample" in kinds[first_lame:] else ""

    def chain_json(self) -> str:
        return json.dumps([f"{kind}:{arg}" if arg else kind for kind, arg in self.steps])


def parse(name: str) -> Condition:
    """The :class:`Condition` a chain string names; a :class:`DataError` naming the bad step otherwise."""
    steps = []
    for text in name.split(">"):
        kind, _, arg = text.strip().partition(":")
        if kind not in ENCODERS + EDITS + OTHER_ENCODERS:
            raise DataError(f"quality condition {name!r}: unknown step {text!r}; steps are "
                            "lame:<cbrN|vN>, flac, resample:<Hz>, gain:<dB>, limiter, "
                            f"and {', '.join(f'{k}:...' for k in OTHER_ENCODERS)} before the last.")  # fmt: skip
        if (kind == "lame" and arg not in QUALITY_ORDER[:-1] or kind in ("resample", "gain") and not _number(arg)
                or kind in OTHER_ENCODERS and not codecs.valid_setting(kind, arg)):  # fmt: skip
            raise DataError(f"quality condition {name!r}: step {text!r} needs a valid argument "
                            "(lame:cbr128, lame:v2, resample:48000, gain:-3, aac:128, vorbis:q4, opus:96).")  # fmt: skip
        steps.append((kind, arg))
    if steps[-1][0] not in ENCODERS:
        raise DataError(f"quality condition {name!r} must end with lame:... or flac: that is the file the study reads.")
    lossy = [arg for kind, arg in steps if kind == "lame"]
    other = [f"{kind}:{arg}" for kind, arg in steps if kind in OTHER_ENCODERS]
    nominal = steps[-1][1] if steps[-1][0] == "lame" else LOSSLESS
    effective = other[0] if other else min(lossy, key=QUALITY_ORDER.index) if lossy else LOSSLESS
    group = other[0].partition(":")[0] if other else COLLISION_GROUPS[effective]
    container = "mp3" if steps[-1][0] == "lame" else "flac"
    return Condition(name, tuple(steps), nominal, effective, group, container)


def apply(condition: Condition, y: np.ndarray, sr: int, memo: dict | None = None) -> tuple[bytes, np.ndarray, int]:
    """Run ``condition`` on a lossless source ``y`` ``(n_samples, channels)`` at ``sr`` Hz.

    Returns the last encoder's file bytes, and the samples and rate a decoder gets from them.
    ``memo`` (one dict per source) keeps each chain prefix's result, so ``lame:cbr128`` is encoded
    once for it and for ``lame:cbr128>flac``, ``lame:cbr128>lame:cbr320``, ...
    """
    memo = {} if memo is None else memo
    done = max((k for k in range(1, len(condition.steps) + 1) if condition.steps[:k] in memo), default=0)
    data, y, sr = memo[condition.steps[:done]] if done else (b"", y, sr)
    for k in range(done, len(condition.steps)):
        data, y, sr = _step(condition.steps[k], condition.name, data, y, sr)
        memo[condition.steps[: k + 1]] = (data, y, sr)
    return data, y, sr


def _step(step: tuple[str, str], name: str, data: bytes, y: np.ndarray, sr: int) -> tuple[bytes, np.ndarray, int]:
    """One step: the file bytes so far (the last encoder's) and the samples a decoder gets."""
    kind, arg = step
    if kind == "lame":
        data = codecs.lame(y, sr, arg)
        y, sr = codecs.decode(data, name)
    elif kind in OTHER_ENCODERS:
        data = codecs.encode_other(kind, arg, y, sr)
        y, sr = codecs.ffmpeg_decode(data, codecs.OTHER_ENCODERS[kind].suffix, name)
    elif kind == "flac":
        data = codecs.flac(y, sr)
        y, sr = codecs.decode(data, name)  # 16-bit: what the file holds
    elif kind == "resample":
        y, sr = codecs.resample(y, sr, int(float(arg))), int(float(arg))
    elif kind == "gain":
        y = codecs.gain(y, float(arg))
    else:
        y = codecs.limiter(y)
    return data, y, sr


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
