"""A synthetic, GTZAN-shaped demo corpus of ten invented styles.

**This corpus is synthetic and is not GTZAN.** It holds no GTZAN audio and none of GTZAN's genre
names; it exists so the whole study runs end to end on a fresh clone, and so its evaluation
protocols can be checked on data whose faults are known exactly.

Layout (as GTZAN's)::

    OUT_DIR/<style>/<style>.NNNNN.wav    mono 16-bit PCM WAV, NNNNN = 00000, 00001, ...
    OUT_DIR/metadata.csv                 one row per file

metadata.csv columns (:data:`METADATA_COLUMNS`): ``track_id`` (file stem), ``genre`` (the style),
``artist``, ``path`` (relative to OUT_DIR), ``duration_s``, ``sample_rate`` (Hz), ``tempo_bpm``,
``meter``, ``key``; ``drums``, ``bass``, ``chords``, ``lead`` as ``<lending style>:<instrument>``
(empty for a silent layer); ``borrowed`` (``layer<-style; ...``, empty when nothing is borrowed);
``noise_kind``; ``injected`` and ``duplicate_of`` (empty, except for the injected copies below).

Styles: waltz, march, swing, bossa, dub, chiptune, thrash, ambient, funk, techno. Each style is a
recipe (:data:`STYLE_RECIPES`): meter, tempo range, swing, modes, chord progressions, drum patterns,
bass lines, comping rhythms, lead rhythms, instruments and effects. A track has four layers
(drums, bass, chords, lead), rendered note by note as numpy arrays and mixed.

Artists. Each style has up to four artists (``min(4, max(2, tracks_per_genre // 5))``), holding
consecutive track numbers as GTZAN's artists do. An artist fixes a sub-palette shared by all its
tracks: key and mode, tempo centre, pattern and instrument choices, brightness, drum-kit tuning,
reverb, mix levels, mastering EQ and the colour of its background noise (hiss, hum, crackle or
tape). So tracks of one artist resemble each other more than other artists' tracks of the same
style: the artist leakage that random splits reward.

Overlap and noise (arguments of :func:`generate_corpus`):

- ``overlap`` (default 0.2): the probability that an artist takes one of its four layers
  (its pattern and instrument) from another style; a single track borrows one more layer with
  probability ``overlap / 2``. Borrowed material plays in the host's meter, tempo and harmony.
- ``noise`` (default 0.05): the RMS of the artist's background noise relative to the music's
  (each track scales it by 0.5 to 1.5). 0 gives clean tracks.

With the defaults, classifiers on MFCC and spectral statistics that never saw a test track's
artist stay well below 100% accuracy, while random clip splits score higher (measured on the
default corpus with logistic regression, random forest and SVM: 66-72% with every test artist
unseen, against 96-98% on random clip splits).

Injected faults (fixed in number, listed in metadata.csv's ``injected`` and ``duplicate_of``
columns; ``LAST = tracks_per_genre - 1``):

- 1 exact duplicate across styles: ``swing.LAST`` is a byte copy of ``bossa.00000``.
- 2 near-duplicates within a style: ``dub.LAST`` is ``dub.00000`` at -3.0 dB, delayed 0.12 s;
  ``techno.LAST`` is ``techno.00000`` at +2.0 dB, delayed 0.25 s (leading silence), re-quantised.

A copy keeps its source's artist and recipe columns and replaces the track that would otherwise
have been rendered in its slot.

Determinism: every track is seeded from ``(seed, style, index)`` (its artist from
``(seed, style, artist)``) with :func:`numpy.random.default_rng`, quantised to int16 here and
written as PCM_16 WAV (which holds no timestamps), so the same arguments give byte-identical files
whatever the number of parallel jobs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from scipy.signal import butter, fftconvolve, lfilter, sosfilt
from tqdm.auto import tqdm

from genrelab.errors import GenrelabError
from genrelab.parallel import map_tracks

__all__ = [
    "STYLES", "STYLE_RECIPES", "StyleRecipe", "LAYERS", "EXACT_DUPLICATES", "NEAR_DUPLICATES",
    "METADATA_COLUMNS", "DemoError", "n_artists", "render_track", "generate_corpus",
]

STYLES: tuple[str, ...] = (
    "waltz", "march", "swing", "bossa", "dub", "chiptune", "thrash", "ambient", "funk", "techno",
)
LAYERS: tuple[str, ...] = ("drums", "bass", "chords", "lead")
# (source style, copy style): copy.LAST is a byte copy of source.00000.
EXACT_DUPLICATES: tuple[tuple[str, str], ...] = (("bossa", "swing"),)
# (style, gain dB, delay s): style.LAST is style.00000 with that gain and delay.
NEAR_DUPLICATES: tuple[tuple[str, float, float], ...] = (("dub", -3.0, 0.12), ("techno", 2.0, 0.25))
METADATA_COLUMNS: tuple[str, ...] = (
    "track_id", "genre", "artist", "path", "duration_s", "sample_rate", "tempo_bpm", "meter", "key",
    "drums", "bass", "chords", "lead", "borrowed", "noise_kind", "injected", "duplicate_of",
)
MAX_ARTISTS = 4
MIN_SECONDS = 3.0
SAMPLE_RATE_RANGE = (8000, 96000)  # Hz
NOISE_KINDS = ("hiss", "hum", "crackle", "tape")

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}
NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Chord tones as scale steps above the chord root; "power" is root, fifth, octave in semitones.
VOICINGS = {"triad": (0, 2, 4), "seventh": (0, 2, 4, 6), "ninth": (0, 2, 6, 8), "sus": (0, 1, 4, 7)}
# Lowest MIDI note of each part's register (the root is placed in the octave above it).
REGISTERS = {"bass": 33, "chords": 52, "power": 40, "pad": 48, "arp": 60, "lead": 67}


class DemoError(GenrelabError):
    """An invalid argument to the demo corpus generator; names the argument and the fix."""


# --------------------------------------------------------------------------------------------
# Style recipes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StyleRecipe:
    """How one style sounds. Patterns are step strings, ``steps_per_beat`` characters a beat,
    tiled from beat 0 (a pattern may span several bars).

    Drums: voice -> steps, ``x`` accent, ``o`` normal, ``g`` ghost, ``.`` rest.
    Bass: ``1``-``8`` scale step above the chord root (8 = octave), ``c`` chromatic approach to the
    next chord, ``g`` muted ghost note, ``-`` hold, ``.`` rest.
    Chords: ``x`` chord, ``a`` next arpeggio tone, ``-`` hold, ``.`` rest. Lead: ``n`` note.
    """

    meter: int  # beats per bar
    tempo: tuple[float, float]  # bpm range
    steps_per_beat: int
    modes: tuple[str, ...]
    progressions: tuple[tuple[int, ...], ...]  # chord roots as scale degrees (0 = tonic)
    bars_per_chord: int
    voicing: str  # key of VOICINGS, or "power"
    drums: tuple[dict[str, str], ...]  # pattern variants; empty = no drums
    bass: tuple[str, ...]
    chords: tuple[str, ...]
    lead: tuple[str, ...]  # rhythms; empty = no lead
    instruments: dict[str, tuple[str, ...]]  # layer -> instrument choices
    kit: dict[str, dict[str, float]] | None = None  # drum voice -> parameter overrides
    levels: dict[str, float] | None = None  # layer -> mix level in dB (default 0)
    swing: float = 0.0  # 0 straight, 1 triplet swing of off-beat eighths
    reverb: tuple[float, float] = (0.1, 0.25)  # wet fraction range
    reverb_tau: float = 0.5  # s, decay time constant
    echo: float = 0.0  # feedback of a dotted-eighth echo on chords and lead
    crush: int = 0  # bits of the final mix (0 = no bit reduction)
    pump: float = 0.0  # sidechain depth: how far bass and chords duck under each kick
    dropout: float = 0.05  # probability a layer sits out a 4-bar phrase


STYLE_RECIPES: dict[str, StyleRecipe] = {
    "waltz": StyleRecipe(
        meter=3, tempo=(90, 180), steps_per_beat=2, modes=("major", "major", "minor"),
        progressions=((0, 3, 4, 0), (0, 4, 4, 0), (0, 5, 1, 4), (0, 0, 3, 4)), bars_per_chord=1,
        voicing="triad",
        drums=({"kick": "x.....", "brush": "..o.o."}, {"kick": "x.....", "hat": "..o.o.", "brush": "g.g.g."}),
        bass=("1-----5-----", "1-----1---5-", "1---5-1-----"),
        chords=("..x-x-", "..x.x.", "..x-x-..x.x."),
        lead=("n-----n-n-n-", "n---n-n-----", "n-n-n-n---n-"),
        instruments={"bass": ("tuba", "upright"), "chords": ("piano", "strings", "reed"),
                     "lead": ("strings", "reed", "flute")},
        kit={"kick": {"pitch": 62.0, "tau": 0.15}}, reverb=(0.15, 0.3), reverb_tau=0.7,
    ),
    "march": StyleRecipe(
        meter=2, tempo=(110, 125), steps_per_beat=4, modes=("major",),
        progressions=((0, 4, 4, 0), (0, 0, 4, 0), (0, 3, 4, 0)), bars_per_chord=2, voicing="triad",
        drums=({"kick": "x...x...", "snare": "x.oox.o.", "crash": "x" + "." * 31},
               {"kick": "x...x...", "snare": "xgggx.o.x.o.xggg", "crash": "x" + "." * 15}),
        bass=("1...5...", "1...5...1...3...", "1...1...5...5..."),
        chords=("..x...x.", "..x-..x-"),
        lead=("n-n-n.nnn---n---", "n--nn-n-n---n-n-", "n-n-n-n-n---n---"),
        instruments={"bass": ("tuba",), "chords": ("brass", "reed"), "lead": ("brass", "flute")},
        kit={"snare": {"tau": 0.18, "tone": 0.9}, "kick": {"pitch": 48.0, "tau": 0.4}},
        reverb=(0.1, 0.2),
    ),
    "swing": StyleRecipe(
        meter=4, tempo=(120, 200), steps_per_beat=2, modes=("major",),
        progressions=((1, 4, 0, 0), (0, 5, 1, 4), (2, 5, 1, 4)), bars_per_chord=1, voicing="seventh",
        drums=({"ride": "o.xgo.xg", "hat": "..x...x.", "kick": "g.g.g.g."},
               {"brush": "o.xgo.xg", "hat": "..x...x.", "snare": "......g.....g..g"}),
        bass=("1.3.5.c.", "1.5.8.c.", "1.2.3.c.", "1.3.5.6."),
        chords=("x..x....", "..x...x.", "x.....x."),
        lead=("n.nnn-n.", "..nnn.n-", "n-n.nn.n"),
        instruments={"bass": ("upright",), "chords": ("piano", "epiano", "organ"), "lead": ("reed", "brass")},
        swing=1.0, reverb=(0.15, 0.3), reverb_tau=0.6,
    ),
    "bossa": StyleRecipe(
        meter=4, tempo=(120, 145), steps_per_beat=4, modes=("major", "minor"),
        progressions=((0, 1, 4, 0), (0, 3, 1, 4), (1, 4, 0, 0)), bars_per_chord=1, voicing="ninth",
        drums=({"rim": "x..x..x...x..x..", "shaker": "ogggogggogggoggg", "kick": "x..xx..xx..xx..x"},
               {"rim": "..x..x..x..x..x.", "shaker": "oggoogggoggoogg.", "kick": "x...x...x...x..."}),
        bass=("1-----5-5-----1-", "1--5-...5--1-...", "1-----5-1-----5-"),
        chords=("x..x..x...x..x..", "x.x..x.x..x..x..", "x-.x-.x-..x-.x-."),
        lead=("n--n--n-n-------", "..n-n-n-n---n...", "n---n---n-n-n---"),
        instruments={"bass": ("upright",), "chords": ("pluck", "epiano"), "lead": ("flute", "reed")},
        kit={"kick": {"tau": 0.18, "tone": 0.1}}, reverb=(0.15, 0.3),
    ),
    "dub": StyleRecipe(
        meter=4, tempo=(65, 85), steps_per_beat=4, modes=("minor", "dorian"),
        progressions=((0, 3), (0, 6), (0, 5, 6, 0)), bars_per_chord=2, voicing="triad",
        drums=({"kick": "........x.......", "rim": "........x.......", "hat": "x.o.x.o.x.o.x.o."},
               {"kick": "x.......x.......", "rim": "........x.......", "hat": "..o...o...o...o."}),
        bass=("1..5.8..3-..1...", "1-..5-.3-..1-.5.", "1-.1..5-..3-1..."),
        chords=("....x.......x...", "....x-......x-.."),
        lead=("n-..n-n.........", "........n--n-n.."),
        instruments={"bass": ("sub",), "chords": ("organ", "pluck", "epiano"), "lead": ("reed",)},
        kit={"kick": {"pitch": 45.0, "tau": 0.4}}, levels={"bass": 5.0, "drums": -2.0},
        reverb=(0.3, 0.45), reverb_tau=0.9, echo=0.55, dropout=0.3,
    ),
    "chiptune": StyleRecipe(
        meter=4, tempo=(130, 170), steps_per_beat=4, modes=("minor", "major"),
        progressions=((0, 5, 2, 6), (0, 4, 5, 3), (0, 6, 5, 6)), bars_per_chord=1, voicing="triad",
        drums=({"ckick": "x.......x.x.....", "csnare": "....x.......x...", "chat": "x.x.x.x.x.x.x.x."},
               {"ckick": "x...x...x...x...", "csnare": "....x..x....x...", "chat": "..x...x...x...x."}),
        bass=("1.8.1.8.1.8.1.8.", "1.1.5.5.8.8.5.5."),
        chords=("aaaaaaaaaaaaaaaa", "a.a.a.a.a.a.a.a."),
        lead=("n-n-n-nnn---n-n-", "n--n--n-n-n-n---"),
        instruments={"bass": ("chip_tri",), "chords": ("chip",), "lead": ("chip",)},
        reverb=(0.0, 0.03), crush=6,
    ),
    "thrash": StyleRecipe(
        meter=4, tempo=(160, 210), steps_per_beat=4, modes=("phrygian", "minor"),
        progressions=((0, 1, 0, 6), (0, 6, 5, 6), (0, 0, 1, 0)), bars_per_chord=1, voicing="power",
        drums=({"kick": "xxxxxxxxxxxxxxxx", "snare": "....x.......x...", "hat": "x.x.x.x.x.x.x.x.",
                "crash": "x" + "." * 31},
               {"kick": "x.x.x.x.x.x.x.x.", "snare": "..x...x...x...x.", "crash": "x" + "." * 15}),
        bass=("1111111111111111", "1.1.1.1.1.1.1.1."),
        chords=("xxxxxxxxxxxxxxxx", "x.xxx.xxx.xxxx-x", "x-x-xxx-x-x-xxxx"),
        lead=(),
        instruments={"bass": ("dist_bass",), "chords": ("dist_guitar",), "lead": ()},
        kit={"kick": {"pitch": 60.0, "tau": 0.1, "tone": 0.9}, "snare": {"tone": 0.8}},
        levels={"chords": 3.0}, reverb=(0.05, 0.15),
    ),
    "ambient": StyleRecipe(
        meter=4, tempo=(60, 80), steps_per_beat=1, modes=("lydian", "major"),
        progressions=((0, 3), (0, 5), (0, 4, 5, 3)), bars_per_chord=2, voicing="sus",
        drums=(),
        bass=("1-------",),
        chords=("x-------",),
        lead=("n---....", "..n-----", "n.......n-......", "....n---"),
        instruments={"bass": ("sub",), "chords": ("pad",), "lead": ("bell", "flute")},
        levels={"lead": -4.0}, reverb=(0.5, 0.7), reverb_tau=2.0,
    ),
    "funk": StyleRecipe(
        meter=4, tempo=(95, 115), steps_per_beat=4, modes=("dorian", "mixolydian"),
        progressions=((0, 0), (0, 3), (0, 0, 3, 0)), bars_per_chord=1, voicing="ninth",
        drums=({"kick": "x.x...x...x..x..", "snare": "....x..g.g..x..g", "hat": "xoxoxoxoxoxoxoxo"},
               {"kick": "x..x..x.x.....x.", "snare": "....x.g.....x.g.", "hat": "x.x.x.x.x.x.x.xo"}),
        bass=("1..8.g1.5..8g.1.", "1.g18..51.g.8.7.", "1..1.g8.1.5.8g.."),
        chords=("..x.x..x.x...x.x", ".x..x.x..x.x..x."),
        lead=("....n.n.........", "n.n.....n-n....."),
        instruments={"bass": ("slap",), "chords": ("clav", "epiano"), "lead": ("brass",)},
        kit={"snare": {"tau": 0.1, "tone": 0.7}}, reverb=(0.05, 0.15),
    ),
    "techno": StyleRecipe(
        meter=4, tempo=(120, 135), steps_per_beat=4, modes=("minor", "dorian"),
        progressions=((0,), (0, 0, 5, 0), (0, 6)), bars_per_chord=2, voicing="triad",
        drums=({"kick": "x...x...x...x...", "ohat": "..x...x...x...x.", "hat": "gggggggggggggggg",
                "clap": "....x.......x..."},
               {"kick": "x...x...x...x...", "ohat": "..o...o...o...o.", "hat": "x.g.x.g.x.g.x.g.",
                "rim": "...g..g....g..g."}),
        bass=("..1...1...1...1.", "..11..11..11..11", "1.11.1.11.11.1.1"),
        chords=("......x.......x.", "...x.....x....x."),
        lead=(),
        instruments={"bass": ("synth_bass",), "chords": ("stab",), "lead": ()},
        kit={"kick": {"pitch": 50.0, "tau": 0.3}}, levels={"drums": 3.0}, reverb=(0.1, 0.25), echo=0.45,
        pump=0.5, dropout=0.15,
    ),
}


# --------------------------------------------------------------------------------------------
# Signal building blocks. Signals are float64, shape (n,), at sample rate ``sr`` (Hz). float64,
# not float32, so that the last-bit differences between CPUs' SIMD maths stay ~1e-11 of an int16
# step: machines then agree on every quantised sample in practice, which the DVC pin of the demo
# corpus relies on (float32 would be twice as fast and differ in thousands of samples).
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _t(n: int, sr: int) -> np.ndarray:
    """Time in s of each of ``n`` samples (read-only, cached)."""
    t = np.arange(n) / sr
    t.flags.writeable = False  # shared by the cache
    return t


@lru_cache(maxsize=16)
def _wobble(n: int, sr: int, rate: float) -> np.ndarray:
    # Integral of sin(2 pi rate t), in cycles per unit of relative depth.
    w = 2 * np.pi * rate
    y = (1 - np.cos(w * _t(n, sr))) / w
    y.flags.writeable = False
    return y


def _phase(freq: float, n: int, sr: int, vibrato: float = 0.0, rate: float = 5.5) -> np.ndarray:
    """Phase in cycles, folded to [0, 1), of a tone at ``freq`` Hz with relative vibrato depth
    ``vibrato`` at ``rate`` Hz (integrated analytically, so there are no phase jumps)."""
    ph = freq * _t(n, sr)
    if vibrato:
        ph = ph + freq * vibrato * _wobble(n, sr, rate)
    return ph - np.floor(ph)


def _saw(ph: np.ndarray) -> np.ndarray:
    return 2 * ph - 1


def _pulse(ph: np.ndarray, duty: float) -> np.ndarray:
    return (ph < duty) * 2.0 - 2 * duty


def _tri(ph: np.ndarray) -> np.ndarray:
    return 4 * np.abs(ph - 0.5) - 1


def _sin(ph: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * ph)


def _tone(freq: float, n: int, sr: int) -> np.ndarray:
    """Sine at ``freq`` Hz, shape (n,)."""
    return _sin(_phase(freq, n, sr))


def _white(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal(n)


def _env(n: int, sr: int, attack: float, tau: float | None = None, release: float = 0.01) -> np.ndarray:
    """Linear attack (s), exponential decay with time constant ``tau`` (s; None sustains), then a
    linear release (s) over the last samples so a cut note does not click."""
    env = np.ones(n) if tau is None else np.exp(_t(n, sr) * (-1 / tau))
    a = min(n, max(1, int(attack * sr)))
    env[:a] *= np.arange(a) / a
    r = min(n - a, int(release * sr))
    if r > 0:
        env[n - r :] *= np.linspace(1.0, 0.0, r)
    return env


def _decay(n: int, sr: int, tau: float) -> np.ndarray:
    return np.exp(_t(n, sr) * (-1 / tau))


@lru_cache(maxsize=512)
def _sos(kind: str, cutoff: int | tuple[int, int], sr: int, order: int) -> np.ndarray:
    # Cut-offs above 0.45 sr are clipped so recipes stay valid at low sample rates.
    wn = np.clip(np.asarray(cutoff, dtype=float) / (sr / 2), 1e-4, 0.9)
    if wn.size == 2 and wn[0] >= wn[1]:
        wn[0] = wn[1] / 2
    return butter(order, wn, btype=kind, output="sos")


def _filter(x: np.ndarray, kind: str, cutoff, sr: int, order: int = 2) -> np.ndarray:
    """Butterworth ``lowpass``/``highpass``/``bandpass`` (cut-offs in Hz, rounded to 1 Hz)."""
    key = tuple(round(float(c)) for c in cutoff) if isinstance(cutoff, tuple) else round(float(cutoff))
    return sosfilt(_sos(kind, key, sr, order), x)


def _peak1(x: np.ndarray) -> np.ndarray:
    peak = np.max(np.abs(x)) if x.size else 0.0
    return x / peak if peak > 0 else x


def _energy(x: np.ndarray) -> float:
    # einsum, not np.dot: a BLAS call would wake OpenBLAS threads that spin on the other cores.
    return float(np.einsum("i,i->", x, x))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(_energy(x) / x.size)) if x.size else 0.0


def _midi_hz(midi: int) -> float:
    return 440.0 * 2.0 ** ((midi - 69) / 12)


def _karplus(freq: float, n: int, sr: int, rng: np.random.Generator, bright: float, tau: float) -> np.ndarray:
    """Karplus-Strong plucked string, computed one period at a time (each period depends only on
    the previous one), so the Python loop runs sr/freq times fewer than a per-sample loop."""
    p = max(2, int(round(sr / freq)))
    y = np.zeros(n + p + 1)
    y[1 : p + 1] = _filter(rng.uniform(-1, 1, p), "lowpass", 800 + 6000 * bright, sr)
    g = 0.5 * np.exp(-p / (sr * tau))  # loss per period, so the decay time does not depend on pitch
    for start in range(p + 1, n + 1, p):
        stop = min(start + p, n + 1)
        y[start:stop] = g * (y[start - p : stop - p] + y[start - p - 1 : stop - p - 1])
    return y[1 : n + 1]


# --------------------------------------------------------------------------------------------
# Pitched instruments: (freq Hz, n samples, sr, tone in [0, 1] = brightness, rng) -> (n,)
# --------------------------------------------------------------------------------------------


def _piano(f, n, sr, tone, rng):
    y = np.zeros(n)
    for k in range(1, 7):
        fk = k * f * np.sqrt(1 + 0.0004 * k * k)  # stiff-string stretch of the partials
        if fk < sr / 2:
            tau = 1 / ((0.8 + 0.7 * k) * (f / 260) ** 0.3)  # upper partials die first
            y += k ** -(2.2 - tone) * _tone(fk, n, sr) * _decay(n, sr, tau)
    return y * _env(n, sr, 0.002, None, 0.05)


def _strings(f, n, sr, tone, rng):
    y = _saw(_phase(f * 1.002, n, sr, 0.004)) + _saw(_phase(f * 0.998, n, sr, 0.004, 4.7))
    return _filter(y, "lowpass", 1200 + 3000 * tone, sr) * _env(n, sr, 0.08, None, 0.1)


def _reed(f, n, sr, tone, rng):
    # Two slightly detuned reeds (accordion musette, melodica, sax-like with vibrato).
    y = _pulse(_phase(f, n, sr, 0.003), 0.35) + 0.7 * _pulse(_phase(f * 1.003, n, sr), 0.4)
    return _filter(y, "lowpass", 1500 + 2500 * tone, sr) * _env(n, sr, 0.03, None, 0.05)


def _flute(f, n, sr, tone, rng):
    ph = _phase(f, n, sr, 0.005)
    breath = _filter(_white(rng, n), "bandpass", (f, min(3 * f, 0.4 * sr)), sr)
    y = _sin(ph) + 0.25 * _sin(2 * ph) + 0.1 * tone * _sin(3 * ph) + 0.08 * breath
    return y * _env(n, sr, 0.06, None, 0.06)


def _brass(f, n, sr, tone, rng):
    saw = _saw(_phase(f, n, sr, 0.003))
    dark = _filter(saw, "lowpass", 700, sr)
    bright = _filter(saw, "lowpass", 2000 + 3000 * tone, sr)
    swell = 0.4 + 0.6 * _decay(n, sr, 0.2)  # brassy blare at the attack, mellower after
    return (dark + (bright - dark) * swell) * _env(n, sr, 0.04, None, 0.05)


def _organ(f, n, sr, tone, rng):
    drawbars = ((1, 1.0), (2, 0.6), (3, 0.1 + 0.4 * tone), (4, 0.3), (6, 0.2 * tone))
    y = sum(a * _tone(k * f, n, sr) for k, a in drawbars if k * f < sr / 2)
    return y * _env(n, sr, 0.005, None, 0.02)


def _epiano(f, n, sr, tone, rng):
    index = (1 + 3 * tone) * _decay(n, sr, 0.3)  # FM bark at the attack
    ph = _phase(f, n, sr)
    return _sin(ph + index * _sin(ph) / (2 * np.pi)) * _env(n, sr, 0.003, 1.2, 0.05)


def _pluck(f, n, sr, tone, rng):
    return _karplus(f, n, sr, rng, bright=0.3 * tone, tau=1.0) * _env(n, sr, 0.001, None, 0.03)


def _clav(f, n, sr, tone, rng):
    y = _filter(_pulse(_phase(f, n, sr), 0.3), "bandpass", (300, 2000 + 3000 * tone), sr)
    return y * _env(n, sr, 0.001, 0.15)


def _chip(f, n, sr, tone, rng):
    duty = (0.125, 0.25, 0.5)[min(2, int(tone * 3))]
    env = np.round(_env(n, sr, 0.001, 0.4, 0.01) * 15) / 15  # 4-bit volume, as on a sound chip
    return _pulse(_phase(f, n, sr, 0.004, 6.0), duty) * env


def _stab(f, n, sr, tone, rng):
    y = _saw(_phase(f * 1.004, n, sr)) + _saw(_phase(f * 0.996, n, sr))
    return _filter(y, "lowpass", 800 + 2500 * tone, sr) * _env(n, sr, 0.002, 0.15)


def _dist_guitar(f, n, sr, tone, rng):
    # Distortion is applied on the whole chords bus so chord tones intermodulate.
    y = _saw(_phase(f, n, sr)) + _saw(_phase(f * 1.004, n, sr))
    return y * _env(n, sr, 0.002, 0.3)


def _pad(f, n, sr, tone, rng):
    y = sum(_saw(_phase(f * d, n, sr, 0.002, r)) for d, r in ((0.996, 0.3), (1.0, 0.4), (1.004, 0.5)))
    fade = min(1.0, n / sr / 3)
    return _filter(y, "lowpass", 600 + 1800 * tone, sr) * _env(n, sr, fade, None, fade)


def _bell(f, n, sr, tone, rng):
    index = (1 + 2 * tone) * _decay(n, sr, 0.8)
    mod = _tone(3.5 * f, n, sr)  # inharmonic modulator ratio: a bell, not a reed
    return _sin(_phase(f, n, sr) + index * mod / (2 * np.pi)) * _env(n, sr, 0.002, 1.5, 0.1)


def _tuba(f, n, sr, tone, rng):
    y = _filter(_saw(_phase(f, n, sr, 0.002)), "lowpass", 400 + 400 * tone, sr)
    return y * _env(n, sr, 0.02, 0.8, 0.05)


def _upright(f, n, sr, tone, rng):
    y = _karplus(f, n, sr, rng, bright=0.2 * tone, tau=0.6)
    return _filter(y, "lowpass", 1200, sr) * _env(n, sr, 0.002, None, 0.03)


def _sub(f, n, sr, tone, rng):
    ph = _phase(f, n, sr)
    return (_sin(ph) + 0.2 * _sin(2 * ph)) * _env(n, sr, 0.01, None, 0.05)


def _chip_tri(f, n, sr, tone, rng):
    return np.round(_tri(_phase(f, n, sr)) * 7.5) / 7.5 * _env(n, sr, 0.001, None, 0.01)  # 4-bit triangle


def _dist_bass(f, n, sr, tone, rng):
    y = np.tanh(3 * _filter(_saw(_phase(f, n, sr)), "lowpass", 1500, sr))
    return y * _env(n, sr, 0.002, 0.3)


def _slap(f, n, sr, tone, rng):
    ph = _phase(f, n, sr)
    body = _sin(ph) + (0.3 + 0.4 * tone) * _filter(_saw(ph), "lowpass", 2500, sr)
    click = _filter(_white(rng, n), "bandpass", (2000, 5000), sr) * _decay(n, sr, 0.005)
    return (body + 0.5 * click) * _env(n, sr, 0.001, 0.3)


def _synth_bass(f, n, sr, tone, rng):
    return _filter(_saw(_phase(f, n, sr)), "lowpass", 300 + 900 * tone, sr) * _env(n, sr, 0.002, 0.18)


# name -> (function, shortest ring in s: decaying instruments sound past the written length)
INSTRUMENTS = {
    "piano": (_piano, 0.8), "strings": (_strings, 0.0), "reed": (_reed, 0.0), "flute": (_flute, 0.0),
    "brass": (_brass, 0.0), "organ": (_organ, 0.0), "epiano": (_epiano, 0.8), "pluck": (_pluck, 0.6),
    "clav": (_clav, 0.0), "chip": (_chip, 0.0), "stab": (_stab, 0.0), "dist_guitar": (_dist_guitar, 0.0),
    "pad": (_pad, 0.0), "bell": (_bell, 2.5), "tuba": (_tuba, 0.0), "upright": (_upright, 0.4),
    "sub": (_sub, 0.0), "chip_tri": (_chip_tri, 0.0), "dist_bass": (_dist_bass, 0.0),
    "slap": (_slap, 0.0), "synth_bass": (_synth_bass, 0.0),
}


# --------------------------------------------------------------------------------------------
# Drum voices: (sr, rng, pitch Hz, tau s, tone in [0, 1]) -> one hit, peak 1
# --------------------------------------------------------------------------------------------


def _kick(sr, rng, pitch, tau, tone):
    n = int(sr * min(1.5, 4 * tau))
    freq = pitch * (1 + 2.5 * np.exp(-_t(n, sr) / 0.03))  # the pitch drop that makes a kick
    body = _sin(np.cumsum(freq) / sr % 1) * _decay(n, sr, tau)
    click = _filter(_white(rng, n), "highpass", 1500, sr) * _decay(n, sr, 0.004)
    return _peak1(body + 0.3 * tone * click)


def _snare(sr, rng, pitch, tau, tone):
    n = int(sr * min(1.0, 5 * tau))
    rattle = _filter(_white(rng, n), "bandpass", (1200, 3500 + 4000 * tone), sr) * _decay(n, sr, tau)
    return _peak1(0.6 * _tone(pitch, n, sr) * _decay(n, sr, 0.05) + _peak1(rattle))


def _hat(sr, rng, pitch, tau, tone):
    n = int(sr * min(1.5, 6 * tau))
    return _peak1(_filter(_white(rng, n), "highpass", pitch, sr) * _decay(n, sr, tau))


def _cymbal(sr, rng, pitch, tau, tone):
    n = int(sr * min(3.0, 4 * tau))
    metal = sum(_tone(pitch * r, n, sr) for r in (1.0, 1.47, 1.98, 2.73, 3.36, 4.17))
    wash = _filter(_white(rng, n), "highpass", 5000, sr)
    return _peak1(_filter(0.3 * metal + tone * wash, "highpass", 2000, sr) * _decay(n, sr, tau))


def _rim(sr, rng, pitch, tau, tone):
    n = int(sr * 8 * tau)
    return _peak1((_tone(pitch, n, sr) + 0.5 * _tone(1.53 * pitch, n, sr)) * _decay(n, sr, tau))


def _shaker(sr, rng, pitch, tau, tone):
    n = int(sr * 6 * tau)
    noise = _filter(_white(rng, n), "bandpass", (0.6 * pitch, 1.6 * pitch), sr)
    return _peak1(noise * _env(n, sr, 0.012 + 0.02 * (1 - tone), tau))


def _clap(sr, rng, pitch, tau, tone):
    n = int(sr * (0.03 + 5 * tau))
    t = _t(n, sr)
    bursts = sum(np.exp(-np.abs(t - d) / 0.004) * (t >= d) for d in (0.0, 0.011, 0.022))
    tail = np.exp(-np.maximum(t - 0.03, 0) / tau) * (t >= 0.03)
    return _peak1(_filter(_white(rng, n), "bandpass", (0.7 * pitch, 2.5 * pitch), sr) * (bursts + tail))


def _chip_kick(sr, rng, pitch, tau, tone):
    n = int(sr * 4 * tau)
    freq = pitch * (1 + 4 * np.exp(-_t(n, sr) / 0.02))
    return np.sign(_sin(np.cumsum(freq) / sr % 1)) * _decay(n, sr, tau)


def _chip_noise(sr, rng, pitch, tau, tone):
    # Sample-and-hold noise, the way a sound chip's noise channel sets its "pitch".
    n = int(sr * 5 * tau)
    hold = max(1, int(sr / pitch))
    noise = np.repeat(rng.choice([-1.0, 1.0], n // hold + 1), hold)[:n]
    return noise * np.round(_decay(n, sr, tau) * 15) / 15


# voice -> (function, default parameters); style kits override them, artists detune them.
DRUM_VOICES = {
    "kick": (_kick, {"pitch": 55.0, "tau": 0.25, "tone": 0.3}),
    "snare": (_snare, {"pitch": 190.0, "tau": 0.12, "tone": 0.5}),
    "hat": (_hat, {"pitch": 7000.0, "tau": 0.025, "tone": 0.5}),
    "ohat": (_hat, {"pitch": 6000.0, "tau": 0.2, "tone": 0.5}),
    "ride": (_cymbal, {"pitch": 420.0, "tau": 0.6, "tone": 0.4}),
    "crash": (_cymbal, {"pitch": 330.0, "tau": 1.0, "tone": 1.0}),
    "rim": (_rim, {"pitch": 1800.0, "tau": 0.015, "tone": 0.5}),
    "shaker": (_shaker, {"pitch": 5000.0, "tau": 0.04, "tone": 0.5}),
    "brush": (_shaker, {"pitch": 2500.0, "tau": 0.12, "tone": 0.2}),
    "clap": (_clap, {"pitch": 1500.0, "tau": 0.1, "tone": 0.5}),
    "ckick": (_chip_kick, {"pitch": 50.0, "tau": 0.08, "tone": 0.5}),
    "csnare": (_chip_noise, {"pitch": 4000.0, "tau": 0.1, "tone": 0.5}),
    "chat": (_chip_noise, {"pitch": 11000.0, "tau": 0.03, "tone": 0.5}),
}


def _noise(kind: str, n: int, sr: int, rng: np.random.Generator, hum_hz: float) -> np.ndarray:
    """Background noise of one colour, RMS 1, shape (n,)."""
    white = _white(rng, n)
    if kind == "hiss":
        x = _filter(white, "highpass", 2000, sr)
    elif kind == "hum":
        # Mains hum with its 2nd and 3rd harmonics; 50 or 60 Hz repeats exactly every second.
        ph = _phase(hum_hz, sr, sr)
        second = _sin(ph) + 0.5 * _sin(2 * ph) + 0.3 * _sin(3 * ph)
        x = np.resize(second, n) + 0.05 * white
    elif kind == "crackle":  # sparse clicks over a low rumble, as from a worn record
        clicks = np.zeros(n)
        at = rng.integers(0, n, rng.poisson(30 * n / sr))  # about 30 clicks a second
        clicks[at] = 5 * rng.standard_normal(len(at))
        x = _filter(clicks, "highpass", 500, sr) + _filter(white, "lowpass", 120, sr)
    else:  # tape: dull broadband noise
        x = _filter(white, "lowpass", 800, sr, order=1)
    return x / max(_rms(x), 1e-12)


# --------------------------------------------------------------------------------------------
# Track recipes: artist palettes and per-track choices
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """One layer of a track: the style lending the material, its pattern and instrument."""

    lender: str
    pattern: str | dict[str, str] | None  # None: the layer is silent
    instrument: str  # "kit" for drums
    level_db: float


@dataclass(frozen=True)
class _Recipe:
    style: str
    artist: str
    tempo_bpm: float
    tonic: int  # pitch class, 0 = C
    mode: str
    progression: tuple[int, ...]
    parts: dict[str, _Part]
    tone: float  # brightness in [0, 1]
    tightness: float  # s, standard deviation of onset timing
    kit: dict[str, dict[str, float]]
    reverb_wet: float
    highpass: float  # Hz, mastering EQ
    lowpass: float  # Hz
    noise_kind: str
    hum_hz: float
    noise_level: float  # noise RMS relative to the music's
    peak_db: float  # dBFS of the track's peak


@dataclass(frozen=True)
class _Settings:
    tracks_per_genre: int
    seconds: float
    seed: int
    sample_rate: int
    overlap: float
    noise: float


def n_artists(tracks_per_genre: int) -> int:
    """Artists per style: 2 for few tracks, one more per 5 tracks, at most 4."""
    return min(MAX_ARTISTS, max(2, tracks_per_genre // 5))


def _pick(options, u: float):
    """Choose from ``options`` with a uniform draw ``u`` in [0, 1): drawing ``u`` whatever the
    number of options keeps later draws (and so the other tracks) unchanged by a recipe edit."""
    return options[min(len(options) - 1, int(u * len(options)))]


def _choose_part(layer: str, lender: str, u: np.ndarray, level_db: float) -> _Part:
    recipe = STYLE_RECIPES[lender]
    patterns = getattr(recipe, layer)
    if not patterns:
        return _Part(lender, None, "", level_db)
    instrument = "kit" if layer == "drums" else _pick(recipe.instruments[layer], u[1])
    return _Part(lender, _pick(patterns, u[0]), instrument, level_db)


def _other_style(style: str, u: float) -> str:
    others = [s for s in STYLES if s != style]
    return _pick(others, u)


def _artist_palette(style: str, artist: int, s: _Settings) -> dict:
    """The sub-palette every track of one artist shares. Draws are made in a fixed order and
    number, so ``overlap`` changes only which layers are borrowed."""
    rng = np.random.default_rng([s.seed, STYLES.index(style), 0, artist])
    recipe = STYLE_RECIPES[style]
    lo, hi = recipe.tempo
    borrow, lender_u, choice_u = rng.random(), rng.random(), rng.random((4, 2))
    borrowed = int(rng.integers(4))  # the one layer this artist may take from another style
    parts = {}
    for i, layer in enumerate(LAYERS):
        lender = _other_style(style, lender_u) if i == borrowed and borrow < s.overlap else style
        parts[layer] = _choose_part(layer, lender, choice_u[i], rng.normal(0.0, 2.0))
    tuning = {}
    for voice in DRUM_VOICES:  # the artist's drum tuning: pitch and decay factors, tone offset
        jitter = rng.uniform([0.85, 0.8, -0.15], [1.15, 1.25, 0.15])
        tuning[voice] = {"pitch": jitter[0], "tau": jitter[1], "tone": jitter[2]}
    progressions = rng.permutation(len(recipe.progressions))[:2]
    return {
        "name": f"{style}_artist{artist + 1}",
        "tonic": int(rng.integers(12)),
        "mode": _pick(recipe.modes, rng.random()),
        "tempo": rng.uniform(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo)),
        "progressions": [recipe.progressions[i] for i in progressions],
        "parts": parts,
        "kit_tuning": tuning,
        "tone": rng.uniform(0.15, 0.85),
        "tightness": rng.uniform(0.002, 0.012),
        "reverb_wet": rng.uniform(*recipe.reverb),
        "highpass": rng.uniform(30, 90),
        "lowpass": rng.uniform(6000, 10000),
        "noise_kind": _pick(NOISE_KINDS, rng.random()),
        "hum_hz": _pick((50.0, 60.0), rng.random()),
    }


def _kit(lender: str, tuning: dict) -> dict[str, dict[str, float]]:
    """Drum-voice parameters: defaults, the lending style's kit, then the artist's tuning."""
    overrides = STYLE_RECIPES[lender].kit or {}
    kit = {}
    for voice, (_, defaults) in DRUM_VOICES.items():
        p = {**defaults, **overrides.get(voice, {})}
        j = tuning[voice]
        kit[voice] = {"pitch": p["pitch"] * j["pitch"], "tau": p["tau"] * j["tau"],
                      "tone": float(np.clip(p["tone"] + j["tone"], 0, 1))}
    return kit


def _recipe(style: str, index: int, s: _Settings) -> tuple[_Recipe, np.random.Generator]:
    """The track's recipe and the generator that then renders it."""
    artist = index * n_artists(s.tracks_per_genre) // s.tracks_per_genre
    pal = _artist_palette(style, artist, s)
    rng = np.random.default_rng([s.seed, STYLES.index(style), 1, index])
    lo, hi = STYLE_RECIPES[style].tempo
    tempo = float(np.clip(pal["tempo"] * (1 + 0.03 * rng.standard_normal()), lo, hi))
    borrow, lender_u, choice_u, vary = rng.random(), rng.random(), rng.random((4, 2)), rng.random(4)
    extra = int(rng.integers(4))  # the one layer this track may borrow on its own
    parts = {}
    for i, layer in enumerate(LAYERS):
        part = pal["parts"][layer]
        if i == extra and borrow < s.overlap / 2:
            part = _choose_part(layer, _other_style(style, lender_u), choice_u[i], part.level_db)
        elif vary[i] < 0.3:  # a track sometimes plays another of its lender's patterns
            alt = _choose_part(layer, part.lender, choice_u[i], part.level_db)
            part = _Part(part.lender, alt.pattern, part.instrument, part.level_db)
        parts[layer] = _Part(part.lender, part.pattern, part.instrument, part.level_db + rng.normal(0, 1))
    recipe = _Recipe(
        style=style,
        artist=pal["name"],
        tempo_bpm=round(tempo, 1),
        tonic=pal["tonic"],
        mode=pal["mode"],
        progression=_pick(pal["progressions"], rng.random()),
        parts=parts,
        tone=float(np.clip(pal["tone"] + 0.05 * rng.standard_normal(), 0, 1)),
        tightness=pal["tightness"],
        kit=_kit(parts["drums"].lender, pal["kit_tuning"]),
        reverb_wet=pal["reverb_wet"],
        highpass=pal["highpass"],
        lowpass=pal["lowpass"],
        noise_kind=pal["noise_kind"],
        hum_hz=pal["hum_hz"],
        noise_level=s.noise * rng.uniform(0.5, 1.5),
        peak_db=rng.uniform(-6.0, -3.0),
    )
    return recipe, rng


# --------------------------------------------------------------------------------------------
# Arrangement: step patterns -> note events
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _parse(pattern: str) -> tuple[tuple[int, str, int], ...]:
    """(step, symbol, length in steps) of every onset; ``-`` extends the previous onset."""
    onsets = []
    for i, ch in enumerate(pattern):
        if ch == "-" and onsets:
            step, sym, length = onsets[-1]
            onsets[-1] = (step, sym, length + 1)
        elif ch not in ".-":
            onsets.append((i, ch, 1))
    return tuple(onsets)


def _onsets(pattern: str, steps_per_beat: int, total_beats: float):
    """Yield (cycle, beat, symbol, length in beats) for the pattern tiled from beat 0."""
    cycle = len(pattern) / steps_per_beat
    for k in range(int(np.ceil(total_beats / cycle))):
        for step, sym, length in _parse(pattern):
            beat = k * cycle + step / steps_per_beat
            if beat < total_beats:
                yield k, beat, sym, length / steps_per_beat


class _Arranger:
    """Turns a recipe into timed note events (onset s, duration s, MIDI notes, velocity)."""

    def __init__(self, r: _Recipe, seconds: float, rng: np.random.Generator):
        self.r, self.rng = r, rng
        self.host = STYLE_RECIPES[r.style]
        self.beat_s = 60.0 / r.tempo_bpm
        self.total_beats = seconds / self.beat_s + self.host.meter
        phrase_beats = 4 * self.host.meter
        n_phrases = int(self.total_beats // phrase_beats) + 1
        drop = rng.random((len(LAYERS), n_phrases)) < self.host.dropout
        drop[:, 0] = False  # every layer plays in the first phrase
        drop[LAYERS.index("chords")] = False  # the harmony never drops out
        self._drop = {layer: drop[i] for i, layer in enumerate(LAYERS)}
        self._phrase_beats = phrase_beats

    def _time(self, beat: float) -> float:
        frac = beat % 1.0
        if abs(frac - 0.5) < 1e-9:  # swung eighths: the off-beat moves towards the triplet
            beat += self.host.swing / 6
        return max(0.0, beat * self.beat_s + self.r.tightness * self.rng.standard_normal())

    def _dropped(self, layer: str, beat: float) -> bool:
        return bool(self._drop[layer][int(beat // self._phrase_beats)])

    def _degree(self, beat: float) -> int:
        """Scale degree of the chord root sounding at ``beat``."""
        span = self.host.meter * self.host.bars_per_chord
        prog = self.r.progression
        return prog[int(beat // span) % len(prog)]

    def _pitch(self, idx: int, low: int, root_idx: int) -> int:
        """MIDI note of scale index ``idx`` (0 = tonic; may exceed 6 or be negative), in the
        register where scale index ``root_idx`` falls in [low, low + 12)."""
        scale = SCALES[self.r.mode]

        def raw(i: int) -> int:
            return self.r.tonic + 12 * (i // 7) + scale[i % 7]

        root = raw(root_idx)
        return raw(idx) + (root - low) % 12 + low - root

    def _chord(self, degree: int, voicing: str, low: int) -> tuple[int, ...]:
        if voicing == "power":
            root = self._pitch(degree, low, degree)
            return (root, root + 7, root + 12)
        return tuple(self._pitch(degree + i, low, degree) for i in VOICINGS[voicing])

    def _velocity(self, base: float) -> float:
        return base * self.rng.uniform(0.85, 1.0)

    def drums(self, part: _Part) -> list[tuple[float, str, float]]:
        """(onset s, voice, velocity) of every drum hit."""
        spb = STYLE_RECIPES[part.lender].steps_per_beat
        accents = {"x": 1.0, "o": 0.7, "g": 0.35}
        hits = []
        for voice, pattern in part.pattern.items():
            for _, beat, sym, _ in _onsets(pattern, spb, self.total_beats):
                if not self._dropped("drums", beat):
                    hits.append((self._time(beat), voice, self._velocity(accents[sym])))
        return hits

    def bass(self, part: _Part) -> list[tuple[float, float, tuple[int, ...], float]]:
        spb = STYLE_RECIPES[part.lender].steps_per_beat
        low = REGISTERS["bass"]
        events = []
        for _, beat, sym, length in _onsets(part.pattern, spb, self.total_beats):
            if self._dropped("bass", beat):
                continue
            degree = self._degree(beat)
            vel, dur = 0.9, length
            if sym == "c":  # a semitone below the next chord's root
                nxt = self._degree(beat + length + 1e-6)
                note = self._pitch(nxt, low, nxt) - 1
            elif sym == "g":
                note, vel, dur = self._pitch(degree, low, degree), 0.3, min(length, 0.5 / spb)
            else:
                note = self._pitch(degree + int(sym) - 1, low, degree)
            events.append((self._time(beat), dur * self.beat_s, (note,), self._velocity(vel)))
        return events

    def chords(self, part: _Part) -> list[tuple[float, float, tuple[int, ...], float]]:
        lender = STYLE_RECIPES[part.lender]
        voicing = lender.voicing
        low = REGISTERS["power" if voicing == "power" else "pad" if voicing == "sus" else "chords"]
        events, arp = [], 0
        for _, beat, sym, length in _onsets(part.pattern, lender.steps_per_beat, self.total_beats):
            if sym == "a":  # arpeggio: one chord tone per step, climbing through root..octave
                tones = self._chord(self._degree(beat), "triad", REGISTERS["arp"])
                chord, arp = ((tones + (tones[0] + 12,))[arp % 4],), arp + 1
            else:
                chord = self._chord(self._degree(beat), voicing, low)
            events.append((self._time(beat), length * self.beat_s, chord, self._velocity(0.8)))
        return events

    def lead(self, part: _Part) -> list[tuple[float, float, tuple[int, ...], float]]:
        """A two-motif melody (AABA over pattern cycles) walking the scale, snapped to a chord
        tone on every beat so it follows the harmony."""
        spb = STYLE_RECIPES[part.lender].steps_per_beat
        n_notes = len(_parse(part.pattern))
        motifs = [self._walk(n_notes), self._walk(n_notes)]
        events, i = [], 0
        for cycle, beat, _, length in _onsets(part.pattern, spb, self.total_beats):
            motif = motifs[(0, 0, 1, 0)[cycle % 4]]
            idx = motif[i % n_notes]
            i += 1
            if self._dropped("lead", beat):
                continue
            if abs(beat - round(beat)) < 1e-9:
                idx = self._snap(idx, self._degree(beat))
            note = self._pitch(idx, REGISTERS["lead"], 0)
            events.append((self._time(beat), length * self.beat_s, (note,), self._velocity(0.8)))
        return events

    def _walk(self, n: int) -> list[int]:
        steps = self.rng.choice([-3, -2, -1, -1, 0, 1, 1, 2, 3], size=n)
        start = int(self.rng.integers(0, 5))
        return list(np.clip(start + np.cumsum(steps) - steps[0], -2, 9))

    @staticmethod
    def _snap(idx: int, degree: int) -> int:
        tones = {(degree + k) % 7 for k in (0, 2, 4)}
        for d in (0, -1, 1, -2, 2):
            if (idx + d) % 7 in tones:
                return idx + d
        return idx


# --------------------------------------------------------------------------------------------
# Rendering and mixing
# --------------------------------------------------------------------------------------------


def _place(buf: np.ndarray, sound: np.ndarray, start: int, gain: float) -> None:
    end = min(len(buf), start + len(sound))
    if start < end:
        buf[start:end] += gain * sound[: end - start]


def _render_notes(events, instrument: str, tone: float, sr: int, n: int, rng) -> np.ndarray:
    fn, ring = INSTRUMENTS[instrument]
    cache: dict[tuple[tuple[int, ...], int], np.ndarray] = {}
    buf = np.zeros(n)
    for onset, dur, notes, vel in events:
        length = int(max(dur * 0.95, ring) * sr)  # 0.95: a small gap keeps repeated notes apart
        key = (notes, length)
        if key not in cache:  # a track repeats few (chord, length) pairs: render each once
            cache[key] = sum(fn(_midi_hz(m), length, sr, tone, rng) for m in notes) / np.sqrt(len(notes))
        _place(buf, cache[key], int(onset * sr), vel)
    return buf


def _render_drums(hits, kit: dict, sr: int, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """The drum bus and, for sidechain ducking, a unit impulse at every kick; shapes (n,)."""
    sounds = {}
    buf, kicks = np.zeros(n), np.zeros(n)
    for onset, voice, vel in hits:
        if voice not in sounds:
            fn, _ = DRUM_VOICES[voice]
            sounds[voice] = fn(sr, rng, **kit[voice])
        start = int(onset * sr)
        _place(buf, sounds[voice], start, vel)
        if voice in ("kick", "ckick") and start < n:
            kicks[start] = 1.0
    return buf, kicks


def _echo(x: np.ndarray, delay: int, feedback: float, repeats: int = 6) -> np.ndarray:
    y = x.copy()
    for k in range(1, repeats + 1):
        d = k * delay
        if d >= len(x):
            break
        y[d:] += feedback**k * x[:-d]
    return y


def _reverb(x: np.ndarray, sr: int, tau: float, tone: float, rng) -> np.ndarray:
    """Convolution with exponentially decaying noise (time constant ``tau`` s), unit energy.

    Computed at half the sample rate, which halves the FFT work: a reverb tail holds little
    above sr/4, and what the sample-and-hold upsampling leaves above it is then filtered out."""
    half_sr = sr / 2
    half = 0.5 * (x[0 : len(x) - 1 : 2] + x[1::2])
    m = min(len(half), int(3 * tau * half_sr))
    ir = _filter(_white(rng, m) * _decay(m, half_sr, tau), "lowpass", 3000 + 5000 * tone, half_sr)
    wet = fftconvolve(half, ir / np.sqrt(_energy(ir)))[: len(half)]
    wet = np.repeat(wet, 2)
    return _filter(np.pad(wet, (0, len(x) - len(wet))), "lowpass", 0.22 * sr, sr)


def _duck(kicks: np.ndarray, sr: int, depth: float) -> np.ndarray:
    """Gain curve that dips by ``depth`` at each kick and recovers in ~0.12 s (sidechain pump)."""
    a = np.exp(-1 / (0.12 * sr))
    return 1 - depth * np.minimum(lfilter([1.0], [1.0, -a], kicks), 1.0)


def _mix(r: _Recipe, seconds: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Render all layers, mix, master and add noise; float64 (n,) with peak 10**(peak_db/20).

    Everything is causal, so rendering straight into n samples loses nothing: notes and echoes
    running past the end are cut, as an excerpt of a longer piece would be."""
    host = STYLE_RECIPES[r.style]
    n = int(round(seconds * sr))
    arr = _Arranger(r, seconds, rng)
    buses, kicks = {}, np.zeros(n)
    for layer in LAYERS:
        part = r.parts[layer]
        if part.pattern is None:
            continue
        if layer == "drums":
            bus, kicks = _render_drums(arr.drums(part), r.kit, sr, n, rng)
        else:
            bus = _render_notes(getattr(arr, layer)(part), part.instrument, r.tone, sr, n, rng)
        if part.instrument == "dist_guitar":  # overdrive then a guitar-cabinet low-pass
            bus = _filter(np.tanh(6 * bus / max(np.max(np.abs(bus)), 1e-12)), "lowpass", 4500, sr)
        if layer in ("chords", "lead") and host.echo:
            bus = _echo(bus, int(0.75 * arr.beat_s * sr), host.echo)
        if layer in ("bass", "chords") and host.pump:
            bus = bus * _duck(kicks, sr, host.pump)
        rms = _rms(bus)
        if rms > 0:
            level_db = part.level_db + (host.levels or {}).get(layer, 0.0)
            buses[layer] = bus / rms * 10 ** (level_db / 20)
    dry = sum(buses.values(), np.zeros(n))
    # The bass stays dry: reverb on low notes muddies the mix.
    send = sum((b for layer, b in buses.items() if layer != "bass"), np.zeros(n))
    y = dry + r.reverb_wet * _reverb(send, sr, host.reverb_tau, r.tone, rng)
    y = _filter(_filter(y, "highpass", r.highpass, sr), "lowpass", r.lowpass, sr)
    y = y / max(_rms(y), 1e-12)
    if host.crush:
        step = 2.0 ** (1 - host.crush) * np.max(np.abs(y))
        y = np.round(y / step) * step
    y = y + r.noise_level * _noise(r.noise_kind, n, sr, rng, r.hum_hz)
    return y * (10 ** (r.peak_db / 20) / max(np.max(np.abs(y)), 1e-12))


def _to_pcm16(y: np.ndarray) -> np.ndarray:
    return np.clip(np.round(y * 32767.0), -32768, 32767).astype(np.int16)


def _row(r: _Recipe, track_id: str, sr: int, n: int) -> dict:
    borrowed = "; ".join(f"{layer}<-{p.lender}" for layer, p in r.parts.items() if p.lender != r.style)
    row = {
        "track_id": track_id, "genre": r.style, "artist": r.artist,
        "path": f"{r.style}/{track_id}.wav", "duration_s": n / sr, "sample_rate": sr,
        "tempo_bpm": r.tempo_bpm, "meter": f"{STYLE_RECIPES[r.style].meter}/4",
        "key": f"{NOTE_NAMES[r.tonic]} {r.mode}",
    }
    for layer, p in r.parts.items():
        row[layer] = f"{p.lender}:{p.instrument}" if p.pattern is not None else ""
    row.update(borrowed=borrowed, noise_kind=r.noise_kind if r.noise_level > 0 else "",
               injected="", duplicate_of="")
    return row


def render_track(
    style: str,
    index: int,
    *,
    tracks_per_genre: int = 20,
    seconds: float = 30.0,
    seed: int = 0,
    sample_rate: int = 22050,
    overlap: float = 0.2,
    noise: float = 0.05,
) -> tuple[np.ndarray, dict]:
    """Synthesise one ordinary (not injected) track of the corpus.

    Parameters are those of :func:`generate_corpus`; ``style`` is one of :data:`STYLES` and
    ``index`` its 0-based track number.

    Returns
    -------
    pcm : int16 array, shape (round(seconds * sample_rate),), mono
    row : its metadata.csv row (dict keyed by :data:`METADATA_COLUMNS`)
    """
    s = _validate(tracks_per_genre, seconds, seed, sample_rate, overlap, noise)
    if style not in STYLES:
        raise DemoError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}.")
    if not 0 <= index < tracks_per_genre:
        raise DemoError(
            f"index {index} is outside 0..{tracks_per_genre - 1} (tracks_per_genre={tracks_per_genre})."
        )
    recipe, rng = _recipe(style, index, s)
    pcm = _to_pcm16(_mix(recipe, s.seconds, s.sample_rate, rng))
    return pcm, _row(recipe, f"{style}.{index:05d}", s.sample_rate, len(pcm))


# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _validate(tracks_per_genre, seconds, seed, sample_rate, overlap, noise) -> _Settings:
    """Check the arguments shared by :func:`generate_corpus` and :func:`render_track`."""
    if not _is_int(tracks_per_genre) or tracks_per_genre < 2:
        raise DemoError(
            f"tracks_per_genre (--tracks-per-genre) must be an integer >= 2 so the injected "
            f"duplicates fit beside their sources; got {tracks_per_genre!r}."
        )
    if not isinstance(seconds, (int, float)) or not np.isfinite(seconds) or seconds < MIN_SECONDS:
        raise DemoError(
            f"seconds (--seconds) must be a number >= {MIN_SECONDS:g} so each clip holds a few "
            f"3 s segments; got {seconds!r}."
        )
    if not _is_int(seed) or seed < 0:
        raise DemoError(f"seed (--seed) must be a non-negative integer; got {seed!r}.")
    lo, hi = SAMPLE_RATE_RANGE
    if not _is_int(sample_rate) or not lo <= sample_rate <= hi:
        raise DemoError(
            f"sample_rate (--sample-rate) must be an integer in {lo}..{hi} Hz (22050 is GTZAN's); "
            f"got {sample_rate!r}."
        )
    if not isinstance(overlap, (int, float)) or not 0 <= overlap <= 1:
        raise DemoError(f"overlap (--overlap) is a probability and must lie in [0, 1]; got {overlap!r}.")
    if not isinstance(noise, (int, float)) or not 0 <= noise <= 1:
        raise DemoError(f"noise (--noise) is a noise-to-music RMS ratio and must lie in [0, 1]; got {noise!r}.")
    return _Settings(
        int(tracks_per_genre), float(seconds), int(seed), int(sample_rate), float(overlap), float(noise)
    )


def _write_track(out_dir: Path, style: str, index: int, s: _Settings) -> dict:
    pcm, row = render_track(
        style, index, tracks_per_genre=s.tracks_per_genre, seconds=s.seconds, seed=s.seed,
        sample_rate=s.sample_rate, overlap=s.overlap, noise=s.noise,
    )
    sf.write(out_dir / row["path"], pcm, s.sample_rate, subtype="PCM_16", format="WAV")
    return row


def _injections(tracks_per_genre: int) -> dict[str, tuple[str, float | None, float | None]]:
    """copy track id -> (source track id, gain dB, delay s); gain None for an exact copy."""
    last = tracks_per_genre - 1
    plan = {f"{copy}.{last:05d}": (f"{src}.00000", None, None) for src, copy in EXACT_DUPLICATES}
    for style, gain, delay in NEAR_DUPLICATES:
        plan[f"{style}.{last:05d}"] = (f"{style}.00000", gain, delay)
    return plan


def _inject(out_dir: Path, copy_id: str, source: dict, gain_db: float | None, delay: float | None) -> dict:
    style = copy_id.split(".")[0]
    row = {**source, "track_id": copy_id, "genre": style, "path": f"{style}/{copy_id}.wav"}
    row["duplicate_of"] = source["track_id"]
    if gain_db is None:
        shutil.copyfile(out_dir / source["path"], out_dir / row["path"])
        row["injected"] = f"exact_duplicate_of={source['track_id']}"
        return row
    pcm, sr = sf.read(out_dir / source["path"], dtype="int16")
    shift = int(round(delay * sr))
    y = np.concatenate([np.zeros(shift), pcm[: len(pcm) - shift] / 32767.0]) * 10 ** (gain_db / 20)
    sf.write(out_dir / row["path"], _to_pcm16(y), sr, subtype="PCM_16", format="WAV")
    row["injected"] = f"near_duplicate_of={source['track_id']} (gain {gain_db:+.1f} dB, shift {delay:.2f} s)"
    return row


def _check_out_dir(out_dir: Path, s: _Settings) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise DemoError(f"{out_dir}: exists and is not a folder; choose another OUT_DIR.")
    expected = {f"{style}/{style}.{i:05d}.wav" for style in STYLES for i in range(s.tracks_per_genre)}
    stale = sorted(
        p.relative_to(out_dir).as_posix()
        for style in STYLES
        for p in (out_dir / style).glob("*.wav")
        if p.relative_to(out_dir).as_posix() not in expected
    )
    if stale:
        raise DemoError(
            f"{out_dir}: holds {len(stale)} audio file(s) this corpus would not write (e.g. {stale[0]}), "
            "which a loader would pick up; choose an empty folder or delete them."
        )


def generate_corpus(
    out_dir: str | Path,
    *,
    tracks_per_genre: int = 20,
    seconds: float = 30.0,
    seed: int = 0,
    sample_rate: int = 22050,
    overlap: float = 0.2,
    noise: float = 0.05,
    jobs: int = 2,
    progress: bool = True,
) -> pd.DataFrame:
    """Write the synthetic demo corpus (not GTZAN) to ``out_dir`` and return its metadata.

    Parameters
    ----------
    out_dir : folder to write; created if missing. Files of the same corpus are overwritten;
        other ``<style>/*.wav`` files there are refused (a loader would pick them up).
    tracks_per_genre : tracks per style, >= 2 (an injected copy needs its source beside it).
    seconds : clip length in s, >= 3.
    seed : non-negative integer; the same arguments give byte-identical files.
    sample_rate : Hz, 8000..96000 (22050, as GTZAN, by default).
    overlap : in [0, 1], probability that an artist borrows one of its layers from another
        style (a track borrows one more with probability ``overlap / 2``). Default 0.2.
    noise : in [0, 1], background-noise RMS relative to the music's. Default 0.05.
    jobs : parallel worker processes (-1 = all cores; default 2). Does not change the output.
    progress : show a tqdm progress bar.

    Returns
    -------
    DataFrame with one row per track, columns :data:`METADATA_COLUMNS`, sorted by style then
    index; also written to ``out_dir/metadata.csv``.
    """
    s = _validate(tracks_per_genre, seconds, seed, sample_rate, overlap, noise)
    if not _is_int(jobs) or jobs == 0:
        raise DemoError(f"jobs (--jobs) must be a non-zero integer (-1 = all cores); got {jobs!r}.")
    out_dir = Path(out_dir)
    _check_out_dir(out_dir, s)
    for style in STYLES:
        (out_dir / style).mkdir(parents=True, exist_ok=True)

    plan = _injections(s.tracks_per_genre)
    todo = [(st, i) for st in STYLES for i in range(s.tracks_per_genre) if f"{st}.{i:05d}" not in plan]
    # Each track is seeded on its own, so the order workers finish in cannot change a byte.
    written = map_tracks(_write_track, [(out_dir, st, i, s) for st, i in todo], jobs=jobs, desc="demo corpus",
                         progress=progress)  # fmt: skip
    rows = {row["track_id"]: row for row in written}
    for copy_id, (src, gain, delay) in tqdm(plan.items(), desc="injected copies", unit="track", disable=not progress):
        rows[copy_id] = _inject(out_dir, copy_id, rows[src], gain, delay)

    meta = pd.DataFrame([rows[f"{st}.{i:05d}"] for st in STYLES for i in range(s.tracks_per_genre)],
                        columns=list(METADATA_COLUMNS))
    meta.to_csv(out_dir / "metadata.csv", index=False)
    return meta
