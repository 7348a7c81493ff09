"""scikit-learn's HistGradientBoostingClassifier and
HistGradientBoostingRegressor -> TreeEnsemble IR whose raw score is a sum.

scikit-learn's _raw_predict starts each sample's raw scores at
``_baseline_prediction`` and adds, iteration by iteration, the value of the
leaf that tree k reaches to score k, in float64. Leaf values already hold the
learning rate. The IR holds a first single-leaf tree with the baseline row,
then every predictor's tree with its leaf values in column k (zero
elsewhere): summed in tree order from zero in float64 they give
scikit-learn's raw scores bit for bit.

Inputs. The device reads the estimator's input columns in their original
order. When the model has categorical features, scikit-learn encodes them
first (its ``_preprocessor``: an OrdinalEncoder, then the categorical
columns moved to the front); the IR maps every split back to the original
column and keeps, per categorical column, the sorted category values the
encoder learnt, so that the runtime finds a value's code the way the encoder
does: by exact equality, unknown values and NaN becoming missing. Those
category values must therefore be numbers that float32 holds exactly; a
model fitted on other categories (strings) is refused.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from ...core.labels import check_single_output_classes
from .ir import LEAF, BoostScore, Tree, TreeEnsemble

SUPPORTED = (HistGradientBoostingClassifier, HistGradientBoostingRegressor)

#: scikit-learn's inverse link, by loss link class: classifiers'
#: probabilities, regressors' predict.
_CLASSIFIER_LINKS = {"LogitLink": "logistic_positive", "MultinomialLogit": "softmax"}
_REGRESSOR_LINKS = {"IdentityLink": "identity", "LogLink": "exp"}

#: Bits of one raw category bitset row (scikit-learn: 8 uint32 words).
_BITSET_BITS = 256

_NODE_FIELDS = ("value", "feature_idx", "num_threshold", "missing_go_to_left", "left", "right",
                "is_leaf", "is_categorical", "bitset_idx")


def _refuse_categories(name: str, column: str, values: np.ndarray, why: str) -> ValueError:
    shown = ", ".join(repr(v) for v in list(values[:4])) + (", ..." if len(values) > 4 else "")
    return ValueError(
        f"{name}: categorical feature {column} has categories {why} ({shown}); the generated model reads "
        "each feature as one float32 and finds its category by exact equality. Encode such a column as "
        "numbers before fitting (small integers, e.g. an OrdinalEncoder in front of the model or a pandas "
        "Categorical of integer codes) and give the device those same numbers"
    )


def _category_values(name: str, column: str, categories: Any) -> np.ndarray:
    """The encoder's categories of one column (NaN, which it lists last,
    dropped: NaN is a missing value) as float64 values that are each exactly
    a float32, or a ValueError saying what to do."""
    raw = np.asarray(categories)
    values = [v for v in raw.tolist() if not (v is None or (isinstance(v, float) and np.isnan(v)))]
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)
    if not numeric:
        raise _refuse_categories(name, column, raw, "that are not numbers")
    out = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise _refuse_categories(name, column, raw, "that are not finite")
    with np.errstate(over="ignore"):
        exact = out.astype(np.float32).astype(np.float64) == out
    if not np.all(exact):
        raise _refuse_categories(name, column, out[~exact], "that float32 cannot represent")
    if np.any(np.diff(out) <= 0):
        raise ValueError(f"{name}: the encoder's categories of {column} are not sorted and distinct")
    return out


def _column_name(estimator: Any, column: int) -> str:
    names = getattr(estimator, "feature_names_in_", None)
    return repr(str(names[column])) if names is not None and column < len(names) else f"at index {column}"


def input_columns(estimator: Any, n_features: int) -> Tuple[np.ndarray, Tuple[Optional[np.ndarray], ...]]:
    """(original column of each column the trees split on, categories of
    each original column or None). Without categorical features the trees
    read the input as it is."""
    name = type(estimator).__name__
    preprocessor = getattr(estimator, "_preprocessor", None)
    is_categorical = getattr(estimator, "is_categorical_", None)
    if preprocessor is None or is_categorical is None:
        return np.arange(n_features), ()
    mask = np.asarray(is_categorical, dtype=bool)
    encoder = getattr(preprocessor, "named_transformers_", {}).get("encoder")
    output_indices = getattr(preprocessor, "output_indices_", {})
    if mask.shape != (n_features,) or encoder is None or "encoder" not in output_indices:
        raise ValueError(f"{name}._preprocessor is not the categorical encoder scikit-learn fits (not fitted?)")
    encoded = np.flatnonzero(mask)
    categories_ = list(getattr(encoder, "categories_", []))
    order = np.concatenate([encoded, np.flatnonzero(~mask)])
    start = output_indices["encoder"].start
    if len(categories_) != encoded.size or start != 0:
        raise ValueError(f"{name}._preprocessor's encoder does not encode the categorical features")
    categories: List[Optional[np.ndarray]] = [None] * n_features
    for column, values in zip(encoded.tolist(), categories_):
        categories[column] = _category_values(name, _column_name(estimator, column), values)
    return order, tuple(categories)


def _bitset_bits(bitsets: np.ndarray, row: int, what: str) -> np.ndarray:
    """Row ``row`` of scikit-learn's (n, 8) uint32 bitsets as 256 booleans
    (bit c of word c // 32 is code c)."""
    if bitsets.ndim != 2 or bitsets.shape[1] * 32 != _BITSET_BITS or not 0 <= row < bitsets.shape[0]:
        raise ValueError(f"{what}: bitset {row} is not in raw_left_cat_bitsets of shape {bitsets.shape}")
    words = np.asarray(bitsets[row], dtype=np.uint32)
    return np.unpackbits(words.view(np.uint8), bitorder="little").astype(bool)


def _read_predictor(predictor: Any, what: str, column_of: np.ndarray, categorical: Tuple[Optional[np.ndarray], ...],
                    width: int, k: int) -> Tree:
    """One TreePredictor as an IR tree: features as original columns, leaf
    values in column k of ``width``."""
    nodes = getattr(predictor, "nodes", None)
    names = getattr(getattr(nodes, "dtype", None), "names", None) or ()
    if nodes is None or any(field not in names for field in _NODE_FIELDS) or nodes.ndim != 1 or nodes.size == 0:
        raise ValueError(f"{what}.nodes is not a non-empty array of scikit-learn's predictor nodes")
    n = nodes.size
    is_leaf = nodes["is_leaf"].astype(bool)
    left = np.where(is_leaf, LEAF, nodes["left"].astype(np.int64))
    right = np.where(is_leaf, LEAF, nodes["right"].astype(np.int64))
    tree_feature = nodes["feature_idx"].astype(np.int64)
    inner = ~is_leaf
    if np.any(inner & ((tree_feature < 0) | (tree_feature >= column_of.size))):
        raise ValueError(f"{what}: a split feature is outside [0, {column_of.size})")
    feature = np.where(inner, column_of[np.clip(tree_feature, 0, column_of.size - 1)], 0)
    value = np.zeros((n, width))
    value[:, k] = nodes["value"].astype(np.float64)
    node_is_categorical = nodes["is_categorical"].astype(bool) & inner
    cat_left = None
    if categorical:
        column_categorical = np.array([c is not None for c in categorical])
        if np.any(node_is_categorical != (inner & column_categorical[feature])):
            raise ValueError(f"{what}: a split's is_categorical disagrees with the estimator's is_categorical_")
        bitsets = np.asarray(getattr(predictor, "raw_left_cat_bitsets", np.zeros((0, 8), np.uint32)))
        cat_left = np.zeros((n, _BITSET_BITS), dtype=bool)
        for node in np.flatnonzero(node_is_categorical).tolist():
            cat_left[node] = _bitset_bits(bitsets, int(nodes["bitset_idx"][node]), what)
    elif np.any(node_is_categorical):
        raise ValueError(f"{what} has categorical splits but the estimator has no categorical features")
    return Tree(
        children_left=left,
        children_right=right,
        feature=feature,
        threshold=np.where(inner & ~node_is_categorical, nodes["num_threshold"].astype(np.float64), 0.0),
        missing_left=nodes["missing_go_to_left"].astype(bool) & inner,
        value=value,
        cat_left=cat_left,
    )


def _link(estimator: Any, classifier: bool) -> str:
    name = type(estimator).__name__
    loss = getattr(estimator, "_loss", None)
    link_name = type(getattr(loss, "link", None)).__name__
    link = (_CLASSIFIER_LINKS if classifier else _REGRESSOR_LINKS).get(link_name)
    if link is None:
        raise ValueError(f"{name} has a loss whose link emlearn_gen does not know: {type(loss).__name__}")
    return link


def convert_hist_gradient_boosting(estimator: Any, read_tree: Callable[..., Tree]) -> TreeEnsemble:
    """IR of a fitted HistGradientBoostingClassifier or
    HistGradientBoostingRegressor (``read_tree`` is unused: its trees are
    scikit-learn's TreePredictor arrays, not sklearn.tree trees)."""
    del read_tree
    name = type(estimator).__name__
    n_features = int(estimator.n_features_in_)
    classifier = isinstance(estimator, HistGradientBoostingClassifier)
    width = int(getattr(estimator, "n_trees_per_iteration_", 0))
    if classifier:
        classes = check_single_output_classes(estimator.classes_, 1, name)
        if width != (1 if len(classes) == 2 else len(classes)):
            raise ValueError(f"{name} has {width} trees per iteration for {len(classes)} classes")
    else:
        classes = None
        if width != 1:
            raise ValueError(f"{name} has {width} trees per iteration; a regressor has one")
    link = _link(estimator, classifier)
    baseline = np.asarray(getattr(estimator, "_baseline_prediction", None), dtype=np.float64).reshape(-1)
    if baseline.shape != (width,) or not np.all(np.isfinite(baseline)):
        raise ValueError(f"{name}._baseline_prediction must hold {width} finite values")
    column_of, categories = input_columns(estimator, n_features)
    trees: List[Tree] = [Tree(
        children_left=np.array([LEAF]), children_right=np.array([LEAF]), feature=np.zeros(1, dtype=np.int64),
        threshold=np.zeros(1), missing_left=np.zeros(1, dtype=bool), value=baseline.reshape(1, -1),
    )]
    predictors = getattr(estimator, "_predictors", None)
    if not isinstance(predictors, list):
        raise ValueError(f"{name}._predictors must be the list of fitted trees (not fitted?)")
    for i, iteration in enumerate(predictors):
        if len(iteration) != width:
            raise ValueError(f"{name}._predictors[{i}] holds {len(iteration)} trees, not {width}")
        for k, predictor in enumerate(iteration):
            trees.append(_read_predictor(predictor, f"{name}._predictors[{i}][{k}]", column_of, categories, width, k))
    return TreeEnsemble(
        task="classifier" if classifier else "regressor",
        n_features=n_features,
        leaf_width=width,
        trees=tuple(trees),
        classes=classes,
        boost=BoostScore(link=link, n_classes=len(classes) if classifier else 1),
        categories=categories,
    )
