"""Track recipes of the demo corpus: each artist's palette, each track's choices (parts, kit,
tempo, key), drawn from seeded generators, and the checked settings of a corpus."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genrelab.data.demo.styles import (
    LAYERS,
    MAX_ARTISTS,
    MIN_SECONDS,
    NOISE_KINDS,
    SAMPLE_RATE_RANGE,
    STYLE_RECIPES,
    STYLES,
    DemoError,
)
from genrelab.data.demo.synth import DRUM_VOICES

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
