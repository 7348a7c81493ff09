"""IR of decision trees and tree ensembles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Tuple

import numpy as np

LEAF = -1


@dataclass(frozen=True)
class Tree:
    """One binary tree in scikit-learn's node-array form.

    ``children_left[i] == LEAF`` marks node ``i`` as a leaf. ``value[i]`` is
    what a leaf contributes to the ensemble sum, exactly as scikit-learn adds
    it (class fractions for classifiers, outputs for regressors), in float64.
    Thresholds are scikit-learn's float64 thresholds; ``x <= threshold`` goes
    left and a missing value goes left where ``missing_left`` is set.

    A node on a categorical feature (TreeEnsemble.categories) ignores its
    threshold: ``cat_left[i, c]`` says whether category code ``c`` (the
    index of x's value in the feature's categories) goes left; NaN and a
    value that is no known category go where ``missing_left`` says.
    """

    children_left: np.ndarray  # int64 (n_nodes,)
    children_right: np.ndarray  # int64 (n_nodes,)
    feature: np.ndarray  # int64 (n_nodes,)
    threshold: np.ndarray  # float64 (n_nodes,)
    missing_left: np.ndarray  # bool (n_nodes,)
    value: np.ndarray  # float64 (n_nodes, leaf_width)
    cat_left: Optional[np.ndarray] = None  # bool (n_nodes, max categories); None: no categorical splits

    @property
    def n_nodes(self) -> int:
        return int(self.children_left.shape[0])

    @property
    def is_leaf(self) -> np.ndarray:
        return self.children_left == LEAF

    def _check_single_parents(self, inner: np.ndarray) -> None:
        """Every node but the root is the child of exactly one node.

        Forward-pointing children alone allow a DAG (node i with both
        children i + 1), which packing would expand into 2**depth nodes: a
        small crafted model could then take any time and memory. A tree's
        work is bounded by its node count.
        """
        kids = np.concatenate([self.children_left[inner], self.children_right[inner]]).astype(np.int64)
        parents = np.bincount(kids, minlength=self.n_nodes)
        if parents[0] != 0:
            raise ValueError("the root (node 0) must not be the child of another node")
        bad = np.flatnonzero(parents[1:] != 1) + 1
        if bad.size:
            node = int(bad[0])
            raise ValueError(
                f"node {node} has {int(parents[node])} parents; in a tree every node but the "
                "root has exactly one (these arrays describe a graph that is not a tree)"
            )

    def validate(self, n_features: int, leaf_width: int) -> None:
        n = self.n_nodes
        if n == 0:
            raise ValueError("a tree must have at least one node")
        if self.children_left.shape != (n,):
            raise ValueError("tree.children_left must be 1-D")
        for name in ("children_right", "feature", "threshold", "missing_left"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"tree.{name} must have shape ({n},)")
        for name in ("children_left", "children_right", "feature"):
            if getattr(self, name).dtype.kind not in "iu":
                raise ValueError(f"tree.{name} must hold integers")
        if self.value.shape != (n, leaf_width):
            raise ValueError(f"tree.value must have shape ({n}, {leaf_width})")
        inner = ~self.is_leaf
        if np.any((self.children_right == LEAF) != self.is_leaf):
            raise ValueError("a node must have either two children or none")
        for side in (self.children_left, self.children_right):
            kids = side[inner]
            if np.any(kids <= np.flatnonzero(inner)) or np.any(kids >= n):
                raise ValueError("child indices must point forward inside the tree")
        self._check_single_parents(inner)
        if np.any((self.feature[inner] < 0) | (self.feature[inner] >= n_features)):
            raise ValueError(f"split features must lie in [0, {n_features})")
        if np.any(np.isnan(self.threshold[inner])):
            raise ValueError("split thresholds must not be NaN")
        if not np.all(np.isfinite(self.value[self.is_leaf])):
            raise ValueError("leaf values must be finite")

    def validate_categories(self, categories: Tuple[Optional[np.ndarray], ...]) -> None:
        """Categorical nodes name only codes of their feature's categories."""
        inner = np.flatnonzero(~self.is_leaf)
        on_categorical = [int(i) for i in inner if categories and categories[int(self.feature[i])] is not None]
        if not on_categorical:
            return
        if self.cat_left is None or self.cat_left.ndim != 2 or self.cat_left.shape[0] != self.n_nodes:
            raise ValueError("splits on categorical features need cat_left, one row of category bits per node")
        for node in on_categorical:
            n_categories = len(categories[int(self.feature[node])])
            if np.any(self.cat_left[node, n_categories:]):
                raise ValueError(f"node {node} sends a category code beyond its feature's {n_categories} categories left")


@dataclass(frozen=True)
class OutlierScore:
    """scikit-learn's IsolationForest on the sum D of the leaf values (each
    leaf's path length plus the average path length of its samples, less 1).

    score_samples = -2 ** (-D / denominator); decision_function =
    score_samples - offset; predict = -1 where decision_function < 0. The
    label is decided on D itself: ``depth_threshold`` is the smallest D for
    which scikit-learn's float64 arithmetic gives decision_function >= 0, so
    labels are scikit-learn's exactly (D is summed as scikit-learn sums it).
    """

    denominator: float
    offset: float
    depth_threshold: float

    def validate(self) -> None:
        if not (np.isfinite(self.denominator) and self.denominator > 0):
            raise ValueError("the average path length of max_samples must be positive (max_samples > 1)")
        if not np.isfinite(self.offset):
            raise ValueError("offset_ must be finite")
        if np.isnan(self.depth_threshold) or self.depth_threshold < 0:
            raise ValueError("the depth threshold must be a non-negative number")


#: Links of boosted models: raw score -> output. "identity" (regressors),
#: "logistic" (binary: sigmoid), "logistic2x" (binary, exponential loss:
#: sigmoid of twice the score), "softmax" (multi-class).
#: "samme" (AdaBoost): the weighted votes over the weights' sum, as
#: scikit-learn's decision_function; probabilities by softmax.
#: "median" (AdaBoostRegressor): the weighted median of the trees' values.
#: "logistic_positive" (HistGradientBoostingClassifier, binary): sigmoid,
#: but class 1 only where the raw score is > 0 (GradientBoosting: >= 0).
#: "exp" (HistGradientBoostingRegressor, gamma and poisson losses): the
#: output is exp(raw score).
BOOST_LINKS = {
    "identity": 1, "logistic": 2, "logistic2x": 3, "softmax": 4, "samme": 5, "median": 6,
    "logistic_positive": 7, "exp": 8,
}


@dataclass(frozen=True)
class BoostScore:
    """A boosted model: the leaves' *sum* (not their mean) is the raw score,
    one per class (one for binary classifiers and regressors); ``link``
    turns it into probabilities (classifiers) or outputs (regressors)."""

    link: str
    n_classes: int  # classifiers: classes_; regressors: 1
    weight_sum: float = 1.0  # samme: what the votes are divided by
    weights: Tuple[float, ...] = ()  # median: each tree's weight

    @property
    def n_decision(self) -> int:
        """Raw scores scikit-learn's decision_function returns per sample."""
        return 1 if self.n_classes == 2 or self.link in ("identity", "exp") else self.n_classes

    def validate(self, leaf_width: int) -> None:
        if self.link not in BOOST_LINKS:
            raise ValueError(f"unknown boosting link {self.link!r}")
        binary = self.link in ("logistic", "logistic2x", "logistic_positive")
        if binary and (leaf_width != 1 or self.n_classes != 2):
            raise ValueError("a binary boosted classifier has one raw score and two classes")
        if self.link in ("softmax", "samme") and leaf_width != self.n_classes:
            raise ValueError("this boosted classifier has one sum per class")
        if self.link in ("identity", "exp") and (leaf_width != 1 or self.n_classes != 1):
            raise ValueError("a boosted regressor has one raw score")
        if self.link == "median" and (leaf_width != 1 or not self.weights or not np.all(np.isfinite(self.weights))):
            raise ValueError("AdaBoostRegressor needs one finite weight per tree and one value per leaf")
        if self.link == "samme" and not (np.isfinite(self.weight_sum) and self.weight_sum > 0):
            raise ValueError("AdaBoost's estimator weights must have a positive, finite sum")


def _check_category_values(values: np.ndarray, feature: int) -> None:
    what = f"categorical feature {feature}"
    if values.ndim != 1 or values.size == 0 or values.size > MAX_CATEGORIES:
        raise ValueError(f"{what} must have 1 to {MAX_CATEGORIES} categories")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} has a category that is not a finite number")
    if np.any(np.diff(values) <= 0):
        raise ValueError(f"{what}'s categories must be sorted and distinct")
    if not np.array_equal(values.astype(np.float32).astype(np.float64), values):
        raise ValueError(f"{what} has a category that float32 cannot represent")


#: Categories of one feature: scikit-learn's HistGradientBoosting allows at
#: most max_bins <= 255.
MAX_CATEGORIES = 255


@dataclass(frozen=True)
class TreeEnsemble:
    """The mean of the leaf values reached in each tree.

    A single decision tree is an ensemble of one. For classifiers the mean
    row holds class probabilities and the label is its argmax (ties go to the
    first class, as numpy.argmax does); for regressors it holds the outputs;
    outlier detectors (isolation forests) score the sum (``outlier``).
    """

    task: Literal["classifier", "regressor", "outlier_detector"]
    n_features: int
    leaf_width: int
    trees: Tuple[Tree, ...]
    classes: Optional[np.ndarray] = None  # classifiers: labels, as scikit-learn's classes_
    outlier: Optional[OutlierScore] = None  # outlier detectors
    boost: Optional[BoostScore] = None  # boosted models: a sum, then a link
    #: Per feature, the sorted values of a categorical feature's categories
    #: (float64, each exactly a float32) or None for a numeric feature; empty:
    #: every feature is numeric.
    categories: Tuple[Optional[np.ndarray], ...] = ()

    def _validate_categories(self) -> None:
        if not self.categories:
            return
        if len(self.categories) != self.n_features:
            raise ValueError("categories must name every feature (None for a numeric one)")
        for feature, values in enumerate(self.categories):
            if values is not None:
                _check_category_values(np.asarray(values, dtype=np.float64), feature)

    def validate(self) -> None:
        if self.task not in ("classifier", "regressor", "outlier_detector"):
            raise ValueError(f"unknown task {self.task!r}")
        if (self.task == "outlier_detector") != (self.outlier is not None):
            raise ValueError("an outlier detector, and only one, has an outlier score")
        if self.outlier is not None:
            if self.leaf_width != 1:
                raise ValueError("an outlier detector's leaves hold one value")
            self.outlier.validate()
        if self.n_features < 1:
            raise ValueError("a model needs at least one feature")
        if self.leaf_width < 1:
            raise ValueError("leaf_width must be at least 1")
        if not self.trees:
            raise ValueError("an ensemble needs at least one tree")
        if self.boost is not None:
            self.boost.validate(self.leaf_width)
            if self.classes is not None and len(self.classes) != self.boost.n_classes:
                raise ValueError("a boosted classifier needs one label per class")
        elif self.task == "classifier":
            if self.classes is None or len(self.classes) != self.leaf_width:
                raise ValueError("a classifier needs one label per leaf value")
        self._validate_categories()
        for index, tree in enumerate(self.trees):
            try:
                tree.validate(self.n_features, self.leaf_width)
                tree.validate_categories(self.categories)
            except ValueError as exc:
                raise ValueError(f"tree {index}: {exc}") from None
