"""The ``book`` command."""

from __future__ import annotations

import argparse
from pathlib import Path


def _cmd_book(args: argparse.Namespace) -> int:
    from genrelab.report.book import build_book

    return build_book(args.book_dir, params_file=args.params)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``book`` sub-command."""
    p = sub.add_parser(
        "book",
        help="build the HTML book from executed notebooks",
        description="Write the data summary page and build book/_build/html with Jupyter Book "
        "(no execution at build time; warnings are errors).",
    )
    p.add_argument("--book-dir", type=Path, default=Path("book"))
    p.add_argument("--params", type=Path, default=Path("params.yaml"))
    p.set_defaults(func=_cmd_book)
