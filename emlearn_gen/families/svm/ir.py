"""IR of kernel support vector machines, as libsvm keeps them.

Decision p of a classifier is over class pair (i, j), i < j, in libsvm's
order: sum over the support vectors s of classes i and j of c_s K(s, x),
plus intercept p, where c_s is ``dual_coef[j - 1, s]`` for s of class i and
``dual_coef[i, s]`` for s of class j (scikit-learn's ``_dual_coef_``, before
it flips the sign of binary models). Regressors and one-class models have
one decision over every support vector with ``dual_coef[0]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

import numpy as np

#: Kernel codes of the runtime (svm.hpp, svm_kernel).
KERNELS = {"linear": 0, "poly": 1, "rbf": 2, "sigmoid": 3}

Task = Literal["classifier", "regressor", "outlier_detector"]


@dataclass(frozen=True)
class SVMModel:
    """float64 arrays as scikit-learn holds them."""

    task: Task
    kernel: str
    gamma: float
    coef0: float
    degree: int
    support_vectors: np.ndarray  # (n_sv, n_features), grouped by class
    dual_coef: np.ndarray  # (n_coef_rows, n_sv)
    intercepts: np.ndarray  # (n_decisions,), libsvm's -rho
    class_start: np.ndarray  # (n_classes + 1,) int
    offset: float = 0.0  # OneClassSVM's offset_
    ovr: bool = False  # classifiers: decision_function_shape == "ovr"
    break_ties: bool = False
    classes: Optional[np.ndarray] = None
    prob_a: Optional[np.ndarray] = None  # (n_decisions,): Platt scaling of probability=True
    prob_b: Optional[np.ndarray] = None

    @property
    def has_proba(self) -> bool:
        return self.prob_a is not None

    @property
    def n_features(self) -> int:
        return int(self.support_vectors.shape[1])

    @property
    def n_sv(self) -> int:
        return int(self.support_vectors.shape[0])

    @property
    def n_classes(self) -> int:
        """Classes of a classifier; 1 for the others (one decision)."""
        return len(self.class_start) - 1

    @property
    def n_decisions(self) -> int:
        k = self.n_classes
        return k * (k - 1) // 2 if k >= 2 else 1

    @property
    def decision_width(self) -> int:
        """Values of scikit-learn's decision_function per row."""
        if self.task != "classifier" or self.n_classes == 2:
            return 1
        return self.n_classes if self.ovr else self.n_decisions

    def decision_coefficients(self) -> np.ndarray:
        """(n_decisions, n_sv): the coefficient of each support vector in
        each decision (0 where it takes no part)."""
        C = np.zeros((self.n_decisions, self.n_sv))
        if self.task != "classifier":
            C[0] = self.dual_coef[0]
            return C
        start = self.class_start
        p = 0
        for i in range(self.n_classes):
            for j in range(i + 1, self.n_classes):
                C[p, start[i] : start[i + 1]] = self.dual_coef[j - 1, start[i] : start[i + 1]]
                C[p, start[j] : start[j + 1]] = self.dual_coef[i, start[j] : start[j + 1]]
                p += 1
        return C

    def primal_weights(self) -> np.ndarray:
        """(n_decisions, n_features): a linear kernel's decisions as weights,
        sum over the support vectors of c_s s, in float64."""
        return self.decision_coefficients() @ self.support_vectors

    def validate(self) -> None:
        if self.task not in ("classifier", "regressor", "outlier_detector"):
            raise ValueError(f"unknown task {self.task!r}")
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel {self.kernel!r} is not one of {sorted(KERNELS)}")
        sv = self.support_vectors
        if sv.ndim != 2 or sv.shape[0] < 1 or sv.shape[1] < 1:
            raise ValueError(f"support vectors must have shape (n_sv >= 1, n_features >= 1), got {sv.shape}")
        rows = self.n_classes - 1 if self.task == "classifier" else 1
        if self.task == "classifier" and self.n_classes < 2:
            raise ValueError("a classifier needs two or more classes")
        if self.task != "classifier" and self.n_classes != 1:
            raise ValueError("a regressor or one-class model has one group of support vectors")
        if self.dual_coef.shape != (rows, self.n_sv):
            raise ValueError(f"dual_coef must have shape ({rows}, {self.n_sv}), got {self.dual_coef.shape}")
        if self.intercepts.shape != (self.n_decisions,):
            raise ValueError(f"intercepts must have shape ({self.n_decisions},), got {self.intercepts.shape}")
        start = self.class_start
        if start[0] != 0 or start[-1] != self.n_sv or np.any(np.diff(start) < 0):
            raise ValueError(f"the support vectors per class {np.diff(start).tolist()} do not add up to {self.n_sv}")
        if self.n_sv * max(rows, self.n_features) >= 2**31 or self.n_classes > 2**16:
            raise ValueError("the model is beyond the runtime's sizes (2**31 table entries, 65536 classes)")
        if not 0 <= self.degree < 2**31:
            raise ValueError(f"degree must be a non-negative integer, got {self.degree}")
        values = np.concatenate([sv.ravel(), self.dual_coef.ravel(), self.intercepts,
                                 [self.gamma, self.coef0, self.offset]])
        if not np.all(np.isfinite(values)):
            raise ValueError("support vectors, coefficients, intercepts, gamma and coef0 must be finite")
        if np.abs(values).max() > float(np.finfo(np.float32).max):
            raise ValueError("a support vector, coefficient or kernel parameter lies beyond float32's range (3.4e38)")
        if self.has_proba:
            if self.task != "classifier":
                raise ValueError("only classifiers have Platt scaling")
            if self.prob_a.shape != (self.n_decisions,) or self.prob_b is None or self.prob_b.shape != (self.n_decisions,):
                raise ValueError(f"probA and probB must have {self.n_decisions} values, one per class pair")
            if not (np.all(np.isfinite(self.prob_a)) and np.all(np.isfinite(self.prob_b))):
                raise ValueError("probA and probB must be finite")
        if self.task == "classifier" and (self.classes is None or len(self.classes) != self.n_classes):
            raise ValueError(f"a classifier with {self.n_classes} groups of support vectors needs as many classes")
