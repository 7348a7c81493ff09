"""Input checks shared by every host model, mirroring scikit-learn's."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils import check_array

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
