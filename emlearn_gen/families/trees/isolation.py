"""scikit-learn's IsolationForest -> TreeEnsemble IR with an outlier score.

Each leaf holds what scikit-learn adds for a sample reaching it: the leaf's
path length plus the average path length of the training samples it holds,
less 1.0, in float64, computed as scikit-learn computes it. The runtime sums
these in tree order in float64 (binary64 in software where double has 32
bits), which is scikit-learn's sum bit for bit.
"""

from __future__ import annotations

from typing import Any, List

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.tree import ExtraTreeRegressor

from .ir import OutlierScore, Tree, TreeEnsemble

_F64_POSITIVE_INF_BITS = 0x7FF0000000000000


def _average_path_length(n: float) -> float:
    """scikit-learn's _average_path_length for one count, in its arithmetic."""
    from sklearn.ensemble._iforest import _average_path_length as sk_average_path_length

    return float(sk_average_path_length([n])[0])


def _decision(depths: np.ndarray, denominator: float, offset: float) -> np.ndarray:
    """decision_function as scikit-learn computes it from the summed depths."""
    scores = 2 ** (-np.divide(depths, denominator))
    return -scores - offset


def depth_threshold(denominator: float, offset: float) -> float:
    """The smallest float64 sum D >= 0 whose decision_function is >= 0 in
    scikit-learn's arithmetic (+inf when there is none): samples with
    D < threshold are outliers. decision_function grows with D, so a bisection
    over the ordered bit patterns of non-negative float64 values finds it."""
    lo, hi = 0, _F64_POSITIVE_INF_BITS  # bit patterns; decision(hi) = -offset
    as_float = lambda bits: np.array([bits], dtype=np.uint64).view(np.float64)  # noqa: E731
    with np.errstate(over="ignore", under="ignore"):
        if _decision(as_float(lo), denominator, offset)[0] >= 0:
            return 0.0
        if not _decision(as_float(hi), denominator, offset)[0] >= 0:
            return float("inf")
        while hi - lo > 1:  # decision(lo) < 0 <= decision(hi)
            mid = (lo + hi) // 2
            if _decision(as_float(mid), denominator, offset)[0] >= 0:
                hi = mid
            else:
                lo = mid
    return float(as_float(hi)[0])


def convert_isolation_forest(estimator: Any, read_tree: Any) -> TreeEnsemble:
    """IR of a fitted IsolationForest. ``read_tree(sk_tree, what, ...)`` reads and
    checks a tree's arrays (convert.py: task, outputs, leaf width), its
    leaf values then replaced."""
    name = type(estimator).__name__
    n_features = int(estimator.n_features_in_)
    members = list(getattr(estimator, "estimators_", []) or [])
    if not members:
        raise ValueError(f"{name}.estimators_ is empty: fit it before converting")
    features = list(estimator.estimators_features_)
    path_lengths = list(estimator._decision_path_lengths)
    average = list(estimator._average_path_length_per_tree)
    if not len(features) == len(path_lengths) == len(average) == len(members):
        raise ValueError(f"{name}: estimators_, estimators_features_ and the path lengths disagree in count")
    # scikit-learn indexes the columns of each tree only when a tree sees a
    # subset of the features (_compute_chunked_score_samples).
    subsample = int(estimator._max_features) != n_features
    trees: List[Tree] = []
    for index, member in enumerate(members):
        what = f"{name}.estimators_[{index}]"
        if type(member) is not ExtraTreeRegressor:
            raise TypeError(f"{what} is a {type(member).__name__}; an IsolationForest's trees are ExtraTreeRegressor")
        tree = read_tree(member.tree_, f"{what}.tree_", "regressor", 1, 1)
        n = tree.n_nodes
        lengths = np.asarray(path_lengths[index], dtype=np.float64)
        avg = np.asarray(average[index], dtype=np.float64)
        if lengths.shape != (n,) or avg.shape != (n,):
            raise ValueError(f"{what}: path lengths do not match its {n} nodes")
        # As scikit-learn adds them: (path length + average path length) - 1.0.
        value = ((lengths + avg) - 1.0).reshape(n, 1)
        feature = tree.feature
        if subsample:
            columns = np.asarray(features[index], dtype=np.int64)
            if columns.ndim != 1 or np.any((columns < 0) | (columns >= n_features)):
                raise ValueError(f"{name}.estimators_features_[{index}] must index the {n_features} features")
            inner = ~tree.is_leaf
            if np.any(tree.feature[inner] >= columns.size):
                raise ValueError(f"{what} splits on a feature its subset does not have")
            feature = np.where(inner, columns[np.minimum(tree.feature, columns.size - 1)], 0)
        trees.append(Tree(tree.children_left, tree.children_right, feature, tree.threshold, tree.missing_left, value))
    denominator = len(members) * _average_path_length(float(estimator._max_samples))
    offset = float(estimator.offset_)
    return TreeEnsemble(
        task="outlier_detector",
        n_features=n_features,
        leaf_width=1,
        trees=tuple(trees),
        outlier=OutlierScore(denominator, offset, depth_threshold(denominator, offset)),
    )


SUPPORTED = (IsolationForest,)
