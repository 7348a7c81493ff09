"""Error bounds of the runtime's links (sigmoid, softmax, modified Huber),
shared by the numeric contracts of the families that use them.

Each bound is on |runtime - scikit-learn| of a probability, given
scikit-learn's float64 scores and a bound B on how far the runtime's scores
(the link's input) may lie from them; the derivations are in the linear
family's contract (emlearn_gen/families/linear/contract.py), and the
runtime's exp is within EXP_MAX_REL_ERROR (runtime math.hpp). assert_within
checks results against such a bound, and check_labels labels against a tie
zone; every family's contract uses both.
"""

from __future__ import annotations

from typing import Dict

import numpy as np

from .. import _runtime

U = 2.0**-24
#: Unit roundoff of float64: scikit-learn's own roundings, where they count.
U64 = 2.0**-53
TINY = 2.0**-149
EXP_MAX_REL_ERROR = float(_runtime.EXP_MAX_REL_ERROR)
LOG_MAX_REL_ERROR = float(_runtime.LOG_MAX_REL_ERROR)
SIGMOID_MAX_REL_ERROR = float(_runtime.SIGMOID_MAX_REL_ERROR)
TANH_MAX_REL_ERROR = float(_runtime.TANH_MAX_REL_ERROR)
#: The runtime's binary64 functions (float64.hpp), for float64 models.
EXP_R64_MAX_REL_ERROR = float(_runtime.EXP_R64_MAX_REL_ERROR)
SIGMOID_R64_MAX_REL_ERROR = float(_runtime.SIGMOID_R64_MAX_REL_ERROR)
TANH_R64_MAX_REL_ERROR = float(_runtime.TANH_R64_MAX_REL_ERROR)
#: Allowance for scikit-learn's own binary64 exp, tanh and expit (numpy,
#: scipy, the C library): a float64 model's bound holds against scikit-learn's
#: computed values, so it counts their errors too (float32 bounds are far
#: above them). 2 ulp (4u) each, a margin over the correctly rounded-or-
#: nearly results of common C libraries.
SKLEARN_F64_FUNCTION_ERROR = 4 * U64


def gamma(m, u: float = U):
    """gamma(m) = m u / (1 - m u): the relative error of m roundings (Higham),
    of scalars or arrays of m."""
    return m * u / (1.0 - m * u)


def _sigmoid(s: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-s))


def proba_bound(
    link: str, scores: np.ndarray, B: np.ndarray, u: float = U, e: float = EXP_MAX_REL_ERROR
) -> np.ndarray:
    """Bound on |runtime - scikit-learn| of every predict_proba value, the
    link computed with unit roundoff ``u`` and an exp within ``e``: float32
    (U, EXP_MAX_REL_ERROR) by default; binary64 links (U64,
    EXP_R64_MAX_REL_ERROR plus scikit-learn's own exp) leave the final
    rounding to float to the caller (float32_output)."""
    K = scores.shape[1]
    if link == "logistic" and K == 1:
        p = _sigmoid(scores[:, 0])
        one = B[:, 0] / 4 + (e + 3 * u) * p + 3 * 2.0**-148
        return np.stack([one + u, one], axis=1)
    underflow = (K + 2) * 2.0**-148
    if link == "logistic":
        s = _sigmoid(scores)
        total = s.sum(axis=1, keepdims=True)
        d = scores - scores.max(axis=1, keepdims=True)
        bmax = B.max(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = s / total
        rel = np.expm1(2 * bmax) + 4 * e + 2 * u * np.abs(d).max(axis=1, keepdims=True) + (K + 5) * u
        # Where every float64 sigmoid is 0 scikit-learn returns a uniform
        # row; the runtime's scaled sigmoids do not underflow: no bound.
        return np.where(total > 0, p * rel + underflow, np.inf)
    if link == "softmax":
        d = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(d)
        p /= p.sum(axis=1, keepdims=True)
        bmax = B.max(axis=1, keepdims=True)
        rel = np.expm1(2 * bmax) + u * (np.abs(d) + (p * np.abs(d)).sum(axis=1, keepdims=True)) + 2 * e + (K + 1) * u
        return p * rel + underflow
    if link == "modified_huber":
        q = (np.clip(scores, -1, 1) + 1) / 2
        dq = B / 2 + U
        if K == 1:
            return np.concatenate([dq + U, dq], axis=1)
        total = q.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = q / total
            out = (dq + p * dq.sum(axis=1, keepdims=True)) / total + (K + 1) * U * p
        # Where the sum is within its own error of 0, scikit-learn's uniform
        # fallback and a tiny positive sum are both possible: no bound.
        ambiguous = total <= dq.sum(axis=1, keepdims=True)
        return np.where(ambiguous, np.inf, out)
    raise ValueError(f"no predict_proba for link {link!r}")


def log_proba_bound(joint: np.ndarray, log_proba: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Bound on ``joint_k - logsumexp_f(joint)`` (the runtime's normalisation
    of per-class or per-component log-likelihoods, rows of ``joint`` within
    ``B`` of the float64 ones) against the float64 ``log_proba``. The
    log-sum-exp moves by at most max B with its inputs, and logsumexp_f adds
    L = EXP_MAX_REL_ERROR + u max|d| + (K - 1) u + LOG_MAX_REL_ERROR ln K + u|lse|
    (math.hpp), d_j = joint_j - max joint taken 2 max B larger; the
    subtraction is one rounding: b_k = (B_k + max B + L)(1 + u) + u|log p_k|."""
    K = joint.shape[1]
    top = joint.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        d = np.where(np.isfinite(joint), top - joint, 0.0)
    bmax = B.max(axis=1, keepdims=True)
    lse = joint - log_proba
    lse = np.where(np.isfinite(lse), lse, 0.0)
    L = EXP_MAX_REL_ERROR + U * (d.max(axis=1, keepdims=True) + 2 * bmax) + (K - 1) * U
    L = L + LOG_MAX_REL_ERROR * np.log(K) + U * np.abs(lse) + K * 2.0**-150
    with np.errstate(invalid="ignore"):
        return (B + bmax + L) * (1 + U) + U * np.where(np.isfinite(log_proba), np.abs(log_proba), 0.0)


def float32_output(value: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """``bound`` on a binary64 result, widened by its rounding to the float
    the entry points return: U relative (of the value plus its error), or
    2**-150 among float32's subnormals."""
    return bound + U * (np.abs(value) + bound) + TINY


def assert_within(what: str, got: np.ndarray, want: np.ndarray, bound: np.ndarray) -> float:
    """Raises AssertionError unless |got - want| <= bound everywhere (values
    beyond float32's range may be inf, as rounding makes them); returns the
    largest finite difference."""
    assert got.shape == want.shape, f"{what}: shape {got.shape} vs scikit-learn's {want.shape}"
    with np.errstate(invalid="ignore", over="ignore"):
        want32 = want.astype(np.float32).astype(np.float64)
        err = np.abs(got - want)
        # Beyond float32's range the runtime returns inf, as rounding does.
        ok = (err <= bound) | (np.isinf(want32) & (got == want32))
    if not np.all(ok):
        worst = int(np.flatnonzero(~ok.reshape(-1))[0])
        raise AssertionError(
            f"{what} differs from scikit-learn by {err.flat[worst]:.3g} at flat index {worst} "
            f"(got {got.flat[worst]!r}, scikit-learn {want.flat[worst]!r}); the contract allows "
            f"{bound.flat[worst]:.3g}"
        )
    finite = np.isfinite(err)
    return float(err[finite].max()) if np.any(finite) else 0.0


def check_labels(want: np.ndarray, got: np.ndarray, ties: np.ndarray) -> Dict[str, int]:
    """Raises AssertionError unless the labels (rows of them, for multi-label
    outputs) differ from scikit-learn's only in the tie zone ``ties`` (a
    boolean per row); returns the tie zone's size and the rows that differ,
    as the contracts report them."""
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    differ = want != got
    if differ.ndim == 2:
        differ = differ.any(axis=1)
    outside = differ & ~ties
    if np.any(outside):
        rows = np.flatnonzero(outside)
        raise AssertionError(
            f"{rows.size} of {len(want)} labels differ from scikit-learn outside the tie zone "
            f"(first rows {rows[:5].tolist()})"
        )
    return {"tie_zone": int(ties.sum()), "label_differences": int(differ.sum())}
