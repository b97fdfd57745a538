"""genrelab.data.datasets (layouts, validate, the manifest) and genrelab.data.gtzan_files (GTZAN metadata),
on tiny generated corpora."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from genrelab import cli
from genrelab.data import datasets, gtzan_files
from genrelab.data import manifest as manifest_module
from genrelab.data.sources.base import Metadata
from genrelab.data.sources.gtzan import GENRES, Gtzan
from genrelab.errors import DataError

SR = 22050  # the study rate, so clips get no "resampled" note; 0.6 s clips keep files at 26 kB


def tone(path, seconds=0.6, sr=SR, channels=1, freq=440.0):
    """Write a sine clip (format from the extension) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(round(seconds * sr))) / sr
    y = 0.3 * np.sin(2 * np.pi * freq * t)
    sf.write(path, np.repeat(y[:, None], channels, axis=1), sr)
    return path


def garbage(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(0).bytes(3000))
    return path


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def manifest(root, source="folder", segment_seconds=0.5, jobs=1, **metadata):
    """The manifest of ``root``; ``metadata`` (artists, index, ...) replaces the source's own when given."""
    given = Metadata(**metadata) if metadata else None
    return datasets.build_manifest(root, source, segment_seconds=segment_seconds, metadata=given, jobs=jobs,
                                   progress=False)  # fmt: skip


# ---------------------------------------------------------------------------------------- layouts


def test_folder_layout_finds_every_format_sorted_by_genre_then_id(tmp_path):
    for name in ["rock/b.wav", "rock/a.flac", "jazz/z.ogg", "jazz/y.mp3", "jazz/x.au"]:
        tone(tmp_path / name)
    corpus = datasets.find_tracks(tmp_path, "folder")
    assert [(t.genre, t.track_id, t.path) for t in corpus.tracks] == [
        ("jazz", "x", "jazz/x.au"),
        ("jazz", "y", "jazz/y.mp3"),
        ("jazz", "z", "jazz/z.ogg"),
        ("rock", "a", "rock/a.flac"),
        ("rock", "b", "rock/b.wav"),
    ]
    assert corpus.problems == ()
    table, problems = manifest(tmp_path)
    assert list(table.columns) == list(manifest_module.MANIFEST_COLUMNS)
    assert list(table["track_id"]) == ["x", "y", "z", "a", "b"]
    assert (table["status"] == "ok").all() and (table["artist"] == "").all() and problems.empty


@pytest.mark.parametrize(
    "layout, root_part, ext",
    [
        ("genres_original", "", ".wav"),  # Kaggle: ROOT/genres_original/<genre>/
        ("genres_original", "genres_original", ".wav"),  # ROOT is genres_original
        ("genres", "", ".au"),  # original tarball: ROOT/genres/<genre>/
        ("genres", "genres", ".au"),
    ],
)
def test_gtzan_layouts(tmp_path, layout, root_part, ext):
    for genre in ["blues", "metal"]:
        for k in range(2):
            tone(tmp_path / layout / genre / f"{genre}.{k:05d}{ext}")
    (tmp_path / "features_30_sec.csv").write_text("not part of the audio corpus\n")
    root = tmp_path / root_part
    corpus = datasets.find_tracks(root, "gtzan")
    assert [t.track_id for t in corpus.tracks] == ["blues.00000", "blues.00001", "metal.00000", "metal.00001"]
    prefix = "" if root_part else f"{layout}/"
    assert corpus.tracks[0].path == f"{prefix}blues/blues.00000{ext}"
    assert corpus.problems == ()
    assert (root / corpus.tracks[0].path).is_file()


def test_gtzan_root_without_genre_folders_is_refused(tmp_path):
    tone(tmp_path / "songs" / "a.wav")
    with pytest.raises(DataError, match="no GTZAN genre folders found.*genres_original"):
        datasets.find_tracks(tmp_path, "gtzan")


def test_unknown_source_and_missing_root_are_refused(tmp_path):
    with pytest.raises(DataError, match="data.source must be one of demo, gtzan, fma, folder; got 'kaggle'"):
        datasets.find_tracks(tmp_path, "kaggle")
    with pytest.raises(DataError, match="nowhere: no such folder"):
        datasets.find_tracks(tmp_path / "nowhere", "folder")


def test_demo_layout_takes_artists_from_metadata_and_reports_listed_but_absent_files(tmp_path):
    for name in ["drone/drone.00000.wav", "drone/drone.00001.wav", "pulse/pulse.00000.wav", "pulse/pulse.00002.wav"]:
        tone(tmp_path / name)
    pd.DataFrame(
        {
            "track_id": ["drone.00000", "drone.00001", "pulse.00000", "pulse.00001"],
            "genre": ["drone", "drone", "pulse", "pulse"],
            "artist": ["a1", "a2", "a3", "a3"],
            "injected": ["", "", "", ""],
        }
    ).to_csv(tmp_path / "metadata.csv", index=False)
    table, problems = manifest(tmp_path, "demo")
    assert dict(zip(table["track_id"], table["artist"])) == {
        "drone.00000": "a1", "drone.00001": "a2", "pulse.00000": "a3", "pulse.00002": "",
    }  # fmt: skip
    assert table.set_index("track_id").loc["pulse.00002", "notes"] == "artist unknown (not in metadata.csv)"
    assert problems[["path", "kind"]].values.tolist() == [["pulse/pulse.00001.wav", "missing"]]


def test_demo_without_metadata_is_refused(tmp_path):
    tone(tmp_path / "drone" / "drone.00000.wav")
    with pytest.raises(DataError, match="metadata.csv: not found.*genrelab demo"):
        manifest(tmp_path, "demo")


@pytest.mark.parametrize("other", ["rock/a.wav", "jazz/a.flac"])
def test_colliding_stems_are_refused_naming_both_files(tmp_path, other):
    tone(tmp_path / "jazz" / "a.wav")
    tone(tmp_path / other)
    with pytest.raises(DataError, match="two files have the track id 'a'") as err:
        datasets.find_tracks(tmp_path)
    assert "jazz/a.wav" in str(err.value) and other in str(err.value)


def test_layout_problems_are_reported_not_skipped(tmp_path):
    tone(tmp_path / "rock" / "r1.wav")
    tone(tmp_path / "jazz" / "j1.wav")
    (tmp_path / "jazz" / "notes.txt").write_text("liner notes")
    (tmp_path / "jazz" / ".DS_Store").write_bytes(b"\0\0")
    (tmp_path / "pop").mkdir()  # empty genre folder
    (tmp_path / "metal").mkdir()
    (tmp_path / "metal" / "cover.png").write_bytes(b"png")  # no audio: non-audio and empty
    tone(tmp_path / "rock" / "live" / "r2.wav")  # nested: not scanned
    tone(tmp_path / "loose.wav")  # outside any genre folder
    (tmp_path / "README.md").write_text("beside the genre folders: not part of the corpus")
    (tmp_path / ".git").mkdir()

    _, problems = manifest(tmp_path)
    assert problems[["path", "kind"]].values.tolist() == [
        ["loose.wav", "misplaced"],
        ["rock/live", "misplaced"],
        ["jazz/.DS_Store", "hidden"],
        ["jazz/notes.txt", "non_audio"],
        ["metal/cover.png", "non_audio"],
        ["metal", "empty_genre"],
        ["pop", "empty_genre"],
    ]
    assert (problems["action"] != "").all()

    report = datasets.validate(tmp_path, segment_seconds=0.5)
    notes = (tmp_path / "jazz" / "notes.txt").as_posix()
    assert f"{notes}: not an audio file (.txt) in a genre folder [ignored; audio files end in " in " ".join(report.lines)
    assert f"{(tmp_path / 'pop').as_posix()}: empty genre folder (no audio files) [no tracks from it]" in report.lines
    assert report.usable and report.counts == {"misplaced": 2, "hidden": 1, "non_audio": 2, "empty_genre": 2}
    assert report.exit_status == 0  # nothing the study would use is broken


# ------------------------------------------------------------------------------- excluded files


def test_corrupt_file_is_excluded_with_a_reason_not_a_crash(tmp_path):
    tone(tmp_path / "jazz" / "jazz.00000.wav")
    garbage(tmp_path / "jazz" / "jazz.00054.wav")
    tone(tmp_path / "rock" / "rock.00000.wav")
    table, problems = manifest(tmp_path)
    row = table.set_index("track_id").loc["jazz.00054"]
    assert row["status"] == "excluded"
    assert row["reason"].startswith("cannot decode audio (Format not recognised)")
    assert row["md5"] == md5(tmp_path / "jazz" / "jazz.00054.wav")
    assert np.isnan(row["duration_s"]) and pd.isna(row["sample_rate"]) and pd.isna(row["channels"])
    assert problems[["path", "kind", "action"]].values.tolist() == [
        ["jazz/jazz.00054.wav", "corrupt", "excluded from the study"]
    ]
    assert (table.set_index("track_id").drop("jazz.00054")["status"] == "ok").all()

    report = datasets.validate(tmp_path, segment_seconds=0.5)
    assert report.usable and report.exit_status == 1  # a corrupt file is excluded, the folder stays usable
    assert report.lines[0].startswith(f"{(tmp_path / 'jazz' / 'jazz.00054.wav').as_posix()}: cannot decode audio")
    assert report.lines[0].endswith("[excluded from the study]")
    assert report.summary().endswith(
        "3 audio files, 2 usable, in 2 genre folders; problems: 1 corrupt -> usable; 1 file(s) excluded"
    )


def test_too_short_clip_is_excluded_naming_its_duration(tmp_path):
    tone(tmp_path / "a" / "long.wav", seconds=3.0)
    tone(tmp_path / "a" / "short.wav", seconds=2.4)
    table, problems = manifest(tmp_path, segment_seconds=3.0)
    status = table.set_index("track_id")
    assert status.loc["long", "status"] == "ok" and status.loc["long", "duration_s"] == pytest.approx(3.0)
    assert status.loc["short", "status"] == "excluded"
    assert status.loc["short", "reason"] == "too short: 2.40 s, less than one 3 s segment. Use a recording of at least 3 s."
    assert problems[["path", "kind"]].values.tolist() == [["a/short.wav", "too_short"]]


def test_stereo_44k_is_kept_with_load_notes(tmp_path):
    tone(tmp_path / "a" / "hifi.flac", sr=44100, channels=2)
    tone(tmp_path / "b" / "plain.wav", sr=22050)
    table, _ = manifest(tmp_path)
    hifi, plain = table.to_dict("records")
    assert (hifi["status"], hifi["sample_rate"], hifi["channels"]) == ("ok", 44100, 2)
    assert hifi["notes"] == "resampled from 44100 Hz to 22050 Hz on load; downmixed from 2 channels on load"
    assert plain["notes"] == "" and plain["reason"] == ""


def test_truncated_mp3_is_kept_with_its_decoded_duration(tmp_path):
    path = tone(tmp_path / "a" / "cut.mp3", seconds=4.0, sr=22050)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    table, problems = manifest(tmp_path)
    row = table.iloc[0]
    assert row["status"] == "ok" and 1.5 < row["duration_s"] < 2.5
    assert row["notes"].startswith("truncated: the header declares 4.00 s, the file holds ")
    assert problems["kind"].tolist() == ["truncated"]


def test_manifest_is_deterministic_and_parallel_reading_matches(tmp_path):
    for genre in ["b", "a"]:
        for k in [3, 1, 2]:
            tone(tmp_path / genre / f"{genre}{k}.wav", freq=200.0 + 50 * k)
    serial, _ = manifest(tmp_path)
    parallel, _ = manifest(tmp_path, jobs=2)
    pd.testing.assert_frame_equal(serial, parallel)
    assert list(serial["track_id"]) == ["a1", "a2", "a3", "b1", "b2", "b3"]
    assert serial["md5"].tolist() == [md5(tmp_path / p) for p in serial["path"]]


def test_read_manifest_round_trips_text_ids_and_empty_artists(tmp_path):
    tone(tmp_path / "data" / "hiphop" / "000002.wav")
    garbage(tmp_path / "data" / "hiphop" / "000010.wav")
    table, _ = manifest(tmp_path / "data")
    table.to_csv(tmp_path / "manifest.csv", index=False)
    back = manifest_module.read_manifest(tmp_path / "manifest.csv")
    pd.testing.assert_frame_equal(back, table)
    assert back["track_id"].tolist() == ["000002", "000010"] and back["artist"].tolist() == ["", ""]

    table.drop(columns="notes").to_csv(tmp_path / "old.csv", index=False)
    with pytest.raises(DataError, match="old.csv: columns .* differ"):
        manifest_module.read_manifest(tmp_path / "old.csv")


# ------------------------------------------------------------------------------------ md5 index


def write_index(path, entries):
    """entries: {track_id: (relpath, md5)} -> a mirdata-style index file."""
    tracks = {tid: {"audio": list(pair), "beats": [f"{tid}.beats", "0" * 32]} for tid, pair in entries.items()}
    path.write_text(json.dumps({"version": "1.0", "tracks": tracks}))
    return path


@pytest.fixture
def indexed_corpus(tmp_path):
    """Kaggle-style corpus: one good, one altered, one extra file; the index also lists a missing one."""
    root = tmp_path / "gtzan"
    good = tone(root / "genres_original" / "blues" / "blues.00000.wav")
    altered = tone(root / "genres_original" / "metal" / "metal.00000.wav", freq=300.0)
    tone(root / "genres_original" / "metal" / "metal.00099.wav", freq=500.0)
    index = write_index(
        tmp_path / "index.json",
        {
            "blues.00000": ("gtzan_genre/genres/blues/blues.00000.wav", md5(good)),
            "blues.00001": ("gtzan_genre/genres/blues/blues.00001.wav", "a" * 32),
            "metal.00000": ("gtzan_genre/genres/metal/metal.00000.wav", "b" * 32),
        },
    )
    return root, index, md5(altered)


def test_validate_against_md5_index_reports_missing_extra_and_mismatch(indexed_corpus):
    root, index, altered_md5 = indexed_corpus
    report = datasets.validate(root, index=index, segment_seconds=0.5)
    audio_dir = (root / "genres_original").as_posix()
    assert report.lines == [
        f"{audio_dir}/metal/metal.00099.wav: extra: not in index.json [kept; its bytes are not verified]",
        f"{audio_dir}/blues/blues.00001.wav: missing (listed in index.json) [not in the study]",
        f"{audio_dir}/metal/metal.00000.wav: checksum mismatch: md5 {altered_md5}, index.json says {'b' * 32} "
        "(not the original bytes) [excluded from the study]",
    ]
    assert report.counts == {"extra": 1, "missing": 1, "checksum": 1}
    assert report.usable and report.exit_status == 1
    assert report.summary() == (
        f"{root}: 3 audio files, 2 usable, in 2 genre folders; checked against index.json; "
        "problems: 1 extra, 1 missing, 1 checksum mismatch -> usable; 1 file(s) excluded"
    )


def test_manifest_excludes_checksum_mismatch_and_notes_extra(indexed_corpus):
    root, index, _ = indexed_corpus
    table, problems = manifest(root, "gtzan", index=index)
    rows = table.set_index("track_id")
    assert rows.loc["blues.00000", "status"] == "ok"
    assert rows.loc["blues.00000", "path"] == "genres_original/blues/blues.00000.wav"
    assert rows.loc["metal.00000", "status"] == "excluded"
    assert rows.loc["metal.00000", "reason"].startswith("checksum mismatch: md5 ")
    assert (rows.loc["metal.00099", "status"], rows.loc["metal.00099", "notes"]) == ("ok", "extra: not in index.json")
    assert problems[["path", "kind"]].values.tolist() == [
        ["genres_original/metal/metal.00099.wav", "extra"],
        ["genres_original/blues/blues.00001.wav", "missing"],
        ["genres_original/metal/metal.00000.wav", "checksum"],
    ]


def test_md5_of_another_format_is_not_compared(tmp_path):
    au = tone(tmp_path / "genres" / "blues" / "blues.00000.au")
    index = {"blues.00000": gtzan_files.IndexEntry("gtzan_genre/genres/blues/blues.00000.wav", "c" * 32)}
    table, problems = manifest(tmp_path, "gtzan", index=index)
    assert table.loc[0, "status"] == "ok" and table.loc[0, "md5"] == md5(au)
    assert problems["problem"].tolist() == ["md5 not checked: the md5 index lists a .wav file, this is .au"]


def test_only_one_readable_genre_is_not_usable_and_the_cli_says_so(tmp_path, capsys):
    tone(tmp_path / "rock" / "r.wav", seconds=3.0)
    garbage(tmp_path / "jazz" / "j.wav")
    assert not datasets.validate(tmp_path).usable
    assert cli.main(["validate", "-q", str(tmp_path)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{(tmp_path / 'jazz' / 'j.wav').as_posix()}: cannot decode audio")
    assert out[-1].endswith("problems: 1 corrupt -> NOT usable: usable audio in fewer than two genres")
    tone(tmp_path / "jazz" / "j2.wav", seconds=3.0)
    assert cli.main(["validate", "-q", str(tmp_path)]) == 1  # usable, one file excluded
    (tmp_path / "jazz" / "j.wav").unlink()
    assert cli.main(["validate", "-q", str(tmp_path)]) == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not valid JSON"),
        ('{"version": "1.0"}', 'no "tracks" mapping'),
        ('{"tracks": {"blues.00000": {"audio": ["blues.00000.wav"]}}}', "track 'blues.00000' has no valid"),
        ('{"tracks": {"blues.00000": {"audio": ["blues.00000.wav", "xyz"]}}}', "track 'blues.00000' has no valid"),
    ],
)
def test_malformed_md5_index_is_a_data_error_naming_the_file(tmp_path, text, message):
    (tmp_path / "idx.json").write_text(text)
    with pytest.raises(DataError, match=f"idx.json: {message}"):
        gtzan_files.read_md5_index(tmp_path / "idx.json")
    tone(tmp_path / "a" / "x.wav")
    with pytest.raises(DataError, match="idx.json"):
        datasets.validate(tmp_path, index=tmp_path / "idx.json")


def test_missing_index_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="nope.json: md5 index not found"):
        gtzan_files.read_md5_index(tmp_path / "nope.json")


# -------------------------------------------------------------------------- Sturm and the splits

STURM = """\
## Bob L. Sturm, 2012
## comment ::: with separators ::: inside
##
blues.00000.wav ::: John Lee Hooker ::: One Bourbon, One Scotch And One Beer
blues.00004.wav ::: John Lee Hooker ::: 
classical.00059.wav ::: :::

country.00002.wav ::: ::: I Wish I Had A Nickel
"""


def test_sturm_index_maps_track_ids_to_artists_blank_as_empty(tmp_path):
    (tmp_path / "sturm.txt").write_text(STURM)
    assert gtzan_files.read_sturm_artists(tmp_path / "sturm.txt") == {
        "blues.00000": "John Lee Hooker",
        "blues.00004": "John Lee Hooker",
        "classical.00059": "",
        "country.00002": "",
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ("blues.00000.wav John Lee Hooker\n", r"sturm.txt:1: expected 'file ::: artist ::: title'"),
        ("##\n ::: x ::: y\n", r"sturm.txt:2: expected"),
        ("a.wav ::: X ::: t\na.wav ::: Y ::: t\n", r"sturm.txt:2: a is listed twice, as 'X' and 'Y'"),
        ("## only comments\n", "sturm.txt: no entries"),
    ],
)
def test_malformed_sturm_index_names_file_and_line(tmp_path, text, message):
    (tmp_path / "sturm.txt").write_text(text)
    with pytest.raises(DataError, match=message):
        gtzan_files.read_sturm_artists(tmp_path / "sturm.txt")


def write_splits(
    folder, train="blues/blues.00029.wav\n", valid="blues/blues.00000.wav\r\n\n", test="rock/rock.00090.wav"
):
    folder.mkdir(exist_ok=True)
    for subset, text in {"train": train, "valid": valid, "test": test}.items():
        (folder / f"{subset}_filtered.txt").write_text(text)
    return folder


def test_fault_filtered_lists_map_track_ids_to_subsets(tmp_path):
    assert gtzan_files.read_fault_filtered_split(write_splits(tmp_path)) == {
        "blues.00029": "train",
        "blues.00000": "valid",
        "rock.00090": "test",
    }


def test_fault_filtered_list_errors_name_the_file(tmp_path):
    write_splits(tmp_path, test="blues/blues.00029.wav\n")
    with pytest.raises(DataError, match=r"test_filtered.txt:1: blues.00029 is also in train_filtered.txt"):
        gtzan_files.read_fault_filtered_split(tmp_path)
    write_splits(tmp_path, valid="blues.00000.wav\n")
    with pytest.raises(DataError, match=r"valid_filtered.txt:1: expected 'genre/genre.NNNNN.wav'"):
        gtzan_files.read_fault_filtered_split(tmp_path)
    write_splits(tmp_path)
    (tmp_path / "test_filtered.txt").unlink()
    with pytest.raises(DataError, match=r"test_filtered.txt: fault-filtered split list not found\. Check data"):
        gtzan_files.read_fault_filtered_split(tmp_path)


# ------------------------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def gtzan_mini(shared_data):
    meta = shared_data / "gtzan-meta"
    root = shared_data / "gtzan-mini"
    data = {"gtzan_artists": str(meta / "sturm_GTZANindex.txt"), "gtzan_index": str(meta / "mirdata_gtzan_genre_index.json")}
    return datasets.build_manifest(root, "gtzan", segment_seconds=3.0, metadata=Gtzan().metadata(root, data),
                                   progress=False)  # fmt: skip


@pytest.mark.shared_data
def test_gtzan_mini_manifest_is_clean_with_sturm_artists(gtzan_mini, shared_data):
    table, problems = gtzan_mini
    assert len(table) == 100 and (table["status"] == "ok").all()
    assert table["genre"].value_counts().to_dict() == {g: 10 for g in GENRES}
    assert (table["sample_rate"] == 22050).all() and (table["channels"] == 1).all()
    assert table["duration_s"].between(29.9, 30.7).all()
    assert (table["reason"] == "").all() and (table["notes"] == "").all()
    artists = gtzan_files.read_sturm_artists(shared_data / "gtzan-meta" / "sturm_GTZANindex.txt")
    assert table["artist"].tolist() == [artists[t] for t in table["track_id"]]
    assert table.set_index("track_id").loc["blues.00000", "artist"] == "John Lee Hooker"
    # the 900 clips the mini corpus leaves out are listed, and nothing else: every md5 matches mirdata's
    assert problems["kind"].value_counts().to_dict() == {"missing": 900}


@pytest.mark.shared_data
def test_gtzan_mini_validates_against_mirdata_index(shared_data):
    index = shared_data / "gtzan-meta" / "mirdata_gtzan_genre_index.json"
    report = datasets.validate(shared_data / "gtzan-mini", index=index)
    assert report.usable and report.counts == {"missing": 900}
    assert report.summary().endswith(
        "100 audio files, 100 usable, in 10 genre folders; checked against mirdata_gtzan_genre_index.json; "
        "problems: 900 missing -> usable"
    )
    assert report.exit_status == 0  # missing clips are reported; nothing present is broken


@pytest.mark.shared_data
def test_real_corrupt_gtzan_file_is_reported_and_excluded(shared_data, tmp_path):
    bad = shared_data / "bad-audio" / "jazz.00054.wav"
    report = datasets.validate(shared_data / "bad-audio")
    assert f"{bad.as_posix()}: cannot decode audio (Format not recognised). The file is corrupt" in (
        " ".join(report.lines)
    )
    assert report.counts == {"misplaced": 1, "corrupt": 1} and not report.usable

    (tmp_path / "jazz").mkdir()
    (tmp_path / "jazz" / "jazz.00054.wav").symlink_to(bad)
    (tmp_path / "blues").mkdir()
    (tmp_path / "blues" / "blues.00000.wav").symlink_to(shared_data / "gtzan-mini" / "blues" / "blues.00000.wav")
    index = gtzan_files.read_md5_index(shared_data / "gtzan-meta" / "mirdata_gtzan_genre_index.json")
    table, _ = manifest(tmp_path, "gtzan", index={t: index[t] for t in ("jazz.00054", "blues.00000")})
    row = table.set_index("track_id").loc["jazz.00054"]
    assert row["status"] == "excluded"
    assert row["reason"].startswith("cannot decode audio (Format not recognised)")
    assert "checksum mismatch" in row["reason"]  # the Kaggle copy is not mirdata's original either


@pytest.mark.shared_data
def test_real_gtzan_metadata_parses(shared_data):
    splits = gtzan_files.read_fault_filtered_split(shared_data / "gtzan-splits")
    assert pd.Series(splits).value_counts().to_dict() == {"train": 443, "test": 290, "valid": 197}
    index = gtzan_files.read_md5_index(shared_data / "gtzan-meta" / "mirdata_gtzan_genre_index.json")
    artists = gtzan_files.read_sturm_artists(shared_data / "gtzan-meta" / "sturm_GTZANindex.txt")
    assert len(index) == len(artists) == 1000 and set(splits) <= set(index) == set(artists)
    assert sum(a == "" for a in artists.values()) == 81
