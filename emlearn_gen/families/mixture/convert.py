"""scikit-learn Gaussian mixtures and elliptic envelopes -> MixtureModel IR.
Reads fitted attributes only, and computes in float64 what scikit-learn adds
to the quadratic form before it looks at X (log weights, log-determinants,
the variational model's digamma terms)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import digamma
from sklearn import covariance as skcov
from sklearn import mixture

from .ir import COVARIANCES, MixtureModel

SUPPORTED = (mixture.GaussianMixture, mixture.BayesianGaussianMixture, skcov.EllipticEnvelope)


def _array(estimator: Any, attribute: str) -> np.ndarray:
    value = getattr(estimator, attribute, None)
    if value is None:
        raise ValueError(f"{type(estimator).__name__} has no fitted {attribute}; fit it before converting")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{type(estimator).__name__}.{attribute} is not numeric: {exc}") from exc


def _log_det(factors: np.ndarray, covariance: str, n_features: int) -> np.ndarray:
    """scikit-learn's _compute_log_det_cholesky: the log-determinant of
    each component's factor."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if covariance == "full":
            return np.log(np.diagonal(factors, axis1=1, axis2=2)).sum(axis=1)
        if covariance == "tied":
            return np.atleast_1d(np.log(np.diagonal(factors)).sum())
        if covariance == "diag":
            return np.log(factors).sum(axis=1)
        return n_features * np.log(factors)


def _variational_terms(est: Any, n_features: int) -> np.ndarray:
    """The per-component terms BayesianGaussianMixture._estimate_log_prob
    adds to the Gaussian log-probability."""
    dof = _array(est, "degrees_of_freedom_")
    mean_precision = _array(est, "mean_precision_")
    log_lambda = n_features * np.log(2.0) + np.sum(
        digamma(0.5 * (dof - np.arange(0, n_features)[:, np.newaxis])), 0
    )
    return -0.5 * n_features * np.log(dof) + 0.5 * (log_lambda - n_features / mean_precision)


def _mixture(est: Any) -> MixtureModel:
    covariance = str(est.covariance_type)
    if covariance not in COVARIANCES:
        raise ValueError(f"covariance_type {covariance!r} is not one of {sorted(COVARIANCES)}")
    means = _array(est, "means_")
    if means.ndim != 2:
        raise ValueError(f"means_ must be (n_components, n_features), got shape {means.shape}")
    n_components, n_features = means.shape
    factors = _array(est, "precisions_cholesky_")
    log_det = np.broadcast_to(_log_det(factors, covariance, n_features), (n_components,))
    log_weights = np.asarray(est._estimate_log_weights(), dtype=np.float64)
    gauss = -0.5 * n_features * math.log(2 * math.pi)
    parts = [np.full(n_components, gauss), log_det, log_weights]
    if isinstance(est, mixture.BayesianGaussianMixture):
        parts.append(_variational_terms(est, n_features))
    constants = np.sum(parts, axis=0)
    magnitudes = np.sum(np.abs(parts), axis=0)
    return MixtureModel("mixture", covariance, means, factors, constants, magnitudes)


def upper_factor(precision: np.ndarray) -> np.ndarray:
    """U upper triangular with U U^T = precision: the Cholesky factor of the
    precision with rows and columns reversed (J L J for J P J = L L^T), the
    form of scikit-learn's precisions_cholesky_. ValueError unless the
    precision is positive definite."""
    flip = precision[::-1, ::-1]
    try:
        lower = np.linalg.cholesky(flip)
    except np.linalg.LinAlgError:
        raise ValueError(
            "EllipticEnvelope's precision matrix is not positive definite (the robust covariance is "
            "singular: some feature is constant or a linear combination of others); drop such features "
            "before fitting"
        ) from None
    return np.ascontiguousarray(lower[::-1, ::-1])


def _envelope(est: Any) -> MixtureModel:
    location = _array(est, "location_")
    precision = np.asarray(est.get_precision(), dtype=np.float64)
    n = location.shape[0]
    if location.ndim != 1 or precision.shape != (n, n):
        raise ValueError(f"location_ {location.shape} and precision {precision.shape} do not match")
    if not np.all(np.isfinite(precision)):
        raise ValueError("EllipticEnvelope's precision holds infinite or NaN values; refit it")
    offset = float(_array(est, "offset_"))
    factor = upper_factor(precision)
    return MixtureModel("envelope", "full", location[None, :], factor[None, :, :], np.array([offset]),
                        np.array([abs(offset)]))


def convert_mixture(estimator: Any) -> MixtureModel:
    """IR of a fitted Gaussian mixture or elliptic envelope."""
    ir = _envelope(estimator) if isinstance(estimator, skcov.EllipticEnvelope) else _mixture(estimator)
    n_in = getattr(estimator, "n_features_in_", ir.n_features)
    if int(n_in) != ir.n_features:
        raise ValueError(
            f"{type(estimator).__name__}: n_features_in_ is {n_in} but the fitted means have {ir.n_features} features"
        )
    ir.validate()
    return ir


def packed_factors(ir: MixtureModel) -> np.ndarray:
    """The precisions table (runtime mixture.hpp): full and tied factors'
    upper triangles column by column (U[0][j] .. U[j][j]), diag vectors and
    spherical values as they are."""
    if ir.covariance in ("diag", "spherical"):
        return ir.factors.reshape(-1)
    triangles = ir.factors.reshape(-1, ir.n_features, ir.n_features)
    columns = [t[: j + 1, j] for t in triangles for j in range(ir.n_features)]
    return np.concatenate(columns)


