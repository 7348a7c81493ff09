"""Numeric contract of kernel SVMs (docs/architecture.md, "Numeric contract").

The runtime computes in float32 (svm.hpp): inputs, support vectors,
coefficients and kernel parameters are rounded to float32 (relative error
<= u = 2**-24 each), and every operation rounds once. For a row x and a
support vector s with n features, first the kernel value's error E:

* dot <s, x>: E_dot = gamma(n + 3) sum |s_i x_i| + (n + 1) 2**-149
  (as the linear family's scores);
* t = gamma <s, x> + coef0 (poly, sigmoid): the rounded gamma times the
  rounded dot, rounded, plus the rounded coef0, rounded:
  E_t = |gamma| E_dot (1 + 3u) + gamma(4) (|gamma <s, x>| + |coef0|) + 2**-148;
* poly, t^d by repeated squaring with k <= 2 bitlength(d) roundings: with
  M = |t| + E_t, E = d M^(d-1) E_t (1 + gamma(k)) + gamma(k) M^d + 2**-149;
* sigmoid: tanh is 1-Lipschitz and the runtime's tanh_f is within
  TANH_MAX_REL_ERROR of tanh of its argument: E = E_t + TANH_MAX_REL_ERROR
  (|tanh t| + E_t) + 2**-149;
* rbf, q = |s - x|^2: each difference of rounded inputs is off by
  e_i <= (2u + u^2)(|s_i| + |x_i|), its rounded square by
  2 a_i e_i + e_i^2 + u (a_i + e_i)^2 (a_i = |s_i - x_i|), and the sum of n
  non-negative terms by gamma(n) of their sum:
  E_q = (1 + gamma(n)) sum_i (2 a_i e_i + e_i^2 + u (a_i + e_i)^2)
        + gamma(n) q + n 2**-149;
  the argument -gamma q is off by D = |gamma| E_q (1 + 2u) + 2u |gamma| q,
  and the runtime's exp_f by EXP_MAX_REL_ERROR relative:
  E = K (e^D - 1) + EXP_MAX_REL_ERROR K e^D + 2**-149, K = e^(-gamma q).

A linear kernel runs on primal weights W_p = sum_s c_s s (computed in
float64, rounded to float32): decision p is <W_p, x> + b_p within the
linear family's bound gamma(n + 3) (sum |W_p x| + |b_p|) + (n + 1) 2**-149,
plus gamma64(N + n + 3) (sum_s |c_s| sum_i |s_i x_i| + |b_p|) for the float64
roundings of W and of scikit-learn's own sum over the support vectors.

Otherwise each decision is a sum of N products c_s K_s (rounded coefficients,
rounded products, summed from 0 in support-vector order) plus the rounded
intercept b:

  B = (1 + 3u) sum |c_s| E_s + gamma(N + 3) (sum |c_s| (K_s + E_s) + |b|) + (N + 1) 2**-149.

decision_function (binary: the negated decision; one-vs-one: the pair
decisions), SVR/NuSVR predict and OneClassSVM decision_function are within
B; OneClassSVM score_samples within B + u (|offset| + |decision + offset|).
The one-vs-rest values (votes + s / (3 (|s| + 1)), s a signed sum of K - 1
pair decisions) are within (sum B + gamma(K) sum |dec|) / 3 + 2u where no
vote can change; rows where one can are in the tie zone.

predict_proba (probability=True): each pair decision through its Platt
sigmoid (1/4-Lipschitz, so within |A| B / 4 plus the runtime sigmoid's
error), then libsvm's iterative pairwise coupling, which both sides stop
where the residual of its optimality condition is below 0.005 / k; the bound
(coupling_bound) follows from the smallest eigenvalue of the coupling matrix
on sum-zero vectors. It is as loose as libsvm's stopping rule.

With dtype="float64" the runtime computes all of this in binary64
(runtime float64.hpp: exp_r64, tanh_r64), as libsvm does in double, on
scikit-learn's own support vectors and coefficients; only the rows (float,
as the entry points take them) and the results (rounded to float once) are
float32. The contract is then stated against scikit-learn on the rows
rounded to float32, with every bound above recomputed by the same formulas
(Arithmetic): u = 2 U64 (the runtime's roundings and libsvm's own, in its
own order), underflow 2**-1074, exp and tanh within the runtime's stated
binary64 errors plus SKLEARN_F64_FUNCTION_ERROR, no rounding of the clip
bounds, and then one more rounding to float of each result
(float32_output). The probability bound stays libsvm's stopping rule's.

Labels equal scikit-learn's except in the tie zone: rows where some
decision lies within its bound of 0 (a pair vote, a one-class sign), and
with break_ties rows whose two largest one-vs-rest values lie within the sum
of their bounds. Rows in the tie zone are counted and reported; a label may
differ only there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Tuple

import numpy as np

from ...core.bounds import (
    EXP_MAX_REL_ERROR, EXP_R64_MAX_REL_ERROR, SKLEARN_F64_FUNCTION_ERROR, TANH_MAX_REL_ERROR,
    TANH_R64_MAX_REL_ERROR, TINY, U, U64, assert_within, check_labels, float32_output, gamma,
)
from ...core.family import NumericContract

#: Support vectors handled at once when bounding rbf kernels (memory).
_CHUNK = 64


@dataclass(frozen=True)
class Arithmetic:
    """What the runtime's arithmetic contributes to the bounds: unit
    roundoff, underflow, its exp's and tanh's relative errors, and the
    rounding of the probability clip bounds."""

    u: float
    tiny: float
    exp_error: float
    tanh_error: float
    clip_rounding: float
    binary64: bool


FLOAT32 = Arithmetic(U, TINY, EXP_MAX_REL_ERROR, TANH_MAX_REL_ERROR, 3e-8, binary64=False)
#: Binary64: each rounding counted twice (the runtime's and libsvm's own),
#: each function's error with scikit-learn's.
FLOAT64 = Arithmetic(
    2 * U64, 2.0**-1074, EXP_R64_MAX_REL_ERROR + SKLEARN_F64_FUNCTION_ERROR,
    TANH_R64_MAX_REL_ERROR + SKLEARN_F64_FUNCTION_ERROR, 0.0, binary64=True,
)


def kernel_values(ir: Any, X: np.ndarray, ar: Arithmetic = FLOAT32) -> Tuple[np.ndarray, np.ndarray]:
    """(K, E): scikit-learn's float64 kernel values K(s, x) for every row
    and support vector, shape (n_rows, n_sv), and the bound on the
    runtime's error in each."""
    X = np.asarray(X, dtype=np.float64)
    SV = ir.support_vectors
    n = ir.n_features
    g, c0 = abs(ir.gamma), ir.coef0
    if ir.kernel == "rbf":
        K = np.empty((len(X), ir.n_sv))
        E = np.empty_like(K)
        for first in range(0, ir.n_sv, _CHUNK):
            sv = SV[first : first + _CHUNK]
            a = np.abs(X[:, None, :] - sv[None, :, :])
            e = (2 * ar.u + ar.u * ar.u) * (np.abs(X)[:, None, :] + np.abs(sv)[None, :, :])
            q = (a * a).sum(axis=2)
            terms = 2 * a * e + e * e + ar.u * (a + e) ** 2
            Eq = (1 + gamma(n, ar.u)) * terms.sum(axis=2) + gamma(n, ar.u) * q + n * ar.tiny
            D = g * Eq * (1 + 2 * ar.u) + 2 * ar.u * g * q
            k = np.exp(-ir.gamma * q)
            K[:, first : first + _CHUNK] = k
            E[:, first : first + _CHUNK] = k * np.expm1(D) + ar.exp_error * k * np.exp(D) + ar.tiny
        return K, E
    dot = X @ SV.T
    E_dot = gamma(n + 3, ar.u) * (np.abs(X) @ np.abs(SV).T) + (n + 1) * ar.tiny
    if ir.kernel == "linear":
        return dot, E_dot
    t = ir.gamma * dot + c0
    E_t = g * E_dot * (1 + 3 * ar.u) + gamma(4, ar.u) * (np.abs(ir.gamma * dot) + abs(c0)) + 2 * ar.tiny
    if ir.kernel == "sigmoid":
        K = np.tanh(t)
        return K, E_t + ar.tanh_error * (np.abs(K) + E_t) + ar.tiny
    d = ir.degree
    if d == 0:
        return np.ones_like(t), np.zeros_like(t)
    k = 2 * int(d).bit_length()
    M = np.abs(t) + E_t
    with np.errstate(over="ignore"):
        E = d * M ** (d - 1) * E_t * (1 + gamma(k, ar.u)) + gamma(k, ar.u) * M**d + ar.tiny
        return t**d, E


def decisions(ir: Any, X: np.ndarray, ar: Arithmetic = FLOAT32) -> Tuple[np.ndarray, np.ndarray]:
    """(libsvm's float64 decisions (n_rows, n_decisions), bound B on each)."""
    if ir.kernel == "linear":
        return _primal_decisions(ir, X, ar)
    K, E = kernel_values(ir, X, ar)
    C = ir.decision_coefficients()
    A = np.abs(C)
    N = (C != 0).sum(axis=1)
    dec = K @ C.T + ir.intercepts
    with np.errstate(over="ignore", invalid="ignore"):
        B = (1 + 3 * ar.u) * (E @ A.T) + gamma(N + 3, ar.u) * ((np.abs(K) + E) @ A.T + np.abs(ir.intercepts)) + (
            (N + 1) * ar.tiny
        )
    return dec, np.where(np.isnan(B), np.inf, B)


def _primal_decisions(ir: Any, X: np.ndarray, ar: Arithmetic = FLOAT32) -> Tuple[np.ndarray, np.ndarray]:
    """Linear kernels run on primal weights W (float64, rounded to float32):
    the linear family's bound on <W_p, x> + b_p, plus the float64 error of
    scikit-learn's dual sum and of W against the exact value."""
    X = np.asarray(X, dtype=np.float64)
    W = ir.primal_weights()
    C = np.abs(ir.decision_coefficients())
    n, N = ir.n_features, (C != 0).sum(axis=1)
    dec = X @ W.T + ir.intercepts
    B = gamma(n + 3, ar.u) * (np.abs(X) @ np.abs(W).T + np.abs(ir.intercepts)) + (n + 1) * ar.tiny
    dual = np.abs(X) @ (C @ np.abs(ir.support_vectors)).T + np.abs(ir.intercepts)
    return dec, B + gamma(N + n + 3, U64) * dual




def _pairs(k: int):
    return [(i, j) for i in range(k) for j in range(i + 1, k)]


def ovr_values(
    ir: Any, dec: np.ndarray, B: np.ndarray, ar: Arithmetic = FLOAT32
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(one-vs-rest values, their bound, rows where a vote may change)."""
    k = ir.n_classes
    votes = np.zeros((len(dec), k))
    conf = np.zeros((len(dec), k))
    conf_bound = np.zeros((len(dec), k))
    conf_abs = np.zeros((len(dec), k))
    for p, (i, j) in enumerate(_pairs(k)):
        conf[:, i] += dec[:, p]
        conf[:, j] -= dec[:, p]
        votes[:, i] += dec[:, p] >= 0
        votes[:, j] += dec[:, p] < 0
        for c in (i, j):
            conf_bound[:, c] += B[:, p]
            conf_abs[:, c] += np.abs(dec[:, p])
    values = votes + conf / (3 * (np.abs(conf) + 1))
    bound = (conf_bound + gamma(k, ar.u) * conf_abs) / 3 + 2 * ar.u * (votes + 1)
    unsure = np.any(np.abs(dec) <= B, axis=1)
    return values, np.where(unsure[:, None], np.inf, bound), unsure


def _pair_probabilities(
    ir: Any, dec: np.ndarray, B: np.ndarray, ar: Arithmetic = FLOAT32
) -> Tuple[np.ndarray, np.ndarray]:
    """(r, dr): libsvm's clipped Platt probabilities r_ij of each row, as
    (n_rows, k, k) matrices with r_ji = 1 - r_ij, and the bound on the
    runtime's error in each."""
    k = ir.n_classes
    f = dec * ir.prob_a + ir.prob_b
    with np.errstate(over="ignore"):
        platt = np.where(f >= 0, np.exp(-np.abs(f)) / (1 + np.exp(-np.abs(f))), 1 / (1 + np.exp(-np.abs(f))))
    platt = np.clip(platt, 1e-7, 1 - 1e-7)
    # The sigmoid is 1/4-Lipschitz in f; f moves by |A| B and its own
    # rounding; the runtime's sigmoid by EXP_MAX_REL_ERROR + 3u; the clip
    # bounds are float32's (1 - 1e-7 rounds by up to 3e-8); 1 - r by u.
    d_platt = (np.abs(ir.prob_a) * (B + ar.u * np.abs(dec)) + ar.u * np.abs(f)) / 4 + ar.exp_error + 4 * ar.u + (
        ar.clip_rounding
    )
    n = len(dec)
    r = np.zeros((n, k, k))
    dr = np.zeros((n, k, k))
    for p, (i, j) in enumerate(_pairs(k)):
        r[:, i, j], r[:, j, i] = platt[:, p], 1 - platt[:, p]
        dr[:, i, j], dr[:, j, i] = d_platt[:, p], d_platt[:, p]
    return r, dr


def coupling_bound(
    ir: Any, dec: np.ndarray, B: np.ndarray, want: np.ndarray, ar: Arithmetic = FLOAT32
) -> np.ndarray:
    """Bound on |runtime - scikit-learn| of each predict_proba value.

    Both solve min p'Qp over sum(p) = 1 by libsvm's iteration, stopped where
    every |(Qp)_t - p'Qp| < eps = 0.005 / k. With p* the exact solution,
    P the projection onto sum-zero vectors and lambda the smallest eigenvalue
    of PQP there, P Q (p - p*) is the stopping residual, so
    |p - p*| <= sqrt(k) eps / lambda for each result; the runtime's Q is off
    by dQ (from its pair probabilities, each within dr), which moves p* by
    at most |dQ| / (lambda - |dQ|). Rows where scikit-learn stopped without
    converging (max_iter) or where dQ reaches lambda get no bound."""
    k = ir.n_classes
    r, dr = _pair_probabilities(ir, dec, B, ar)
    n = len(dec)
    Q = np.zeros((n, k, k))
    dQ = np.zeros((n, k, k))
    for t in range(k):
        for j in range(k):
            if j == t:
                continue
            Q[:, t, t] += r[:, j, t] ** 2
            dQ[:, t, t] += 2 * r[:, j, t] * dr[:, j, t] + dr[:, j, t] ** 2 + ar.u
            Q[:, t, j] = -r[:, j, t] * r[:, t, j]
            dQ[:, t, j] = dr[:, j, t] * r[:, t, j] + r[:, j, t] * dr[:, t, j] + dr[:, j, t] * dr[:, t, j] + ar.u
    # An orthonormal basis of the sum-zero vectors.
    basis = np.linalg.qr(np.eye(k) - 1.0 / k)[0][:, : k - 1]
    lam = np.linalg.eigvalsh(np.einsum("ai,nab,bj->nij", basis, Q, basis))[:, 0]
    norm_dQ = np.sqrt((dQ**2).sum(axis=(1, 2)))
    eps = 0.005 / k
    Qp = np.einsum("nab,nb->na", Q, want)
    pQp = (want * Qp).sum(axis=1, keepdims=True)
    converged = np.abs(Qp - pQp).max(axis=1) < eps
    # The runtime's float rounding: of its residual test (k + 2 roundings of
    # terms up to |Q| |p|) and of the normalisations over max(100, k)
    # iterations, which keep sum(p) = 1 to within 3u k per iteration.
    rounding = (k + 2) * ar.u * np.einsum("nab,nb->na", np.abs(Q), np.abs(want)).max(axis=1) * 2
    drift = max(100, k) * 3 * ar.u * k
    gap = lam - norm_dQ
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = (np.sqrt(k) * (2 * eps + rounding) + norm_dQ) / gap + drift
    bound = np.where(converged & (gap > 0), bound, np.inf)
    return np.repeat(bound[:, None], k, axis=1)


class SVMContract(NumericContract):
    statement = (
        "float32 arithmetic. Each kernel value within a bound derived from its inputs (dot products, "
        "squared distances, exp_f and tanh_f within their stated errors), each decision within "
        "sum |c| E + gamma(N+3) (sum |c| (|K| + E) + |b|) of scikit-learn's float64 decision; labels "
        "and outlier flags identical outside the tie zone (a decision within its bound of 0). "
        "dtype='float64': the same bounds in binary64 (u = 2**-53 for the runtime's and libsvm's "
        "roundings each, exp_r64/tanh_r64) against scikit-learn on the float32 rows, plus one "
        "rounding of each result to float."
    )

    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        from .convert import convert_svm

        ir = convert_svm(estimator)
        X = np.asarray(X, dtype=np.float64)
        report: Dict[str, Any] = {"n_samples": len(X)}
        ar = FLOAT32
        if cm.options.get("dtype") == "float64":
            # The rows as the model reads them (float): the contract is
            # exactness for those, not for digits float32 cannot hold.
            X = X.astype(np.float32).astype(np.float64)
            ar = FLOAT64
            report["reference"] = "scikit-learn on the rows rounded to float32, as the model reads them"

        def within(what: str, got: np.ndarray, want: np.ndarray, bound: np.ndarray) -> float:
            # A binary64 result is rounded to float once more.
            return assert_within(what, got, want, float32_output(want, bound) if ar.binary64 else bound)

        dec, B = decisions(ir, X, ar)
        near_zero = np.abs(dec) <= B
        if ir.task == "regressor":
            want = np.asarray(estimator.predict(X), dtype=np.float64)
            report["max_abs_diff"] = within("predict", cm.predict(X), want, B[:, 0])
            return report
        if ir.task == "outlier_detector":
            want = np.asarray(estimator.decision_function(X), dtype=np.float64)
            report["max_abs_diff"] = within("decision_function", cm.decision_function(X), want, B[:, 0])
            want = np.asarray(estimator.score_samples(X), dtype=np.float64)
            bound = B[:, 0] + ar.u * (abs(ir.offset) + np.abs(dec[:, 0] + ir.offset))
            within("score_samples", cm.score_samples(X), want, bound)
            report.update(check_labels(estimator.predict(X), cm.predict(X), near_zero[:, 0]))
            return report
        want = np.asarray(estimator.decision_function(X), dtype=np.float64)
        got = cm.decision_function(X)
        if ir.n_classes == 2:
            report["max_abs_diff"] = within("decision_function", got, want, B[:, 0])
            ties = near_zero[:, 0]
        else:
            ties = np.any(near_zero, axis=1)
            if ir.ovr:
                values, bound, _ = ovr_values(ir, dec, B, ar)
                report["max_abs_diff"] = within("decision_function", got, want, bound)
                if ir.break_ties:
                    order = np.sort(values, axis=1)
                    top = np.take_along_axis(bound, np.argsort(values, axis=1), axis=1)
                    ties |= order[:, -1] - order[:, -2] <= top[:, -1] + top[:, -2]
            else:
                report["max_abs_diff"] = within("decision_function", got, want, B)
        report.update(check_labels(estimator.predict(X), cm.predict(X), ties))
        if ir.has_proba:
            want = np.asarray(estimator.predict_proba(X), dtype=np.float64)
            bound = coupling_bound(ir, dec, B, want, ar)
            report["max_proba_diff"] = within("predict_proba", cm.predict_proba(X), want, bound)
            report["proba_unbounded_rows"] = int(np.isinf(bound[:, 0]).sum())
        return report
