"""IR of Gaussian mixtures and elliptic envelopes: per component a mean, a
factor U of its precision (precision = U U^T, U upper triangular) in the
shape scikit-learn keeps it, and a constant (see runtime mixture.hpp)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import numpy as np

#: Storage of the precision factor (runtime mixture_covariance).
COVARIANCES = {"full": 0, "tied": 1, "diag": 2, "spherical": 3}
#: "mixture": GaussianMixture, BayesianGaussianMixture; "envelope":
#: EllipticEnvelope (one component, its constant scikit-learn's offset_).
KINDS = ("mixture", "envelope")

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def factor_shape(covariance: str, n_components: int, n_features: int) -> Tuple[int, ...]:
    """Shape of precisions_cholesky_ as scikit-learn holds it."""
    return {
        "full": (n_components, n_features, n_features),
        "tied": (n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
    }[covariance]


@dataclass(frozen=True)
class MixtureModel:
    """A fitted mixture or envelope, float64 as scikit-learn holds it.

    ``means`` (n_components, n_features); ``factors`` in
    :func:`factor_shape`; ``constants`` (n_components,): a mixture's
    weighted log-probability is ``constants[k] - Q_k / 2`` (log weight,
    log-determinant of the factor, -n/2 log 2 pi and the variational
    model's digamma terms, summed in float64), an envelope's decision
    ``-Q - constants[0]`` (offset_). ``magnitudes`` (n_components,) is the
    sum of the absolute values of the terms each constant was summed from,
    which bounds scikit-learn's own float64 roundings of them."""

    kind: str
    covariance: str
    means: np.ndarray
    factors: np.ndarray
    constants: np.ndarray
    magnitudes: np.ndarray

    @property
    def n_components(self) -> int:
        return int(self.means.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.means.shape[1])

    def full_factors(self) -> np.ndarray:
        """The factors as (n_components, n_features, n_features) upper
        triangular matrices (for the contract; the runtime never expands them)."""
        k, n = self.n_components, self.n_features
        if self.covariance == "full":
            return self.factors
        if self.covariance == "tied":
            return np.broadcast_to(self.factors, (k, n, n))
        if self.covariance == "diag":
            return np.stack([np.diag(row) for row in self.factors])
        return np.stack([np.eye(n) * s for s in self.factors])

    def validate(self) -> None:
        if self.kind not in KINDS or self.covariance not in COVARIANCES:
            raise ValueError(f"unknown mixture kind {self.kind!r} or covariance type {self.covariance!r}")
        if self.means.ndim != 2 or self.means.shape[0] < 1 or self.means.shape[1] < 1:
            raise ValueError(f"means_ must be a non-empty (n_components, n_features) array, got {self.means.shape}")
        k, n = self.n_components, self.n_features
        shape = factor_shape(self.covariance, k, n)
        if self.factors.shape != shape:
            raise ValueError(f"precisions_cholesky_ must have shape {shape} for covariance_type "
                             f"{self.covariance!r}, got {self.factors.shape}")
        if self.constants.shape != (k,):
            raise ValueError(f"{self.constants.shape[0] if self.constants.ndim else 0} constants for {k} components")
        for what, array in (("means_", self.means), ("precisions_cholesky_", self.factors),
                            ("the log weights and log-determinants", self.constants)):
            if not np.all(np.isfinite(array)):
                raise ValueError(f"{what} holds infinite or NaN values; refit the model (a larger reg_covar "
                                 "keeps the covariances away from singular)")
            if np.abs(array).max() > _FLOAT32_MAX:
                raise ValueError(f"a value of {what} lies beyond float32's range (3.4e38); rescale the features")
        if self.covariance in ("full", "tied"):
            triangles = self.factors.reshape(-1, n, n)
            if np.any(np.tril(triangles, -1) != 0):
                raise ValueError("precisions_cholesky_ is not upper triangular")
        count = {"full": k * n * (n + 1) // 2, "tied": n * (n + 1) // 2, "diag": k * n, "spherical": k}
        if k * n >= 2**32 or count[self.covariance] >= 2**32:
            raise ValueError("the model has more than 2**32 values in one table")
