"""scikit-learn's MLPClassifier and MLPRegressor -> MLPModel IR. Reads fitted attributes only."""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor

from ...core.labels import check_single_output_classes
from .ir import HIDDEN_ACTIVATIONS, MLPModel

SUPPORTED = (MLPClassifier, MLPRegressor)


def _layers(estimator: Any) -> Tuple[Tuple[np.ndarray, ...], Tuple[np.ndarray, ...]]:
    """(weights, one (units, inputs) matrix per layer; intercepts), float64."""
    name = type(estimator).__name__
    coefs = getattr(estimator, "coefs_", None)
    intercepts = getattr(estimator, "intercepts_", None)
    if coefs is None or intercepts is None:
        raise ValueError(f"{name} has no fitted coefs_ and intercepts_; fit it before converting")
    try:
        weights = tuple(np.ascontiguousarray(np.asarray(w, dtype=np.float64).T) for w in coefs)
        biases = tuple(np.asarray(b, dtype=np.float64).reshape(-1) for b in intercepts)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: coefs_ and intercepts_ must be numeric arrays: {exc}") from exc
    n_features = int(getattr(estimator, "n_features_in_", weights[0].shape[1] if weights else 0))
    if weights and weights[0].ndim == 2 and weights[0].shape[1] != n_features:
        raise ValueError(f"{name}: n_features_in_ is {n_features} but coefs_[0] has {weights[0].shape[1]} rows")
    return weights, biases


def _activation(estimator: Any) -> str:
    activation = getattr(estimator, "activation", None)
    if activation not in HIDDEN_ACTIVATIONS:
        raise ValueError(
            f"{type(estimator).__name__} has activation {activation!r}; emlearn_gen supports "
            f"{', '.join(HIDDEN_ACTIVATIONS)}"
        )
    return str(activation)


def convert_mlp(estimator: Any) -> MLPModel:
    """IR of a fitted MLPClassifier or MLPRegressor."""
    weights, biases = _layers(estimator)
    name = type(estimator).__name__
    hidden = _activation(estimator)
    out = str(getattr(estimator, "out_activation_", ""))
    if isinstance(estimator, MLPRegressor):
        ir = MLPModel("regressor", weights, biases, hidden, out, vector=int(estimator.n_outputs_) == 1)
    else:
        # scikit-learn: softmax for multi-class targets, logistic for binary
        # (one output) and multi-label (one output per label) targets.
        multilabel = out == "logistic" and int(estimator.n_outputs_) > 1
        if multilabel:
            classes = np.asarray(estimator.classes_)
            if classes.ndim != 1 or classes.dtype.kind not in "iu":
                raise ValueError(f"{name}: a multi-label classifier's classes_ must be label indices, got {classes!r}")
        else:
            classes = check_single_output_classes(estimator.classes_, 1, name)
        ir = MLPModel("classifier", weights, biases, hidden, out, multilabel=multilabel, classes=classes)
    ir.validate()
    return ir
