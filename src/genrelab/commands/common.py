"""What several commands share: the problem lines on stderr."""

from __future__ import annotations

import sys


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
