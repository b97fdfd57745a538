"""The README's "Use GTZAN or your own music" steps run as written (on DVC 3), in a scratch repository."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

from conftest import BIN, ROOT, pipeline_env

SECTION = "## Use GTZAN or your own music"


def readme_steps() -> dict[int, list[str]]:
    """Step number -> the shell commands (backticked, starting with a command name) of that step."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) : text.index("\n## ", text.index(SECTION) + 1)]
    steps = re.split(r"\n(?=\d+\. )", section)[1:]
    return {
        int(step.split(".", 1)[0]): [c for c in re.findall(r"`([^`]+)`", step.replace("\n   ", " "))
                                     if c.split()[0] in {"genrelab", "dvc", "rm"}]
        for step in steps
    }  # fmt: skip


def run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = pipeline_env()
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True)


def test_readme_names_the_steps_it_is_tested_on():
    steps = readme_steps()
    assert steps[1] == ["rm -rf data/raw"]
    assert steps[2][0].startswith("genrelab validate data/raw")
    assert steps[3] == ["dvc add data/raw"]


def test_switching_data_runs_as_the_readme_says(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "data.dvc", project / "data.dvc")
    for cmd in ("git init -q", f"{BIN / 'dvc'} init -q"):
        assert run(cmd, project).returncode == 0
    (project / "data" / "raw" / "demo").mkdir(parents=True)  # the demo corpus that step 1 replaces
    steps = readme_steps()

    assert [run(cmd, project).returncode for cmd in steps[1]] == [0]
    index = {"tracks": {}}
    for genre in ("blues", "rock"):  # "copy yours there"
        path = project / "data" / "raw" / genre / f"{genre}.00000.wav"
        path.parent.mkdir(parents=True)
        sf.write(path, 0.3 * np.sin(np.arange(4 * 22050) / 10.0), 22050)
        md5 = hashlib.md5(path.read_bytes()).hexdigest()
        index["tracks"][f"{genre}.00000"] = {"audio": [f"gtzan_genre/genres/{genre}/{path.name}", md5]}
    (project / "mirdata_gtzan_genre_index.json").write_text(json.dumps(index))

    validated = run(steps[2][0], project)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.strip().endswith("2 audio files, 2 usable, in 2 genre folders; checked against "
                                             "mirdata_gtzan_genre_index.json; problems: none -> usable")

    before = yaml.safe_load((project / "data.dvc").read_text())["outs"][0]
    added = run(steps[3][0], project)
    assert added.returncode == 0, added.stdout + added.stderr
    after = yaml.safe_load((project / "data.dvc").read_text())["outs"][0]
    assert after["path"] == "data/raw" and after["nfiles"] == 2 and after["md5"] != before["md5"]
    assert not (project / "data" / "raw.dvc").exists()  # updated in place, no second pin


def test_the_readmes_dvc_metrics_sample_is_the_commands_output_on_the_committed_run():
    import pytest

    if not (BIN / "dvc").exists():
        pytest.skip("needs the project's dvc (make setup)")
    text = (ROOT / "README.md").read_text()
    sample = re.search(r"```text\n\$ dvc metrics show\n(.*?)\n```", text, re.S).group(1)
    out = subprocess.run([str(BIN / "dvc"), "metrics", "show"], cwd=ROOT, env=pipeline_env(), capture_output=True,
                         text=True, check=True).stdout.rstrip("\n")  # fmt: skip
    assert sample == out, "refresh the README's sample: dvc metrics show"
    assert max(map(len, out.splitlines())) <= 200
