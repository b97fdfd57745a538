"""Duplicate detection on small generated clips, and on the real gtzan-mini clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from genrelab.data import dedup
from genrelab.errors import DataError

SR = 22050
SECONDS = 8.0
# A pentatonic scale (Hz): every generated song uses the same "instruments" on these notes.
SCALE = 220.0 * 2 ** (np.array([0, 2, 4, 7, 9, 12, 14, 16]) / 12)


def _song(seed: int, seconds: float = SECONDS) -> np.ndarray:
    """A melody of decaying harmonic tones over a pattern of noise-burst "drums", float32 (n,).

    Every seed uses the same two instruments; the seed picks the notes, their lengths and the
    drum pattern, so two songs sound alike in timbre but differ in what they play.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    y = np.zeros(n)
    start = 0
    while start < n:
        length = int(rng.choice([0.25, 0.5, 0.75]) * SR)
        t = np.arange(min(length, n - start)) / SR
        f0 = rng.choice(SCALE)
        tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in (1, 2, 3))
        y[start : start + len(t)] += 0.3 * tone * np.exp(-4 * t)
        start += length
    step = int(0.125 * SR)
    for onset in np.flatnonzero(rng.random(n // step) < 0.4) * step:
        decay = np.exp(-np.arange(min(step, n - onset)) / (0.02 * SR))
        y[onset : onset + len(decay)] += 0.2 * rng.standard_normal(len(decay)) * decay
    return (0.8 * y / np.abs(y).max()).astype(np.float32)


def _write(root: Path, track_id: str, y: np.ndarray, ext: str = "wav") -> str:
    rel = f"{track_id.split('.')[0]}/{track_id}.{ext}"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    # Quantise here: libsndfile rounds floats differently for WAV and FLAC, and the exact-duplicate
    # test needs the same PCM in both containers.
    sf.write(root / rel, np.round(np.clip(y, -1, 1) * 32767).astype(np.int16), SR, subtype="PCM_16")
    return rel


def _manifest(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """rows of (track_id, path, status); genre from the id."""
    return pd.DataFrame(
        [(t, p, t.split(".")[0], s) for t, p, s in rows], columns=["track_id", "path", "genre", "status"]
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three kinds of duplicate among distinct songs; returns (manifest, pairs found)."""
    root = tmp_path_factory.mktemp("dedup")
    rng = np.random.default_rng(0)
    source = _song(3, SECONDS + 0.2)
    late = source[: int(SECONDS * SR)]  # the same recording cut 0.2 s earlier: its audio runs late
    late = late + rng.normal(0, 10 ** (-30 / 20) * np.sqrt(np.mean(late**2)), late.shape)  # 30 dB SNR
    rows = [
        ("blues.00000", _write(root, "blues.00000", _song(1)), "ok"),
        ("rock.00007", _write(root, "rock.00007", _song(1), ext="flac"), "ok"),  # same PCM, other container
        ("blues.00001", _write(root, "blues.00001", _song(2)), "ok"),
        ("blues.00002", _write(root, "blues.00002", _song(2) * 10 ** (-6 / 20)), "ok"),  # -6 dB
        ("blues.00003", _write(root, "blues.00003", source[int(0.2 * SR) :]), "ok"),
        ("jazz.00004", _write(root, "jazz.00004", late.astype(np.float32)), "ok"),
        ("country.00005", _write(root, "country.00005", _song(4)), "ok"),
        ("country.00006", _write(root, "country.00006", _song(5)), "ok"),
        ("pop.00008", _write(root, "pop.00008", _song(1)), "excluded"),  # a copy, but not examined
    ]
    manifest = _manifest(rows)
    return manifest, dedup.find_duplicates(manifest, root, progress=False)


def _pair(pairs: pd.DataFrame, a: str, b: str) -> pd.Series:
    match = pairs[(pairs["track_a"] == a) & (pairs["track_b"] == b)]
    assert len(match) == 1, f"pair ({a}, {b}) not found once in\n{pairs}"
    return match.iloc[0]


def test_finds_exactly_the_duplicates_sorted(corpus):
    _, pairs = corpus
    assert list(pairs.columns) == dedup.PAIR_COLUMNS
    assert list(zip(pairs["track_a"], pairs["track_b"], pairs["kind"])) == [
        ("blues.00000", "rock.00007", "exact"),
        ("blues.00001", "blues.00002", "near"),
        ("blues.00003", "jazz.00004", "near"),
    ]
    # Same instruments, other notes and rhythm: far below the threshold, not merely under it.
    assert pairs.attrs["max_unflagged_similarity"] < 0.7


def test_exact_duplicate_across_containers_and_labels(corpus):
    _, pairs = corpus
    row = _pair(pairs, "blues.00000", "rock.00007")
    assert row["similarity"] == 1.0
    assert np.isnan(row["shift_seconds"]) and np.isnan(row["gain_db"])
    assert (row["genre_a"], row["genre_b"], row["cross_label"]) == ("blues", "rock", True)


def test_gain_changed_copy_is_near_with_gain_estimate(corpus):
    _, pairs = corpus
    row = _pair(pairs, "blues.00001", "blues.00002")
    assert row["similarity"] > 0.95
    assert row["gain_db"] == pytest.approx(-6.0, abs=0.5)
    assert abs(row["shift_seconds"]) < 0.02
    assert not row["cross_label"]


def test_shifted_noisy_copy_is_near_with_shift_estimate(corpus):
    _, pairs = corpus
    row = _pair(pairs, "blues.00003", "jazz.00004")
    assert row["similarity"] > 0.9
    assert row["shift_seconds"] == pytest.approx(0.2, abs=0.02)
    assert row["gain_db"] == pytest.approx(0.0, abs=0.5)
    assert row["cross_label"]


def test_excluded_rows_are_not_examined(corpus):
    _, pairs = corpus
    assert "pop.00008" not in set(pairs["track_a"]) | set(pairs["track_b"])


def test_fingerprint_ignores_gain():
    y = _song(7)
    assert np.allclose(dedup.fingerprint(y, SR).bands, dedup.fingerprint(y * 0.1, SR).bands, atol=1e-3)


def test_cross_similarity_recovers_frame_lag():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((200, 8)).astype(np.float32)
    b = np.roll(a, 5, axis=0)  # b is a, 5 frames later
    sim, lag = dedup.cross_similarity([a, b, rng.standard_normal((150, 8))], max_lag=10)
    assert sim[0, 1] == pytest.approx(1.0, abs=1e-5) and sim[1, 0] == sim[0, 1]
    assert (lag[0, 1], lag[1, 0]) == (5, -5)
    assert sim[0, 2] < 0.5
    assert dedup.pair_similarity(a, b, 5) == pytest.approx(sim[0, 1], abs=1e-5)


def test_no_ok_tracks_gives_empty_table(tmp_path):
    manifest = _manifest([("blues.00000", "missing.wav", "excluded")])
    pairs = dedup.find_duplicates(manifest, tmp_path, progress=False)
    assert pairs.empty and list(pairs.columns) == dedup.PAIR_COLUMNS


def test_manifest_without_status_is_an_error(tmp_path):
    with pytest.raises(DataError, match="status"):
        dedup.find_duplicates(pd.DataFrame({"track_id": [], "path": [], "genre": []}), tmp_path)


def test_duplicate_groups_are_components_named_by_smallest_id():
    pairs = pd.DataFrame(
        {"track_a": ["rock.00001", "b.2", "a.9"], "track_b": ["rock.00002", "rock.00002", "b.2"]}
    )
    groups = dedup.duplicate_groups(pairs, ["rock.00002", "rock.00001", "b.2", "a.9", "c.1"])
    assert groups.to_dict() == {
        "rock.00002": "a.9", "rock.00001": "a.9", "b.2": "a.9", "a.9": "a.9", "c.1": "c.1",
    }  # fmt: skip
    assert list(groups.index) == ["rock.00002", "rock.00001", "b.2", "a.9", "c.1"]
    assert groups.name == "dup_group"


def test_duplicate_groups_rejects_unknown_track():
    pairs = pd.DataFrame({"track_a": ["a.1"], "track_b": ["z.9"]})
    with pytest.raises(DataError, match="z.9"):
        dedup.duplicate_groups(pairs, ["a.1"])


@pytest.mark.shared_data
def test_gtzan_mini_has_no_duplicates_but_finds_a_planted_copy(shared_data, tmp_path):
    """The 100 real clips (10 per genre, 10 John Lee Hooker blues clips among them) hold no
    duplicates; a copy of one of them, cut 0.5 s later at -3 dB with 30 dB SNR noise, is found."""
    mini = shared_data / "gtzan-mini"
    files = sorted(mini.glob("*/*.wav"))
    assert len(files) == 100
    y, sr = sf.read(files[0], dtype="float32")
    copy = y[int(0.5 * sr) :] * 10 ** (-3 / 20)
    copy = copy + np.random.default_rng(0).normal(0, 10 ** (-30 / 20) * np.sqrt(np.mean(copy**2)), copy.shape)
    sf.write(tmp_path / "copy.00000.wav", copy.astype(np.float32), sr, subtype="PCM_16")
    # The data root is / so that real clips stay where they are and the copy sits in tmp_path.
    rows = [(f.stem, str(f.relative_to("/")), "ok") for f in files]
    rows.append(("copy.00000", str((tmp_path / "copy.00000.wav").relative_to("/")), "ok"))

    pairs = dedup.find_duplicates(_manifest(rows), "/", progress=False)

    found = list(zip(pairs["track_a"], pairs["track_b"], pairs["kind"]))
    assert found == [("blues.00000", "copy.00000", "near")]
    assert pairs["shift_seconds"].iloc[0] == pytest.approx(-0.5, abs=0.02)
    assert pairs["gain_db"].iloc[0] == pytest.approx(-3.0, abs=0.5)
    # Measured: 0.45 (pop.00005 / pop.00009), a wide margin below the 0.9 threshold.
    assert pairs.attrs["max_unflagged_similarity"] < 0.6
