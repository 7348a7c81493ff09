"""Numeric contract of naive Bayes models (docs/architecture.md, "Numeric contract").

The runtime computes in float32: inputs and tables rounded to float32
(relative error <= u = 2**-24 each), every product rounded, the terms summed
in feature order and the class's constant added last. gamma(m) = m u / (1 - m u).

Joint log-likelihoods (predict_joint_log_proba), per class k, against
scikit-learn's float64 values:

* linear and binarized (MultinomialNB, ComplementNB, BernoulliNB), as the
  linear family's scores, with P = sum_i |w_ki x_i| (x binarized where
  BernoulliNB binarizes):
      B_k = gamma(n + 3) (P + |c_k|) + (n + 1) 2**-149
* categorical: table lookups rounded once each, summed in order:
      B_k = gamma(n + 3) (sum_i |log p_i(k, x_i)| + |c_k|)
* gaussian: d_i = x_i - mean_ki carries e_i = u (|x_i| + |mean_ki|) (the
  roundings of x and of the mean) and one rounding of the subtraction, so
  |d_i computed| <= D_i = (|d_i| + e_i)(1 + u); with h_ki = 1 / (2 var_ki)
  (rounded to float32 at conversion) the term t_i = d_i^2 h_ki is computed
  from d^2 (one rounding) times h (one), so
      |t_i computed - t_i| <= h (D_i^2 - d_i^2) + gamma(3) h D_i^2 + (h + 1) 2**-148;
  the n non-negative terms summed (gamma(n - 1) of their sum) and
  subtracted from the constant (rounded to float32: u |c|, and one rounding):
      B_k = sum_i [h (D_i^2 - d_i^2) + (h + 1) 2**-148]
            + gamma(n + 3) (sum_i h D_i^2 + 2 |c_k|).

Every B_k also carries (n + 4) 2**-52 of the same magnitude, for
scikit-learn's own float64 roundings. A class whose constant is -inf (a
prior of 0) has jll -inf on both sides.

predict_log_proba: jll_k - logsumexp_f(jll). The log-sum-exp moves by at
most max_j B_j with its inputs, and logsumexp_f adds (math.hpp)
L = EXP_MAX_REL_ERROR + u max |d| + (K - 1) u + LOG_MAX_REL_ERROR ln K + u |lse|,
d_j = jll_j - max jll (taken 2 max B larger); the subtraction one rounding:
    b_k = (B_k + max B + L)(1 + u) + u |log p_k|.
predict_proba: exp_f of that: p_k (e^b_k - 1 + EXP_MAX_REL_ERROR e^b_k) + 2**-148.

Labels equal scikit-learn's except in the tie zone: rows whose two best
jll lie within the sum of their bounds, and (BernoulliNB with binarize)
rows where a float64 feature rounded to float32 falls on the other side of
the float32 threshold than the float64 value is of the float64 threshold
(no bound is claimed for those rows); likewise CategoricalNB rows with a
value that float32 rounding moves to another integer part (2.99999999 to 3).
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from ...core.bounds import EXP_MAX_REL_ERROR, TINY, U, assert_within, check_labels, gamma, log_proba_bound
from ...core.family import NumericContract
from .ir import NaiveBayesModel



def binarize_threshold(threshold: float) -> np.float32:
    """The runtime's threshold: ``threshold`` rounded to nearest float32, as
    scikit-learn compares float32 inputs with it (numpy casts the Python
    float to the array's dtype). So float32 inputs are binarized as
    scikit-learn binarizes them, and so are float64 inputs except those
    strictly between the threshold and the midpoint beyond its float32
    neighbour (where rounding moves them across): a float64 input equal to
    the threshold rounds to it and stays below, as in scikit-learn."""
    return np.float32(threshold)


def _float32_inputs(X: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return X.astype(np.float32).astype(np.float64)


def jll_bounds(ir: NaiveBayesModel, X: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(rows with no claim (n,), bound B on each jll (n, K))."""
    n = ir.n_features
    c = np.abs(ir.constants)
    finite = np.isfinite(ir.constants)
    c = np.where(finite, c, 0.0)
    unclaimed = np.zeros(len(X), dtype=bool)
    slack = (n + 4) * 2.0**-52
    if ir.kind in ("linear", "binarized"):
        if ir.kind == "binarized":
            t32 = binarize_threshold(ir.threshold)
            xb = X > ir.threshold
            unclaimed = np.any(xb != (_float32_inputs(X) > float(t32)), axis=1)
            X = xb.astype(np.float64)
        magnitude = np.abs(X) @ np.abs(ir.weights).T + c
        B = (gamma(n + 3) + slack) * magnitude + (n + 1) * TINY
    elif ir.kind == "categorical":
        index = X.astype(np.int64)  # as scikit-learn casts X
        # A value within float32 rounding below an integer becomes that
        # integer's category on the device: no claim for such rows.
        unclaimed = np.any(np.trunc(_float32_inputs(X)) != np.trunc(X), axis=1)
        magnitude = np.tile(c, (len(X), 1))
        for i, table in enumerate(ir.log_probs):
            magnitude += np.abs(table[:, index[:, i]]).T
        B = (gamma(n + 3) + slack) * magnitude
    else:
        h = 0.5 / ir.variances  # (K, n)
        x = X[:, None, :]
        d = np.abs(x - ir.means[None, :, :])
        e = U * (np.abs(x) + np.abs(ir.means)[None, :, :])
        D = (d + e) * (1 + U)
        with np.errstate(over="ignore", invalid="ignore"):
            spread = (h * (D * D - d * d) + (h + 1) * 2.0**-148).sum(axis=2)
            magnitude = (h * D * D).sum(axis=2) + 2 * c
            B = spread + (gamma(n + 3) + slack) * magnitude
    B = np.where(finite, B, 0.0)
    unclaimed |= ~np.all(np.isfinite(B), axis=1)
    return unclaimed, B


def tie_zone(jll: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Rows whose label rounding could decide."""
    if jll.shape[1] == 1:
        return np.zeros(len(jll), dtype=bool)
    order = np.argsort(-jll, axis=1, kind="stable")
    rows = np.arange(len(jll))
    first, second = order[:, 0], order[:, 1]
    with np.errstate(invalid="ignore"):
        gap = jll[rows, first] - jll[rows, second]
        # Two classes of prior 0 (both -inf) never decide: the label is the first.
        return (gap <= B[rows, first] + B[rows, second]) & ~np.isneginf(jll[rows, first])


class NaiveBayesContract(NumericContract):
    statement = (
        "float32 arithmetic. Joint log-likelihoods within gamma(n+3) times their magnitude "
        "(GaussianNB: plus the rounding of x - mean squared) of scikit-learn's float64 values; "
        "log-probabilities and probabilities within that bound carried through logsumexp_f and "
        "exp_f; labels identical outside the tie zone."
    )

    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        from .convert import convert_naive_bayes

        ir = convert_naive_bayes(estimator)
        X = np.asarray(X, dtype=np.float64)
        unclaimed, B = jll_bounds(ir, X)
        B = np.where(unclaimed[:, None], np.inf, B)
        jll = np.asarray(estimator.predict_joint_log_proba(X), dtype=np.float64)
        report: Dict[str, Any] = {"n_samples": len(X)}
        report["max_jll_diff"] = assert_within("predict_joint_log_proba", cm.predict_joint_log_proba(X), jll, B)

        report.update(check_labels(estimator.predict(X), cm.predict(X), tie_zone(jll, B) | unclaimed))

        log_proba = np.asarray(estimator.predict_log_proba(X), dtype=np.float64)
        b = log_proba_bound(jll, log_proba, B)
        report["max_log_proba_diff"] = assert_within("predict_log_proba", cm.predict_log_proba(X), log_proba, b)
        proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            eb = np.exp(b)
            bound = proba * (eb - 1 + EXP_MAX_REL_ERROR * eb) + 2.0**-148
        # A log-probability bound too large for exp (huge joint log-likelihoods
        # of GaussianNB's near-constant features) claims nothing, also where
        # scikit-learn's probability is 0 (0 * inf).
        bound = np.where(np.isinf(eb), np.inf, bound)
        report["max_proba_diff"] = assert_within("predict_proba", cm.predict_proba(X), proba, bound)
        return report
