"""The bad-input matrix: every command that reads audio, on one folder of awkward and broken files.

The one rule (genrelab.data.checks): each unusable file is reported on its own line (path, problem and
fix, action), every good file is processed and written, and the exit status says 0 all good,
1 some files failed (output written for the rest), 2 nothing usable or a usage error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from genrelab import cli
from genrelab.data import checks, datasets
from genrelab.errors import AudioError
from genrelab.features import gtzan57 as features
from genrelab.features import spectrograms
from genrelab.features.gtzan57_dsp import FEATURE_COLUMNS

SR = 22050


def tone(seconds: float, sr: int = SR, channels: int = 1, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    y = level * np.sin(2 * np.pi * 440.0 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2.0 * t))
    return np.repeat(y[:, None], channels, axis=1) if channels > 1 else y


def _truncated(path: Path) -> None:
    """A WAV whose header declares 30 s, with 9.07 s of samples left: an interrupted copy."""
    sf.write(path, tone(30.0), SR, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[: 44 + int(9.07 * SR) * 2])


def _with_nan(path: Path) -> None:
    y = tone(4.0).astype(np.float32)
    y[SR] = np.nan
    sf.write(path, y, SR, subtype="FLOAT")


# path -> (how to make it, the problem kinds validate reports for it, usable by the study?)
CASES = {
    "rock/good.wav": (lambda p: sf.write(p, tone(4.0), SR), set(), True),
    "rock/empty.wav": (lambda p: p.write_bytes(b""), {"empty"}, False),
    "rock/header_only.wav": (lambda p: sf.write(p, np.zeros(0), SR), {"empty"}, False),
    "rock/truncated.wav": (_truncated, {"truncated"}, True),
    "rock/garbage.wav": (lambda p: p.write_bytes(np.random.default_rng(0).bytes(5000)), {"corrupt"}, False),
    "rock/notes.txt": (lambda p: p.write_text("liner notes"), {"non_audio"}, None),
    "rock/.DS_Store": (lambda p: p.write_bytes(b"\0\0\0\1Bud1"), {"hidden"}, None),
    "rock/short.wav": (lambda p: sf.write(p, tone(2.0), SR), {"too_short"}, False),
    "rock/silence.wav": (lambda p: sf.write(p, np.zeros(30 * SR), SR), {"silent"}, True),
    "jazz/café du monde.wav": (lambda p: sf.write(p, tone(4.0), SR), set(), True),
    "jazz/UPPER.WAV": (lambda p: sf.write(p, tone(4.0), SR), set(), True),
    "jazz/eight_bit.wav": (lambda p: sf.write(p, tone(4.0), SR, subtype="PCM_U8"), set(), True),
    "jazz/float.wav": (lambda p: sf.write(p, tone(4.0).astype(np.float32), SR, subtype="FLOAT"), set(), True),
    "jazz/nan.wav": (_with_nan, {"non_finite"}, False),
    "jazz/clipped.wav": (lambda p: sf.write(p, np.clip(tone(4.0, level=3.0), -1, 1), SR), {"clipped"}, True),
    "pop/stereo44.wav": (lambda p: sf.write(p, tone(4.0, 44100, 2), 44100), {"conversion"}, True),
    "pop/lossless.flac": (lambda p: sf.write(p, tone(4.0), SR), set(), True),
    "pop/vorbis.ogg": (lambda p: sf.write(p, tone(4.0).astype(np.float32), SR), set(), True),
    "pop/lossy.mp3": (lambda p: sf.write(p, tone(4.0).astype(np.float32), SR), set(), True),
}
USABLE = sorted(path for path, (_, _, usable) in CASES.items() if usable)
FAILING = sorted(path for path, (_, _, usable) in CASES.items() if usable is False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad-input") / "data"
    for rel, (make, _, _) in CASES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        make(root / rel)
    (root / "blues").mkdir()  # an empty genre folder
    return root


def kinds_by_path(problems, root: Path | None = None) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for p in problems:
        path = Path(p.path).relative_to(root).as_posix() if root else p.path
        found.setdefault(path, set()).add(p.kind)
    return found


def expected_kinds() -> dict[str, set[str]]:
    return {rel: kinds for rel, (_, kinds, _) in CASES.items() if kinds} | {"blues": {"empty_genre"}}


# -------------------------------------------------------------------------------------- validate


def test_validate_names_every_bad_or_suspicious_file_and_only_those(corpus):
    report = datasets.validate(corpus)
    assert kinds_by_path(report.problems, corpus) == expected_kinds()
    assert report.usable_files == {"jazz": 5, "pop": 4, "rock": 3}
    assert report.exit_status == 1  # usable, but some files are excluded
    assert report.summary().endswith(f"-> usable; {len(FAILING)} file(s) excluded")


def test_validate_cli_prints_each_problem_with_its_fix_and_exits_1(corpus, capsys, tmp_path):
    assert cli.main(["validate", "-q", str(corpus), "--problems", str(tmp_path / "p.csv")]) == 1
    out = capsys.readouterr().out.splitlines()
    lines = {line.split(": ", 1)[0]: line for line in out[:-2]}
    for rel, kinds in expected_kinds().items():
        assert (corpus / rel).as_posix() in lines, rel
    assert lines[(corpus / "rock/truncated.wav").as_posix()].endswith(
        "truncated: the header declares 30.00 s, the file holds 9.07 s (an interrupted copy?). "
        "Replace it with a complete copy. [kept: its 9.07 s are used]"
    )
    assert "too short: 2.00 s, less than one 3 s segment" in lines[(corpus / "rock/short.wav").as_posix()]
    assert "digital silence" in lines[(corpus / "rock/silence.wav").as_posix()]
    assert "the first at 1.000 s" in lines[(corpus / "jazz/nan.wav").as_posix()]
    for rel in FAILING:  # every unusable file says what to do and what the study does
        line = lines[(corpus / rel).as_posix()]
        assert ("Replace it" in line or "Use a recording" in line) and line.endswith("[excluded from the study]")
    table = pd.read_csv(tmp_path / "p.csv", dtype=str, keep_default_na=False)
    assert table.columns.tolist() == list(checks.PROBLEM_COLUMNS) and len(table) == len(out) - 2


def test_validate_exit_status_2_when_nothing_is_usable(tmp_path, capsys):
    (tmp_path / "rock").mkdir()
    (tmp_path / "rock" / "x.wav").write_bytes(b"not audio")
    assert cli.main(["validate", "-q", str(tmp_path)]) == 2
    assert capsys.readouterr().out.splitlines()[-1].endswith("NOT usable: usable audio in fewer than two genres")
    assert cli.main(["validate", "-q", str(tmp_path / "absent")]) == 2


# -------------------------------------------------------------------------------------- manifest


def test_manifest_excludes_each_failing_file_with_its_reason_and_keeps_the_rest(corpus):
    manifest, problems = datasets.build_manifest(corpus, "folder", segment_seconds=3.0, progress=False)
    status = dict(zip(manifest["path"], manifest["status"]))
    assert sorted(p for p, s in status.items() if s == "ok") == USABLE
    assert sorted(p for p, s in status.items() if s == "excluded") == FAILING
    assert (manifest.loc[manifest["status"] == "excluded", "reason"] != "").all()
    notes = manifest.set_index("path")["notes"]
    assert notes["rock/truncated.wav"].startswith("truncated: the header declares 30.00 s")
    assert notes["pop/stereo44.wav"] == "resampled from 44100 Hz to 22050 Hz on load; downmixed from 2 channels on load"
    assert notes["rock/silence.wav"].startswith("digital silence")
    assert manifest.set_index("path").loc["rock/truncated.wav", "duration_s"] == pytest.approx(9.07, abs=0.01)
    rows = [checks.Problem(*row) for row in problems.itertuples(index=False)]
    assert kinds_by_path(rows) == expected_kinds()


# -------------------------------------------------------------------------------------- features


@pytest.mark.parametrize("seconds", [3.0, 30.0])
def test_features_cli_writes_every_usable_file_lists_the_rest_and_exits_1(corpus, tmp_path, capsys, seconds):
    out = tmp_path / "f.csv"
    args = ["features", str(corpus), "--out", str(out), "--segment-seconds", str(seconds), "-q"]
    assert cli.main(args) == 1
    err = capsys.readouterr().err.splitlines()
    table = pd.read_csv(out, dtype={"filename": str}, keep_default_na=False)
    names = features.split_filenames(table["filename"], segmented=seconds < 30)["track_id"]
    assert sorted(set(names)) == sorted(Path(p).stem for p in USABLE)  # every good file's rows
    if seconds == 3.0:
        assert (names == "silence").sum() == 10 and (names == "truncated").sum() == 3 and (names == "good").sum() == 1
    assert np.isfinite(table[list(FEATURE_COLUMNS)].to_numpy(dtype=float)).all()
    problems = pd.read_csv(checks.problems_path(out), dtype=str, keep_default_na=False)
    listed = {Path(p).relative_to(corpus).as_posix(): k for p, k in zip(problems["path"], problems["kind"])}
    assert {p for p, k in listed.items() if k in checks.ERROR_KINDS} == set(FAILING)
    assert {listed[p] for p in ("rock/truncated.wav", "rock/silence.wav", "jazz/clipped.wav")} == {
        "truncated", "silent", "clipped"
    }
    assert listed["rock/notes.txt"] == "non_audio" and listed["rock/.DS_Store"] == "hidden"
    errors = [line for line in err if line.startswith("error: ")]
    assert len(errors) == len(FAILING) and all(line.endswith("[left out of the table]") for line in errors)
    assert not any("excluded meanwhile" in line or "manifest" in line for line in err)  # no claim untrue here


def test_features_strict_writes_nothing_and_nothing_usable_exits_2(corpus, tmp_path, capsys):
    out = tmp_path / "f.csv"
    assert cli.main(["features", str(corpus), "--out", str(out), "--strict", "-q"]) == 1
    assert not out.exists() and not checks.problems_path(out).exists()
    assert "wrote nothing (--strict" in capsys.readouterr().err
    bad = [corpus / rel for rel in FAILING]
    assert cli.main(["features", *map(str, bad), "--out", str(out), "-q"]) == 2
    assert not out.exists() and "not one file was usable" in capsys.readouterr().err
    good = [corpus / rel for rel in ("rock/good.wav", "pop/lossless.flac")]
    assert cli.main(["features", *map(str, good), "--out", str(out), "-q"]) == 0
    assert len(pd.read_csv(out)) == 2


# ---------------------------------------------------------------------------------- spectrograms


def test_spectrograms_leave_out_a_track_that_fails_and_write_the_rest(corpus, tmp_path):
    manifest, _ = datasets.build_manifest(corpus, "folder", segment_seconds=3.0, progress=False)
    # A file that passed the manifest and broke since (replaced by garbage).
    root = tmp_path / "copy"
    for rel in USABLE:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes((corpus / rel).read_bytes())
    (root / "jazz/float.wav").write_bytes(b"garbage")
    settings = {"n_mels": 16, "png": False, "jobs": 1, "progress": False}
    result = spectrograms.compute_spectrograms(manifest, root, tmp_path / "spec", **settings)
    assert result.n_tracks == len(USABLE) - 1
    [problem] = result.problems
    assert (problem.path, problem.kind, problem.action) == ("jazz/float.wav", "corrupt", "left out of the spectrograms")
    _, index = spectrograms.load_clips(tmp_path / "spec")
    assert "float" not in set(index["track_id"]) and len(index) == len(USABLE) - 1
    with pytest.raises(AudioError, match="1 of 12 tracks failed to decode; nothing written"):
        spectrograms.compute_spectrograms(manifest, root, tmp_path / "strict", strict=True, **settings)
    assert not (tmp_path / "strict" / "clips.npy").exists()


def test_the_data_chapter_count_table_lists_every_kind_checked(corpus):
    _, problems = datasets.build_manifest(corpus, "folder", segment_seconds=3.0, progress=False)
    table = checks.count_table(problems).set_index("kind")
    assert list(table.index) == list(checks.KINDS)
    expected = {kind: sum(kind in kinds for kinds in expected_kinds().values()) for kind in checks.KINDS}
    assert table["count"].to_dict() == expected
    assert table.loc["corrupt", "severity"] == "error" and table.loc["corrupt", "action"] == "excluded from the study"
    assert table.loc["checksum", "count"] == 0 and table.loc["checksum", "action"] == ""
