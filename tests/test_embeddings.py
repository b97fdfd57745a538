"""musicnn embeddings per track (cached) and the approaches built on them."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from genrelab.approaches.musicnn import MusicnnFineTune, PatchVoteSVM, patch_bags, pooled_features
from genrelab.data.manifest import manifest_frame
from genrelab.errors import DataError
from test_musicnn import needs_wheel


def _corpus(folder, seconds=(7.0, 6.2, 4.0)):
    """Tone-and-noise WAVs at 22.05 kHz and their manifest (all ``ok``), plus one broken file."""
    rows = []
    rng = np.random.default_rng(0)
    for i, length in enumerate(seconds):
        genre = ("jazz", "rock")[i % 2]
        path = folder / genre / f"{genre}.{i:05d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        t = np.arange(int(22050 * length)) / 22050
        sf.write(path, (0.3 * np.sin(2 * np.pi * (200 + 150 * i) * t) + 0.02 * rng.normal(size=t.size)).astype("float32"), 22050)
        rows.append({"track_id": path.stem, "path": f"{genre}/{path.name}", "genre": genre,
                     "md5": hashlib.md5(path.read_bytes()).hexdigest(), "status": "ok"})  # fmt: skip
    broken = folder / "rock" / "rock.00009.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage")
    rows.append({"track_id": "rock.00009", "path": "rock/rock.00009.wav", "genre": "rock", "md5": "0" * 32, "status": "ok"})
    return manifest_frame(rows)


@needs_wheel
def test_embeddings_follow_the_segments_skip_broken_files_and_are_cached(tmp_path):
    from genrelab.pretrained import musicnn
    from genrelab.pretrained.embeddings import compute_embeddings, load_embeddings
    from genrelab.pretrained.musicnn_input import SR, segment_patches

    manifest = _corpus(tmp_path / "raw")
    run = compute_embeddings(manifest, tmp_path / "raw", tmp_path / "out", cache_dir=tmp_path / "cache", progress=False)
    assert (run.n_tracks, run.computed) == (3, 3)
    assert [p.path for p in run.problems] == ["rock/rock.00009.wav"] and "left out of the embeddings" in run.problems[0].line()
    X, index = load_embeddings(tmp_path / "out", "MSD_musicnn", "max_pool")
    # jazz.00000 (7 s), jazz.00002 (4 s), rock.00001 (6.2 s): round(seconds / 3) segments, as the
    # spectrograms and features count them
    assert index.groupby("track_id", sort=False).size().to_dict() == {"jazz.00000": 2, "jazz.00002": 1, "rock.00001": 2}
    assert X.shape == (5, 753)
    from genrelab.data.audio import load

    y, _ = load(tmp_path / "raw" / "jazz" / "jazz.00000.wav", sr=SR)
    direct = musicnn.load_model("MSD_musicnn").predict(segment_patches(y), verbose=0)
    np.testing.assert_allclose(X[:2], direct["max_pool"], rtol=1e-5, atol=1e-5)
    patches, patch_index = load_embeddings(tmp_path / "out", "MSD_musicnn", "taggram", patches=True)
    assert patches.shape[1] == 50 and list(patch_index.columns) == ["track_id", "patch", "genre"]

    again = compute_embeddings(manifest, tmp_path / "raw", tmp_path / "out2", cache_dir=tmp_path / "cache",
                               shard_tracks=2, progress=False)  # fmt: skip
    assert again.computed == 0  # every usable track came from the cache
    assert len(list((tmp_path / "out2" / "MSD_musicnn" / "segments").glob("part-*.parquet"))) == 2  # 3 tracks, 2 a shard
    X2, index2 = load_embeddings(tmp_path / "out2", "MSD_musicnn", "max_pool")
    np.testing.assert_array_equal(X2, X)
    pd.testing.assert_frame_equal(index2, index)


@needs_wheel
def test_without_a_hop_only_the_segments_are_embedded_and_the_published_pipeline_votes_on_them(tmp_path, monkeypatch):
    from genrelab.approaches.musicnn import _published, published_label
    from genrelab.config import section
    from genrelab.pretrained.embeddings import compute_embeddings, load_embeddings

    manifest = _corpus(tmp_path / "raw", seconds=(7.0, 6.2, 6.5, 6.8))
    run = compute_embeddings(manifest, tmp_path / "raw", tmp_path / "out", hop_seconds=None,
                             cache_dir=tmp_path / "cache", progress=False)  # fmt: skip
    assert (run.n_segments, run.n_patches) == (8, 0)
    assert not (tmp_path / "out" / "MSD_musicnn" / "patches").exists()
    with pytest.raises(DataError, match="dvc repro embeddings"):
        load_embeddings(tmp_path / "out", "MSD_musicnn", "max_pool", patches=True)

    params = section("musicnn", {"published": {**section("musicnn")["published"], "hop_seconds": None}})
    assert published_label(params) == "MSD_musicnn.max_pool+pca128w_svm_rbf_vote[segments]"
    bags_seen = {}

    def fake_evaluate(bags, y, tracks, **kwargs):  # what the pipeline would be scored on
        bags_seen.update(shape=bags.shape, tracks=list(tracks["track_id"]), features=kwargs["features"])

    monkeypatch.setattr("genrelab.approaches.musicnn.evaluate", fake_evaluate)
    _published(tmp_path / "out", params, tmp_path / "models", {})
    assert bags_seen["shape"] == (4, 2, 753)  # 4 tracks, their 2 segments each
    assert bags_seen["features"]["input"] == "musicnn embedding of the segments"


def test_missing_embeddings_name_the_stage(tmp_path):
    from genrelab.pretrained.embeddings import load_embeddings

    with pytest.raises(DataError, match=r"dvc repro embeddings"):
        load_embeddings(tmp_path, "MSD_musicnn", "max_pool")


def test_patch_votes_are_the_majority_of_each_bag():
    rng = np.random.default_rng(0)
    centres = {"jazz": np.zeros(6), "rock": np.full(6, 4.0)}
    y = np.array(["jazz", "rock"] * 10, dtype=object)
    X = np.stack([centres[g] + rng.normal(size=(5, 6)) for g in y])  # 20 tracks x 5 patches x 6
    model = PatchVoteSVM(n_components=4, C=1.0).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(np.unique(proba * 5)) <= {0, 1, 2, 3, 4, 5}  # shares of 5 votes
    assert (model.predict(X) == y).mean() > 0.9
    with pytest.raises(DataError, match="n_tracks, n_patches, dim"):
        model.predict_proba(X[:, 0])


def test_patch_bags_repeat_short_tracks_and_cut_long_ones():
    index = pd.DataFrame({"track_id": ["a"] * 2 + ["b"] * 3 + ["c"] * 4, "patch": [0, 1, 0, 1, 2, 0, 1, 2, 3],
                          "genre": ["x"] * 5 + ["y"] * 4})  # fmt: skip
    X = np.arange(9, dtype=np.float32)[:, None]
    bags, tracks = patch_bags(X, index)
    assert bags.shape == (3, 3, 1) and list(tracks["track_id"]) == ["a", "b", "c"]
    np.testing.assert_array_equal(bags[:, :, 0], [[0, 1, 0], [2, 3, 4], [5, 6, 7]])


def test_pooled_features_interleave_max_and_mean():
    out = pooled_features(np.array([[1.0, 2.0]]), np.array([[10.0, 20.0]]))
    np.testing.assert_array_equal(out, [[1, 10, 2, 20]])


@needs_wheel
@pytest.mark.parametrize("trainable", ["head", "backend"])
def test_finetuning_starts_from_the_checkpoint(trainable):
    from genrelab.pretrained import musicnn

    rng = np.random.default_rng(0)
    y = np.array(["jazz", "rock", "pop"] * 12, dtype=object)
    X = (rng.normal(size=(36, 1506)) + np.repeat((y == "rock")[:, None], 1506, axis=1)).astype(np.float32)
    params = {"finetune": {"trainable": trainable, "epochs": 2, "batch_size": 8}}
    model = MusicnnFineTune(params, valid_fraction=0.25, seed=0).fit(X, y)
    assert model.predict_proba(X).shape == (36, 3) and list(model.classes_) == ["jazz", "pop", "rock"]
    assert list(model.history_["phase"]) == [trainable] * len(model.history_)
    dense = model.model_.get_layer("dense").get_weights()[0]
    pretrained = musicnn.load_model("MSD_musicnn").get_layer("dense").get_weights()[0]
    assert np.array_equal(dense, pretrained) == (trainable == "head")  # only "backend" moves it
    stats = model.model_.get_layer("penultimate").get_weights()[2]  # batch norm keeps the checkpoint's statistics
    np.testing.assert_array_equal(stats, musicnn.load_model("MSD_musicnn").get_layer("penultimate").get_weights()[2])
