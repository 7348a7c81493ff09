"""scikit-learn decision trees and forests -> TreeEnsemble IR.

Everything read from the estimator is checked before use (member types,
array shapes and dtypes, counts within what the runtime represents), so that
a malformed or crafted model gets a ValueError or TypeError naming the
estimator and the attribute, never a traceback from deeper down.
"""

from __future__ import annotations

import numbers
from typing import Any, List, Optional, Type

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

from ...core.labels import check_single_output_classes
from . import boosting, hgb, isolation
from .ir import LEAF, Tree, TreeEnsemble

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
SUPPORTED = SINGLE_TREES + FORESTS + isolation.SUPPORTED + boosting.SUPPORTED + hgb.SUPPORTED

#: The tree class each forest fits its members with.
MEMBER_CLASS = {
    RandomForestClassifier: DecisionTreeClassifier,
    RandomForestRegressor: DecisionTreeRegressor,
    ExtraTreesClassifier: ExtraTreeClassifier,
    ExtraTreesRegressor: ExtraTreeRegressor,
}

# Counts as the runtime and the header hold them: n_features is an `int` in
# the header (uint32_t in the runtime); a leaf row's width (classes or
# outputs) is a uint16_t.
MAX_FEATURES = 2**31 - 1
MAX_LEAF_WIDTH = 2**16 - 1

_INT64_MAX = 2**63 - 1


def _count(value: object, what: str, low: int, high: int, why: str) -> int:
    """``value`` as an int in [low, high], or TypeError / ValueError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an integer, got {type(value).__name__}")
    count = int(value)
    if not low <= count <= high:
        raise ValueError(f"{what} is {count}, outside [{low}, {high}] ({why})")
    return count


def _array(value: object, what: str, ndim: int, kinds: str, kind_name: str) -> np.ndarray:
    """``value`` as a numpy array of ``ndim`` dimensions whose dtype kind is
    one of ``kinds``, or TypeError / ValueError."""
    if value is None:
        raise TypeError(f"{what} is missing")
    try:
        array = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - any object a crafted model holds
        raise TypeError(f"{what} is not an array ({type(exc).__name__}: {exc})") from None
    if array.dtype.kind not in kinds:
        raise TypeError(f"{what} must hold {kind_name}, got dtype {array.dtype}")
    if array.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} dimension{'s' if ndim > 1 else ''}, got shape {array.shape}")
    return array


def _index_array(value: object, what: str) -> np.ndarray:
    """A 1-D integer array (node or feature indices) as int64, refusing
    unsigned values that int64 would wrap (-1 marks a leaf)."""
    array = _array(value, what, 1, "iu", "integers")
    if array.dtype.kind == "u" and array.size and int(array.max()) > _INT64_MAX:
        raise ValueError(f"{what} holds {int(array.max())}, beyond any node or feature index")
    return array.astype(np.int64)


def _node_array(sk_tree: Any, name: str, what: str, n: int, ndim: int, kinds: str, kind_name: str) -> np.ndarray:
    """``sk_tree.<name>``, one entry per node (``n``), as _array checks it."""
    array = _array(getattr(sk_tree, name, None), f"{what}.{name}", ndim, kinds, kind_name)
    if array.shape[0] != n:
        raise ValueError(f"{what}.{name} has {array.shape[0]} entries, children_left {n}")
    return array


def _leaf_rows(sk_tree: Any, what: str, n: int, task: str, n_outputs: int, leaf_width: int) -> np.ndarray:
    """The (n_nodes, leaf_width) values a node contributes, from ``value``."""
    value = _node_array(sk_tree, "value", what, n, 3, "fiu", "numbers")
    # (n_nodes, n_outputs, max_n_classes): one column per class for a
    # single-output classifier, one per output (width 1) for a regressor.
    want = (n, 1, leaf_width) if task == "classifier" else (n, n_outputs, 1)
    if value.shape != want:
        raise ValueError(f"{what}.value has shape {value.shape}; the estimator's outputs and classes need {want}")
    # Since scikit-learn 1.4 a classifier's value rows are class fractions,
    # which are exactly what predict_proba returns and forests average.
    rows = value[:, 0, :] if task == "classifier" else value[:, :, 0]
    return np.ascontiguousarray(rows, dtype=np.float64)


def _missing_left(sk_tree: Any, what: str, n: int) -> np.ndarray:
    if getattr(sk_tree, "missing_go_to_left", None) is None:  # scikit-learn < 1.3
        return np.zeros(n, dtype=bool)
    flags = _node_array(sk_tree, "missing_go_to_left", what, n, 1, "biu", "booleans")
    if np.any((flags != 0) & (flags != 1)):
        raise ValueError(f"{what}.missing_go_to_left must hold 0 and 1 only")
    return flags.astype(bool)


def _read_tree(sk_tree: Any, what: str, task: str, n_outputs: int, leaf_width: int) -> Tree:
    """Reads a fitted ``tree_`` (sklearn.tree._tree.Tree, or any object with
    its arrays), checking every array before use."""
    left = _index_array(getattr(sk_tree, "children_left", None), f"{what}.children_left")
    n = left.shape[0]
    if n == 0:
        raise ValueError(f"{what} has no nodes")
    right = _index_array(_node_array(sk_tree, "children_right", what, n, 1, "iu", "integers"), f"{what}.children_right")
    feature = _index_array(_node_array(sk_tree, "feature", what, n, 1, "iu", "integers"), f"{what}.feature")
    threshold = _node_array(sk_tree, "threshold", what, n, 1, "f", "floats")
    is_leaf = left == -1
    return Tree(
        children_left=np.where(is_leaf, LEAF, left),
        children_right=right,
        feature=np.where(is_leaf, 0, feature),
        threshold=np.where(is_leaf, 0.0, threshold.astype(np.float64)),
        missing_left=_missing_left(sk_tree, what, n),
        value=_leaf_rows(sk_tree, what, n, task, n_outputs, leaf_width),
    )


def _members(estimator: Any, name: str) -> List[Any]:
    """The fitted trees of a forest (checked to be of the forest's tree
    class), or the estimator itself."""
    if not isinstance(estimator, FORESTS):
        return [estimator]
    members = getattr(estimator, "estimators_", None)
    if not isinstance(members, (list, tuple, np.ndarray)):
        raise TypeError(f"{name}.estimators_ must be a list of fitted trees, got {type(members).__name__}")
    members = list(members)
    if not members:
        raise ValueError(f"{name}.estimators_ is empty: a forest needs at least one tree")
    expected: Type[Any] = MEMBER_CLASS[type(estimator)]
    for index, member in enumerate(members):
        if type(member) is not expected:
            raise TypeError(
                f"{name}.estimators_[{index}] is of type {type(member).__name__}; the trees of a "
                f"{name} are {expected.__name__} objects"
            )
    return members


def _check_member(member: Any, what: str, n_features: int) -> Any:
    """The member's tree_, after checking that the member was fitted on the
    estimator's features."""
    member_features = getattr(member, "n_features_in_", n_features)
    if member_features != n_features:
        raise ValueError(f"{what} was fitted on {member_features} features, the estimator on {n_features}")
    tree = getattr(member, "tree_", None)
    if tree is None:
        raise TypeError(f"{what} has no fitted tree_ (not fitted?)")
    return tree


def _classes(estimator: Any, name: str, n_outputs: int) -> Optional[np.ndarray]:
    if not hasattr(estimator, "classes_"):
        return None
    classes = check_single_output_classes(estimator.classes_, n_outputs, name)
    if len(classes) > MAX_LEAF_WIDTH:
        raise ValueError(f"{name} has {len(classes)} classes; generated classifiers support at most {MAX_LEAF_WIDTH}")
    n_classes = getattr(estimator, "n_classes_", len(classes))
    if isinstance(n_classes, (numbers.Integral, np.integer)) and int(n_classes) == len(classes):
        return classes
    raise ValueError(f"{name}.n_classes_ is {n_classes!r}, but classes_ holds {len(classes)} labels")


def convert_trees(estimator: Any) -> TreeEnsemble:
    """IR of a fitted decision tree or forest of trees."""
    name = type(estimator).__name__
    n_features = _count(
        getattr(estimator, "n_features_in_", None), f"{name}.n_features_in_", 1, MAX_FEATURES,
        "generated headers count features in a signed 32-bit int",
    )
    # Isolation forests and gradient boosting hold one-output regression
    # trees whose leaf values their own modules rewrite; histogram gradient
    # boosting holds trees of its own.
    special = (
        (isolation.SUPPORTED, isolation.convert_isolation_forest),
        (boosting.SUPPORTED, boosting.convert_boosting),
        (hgb.SUPPORTED, hgb.convert_hist_gradient_boosting),
    )
    for kinds, convert_special in special:
        if not isinstance(estimator, kinds):
            continue
        ir = convert_special(estimator, _read_tree)
        try:
            ir.validate()
        except ValueError as exc:
            raise ValueError(f"{name} cannot be converted: {exc}") from None
        return ir
    n_outputs = _count(
        getattr(estimator, "n_outputs_", None), f"{name}.n_outputs_", 1, MAX_LEAF_WIDTH,
        "the runtime holds a leaf row's width in 16 bits",
    )
    classes = _classes(estimator, name, n_outputs)
    task = "classifier" if classes is not None else "regressor"
    leaf_width = len(classes) if classes is not None else n_outputs

    members = _members(estimator, name)
    trees = []
    for index, member in enumerate(members):
        what = f"{name}.estimators_[{index}]" if member is not estimator else name
        sk_tree = _check_member(member, what, n_features)
        trees.append(_read_tree(sk_tree, f"{what}.tree_", task, n_outputs, leaf_width))
    ir = TreeEnsemble(
        task=task,
        n_features=n_features,
        leaf_width=leaf_width,
        trees=tuple(trees),
        classes=classes,
    )
    try:
        ir.validate()
    except ValueError as exc:
        raise ValueError(f"{name} cannot be converted: {exc}") from None
    return ir
