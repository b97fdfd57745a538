"""README.md's result numbers are rendered from results/ and metrics/, and the check catches drift."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT
from genrelab.errors import DataError
from genrelab.report import readme

# The committed files the README's blocks read (the card is DVC-cached: copied where present).
SOURCES = ["results/public_gtzan_30s.csv", "results/scores.csv", "results/quality_scores.csv",
           "results/quality_verdicts.csv", "results/quality_generalisation.csv", "results/quality_styles.csv",
           "results/quality_command.csv",
           "results/stages/quality.json", "results/stages/quality_data.json", "results/stages/export.json",
           "models/predict/card.json", "models/predict_gtzan/card.json"]  # fmt: skip


@pytest.fixture
def copied(tmp_path) -> Path:
    """A scratch root holding copies of the committed sources and README.md."""
    for rel in SOURCES:
        if (ROOT / rel).exists():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / rel, tmp_path / rel)
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


def test_committed_readme_is_in_sync_with_the_committed_results():
    text = (ROOT / "README.md").read_text()
    assert set(m["name"] for m in readme.MARKER.finditer(text)) == set(readme.BLOCKS)
    assert readme.stale(text, ROOT) == [], "README.md disagrees with results/: run `make readme`"
    assert readme.update(text, ROOT) == text
    assert readme.main(["--check", "--readme", str(ROOT / "README.md"), "--root", str(ROOT)]) == 0


def test_a_changed_accuracy_fails_the_check_and_names_its_block(copied, capsys):
    path = copied / "results/public_gtzan_30s.csv"
    rows = pd.read_csv(path)
    rows.loc[(rows["model"] == "lightgbm") & (rows["protocol"] == "fault_filtered"), "accuracy"] = 0.9
    rows.to_csv(path, index=False)
    text = (copied / "README.md").read_text()
    before = next(line for line in text.splitlines() if line.startswith("| lightgbm | "))
    after = before.rsplit("|", 2)[0] + "| 90.0 |"  # its fault-filtered cell, the table's last

    assert readme.stale(text, copied) == ["public_gtzan"]  # the leakage sentence reads other columns
    args = ["--readme", str(copied / "README.md"), "--root", str(copied)]
    assert readme.main(["--check", *args]) == 1
    out = capsys.readouterr()
    assert f"+{after}" in out.out and f"-{before}" in out.out and "public_gtzan" in out.err
    assert (copied / "README.md").read_text() == text  # --check writes nothing

    assert readme.main(args) == 0  # rewriting brings it in sync, the new best model first
    assert readme.main(["--check", *args]) == 0
    table = (copied / "README.md").read_text().split("| --- | --- | --- | --- | --- |\n")[1]
    assert table.startswith(after + "\n")


def public_rows(accuracy: dict[tuple[str, str], float], half: float = 0.05) -> pd.DataFrame:
    return pd.DataFrame([{"model": m, "protocol": p, "accuracy": a, "ci_low": a - half, "ci_high": a + half,
                          "n_test": 20} for (m, p), a in accuracy.items()])  # fmt: skip


def test_the_leakage_sentence_is_the_range_of_drops_without_dummy(tmp_path):
    (tmp_path / "results").mkdir()
    public_rows({("a", "random_segment"): 0.80, ("a", "artist_grouped"): 0.70,     # drops 10.0 points
                 ("b", "random_segment"): 0.65, ("b", "artist_grouped"): 0.48,     # 17.0
                 ("c", "random_segment"): 0.70, ("c", "artist_grouped"): 0.58,     # 12.0
                 ("dummy", "random_segment"): 0.60, ("dummy", "artist_grouped"): 0.10}  # 50.0, left out
                ).to_csv(tmp_path / "results/public_gtzan_30s.csv", index=False)  # fmt: skip

    assert readme.leakage(tmp_path).startswith("Between 10.0 (a) and 17.0 points (b) vanish")
    table = readme.public_gtzan(tmp_path)
    assert "median half-width is 5.0 points" in table
    # Ranked by the most honest protocol present (artist_grouped here), best first.
    assert [line.split(" | ")[0] for line in table.splitlines()[4:]] == ["| a", "| c", "| b", "| dummy"]


def test_a_missing_file_renders_a_note_and_the_check_still_compares(copied):
    note = readme.render("leakage", copied / "empty")
    assert note == "_(`results/public_gtzan_30s.csv` is missing: run `make repro`, then `make readme`.)_"
    text = (copied / "README.md").read_text()
    (copied / "results/scores.csv").unlink()
    assert readme.stale(text, copied) == ["demo_segments"]
    assert "`results/scores.csv` is missing" in readme.update(text, copied)


def test_the_quality_block_reads_only_the_columns_it_needs(copied):
    path = copied / "results/quality_scores.csv"
    before = readme.quality(copied)
    rows = pd.read_csv(path)
    rows.insert(3, "a_future_column", 0.5)  # columns the quality stage may add change nothing
    rows["selected"] = ~rows["selected"]  # the shipped model is named by results/stages/quality.json, not this column
    rows.to_csv(path, index=False)
    assert readme.quality(copied) == before

    rows.drop(columns="macro_f1_low").to_csv(path, index=False)
    note = readme.render("quality", copied)
    assert note.startswith("_(`results/quality_scores.csv` lacks the column(s) macro_f1_low")


def test_the_card_line_quotes_the_card(tmp_path):
    card = {"approach": "audio_features", "model": "svm_rbf", "protocol": "artist_grouped",
            "selected_by": "whatever words the export stage uses",
            "test": {"accuracy": 0.755, "macro_f1": 0.7, "ci_low": 0.7, "ci_high": 0.8125, "n_test": 40}}  # fmt: skip
    (tmp_path / "models/predict").mkdir(parents=True)
    (tmp_path / "models/predict/card.json").write_text(json.dumps(card))
    line = readme.card(tmp_path)
    assert "`audio_features` / `svm_rbf`: 75.5 % test accuracy under `artist_grouped` (95 % CI 70.0–81.2 %" in line
    assert line.endswith("selected by: whatever words the export stage uses.")


def test_the_gtzan_card_line_quotes_the_gtzan_card(tmp_path):
    card = {"model": "logreg_l1", "protocol": "fault_filtered", "trained_on_tracks": 640, "classes": list("abcdefghij"),
            "selection": {"score": 0.4721, "std": 0.0, "folds": 1, "method": "official validation split"},
            "test": {"accuracy": 0.5655, "macro_f1": 0.55, "ci_low": 0.5069, "ci_high": 0.6241, "n_test": 290}}  # fmt: skip
    (tmp_path / "models/predict_gtzan").mkdir(parents=True)
    (tmp_path / "models/predict_gtzan/card.json").write_text(json.dumps(card))
    line = readme.gtzan_card(tmp_path)
    assert line.startswith("`models/predict_gtzan/card.json` ships `logreg_l1` for GTZAN's 10 genres: 56.5 % accuracy "
                           "on the 290 test clips of the `fault_filtered` split (95 % CI 50.7–62.4 %)")  # fmt: skip
    assert "valid clips alone (47.2 %" in line and line.endswith("the 640 train and valid clips.")
    # DVC-cached like the main card: a clone without it keeps the committed line.
    kept = "<!-- results:gtzan_card -->\nwritten where the card was present\n<!-- /results:gtzan_card -->\n"
    assert readme.update(kept, tmp_path / "clone") == kept


def test_a_card_line_stays_where_the_card_is_not_checked_out(tmp_path):
    # The card is DVC-cached: a fresh clone lacks it, and must not see the committed line as stale.
    line = "<!-- results:card -->\nwritten where the card was present\n<!-- /results:card -->\n"
    assert readme.update(line, tmp_path) == line
    empty = "<!-- results:card -->\n<!-- /results:card -->\n"
    assert "`models/predict/card.json` is missing" in readme.update(empty, tmp_path)


def test_an_unknown_marker_is_an_error():
    with pytest.raises(DataError, match="unknown block"):
        readme.update("<!-- results:nonsense -->\nold\n<!-- /results:nonsense -->\n", ROOT)
