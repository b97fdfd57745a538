"""What several commands share: the problem lines on stderr and the audio files of inputs."""

from __future__ import annotations

import sys
from pathlib import Path


def report_problems(problems) -> None:
    """Each problem on its own line on stderr, the files left out last; conversions only counted."""
    from genrelab.data.checks import sort_problems

    converted = [p for p in problems if p.kind == "conversion"]
    for problem in sort_problems(p for p in problems if p.kind != "conversion"):
        label = "error" if problem.severity == "error" else "warning"
        print(f"{label}: {problem.line()}", file=sys.stderr)
    if converted:
        print(f"note: {len(converted)} file(s) resampled or downmixed on load (listed in the problems file)",
              file=sys.stderr)


def audio_inputs(inputs: list[Path]) -> tuple[list[Path], list[str]]:
    """Audio files of files and folders (recursive), and a line for each input that holds none."""
    from genrelab.data.audio import extensions_text, is_audio_file

    files, missing = [], []
    for item in inputs:
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.is_file() and is_audio_file(p) and not p.name.startswith("."))
            files += found
            if not found:
                missing.append(f"{item}: no audio files ({extensions_text()}) in this folder")
        elif item.is_file():
            files.append(item)  # any extension: the decoder says whether it is audio
        else:
            missing.append(f"{item}: no such file or folder")
    return files, missing
