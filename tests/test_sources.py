"""The data-source registry: one module per source, each with its layout and metadata."""

from __future__ import annotations

import typing

import numpy as np
import pytest
import soundfile as sf

from genrelab import schema
from genrelab.data.sources import registry
from genrelab.data.sources.gtzan import Gtzan
from genrelab.errors import DataError


def test_the_registry_and_the_params_schema_name_the_same_sources():
    allowed = typing.get_args(schema.Data.model_fields["source"].annotation)
    assert tuple(registry.SOURCES) == allowed == ("demo", "gtzan", "fma", "folder")
    for name, source in registry.SOURCES.items():
        assert source.name == name and source.layout.startswith("ROOT/") and source.description
    assert [s.synthetic for s in registry.SOURCES.values()] == [True, False, False, False]


def test_unknown_source_names_the_known_ones():
    with pytest.raises(DataError, match="data.source must be one of demo, gtzan, fma, folder; got 'mtg'"):
        registry.get("mtg")


def test_a_gtzan_root_is_recognised_and_its_genre_folders_found(tmp_path):
    (tmp_path / "gtzan" / "genres_original" / "jazz").mkdir(parents=True)
    (tmp_path / "mine" / "jazz").mkdir(parents=True)
    assert registry.recognise(tmp_path / "gtzan").name == "gtzan"
    assert registry.recognise(tmp_path / "mine").name == "folder"
    assert Gtzan().audio_dir(tmp_path / "gtzan") == tmp_path / "gtzan" / "genres_original"
    assert Gtzan().audio_dir(tmp_path / "mine") == tmp_path / "mine"  # ROOT holds GTZAN genre folders itself
    (tmp_path / "other" / "techno").mkdir(parents=True)
    with pytest.raises(DataError, match="no GTZAN genre folders found"):
        Gtzan().audio_dir(tmp_path / "other")


def test_demo_metadata_come_from_its_metadata_csv(tmp_path):
    (tmp_path / "waltz").mkdir()
    sf.write(tmp_path / "waltz" / "waltz.00000.wav", np.zeros(100), 22050)
    (tmp_path / "metadata.csv").write_text("track_id,genre,artist\nwaltz.00000,waltz,Ann\nwaltz.00001,waltz,Bo\n")
    meta = registry.get("demo").metadata(tmp_path)
    assert meta.artists == {"waltz.00000": "Ann", "waltz.00001": "Bo"} and meta.artists_from == "metadata.csv"
    assert meta.listed == {"waltz.00000": "waltz/waltz.00000.wav", "waltz.00001": "waltz/waltz.00001.wav"}
    assert meta.official_split is None


@pytest.mark.shared_data
def test_gtzan_metadata_from_the_data_section(shared_data):
    data = {"gtzan_artists": str(shared_data / "gtzan-meta" / "sturm_GTZANindex.txt"),
            "gtzan_index": str(shared_data / "gtzan-meta" / "mirdata_gtzan_genre_index.json"),
            "gtzan_splits": str(shared_data / "gtzan-splits")}  # fmt: skip
    meta = Gtzan().metadata(shared_data / "gtzan-mini", data)
    assert meta.artists["blues.00000"] == "John Lee Hooker" and meta.artists_from == "sturm_GTZANindex.txt"
    assert meta.split_name == "fault_filtered" and len(meta.official_split) == 930 and meta.notes == ()
    bare = Gtzan().metadata(shared_data / "gtzan-mini", {})
    assert bare.artists is None and bare.index is None and bare.official_split is None
    assert bare.notes == ()  # a missing official split is the prepare stage's note (splits.official_notes)
