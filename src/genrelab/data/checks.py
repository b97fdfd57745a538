"""What can be wrong with an audio file or a corpus, and the one rule every command applies to it.

Every command that reads audio (``validate``, ``features``, ``spectrograms``, the pipeline's
stages) checks each file with :func:`check_file`, reports each problem as a :class:`Problem` on a
line of its own (path, what is wrong and the fix, what was done), goes on with the usable files,
writes the problems beside its output (:func:`write_problems`) and ends with :func:`exit_status`:

- 0: every file was usable (flagged and noted files included);
- 1: some files could not be used; the output was written for the rest;
- 2: a usage error, or not one usable file.

With ``--strict`` a command that would exit 1 writes nothing instead.

Problem kinds (:data:`KINDS`) have one of three severities:

``error``
    the file cannot be used and is left out: ``corrupt`` (does not decode), ``unreadable``
    (cannot be opened), ``empty`` (zero samples), ``non_finite`` (NaN or infinite samples in a
    float file), ``too_short`` (shorter than one segment), ``checksum`` (its bytes differ from the
    md5 index).
``warning``
    the file is used but suspicious, or something beside the files needs a look: ``truncated`` (the
    header declares more audio than the file holds), ``silent`` (digital silence, or a peak below
    :data:`SILENCE_DBFS`), ``clipped`` (more than :data:`CLIP_SHARE` of the samples at full scale),
    and, for a corpus, ``missing``, ``misplaced``, ``hidden``, ``non_audio``, ``empty_genre``.
``note``
    worth knowing, nothing wrong: ``conversion`` (resampled or downmixed on load), ``extra`` (not
    in the md5 index), ``unverified`` (the index lists another format).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from pathlib import Path

import pandas as pd

from genrelab.data import audio
from genrelab.errors import AudioError

SILENCE_DBFS = -60.0  # a clip whose peak stays below this is flagged as near-silent
CLIP_SHARE = 0.01  # share of samples at full scale above which a clip is flagged as clipped
# (the 100 shared GTZAN clips reach at most 0.11 %: hiphop.00009)

# kind -> (severity, how summaries count it); the order is the reports' order, most serious last.
KINDS = {
    "conversion": ("note", "converted on load"),
    "extra": ("note", "extra"),
    "unverified": ("note", "md5 not checked"),
    "missing": ("warning", "missing"),
    "misplaced": ("warning", "misplaced"),
    "hidden": ("warning", "hidden"),
    "non_audio": ("warning", "non-audio"),
    "empty_genre": ("warning", "empty genre folder"),
    "silent": ("warning", "silent"),
    "clipped": ("warning", "clipped"),
    "truncated": ("warning", "truncated"),
    "too_short": ("error", "too short"),
    "empty": ("error", "empty"),
    "non_finite": ("error", "non-finite"),
    "checksum": ("error", "checksum mismatch"),
    "unreadable": ("error", "unreadable"),
    "corrupt": ("error", "corrupt"),
}
ERROR_KINDS = frozenset(kind for kind, (severity, _) in KINDS.items() if severity == "error")
FLAG_KINDS = frozenset({"truncated", "silent", "clipped"})  # the warnings about a file that is still used

PROBLEM_COLUMNS = ("path", "kind", "problem", "action")
EXCLUDED = "excluded from the study"
_FLAGGED = "kept, flagged"


@dataclass(frozen=True)
class Problem:
    """Something about a file or a corpus a user should know; one row of a problems table."""

    path: str  # as the command reports it (relative to a corpus root, or as given)
    kind: str  # one of KINDS
    problem: str  # one line: what is wrong, and the fix where there is one
    action: str  # what the command did about it

    @property
    def severity(self) -> str:
        return KINDS[self.kind][0]

    def line(self) -> str:
        """How a command prints it: ``<path>: <problem> [<action>]``."""
        return f"{self.path}: {self.problem} [{self.action}]"


@dataclass(frozen=True)
class FileCheck:
    """What :func:`check_file` found: the measurements (``None`` when the file did not decode) and the problems."""

    scan: audio.AudioScan | None
    problems: tuple[Problem, ...]

    @property
    def usable(self) -> bool:
        return not any(p.kind in ERROR_KINDS for p in self.problems)


def check_file(
    path: str | Path, *, min_seconds: float, label: str | None = None, excluded: str = EXCLUDED,
    sample_rate: int = audio.DEFAULT_SR,
) -> FileCheck:
    """Decode all of ``path`` and list its problems.

    Parameters
    ----------
    path : the audio file.
    min_seconds : a file shorter than this (decoded seconds) is ``too_short``: one segment.
    label : how problems name the file (default: ``path`` as given).
    excluded : the action reported for an unusable file, true in the caller's context.
    sample_rate : Hz the study decodes to; another rate is a ``conversion`` note.
    """
    label = str(path) if label is None else label
    try:
        scan = audio.scan(path)
    except AudioError as err:
        return FileCheck(None, (failure(label, err, excluded, path),))
    return FileCheck(scan, tuple(_scan_problems(scan, label, min_seconds, excluded, sample_rate)))


def _scan_problems(scan: audio.AudioScan, label: str, min_seconds: float, excluded: str, sample_rate: int):
    seconds = scan.duration
    if scan.frames == 0:
        yield Problem(label, "empty", "holds no samples (an empty data chunk). Replace it with a good copy, "
                      "or remove it.", excluded)  # fmt: skip
        return
    declared = max(scan.header_frames, scan.declared_frames or 0)
    if declared - scan.frames > scan.sample_rate // 10:  # more than 0.1 s: not MP3 frame rounding
        what = (f"truncated: the header declares {declared / scan.sample_rate:.2f} s, the file holds "
                f"{seconds:.2f} s (an interrupted copy?). Replace it with a complete copy.")  # fmt: skip
        yield Problem(label, "truncated", what, f"kept: its {seconds:.2f} s are used")
    if seconds < min_seconds:
        what = (f"too short: {seconds:.2f} s, less than one {min_seconds:g} s segment. "
                f"Use a recording of at least {min_seconds:g} s.")  # fmt: skip
        yield Problem(label, "too_short", what, excluded)
    if scan.peak == 0:
        yield Problem(label, "silent", "digital silence: every sample is 0. Check the file plays.", _FLAGGED)
    elif (peak_dbfs := 20 * math.log10(scan.peak)) < SILENCE_DBFS:
        what = f"near-silent: peak {peak_dbfs:.1f} dBFS, below {SILENCE_DBFS:g} dBFS. Check the file plays."
        yield Problem(label, "silent", what, _FLAGGED)
    share = scan.full_scale / (scan.frames * scan.channels)
    if share > CLIP_SHARE:
        what = (f"clipped: {100 * share:.1f} % of samples at full scale (over {100 * CLIP_SHARE:g} %). "
                "Use an unclipped master if there is one.")  # fmt: skip
        yield Problem(label, "clipped", what, _FLAGGED)
    conversions = []
    if scan.sample_rate != sample_rate:
        conversions.append(f"resampled from {scan.sample_rate} Hz to {sample_rate} Hz on load")
    if scan.channels > 1:
        conversions.append(f"downmixed from {scan.channels} channels on load")
    if conversions:
        yield Problem(label, "conversion", "; ".join(conversions), "kept")


def failure(label: str, err: AudioError, action: str, path: str | Path | None = None) -> Problem:
    """The problem of a file whose processing raised ``err``. The error's message starts with the
    file's ``path`` (default ``label``); the problem says it without, since ``label`` names the file."""
    path = label if path is None else path
    message = str(err).removeprefix(f"{path}: ").removeprefix(f"{Path(path)}: ")
    return Problem(label, err.kind, message, action)


# --------------------------------------------------------------------------------------------------
# Reporting


def failed(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that left a file out (severity ``error``)."""
    return [p for p in problems if p.kind in ERROR_KINDS]


def exit_status(n_usable: int, problems: Iterable[Problem]) -> int:
    """The one rule: 0 all usable, 1 some files failed (output written for the rest), 2 nothing usable."""
    if n_usable == 0:
        return 2
    return 1 if failed(problems) else 0


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Least serious first, so the most serious sit just above a summary line; then by path."""
    order = list(KINDS)
    return sorted(problems, key=lambda p: (order.index(p.kind), p.path))


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """The problems as a table with :data:`PROBLEM_COLUMNS`, sorted as :func:`sort_problems`."""
    rows = [astuple(p) for p in sort_problems(problems)]
    return pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS), dtype=str)


def problems_path(out: str | Path) -> Path:
    """Where a command writing ``out`` puts its problems: ``features.csv`` -> ``features.problems.csv``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.problems.csv")


def write_problems(problems: Iterable[Problem], path: str | Path) -> Path:
    """Write the problems table (header only when there are none) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    problems_frame(problems).to_csv(path, index=False)
    return path


def counts(problems: Iterable[Problem] | pd.DataFrame) -> dict[str, int]:
    """Problem kind -> how many, in report order; kinds with none are left out."""
    kinds = problems["kind"].tolist() if isinstance(problems, pd.DataFrame) else [p.kind for p in problems]
    return {kind: n for kind in KINDS if (n := kinds.count(kind))}


def count_table(problems: pd.DataFrame) -> pd.DataFrame:
    """Every problem kind checked, in report order, with its severity, how many rows of the
    problems table have it (0 included: the table says what was looked for) and what was done."""
    found = counts(problems)
    rows = [
        {"kind": kind, "severity": severity, "count": found.get(kind, 0),
         "action": "; ".join(sorted(set(problems.loc[problems["kind"] == kind, "action"])))}
        for kind, (severity, _) in KINDS.items()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["kind", "severity", "count", "action"])


def summary(problems: Iterable[Problem]) -> str:
    """``2 corrupt, 1 too short`` (most serious last), or ``none``."""
    found = counts(problems)
    return ", ".join(f"{n} {KINDS[kind][1]}" for kind, n in found.items()) or "none"
