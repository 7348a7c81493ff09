"""Input checks shared by every host model, mirroring scikit-learn's."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils import check_array


def check_X(X: object, n_features: int, model_name: str, allow_nan: bool) -> np.ndarray:
    """X as a C-contiguous float32 matrix, converted the way scikit-learn's
    tree models convert it (round to nearest float32), or a ValueError.
    """
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
