"""The chapter notebooks read as a report: code hidden by default, the finding first, alt text on figures.

The browser test (test_book_browser.py) checks the built pages; these check the notebooks
themselves, so a new cell is caught without building the book.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
HIDDEN = {"remove-input", "hide-input", "parameters"}
FIGURE = re.compile(r"plt\.show\(\)|display\(plot_|plot_[a-z_]+\(.*\)\)$", re.M)


def code_cells(path: Path) -> list:
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_input_is_hidden_or_removed(path):
    shown = [c.source.splitlines()[0] for c in code_cells(path) if not HIDDEN & set(c.metadata.get("tags", []))]
    assert not shown, f"{path.name}: code cells without remove-input or hide-input: {shown}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_chapter_opens_with_its_finding(path):
    """Title, parameters, a set-up cell that shows nothing, then the finding, before any table."""
    title, parameters, setup, finding = nbformat.read(path, as_version=4).cells[:4]
    assert title.cell_type == "markdown" and title.source.startswith("# ") and "\n" not in title.source.strip()
    assert "parameters" in parameters.metadata.get("tags", [])
    last = setup.source.rstrip().splitlines()[-1]
    assert "display(" not in setup.source and not re.match(r"^[\w.]+(\(.*\))?$", last), (
        f"{path.name}: the set-up cell shows something before the finding")
    assert re.match(r"display\(Markdown\((findings\.\w+|[\w.]*_finding)\(", finding.source), (
        f"{path.name}: the fourth cell is not the finding")
    assert "remove-input" in finding.metadata.get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_cell_has_alt_text(path):
    missing = [c.source.splitlines()[0] for c in code_cells(path) if FIGURE.search(c.source)
               and not c.metadata.get("mystnb", {}).get("image", {}).get("alt", "").strip()]
    assert not missing, f"{path.name}: figure cells without mystnb.image.alt metadata: {missing}"
