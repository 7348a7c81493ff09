"""convert(): fitted estimator -> CModel, through the estimator's family."""

from __future__ import annotations

from typing import Any, Dict

import numpy as np
import sklearn
from sklearn.utils.validation import check_is_fitted

from . import _runtime
from .core.identifiers import check_identifier
from .families import REGISTRY
from .model import CModel


def _versions() -> Dict[str, Any]:
    return {
        "version": f"{_runtime.VERSION_MAJOR}.{_runtime.VERSION_MINOR}.{_runtime.VERSION_PATCH}",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
    }


def convert(estimator: Any, name: str = "model", **options: Any) -> CModel:
    """Converts a fitted scikit-learn estimator into a CModel.

    Parameters
    ----------
    estimator : a fitted scikit-learn estimator (see ``supported_estimators()``).
    name : the C++ namespace of the generated model; a C++ identifier.
    **options : options of the estimator's model family, validated by it.
        Every family has ``dtype`` (type of stored values and of sums):
        trees: ``"float64"`` (the default for classifiers) repeats
        scikit-learn's float64 arithmetic operation for operation, so labels
        are identical even where classes tie and rounding decides;
        ``"float32"`` (the default for regressors) halves the flash of leaf
        values. Linear models: ``"float32"``. See docs/architecture.md for the
        numeric contract of each family.

    Raises
    ------
    NotFittedError for an unfitted estimator, TypeError for an unsupported
    one or an unknown option, ValueError for a bad name or option value.
    """
    name = check_identifier(name, "name")
    family = REGISTRY.family_of(estimator)
    checked = family.check_options(options)
    check_is_fitted(estimator)
    ir = family.to_ir(estimator)
    lowered = family.lower(ir, checked)
    return CModel(
        name=name,
        family=family,
        estimator_name=type(estimator).__name__,
        lowered=lowered,
        versions=_versions(),
    )


def supported_estimators() -> tuple:
    """Names of the scikit-learn estimator classes that convert() accepts."""
    return REGISTRY.supported_estimators()
