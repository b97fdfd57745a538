from pathlib import Path

import pytest

from genrelab.config import ParamsError, load_params


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_defaults_fill_missing_keys(tmp_path):
    params = load_params(write(tmp_path, "prepare:\n  seed: 7\n"))
    assert params["prepare"]["seed"] == 7
    assert params["prepare"]["test_fraction"] == 0.25
    assert params["data"]["source"] == "demo"


def test_unknown_key_names_the_key_and_suggests(tmp_path):
    with pytest.raises(ParamsError, match=r"unknown key 'prepare.test_fracton'.*test_fraction"):
        load_params(write(tmp_path, "prepare:\n  test_fracton: 0.2\n"))


def test_wrong_type_names_key_and_expected_type(tmp_path):
    with pytest.raises(ParamsError, match=r"'prepare.seed' must be an integer.*'seven'"):
        load_params(write(tmp_path, "prepare:\n  seed: seven\n"))
    with pytest.raises(ParamsError, match=r"'prepare.seed' must be an integer"):
        load_params(write(tmp_path, "prepare:\n  seed: true\n"))


def test_int_accepted_where_float_expected(tmp_path):
    params = load_params(write(tmp_path, "prepare:\n  segment_seconds: 3\n"))
    assert params["prepare"]["segment_seconds"] == 3.0 and isinstance(params["prepare"]["segment_seconds"], float)


def test_open_sections_pass_through(tmp_path):
    params = load_params(write(tmp_path, "audio_models:\n  models:\n    svm_rbf: {C: 3}\n"))
    assert params["audio_models"]["models"] == {"svm_rbf": {"C": 3}}


def test_section_and_missing_file(tmp_path):
    assert load_params(write(tmp_path, "{}\n"), section="data")["root"] == "data/raw"
    with pytest.raises(ParamsError, match="file not found"):
        load_params(tmp_path / "nope.yaml")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(write(tmp_path, "a: [\n"))


def test_project_params_file_is_valid():
    root = Path(__file__).resolve().parents[1]
    params = load_params(root / "params.yaml")
    assert params["data"]["source"] in {"demo", "gtzan", "folder"}
