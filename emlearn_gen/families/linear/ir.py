"""IR of linear models: scores = X @ coef.T + intercept, then a link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

import numpy as np

#: How outputs come from the scores (runtime linear.hpp, linear_link).
#: Regressors: "identity" or "exp" (the inverse of a log link).
#: Classifiers' predict_proba: "logistic" (binary: sigmoid; multi-class:
#: sigmoid per class then normalized, one-vs-rest), "softmax" (multinomial),
#: "modified_huber"; "identity" for classifiers without predict_proba.
LINKS = {"identity": 0, "exp": 1, "logistic": 2, "softmax": 3, "modified_huber": 4}
CLASSIFIER_PROBA_LINKS = ("logistic", "softmax", "modified_huber")


@dataclass(frozen=True)
class LinearModel:
    """``coef`` (n_scores, n_features) and ``intercept`` (n_scores,), float64,
    as scikit-learn holds them. A binary classifier has one score (class 1
    when it is > 0); ``vector`` says scikit-learn returns 1-D results."""

    task: Literal["classifier", "regressor"]
    coef: np.ndarray
    intercept: np.ndarray
    link: str
    vector: bool
    classes: Optional[np.ndarray] = None

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])

    @property
    def n_scores(self) -> int:
        return int(self.coef.shape[0])

    @property
    def has_proba(self) -> bool:
        return self.task == "classifier" and self.link in CLASSIFIER_PROBA_LINKS

    @property
    def n_classes(self) -> int:
        return 2 if self.n_scores == 1 else self.n_scores

    def validate(self) -> None:
        if self.task not in ("classifier", "regressor"):
            raise ValueError(f"unknown task {self.task!r}")
        if self.coef.ndim != 2 or self.coef.shape[0] < 1 or self.coef.shape[1] < 1:
            raise ValueError(f"coef must have shape (n_scores, n_features), got {self.coef.shape}")
        if self.intercept.shape != (self.coef.shape[0],):
            raise ValueError(f"intercept must have shape ({self.coef.shape[0]},), got {self.intercept.shape}")
        if self.coef.shape[0] * self.coef.shape[1] >= 2**31:
            raise ValueError("the model has more than 2**31 weights")
        if self.link not in LINKS:
            raise ValueError(f"unknown link {self.link!r}")
        if not (np.all(np.isfinite(self.coef)) and np.all(np.isfinite(self.intercept))):
            raise ValueError("weights and intercepts must be finite (the model may not have converged)")
        limit = float(np.finfo(np.float32).max)
        if np.abs(self.coef).max() > limit or np.abs(self.intercept).max() > limit:
            raise ValueError("a weight or intercept lies beyond float32's range (3.4e38)")
        if self.task == "classifier":
            if self.classes is None or len(self.classes) != self.n_classes:
                raise ValueError(f"a classifier with {self.n_scores} scores needs {self.n_classes} classes")
            if self.link not in CLASSIFIER_PROBA_LINKS + ("identity",):
                raise ValueError(f"link {self.link!r} is not a classifier's")
        elif self.link not in ("identity", "exp"):
            raise ValueError(f"link {self.link!r} is not a regressor's")
