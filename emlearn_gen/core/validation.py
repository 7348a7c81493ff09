"""Input checks shared by every host model, mirroring scikit-learn's."""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
from sklearn.utils import check_array

# scikit-learn's own reading of column names (pandas, polars, ... through
# narwhals in recent versions; only all-string names count, mixed types raise
# TypeError), so that CModel accepts and refuses exactly the containers the
# estimator does. Private, but present and unchanged in meaning since 1.0.
from sklearn.utils.validation import _get_feature_names

_INF_MESSAGE = "Input X contains infinity or a value too large for dtype('float32')."


def _fast_path(X: object, n_features: int, allow_nan: bool) -> "np.ndarray | None":
    """The common case (a 2-D float ndarray of the right width) without
    check_array's overhead, which dominates single-sample prediction."""
    if type(X) is not np.ndarray or X.ndim != 2 or X.dtype not in (np.float32, np.float64):
        return None
    if X.shape[0] == 0 or X.shape[1] != n_features:
        return None  # let check_array word the error
    with np.errstate(over="ignore"):
        X32 = np.ascontiguousarray(X, dtype=np.float32)
    if allow_nan:
        if np.isinf(X32).any():
            raise ValueError(_INF_MESSAGE)
    elif not np.isfinite(X32).all():
        return None
    return X32


def check_X(X: object, n_features: int, model_name: str, allow_nan: bool) -> np.ndarray:
    """X as a C-contiguous float32 matrix, converted the way scikit-learn's
    tree models convert it (round to nearest float32), or a ValueError.
    """
    fast = _fast_path(X, n_features, allow_nan)
    if fast is not None:
        return fast
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(
            f"{model_name}: sparse input is not supported; pass a dense array (X.toarray())"
        )
    with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        X32 = check_array(
            X,
            dtype=np.float32,
            order="C",
            ensure_all_finite="allow-nan" if allow_nan else True,
            input_name="X",
        )
    if X32.shape[1] != n_features:
        raise ValueError(
            f"X has {X32.shape[1]} features, but {model_name} is expecting "
            f"{n_features} features as input."
        )
    return X32


def _list_names(names: "list[str]") -> str:
    """At most five names, one a line, as scikit-learn lists them."""
    lines = [f"- {name}\n" for name in names[:5]]
    if len(names) > 5:
        lines.append("- ...\n")
    return "".join(lines)


def check_feature_names(
    X: object,
    fitted: Optional[np.ndarray],
    model_name: str,
    *,
    warn: bool = True,
    stacklevel: int = 2,
) -> None:
    """Checks X's column names against the names seen in fit, as
    scikit-learn's predict does: a ValueError when both have names and they
    differ in content or order (the C++ code takes features by position, so
    a reordered DataFrame would silently give wrong answers), and with
    ``warn`` a UserWarning when only one side has names (``stacklevel`` as
    for warnings.warn, counted from the caller of this function).
    """
    given = _get_feature_names(X)
    if fitted is None and given is None:
        return
    if fitted is None:
        if warn:
            warnings.warn(
                f"X has feature names, but {model_name} was fitted without feature names",
                UserWarning,
                stacklevel=stacklevel + 1,
            )
        return
    if given is None:
        if warn:
            warnings.warn(
                f"X does not have valid feature names, but {model_name} was fitted with feature names",
                UserWarning,
                stacklevel=stacklevel + 1,
            )
        return
    if len(fitted) == len(given) and bool(np.all(fitted == given)):
        return
    message = "The feature names should match those that were passed during fit.\n"
    unexpected = sorted(set(given) - set(fitted))
    missing = sorted(set(fitted) - set(given))
    if unexpected:
        message += "Feature names unseen at fit time:\n" + _list_names(unexpected)
    if missing:
        message += "Feature names seen at fit time, yet now missing:\n" + _list_names(missing)
    if not unexpected and not missing:
        message += "Feature names must be in the same order as they were in fit.\n"
    raise ValueError(message)


def accepts_nan(estimator: object) -> bool:
    """Whether scikit-learn's estimator takes NaN in X (as missing values),
    by its tags. (A Pipeline's or ColumnTransformer's tags say no even where
    their steps take NaN: the transforms family judges those step by step.)"""
    return bool(estimator.__sklearn_tags__().input_tags.allow_nan)
