"""Shared fixtures. Real data comes from GENRELAB_SHARED_DATA (default ../shared/data)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# The end-to-end profile: every stage runs for real, on a corpus and models small enough for CI.
TINY_DEMO = {"tracks_per_genre": 4, "seconds": 9.0, "seed": 0, "sample_rate": 22050}
TINY_AUDIO_MODELS = {"dummy", "logreg_l2", "random_forest", "knn"}


# `make test` runs on every core (pytest-xdist, --dist loadgroup). Each group runs on one worker, so
# a session fixture that builds a study is built once, the two studies build side by side, and two
# dvc commands never share the checkout. The hook runs first: xdist reads the markers in its own
# pytest_collection_modifyitems.
XDIST_GROUPS = {"built_project": "study", "built_fma_project": "fma_study"}
CHECKOUT_DVC_MODULES = {"test_readme", "test_readme_results", "test_results"}  # run dvc in the checkout itself


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        group = next((g for fixture, g in XDIST_GROUPS.items() if fixture in item.fixturenames), None)
        if group is None and item.module.__name__ in CHECKOUT_DVC_MODULES:
            group = "checkout_dvc"
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


def shared_data_dir() -> Path:
    return Path(os.environ.get("GENRELAB_SHARED_DATA", ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real-data folder; tests using it skip where it is absent (a user's fresh clone)."""
    path = shared_data_dir()
    if not (path / "README.md").exists():
        pytest.skip(f"real data not found at {path} (set GENRELAB_SHARED_DATA to ../shared/data)")
    return path


def pipeline_env() -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3"}


def tiny_params(params: dict) -> dict:
    """The project's params with cheap settings: the same keys, smaller numbers."""
    shared = shared_data_dir()
    for key, rel in {"gtzan_artists": "gtzan-meta/sturm_GTZANindex.txt", "gtzan_splits": "gtzan-splits",
                     "public_features_30s": "kaggle/features_30_sec.csv"}.items():
        params["data"][key] = str(shared / rel)  # absolute: the scratch project is elsewhere
    audio = params["audio_models"]
    audio["cv_folds"] = 2
    for name, spec in audio["models"].items():
        spec["enabled"] = name in TINY_AUDIO_MODELS
    audio["models"]["random_forest"]["n_estimators"] = 20
    images = params["image_models"]
    images["cv_folds"] = 1
    images["pixels"]["fit_rows"] = 200
    images["hog"]["fit_rows"] = 200
    cnn = params["cnn"]
    cnn["scratch"].update(input_size=32, filters=[8, 16], dense_units=16, epochs=1)
    cnn["transfer"].update(input_size=32, dense_units=16, frozen_epochs=1, fine_tune_epochs=0)  # test_cnn fine-tunes
    music = params["musicnn"]
    music.update(layers=["max_pool"], models={"logreg_l2": {"C": 1.0}})
    music["finetune"]["epochs"] = 1
    # 12 sources through 8 chains that reach every collision group, and 2 probes: 120 files, not 2,450
    params["quality"]["corpus"].update(
        styles=["waltz", "thrash", "ambient", "techno"], sources_per_style=3, source_seconds=6.0,
        conditions=["flac", "resample:48000>flac", "lame:cbr128", "lame:cbr192", "lame:cbr320", "lame:v2",
                    "lame:cbr128>flac", "lame:cbr128>lame:cbr320"],
        probes=["aac:128>flac", "resample:48000>lame:cbr128"], excerpt_seconds=[5.0], probe_excerpt_seconds=[2.0])
    quality = params["quality"]["models"]
    quality["cnn"].update(epochs=2, patience=1)  # a few steps prove the quality CNNs train and ship
    quality["models"]["lightgbm"]["n_estimators"] = 20
    return single_threaded(params)


def single_threaded(section):
    """``section`` with every estimator's ``n_jobs`` at 1. `make test` builds two studies side by side
    on two cores, and LightGBM's OpenMP threads spin: two oversubscribed stages took image_models
    from 16 s alone to 500 s each."""
    if isinstance(section, dict):
        return {key: 1 if key == "n_jobs" else single_threaded(value) for key, value in section.items()}
    return section


def scratch_project(tmp_path_factory, name: str) -> Path:
    """A copy of the project's tracked and new files (no tests, no benchmarks) in a fresh git repository."""
    work = tmp_path_factory.mktemp(name)
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for rel in files:
        if rel.startswith(("tests/", "benchmarks/")) or not (ROOT / rel).is_file():
            continue
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, work / rel)
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    return work


def run_in(work: Path, *commands: list[str]) -> None:
    """Run each command in ``work`` with the pipeline's environment; a failure shows its output's tail."""
    for cmd in commands:
        result = subprocess.run(cmd, cwd=work, env=pipeline_env(), capture_output=True, text=True)
        assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> Path:
    """A scratch copy of the project (tracked and new files) where `dvc repro` ran on a tiny corpus."""
    from genrelab.data.datacheck import write_pin

    work = scratch_project(tmp_path_factory, "project")
    params = yaml.safe_load((work / "params.yaml").read_text())
    (work / "params.yaml").write_text(yaml.safe_dump(tiny_params(params), sort_keys=False))
    write_pin(work / "data.dvc", TINY_DEMO)
    run_in(work, [str(BIN / "python"), "-m", "genrelab.data.datacheck", "data.dvc", "--generate", "data/raw"],
           [str(BIN / "dvc"), "repro"])  # fmt: skip
    return work


FMA_PROTOCOLS = ["random_segment", "track_grouped", "artist_grouped", "fma_official"]


@pytest.fixture(scope="session")
def built_fma_project(tmp_path_factory) -> tuple[Path, object]:
    """The whole study (`dvc repro`, book included) with ``data.source: fma`` on an FMA-shaped corpus
    (:mod:`fma_fixture`) in ``data/raw``, in the tiny profile; returns the project and the fixture."""
    from fma_fixture import write_fma_corpus

    work = scratch_project(tmp_path_factory, "fma_project")
    params = tiny_params(yaml.safe_load((work / "params.yaml").read_text()))
    params["data"].update(source="fma", root="data/raw", fma_subset="small", fma_metadata="")
    params["prepare"]["protocols"] = FMA_PROTOCOLS
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (work / "data.dvc").unlink()  # it pins the demo corpus; here data/raw is a plain dependency
    fixture = write_fma_corpus(work / "data" / "raw", tracks_per_genre=6, seconds=9.0)
    run_in(work, [str(BIN / "dvc"), "repro"])
    return work, fixture
