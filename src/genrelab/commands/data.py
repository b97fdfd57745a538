"""The commands on audio folders and files: ``demo``, ``validate`` and ``features``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_demo(args: argparse.Namespace) -> int:
    from genrelab.data.demo.corpus import generate_corpus

    meta = generate_corpus(
        args.out_dir,
        tracks_per_genre=args.tracks_per_genre,
        seconds=args.seconds,
        seed=args.seed,
        sample_rate=args.sample_rate,
        overlap=args.overlap,
        noise=args.noise,
        jobs=args.jobs,
        progress=not args.quiet,
    )
    print(f"wrote {len(meta)} tracks in {meta['genre'].nunique()} styles to {args.out_dir}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from genrelab.data.checks import write_problems
    from genrelab.data.datasets import validate

    report = validate(args.data_dir, index=args.index, segment_seconds=args.segment_seconds, jobs=args.jobs,
                      progress=not args.quiet)  # fmt: skip
    lines = report.lines
    shown = lines if args.max_lines is None else lines[len(lines) - min(args.max_lines, len(lines)) :]
    if len(shown) < len(lines):
        print(f"... {len(lines) - len(shown)} more problem lines (see --max-lines)")
    for line in shown:
        print(line)
    if args.problems:
        print(f"wrote {len(report.problems)} problems to {write_problems(report.problems, args.problems)}")
    print(report.summary())
    return report.exit_status


def _cmd_features(args: argparse.Namespace) -> int:
    from genrelab.commands.common import report_problems
    from genrelab.data.checks import exit_status, failed, problems_path, write_problems
    from genrelab.features.gtzan57 import extract_table, split_filenames

    result = extract_table(
        args.inputs,
        segment_seconds=args.segment_seconds,
        jobs=args.jobs,
        cache_dir=args.cache,
        progress=not args.quiet,
    )
    table, problems = result.table, result.problems
    n_files = split_filenames(table["filename"], segmented=args.segment_seconds < 30)["track_id"].nunique()
    report_problems(problems)
    status = exit_status(n_files, problems)
    if status == 2 or (status == 1 and args.strict):
        why = "not one file was usable" if status == 2 else f"--strict: {len(failed(problems))} file(s) failed"
        print(f"genrelab features: wrote nothing ({why})", file=sys.stderr)
        return status
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(f"wrote {len(table)} rows x {table.shape[1]} columns ({n_files} files) to {args.out}")
    if problems:
        print(f"wrote {len(problems)} problems to {write_problems(problems, problems_path(args.out))}")
    return status


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``demo``, ``validate`` and ``features`` sub-commands."""
    p = sub.add_parser(
        "demo",
        help="synthesise a GTZAN-shaped demo corpus",
        description="Synthesise a GTZAN-shaped corpus of ten invented styles: "
        "<style>/<style>.NNNNN.wav plus metadata.csv. Deterministic: the same arguments "
        "give byte-identical files.",
    )
    p.add_argument("out_dir", type=Path, help="folder to write (created; existing files are overwritten)")
    p.add_argument("--tracks-per-genre", type=int, default=20, metavar="N", help="tracks per style (default 20)")
    p.add_argument("--seconds", type=float, default=30.0, metavar="S", help="clip length in seconds (default 30)")
    p.add_argument("--seed", type=int, default=0, metavar="K", help="random seed (default 0)")
    p.add_argument("--sample-rate", type=int, default=22050, metavar="SR", help="Hz (default 22050)")
    p.add_argument(
        "--overlap", type=float, default=0.2, metavar="P",
        help="probability that an artist borrows a layer from another style (default 0.2)",
    )
    p.add_argument(
        "--noise", type=float, default=0.05, metavar="R",
        help="background-noise RMS relative to the music's, 0 = clean (default 0.05)",
    )
    p.add_argument("--jobs", type=int, default=2, metavar="N", help="parallel workers; output is the same (default 2)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "validate",
        help="check an audio folder (every file decoded) and, optionally, an md5 index",
        description="Decode every audio file of DATA_DIR and check it as the study's manifest does:\n"
        "corrupt, empty, non-finite samples, truncated (the header declares more than the file\n"
        "holds), too short for one segment, silent, clipped, resampled or downmixed on load; with\n"
        "--index, missing, extra and checksum mismatches against a mirdata-style md5 index; and\n"
        "non-audio, hidden and misplaced files and empty genre folders. One line per problem:\n"
        "<file>: <what is wrong and the fix> [<what the study does>], the most serious last.\n\n"
        "exit status: 0 every file usable (warnings allowed), 1 some files would be excluded,\n"
        "2 not usable (usable audio in fewer than two genres) or a usage error.",
        epilog="example:\n  genrelab validate data/raw --index mirdata_gtzan_genre_index.json --problems problems.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("data_dir", type=Path, help="folder of <genre>/<file> audio, or a GTZAN root")
    p.add_argument("--index", type=Path, default=None, metavar="INDEX.json", help="mirdata-style index with md5s")
    p.add_argument("--segment-seconds", type=float, default=3.0, metavar="S",
                   help="a file shorter than one segment is too short (default 3, as prepare.segment_seconds)")
    p.add_argument("--problems", type=Path, default=None, metavar="FILE.csv",
                   help="also write the problems as a table (path, kind, problem, action)")
    p.add_argument("--max-lines", type=int, default=None, metavar="N",
                   help="print only the N most serious problem lines (default: all)")
    p.add_argument("--jobs", type=int, default=2, metavar="N", help="files read at once (threads; default 2)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser(
        "features",
        help="extract the 57 GTZAN-table features",
        description="Extract the 57 features of the public GTZAN tables, one row per file\n"
        "(--segment-seconds 30) or per 3 s segment (--segment-seconds 3). Columns and order\n"
        "match features_30_sec.csv / features_3_sec.csv, without the label column.\n\n"
        "Each file is checked first, as `genrelab validate` does. A file that cannot be used\n"
        "(corrupt, empty, non-finite samples, shorter than 3 s) gets an error line on stderr and no\n"
        "rows; a suspicious one (truncated, silent, clipped) a warning line, and its rows. Every\n"
        "problem goes to FILE.problems.csv beside FILE.csv.\n\n"
        "exit status: 0 every file written, 1 some files failed (the table holds the rest),\n"
        "2 no usable file or a usage error. With --strict, a failure writes nothing.",
        epilog="example:\n  genrelab features data/raw --out features_3s.csv --segment-seconds 3 --jobs 2 \\\n"
        "      --cache .cache/features\n\n"
        "speed: about 0.2 CPU s per 30 s clip and table; both tables for 1000 GTZAN clips\n"
        "take 3.3 min with --jobs 2 on two cores (benchmarks/bench_features.py).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="audio files or folders")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.csv", help="table to write")
    p.add_argument("--segment-seconds", type=float, default=30.0, choices=[3.0, 30.0], help="3 or 30 (default 30)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="parallel worker processes; one per core is right (default 1)")
    p.add_argument("--cache", type=Path, default=None, metavar="DIR", help="per-track cache, so reruns resume")
    p.add_argument("--strict", action="store_true", help="write nothing if any file fails")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_features)
