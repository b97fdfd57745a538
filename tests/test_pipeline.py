"""End to end: `dvc repro` on a tiny demo corpus, in a scratch copy of the repository.

This is the path a user takes (`make repro`), shrunk to a tiny profile: the corpus is small and
the models are cheap, but every stage, the results table and the book are real.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import BIN, pipeline_env

pytestmark = pytest.mark.slow


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=pipeline_env(), capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def test_the_study_tests_run_in_one_xdist_group(request, built_project):
    """Under ``make test`` (``--dist loadgroup``) every test of the tiny studies is in one group, so
    each study is built once; pytest 9.2 drops the groups without a word (pytest-xdist #1386)."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with --dist loadgroup (make test uses it)")
    assert request.node.nodeid.endswith("@study")


def test_book_is_built_with_the_data_chapter(built_project):
    index = built_project / "book/_build/html/index.html"
    assert index.exists()
    html = (built_project / "book/_build/html/intro.html").read_text()
    assert "generated demo corpus" in html and "<em>not</em> GTZAN" in html  # rendered markdown
    chapter = next((built_project / "book/_build/html").rglob("01-data.html"))
    text = chapter.read_text()
    assert "Duplicates" in text and "cross labels" in text


def test_every_citation_is_rendered_not_printed_raw(built_project):
    pages = list((built_project / "book/_build/html").rglob("*.html"))
    raw = [page.name for page in pages if "{cite}" in page.read_text()]
    assert pages and raw == []
    cnn = next(page for page in pages if page.name == "05-cnn.html").read_text()
    assert "Pons" in cnn and "references.html" in cnn  # the random-weights note cites through the role



def test_duplicates_found_are_exactly_the_injected_ones(built_project):
    meta = pd.read_csv(built_project / "data/raw/metadata.csv", keep_default_na=False)
    injected = {frozenset(p) for p in zip(meta["track_id"], meta["duplicate_of"]) if p[1]}
    found = pd.read_csv(built_project / "data/interim/duplicates.csv")
    assert {frozenset(p) for p in zip(found["track_a"], found["track_b"])} == injected
    assert set(found["kind"]) == {"exact", "near"}
    assert found.loc[found["kind"] == "exact", "cross_label"].all()


def test_results_table_has_every_approach_model_protocol_and_level(built_project):
    scores = pd.read_csv(built_project / "results/scores.csv")
    protocols = {"random_segment", "track_grouped", "artist_grouped"}  # no fault_filtered: not GTZAN
    levels = {
        "audio_features": {"segment", "track", "clip"},
        "spectrogram_pixels": {"segment", "track"},
        "spectrogram_hog": {"segment", "track"},
        "spectrogram_shelf": {"segment", "track"},
        "cnn_scratch": {"segment", "track"},
        "cnn_transfer": {"segment", "track"},
        "musicnn_embeddings": {"segment", "track", "clip"},  # clip: the published pipeline
        "musicnn_finetune": {"segment", "track"},
    }
    assert set(scores["approach"]) == set(levels)
    for approach, expected in levels.items():
        rows = scores[scores["approach"] == approach]
        assert set(rows["protocol"]) == protocols, approach
        assert set(rows["level"]) == expected, approach
    audio = scores[scores["approach"] == "audio_features"]
    assert audio.groupby(["protocol", "level"])["model"].nunique().eq(4).all()
    assert scores["model"][scores["approach"] == "cnn_transfer"].str.contains(r"\[random\]").all()
    embeddings = scores[scores["approach"] == "musicnn_embeddings"]
    assert set(embeddings["model"]) == {"MSD_musicnn.max_pool+logreg_l2", "MSD_musicnn.max_pool+pca128w_svm_rbf_vote[segments]"}  # musicnn.published.hop_seconds: null
    assert scores[["accuracy", "ci_low", "ci_high"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (scores["ci_low"] <= scores["accuracy"]).all() and (scores["accuracy"] <= scores["ci_high"]).all()


def test_every_approach_selects_one_entry_per_protocol_and_scope_inside_the_training_data(built_project):
    from genrelab.evaluation.results import SCOPES, read_scores

    scores = read_scores(built_project / "results/scores.csv")
    assert scores["select_score"].between(0, 1).all() and (scores["select_folds"] >= 1).all()
    assert scores["select_by"].str.len().gt(0).all()
    for levels in SCOPES.values():
        part = scores[scores["level"].isin(levels)]
        assert part.groupby(["approach", "protocol"])["selected"].sum().eq(1).all()
    methods = scores[scores["protocol"] == "artist_grouped"].drop_duplicates("approach").set_index("approach")["select_by"]
    assert methods["audio_features"].startswith("2-fold CV grouped by artists")
    assert methods["spectrogram_hog"] == methods["musicnn_embeddings"] == "one validation fold (a fifth of the training artists)"
    assert methods["cnn_scratch"] == "the early-stopping hold-out (whole training groups)"
    assert (built_project / "results/plots/oracle_gap.csv").is_file()


def test_grouped_protocols_never_test_a_training_track(built_project):
    splits = pd.read_csv(built_project / "data/interim/splits.csv", dtype=str, keep_default_na=False)
    predictions = pd.read_parquet(built_project / "results/predictions/audio_features.parquet")
    for protocol in ("track_grouped", "artist_grouped"):
        tested = set(predictions.loc[predictions["protocol"] == protocol, "track_id"])
        train = set(splits.loc[splits[protocol] == "train", "track_id"])
        assert tested and not tested & train, protocol


def test_metrics_are_listed_by_dvc(built_project):
    out = run([str(BIN / "dvc"), "metrics", "show", "--json"], built_project).stdout
    for name in ("prepare.json", "features.json", "spectrograms.json", "models/audio_features.json",
                 "models/spectrogram_hog.json", "models/cnn_scratch.json", "models/musicnn_embeddings.json"):
        assert name in out


def test_model_metrics_are_the_selected_entries_and_fit_a_terminal(built_project):
    from genrelab.evaluation.results import read_scores

    scores = read_scores(built_project / "results/scores.csv")
    shown = run([str(BIN / "dvc"), "metrics", "show", "metrics/models"], built_project).stdout.splitlines()
    assert len(shown) == 1 + scores["approach"].nunique(), "\n".join(shown)
    every = run([str(BIN / "dvc"), "metrics", "show"], built_project).stdout.splitlines()  # every stage's, one table
    assert len(every) > len(shown) and max(map(len, every)) <= 200, "\n".join(every)
    metrics = json.loads((built_project / "metrics/models/audio_features.json").read_text())
    picked = scores[scores["selected"] & (scores["approach"] == "audio_features") & scores["level"].isin(["track", "clip"])]
    assert {r.protocol: r.accuracy for r in picked.itertuples()} == pytest.approx(metrics, abs=5e-5)


def test_a_later_stage_param_does_not_rerun_prepare(built_project):
    path = built_project / "params.yaml"
    original = path.read_text()
    params = yaml.safe_load(original)
    params["audio_models"]["models"]["knn"]["grid"]["n_neighbors"] = [3]
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        status = yaml.safe_load(run([str(BIN / "dvc"), "status", "--json"], built_project).stdout)
    finally:
        path.write_text(original)
    assert "audio_models" in status
    assert not {"prepare", "features", "spectrograms", "image_models", "cnn"} & set(status)


@pytest.mark.parametrize("path, may_stale", [
    ("src/genrelab/pretrained/musicnn.py", {"embeddings", "musicnn", "export", "recommend", "scores", "compare", "book"}),
    ("src/genrelab/quality/check.py", {"quality_data", "quality_models", "book"}),
])  # fmt: skip
def test_a_comment_in_one_module_stales_only_what_runs_it(built_project, path, may_stale):
    """``dvc status`` after appending a comment: the stages that import the module and those that read their outputs."""
    source = built_project / path
    original = source.read_text()
    source.write_text(original + "# a comment\n")
    try:
        status = yaml.safe_load(run([str(BIN / "dvc"), "status", "--json"], built_project).stdout) or {}
    finally:
        source.write_text(original)
    stale = set(status) - {"external"}  # always_changed: it fingerprints the third-party inputs on every run
    assert stale and stale <= may_stale, sorted(stale)
