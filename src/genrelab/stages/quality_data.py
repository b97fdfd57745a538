"""The ``quality_data`` stage: lossless sources through every condition, the labelled files and their excerpts.

A module of its own, apart from :mod:`genrelab.stages.quality`, so that the stage's deps (the
import closure of this module) hold the corpus code only, not the models'.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from genrelab.stages.common import METRICS, SUMMARIES, write_stage_metrics

QUALITY = Path("data/quality")
FILES = QUALITY / "files"


def run_quality_data(params: dict, *, out_dir: Path = QUALITY, metrics_path: Path = METRICS / "quality_data.json",
                     summary_path: Path = SUMMARIES / "quality_data.json",
                     progress: bool = True) -> dict:  # fmt: skip
    """Render the sources, put each through every condition, draw the excerpts; write the tables beside the files."""
    from genrelab.parallel import configured
    from genrelab.quality.corpus import build_corpus, excerpt_offsets

    c = params["quality"]["corpus"]
    with configured(params["parallel"]):
        files, sources, skipped = build_corpus(
            out_dir / "files", styles=c["styles"], sources_per_style=c["sources_per_style"], seconds=c["source_seconds"],
            conditions=c["conditions"], probes=c["probes"], test_fraction=c["test_fraction"], seed=c["seed"],
            min_bandwidth_hz=c["min_bandwidth_hz"], jobs=c["jobs"], progress=progress)  # fmt: skip
    held_out = files[files["split"] == "test"]
    excerpts = pd.concat([excerpt_offsets(files, c["excerpt_seconds"], c["seed"]).assign(probe_excerpt=False),
                          excerpt_offsets(held_out, c["probe_excerpt_seconds"], c["seed"]).assign(probe_excerpt=True)],
                         ignore_index=True)  # fmt: skip
    # A file shorter than two lengths gives the same whole-file excerpt twice: keep it once (as a main one).
    excerpts = excerpts.drop_duplicates(["file", "excerpt_seconds", "offset_seconds"], ignore_index=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    files.to_csv(out_dir / "files.csv", index=False)
    sources.to_csv(out_dir / "sources.csv", index=False)
    excerpts.to_csv(out_dir / "excerpts.csv", index=False)
    skipped.to_csv(out_dir / "skipped.csv", index=False)
    metrics = {"sources": int(len(sources)), "sources_excluded": int((sources["status"] != "ok").sum()),
               "held_out": int((sources["split"] == "test").sum()),
               "held_out_per_style": sources[sources["split"] == "test"].groupby("style").size().to_dict(),
               "files": int(len(files)),
               "conditions": len(c["conditions"]), "probes": len(c["probes"]) - len(skipped),
               "probes_skipped": skipped["condition"].tolist(), "excerpts": int(len(excerpts))}  # fmt: skip
    headline = {"sources": metrics["sources"], "excluded": metrics["sources_excluded"], "files": metrics["files"]}
    write_stage_metrics(metrics, headline, metrics_path, summary_path)
    return metrics
