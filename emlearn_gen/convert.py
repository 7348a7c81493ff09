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
from .packing.trees import REAL_DTYPES, pack_trees


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
        classes' probabilities tie exactly in real arithmetic.

    Raises
    ------
    NotFittedError for an unfitted estimator, TypeError for an unsupported
    one, ValueError for a bad name or option.
    """
    name = check_identifier(name, "name")
    if dtype is not None and dtype not in REAL_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(REAL_DTYPES)} or None, got {dtype!r}")
    family, ir = to_ir(estimator)
    return _BUILDERS[family](estimator, ir, name, dtype)


def _tree_model(estimator: Any, ir: TreeEnsemble, name: str, dtype: Optional[str]) -> CModel:
    classifier = ir.task == "classifier"
    if dtype is None:
        dtype = "float64" if classifier else "float32"
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
    )


# One builder per family of converters/: IR -> packed tables, host model and template.
_BUILDERS: Dict[str, Callable[[Any, Any, str, Optional[str]], CModel]] = {
    "trees": _tree_model,
}
