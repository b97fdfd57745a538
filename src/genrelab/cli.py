"""The ``genrelab`` command line.

Each sub-command is a thin wrapper over one module; its parser and handler live in its group's
module of :mod:`genrelab.commands`. Heavy imports happen inside the handler so that
``genrelab --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys

from genrelab.commands import data, inference, quality, report, study


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genrelab",
        description="Music genre classification study: demo corpus, validation, features, book.",
        epilog="The whole study runs with `make repro` (or `dvc repro`); see README.md.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (data, study, quality, inference, report):  # the order of `genrelab --help`
        group.add_parsers(sub)
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
