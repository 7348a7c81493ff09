"""scikit-learn naive Bayes classifiers -> NaiveBayesModel IR. Reads fitted
attributes only, and computes in float64 what scikit-learn's
_joint_log_likelihood computes from them before it looks at X."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import naive_bayes as nb

from ...core.labels import check_single_output_classes
from .ir import NaiveBayesModel

SUPPORTED = (nb.GaussianNB, nb.MultinomialNB, nb.ComplementNB, nb.BernoulliNB, nb.CategoricalNB)


def _array(estimator: Any, attribute: str) -> np.ndarray:
    value = getattr(estimator, attribute, None)
    if value is None:
        raise ValueError(f"{type(estimator).__name__} has no fitted {attribute}; fit it before converting")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{type(estimator).__name__}.{attribute} is not numeric: {exc}") from exc


def _gaussian(est: Any, classes: np.ndarray) -> NaiveBayesModel:
    theta, var = _array(est, "theta_"), _array(est, "var_")
    with np.errstate(divide="ignore", invalid="ignore"):
        # scikit-learn: log(class_prior_[i]) - 0.5 * sum(log(2 pi var_[i, :])).
        constants = np.log(_array(est, "class_prior_")) + -0.5 * np.sum(np.log(2.0 * np.pi * var), axis=1)
    return NaiveBayesModel("gaussian", classes, theta.shape[1], constants, means=theta, variances=var)


def _discrete(est: Any, classes: np.ndarray) -> NaiveBayesModel:
    flp = _array(est, "feature_log_prob_")
    prior = _array(est, "class_log_prior_")
    n_features = flp.shape[1]
    if isinstance(est, nb.BernoulliNB):
        # scikit-learn: X @ (flp - neg).T + (class_log_prior_ + neg.sum(axis=1)),
        # neg = log(1 - exp(flp)), X binarized first unless binarize is None.
        if np.any(flp >= 0):
            # Counts above the class count: features beyond 0/1 with binarize=None.
            raise ValueError(
                "BernoulliNB has feature_log_prob_ values >= 0 (fitted with binarize=None on features "
                "that are not 0 or 1), for which scikit-learn's own predictions are NaN or -inf; fit it "
                "on binary features or with a binarize threshold"
            )
        with np.errstate(divide="ignore"):
            neg = np.log(1 - np.exp(flp))
        constants = prior + neg.sum(axis=1)
        weights = flp - neg
        if est.binarize is None:
            return NaiveBayesModel("linear", classes, n_features, constants, weights=weights)
        return NaiveBayesModel(
            "binarized", classes, n_features, constants, weights=weights, threshold=float(est.binarize)
        )
    if isinstance(est, nb.ComplementNB) and len(classes) > 1:
        # ComplementNB adds the prior only for a single class.
        prior = np.zeros_like(prior)
    return NaiveBayesModel("linear", classes, n_features, prior, weights=flp)


def _categorical(est: Any, classes: np.ndarray) -> NaiveBayesModel:
    tables = getattr(est, "feature_log_prob_", None)
    if tables is None:
        raise ValueError("CategoricalNB has no fitted feature_log_prob_; fit it before converting")
    log_probs = tuple(np.asarray(t, dtype=np.float64) for t in tables)
    prior = _array(est, "class_log_prior_")
    return NaiveBayesModel("categorical", classes, len(log_probs), prior, log_probs=log_probs)


def convert_naive_bayes(estimator: Any) -> NaiveBayesModel:
    """IR of a fitted naive Bayes classifier."""
    name = type(estimator).__name__
    classes = check_single_output_classes(estimator.classes_, 1, name)
    if isinstance(estimator, nb.GaussianNB):
        ir = _gaussian(estimator, classes)
    elif isinstance(estimator, nb.CategoricalNB):
        ir = _categorical(estimator, classes)
    else:
        ir = _discrete(estimator, classes)
    n_in = getattr(estimator, "n_features_in_", ir.n_features)
    if int(n_in) != ir.n_features:
        raise ValueError(f"{name}: n_features_in_ is {n_in} but the fitted tables have {ir.n_features} features")
    ir.validate()
    return ir
