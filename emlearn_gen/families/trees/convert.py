"""scikit-learn decision trees and forests -> TreeEnsemble IR."""

from __future__ import annotations

from typing import Any, List

import numpy as np
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

from .ir import LEAF, Tree, TreeEnsemble
from ...core.labels import check_single_output_classes

SINGLE_TREES = (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreeClassifier,
    ExtraTreeRegressor,
)
FORESTS = (
    RandomForestClassifier,
    RandomForestRegressor,
    ExtraTreesClassifier,
    ExtraTreesRegressor,
)
SUPPORTED = SINGLE_TREES + FORESTS


def _tree_ir(sk_tree: Any, task: str, n_outputs: int, n_classes: int) -> Tree:
    """Reads a fitted ``tree_`` (sklearn.tree._tree.Tree)."""
    t = sk_tree
    left = np.asarray(t.children_left, dtype=np.int64)
    value = np.asarray(t.value, dtype=np.float64)  # (n_nodes, n_outputs, max_n_classes)
    if task == "classifier":
        # Since scikit-learn 1.4 a classifier's value rows are class fractions,
        # which are exactly what predict_proba returns and forests average.
        rows = value[:, 0, :n_classes]
    else:
        rows = value[:, :n_outputs, 0]
    missing = getattr(t, "missing_go_to_left", None)
    if missing is None:
        missing = np.zeros(left.shape, dtype=bool)
    return Tree(
        children_left=np.where(left == -1, LEAF, left),
        children_right=np.asarray(t.children_right, dtype=np.int64),
        feature=np.where(left == -1, 0, np.asarray(t.feature, dtype=np.int64)),
        threshold=np.where(left == -1, 0.0, np.asarray(t.threshold, dtype=np.float64)),
        missing_left=np.asarray(missing, dtype=bool),
        value=np.ascontiguousarray(rows, dtype=np.float64),
    )


def convert_trees(estimator: Any) -> TreeEnsemble:
    """IR of a fitted decision tree or forest of trees."""
    is_classifier = hasattr(estimator, "classes_")
    task = "classifier" if is_classifier else "regressor"
    n_outputs = int(estimator.n_outputs_)
    name = type(estimator).__name__
    if is_classifier:
        classes = check_single_output_classes(estimator.classes_, n_outputs, name)
        leaf_width = len(classes)
    else:
        classes = None
        leaf_width = n_outputs

    if isinstance(estimator, FORESTS):
        members: List[Any] = list(estimator.estimators_)
    else:
        members = [estimator]
    trees = tuple(_tree_ir(m.tree_, task, n_outputs, leaf_width) for m in members)
    ir = TreeEnsemble(
        task=task,
        n_features=int(estimator.n_features_in_),
        leaf_width=leaf_width,
        trees=trees,
        classes=classes,
    )
    ir.validate()
    return ir
