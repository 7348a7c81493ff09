"""Malformed or crafted models: what converters read is checked, and bad
input gets a ValueError or TypeError naming the estimator and the attribute,
never a traceback from deeper down or work beyond the input's size."""

from __future__ import annotations

import copy
import time
from typing import Any, Dict

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier

import emlearn_gen


@pytest.fixture(scope="module")
def fitted(load_data) -> Dict[str, Any]:
    X, y = load_data("iris")
    return {
        "forest": RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y),
        "regressor": RandomForestRegressor(n_estimators=3, max_depth=3, random_state=0).fit(X, X[:, 0]),
        "tree": DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, X[:, 0]),
    }


def _dag_tree(depth: int) -> DecisionTreeRegressor:
    """A real fitted tree whose tree_ (sklearn.tree._tree.Tree, restored as
    a model file restores it) is a DAG: node i has both children i + 1.
    Read as a tree it has 2**depth leaves; it holds depth + 1 nodes."""
    X = np.arange(20.0).reshape(-1, 1)
    est = DecisionTreeRegressor(max_depth=1).fit(X, X[:, 0])
    cls, args, state = est.tree_.__reduce__()  # what unpickling a model file calls
    nodes = np.zeros(depth + 1, dtype=state["nodes"].dtype)
    inner = np.arange(depth)
    nodes["left_child"][inner] = inner + 1
    nodes["right_child"][inner] = inner + 1
    nodes["left_child"][depth] = nodes["right_child"][depth] = -1
    nodes["feature"][depth] = -2
    nodes["threshold"][inner] = 10.0
    nodes["n_node_samples"] = 1
    nodes["weighted_n_node_samples"] = 1.0
    tree = cls(*args)
    tree.__setstate__(
        dict(state, nodes=nodes, node_count=depth + 1, max_depth=depth, values=np.ones((depth + 1, 1, 1)))
    )
    est.tree_ = tree
    assert est.tree_.node_count == depth + 1
    return est


@pytest.mark.parametrize("depth", [16])
def test_shared_nodes_are_refused_in_time_bounded_by_the_input(depth):
    est = _dag_tree(depth)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"DecisionTreeRegressor cannot be converted: tree 0: node 1 has 2 parents"):
        emlearn_gen.convert(est)
    assert time.perf_counter() - start < 5.0


class _StandIn:
    """A tree_ with the attributes converters read, from a real one, with
    some replaced."""

    def __init__(self, tree: Any, **replace: Any) -> None:
        for name in ("children_left", "children_right", "feature", "threshold", "value", "missing_go_to_left"):
            setattr(self, name, np.array(getattr(tree, name)))
        for name, value in replace.items():
            setattr(self, name, value)


def _with_tree(est: Any, member: int = 0, **replace: Any) -> Any:
    est = copy.deepcopy(est)
    target = est.estimators_[member] if hasattr(est, "estimators_") else est
    target.tree_ = _StandIn(target.tree_, **replace)
    return est


def test_a_node_shared_by_two_parents_is_refused(fitted):
    est = fitted["tree"]
    tree = est.tree_
    left, right = np.array(tree.children_left), np.array(tree.children_right)
    # Node 1, the root's left child, takes the root's right child as its own
    # right child too: that node gets two parents, node 1's former right
    # child none (the first one found, in node order).
    assert left[1] >= 0 and right[1] < right[0]
    orphan = int(right[1])
    right[1] = right[0]
    crafted = _with_tree(est, children_left=left, children_right=right)
    with pytest.raises(ValueError, match=rf"DecisionTreeRegressor cannot be converted: tree 0: node {orphan} has 0 parents"):
        emlearn_gen.convert(crafted)


def test_a_standin_dag_is_refused(fitted):
    est = fitted["tree"]
    n = est.tree_.node_count
    left = np.full(n, -1)
    right = np.full(n, -1)
    left[: n - 1] = right[: n - 1] = np.arange(1, n)
    crafted = _with_tree(est, children_left=left, children_right=right, feature=np.zeros(n, dtype=np.int64))
    with pytest.raises(ValueError, match="DecisionTreeRegressor cannot be converted: tree 0: node 1 has 2 parents.*not a tree"):
        emlearn_gen.convert(crafted)


@pytest.mark.parametrize(
    "case, error, match",
    [
        ("member_is_logistic_regression", TypeError, r"RandomForestClassifier.estimators_\[1\] is of type LogisticRegression; .* DecisionTreeClassifier"),
        ("member_of_another_tree_class", TypeError, r"estimators_\[0\] is of type ExtraTreeClassifier"),
        ("estimators_not_a_list", TypeError, r"RandomForestClassifier.estimators_ must be a list of fitted trees"),
        ("no_estimators", ValueError, r"RandomForestClassifier.estimators_ is empty"),
        ("n_features_2_to_the_33", ValueError, r"RandomForestClassifier.n_features_in_ is 8589934592, outside \[1, 2147483647\]"),
        ("n_features_zero", ValueError, r"RandomForestClassifier.n_features_in_ is 0"),
        ("n_features_float", TypeError, r"RandomForestClassifier.n_features_in_ must be an integer, got float"),
        ("n_features_missing", TypeError, r"RandomForestClassifier.n_features_in_ must be an integer, got NoneType"),
        ("n_outputs_too_many", ValueError, r"RandomForestClassifier.n_outputs_ is 65536, outside \[1, 65535\]"),
        ("n_classes_inconsistent", ValueError, r"RandomForestClassifier.n_classes_ is 4, but classes_ holds 3 labels"),
        ("member_feature_count", ValueError, r"estimators_\[2\] was fitted on 5 features, the estimator on 4"),
        ("no_tree", TypeError, r"estimators_\[0\] has no fitted tree_"),
        ("value_shape", ValueError, r"estimators_\[0\].tree_.value has shape \(\d+, 1, 2\); .* need \(\d+, 1, 3\)"),
        ("float_children", TypeError, r"estimators_\[0\].tree_.children_left must hold integers, got dtype float64"),
        ("huge_unsigned_children", ValueError, r"tree_.children_right holds 18446744073709551615"),
        ("missing_threshold", TypeError, r"estimators_\[0\].tree_.threshold is missing"),
        ("short_threshold", ValueError, r"tree_.threshold has \d+ entries, children_left \d+"),
        ("two_d_feature", ValueError, r"tree_.feature must have 1 dimension, got shape"),
        ("missing_flags", ValueError, r"tree_.missing_go_to_left must hold 0 and 1 only"),
        ("feature_out_of_range", ValueError, r"RandomForestClassifier cannot be converted: tree 1: split features must lie in \[0, 4\)"),
    ],
)
def test_malformed_forest_attributes(fitted, case, error, match):
    est = copy.deepcopy(fitted["forest"])
    tree = est.estimators_[0].tree_
    if case == "member_is_logistic_regression":
        est.estimators_[1] = LogisticRegression().fit(np.eye(4), [0, 1, 2, 0])
    elif case == "member_of_another_tree_class":
        X = np.random.default_rng(0).normal(size=(30, 4))
        est.estimators_[0] = ExtraTreeClassifier().fit(X, np.arange(30) % 3)
    elif case == "estimators_not_a_list":
        est.estimators_ = "trees"
    elif case == "no_estimators":
        est.estimators_ = []
    elif case == "n_features_2_to_the_33":
        est.n_features_in_ = 2**33
    elif case == "n_features_zero":
        est.n_features_in_ = 0
    elif case == "n_features_float":
        est.n_features_in_ = 4.0
    elif case == "n_features_missing":
        del est.n_features_in_
    elif case == "n_outputs_too_many":
        est.n_outputs_ = 2**16
    elif case == "n_classes_inconsistent":
        est.n_classes_ = 4
    elif case == "member_feature_count":
        est.estimators_[2].n_features_in_ = 5
    elif case == "no_tree":
        del est.estimators_[0].tree_
    elif case == "value_shape":
        est = _with_tree(est, value=np.array(tree.value)[:, :, :2])
    elif case == "float_children":
        est = _with_tree(est, children_left=np.array(tree.children_left, dtype=np.float64))
    elif case == "huge_unsigned_children":
        right = np.array(tree.children_right).astype(np.uint64)
        est = _with_tree(est, children_right=right)  # leaves' -1 becomes 2**64 - 1
    elif case == "missing_threshold":
        est = _with_tree(est, threshold=None)
    elif case == "short_threshold":
        est = _with_tree(est, threshold=np.array(tree.threshold)[:-1])
    elif case == "two_d_feature":
        est = _with_tree(est, feature=np.array(tree.feature)[:, None])
    elif case == "missing_flags":
        est = _with_tree(est, missing_go_to_left=np.full(tree.node_count, 7, dtype=np.uint8))
    elif case == "feature_out_of_range":
        feature = np.array(est.estimators_[1].tree_.feature)
        feature[0] = 4
        est = _with_tree(est, member=1, feature=feature)
    with pytest.raises(error, match=match):
        emlearn_gen.convert(est)


def test_regressor_outputs_and_value_shape(fitted):
    est = copy.deepcopy(fitted["regressor"])
    est.n_outputs_ = 2
    with pytest.raises(ValueError, match=r"RandomForestRegressor.estimators_\[0\].tree_.value has shape \(\d+, 1, 1\).* need \(\d+, 2, 1\)"):
        emlearn_gen.convert(est)


def test_standin_tree_with_valid_arrays_converts(fitted, load_data):
    """The checks read arrays, not types: a faithful stand-in converts and
    predicts as the real tree does."""
    X, _ = load_data("iris")
    est = _with_tree(fitted["forest"], member=2)
    np.testing.assert_array_equal(emlearn_gen.convert(est).predict(X), fitted["forest"].predict(X))


def test_single_tree_attributes_are_checked_too(load_data):
    X, y = load_data("iris")
    est = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    est.n_features_in_ = -3
    with pytest.raises(ValueError, match=r"DecisionTreeClassifier.n_features_in_ is -3"):
        emlearn_gen.convert(est)
