"""Signal building blocks of the demo corpus: oscillators, envelopes, filters, the instruments, the
drum voices and background noises. Signals are float64, shape (n,), at sample rate ``sr`` (Hz)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import butter, sosfilt

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
