"""How long each DVC stage of the last ``make repro`` took, measured as it ran.

``python -m genrelab.report.stage_times [--out FILE] -- dvc repro [ARGS]`` runs the command, passes
its output through, and times each stage from DVC's own lines (``Running stage 'x':`` until
``Updating lock file``); a stage DVC skips as unchanged is listed as skipped. It writes
``results/stage_times.json`` (``make repro`` does this), which the README's stage table renders
(:func:`genrelab.report.readme.stage_times`). The exit status is the command's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

OUT = Path("results/stage_times.json")
_RUNNING = re.compile(r"^Running stage '(?P<stage>[\w@.-]+)':")
_SKIPPED = re.compile(r"^Stage '(?P<stage>[\w@.-]+)' didn't change, skipping")
_DONE = re.compile(r"^Updating lock file")


def stage_seconds(lines: Iterable[tuple[float, str]]) -> tuple[dict[str, float], list[str]]:
    """``(seconds per stage run, in order; stages skipped)`` from ``(time, line)`` pairs of DVC's output.

    A stage runs from its ``Running stage`` line to the next ``Updating lock file`` line (or the
    next stage, or the last line, when its command failed)."""
    seconds: dict[str, float] = {}
    skipped: list[str] = []
    current, start, last = None, 0.0, 0.0
    for when, line in lines:
        last = when
        if match := _RUNNING.match(line):
            if current is not None:
                seconds[current] = when - start
            current, start = match.group("stage"), when
        elif _DONE.match(line) and current is not None:
            seconds[current] = when - start
            current = None
        elif match := _SKIPPED.match(line):
            skipped.append(match.group("stage"))
    if current is not None:
        seconds[current] = last - start
    return seconds, skipped


def run(command: list[str], out: Path = OUT) -> int:
    """Run ``command``, echo its output, write the stage times to ``out``; returns its exit status."""
    started, begin = datetime.now(timezone.utc), time.monotonic()
    timed: list[tuple[float, str]] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1) as process:
        for line in process.stdout:
            sys.stdout.write(line)
            timed.append((time.monotonic() - begin, line.rstrip("\n")))
    seconds, skipped = stage_seconds(timed)
    summary = {"command": " ".join(command), "cores": os.cpu_count(), "started": started.strftime("%Y-%m-%d %H:%M UTC"),
               "exit_status": process.returncode, "total_seconds": round(time.monotonic() - begin, 1),
               "stages": {name: round(s, 1) for name, s in seconds.items()}, "skipped": skipped}  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1) + "\n")
    return process.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genrelab.report.stage_times", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example: python -m genrelab.report.stage_times -- dvc repro")  # fmt: skip
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the times go (default {OUT})")
    parser.add_argument("command", nargs="+", help="the command to time, after --")
    args = parser.parse_args(argv)
    return run(args.command, args.out)


if __name__ == "__main__":
    sys.exit(main())
