"""The audio-feature model zoo: configuration from params, fitting, importances."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import yaml
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from genrelab.approaches.audio_features import MODEL_NAMES, InnerCV, feature_importance, make_models
from genrelab.config import ParamsError
from genrelab.models import ModelError


def _data(n_rows=240, n_features=6, n_classes=4, seed=0):
    """Rows whose class is set by feature 0 (plus noise); the other features are noise, on wild scales."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), n_rows // n_classes)
    X = rng.normal(size=(len(y), n_features)) * np.logspace(-3, 3, n_features)
    X[:, 0] = y + rng.normal(scale=0.3, size=len(y))
    return X, np.array([f"g{k}" for k in y], dtype=object)


def test_default_zoo_has_every_model_as_fresh_scaled_pipelines():
    models = make_models(None)
    assert tuple(models) == MODEL_NAMES
    for name, factory in models.items():
        model = factory()
        assert model is not factory(), name
        pipeline = model.estimator if isinstance(model, GridSearchCV) else model
        assert isinstance(pipeline, Pipeline) and isinstance(pipeline[0], StandardScaler), name


def test_every_model_fits_without_warnings_and_gives_probabilities():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ConvergenceWarning, LightGBM chatter, deprecations
        for name, factory in make_models(None).items():
            model = factory().fit(X, y)
            proba = model.predict_proba(X)
            assert proba.shape == (len(y), 4), name
            np.testing.assert_allclose(proba.sum(axis=1), 1.0, err_msg=name)
            if name != "dummy":
                assert np.mean(model.predict(X) == y) > 0.8, name


def test_listed_models_run_in_order_with_kwargs_and_enabled():
    models = make_models({"random_forest": {"n_estimators": 7}, "dummy": None, "mlp": {"enabled": False}})
    assert list(models) == ["random_forest", "dummy"]
    assert models["random_forest"]().named_steps["clf"].n_estimators == 7


def test_grid_and_nested_kwargs_are_applied():
    models = make_models({"tree": {"grid": {"max_depth": [2, 3]}, "inner_folds": 2, "criterion": "entropy"}})
    search = models["tree"]()
    assert search.param_grid == {"clf__max_depth": [2, 3]}
    assert search.cv.n_splits == 2
    assert search.estimator.named_steps["clf"].criterion == "entropy"
    bagging = make_models({"bagging": {"estimator__max_depth": 3}})["bagging"]()
    assert bagging.named_steps["clf"].estimator.max_depth == 3


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"svn_rbf": None}, "audio_models.models.svn_rbf'. Did you mean 'svm_rbf'"),
        ({"knn": {"n_neighbours": 3}}, "audio_models.models.knn.n_neighbours'"),
        ({"tree": {"grid": {"max_deph": [2]}}}, "audio_models.models.tree.grid.max_deph'"),
        ({"tree": {"grid": {"max_depth": 3}}}, "audio_models.models.tree.grid.max_depth' must be a non-empty list"),
        ({"svm_rbf": {"grid": {"C": [1, 10]}}}, "audio_models.models.svm_rbf': grid/inner_folds apply only"),
        ({"mlp": {"enabled": "no"}}, "audio_models.models.mlp.enabled' must be true or false"),
        ({"mlp": [64]}, "audio_models.models.mlp' must be a mapping"),
    ],
)
def test_bad_params_name_the_key(params, key):
    with pytest.raises(ParamsError, match=re.escape(key)):
        make_models(params)


@pytest.mark.parametrize("name", ["logreg_l2", "logreg_l1", "tree", "bagging", "random_forest", "lightgbm"])
def test_feature_importance_ranks_the_informative_feature_first(name):
    X, y = _data()
    model = make_models({name: None})[name]().fit(X, y)
    names = [f"f{i}" for i in range(X.shape[1])]
    importance = feature_importance(model, names)
    assert importance.index[0] == "f0"
    assert sorted(importance.index) == names and (importance >= 0).all()
    if name not in ("logreg_l2", "logreg_l1"):
        assert importance.sum() == pytest.approx(1.0)


def test_feature_importance_refuses_models_without_importances():
    X, y = _data()
    with pytest.raises(ModelError, match="neither coefficients nor feature importances"):
        feature_importance(make_models({"knn": None})["knn"]().fit(X, y), list("abcdef"))
    with pytest.raises(ModelError, match="not fitted"):
        feature_importance(make_models({"logreg_l2": None})["logreg_l2"](), list("abcdef"))


def test_inner_cv_is_grouped_with_groups_and_stratified_without():
    X, y = _data(n_rows=120)
    groups = np.arange(len(y)) // 4  # groups of four rows
    for fit, held_out in InnerCV(n_splits=3, shuffle=True, random_state=0).split(X, y, groups):
        assert not set(groups[fit]) & set(groups[held_out])
    plain = StratifiedKFold(3, shuffle=True, random_state=0).split(X, y)
    for (a, b), (c, d) in zip(InnerCV(n_splits=3, shuffle=True, random_state=0).split(X, y), plain):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


PARAMS_BLOCK = """
dummy: {}
logreg_none: {C: .inf}
logreg_l2: {C: 1.0}
logreg_l1: {C: 1.0}
tree: {grid: {max_depth: [4, 6, 8, 12, null]}, inner_folds: 3}
bagging: {n_estimators: 20}
random_forest: {n_estimators: 100}
knn: {grid: {n_neighbors: [1, 5, 15, 30]}, inner_folds: 3}
svm_rbf: {C: 10.0}
mlp: {hidden_layer_sizes: [64], alpha: 0.01}
lightgbm: {n_estimators: 200, learning_rate: 0.05, num_leaves: 15}
"""


def test_the_params_yaml_block_builds_the_default_zoo():
    models = make_models(yaml.safe_load(PARAMS_BLOCK))
    assert tuple(models) == MODEL_NAMES
    assert models["logreg_none"]().named_steps["clf"].C == np.inf
    assert models["tree"]().param_grid == {"clf__max_depth": [4, 6, 8, 12, None]}
    assert models["mlp"]().named_steps["clf"].hidden_layer_sizes == [64]


def test_svm_probabilities_survive_a_class_with_few_training_rows():
    from genrelab.approaches.audio_features import PlattSVC, make_models

    rng = np.random.default_rng(0)
    y = np.array(["a"] * 20 + ["b"] * 20 + ["c"] * 2 + ["d"], dtype=object)  # as a tiny corpus under a grouped protocol
    X = rng.normal(size=(len(y), 4)) + np.searchsorted(np.unique(y), y)[:, None]
    model = make_models({"svm_rbf": {"C": 1.0}})["svm_rbf"]().fit(X, y)
    assert model.named_steps["clf"].calibration_ == "in-sample"  # "d" has one row: nothing to hold out
    proba = model.predict_proba(X)
    assert proba.shape == (43, 4) and np.allclose(proba.sum(axis=1), 1)
    two = PlattSVC().fit(X[:42], y[:42])  # "c" has two rows: 2 folds
    assert two.calibration_ == "2-fold" and list(two.classes_) == ["a", "b", "c"]
    assert PlattSVC().fit(X[:40], y[:40]).calibration_ == "3-fold"
