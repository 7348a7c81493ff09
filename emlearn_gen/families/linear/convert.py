"""scikit-learn linear models -> LinearModel IR. Reads fitted attributes only."""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np
from sklearn import linear_model as lm
from sklearn import svm

from ...core.labels import check_single_output_classes
from .ir import LinearModel


def _classes(*names: str) -> Tuple[type, ...]:
    # Deprecated classes disappear in later scikit-learn releases.
    return tuple(getattr(lm, n) for n in names if hasattr(lm, n))


CLASSIFIERS = _classes(
    "LogisticRegression", "LogisticRegressionCV", "RidgeClassifier", "RidgeClassifierCV",
    "SGDClassifier", "Perceptron", "PassiveAggressiveClassifier",
) + (svm.LinearSVC,)
REGRESSORS = _classes(
    "LinearRegression", "Ridge", "RidgeCV", "Lasso", "LassoCV", "ElasticNet", "ElasticNetCV",
    "Lars", "LassoLars", "OrthogonalMatchingPursuit", "SGDRegressor", "PassiveAggressiveRegressor",
    "HuberRegressor", "BayesianRidge", "ARDRegression", "QuantileRegressor",
    "PoissonRegressor", "GammaRegressor", "TweedieRegressor",
) + (svm.LinearSVR,)
SUPPORTED = CLASSIFIERS + REGRESSORS


def _array(estimator: Any, attribute: str) -> np.ndarray:
    name = type(estimator).__name__
    value = getattr(estimator, attribute, None)
    if value is None:
        raise ValueError(f"{name} has no fitted {attribute}; fit it before converting")
    if hasattr(value, "toarray"):
        value = value.toarray()  # sparsified coef_
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}.{attribute} is not numeric: {exc}") from exc
    return array


def _coef_intercept(estimator: Any) -> Tuple[np.ndarray, np.ndarray, bool]:
    """(coef (n_scores, n_features), intercept (n_scores,), 1-D results)."""
    name = type(estimator).__name__
    coef = _array(estimator, "coef_")
    if coef.ndim not in (1, 2):
        raise ValueError(f"{name}.coef_ has {coef.ndim} dimensions; expected 1 or 2")
    vector = coef.ndim == 1
    coef2 = coef.reshape(1, -1) if vector else coef
    intercept = np.asarray(getattr(estimator, "intercept_", 0.0), dtype=np.float64)
    if intercept.ndim == 0 or intercept.size == 1:
        intercept = np.full(coef2.shape[0], float(intercept.reshape(-1)[0]) if intercept.size else 0.0)
    intercept = intercept.reshape(-1)
    if intercept.shape[0] != coef2.shape[0]:
        raise ValueError(f"{name}: intercept_ has {intercept.shape[0]} values for {coef2.shape[0]} rows of coef_")
    n_features = getattr(estimator, "n_features_in_", coef2.shape[1])
    if int(n_features) != coef2.shape[1]:
        raise ValueError(f"{name}: n_features_in_ is {n_features} but coef_ has {coef2.shape[1]} columns")
    return np.ascontiguousarray(coef2), intercept, vector


def _proba_link(estimator: Any) -> str:
    if isinstance(estimator, _classes("LogisticRegression", "LogisticRegressionCV")):
        # scikit-learn: sigmoid for two classes, softmax (multinomial) otherwise.
        return "logistic" if len(estimator.classes_) <= 2 else "softmax"
    if isinstance(estimator, _classes("SGDClassifier")):
        return {"log_loss": "logistic", "modified_huber": "modified_huber"}.get(estimator.loss, "identity")
    return "identity"


def _regressor_link(estimator: Any) -> str:
    loss = getattr(estimator, "_base_loss", None)
    if loss is None:
        return "identity"  # not a generalized linear model
    link = type(getattr(loss, "link", None)).__name__
    if link == "IdentityLink":
        return "identity"
    if link == "LogLink":
        return "exp"
    raise ValueError(f"{type(estimator).__name__} has a {link} link, which emlearn_gen does not support")


def convert_linear(estimator: Any) -> LinearModel:
    """IR of a fitted linear classifier or regressor."""
    coef, intercept, vector = _coef_intercept(estimator)
    name = type(estimator).__name__
    if isinstance(estimator, CLASSIFIERS):
        classes = check_single_output_classes(estimator.classes_, 1, name)
        if len(classes) < 2:
            raise ValueError(f"{name} was fitted on one class; a classifier needs two or more")
        ir = LinearModel("classifier", coef, intercept, _proba_link(estimator), vector=coef.shape[0] == 1,
                         classes=classes)
    else:
        ir = LinearModel("regressor", coef, intercept, _regressor_link(estimator), vector=vector)
    ir.validate()
    return ir
