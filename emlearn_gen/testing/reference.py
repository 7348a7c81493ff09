"""Equivalence with scikit-learn (level 1): a CModel against its estimator,
computed side by side, by the numeric contract of the model's family
(``emlearn_gen/families/<family>/contract.py``; docs/architecture.md)."""

from __future__ import annotations

from typing import Any, Dict

import numpy as np


def assert_matches_sklearn(cmodel: Any, estimator: Any, X: Any) -> Dict[str, Any]:
    """Asserts that the CModel's outputs agree with the estimator's on X as
    its numeric contract promises (its family's, or a Pipeline's made of its
    parts'); returns what was measured."""
    X = np.asarray(X)
    report = cmodel.contract.assert_matches_sklearn(cmodel, estimator, X)
    if any(ep.log_of for ep in cmodel.entry_points):
        report["max_log_proba_diff"] = assert_log_proba_matches(cmodel, estimator, X)
    return report


def assert_log_proba_matches(cmodel: Any, estimator: Any, X: np.ndarray) -> float:
    """predict_log_proba as log_f of predict_proba, against scikit-learn's
    np.log of its predict_proba: for probabilities p (the runtime's) and q
    (scikit-learn's), |ln p - ln q| <= |p - q| / min(p, q) (the mean value
    theorem), where the family's contract has bounded |p - q|; log_f adds
    LOG_MAX_REL_ERROR relative, and 2**-149 where p is subnormal. Zeros
    must agree: ln 0 is -inf on both sides. Returns the largest finite
    difference."""
    from ..core.bounds import LOG_MAX_REL_ERROR

    p = cmodel.predict_proba(X)
    q = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    got = cmodel.predict_log_proba(X)
    with np.errstate(divide="ignore"):  # np.log of a probability of 0
        want = np.asarray(estimator.predict_log_proba(X), dtype=np.float64)
        log_p = np.log(p)
    assert got.shape == want.shape, (got.shape, want.shape)
    zero = (p == 0) | (q == 0)
    if np.any(zero):
        assert np.array_equal(np.isneginf(got[zero]), p[zero] == 0), "log_f(0) is not -inf"
    finite = ~zero
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.abs(p - q) / np.minimum(p, q) + LOG_MAX_REL_ERROR * np.abs(log_p)
    bound = bound + np.where(p < 2.0**-126, 2.0**-149 / np.maximum(p, 2.0**-149), 0.0)
    with np.errstate(invalid="ignore"):  # -inf - -inf where both are 0
        err = np.abs(got - want)
    bad = finite & ~(err <= bound)
    if np.any(bad):
        row, col = np.argwhere(bad)[0]
        raise AssertionError(
            f"predict_log_proba: {int(bad.sum())} values beyond the bound from predict_proba, first at "
            f"[{row}, {col}]: {got[row, col]!r} vs scikit-learn's {want[row, col]!r} (bound {bound[row, col]:.3g})"
        )
    return float(err[finite].max()) if np.any(finite) else 0.0
