"""IR of naive Bayes classifiers: per class, a constant plus one term per
feature (see runtime naive_bayes.hpp for how each kind's term is computed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

#: How a feature contributes (runtime naive_bayes_kind).
#: "linear": weights[k, i] * x_i (MultinomialNB, ComplementNB, BernoulliNB
#: with binarize=None); "binarized": weights[k, i] * (x_i > threshold)
#: (BernoulliNB); "gaussian": -(x_i - means[k, i])**2 / (2 var[k, i])
#: (GaussianNB); "categorical": log_probs[i][k, category of x_i] (CategoricalNB).
KINDS = {"linear": 0, "binarized": 1, "gaussian": 2, "categorical": 3}

#: The largest number of categories of one feature: the runtime's int16_t table.
MAX_CATEGORIES = 2**15 - 1

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_MIN_NORMAL = float(np.finfo(np.float32).tiny)


@dataclass(frozen=True)
class NaiveBayesModel:
    """A fitted naive Bayes classifier, float64 as scikit-learn holds it.

    ``constants`` (n_classes,) is added last (gaussian: the sum of the
    squared terms is subtracted from it). ``weights`` is (n_classes,
    n_features) for linear and binarized kinds; ``variances`` and ``means``
    (n_classes, n_features) for gaussian; ``log_probs`` one (n_classes,
    n_categories_i) array per feature for categorical. ``threshold`` is
    BernoulliNB's binarize threshold."""

    kind: str
    classes: np.ndarray
    n_features: int
    constants: np.ndarray
    weights: Optional[np.ndarray] = None
    means: Optional[np.ndarray] = None
    variances: Optional[np.ndarray] = None
    log_probs: Tuple[np.ndarray, ...] = ()
    threshold: Optional[float] = None

    @property
    def n_classes(self) -> int:
        return int(self.constants.shape[0])

    @property
    def n_categories(self) -> np.ndarray:
        return np.array([lp.shape[1] for lp in self.log_probs], dtype=np.int64)

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown naive Bayes kind {self.kind!r}")
        k, n = self.n_classes, self.n_features
        if k < 1 or n < 1 or len(self.classes) != k:
            raise ValueError(f"{k} class constants for {len(self.classes)} classes and {n} features")
        if self.kind in ("linear", "binarized"):
            _check_finite32("feature log probabilities (feature_log_prob_)", self.weights, (k, n))
        if self.kind == "binarized" and (self.threshold is None or not np.isfinite(self.threshold)):
            raise ValueError("binarize must be a finite threshold")
        if self.kind == "gaussian":
            _check_finite32("theta_", self.means, (k, n))
            _check_finite32("var_", self.variances, (k, n))
            with np.errstate(divide="ignore"):
                inverse = 0.5 / self.variances
            if np.any(self.variances <= 0) or np.any(inverse > _FLOAT32_MAX) or np.any(inverse < _FLOAT32_MIN_NORMAL):
                raise ValueError(
                    "a variance in var_ is 0 or so small or large that 1 / (2 var) leaves float32's normal "
                    "range; refit with a larger var_smoothing, or rescale the features"
                )
        # Checked after the tables, whose errors explain a bad constant.
        # -inf is a class of prior 0: its jll is -inf, as in scikit-learn.
        if np.any(np.isnan(self.constants)) or np.any(self.constants > _FLOAT32_MAX) or np.any(
            (self.constants < -_FLOAT32_MAX) & np.isfinite(self.constants)
        ):
            raise ValueError("a class log prior is NaN or beyond float32's range (3.4e38)")
        if self.kind == "categorical":
            if len(self.log_probs) != n:
                raise ValueError(f"{len(self.log_probs)} tables of category log probabilities for {n} features")
            for i, table in enumerate(self.log_probs):
                if table.ndim != 2 or table.shape[0] != k or not 1 <= table.shape[1] <= MAX_CATEGORIES:
                    raise ValueError(
                        f"feature {i} has category log probabilities of shape {table.shape}; "
                        f"emlearn_gen takes 1 to {MAX_CATEGORIES} categories per feature and class"
                    )
                _check_finite32(f"category log probabilities (feature_log_prob_[{i}])", table, table.shape)
            if int(self.n_categories.sum()) * k >= 2**32:
                raise ValueError("the model has more than 2**32 category log probabilities")
        elif k * n >= 2**32:
            raise ValueError("the model has more than 2**32 weights")


def _check_finite32(what: str, array: Optional[np.ndarray], shape: Tuple[int, ...]) -> None:
    if array is None or array.shape != shape:
        raise ValueError(f"{what} must have shape {shape}, got {None if array is None else array.shape}")
    if not np.all(np.isfinite(array)):
        hint = "; refit with alpha > 0" if "log prob" in what else ""
        raise ValueError(f"{what} holds infinite or NaN values{hint}")
    if np.abs(array).max() > _FLOAT32_MAX:
        raise ValueError(f"a value of {what} lies beyond float32's range (3.4e38)")
