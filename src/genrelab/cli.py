"""The ``genrelab`` command line.

Each sub-command is a thin wrapper over one module; heavy imports happen inside the handler so
that ``genrelab --help`` answers at once.
"""

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
    _report(problems)
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


def _report(problems) -> None:
    """Each problem on its own line on stderr, the files left out last; conversions only counted."""
    from genrelab.data.checks import sort_problems

    converted = [p for p in problems if p.kind == "conversion"]
    for problem in sort_problems(p for p in problems if p.kind != "conversion"):
        label = "error" if problem.severity == "error" else "warning"
        print(f"{label}: {problem.line()}", file=sys.stderr)
    if converted:
        print(f"note: {len(converted)} file(s) resampled or downmixed on load (listed in the problems file)",
              file=sys.stderr)


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
    from genrelab.config import load_params
    from genrelab.errors import AudioError
    from genrelab.stages.spectrograms import run_spectrograms

    try:
        result = run_spectrograms(load_params(args.params), progress=not args.quiet, strict=args.strict)
    except AudioError as err:  # --strict and some tracks failed
        print(f"genrelab spectrograms: error: {err}", file=sys.stderr)
        return 1
    _report(result.problems)
    print(f"wrote spectrograms of {result.n_tracks} tracks ({result.n_segments} segments) to {result.out_dir}")
    if result.problems:
        print(f"{len(result.problems)} track(s) failed and were left out (listed in {result.out_dir / 'problems.csv'})")
    return 1 if result.problems else 0


def _cmd_embeddings(args: argparse.Namespace) -> int:
    from genrelab.config import load_params
    from genrelab.stages.embeddings import run_embeddings

    result = run_embeddings(load_params(args.params), progress=not args.quiet)
    _report(result.problems)
    print(f"wrote embeddings of {result.n_tracks} tracks ({result.n_segments} segments, {result.n_patches} sliding "
          f"patches; {result.computed} computed, the rest cached) to {result.out_dir}")  # fmt: skip
    return 1 if result.problems else 0


def _cmd_quality_data(args: argparse.Namespace) -> int:
    from genrelab.config import load_params
    from genrelab.stages.quality import QUALITY, run_quality_data

    metrics = run_quality_data(load_params(args.params), progress=not args.quiet)
    print(f"wrote {metrics['files']} files ({metrics['conditions']} conditions of {metrics['sources']} sources, "
          f"{metrics['sources_excluded']} excluded for bandwidth) and {metrics['excerpts']} excerpts to {QUALITY}")  # fmt: skip
    return 0


def _cmd_quality(args: argparse.Namespace) -> int:
    import csv
    import json

    from genrelab.quality.check import check_files, group_label, load_model, model_summary
    from genrelab.report.quality import plot_report

    model = load_model(args.model)
    files, missing = _audio_inputs(args.inputs)
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


def _cmd_tags(args: argparse.Namespace) -> int:
    import json

    from genrelab.data.audio import load
    from genrelab.errors import AudioError
    from genrelab.pretrained.musicnn import load_model, tag_scores
    from genrelab.pretrained.musicnn_input import SR, sliding_patches

    model = load_model(args.checkpoint)
    results, failed = [], 0
    for path in args.files:
        try:
            patches = sliding_patches(load(path, sr=SR)[0], hop_seconds=3.0)
            if not len(patches):
                raise AudioError(f"{path}: shorter than one 3 s patch; the tagger needs at least 3 s of audio.")
        except AudioError as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
            continue
        tags = tag_scores(model.predict(patches, verbose=0)["taggram"], args.checkpoint, top=args.top)
        results.append({"file": str(path), "checkpoint": args.checkpoint, "patches": len(patches),
                        "tags": [{"tag": t, "score": round(s, 4)} for t, s in tags]})  # fmt: skip
        if not args.json:
            print(f"{path}: " + ", ".join(f"{t} {s:.2f}" for t, s in tags))
    if args.json:
        print(json.dumps(results, indent=2))
    if failed:
        print(f"genrelab tags: {failed} of {len(args.files)} file(s) could not be tagged", file=sys.stderr)
    return 2 if not results else (1 if failed else 0)


def _cmd_export(args: argparse.Namespace) -> int:
    from genrelab.config import load_params
    from genrelab.stages.export import run_export_stage

    result, gtzan, message = run_export_stage(load_params(args.params), progress=not args.quiet)
    card = result.card
    t = card["test"]
    print(f"shipped {card['approach']} / {card['model']} (chosen under {card['protocol']}: track accuracy "
          f"{t['accuracy']:.1%}, CI {t['ci_low']:.1%}-{t['ci_high']:.1%}); refitted: {card['refit']}; "
          f"recommender over {card['recommend']['tracks']} tracks -> {result.out_dir}/")  # fmt: skip
    if gtzan is None:
        print(f"genrelab export: {message}", file=sys.stderr)
        return 0
    t = gtzan["test"]
    print(f"shipped GTZAN's genres: {gtzan['model']} ({gtzan['protocol']} test accuracy {t['accuracy']:.1%}, CI "
          f"{t['ci_low']:.1%}-{t['ci_high']:.1%}, {t['n_test']} test clips) -> {message}")  # fmt: skip
    return 0


def _audio_inputs(inputs: list[Path]) -> tuple[list[Path], list[str]]:
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


def _cmd_predict(args: argparse.Namespace) -> int:
    import csv
    import json

    from genrelab.inference.export import shipped_folder
    from genrelab.inference.predict import Predictor, predict_files

    predictor = Predictor.load(shipped_folder(args.models))
    files, missing = _audio_inputs(args.inputs)
    for line in missing:
        print(f"error: {line}", file=sys.stderr)
    results = predict_files(predictor, files, progress=not args.quiet and not (args.json or args.csv))
    answers = [r for r in results if not isinstance(r, Exception)]
    for r in results:
        if isinstance(r, Exception):
            print(f"error: {r}", file=sys.stderr)
    if args.json:
        print(json.dumps({"model": predictor.summary(), "files": [a.as_dict(args.top) for a in answers]}, indent=2))
    elif args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["file", "segments", "seconds", *predictor.classes])
        for a in answers:
            writer.writerow([a.path, a.n_segments, f"{a.seconds:.2f}", *(f"{v:.6f}" for v in a.probabilities)])
    else:
        print(predictor.summary())
        for a in answers:
            tops = ", ".join(f"{g} {p:.2f} (±{s:.2f})" for g, p, s in a.top(args.top))
            print(f"{a.path}: {tops}  [{a.n_segments} segments, {a.seconds:.1f} s]")
    failed = len(results) - len(answers) + len(missing)
    if failed:
        print(f"genrelab predict: {failed} input(s) could not be used; the others were answered", file=sys.stderr)
    return 2 if not answers else (1 if failed else 0)


def _cmd_recommend(args: argparse.Namespace) -> int:
    import json

    from genrelab.data.tags import artist_tag
    from genrelab.inference.inputs import AudioFile
    from genrelab.inference.predict import Predictor

    index = Predictor.load(args.models).recommender()
    source = AudioFile(args.file)
    artist = args.artist or artist_tag(args.file)
    exclude, copies = index.file_exclusions(source, artist)
    found = index.query(index.file_vector(source), args.k, None if args.same_artist else exclude)
    if args.json:
        print(json.dumps({"file": str(args.file), "artist": artist, "duplicates_in_corpus": copies,
                          "artist_filter": not args.same_artist, "space": index.space,
                          "neighbours": found.to_dict("records")}, indent=2))  # fmt: skip
        return 0
    note = "" if args.same_artist else f" (filtered: artist {artist or 'unknown'}; corpus copies: {', '.join(copies) or 'none'})"
    print(f"{args.file}: the {len(found)} nearest corpus tracks in the {index.space['space']} space{note}")
    for rank, row in enumerate(found.itertuples(), start=1):
        print(f"{rank:2d}. {row.track_id:<20} {row.genre:<10} {row.artist:<20} {row.distance:7.2f}  {Path(index.root) / row.path}")  # fmt: skip
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from genrelab.config import load_params
    from genrelab.inference.serve import serve

    settings = load_params(args.params)["serve"]
    settings.update({k: v for k, v in (("port", args.port), ("host", args.host)) if v is not None})
    return serve(args.models, settings)


def _cmd_book(args: argparse.Namespace) -> int:
    from genrelab.report.book import build_book

    return build_book(args.book_dir, params_file=args.params)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genrelab",
        description="Music genre classification study: demo corpus, validation, features, book.",
        epilog="The whole study runs with `make repro` (or `dvc repro`); see README.md.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    from genrelab.config import MUSICNN_CHECKPOINTS
    from genrelab.data.audio import extensions_text

    p = sub.add_parser(
        "tags",
        help="tag audio files with a pretrained musicnn network",
        description="The musicnn tagger (Pons & Serra 2019, ported to Keras): each file is cut into\n"
        "3 s patches at 16 kHz, tagged, and its patches' tag probabilities averaged; the top N\n"
        "tags are printed with their scores. MTT checkpoints know 50 MagnaTagATune tags\n"
        "(classical, techno, guitar, ...), MSD ones 50 Million Song Dataset tags (rock, jazz, 80s, ...).\n\n"
        "exit status: 0 every file tagged, 1 some could not be read (a line each on stderr),\n"
        "2 none could, or a usage error (for example the musicnn wheel missing).",
        epilog="example:\n  genrelab tags song.mp3 clips/*.wav --checkpoint MTT_musicnn --top 3\n"
        "  genrelab tags song.mp3 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help=f"audio files ({extensions_text()})")
    p.add_argument("--checkpoint", default="MTT_musicnn", choices=MUSICNN_CHECKPOINTS, help="default MTT_musicnn")
    p.add_argument("--top", type=int, default=5, metavar="N", help="tags per file (default 5)")
    p.add_argument("--json", action="store_true", help="machine-readable output: a list of {file, tags: [{tag, score}]}")
    p.set_defaults(func=_cmd_tags)

    p = sub.add_parser(
        "export",
        help="the export stage: choose, refit and ship the model genrelab predict uses",
        description="Choose the model to ship by the rule in params.yaml's `predict` section (the best "
        "track-level test score under the most honest protocol present), refit it on every ok track, "
        "and write models/predict/ (the model, card.json with its honest accuracy, the recommender index).",
    )
    p.add_argument("--params", type=Path, default=Path("params.yaml"))
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_export)

    models_help = "the shipped model's folder (default models/predict, written by `dvc repro export`)"
    p = sub.add_parser(
        "predict",
        help="genre probabilities of your audio files",
        description="Cut each file into the study's 3 s segments, score them with the shipped model and\n"
        "average their probabilities, as the study scores tracks. Prints the top genres with their\n"
        "spread over the segments, after one line naming the model and its measured accuracy.\n"
        "Any length, mono or stereo, any sample rate. Folders are walked.\n"
        f"Formats: {extensions_text()}.\n"
        "--model gtzan answers with GTZAN's ten genres instead (30 s windows, a model of the public\n"
        "GTZAN feature table chosen on the fault-filtered split's valid clips).\n\n"
        "exit status: 0 every file answered, 1 some could not be read (a line each on stderr),\n"
        "2 none could, or no shipped model.",
        epilog="example:\n  genrelab predict song.mp3 music/ --top 3\n  genrelab predict --model gtzan song.mp3   "
        "# GTZAN's genres, whatever corpus the study ran on\n  genrelab predict clips/ --json > predictions.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="FILE_OR_FOLDER")
    p.add_argument("--top", type=int, default=3, metavar="N", help="genres shown per file (default 3)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="machine-readable: {model, files: [{file, top, probabilities}]}")
    out.add_argument("--csv", action="store_true", help="one row per file: file, segments, seconds, a column per genre")
    p.add_argument("--model", "--models", dest="models", default="main", metavar="NAME_OR_DIR",
                   help="main: the study's model (models/predict); gtzan: GTZAN's ten genres (models/predict_gtzan, "
                   "trained on the public GTZAN table); or a shipped model's folder (default main; both written "
                   "by `dvc repro export`)")  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser(
        "recommend",
        help="the nearest tracks of the study's corpus to your file",
        description="The k nearest corpus tracks to FILE in the space of params.yaml's `recommend` section\n"
        "(musicnn embeddings or the 57 features, standardised), with genre, artist, distance and path.\n"
        "By default no neighbour is by the file's artist (its tag, or --artist), nor by an artist of the\n"
        "corpus tracks it duplicates (found by fingerprint): the artist filter of Flexer & Schnitzer.",
        epilog="example:\n  genrelab recommend song.wav -k 5\n  genrelab recommend song.mp3 --same-artist --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("-k", type=int, default=5, help="neighbours (default 5)")
    p.add_argument("--same-artist", action="store_true", help="allow the file's own artist and its duplicates")
    p.add_argument("--artist", default=None, help="the file's artist, when its tags lack it")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--models", type=Path, default=Path("models/predict"), help=models_help)
    p.set_defaults(func=_cmd_recommend)

    p = sub.add_parser(
        "serve",
        help="a local web page: drop a song, see its genres and similar tracks",
        description="A small local web app (Flask) on 127.0.0.1: upload an audio file and see its genre\n"
        "probabilities as a bar chart and the nearest corpus tracks with audio players. The model stays\n"
        "loaded; uploads are limited in size (serve.max_upload_mb), kept in a temporary folder and\n"
        "deleted after each answer.",
        epilog="example:\n  genrelab serve --port 8000   # then open http://127.0.0.1:8000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", type=int, default=None, help="default serve.port (8000)")
    p.add_argument("--host", default=None, help="default serve.host (127.0.0.1: this machine only)")
    p.add_argument("--params", type=Path, default=Path("params.yaml"))
    p.add_argument("--models", type=Path, default=Path("models/predict"),
                   help=models_help + "; the page also offers models/predict_gtzan when it was shipped")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser(
        "book",
        help="build the HTML book from executed notebooks",
        description="Write the data summary page and build book/_build/html with Jupyter Book "
        "(no execution at build time; warnings are errors).",
    )
    p.add_argument("--book-dir", type=Path, default=Path("book"))
    p.add_argument("--params", type=Path, default=Path("params.yaml"))
    p.set_defaults(func=_cmd_book)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from genrelab.errors import GenrelabError

    try:
        return args.func(args)
    except GenrelabError as err:
        print(f"genrelab {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
