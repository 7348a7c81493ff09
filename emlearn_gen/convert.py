"""convert(): fitted estimator -> CModel."""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

import numpy as np
import sklearn

from . import _runtime
from .codegen.identifiers import check_identifier
from .codegen.trees import tree_context
from .converters import to_ir
from .host.trees import HostTrees
from .ir.trees import TreeEnsemble
from .model import CModel
from .packing.trees import REAL_DTYPES, float32_sums_fit, pack_trees


def _versions() -> dict:
    return {
        "version": f"{_runtime.VERSION_MAJOR}.{_runtime.VERSION_MINOR}.{_runtime.VERSION_PATCH}",
        "runtime_version": int(_runtime.VERSION),
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
    }


def convert(estimator: Any, name: str = "model", *, dtype: Optional[str] = None) -> CModel:
    """Converts a fitted scikit-learn estimator into a CModel.

    Parameters
    ----------
    estimator : a fitted scikit-learn estimator (see ``supported_estimators()``).
    name : the C++ namespace of the generated model; a C++ identifier.
    dtype : type of leaf values and of their sums.
        ``"float64"`` (the default for classifiers) repeats scikit-learn's
        float64 arithmetic operation for operation, so labels are identical to
        scikit-learn's even where classes tie and rounding decides (where
        double has 32 bits, as on AVR, the runtime does binary64 in software).
        ``"float32"`` (the default for regressors) halves the flash of leaf
        values and uses float arithmetic; outputs stay within float32 rounding
        of scikit-learn's, but a classifier's label may differ where two
        classes' probabilities tie exactly in real arithmetic. A regressor
        whose leaf values summed over its trees could exceed float32's range
        gets float64 by default, and ``dtype="float32"`` raises ValueError.

    Raises
    ------
    NotFittedError for an unfitted estimator, TypeError for an unsupported
    one, ValueError for a bad name or option, and ValueError or TypeError
    naming what is wrong for a model whose fitted attributes are malformed.
    """
    name = check_identifier(name, "name")
    if dtype is not None and dtype not in REAL_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(REAL_DTYPES)} or None, got {dtype!r}")
    family, ir = to_ir(estimator)
    return _BUILDERS[family](estimator, ir, name, dtype)


def _default_tree_dtype(ir: TreeEnsemble) -> str:
    """float64 for classifiers (scikit-learn's rounding, so its tie-breaks);
    float32 for regressors, unless their float32 sums could overflow."""
    if ir.task == "classifier" or not float32_sums_fit(ir):
        return "float64"
    return "float32"


def _feature_names(estimator: Any) -> Optional[np.ndarray]:
    """The estimator's feature_names_in_ (absent when fitted without names),
    one per feature, as strings."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return None
    names = np.asarray(names, dtype=object)
    what = f"{type(estimator).__name__}.feature_names_in_"
    if names.shape != (int(estimator.n_features_in_),):
        raise ValueError(
            f"{what} has shape {names.shape}, but the estimator has {estimator.n_features_in_} "
            "features; refit it, or delete the attribute to convert without names"
        )
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"{what} must hold strings, as scikit-learn sets it from string column names")
    return names


def _tree_model(estimator: Any, ir: TreeEnsemble, name: str, dtype: Optional[str]) -> CModel:
    classifier = ir.task == "classifier"
    if dtype is None:
        dtype = _default_tree_dtype(ir)
    packed = pack_trees(ir, real=dtype)
    return CModel(
        name=name,
        estimator_name=type(estimator).__name__,
        task=ir.task,
        n_features=ir.n_features,
        classes=np.asarray(estimator.classes_) if classifier else None,
        n_outputs=1 if classifier else ir.leaf_width,
        c_methods=(
            (("predict", "label", 1), ("predict_proba", "float", ir.leaf_width))
            if classifier
            else (("predict", "float", ir.leaf_width),)
        ),
        host=HostTrees(packed, classifier),
        template="tree_ensemble.hpp.j2",
        context=lambda: tree_context(ir, packed),
        options=(("name", name), ("dtype", dtype)),
        versions=_versions(),
        allow_nan=True,
        packed=packed,
        feature_names=_feature_names(estimator),
    )


# One builder per family of converters/: IR -> packed tables, host model and template.
_BUILDERS: Dict[str, Callable[[Any, Any, str, Optional[str]], CModel]] = {
    "trees": _tree_model,
}
