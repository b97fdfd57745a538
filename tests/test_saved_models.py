"""Saved models: the evaluation loop saves every fitted model, genrelab.models.load restores it."""

from __future__ import annotations

import joblib
import numpy as np
import pytest

from genrelab import models
from genrelab.approaches.audio_features import make_models
from genrelab.evaluation.loop import evaluate
from genrelab.models import ModelError, SavedModel, load, model_path, save
from test_evaluation import ALL, _clips, _corpus

FEATURES = {"table": "toy", "columns": ["row_id", "a", "b", "c", "d", "e"]}


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    X, y, rows, splits = _corpus()
    X, y, rows = _clips(X, y, rows)
    models_dir = tmp_path_factory.mktemp("models") / "toy_approach"
    chosen = make_models({"logreg_l2": {}, "random_forest": {"n_estimators": 10}, "knn": {"grid": {"n_neighbors": [1, 3]}}})
    result = evaluate(X, y, rows, splits, approach="toy_approach", models=chosen, protocols=list(ALL), level="clip",
                      cv_folds=0, progress=False, models_dir=models_dir, features=FEATURES)  # fmt: skip
    return X, result, models_dir


def test_every_model_and_protocol_is_saved_once(evaluated):
    _, result, models_dir = evaluated
    names = sorted(p.name for p in models_dir.iterdir())
    assert names == sorted(f"{m}__{p}__clip.joblib" for m, p in result.details)
    assert len(names) == 3 * len(ALL)


def test_a_reloaded_model_predicts_exactly_as_the_fitted_one(evaluated):
    X, result, models_dir = evaluated
    for (name, protocol), detail in result.details.items():
        saved = load(model_path(models_dir, name, protocol, "clip"))
        assert (saved.approach, saved.model, saved.protocol, saved.level) == ("toy_approach", name, protocol, "clip")
        assert saved.features == FEATURES and saved.versions["sklearn"]
        assert saved.classes == [str(c) for c in detail.estimator.classes_]
        np.testing.assert_array_equal(saved.predict_proba(X), detail.estimator.predict_proba(X))
        np.testing.assert_array_equal(saved.predict(X), detail.estimator.predict(X))


def test_load_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(ModelError, match=r"absent\.joblib: no such model file.*dvc repro"):
        load(tmp_path / "absent.joblib")
    (tmp_path / "bad.joblib").write_bytes(b"not a pickle")
    with pytest.raises(ModelError, match=r"bad\.joblib: cannot read the saved model"):
        load(tmp_path / "bad.joblib")
    joblib.dump({"format": 99}, tmp_path / "old.joblib")
    with pytest.raises(ModelError, match=r"old\.joblib: not a genrelab model of format 1 \(got 99\)"):
        load(tmp_path / "old.joblib")
    with pytest.raises(ModelError, match="end in .joblib"):
        save(SavedModel(None, "a", "m", "p", "clip", []), tmp_path / "m.pkl")


def test_another_library_version_warns(evaluated, tmp_path):
    _, result, models_dir = evaluated
    path = next(models_dir.iterdir())
    bundle = joblib.load(path)
    bundle["versions"] = {"sklearn": "0.1"}
    joblib.dump(bundle, tmp_path / "older.joblib")
    with pytest.warns(UserWarning, match=r"fitted with \{'sklearn': \('0.1', "):
        models.load(tmp_path / "older.joblib")
