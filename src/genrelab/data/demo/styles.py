"""The demo corpus's ten invented styles: names, layers, injected faults, and each style's recipe
(:class:`StyleRecipe`: meter, tempo, modes, progressions, patterns, instruments, effects)."""

from __future__ import annotations

from dataclasses import dataclass

from genrelab.constants import DEMO_STYLES
from genrelab.errors import GenrelabError

STYLES: tuple[str, ...] = DEMO_STYLES
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
