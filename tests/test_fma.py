"""The FMA source: tracks.csv read as its authors read it, the audio layout, broken clips found by
reading, the official split as protocol fma_official, and the two real FMA MP3s."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from fma_fixture import TRACKS_COLUMNS, write_fma_corpus
from genrelab import config
from genrelab.data import datasets
from genrelab.data.dedup import duplicate_groups, find_duplicates
from genrelab.data.sources import registry
from genrelab.data.sources.fma import Fma, read_tracks
from genrelab.errors import DataError
from genrelab.evaluation.splits import make_splits


@pytest.fixture(scope="module")
def fma(tmp_path_factory):
    return write_fma_corpus(tmp_path_factory.mktemp("fma"))


def manifest_of(root: Path, **data):
    return datasets.build_manifest(root, "fma", metadata=Fma().metadata(root, data), progress=False)


def test_the_fixture_is_in_the_real_tracks_csv_format(fma):
    head = (fma.root / "fma_metadata" / "tracks.csv").read_text().splitlines()[:3]
    assert head[0].startswith(",album,album,") and head[1].startswith(",comments,date_created,")
    assert head[2].strip(",") == "track_id" and len(head[0].split(",")) == len(TRACKS_COLUMNS) + 1 == 53
    tracks = read_tracks(fma.root / "fma_metadata" / "tracks.csv")
    assert list(tracks.columns) == ["genre", "artist", "split", "subset"] and tracks.index.name == "track_id"
    assert tracks.loc["000002"].tolist() == ["Hip-Hop", "1", "training", "small"]  # id 2 -> file 000002.mp3
    assert tracks.loc[fma.no_genre, "genre"] == ""


def test_manifest_labels_tracks_from_tracks_csv_and_reads_out_the_broken_clips(fma):
    manifest, problems = manifest_of(fma.root)
    ok = manifest[manifest["status"] == "ok"]
    assert sorted(ok["track_id"]) == sorted(fma.good)
    row = manifest.set_index("track_id").loc["003016"]
    assert (row["genre"], row["artist"], row["path"]) == ("Old-Time / Historic", "33", "fma_small/003/003016.mp3")
    assert row["sample_rate"] == 44100 and row["channels"] == 2 and row["duration_s"] == pytest.approx(10, abs=0.1)
    excluded = manifest.set_index("track_id").loc[[fma.empty, fma.short], "reason"]
    assert "empty" in excluded[fma.empty] and "too short: 1.50 s" in excluded[fma.short]
    found = set(zip(problems["path"], problems["kind"]))
    for track_id, kind in ((fma.empty, "empty"), (fma.short, "too_short"), (fma.missing, "missing"),
                           (fma.unlisted, "misplaced")):  # fmt: skip
        assert (f"fma_small/009/{track_id}.mp3", kind) in found
    extra = problems[problems["kind"] == "extra"]  # the medium and the large track: one line, counted
    assert extra["problem"].tolist() == ["2 audio file(s) outside set.subset 'small' of tracks.csv"]
    assert not problems["path"].str.contains("README").any()  # FMA's files beside the NNN folders


def test_a_larger_subset_from_a_larger_folder_counts_tracks_without_a_top_genre(fma, tmp_path):
    root = tmp_path / "fma"
    shutil.copytree(fma.root / "fma_metadata", root / "fma_metadata")
    shutil.copytree(fma.root / "fma_small", root / "fma_large")  # fma_large/ holds the small tracks too
    small, _ = manifest_of(root, fma_subset="small")
    assert sorted(small.loc[small["status"] == "ok", "track_id"]) == sorted(fma.good)
    assert small["path"].str.startswith("fma_large/").all()
    meta = Fma().metadata(root, {"fma_subset": "large"})
    assert meta.genres[fma.other_subset] == "Rock" and fma.no_genre not in meta.genres
    assert meta.notes == ("1 tracks of FMA's large subset have no top genre in tracks.csv; they are not in the study.",)
    large, problems = manifest_of(root, fma_subset="large")
    assert fma.other_subset in set(large["track_id"]) and fma.no_genre not in set(large["track_id"])
    assert "1 audio file(s) no track.genre_top in tracks.csv" in problems["problem"].tolist()
    with pytest.raises(DataError, match=r"no fma_medium/ folder \(nor fma_large/, fma_full/"):
        Fma().metadata(fma.root, {"fma_subset": "medium"})


def test_fma_official_is_the_artist_aware_split_of_tracks_csv(fma):
    manifest, _ = manifest_of(fma.root)
    meta = Fma().metadata(fma.root, {})
    assert meta.split_name == "fma_official"
    splits = make_splits(manifest, None, protocols=["artist_grouped", "fma_official"],
                         official={meta.split_name: meta.official_split})  # fmt: skip
    by_id = splits.set_index("track_id")
    expected = read_tracks(fma.root / "fma_metadata" / "tracks.csv")["split"].map(
        {"training": "train", "validation": "valid", "test": "test"})
    assert by_id["fma_official"].to_dict() == expected.reindex(by_id.index).to_dict()
    for protocol in ("artist_grouped", "fma_official"):  # no artist on both sides of either
        sides = splits.assign(side=splits[protocol].replace("valid", "train")).groupby("artist")["side"].nunique()
        assert sides.max() == 1, protocol


def test_dedup_and_splits_run_on_the_fma_manifest(fma):
    manifest, _ = manifest_of(fma.root)
    pairs = find_duplicates(manifest, fma.root, progress=False)
    assert not pairs["cross_label"].any()  # renderings of one loop-based style may be near copies
    splits = make_splits(manifest, duplicate_groups(pairs, manifest["track_id"]))
    assert set(splits["genre"]) == {"Hip-Hop", "Electronic", "Rock", "Old-Time / Historic"}
    side = splits.set_index("track_id")["track_grouped"]
    assert all(side[a] == side[b] for a, b in zip(pairs["track_a"], pairs["track_b"]))


def test_bad_metadata_and_layouts_are_named_with_the_fix(tmp_path, fma):
    with pytest.raises(DataError, match=r"tracks.csv: FMA's tracks.csv not found\. Unzip fma_metadata.zip"):
        Fma().metadata(tmp_path, {})
    flat = tmp_path / "flat.csv"
    pd.DataFrame({"track_id": [2], "genre_top": ["Rock"]}).to_csv(flat, index=False)
    with pytest.raises(DataError, match=r"flat.csv: (not FMA's tracks.csv format|no column\(s\) track.genre_top)"):
        read_tracks(flat)
    (tmp_path / "fma_metadata").mkdir()
    shutil.copy(fma.root / "fma_metadata" / "tracks.csv", tmp_path / "fma_metadata")
    with pytest.raises(DataError, match=r"no fma_small/ folder .*check data.root and data.fma_subset"):
        Fma().metadata(tmp_path, {})
    assert registry.recognise(tmp_path).name == "fma"


def test_validate_recognises_an_fma_root(fma):
    report = datasets.validate(fma.root)
    assert report.usable and report.usable_files == {"": 1, "Electronic": 6, "Hip-Hop": 6, "Old-Time / Historic": 6, "Rock": 6}
    assert report.counts["empty"] == 1 and report.counts["too_short"] == 1 and report.exit_status == 1


def test_params_take_the_fma_source_and_refuse_an_unknown_subset():
    assert config.section("data", {"source": "fma", "fma_subset": "large"})["fma_subset"] == "large"
    with pytest.raises(config.ParamsError, match="data.fma_subset"):
        config.section("data", {"source": "fma", "fma_subset": "huge"})


@pytest.mark.shared_data
def test_the_real_fma_mp3s_are_read_and_the_short_one_is_found_by_reading(shared_data, tmp_path):
    for name in ("000002", "000010"):
        (tmp_path / "fma_small" / "000").mkdir(parents=True, exist_ok=True)
        shutil.copy(shared_data / "fma-samples" / f"{name}.mp3", tmp_path / "fma_small" / "000")
    rows = {2: ["Hip-Hop", 1, "training", "small"], 10: ["Pop", 6, "training", "small"]}  # FMA's own rows
    fields = [("track", "genre_top"), ("artist", "id"), ("set", "split"), ("set", "subset")]
    table = pd.DataFrame([[dict(zip(fields, v)).get(c, "") for c in TRACKS_COLUMNS] for v in rows.values()],
                         index=pd.Index(list(rows), name="track_id"), columns=pd.MultiIndex.from_tuples(TRACKS_COLUMNS))
    (tmp_path / "fma_metadata").mkdir()
    table.to_csv(tmp_path / "fma_metadata" / "tracks.csv")
    manifest, _ = manifest_of(tmp_path)
    by_id = manifest.set_index("track_id")
    assert by_id.loc["000002", "status"] == "ok" and by_id.loc["000002", "duration_s"] == pytest.approx(29.99, abs=0.05)
    assert by_id.loc["000002", "sample_rate"] == 44100 and by_id.loc["000002", "genre"] == "Hip-Hop"
    assert by_id.loc["000010", "status"] == "excluded" and "too short: 2.0" in by_id.loc["000010", "reason"]
