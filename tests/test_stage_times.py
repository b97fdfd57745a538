"""Stage times measured from DVC's own output (genrelab.report.stage_times) and the README's table of them."""

from __future__ import annotations

import json
import sys

from genrelab.report import readme
from genrelab.report.stage_times import run, stage_seconds

DVC_LINES = [
    (0.0, "Running stage 'prepare':"), (1.0, "> genrelab prepare"), (11.5, "Updating lock file 'dvc.lock'"),
    (11.6, ""), (11.7, "Stage 'features' didn't change, skipping"),
    (12.0, "Running stage 'cnn':"), (270.0, "Updating lock file 'dvc.lock'"),
    (271.0, "Running stage 'book':"), (280.0, "ERROR: failed to reproduce 'book'"),
]  # fmt: skip


def test_each_stage_runs_from_its_line_to_the_lock_update_and_skips_are_listed():
    seconds, skipped = stage_seconds(DVC_LINES)
    assert seconds == {"prepare": 11.5, "cnn": 258.0, "book": 9.0}  # a failed stage: until the last line
    assert skipped == ["features"]


def test_the_runner_passes_the_output_through_and_writes_the_times(tmp_path, capsys):
    script = "print(\"Running stage 'a':\"); import time; time.sleep(0.2); print('Updating lock file'); raise SystemExit(3)"
    out = tmp_path / "times.json"
    assert run([sys.executable, "-c", script], out) == 3
    assert "Running stage 'a':" in capsys.readouterr().out
    times = json.loads(out.read_text())
    assert list(times["stages"]) == ["a"] and 0.2 <= times["stages"]["a"] < 5 and times["exit_status"] == 3


def test_the_readme_table_lists_every_stage_with_its_time(tmp_path):
    (tmp_path / "results").mkdir()
    times = {"command": "dvc repro", "cores": 2, "started": "2026-12-03 15:00 UTC", "exit_status": 0,
             "total_seconds": 812.0, "stages": {"prepare": 11.5, "cnn": 258.0}, "skipped": []}  # fmt: skip
    (tmp_path / "results/stage_times.json").write_text(json.dumps(times))
    block = readme.render("stage_times", tmp_path)
    assert "**13.5 min**" in block and "2 cores" in block
    assert "| `prepare` | 12 s |" in block and "| `cnn` | 4.3 min |" in block
