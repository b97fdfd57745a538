"""Build the HTML book from notebooks that the pipeline has already executed.

The intro page includes a summary of the data this build actually used, written here from the
``prepare`` stage's outputs, so the book never claims a dataset it did not run on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from genrelab.config import load_params
from genrelab.data.manifest import usable_tracks
from genrelab.data.sources.registry import get
from genrelab.errors import DataError

INTERIM_DIR = Path("data/interim")
def data_summary(interim_dir: str | Path, source: str) -> str:
    """Markdown describing the corpus of this build: source, counts, exclusions, duplicates, splits."""
    interim = Path(interim_dir)
    manifest = _read(interim / "manifest.csv")
    splits = _read(interim / "splits.csv")
    duplicates = _read(interim / "duplicates.csv")
    ok = usable_tracks(manifest)
    n_excluded = len(manifest) - len(ok)
    n_artists = ok["artist"].replace("", pd.NA).dropna().nunique()
    lines = [
        f"This build ran on {get(source).description}",
        "",
        f"- **{len(manifest)}** audio files found; **{len(ok)}** used, **{n_excluded}** excluded "
        "(each listed with its reason in the data chapter).",
        f"- **{ok['genre'].nunique()}** classes, **{n_artists}** known artists, "
        f"**{pd.to_numeric(ok['duration_s']).sum() / 3600:.2f} h** of audio.",
        f"- Duplicates found: **{(duplicates['kind'] == 'exact').sum()}** exact and "
        f"**{(duplicates['kind'] == 'near').sum()}** near pairs, "
        f"**{int(duplicates['cross_label'].astype(bool).sum())}** of them across labels.",
        "",
        "| protocol | train tracks | test tracks | excluded |",
        "| --- | --- | --- | --- |",
    ]
    from genrelab.evaluation.splits import available_protocols

    for protocol in available_protocols(splits):
        counts = splits[protocol].value_counts()
        train = int(counts.get("train", 0) + counts.get("valid", 0))
        lines.append(f"| `{protocol}` | {train} | {int(counts.get('test', 0))} | {int(counts.get('excluded', 0))} |")
    lines.append("")
    lines.append("Under `random_segment` the table counts tracks; its segments are then split one by one.")
    return "\n".join(lines) + "\n"


def clean_chapter(source: Path, target: Path) -> None:
    """Copy an executed notebook for the book, dropping what a reader should not see.

    Parameter cells (papermill's injected one and the defaults it overrides) are removed, and so
    is every stderr stream (library warnings, TensorFlow's C++ log lines): they are log noise,
    not results. The stage's own output is left untouched, so DVC sees no change.
    """
    import nbformat

    notebook = nbformat.read(source, as_version=4)
    hidden = {"parameters", "injected-parameters"}
    notebook.cells = [c for c in notebook.cells if not hidden & set(c.get("metadata", {}).get("tags", []))]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)


def build_book(book_dir: str | Path = "book", *, params_file: str | Path = "params.yaml") -> int:
    """Write the generated pages, then run ``jupyter-book build`` with warnings as errors.

    Returns the build's exit status (non-zero on a missing page, figure or reference).
    """
    book_dir = Path(book_dir)
    params = load_params(params_file)
    generated = book_dir / "_generated"
    generated.mkdir(parents=True, exist_ok=True)
    (generated / "data_summary.md").write_text(data_summary(INTERIM_DIR, params["data"]["source"]))
    for chapter in sorted((book_dir / "chapters").glob("*.ipynb")):
        clean_chapter(chapter, generated / "chapters" / chapter.name)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jupyter_book), "build", str(book_dir), "--warningiserror", "--keep-going", "--quiet"]
    return subprocess.call(cmd)


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"{path} is missing: run the prepare stage first (dvc repro prepare).")
    return pd.read_csv(path, keep_default_na=False)
