"""The synthetic demo corpus: layout, metadata, determinism, injected duplicates, arguments, CLI."""

from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from scipy.signal import welch

from genrelab.cli import main
from genrelab.data.demo.corpus import generate_corpus
from genrelab.data.demo.recipes import n_artists
from genrelab.data.demo.render import render_track
from genrelab.data.demo.styles import (
    EXACT_DUPLICATES,
    METADATA_COLUMNS,
    NEAR_DUPLICATES,
    STYLE_RECIPES,
    STYLES,
    DemoError,
)
from genrelab.errors import GenrelabError

GTZAN_GENRES = {"blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"}
# Tiny corpus: 3 tracks per style (2 artists), 3 s at 8000 Hz.
TINY = {"tracks_per_genre": 3, "seconds": 3.0, "seed": 0, "sample_rate": 8000}
LAST = TINY["tracks_per_genre"] - 1


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    out = tmp_path_factory.mktemp("demo")
    meta = generate_corpus(out, **TINY, jobs=1, progress=False)
    return out, meta


def _pcm(root: Path, track_id: str) -> np.ndarray:
    style = track_id.split(".")[0]
    data, _ = sf.read(root / style / f"{track_id}.wav", dtype="int16")
    return data


def test_layout_and_metadata(corpus):
    root, meta = corpus
    expected = {f"{s}/{s}.{i:05d}.wav" for s in STYLES for i in range(TINY["tracks_per_genre"])}
    assert {p.relative_to(root).as_posix() for p in root.rglob("*.wav")} == expected
    on_disk = pd.read_csv(root / "metadata.csv", keep_default_na=False)
    assert list(on_disk.columns) == list(METADATA_COLUMNS)
    assert set(on_disk["path"]) == expected
    assert (on_disk["track_id"] == on_disk["path"].str.split("/").str[1].str.removesuffix(".wav")).all()
    assert (on_disk["genre"] == on_disk["track_id"].str.split(".").str[0]).all()
    assert list(on_disk["track_id"]) == list(meta["track_id"])
    assert set(meta["genre"]) == set(STYLES) and not set(STYLES) & GTZAN_GENRES


def test_artists_share_a_palette(corpus):
    _, meta = corpus
    ordinary = meta[meta["injected"] == ""]
    artists = ordinary.groupby("genre")["artist"].unique()
    assert all(a.startswith(f"{style}_") for style, names in artists.items() for a in names)
    # A copy replaces its slot's track, so only styles without one keep every artist.
    untouched = set(STYLES) - {copy.split(".")[0] for copy in meta.loc[meta["injected"] != "", "track_id"]}
    assert {len(artists[s]) for s in untouched} == {n_artists(TINY["tracks_per_genre"])}
    # An artist keeps one key and a tempo centre across its tracks.
    assert (ordinary.groupby("artist")["key"].nunique() == 1).all()
    spread = ordinary.groupby("artist")["tempo_bpm"].agg(lambda t: t.max() / t.min())
    assert (spread < 1.2).all()
    for style, rows in meta.groupby("genre"):
        lo, hi = STYLE_RECIPES[style].tempo
        assert rows["tempo_bpm"].between(lo, hi).all(), style
        assert (rows["meter"] == f"{STYLE_RECIPES[style].meter}/4").all()


def test_tracks_of_one_artist_sound_alike(corpus):
    """Artist leakage: within a style, an artist's tracks have closer spectra than other artists'."""
    root, meta = corpus
    ordinary = meta[meta["injected"] == ""]
    spectra = {}
    for row in ordinary.itertuples():
        y, sr = sf.read(root / row.path)
        spectra[row.track_id] = np.log(welch(y, sr, nperseg=512)[1] + 1e-10)
    same, other = [], []
    for _, rows in ordinary.groupby("genre"):
        for (id_a, artist_a), (id_b, artist_b) in combinations(zip(rows["track_id"], rows["artist"]), 2):
            distance = np.linalg.norm(spectra[id_a] - spectra[id_b])
            (same if artist_a == artist_b else other).append(distance)
    assert same and other
    assert np.mean(same) < 0.8 * np.mean(other)


def test_audio_format(corpus):
    root, meta = corpus
    for path in meta["path"]:
        info = sf.info(str(root / path))
        assert (info.samplerate, info.channels, info.subtype, info.format) == (TINY["sample_rate"], 1, "PCM_16", "WAV")
        assert info.frames == round(TINY["seconds"] * TINY["sample_rate"])
    pcm = _pcm(root, "waltz.00000")
    assert 1000 < np.abs(pcm).max() < 32767  # audible, not clipped


def test_same_arguments_give_identical_bytes_even_in_parallel(corpus, tmp_path):
    root, _ = corpus
    generate_corpus(tmp_path, **TINY, jobs=2, progress=False)
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for rel in files:
        assert (root / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_render_track_matches_the_file_and_the_seed_matters(corpus):
    root, _ = corpus
    pcm, row = render_track("funk", 1, **TINY)
    assert row["track_id"] == "funk.00001"
    assert np.array_equal(pcm, _pcm(root, "funk.00001"))
    other, _ = render_track("funk", 1, **{**TINY, "seed": 1})
    assert other.shape == pcm.shape and not np.array_equal(other, pcm)


def test_exact_duplicate_crosses_styles(corpus):
    root, meta = corpus
    rows = meta.set_index("track_id")
    for source_style, copy_style in EXACT_DUPLICATES:
        source, copy = f"{source_style}.00000", f"{copy_style}.{LAST:05d}"
        assert (root / rows.at[copy, "path"]).read_bytes() == (root / rows.at[source, "path"]).read_bytes()
        assert rows.at[copy, "genre"] != rows.at[source, "genre"]
        assert rows.at[copy, "injected"] == f"exact_duplicate_of={source}"
        assert rows.at[copy, "duplicate_of"] == source


def test_near_duplicates_are_shifted_and_scaled_copies(corpus):
    root, meta = corpus
    rows = meta.set_index("track_id")
    for style, gain_db, delay in NEAR_DUPLICATES:
        source, copy = f"{style}.00000", f"{style}.{LAST:05d}"
        a, b = _pcm(root, source).astype(float), _pcm(root, copy).astype(float)
        assert a.shape == b.shape and not np.array_equal(a, b)
        shift = round(delay * TINY["sample_rate"])
        assert np.all(b[:shift] == 0)
        aligned_a, aligned_b = a[: len(a) - shift], b[shift:]
        assert np.corrcoef(aligned_a, aligned_b)[0, 1] > 0.999
        ratio = np.sqrt(np.mean(aligned_b**2) / np.mean(aligned_a**2))
        assert 20 * math.log10(ratio) == pytest.approx(gain_db, abs=0.1)
        assert rows.at[copy, "injected"].startswith(f"near_duplicate_of={source} (gain ")
        assert rows.at[copy, "duplicate_of"] == source and rows.at[copy, "genre"] == style
    injected = meta[meta["injected"] != ""]
    assert len(injected) == len(EXACT_DUPLICATES) + len(NEAR_DUPLICATES)


def test_overlap_and_noise_are_honoured():
    clean_rows = [render_track(s, 0, **TINY, overlap=0.0)[1] for s in STYLES]
    assert all(row["borrowed"] == "" for row in clean_rows)
    mixed_rows = [render_track(s, 0, **TINY, overlap=1.0)[1] for s in STYLES]
    assert all(row["borrowed"] for row in mixed_rows)  # every artist borrows a layer
    quiet, row = render_track("ambient", 0, **TINY, noise=0.0)
    noisy, _ = render_track("ambient", 0, **TINY, noise=0.5)
    assert row["noise_kind"] == "" and not np.array_equal(quiet, noisy)


@pytest.mark.parametrize(
    "kwargs, names",
    [
        ({"tracks_per_genre": 1}, "tracks_per_genre"),
        ({"tracks_per_genre": 2.5}, "tracks_per_genre"),
        ({"seconds": 2.0}, "seconds"),
        ({"seconds": float("nan")}, "seconds"),
        ({"sample_rate": 1000}, "sample_rate"),
        ({"seed": -1}, "seed"),
        ({"overlap": 1.5}, "overlap"),
        ({"noise": -0.1}, "noise"),
        ({"jobs": 0}, "jobs"),
    ],
)
def test_bad_arguments_name_the_argument(tmp_path, kwargs, names):
    with pytest.raises(DemoError, match=names):
        generate_corpus(tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()  # nothing written before the arguments are checked


def test_refuses_a_folder_with_foreign_tracks(tmp_path):
    (tmp_path / "waltz").mkdir()
    (tmp_path / "waltz" / "waltz.00007.wav").write_bytes(b"")
    with pytest.raises(GenrelabError, match="waltz/waltz.00007.wav"):
        generate_corpus(tmp_path, **TINY, progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(GenrelabError, match="not a folder"):
        generate_corpus(tmp_path / "file", **TINY, progress=False)


def test_cli_demo(tmp_path, capsys):
    out = tmp_path / "corpus"
    argv = ["demo", str(out), "--tracks-per-genre", "2", "--seconds", "3", "--sample-rate", "8000", "--jobs", "1", "-q"]
    assert main(argv) == 0
    assert "wrote 20 tracks in 10 styles" in capsys.readouterr().out
    assert len(pd.read_csv(out / "metadata.csv")) == 20
    assert main(["demo", str(tmp_path / "bad"), "--tracks-per-genre", "1", "-q"]) == 2
    assert "--tracks-per-genre" in capsys.readouterr().err
