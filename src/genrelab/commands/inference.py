"""The commands on new audio: ``tags``, ``export`` (ship the model), ``predict``, ``recommend``, ``serve``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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


def _cmd_predict(args: argparse.Namespace) -> int:
    import csv
    import json

    from genrelab.data.files import find_audio
    from genrelab.inference.export import shipped_folder
    from genrelab.inference.predict import Predictor, predict_files

    predictor = Predictor.load(shipped_folder(args.models))
    found = find_audio(args.inputs)
    files, missing = found.files, found.missing
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


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``tags``, ``export``, ``predict``, ``recommend`` and ``serve`` sub-commands."""
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
