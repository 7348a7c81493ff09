"""Numeric contract of Gaussian mixtures and elliptic envelopes
(docs/architecture.md, "Numeric contract").

The runtime computes in float32 (u = 2**-24, gamma(m) = m u / (1 - m u)),
per component k with mean mu and upper triangular factor U (runtime
mixture.hpp): d_i = x_i - mu_i, y_j = sum_{i <= j} d_i U_ij (products
rounded, summed in index order), Q = sum_j y_j^2.

* d_i: x and mu rounded to float32 and the subtraction rounded:
      |d_i computed - d_i| <= e_i = u (|x_i| + |mu_i|) + u (|d_i| + u (|x_i| + |mu_i|))
* y_j: U rounded, each product and each addition rounded (at most n + 1
  roundings on any term):
      |y_j computed - y_j| <= E_j = sum_i |U_ij| e_i + gamma(n + 1) sum_i |U_ij| (|d_i| + e_i) + (n + 1) 2**-149
* Q: |y^2 computed - y^2| <= 2 |y| E + E^2, then n squares and n - 1 sums:
      EQ = sum_j (2 |y_j| E_j + E_j^2) + gamma(n + 1) sum_j (|y_j| + E_j)^2 + (n + 1) 2**-149
* scikit-learn's own Q, in float64 (u64 = 2**-53): (X @ U) - (mu @ U) for
  full and tied factors, sum(mu^2 p) - 2 X @ (mu p) + X^2 @ p for diag and
  spherical ones; either is within 4 gamma64(n + 4) sum_j M_j^2 of the exact
  form, M_j = sum_i (|x_i| + |mu_i|) |U_ij|.
* An envelope's factor is the Cholesky factor of scikit-learn's precision P
  (conversion, float64), and scikit-learn computes d^T P d: the difference
  is |d|^T (|U U^T - P| + gamma64(n + 2) |U| |U|^T) |d|, and
  gamma64(n + 2) |d|^T |P| |d| for scikit-learn's roundings of its form,
  plus 4 u64 Q for its square root and square.

Mixtures: the weighted log-probability is c_k - Q/2, c_k rounded to float32
(u |c|) and the subtraction rounded:
    B_k = EQ/2 + 2 u |c_k| + u (Q + EQ)/2 + 2**-148 + 8 u64 (m_k + Q),
m_k the sum of the magnitudes of the terms c_k is summed from (scikit-learn
adds them in another order). score_samples is logsumexp_f of them: within
max_k B_k + L (L the bound of logsumexp_f, math.hpp) + 4 u64 (|s| + K);
predict_proba is exp_f(lp_k - that), as naive Bayes' predict_proba:
p_k (e^b_k - 1 + EXP_MAX_REL_ERROR e^b_k) + 2**-148,
b_k = (B_k + max B + L)(1 + u) + u |log p_k|. score is the mean of
score_samples: within the mean of their bounds plus the roundings of two
float64 means. Labels (the most likely component) equal scikit-learn's
outside the tie zone: rows whose two best weighted log-probabilities are
within the sum of their bounds.

Envelopes: score_samples = -Q within EQ; decision_function = -Q - offset
within EQ + u |offset| + u (Q + EQ + |offset|) + u64 (Q + |offset|); predict
equals scikit-learn's outside the tie zone: rows whose decision lies within
that bound of 0.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from ...core.bounds import EXP_MAX_REL_ERROR, TINY, U, U64, assert_within, check_labels, gamma, log_proba_bound
from ...core.entry_points import estimator_has
from ...core.family import NumericContract
from .ir import MixtureModel


def quadratic_forms(ir: MixtureModel, X: np.ndarray, precision: Any = None) -> Tuple[np.ndarray, np.ndarray]:
    """(Q (N, K) in float64, bound on |runtime Q - scikit-learn's Q| (N, K)),
    with the terms of the module docstring. ``precision`` is an envelope's
    precision matrix (scikit-learn's form), None for mixtures."""
    n = ir.n_features
    factors = ir.full_factors()
    Q = np.empty((len(X), ir.n_components))
    EQ = np.empty_like(Q)
    ax = np.abs(X)
    for k in range(ir.n_components):
        U_k, mu = factors[k], ir.means[k]
        A = np.abs(U_k)
        d = X - mu
        ad = np.abs(d)
        span = ax + np.abs(mu)
        e = U * span + U * (ad + U * span)
        y = d @ U_k
        E = e @ A + gamma(n + 1) * ((ad + e) @ A) + (n + 1) * TINY
        ay = np.abs(y)
        Q[:, k] = (y * y).sum(axis=1)
        runtime = (2 * ay * E + E * E).sum(axis=1) + gamma(n + 1) * ((ay + E) ** 2).sum(axis=1) + (n + 1) * TINY
        M = span @ A
        theirs = 4 * gamma(n + 4, U64) * (M * M).sum(axis=1)
        if precision is not None:
            residual = np.abs(U_k @ U_k.T - precision) + gamma(n + 2, U64) * (A @ A.T)
            theirs = theirs + np.einsum("ri,ij,rj->r", ad, residual + gamma(n + 2, U64) * np.abs(precision), ad)
            theirs = theirs + 4 * U64 * Q[:, k]
        EQ[:, k] = runtime + theirs
    return Q, EQ


def weighted_log_prob_bounds(ir: MixtureModel, X: np.ndarray) -> np.ndarray:
    """B (N, K): bound on |runtime - scikit-learn| of every weighted
    log-probability of a mixture."""
    Q, EQ = quadratic_forms(ir, X)
    c = np.abs(ir.constants)[None, :]
    return EQ / 2 + 2 * U * c + U * (Q + EQ) / 2 + 2.0**-148 + 8 * U64 * (ir.magnitudes[None, :] + Q)


def _top_two_tie(values: np.ndarray, B: np.ndarray) -> np.ndarray:
    if values.shape[1] == 1:
        return np.zeros(len(values), dtype=bool)
    order = np.argsort(-values, axis=1, kind="stable")
    rows = np.arange(len(values))
    first, second = order[:, 0], order[:, 1]
    return values[rows, first] - values[rows, second] <= B[rows, first] + B[rows, second]


def _assert_mixture(cm: Any, est: Any, ir: MixtureModel, X: np.ndarray) -> Dict[str, Any]:
    K = ir.n_components
    B = weighted_log_prob_bounds(ir, X)
    wlp = np.asarray(est._estimate_weighted_log_prob(X), dtype=np.float64)
    report: Dict[str, Any] = {"n_samples": len(X)}
    report.update(check_labels(est.predict(X), cm.predict(X), _top_two_tie(wlp, B)))

    log_resp = np.asarray(est._estimate_log_prob_resp(X)[1], dtype=np.float64)
    b = log_proba_bound(wlp, log_resp, B)
    proba = np.asarray(est.predict_proba(X), dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        eb = np.exp(b)
        bound = np.where(np.isinf(eb), np.inf, proba * (eb - 1 + EXP_MAX_REL_ERROR * eb) + 2.0**-148)
    report["max_proba_diff"] = assert_within("predict_proba", cm.predict_proba(X), proba, bound)

    scores = np.asarray(est.score_samples(X), dtype=np.float64)
    # b_k - u |log p_k| over (1 + u) is max B + L + B_k >= max B + L.
    lse = (b - U * np.abs(log_resp)).max(axis=1) + 4 * U64 * (np.abs(scores) + K)
    report["max_score_samples_diff"] = assert_within("score_samples", cm.score_samples(X), scores, lse)

    if estimator_has(est, "score"):
        N = len(X)
        slack = 2 * gamma(N + 1, U64) * np.abs(scores).mean()
        score_bound = np.array(lse.mean() + slack)
        report["score_diff"] = assert_within("score", np.array(cm.score(X)), np.array(est.score(X)), score_bound)
    return report


def envelope_bounds(ir: MixtureModel, X: np.ndarray, precision: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(bound on score_samples, bound on decision_function), each (N,)."""
    Q, EQ = quadratic_forms(ir, X, precision)
    q, eq = Q[:, 0], EQ[:, 0]
    off = abs(float(ir.constants[0]))
    return eq, eq + U * off + U * (q + eq + off) + U64 * (q + off) + TINY


def _assert_envelope(cm: Any, est: Any, ir: MixtureModel, X: np.ndarray) -> Dict[str, Any]:
    score_bound, decision_bound = envelope_bounds(ir, X, np.asarray(est.get_precision(), dtype=np.float64))
    report: Dict[str, Any] = {"n_samples": len(X)}
    scores = np.asarray(est.score_samples(X), dtype=np.float64)
    report["max_score_samples_diff"] = assert_within("score_samples", cm.score_samples(X), scores, score_bound)
    decision = np.asarray(est.decision_function(X), dtype=np.float64)
    report["max_decision_diff"] = assert_within("decision_function", cm.decision_function(X), decision,
                                                decision_bound)
    report.update(check_labels(est.predict(X), cm.predict(X), np.abs(decision) <= decision_bound))
    return report


class MixtureContract(NumericContract):
    statement = (
        "float32 arithmetic. Quadratic forms (x - mu) U within a bound derived per row from the roundings of "
        "the differences, products and sums (and scikit-learn's float64 roundings); mixtures' log-probabilities, "
        "probabilities, score_samples and score carry it through logsumexp_f and exp_f; envelopes' scores and "
        "decisions carry it directly; labels identical outside the tie zone."
    )

    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        from .convert import convert_mixture

        ir = convert_mixture(estimator)
        X = np.asarray(X, dtype=np.float64)
        if ir.kind == "envelope":
            return _assert_envelope(cm, estimator, ir, X)
        return _assert_mixture(cm, estimator, ir, X)
