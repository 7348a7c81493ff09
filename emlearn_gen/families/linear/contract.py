"""Numeric contract of linear models (docs/architecture.md, "Numeric contract").

The runtime computes in float32: inputs, weights and intercepts are rounded
to float32 (relative error <= u = 2**-24 each), each product is rounded, the
n products are summed in index order and the intercept added last. For score
k of a row, with P = sum_i |w_ki * x_i| and b_k the intercept, the classic
bound on recursive summation gives

    |score - scikit-learn's float64 score| <= B_k = gamma(n + 3) * (P + |b_k|) + (n + 1) * 2**-149

where gamma(m) = m u / (1 - m u) and the last term covers products that
underflow. decision_function and identity-link predictions are within B.

Links add their own rounding, with the runtime's exp within a relative
``EXP_MAX_REL_ERROR`` (stated and checked in runtime math.hpp):
* exp (log-link regressors): relative (e^B - 1) + EXP_MAX_REL_ERROR * e^B;
* sigmoid (binary logistic): B / 4 + (EXP_MAX_REL_ERROR + 3u) * p, and u more
  for 1 - p;
* one-vs-rest logistic: p_k = s_k / sum_j s_j, s_k the sigmoid. Scores
  within B move p_k by a relative 2 max B; where no score is positive the
  runtime scales every sigmoid by e^-max first (e^(x_k - max) / (1 + e^x_k),
  two exps, a subtraction whose rounding exp amplifies by |d_k|, an addition
  and a division), so p_k is within a relative
  2 max B + 4 EXP_MAX_REL_ERROR + 2u max |d| + (K + 5) u;
* softmax: relative (e^{2 max B} - 1) + u (|d_k| + sum_j p_j |d_j|)
  + 2 EXP_MAX_REL_ERROR + (K + 1) u, where d_k = score_k - max score (the
  rounding of the subtraction, amplified by exp);
* modified Huber: q_k = (clip(s_k, -1, 1) + 1) / 2 within B_k / 2 + u;
  binary p = {1 - q, q}; multi-class p_k = q_k / sum q within
  (|dq_k| + p_k sum |dq_j|) / sum q + (K + 1) u p_k.

Every probability also carries an absolute (K + 2) * 2**-148 for values that
underflow float32 (below 2**-126) in scikit-learn's float64 result or in an
intermediate of the runtime's.

Labels equal scikit-learn's except in the tie zone: binary rows whose score
lies within B of 0, multi-class rows whose two best scores lie within the sum
of their bounds. Rows in the tie zone are counted and reported; a label may
differ only there.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from ...core.bounds import EXP_MAX_REL_ERROR, TINY, assert_within, check_labels, gamma, proba_bound
from ...core.family import NumericContract



def score_bounds(ir: Any, X: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(scikit-learn's float64 scores (n, n_scores), bound B on each)."""
    X = np.asarray(X, dtype=np.float64)
    scores = X @ ir.coef.T + ir.intercept
    P = np.abs(X) @ np.abs(ir.coef).T
    n = ir.n_features
    bound = gamma(n + 3) * (P + np.abs(ir.intercept)) + (n + 1) * TINY
    return scores, bound


def tie_zone(scores: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Rows whose label rounding could decide."""
    if scores.shape[1] == 1:
        return np.abs(scores[:, 0]) <= B[:, 0]
    order = np.argsort(-scores, axis=1, kind="stable")
    rows = np.arange(len(scores))
    first, second = order[:, 0], order[:, 1]
    return scores[rows, first] - scores[rows, second] <= B[rows, first] + B[rows, second]


class LinearContract(NumericContract):
    statement = (
        "float32 arithmetic. Scores within gamma(n+3) * (sum |w x| + |b|) of scikit-learn's "
        "float64 scores; probabilities and log-link outputs within that bound carried through "
        "the link (runtime exp within EXP_MAX_REL_ERROR); labels identical outside the tie zone."
    )

    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        from .convert import convert_linear

        ir = convert_linear(estimator)
        X = np.asarray(X, dtype=np.float64)
        scores, B = score_bounds(ir, X)
        report: Dict[str, Any] = {"n_samples": len(X)}
        if ir.task == "classifier":
            want_scores = np.asarray(estimator.decision_function(X), dtype=np.float64)
            got_scores = cm.decision_function(X)
            report["max_abs_diff"] = assert_within(
                "decision_function", got_scores, want_scores, B[:, 0] if ir.vector else B
            )
            report.update(check_labels(estimator.predict(X), cm.predict(X), tie_zone(scores, B)))
            if ir.has_proba:
                want = np.asarray(estimator.predict_proba(X), dtype=np.float64)
                got = cm.predict_proba(X)
                report["max_proba_diff"] = assert_within("predict_proba", got, want, proba_bound(ir.link, scores, B))
            return report
        want = np.asarray(estimator.predict(X), dtype=np.float64)
        got = cm.predict(X)
        if ir.link == "exp":
            with np.errstate(over="ignore"):
                bound = np.exp(scores) * (np.expm1(B) + EXP_MAX_REL_ERROR * np.exp(B))
        else:
            bound = B
        report["max_abs_diff"] = assert_within("predict", got, want, bound[:, 0] if ir.vector else bound)
        return report
