"""Rendering a demo track: notes and drums into layers, effects (echo, reverb, ducking), the
mix, and the int16 quantisation (:func:`render_track`)."""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve, lfilter

from genrelab.data.demo.arrange import _Arranger
from genrelab.data.demo.recipes import _Recipe, _recipe, _validate
from genrelab.data.demo.styles import LAYERS, NOTE_NAMES, STYLE_RECIPES, STYLES, DemoError
from genrelab.data.demo.synth import DRUM_VOICES, INSTRUMENTS, _decay, _energy, _filter, _midi_hz, _noise, _rms, _white

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
