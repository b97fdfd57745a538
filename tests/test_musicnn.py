"""The Keras port of the musicnn checkpoints against the original TF1 graphs of the musicnn==0.1.0 wheel."""

from __future__ import annotations

import os

import numpy as np
import pytest

from genrelab.pretrained import musicnn
from genrelab.pretrained.musicnn_input import SR, log_mel, segment_patches, sliding_patches


def _installed() -> bool:
    try:
        musicnn.checkpoint_dir("MSD_musicnn")
    except musicnn.PretrainedError:
        return False
    return True


needs_wheel = pytest.mark.skipif(not _installed(), reason="musicnn==0.1.0 is not installed (make setup installs it, --no-deps)")

# Tensors of the original graphs (tf.compat.v1 layers under name scope "model").
REFERENCE_TENSORS = {
    "musicnn": {
        "taggram": "model/Sigmoid:0",
        "max_pool": "model/Max:0",
        "mean_pool": "model/moments/Squeeze:0",
        "penultimate": "model/batch_normalization_10/batchnorm/add_1:0",
    },
    "vgg": {"taggram": "model/Sigmoid:0", "pool5": "model/max_pooling2d_4/MaxPool:0"},
}


def _audio(seconds: float = 7.0, seed: int = 0) -> np.ndarray:
    """16 kHz test audio: a rising tone with noise (covers the mel range and loud bins)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    return (0.3 * np.sin(2 * np.pi * (220 + 200 * t) * t) + 0.05 * rng.normal(size=t.size)).astype(np.float32)


def _reference(checkpoint: str, patches: np.ndarray) -> dict[str, np.ndarray]:
    """The original graph (.meta, its _output_shapes stripped) restored from the wheel and run on ``patches``."""
    import tensorflow as tf
    from tensorflow.core.protobuf import meta_graph_pb2

    folder = musicnn.checkpoint_dir(checkpoint)
    meta = meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString((folder / ".meta").read_bytes())
    for node in meta.graph_def.node:
        node.attr.pop("_output_shapes", None)
        if "seed2" in node.attr:  # the dropout ops: seeded, so the graph runs where TF op determinism is on
            node.attr["seed"].i, node.attr["seed2"].i = 1, 1
    graph = tf.Graph()
    with graph.as_default():
        saver = tf.compat.v1.train.import_meta_graph(meta, clear_devices=True)
        with tf.compat.v1.Session(graph=graph) as session:
            saver.restore(session, str(folder) + os.sep)
            fetch = REFERENCE_TENSORS[musicnn.architecture(checkpoint)]
            out = session.run(fetch, {"model/Placeholder:0": patches, "model/Placeholder_2:0": False})
    return {name: value.reshape(len(patches), -1) for name, value in out.items()}


@needs_wheel
@pytest.mark.parametrize("checkpoint", musicnn.CHECKPOINTS)
def test_the_port_matches_the_original_graph(checkpoint):
    patches = sliding_patches(_audio(), hop_seconds=1.0)
    assert patches.shape == (5, 187, 96)
    expected = _reference(checkpoint, patches)
    got = musicnn.load_model(checkpoint).predict(patches, verbose=0)
    assert set(expected) == {"taggram", *musicnn.EMBEDDING_LAYERS[musicnn.architecture(checkpoint)]}
    for name, value in expected.items():
        scale = float(np.abs(value).max())
        assert scale > 0.1, name  # a live layer, not a constant
        # float32 convolutions in another order: differences of a few 1e-6 of the layer's scale.
        np.testing.assert_allclose(got[name], value, rtol=0, atol=1e-5 * max(1.0, scale), err_msg=f"{checkpoint} {name}")
        assert len({row.tobytes() for row in got[name]}) == len(patches)  # each patch its own output


def test_missing_wheel_names_the_fix(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(musicnn.PretrainedError, match=r"pip install --no-deps musicnn==0\.1\.0"):
        musicnn.checkpoint_dir("MTT_musicnn")
    with pytest.raises(musicnn.PretrainedError, match="unknown musicnn checkpoint 'MTT_big'"):
        musicnn.checkpoint_dir("MTT_big")


def test_input_is_finite_log_mel_in_float32():
    loud = _audio() * 30  # bins far beyond float16's range once multiplied by 10000
    rep = log_mel(loud)
    assert rep.dtype == np.float32 and rep.shape == (1 + len(loud) // 256, 96)
    # 10000 x above 65504 (float16's largest) in the loudest bins: the original's float16 cast gives inf there.
    assert np.isfinite(rep).all() and rep.max() > np.log10(65504 + 1)


def test_segment_patches_follow_the_study_segments():
    y = _audio(seconds=10.0)
    patches = segment_patches(y, segment_seconds=3.0)
    assert patches.shape == (3, 187, 96)  # round(10 / 3) segments
    np.testing.assert_array_equal(patches[1], log_mel(y[48000 : 2 * 48000 - 1])[:187])
    short = segment_patches(_audio(seconds=2.0), segment_seconds=3.0)  # one segment, padded to 187 frames
    assert short.shape == (1, 187, 96) and np.isfinite(short).all()


def test_tag_scores_average_the_patches():
    taggram = np.zeros((2, 50))
    taggram[:, 1] = [0.9, 0.7]  # "classical" in MTT
    taggram[0, 0] = 0.6
    assert musicnn.tag_scores(taggram, "MTT_musicnn", top=2) == [("classical", pytest.approx(0.8)), ("guitar", pytest.approx(0.3))]


@needs_wheel
@pytest.mark.shared_data
def test_tags_hear_classical_in_gtzan_classical_clips(shared_data, capsys):
    import json

    from genrelab.cli import main

    clips = sorted((shared_data / "gtzan-mini" / "classical").glob("*.wav"))
    assert len(clips) == 10
    assert main(["tags", *map(str, clips), "--top", "3", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in results] == list(map(str, clips)) and all(r["patches"] == 10 for r in results)
    hits = sum("classical" in [t["tag"] for t in r["tags"]] for r in results)
    assert hits >= 8, results  # "most classical clips"; the port gives 10 of 10


@needs_wheel
def test_tags_report_a_bad_file_and_tag_the_rest(tmp_path, capsys):
    import soundfile as sf

    from genrelab.cli import main

    good, bad, short = tmp_path / "tone.wav", tmp_path / "broken.wav", tmp_path / "short.wav"
    sf.write(good, _audio(seconds=6.5), SR)
    sf.write(short, _audio(seconds=2.0), SR)
    bad.write_bytes(b"RIFF0000WAVEnot audio")
    assert main(["tags", str(good), str(bad), str(short), "--top", "2"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"{good}: ") and out.count(",") == 1  # two tags
    assert f"error: {bad}:" in err and f"{short}: shorter than one 3 s patch" in err
    assert "2 of 3 file(s) could not be tagged" in err
    assert main(["tags", str(bad)]) == 2
