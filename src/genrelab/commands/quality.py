"""The true-quality commands: ``quality-data`` (the stage) and ``quality`` (a verdict per file)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_quality_data(args: argparse.Namespace) -> int:
    from genrelab.config import load_params
    from genrelab.stages.quality_data import QUALITY, run_quality_data

    metrics = run_quality_data(load_params(args.params), progress=not args.quiet)
    print(f"wrote {metrics['files']} files ({metrics['conditions']} conditions of {metrics['sources']} sources, "
          f"{metrics['sources_excluded']} excluded for bandwidth) and {metrics['excerpts']} excerpts to {QUALITY}")  # fmt: skip
    return 0


def _cmd_quality(args: argparse.Namespace) -> int:
    import csv
    import json

    from genrelab.data.files import find_audio
    from genrelab.quality.check import check_files, group_label, load_model, model_summary
    from genrelab.report.quality import plot_report

    model = load_model(args.model)
    found = find_audio(args.inputs)
    files, missing = found.files, found.missing
    reports, failures = check_files(files, model, n_excerpts=args.excerpts, seconds=args.excerpt_seconds,
                                    jobs=args.jobs, progress=not args.quiet and not (args.json or args.csv))  # fmt: skip
    unreadable = missing + [str(f.error) for f in failures]
    for line in unreadable:
        print(f"error: {line}", file=sys.stderr)
    plots = {}
    if args.plot:
        taken: set[str] = set()
        for report in reports:
            name, k = Path(report.path).name, 1
            while name in taken:  # song.mp3 from two folders
                k += 1
                name = f"{Path(report.path).name}-{k}"
            taken.add(name)
            plots[report.path] = str(plot_report(report, args.plot, name))
    if args.json:
        print(json.dumps({"model": model_summary(model), "files": [r.as_dict() | ({"plot": plots[r.path]} if plots else {})
                                                                  for r in reports],
                          "unreadable": unreadable}, indent=2, ensure_ascii=False))  # fmt: skip
    elif args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["file", "container", "codec", "bitrate_kbps", "bitrate_mode", "sample_rate", "claim",
                         "bandwidth_hz", "class", "verdict", "detail", "confidence"])  # fmt: skip
        for r in reports:
            h = r.header
            writer.writerow([r.path, h.container, h.codec or "", h.bitrate_kbps or "", h.bitrate_mode or "",
                             h.sample_rate or "", h.claim, f"{r.bandwidth_hz:.0f}", r.group, r.verdict, r.detail,
                             "" if r.confidence is None else f"{r.confidence:.4f}"])  # fmt: skip
    else:
        print(model_summary(model))
        for r in reports:
            band = f"{r.bandwidth_hz / 1000:.1f} kHz" if r.has_cutoff else "no cut-off"
            confidence = "" if r.confidence is None else f" ({r.confidence:.0%})"
            print(f"{r.path}: {r.header.claim}; bandwidth {band}; looks {group_label(r.group)}; {r.detail}{confidence}")
        if plots:
            print(f"wrote {len(plots)} spectrogram(s) to {args.plot}")
    if unreadable:
        print(f"genrelab quality: {len(unreadable)} input(s) could not be used; the others were checked", file=sys.stderr)
    return 2 if not reports else (1 if unreadable else 0)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``quality-data`` and ``quality`` sub-commands."""
    p = sub.add_parser(
        "quality-data",
        help="the quality_data stage: lossless sources through every encoder condition, labelled",
        description="Render the lossless sources of params.yaml's `quality.corpus` (demo styles at 44.1 kHz, "
        "each source's bandwidth checked), put each through every condition (LAME CBR/VBR, FLAC, transcoding "
        "chains), and write the files to data/quality/files/<source>/ with files.csv (the chain, the nominal, "
        "effective and collision-group labels), sources.csv and excerpts.csv (random 10 s and 30 s excerpts).",
        epilog="example:\n  genrelab quality-data\n  dvc exp run -S quality.corpus.sources_per_style=10",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--params", type=Path, default=Path("params.yaml"))
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_quality_data)

    p = sub.add_parser(
        "quality",
        help="is it really 320 kbps? the true quality of MP3 and lossless files",
        description="For each file: the header's claim (container, codec, bitrate), the measured bandwidth\n"
        "(the encoder's low-pass, found as a steep edge in the spectrum), the quality the spectrum\n"
        "looks like (a LAME collision group: settings whose low-pass is the same), and a verdict:\n"
        "genuine, transcoded from ≈X kbps, fake lossless from ≈X kbps, or undecidable, with a\n"
        "confidence. Only a few excerpts of each file are decoded. The model comes from\n"
        "`dvc repro quality_models`; the book's quality chapter says how far to trust it, and that\n"
        "AAC, Vorbis, Opus and WMA files are outside what it learned (undecidable). ALAC, WAV and\n"
        "AIFF claim lossless, as FLAC does.\n\n"
        "exit status: 0 every file checked, 1 some could not be read (a line each on stderr),\n"
        "2 none could, or no model.",
        epilog="example:\n  genrelab quality album/ song.mp3\n  genrelab quality music/ --csv > quality.csv\n"
        "  genrelab quality rip.flac --plot spectrograms/ --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="FILE_OR_FOLDER", help="audio files, or folders (walked)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="machine-readable: {model, files: [...], unreadable: [...]}")
    out.add_argument("--csv", action="store_true", help="one row per file: header, bandwidth, class, verdict")
    p.add_argument("--plot", type=Path, default=None, metavar="DIR", help="write an annotated spectrogram PNG per file")
    p.add_argument("--excerpts", type=int, default=3, metavar="N", help="excerpts decoded per file (default 3)")
    p.add_argument("--excerpt-seconds", type=float, default=10.0, metavar="S", help="seconds each (default 10)")
    p.add_argument("--jobs", type=int, default=2, metavar="N", help="files measured at once (processes; default 2)")
    p.add_argument("--model", type=Path, default=Path("models/quality/model.joblib"),
                   help="the quality model (default models/quality/model.joblib, from `dvc repro quality_models`)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_quality)
