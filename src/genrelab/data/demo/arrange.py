"""Arrangement of a demo track: step patterns turned into note and drum events, in the track's
meter, tempo and harmony."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from genrelab.data.demo.recipes import _Part, _Recipe
from genrelab.data.demo.styles import LAYERS, REGISTERS, SCALES, STYLE_RECIPES, VOICINGS

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
