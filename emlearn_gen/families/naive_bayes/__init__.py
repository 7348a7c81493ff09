"""Naive Bayes classifiers: per class, a constant plus one term per feature,
on float32 tables; probabilities through the runtime's log-sum-exp.

    convert.py   fitted estimator -> NaiveBayesModel IR (ir.py)
    __init__.py  the family: entry points, packing, layout (runtime naive_bayes.hpp)
    model.hpp.j2 the header's entry-point bodies
    contract.py  the float32 bound on joint log-likelihoods, carried to probabilities
    catalog.py   examples of every estimator, for the tests and benchmarks
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from ...core.entry_points import LABEL, VALUES, EntryPoint
from ...core.family import Family, Lowered, Option, Packed
from ...core.layout import Field, Layout, Table, frozen
from .contract import NaiveBayesContract, binarize_threshold
from .convert import SUPPORTED, convert_naive_bayes
from .ir import KINDS, NaiveBayesModel

LAYOUT = Layout(
    kernel="naive_bayes",
    tables=(
        Table("weights", "float", "Per class and feature: log probabilities, 1 / (2 var) (gaussian), "
              "or per feature, class and category: log probabilities (categorical)."),
        Table("means", "float", "Gaussian: the mean of each class and feature."),
        Table("constants", "float", "Per class, added last: log prior (and Gaussian normalisation)."),
        Table("categories", "int16_t", "Categorical: the number of categories of each feature."),
        Table("thresholds", "float", "Bernoulli: the binarize threshold, rounded to nearest float32."),
    ),
    fields=(
        Field("n_features", "uint32_t"),
        Field("n_classes", "uint32_t"),
        Field("kind", "uint8_t"),
    ),
)

_ESTIMATOR_NOUN = {
    "linear": "log probabilities times x",
    "binarized": "log probabilities of binarized x",
    "gaussian": "Gaussian log densities",
    "categorical": "category log probabilities",
}


class UnknownCategoryError(ValueError, IndexError):
    """A CategoricalNB input whose category has no column in the model
    (scikit-learn raises an IndexError there; this is also a ValueError, as
    the other input errors are)."""


def _entry_points(ir: NaiveBayesModel) -> tuple:
    k = ir.n_classes
    return (
        EntryPoint("predict", LABEL, doc="Predicted class: an index into classes[]."),
        EntryPoint("predict_proba", VALUES, k, doc="Class probabilities: writes n_classes values to `out`."),
        EntryPoint("predict_log_proba", VALUES, k,
                   doc="Logarithms of the class probabilities: writes n_classes values to `out`."),
        EntryPoint("predict_joint_log_proba", VALUES, k,
                   doc="Joint log-likelihoods log P(x, y): writes n_classes values to `out`."),
    )


def _weights(ir: NaiveBayesModel) -> np.ndarray:
    if ir.kind == "gaussian":
        return (0.5 / ir.variances).reshape(-1)
    if ir.kind == "categorical":
        return np.concatenate([table.reshape(-1) for table in ir.log_probs])
    return ir.weights.reshape(-1)


def category_check(n_categories: np.ndarray) -> Callable[[np.ndarray], None]:
    """CategoricalNB's checks of X at predict time, on the float32 rows: values
    are truncated to integers, so x <= -1 is negative (scikit-learn's error) and
    x >= n_categories_[i] a category without a column (scikit-learn's
    IndexError, here UnknownCategoryError)."""
    limits = np.asarray(n_categories, dtype=np.float64)

    def check(X32: np.ndarray) -> None:
        if np.any(X32 <= -1):
            raise ValueError("Negative values in data passed to CategoricalNB (input X).")
        above = X32 >= limits
        if np.any(above):
            row, feature = (int(v) for v in np.argwhere(above)[0])
            raise UnknownCategoryError(
                f"X[{row}, {feature}] = {X32[row, feature]!r} is category {int(X32[row, feature])} of "
                f"feature {feature}, which has categories 0 to {int(limits[feature]) - 1} only; "
                "scikit-learn refuses it too (IndexError). Fit with min_categories to give the "
                "model columns for categories it has not seen."
            )

    return check


class NaiveBayesFamily(Family):
    name = "naive_bayes"
    estimators = SUPPORTED
    runtime_header = "naive_bayes.hpp"
    format_version = 1
    template = "families/naive_bayes/model.hpp.j2"
    layout = LAYOUT
    contract = NaiveBayesContract()
    options = (Option("dtype", "type of tables and sums: float32", ("float32",)),)

    def to_ir(self, estimator: Any) -> NaiveBayesModel:
        return convert_naive_bayes(estimator)

    def lower(self, ir: NaiveBayesModel, options: Mapping[str, Any]) -> Lowered:
        empty = np.zeros(0, dtype=np.float32)
        packed = Packed(
            tables={
                "weights": frozen(_weights(ir).astype(np.float32)),
                "means": frozen(ir.means.astype(np.float32).reshape(-1)) if ir.kind == "gaussian" else frozen(empty),
                "constants": frozen(ir.constants.astype(np.float32)),
                "categories": frozen(ir.n_categories.astype(np.int16)),
                "thresholds": frozen(np.array([binarize_threshold(ir.threshold)], dtype=np.float32))
                if ir.kind == "binarized"
                else frozen(empty),
            },
            fields={"n_features": ir.n_features, "n_classes": ir.n_classes, "kind": KINDS[ir.kind]},
        )
        check_rows: Optional[Callable[[np.ndarray], None]] = (
            category_check(ir.n_categories) if ir.kind == "categorical" else None
        )
        k = ir.n_classes
        return Lowered(
            task="classifier",
            n_features=ir.n_features,
            entry_points=_entry_points(ir),
            packed=packed,
            options=(("dtype", options["dtype"] or "float32"),),
            classes=ir.classes,
            summary=(
                f"{k} class{'es' if k != 1 else ''} of {ir.n_features} features, "
                f"{_ESTIMATOR_NOUN[ir.kind]}; tables {packed.table_bytes} bytes.",
            ),
            # predict() keeps the joint log-likelihoods (the class scores) for the argmax.
            scratch={"predict": (4 * k, f"{k} score{'s' if k != 1 else ''} of 4 bytes")},
            allow_nan=False,
            check_rows=check_rows,
        )

    def tables(self, packed: Packed) -> Packed:
        return packed

    def file_row_checks(self, packed: Packed, entry_points: Sequence[EntryPoint]) -> Optional[Callable[[np.ndarray], None]]:
        # CategoricalNB's checks, from its table of category counts.
        if int(packed.fields["kind"]) != KINDS["categorical"]:
            return None
        return category_check(np.asarray(packed.tables["categories"]))

    def catalog(self) -> Sequence[Any]:
        from .catalog import EXAMPLES

        return EXAMPLES


FAMILY = NaiveBayesFamily()
