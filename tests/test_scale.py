"""No artificial limits: large forests and wide inputs convert, run on the
host runtime and compile."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeClassifier

import emlearn_gen
from emlearn_gen.testing import HostTarget, assert_device_matches
from emlearn_gen.testing.reference import assert_matches_sklearn


@pytest.mark.slow
def test_forest_of_more_than_100k_nodes(tmp_path):
    X, y = make_regression(n_samples=3000, n_features=12, noise=10.0, random_state=0)
    est = RandomForestRegressor(n_estimators=60, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est, name="big_forest")
    assert cm.packed.n_nodes > 100_000
    assert cm.packed.root_bits > 16  # node indices past any 16-bit layout
    assert_matches_sklearn(cm, est, X[:1000])
    assert_device_matches(cm, X[:200], targets=[HostTarget("g++", "c++11", opt="-O1")])


def test_model_with_2000_features(tmp_path):
    X, y = make_classification(
        n_samples=400, n_features=2000, n_informative=40, n_classes=3, random_state=0
    )
    est = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est, name="wide_input")
    assert cm.packed.feature_bits == 11
    used = {int(f) for m in est.estimators_ for f in m.tree_.feature if f >= 0}
    assert max(used) > 1024  # feature indices beyond 10 bits are exercised
    assert_matches_sklearn(cm, est, X)
    assert_device_matches(cm, X[:100], targets=[HostTarget("clang++", "c++17")])


def test_deep_unbalanced_tree():
    # A staircase target grows a tree thousands of levels deep on one side.
    X = np.arange(5000, dtype=np.float64)[:, None]
    y = np.arange(5000) % 7
    est = DecisionTreeClassifier(random_state=0).fit(X, y)
    assert est.get_depth() > 100
    cm = emlearn_gen.convert(est, name="deep")
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))
