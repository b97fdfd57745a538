"""What an edit reruns: the stages that list a file (or a folder above it) as a dep, and every stage
that reads their outputs. Read from dvc.yaml, so a stage's deps that grew past its imports show up
here; ``tests/test_pipeline.py`` checks the same with ``dvc status`` on the built tiny study.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
MODEL_STAGES_WITHOUT_MUSICNN = {"prepare", "features", "audio_models", "spectrograms", "image_models", "cnn",
                                "quality_data", "quality_models"}  # fmt: skip


def _paths(entries: list) -> list[str]:
    return [next(iter(e)) if isinstance(e, dict) else e for e in entries or []]


def _covers(dep: str, path: str) -> bool:
    return path == dep or path.startswith(dep.rstrip("/") + "/")


def downstream(stages: set[str]) -> set[str]:
    """``stages`` and every stage that reads an output of one of them, transitively."""
    found, todo = set(stages), list(stages)
    while todo:
        stage = STAGES[todo.pop()]
        outs = _paths(stage.get("outs")) + _paths(stage.get("metrics")) + _paths(stage.get("plots"))
        for name, stage in STAGES.items():
            if name not in found and any(_covers(o, d) or _covers(d, o) for o in outs for d in _paths(stage.get("deps"))):
                found.add(name)
                todo.append(name)
    return found


def stale_after_editing(path: str) -> set[str]:
    return downstream({name for name, stage in STAGES.items() if any(_covers(d, path) for d in _paths(stage.get("deps")))})


def test_the_musicnn_port_reruns_only_what_runs_or_loads_it():
    stale = stale_after_editing("src/genrelab/pretrained/musicnn.py")
    assert {"embeddings", "musicnn"} <= stale <= downstream({"embeddings", "musicnn", "export", "recommend"})
    assert not stale & MODEL_STAGES_WITHOUT_MUSICNN


def test_the_quality_command_reruns_only_the_quality_study_and_the_book():
    stale = stale_after_editing("src/genrelab/quality/check.py")
    assert stale <= {"quality_data", "quality_models", "book"} and "quality_models" in stale


def test_downstream_follows_outputs_to_the_book():
    assert downstream({"prepare"}) == set(STAGES) - {"external", "quality_data", "quality_models"}
    assert downstream({"quality_data"}) == {"quality_data", "quality_models", "book"}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_a_stage_that_reads_a_third_party_file_depends_on_its_content(name):
    """``data.<key>`` in a stage's params names a file outside the repository: its fingerprint
    (genrelab.data.external) must be a dep too, or editing the file reruns nothing."""
    from genrelab.data.external import EXTERNAL_KEYS

    params = {p for p in STAGES[name].get("params", []) if isinstance(p, str)}
    needed = {f"data/external/{k}.json" for k in EXTERNAL_KEYS if f"data.{k}" in params or "data" in params}
    if name == "external":
        assert set(_paths(STAGES[name]["outs"])) == needed
    else:
        assert needed <= set(_paths(STAGES[name].get("deps")))


def test_a_fingerprint_changes_with_the_content_and_only_then(tmp_path):
    from genrelab.data.external import write_fingerprints

    splits = tmp_path / "splits"
    splits.mkdir()
    (splits / "test_filtered.txt").write_text("blues/blues.00000.wav\n")
    table = tmp_path / "table.csv"
    table.write_text("filename,label\n")
    data = {"gtzan_splits": str(splits), "public_features_30s": str(table), "gtzan_index": str(tmp_path / "gone.json")}
    out = tmp_path / "external"
    present = write_fingerprints(data, out)
    assert present == {"gtzan_index": False, "gtzan_artists": False, "gtzan_splits": True, "fma_metadata": False,
                       "public_features_30s": True, "public_features_3s": False}  # fmt: skip
    before = {p.name: (p.read_text(), p.stat().st_mtime_ns) for p in out.iterdir()}
    digest = hashlib.md5(b"blues/blues.00000.wav\n").hexdigest()
    assert json.loads(before["gtzan_splits.json"][0])["md5"] == {"test_filtered.txt": digest}
    write_fingerprints(data, out)
    assert {p.name: (p.read_text(), p.stat().st_mtime_ns) for p in out.iterdir()} == before  # nothing rewritten
    (splits / "test_filtered.txt").write_text("blues/blues.00001.wav\n")
    write_fingerprints(data, out)
    after = {p.name: p.read_text() for p in out.iterdir()}
    assert [n for n in sorted(after) if after[n] != before[n][0]] == ["gtzan_splits.json"]


def test_the_shared_files_are_fingerprinted_by_content(shared_data):
    from genrelab.data.external import fingerprint

    found = fingerprint(str(shared_data / "gtzan-splits"))
    assert found["present"] and {"train_filtered.txt", "valid_filtered.txt", "test_filtered.txt"} <= set(found["md5"])
    assert all(len(h) == 32 for h in found["md5"].values())
    assert not fingerprint(str(Path(shared_data) / "no-such-file.csv"))["present"]
