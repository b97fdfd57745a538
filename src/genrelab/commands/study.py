"""The study's stages run as commands: ``scores``, ``metrics``, ``spectrograms`` and ``embeddings``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_scores(args: argparse.Namespace) -> int:
    from genrelab.evaluation.results import collect_scores

    table = collect_scores(args.parts, args.out)
    print(f"wrote {len(table)} result rows from {args.parts} to {args.out}")
    return 0


def _cmd_metrics(args: argparse.Namespace) -> int:
    from genrelab.evaluation.results import write_metrics_from_parts

    written = write_metrics_from_parts(args.parts, args.out)
    print(f"wrote the headline metrics of {len(written)} approaches from {args.parts} to {args.out}/")
    return 0


def _cmd_spectrograms(args: argparse.Namespace) -> int:
    from genrelab.commands.common import report_problems
    from genrelab.config import load_params
    from genrelab.errors import AudioError
    from genrelab.stages.spectrograms import run_spectrograms

    try:
        result = run_spectrograms(load_params(args.params), progress=not args.quiet, strict=args.strict)
    except AudioError as err:  # --strict and some tracks failed
        print(f"genrelab spectrograms: error: {err}", file=sys.stderr)
        return 1
    report_problems(result.problems)
    print(f"wrote spectrograms of {result.n_tracks} tracks ({result.n_segments} segments) to {result.out_dir}")
    if result.problems:
        print(f"{len(result.problems)} track(s) failed and were left out (listed in {result.out_dir / 'problems.csv'})")
    return 1 if result.problems else 0


def _cmd_embeddings(args: argparse.Namespace) -> int:
    from genrelab.commands.common import report_problems
    from genrelab.config import load_params
    from genrelab.stages.embeddings import run_embeddings

    result = run_embeddings(load_params(args.params), progress=not args.quiet)
    report_problems(result.problems)
    print(f"wrote embeddings of {result.n_tracks} tracks ({result.n_segments} segments, {result.n_patches} sliding "
          f"patches; {result.computed} computed, the rest cached) to {result.out_dir}")  # fmt: skip
    return 1 if result.problems else 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``scores``, ``metrics``, ``spectrograms`` and ``embeddings`` sub-commands."""
    p = sub.add_parser(
        "scores",
        help="gather every stage's results into results/scores.csv",
        description="Concatenate the per-approach result tables (results/parts/*.csv) into the "
        "study's single results table.",
    )
    p.add_argument("--parts", type=Path, default=Path("results/parts"), help="folder of per-approach tables")
    p.add_argument("--out", type=Path, default=Path("results/scores.csv"), help="table to write")
    p.set_defaults(func=_cmd_scores)

    p = sub.add_parser(
        "metrics",
        help="rewrite the model stages' DVC metrics (metrics/models/) from results/parts",
        description="Write each approach's headline figures (its selected track-level entry under each "
        "protocol) to metrics/models/<approach>.json from its results part, as its stage does, without "
        "rerunning the stage.",
    )
    p.add_argument("--parts", type=Path, default=Path("results/parts"), help="folder of per-approach tables")
    p.add_argument("--out", type=Path, default=Path("metrics/models"), help="folder of the metrics files")
    p.set_defaults(func=_cmd_metrics)

    p = sub.add_parser(
        "spectrograms",
        help="the spectrograms stage: log-mel arrays and pictures of every usable track",
        description="Compute the log-mel spectrogram of every usable track of the manifest, per "
        "segment and per clip, into data/spectrograms (float32 .npy + index .csv + PNG pictures), "
        "with the settings of params.yaml's `spectrograms` section. Cached per track. A track "
        "that fails to decode is left out and listed in data/spectrograms/problems.csv. "
        "Exit status: 0 all written, 1 some tracks failed (the rest written), 2 nothing usable "
        "or a usage error; with --strict a failure writes nothing.",
    )
    p.add_argument("--params", type=Path, default=Path("params.yaml"))
    p.add_argument("--strict", action="store_true", help="write nothing if any track fails")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_spectrograms)

    p = sub.add_parser(
        "embeddings",
        help="the embeddings stage: musicnn embeddings of every usable track",
        description="Run the musicnn checkpoints of params.yaml's `musicnn.checkpoints` on every usable "
        "track of the manifest: one row per study segment and one per sliding 3 s patch, into "
        "data/embeddings/<checkpoint>/{segments,patches}/ (Parquet shards, a float32 column per layer). Cached per track in "
        ".cache/embeddings. A track that fails to decode is left out and listed in "
        "data/embeddings/problems.csv. Exit status: 0 all written, 1 some tracks failed, 2 nothing "
        "usable or a usage error (for example the musicnn wheel missing).",
    )
    p.add_argument("--params", type=Path, default=Path("params.yaml"))
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_embeddings)
