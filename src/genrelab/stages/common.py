"""What the stage modules share: where stages write, the prepare stage's tables, the one way a
stage refuses files that failed after passing the prepare stage's checks."""

from __future__ import annotations

import json
from pathlib import Path

from genrelab.data.manifest import PREPARED as INTERIM  # noqa: F401  (where the stages read the prepare stage's tables)
from genrelab.data.manifest import read_prepared  # noqa: F401  (the stages and notebooks read it here)

METRICS = Path("metrics")  # DVC metrics: each stage's headline figures (write_stage_metrics)
SUMMARIES = Path("results/stages")  # each stage's full summary, beside its metrics
MODELS = Path("models")  # models/<approach>/: every fitted model, genrelab.models.load restores it

# The keys a stage's DVC metrics may use. `dvc metrics show` makes one column per distinct key of all
# the files, so the stages share this short vocabulary and the table fits 200 columns; everything else
# goes to the stage's summary. A model stage's files use the protocols' names (evaluation.results).
HEADLINE_KEYS = ("tracks", "failed", "excluded", "duplicates", "sources", "files", "accuracy", "macro_f1", "verdict")


def write_json(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_stage_metrics(summary: dict | None, headline: dict, metrics_path: Path, summary_path: Path | None) -> None:
    """A stage's full ``summary`` (JSON, for the book and the README; None: its tables say it all) and
    its ``headline`` figures, the DVC metrics (keys from :data:`HEADLINE_KEYS` or protocols' names)."""
    from genrelab.constants import PROTOCOLS

    unknown = sorted(set(headline) - set(HEADLINE_KEYS) - set(PROTOCOLS))
    if unknown:
        raise ValueError(f"headline metrics use the shared keys only; add {unknown} to HEADLINE_KEYS, or to the summary")
    if summary is not None:
        write_json(summary, summary_path)
    write_json(headline, metrics_path)


def refuse_failures(failed: list, stage: str, listed_in: Path) -> None:
    """A stage's inputs passed the prepare stage's checks: a file failing now is an error that stops the pipeline,
    after the outputs for the other files were written (the one rule of :mod:`genrelab.data.checks`)."""
    if failed:
        from genrelab.errors import AudioError

        lines = "\n".join(p.line() for p in failed)
        raise AudioError(
            f"the {stage} stage: {len(failed)} file(s) that passed the prepare stage's checks failed now "
            f"(listed in {listed_in}; the outputs hold the other files):\n{lines}", kind=failed[0].kind,
        )  # fmt: skip
