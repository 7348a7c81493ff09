"""Level 1: decision trees and forests on the host runtime vs scikit-learn."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from emlearn_gen.testing.datasets import CLASSIFICATION_SETS, REGRESSION_SETS, probe_inputs
from sklearn.datasets import make_classification
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreeClassifier,
    ExtraTreeRegressor,
)

import emlearn_gen
from emlearn_gen.testing import HostTarget, run_model
from emlearn_gen.testing.reference import assert_matches_sklearn

CLASSIFIERS = {
    "tree": lambda: DecisionTreeClassifier(random_state=0),
    "extra_tree": lambda: ExtraTreeClassifier(random_state=0),
    "forest": lambda: RandomForestClassifier(n_estimators=30, random_state=0),
    "forest_depth4_leaf5": lambda: RandomForestClassifier(
        n_estimators=40, max_depth=4, min_samples_leaf=5, random_state=0
    ),
    "forest_balanced": lambda: RandomForestClassifier(
        n_estimators=25, class_weight="balanced", min_samples_leaf=3, random_state=0
    ),
    "extra_trees": lambda: ExtraTreesClassifier(n_estimators=30, random_state=0),
    "extra_trees_depth6": lambda: ExtraTreesClassifier(
        n_estimators=30, max_depth=6, class_weight="balanced_subsample", random_state=0
    ),
}

REGRESSORS = {
    "tree": lambda: DecisionTreeRegressor(random_state=0),
    "extra_tree": lambda: ExtraTreeRegressor(random_state=0),
    "tree_depth5_leaf4": lambda: DecisionTreeRegressor(max_depth=5, min_samples_leaf=4, random_state=0),
    "forest": lambda: RandomForestRegressor(n_estimators=30, random_state=0),
    "forest_leaf5": lambda: RandomForestRegressor(n_estimators=30, min_samples_leaf=5, random_state=0),
    "extra_trees": lambda: ExtraTreesRegressor(n_estimators=30, random_state=0),
}


def _split(X, y, seed=0):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    cut = int(len(X) * 0.7)
    return X[order[:cut]], y[order[:cut]], X[order[cut:]]


@pytest.mark.parametrize("dtype", [None, "float32"])
@pytest.mark.parametrize("data", CLASSIFICATION_SETS)
@pytest.mark.parametrize("model", sorted(CLASSIFIERS))
def test_classifier_matches_sklearn(model, data, dtype, load_data):
    X, y = load_data(data)
    X_train, y_train, X_test = _split(X, y)
    est = CLASSIFIERS[model]().fit(X_train, y_train)
    cm = emlearn_gen.convert(est, name="clf", dtype=dtype)
    X_eval = np.concatenate([X_test, X_train[:50], probe_inputs(est, X_train)])
    assert_matches_sklearn(cm, est, X_eval)


@pytest.mark.parametrize("dtype", [None, "float64"])
@pytest.mark.parametrize("data", REGRESSION_SETS)
@pytest.mark.parametrize("model", sorted(REGRESSORS))
def test_regressor_matches_sklearn(model, data, dtype, load_data):
    X, y = load_data(data)
    X_train, y_train, X_test = _split(X, y)
    est = REGRESSORS[model]().fit(X_train, y_train)
    cm = emlearn_gen.convert(est, name="reg", dtype=dtype)
    X_eval = np.concatenate([X_test, X_train[:50], probe_inputs(est, X_train)])
    assert_matches_sklearn(cm, est, X_eval)
    assert cm.predict(X_eval).shape == est.predict(X_eval).shape


def test_default_dtypes(load_data):
    X, y = load_data("iris")
    clf = emlearn_gen.convert(RandomForestClassifier(n_estimators=3).fit(X, y))
    reg = emlearn_gen.convert(RandomForestRegressor(n_estimators=3).fit(X, y))
    assert clf.packed.real == "float64" and reg.packed.real == "float32"
    assert "dtype=float64" in clf.to_source() and "dtype=float32" in reg.to_source()


def _tie_prone_forests():
    """Small forests with impure leaves on coarsely rounded features: class
    probabilities that tie exactly in real arithmetic are common."""
    for seed in range(6):
        X, y = make_classification(
            400, 10, n_informative=4, n_classes=3, flip_y=0.2, random_state=seed
        )
        X = np.round(X, 1)
        X_eval = np.round(np.random.default_rng(seed).normal(size=(3000, 10)) * 2, 1)
        for est in (
            RandomForestClassifier(n_estimators=7, max_depth=3, random_state=seed),
            ExtraTreesClassifier(n_estimators=6, min_samples_leaf=3, random_state=seed),
        ):
            yield est.fit(X, y), X_eval


def test_exact_ties_are_decided_as_sklearn_decides_them():
    """float64 (the classifier default) reproduces scikit-learn's rounding, so
    even exact ties resolve the same way; float32 may differ only there."""
    n_float32_differences = 0
    for est, X_eval in _tie_prone_forests():
        want = est.predict(X_eval)
        np.testing.assert_array_equal(emlearn_gen.convert(est).predict(X_eval), want)
        got32 = emlearn_gen.convert(est, dtype="float32").predict(X_eval)
        differ = np.flatnonzero(got32 != want)
        n_float32_differences += differ.size
        if differ.size:
            # Every float32 difference lies in the tie zone: scikit-learn's
            # top two probabilities within float32 summation error.
            proba = np.sort(est.predict_proba(X_eval[differ]), axis=1)
            margin = proba[:, -1] - proba[:, -2]
            assert np.all(margin <= (len(est.estimators_) + 2) * 2.0**-24)
    # The data do produce ties; otherwise this test would prove nothing.
    assert n_float32_differences > 0


@pytest.mark.parametrize("labels", ["strings", "binary_strings", "negative_ints", "floats", "bools", "int64"])
def test_class_labels_round_trip(labels, load_data):
    X, y = load_data("iris")
    if labels == "strings":
        y = np.array(["setosa", "versi\"color", "virginica ß"])[y]
    elif labels == "binary_strings":
        y = np.where(y == 0, "no", "yes")
    elif labels == "negative_ints":
        y = y * 7 - 10
    elif labels == "floats":
        y = y.astype(np.float64) + 1.0
    elif labels == "bools":
        y = y == 1
    elif labels == "int64":
        y = y.astype(np.int64) + 2**40
    est = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est, name="labels")
    got = cm.predict(X)
    want = est.predict(X)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(cm.classes_, est.classes_)


def test_trained_with_missing_values_routes_nan_like_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0.5)
    missing0 = rng.random(400) < 0.2
    X[missing0, 0] = np.nan
    y[missing0 & (X[:, 1] <= 0.5)] = 0  # missing x0 behaves like small x0
    X[rng.random(400) < 0.2, 1] = np.nan
    est = DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y)
    t = est.tree_
    inner = t.children_left >= 0
    # Both routings and a missing-vs-present split (threshold +inf) occur.
    assert t.missing_go_to_left[inner].any() and not t.missing_go_to_left[inner].all()
    assert np.isinf(t.threshold[inner]).any()
    cm = emlearn_gen.convert(est, name="nan_tree")
    X_eval = np.concatenate([X, probe_inputs(est, X), np.full((1, 3), np.nan)])
    assert_matches_sklearn(cm, est, X_eval)


def test_methods_exist_exactly_where_the_estimator_has_them(load_data):
    X, y = load_data("diabetes")
    reg = emlearn_gen.convert(DecisionTreeRegressor(max_depth=3).fit(X, y))
    assert not hasattr(reg, "predict_proba")
    assert not hasattr(reg, "decision_function")
    Xc, yc = load_data("iris")
    clf = emlearn_gen.convert(DecisionTreeClassifier(max_depth=3).fit(Xc, yc))
    assert hasattr(clf, "predict_proba")
    assert not hasattr(clf, "decision_function")
    assert clf.predict_proba(Xc[:5]).shape == (5, 3)


def test_forest_with_single_leaf_trees():
    # Bootstrap samples of one class give trees that are a single leaf.
    X = np.arange(12, dtype=np.float64).reshape(-1, 1)
    y = np.array([0] * 11 + [1])
    est = RandomForestClassifier(n_estimators=40, random_state=0).fit(X, y)
    assert any(m.tree_.node_count == 1 for m in est.estimators_)
    cm = emlearn_gen.convert(est, name="stumps")
    assert_matches_sklearn(cm, est, np.linspace(-1, 13, 200)[:, None])
    reg = DecisionTreeRegressor().fit(X, np.ones(12))
    assert reg.tree_.node_count == 1
    np.testing.assert_array_equal(emlearn_gen.convert(reg).predict(X), reg.predict(X))


def test_forest_probabilities_are_soft_votes(load_data):
    X, y = load_data("wine")
    est = RandomForestClassifier(n_estimators=15, max_depth=3, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est, name="soft")
    proba = cm.predict_proba(X)
    hard = np.mean([np.eye(3)[m.predict(X).astype(int)] for m in est.estimators_], axis=0)
    # With impure leaves, soft voting differs from counting votes.
    assert not np.allclose(proba, hard)
    np.testing.assert_allclose(proba, est.predict_proba(X), rtol=0, atol=1e-6)


def _large_target_forest(load_data, top: float):
    """100 depth-3 trees on diabetes with targets between top / 4 and top."""
    X, _ = load_data("diabetes")
    y = np.where(X[:, 2] > 0, top, top / 4) * (1 - 0.1 * (X[:, 8] > 0))
    return RandomForestRegressor(n_estimators=100, max_depth=3, random_state=0).fit(X, y), X


def test_float32_sums_that_could_overflow_default_to_float64(load_data, tmp_path):
    # Every leaf fits float32 (1e37), their sum over 100 trees (1e39) does not.
    est, X = _large_target_forest(load_data, 1e37)
    want = est.predict(X)
    assert np.all(np.isfinite(want)) and np.abs(want).max() > 5e36
    cm = emlearn_gen.convert(est)
    assert cm.packed.real == "float64" and "dtype=float64" in cm.to_source()
    assert_matches_sklearn(cm, est, X)
    # The compiled header computes what the host runtime does.
    if shutil.which("g++"):
        got = run_model(cm, X[:40], HostTarget("g++"), workdir=tmp_path)["predict"]
        assert np.array_equal(got.view(np.uint32), cm.raw_outputs("predict", X[:40]).view(np.uint32))
        assert np.all(np.isfinite(got))
    with pytest.raises(ValueError, match=r"dtype='float32'.* 100 trees can reach 1(\.\d+)?e\+39.*use dtype='float64'"):
        emlearn_gen.convert(est, dtype="float32")


def test_float32_sums_that_fit_keep_float32(load_data):
    # The worst case, 100 trees times the largest leaf, is just below FLT_MAX.
    est, X = _large_target_forest(load_data, 3.3e36)
    cm = emlearn_gen.convert(est)
    assert cm.packed.real == "float32"
    assert np.all(np.isfinite(cm.predict(X)))
    assert_matches_sklearn(cm, est, X)


@pytest.mark.parametrize("scale", [1e-44, 1e-40, 1e-38])
def test_float32_bound_holds_for_subnormal_outputs(load_data, scale):
    """Leaf values in float32's subnormal range round with an absolute, not
    relative, error; the stated bound accounts for it."""
    X, y = load_data("diabetes")
    est = RandomForestRegressor(n_estimators=30, random_state=0).fit(X, y / np.abs(y).max() * scale)
    cm = emlearn_gen.convert(est)
    assert cm.packed.real == "float32"
    assert_matches_sklearn(cm, est, X)
