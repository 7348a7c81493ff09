"""Gaussian mixtures and elliptic envelopes in the shared test catalog: each
estimator with every covariance type (the variational model with both
weight priors), on small data sets so every example fits an AVR's flash;
probe rows far from the data push the components' probabilities to 0 and 1
and the envelope's decisions far below 0."""

from __future__ import annotations

import numpy as np
from sklearn import covariance, mixture

from ...testing.catalog import Example


def _far(est, X):
    rows = X[:: max(1, len(X) // 12)]
    return np.concatenate([3.0 * rows, -rows, 0.25 * rows, np.zeros((1, X.shape[1]))])


def _gmm(covariance_type: str, n_components: int = 3):
    return lambda: mixture.GaussianMixture(n_components, covariance_type=covariance_type, random_state=0)


def _bgmm(covariance_type: str, prior: str):
    return lambda: mixture.BayesianGaussianMixture(
        n_components=4, covariance_type=covariance_type, weight_concentration_prior_type=prior,
        max_iter=200, random_state=0,
    )


EXAMPLES = (
    Example("GaussianMixture-full", _gmm("full"), "iris", _far),
    Example("GaussianMixture-tied", _gmm("tied"), "wine", _far),
    Example("GaussianMixture-diag", _gmm("diag", 4), "wine", _far),
    Example("GaussianMixture-spherical", _gmm("spherical"), "iris", _far),
    Example("GaussianMixture-one-component", _gmm("full", 1), "iris", _far),
    Example("BayesianGaussianMixture-full", _bgmm("full", "dirichlet_process"), "iris", _far),
    Example("BayesianGaussianMixture-tied", _bgmm("tied", "dirichlet_distribution"), "iris", _far),
    Example("BayesianGaussianMixture-diag", _bgmm("diag", "dirichlet_process"), "wine", _far),
    Example("BayesianGaussianMixture-spherical", _bgmm("spherical", "dirichlet_distribution"), "iris", _far),
    # Fitted on other rows than those evaluated: offset_ is a quantile of the
    # training rows' scores, so one of them decides exactly 0.
    Example("EllipticEnvelope", lambda: covariance.EllipticEnvelope(random_state=0), "iris", _far, held_out=True, n_eval=60),
    Example("EllipticEnvelope-contamination",
            lambda: covariance.EllipticEnvelope(contamination=0.2, support_fraction=0.8, random_state=0),
            "wine", _far, held_out=True, n_eval=70),
)
