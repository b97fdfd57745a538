from pathlib import Path

import pytest
import yaml

from genrelab.data import datacheck

ROOT = Path(__file__).resolve().parents[1]
TINY = {"tracks_per_genre": 2, "seconds": 3.0, "seed": 1, "sample_rate": 8000}


def test_pin_roundtrip_and_detects_a_changed_generator(tmp_path, monkeypatch):
    pin_file = tmp_path / "data.dvc"
    pin = datacheck.write_pin(pin_file, TINY)
    assert pin["meta"]["demo"] == TINY and pin["outs"][0]["md5"].endswith(".dir")
    assert datacheck.check(pin_file) == []
    # A generator whose output drifts by one sample must be caught.
    real = datacheck.demo_hash

    def drifted(args):
        return {**real(args), "md5": "0" * 32 + ".dir"}

    monkeypatch.setattr(datacheck, "demo_hash", drifted)
    problems = datacheck.check(pin_file)
    assert len(problems) == 1 and "md5" in problems[0]


def test_a_real_dataset_pin_is_not_regenerated(tmp_path):
    pin_file = tmp_path / "data.dvc"
    pin_file.write_text(yaml.safe_dump({"outs": [{"md5": "abc.dir", "path": "data/raw"}]}))
    assert datacheck.check(pin_file) == []


@pytest.mark.slow
def test_the_committed_pin_matches_a_regenerated_demo_corpus():
    """CI regenerates the default demo corpus: data.dvc must not change (byte-identical output)."""
    assert datacheck.check(ROOT / "data.dvc") == []
