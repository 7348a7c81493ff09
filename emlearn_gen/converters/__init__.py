"""Converters: fitted scikit-learn estimators -> IR.

Each family registers the estimator classes it handles. Converters read
fitted attributes only and never see templates or C++.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Tuple, Type

from sklearn.utils.validation import check_is_fitted

from .trees import SUPPORTED as _TREE_CLASSES
from .trees import convert_trees

Converter = Callable[[Any], Any]

_REGISTRY: Dict[Type[Any], Tuple[str, Converter]] = {
    cls: ("trees", convert_trees) for cls in _TREE_CLASSES
}


def supported_estimators() -> Tuple[str, ...]:
    """Names of the scikit-learn estimator classes that convert() accepts."""
    return tuple(sorted(cls.__name__ for cls in _REGISTRY))


def to_ir(estimator: Any) -> Tuple[str, Any]:
    """(family, IR) of a fitted estimator.

    Raises TypeError for an unsupported estimator and sklearn's NotFittedError
    for an unfitted one.
    """
    entry = _REGISTRY.get(type(estimator))
    if entry is None:
        got = type(estimator).__name__
        raise TypeError(
            f"emlearn_gen cannot convert {got}. Supported estimators: "
            + ", ".join(supported_estimators())
        )
    check_is_fitted(estimator)
    family, convert = entry
    return family, convert(estimator)
