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


def test_every_section_is_checked_by_the_one_schema(tmp_path):
    from genrelab.config import SECTIONS

    assert list(SECTIONS) == ["data", "prepare", "features", "audio_models", "spectrograms", "image_models", "cnn",
                              "musicnn", "compare", "predict", "recommend", "serve", "parallel", "quality"]  # fmt: skip
    for text, message in [
        ("predict:\n  approach: spectrogram_hog\n", r"'predict.approach' must be one of '', 'audio_features'"),
        ("predict:\n  honesty: []\n", r"'predict.honesty' must have at least 1 item"),
        ("serve:\n  port: 0\n", r"'serve.port' must be greater than or equal to 1, got 0"),
        ("parallel:\n  backend: spark\n", r"'parallel.backend' must be one of 'loky', 'threads' or 'dask', got 'spark'"),
        ("cnn:\n  scratch:\n    epoch: 3\n", r"unknown key 'cnn.scratch.epoch'. Did you mean 'epochs'\?"),
        ("cnn:\n  transfer:\n    backbone: resnet\n", r"'cnn.transfer.backbone' must be one of 'mobilenetv2', 'efficientnetb0' or 'vgg19', got 'resnet'"),
        ("compare:\n  top: 1\n", r"'compare.top' must be greater than or equal to 2, got 1"),
        ("spectrograms:\n  ref: loud\n", r"'spectrograms.ref' must be one of 'max' or 'unit', got 'loud'"),
        ("image_models:\n  hog:\n    pixels_per_cell: [9, 0]\n", r"'image_models.hog.pixels_per_cell' \(item 1\) must be greater than or equal to 1"),
        ("features:\n  jobs: 0\n", r"'features.jobs' must be a positive number of workers, or -1 for one per core, got 0"),
        ("prepare:\n  protocols: [random_segment, leaky]\n", r"'prepare.protocols' \(item 1\) must be one of"),
        ("data:\n  source: mtg\n", r"'data.source' must be one of 'demo', 'gtzan', 'fma' or 'folder', got 'mtg'"),
        ("musicnn:\n  checkpoints: [MSD_big]\n", r"'musicnn.checkpoints' \(item 0\) must be one of 'MSD_musicnn'"),
        ("musicnn:\n  checkpoints: [MSD_vgg]\n  layers: [max_pool]\n  published: {enabled: false}\n",
         r"'musicnn.layers' names layers none of the checkpoints"),
        ("musicnn:\n  checkpoints: [MTT_musicnn]\n", r"'musicnn.published' checkpoint must be one of musicnn.checkpoints"),
        ("cnn:\n  scratch:\n    input_size: big\n", r"'cnn.scratch.input_size'"),
    ]:
        with pytest.raises(ParamsError, match=message):
            load_params(write(tmp_path, text))


def test_every_problem_is_one_line_naming_the_file(tmp_path):
    with pytest.raises(ParamsError) as err:
        load_params(write(tmp_path, "prepare:\n  seed: x\n  test_fraction: 2\ncompare:\n  alpha: 0\n"))
    lines = str(err.value).splitlines()
    assert lines[0].startswith(f"{tmp_path / 'params.yaml'}: ")
    assert len(lines) == 3 and all("' must be " in line for line in lines)


def test_section_fills_defaults_and_models_null_means_the_defaults():
    from genrelab.config import section

    images = section("image_models", {"hog": {"pixels_per_cell": 12, "models": None}})
    defaults = load_params(Path(__file__).parents[1] / "params.yaml")["image_models"]["hog"]["models"]
    assert images["hog"]["pixels_per_cell"] == [12] and images["hog"]["models"] == defaults and defaults
    assert section("cnn")["transfer"]["weights"] == "random"
    with pytest.raises(ParamsError, match="no params section 'cnnn'"):
        section("cnnn", {})


def test_the_schema_has_no_defaults_of_its_own_params_yaml_has_them_all():
    """One home for each default: no field of genrelab.schema sets a value; each comes from params.yaml."""
    import ast
    import inspect

    import yaml

    from genrelab import schema

    tree = ast.parse(inspect.getsource(schema))
    sections = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    valued = [f"{c.name}.{f.target.id}" for c in sections for f in c.body if isinstance(f, ast.AnnAssign) and f.value is not None]
    assert len(sections) > 20 and valued == []
    assert schema.Params().model_dump() == load_params(schema.DEFAULTS_FILE)
    raw = yaml.safe_load(schema.DEFAULTS_FILE.read_text())
    assert load_params(schema.DEFAULTS_FILE)["image_models"]["cv_folds"] == raw["image_models"]["cv_folds"]


def test_a_key_the_defaults_lack_is_an_error_naming_it():
    from genrelab.config import _validate
    from genrelab.schema import Section, _set_defaults

    class Tiny(Section):
        a: int
        b: int

    _set_defaults(Tiny, {"a": 1})
    assert _validate(Tiny, {"b": 2}, "tiny", "params.yaml") == {"a": 1, "b": 2}
    with pytest.raises(ParamsError, match="'tiny.b' is missing"):
        _validate(Tiny, {}, "tiny", "params.yaml")
