"""scikit-learn's GradientBoostingClassifier, GradientBoostingRegressor and
AdaBoostClassifier -> TreeEnsemble IR whose raw score is a sum.

scikit-learn adds, per sample and class k, ``learning_rate * leaf value`` of
every stage's tree k to the init estimator's raw prediction, in float64, in
stage order. The IR holds exactly those products (rounded as scikit-learn
rounds them) as leaf rows that are zero but for class k, after a first,
single-leaf tree holding the init row: summed in tree order from zero in
float64, they give scikit-learn's raw scores bit for bit (adding +0.0 changes
no sum).
"""

from __future__ import annotations

from typing import Any, Callable, List

import numpy as np
from sklearn.ensemble import (
    AdaBoostClassifier,
    AdaBoostRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor

from ...core.labels import check_single_output_classes
from .ir import LEAF, BoostScore, Tree, TreeEnsemble

SUPPORTED = (GradientBoostingClassifier, GradientBoostingRegressor, AdaBoostClassifier, AdaBoostRegressor)

#: scikit-learn's link from raw scores to probabilities, by loss link class.
_PROBA_LINKS = {"LogitLink": "logistic", "HalfLogitLink": "logistic2x", "MultinomialLogit": "softmax"}


def _init_row(estimator: Any, n_features: int, width: int) -> np.ndarray:
    """The init estimator's raw prediction, which must be the same for every
    input (zero, a constant or the class prior)."""
    name = type(estimator).__name__
    probes = np.stack([np.zeros(n_features), np.full(n_features, 1e3), np.full(n_features, -7.5)])
    raw = np.asarray(estimator._raw_predict_init(probes.astype(np.float32)), dtype=np.float64)
    if raw.shape != (3, width) or not np.array_equal(raw[0], raw[1]) or not np.array_equal(raw[0], raw[2]):
        raise ValueError(
            f"{name}.init_ predicts different raw values for different inputs; emlearn_gen converts the "
            "init estimators 'zero', constant and prior (DummyClassifier / DummyRegressor) only"
        )
    if not np.all(np.isfinite(raw[0])):
        raise ValueError(f"{name}: the init estimator's raw prediction is not finite")
    return raw[0]


def _single_leaf(row: np.ndarray) -> Tree:
    return Tree(
        children_left=np.array([LEAF]),
        children_right=np.array([LEAF]),
        feature=np.zeros(1, dtype=np.int64),
        threshold=np.zeros(1),
        missing_left=np.zeros(1, dtype=bool),
        value=row.reshape(1, -1).astype(np.float64),
    )


def convert_boosting(estimator: Any, read_tree: Callable[..., Tree]) -> TreeEnsemble:
    """IR of a fitted gradient boosting or AdaBoost model."""
    if isinstance(estimator, AdaBoostClassifier):
        return convert_adaboost(estimator, read_tree)
    if isinstance(estimator, AdaBoostRegressor):
        return convert_adaboost_regressor(estimator, read_tree)
    return convert_gradient_boosting(estimator, read_tree)


def convert_adaboost(estimator: Any, read_tree: Callable[..., Tree]) -> TreeEnsemble:
    """AdaBoostClassifier (SAMME) with tree estimators: each tree's leaves
    vote, as scikit-learn's decision_function adds them, for the class the
    tree predicts there: the tree's weight for that class, -weight / (K - 1)
    for the others (rounded as scikit-learn rounds it)."""
    name = type(estimator).__name__
    n_features = int(estimator.n_features_in_)
    classes = check_single_output_classes(estimator.classes_, 1, name)
    k = len(classes)
    if k < 2:
        raise ValueError(f"{name} was fitted on one class; a classifier needs two or more")
    members = list(getattr(estimator, "estimators_", []) or [])
    weights = np.asarray(estimator.estimator_weights_, dtype=np.float64)
    if not members or weights.ndim != 1 or weights.size < len(members):
        raise ValueError(f"{name}: estimators_ and estimator_weights_ do not match (not fitted?)")
    index_of = {label: i for i, label in enumerate(np.asarray(estimator.classes_).tolist())}
    trees: List[Tree] = []
    for i, (member, w) in enumerate(zip(members, weights.tolist())):
        what = f"{name}.estimators_[{i}]"
        if type(member) not in (DecisionTreeClassifier, ExtraTreeClassifier):
            raise TypeError(f"{what} is a {type(member).__name__}; emlearn_gen converts AdaBoost over decision trees")
        member_classes = np.asarray(member.classes_).tolist()
        if any(c not in index_of for c in member_classes):
            raise ValueError(f"{what} predicts classes the ensemble does not have")
        tree = read_tree(member.tree_, f"{what}.tree_", "classifier", 1, len(member_classes))
        # The class the tree predicts at each node: the first largest fraction.
        predicted = np.array([index_of[member_classes[j]] for j in np.argmax(tree.value, axis=1)])
        other = -1 / (k - 1) * w  # as scikit-learn computes it
        value = np.full((tree.n_nodes, k), other)
        value[np.arange(tree.n_nodes), predicted] = w
        trees.append(Tree(tree.children_left, tree.children_right, tree.feature, tree.threshold,
                          tree.missing_left, value))
    return TreeEnsemble(
        task="classifier",
        n_features=n_features,
        leaf_width=k,
        trees=tuple(trees),
        classes=classes,
        boost=BoostScore(link="samme", n_classes=k, weight_sum=float(weights.sum())),
    )


def convert_adaboost_regressor(estimator: Any, read_tree: Callable[..., Tree]) -> TreeEnsemble:
    """AdaBoostRegressor (AdaBoost.R2) with tree estimators: the trees keep
    their own values; the runtime takes their weighted median."""
    name = type(estimator).__name__
    members = list(getattr(estimator, "estimators_", []) or [])
    weights = np.asarray(estimator.estimator_weights_, dtype=np.float64)
    if not members or weights.ndim != 1 or weights.size < len(members):
        raise ValueError(f"{name}: estimators_ and estimator_weights_ do not match (not fitted?)")
    trees: List[Tree] = []
    for i, member in enumerate(members):
        what = f"{name}.estimators_[{i}]"
        if type(member) not in (DecisionTreeRegressor, ExtraTreeRegressor):
            raise TypeError(f"{what} is a {type(member).__name__}; emlearn_gen converts AdaBoost over decision trees")
        trees.append(read_tree(member.tree_, f"{what}.tree_", "regressor", 1, 1))
    return TreeEnsemble(
        task="regressor",
        n_features=int(estimator.n_features_in_),
        leaf_width=1,
        trees=tuple(trees),
        boost=BoostScore(link="median", n_classes=1, weights=tuple(weights[: len(members)].tolist())),
    )


def convert_gradient_boosting(estimator: Any, read_tree: Callable[..., Tree]) -> TreeEnsemble:
    """IR of a fitted GradientBoostingClassifier or GradientBoostingRegressor.
    ``read_tree(sk_tree, what, ...)`` reads and checks one tree's arrays."""
    name = type(estimator).__name__
    n_features = int(estimator.n_features_in_)
    stages = np.asarray(getattr(estimator, "estimators_", None), dtype=object)
    if stages.ndim != 2 or stages.size == 0:
        raise ValueError(f"{name}.estimators_ must be a non-empty (n_stages, n_trees_per_stage) array of trees")
    width = stages.shape[1]
    classifier = isinstance(estimator, GradientBoostingClassifier)
    if classifier:
        classes = check_single_output_classes(estimator.classes_, 1, name)
        if width != (1 if len(classes) == 2 else len(classes)):
            raise ValueError(f"{name} has {width} trees per stage for {len(classes)} classes")
        link = _PROBA_LINKS.get(type(estimator._loss.link).__name__)
        if link is None:
            raise ValueError(f"{name} has a loss whose link emlearn_gen does not know: {type(estimator._loss).__name__}")
    else:
        classes, link = None, "identity"
        if width != 1:
            raise ValueError(f"{name} has {width} trees per stage; a regressor has one")
    scale = np.float64(estimator.learning_rate)
    trees: List[Tree] = [_single_leaf(_init_row(estimator, n_features, width))]
    for i, stage in enumerate(stages):
        for k, member in enumerate(stage):
            what = f"{name}.estimators_[{i}, {k}]"
            if type(member) is not DecisionTreeRegressor:
                raise TypeError(f"{what} is a {type(member).__name__}; gradient boosting's trees are DecisionTreeRegressor")
            tree = read_tree(member.tree_, f"{what}.tree_", "regressor", 1, 1)
            # As scikit-learn adds it: learning_rate * value, rounded once.
            value = np.zeros((tree.n_nodes, width))
            value[:, k] = scale * tree.value[:, 0]
            trees.append(Tree(tree.children_left, tree.children_right, tree.feature, tree.threshold,
                              tree.missing_left, value))
    return TreeEnsemble(
        task="classifier" if classifier else "regressor",
        n_features=n_features,
        leaf_width=width if not classifier or len(classes) > 2 else 1,
        trees=tuple(trees),
        classes=classes,
        boost=BoostScore(link=link, n_classes=len(classes) if classifier else 1),
    )
