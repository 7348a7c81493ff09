"""Gaussian mixtures, elliptic envelopes and k-means beyond the catalog's
contract checks: CModel.score exactly where scikit-learn's score takes X
alone, the precision factors stored in scikit-learn's shape, the
envelope's refusal of a singular precision, the labels' dtypes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.covariance import EllipticEnvelope
from sklearn.datasets import load_iris, load_wine
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture
from sklearn.naive_bayes import GaussianNB

import emlearn_gen
from emlearn_gen.core.entry_points import LABEL, VALUES, EntryPoint, estimator_has, score_entry


@pytest.fixture(scope="module")
def iris() -> np.ndarray:
    return load_iris(return_X_y=True)[0]


def test_score_is_a_method_only_where_sklearns_score_takes_x_alone(iris):
    """GaussianMixture.score(X) and KMeans.score(X) are unsupervised; a
    classifier's score(X, y) and EllipticEnvelope's (an accuracy against y)
    are not, and CModel has no score there."""
    y = load_iris(return_X_y=True)[1]
    for est, has in ((GaussianMixture(2, random_state=0).fit(iris), True),
                     (KMeans(3, n_init=1, random_state=0).fit(iris), True),
                     (EllipticEnvelope(random_state=0).fit(iris), False),
                     (GaussianNB().fit(iris, y), False)):
        cm = emlearn_gen.convert(est)
        assert hasattr(est, "score")
        assert estimator_has(est, "score") is has
        assert hasattr(cm, "score") is has, type(est).__name__
        if not has:
            with pytest.raises(AttributeError, match="score"):
                cm.score(iris)


def test_score_is_sklearns_reduction_of_the_per_row_values(iris):
    gmm = GaussianMixture(3, random_state=0).fit(iris)
    cm = emlearn_gen.convert(gmm)
    assert isinstance(cm.score(iris), np.float64)
    np.testing.assert_allclose(cm.score(iris), gmm.score(iris), rtol=1e-6)
    assert cm.score(iris) == np.mean(cm.score_samples(iris))
    kmeans = KMeans(3, n_init=1, random_state=0).fit(iris)
    km = emlearn_gen.convert(kmeans)
    np.testing.assert_allclose(km.score(iris), kmeans.score(iris), rtol=1e-6)
    # The per-row entry point is in the header but not a CModel method.
    assert "nearest_sq_distance" in {ep.name for ep in km.entry_points}
    assert not hasattr(km, "nearest_sq_distance")
    np.testing.assert_array_equal(km.score(iris), -np.sum(km.raw_outputs("nearest_sq_distance", iris),
                                                          dtype=np.float64))


def test_an_entry_point_carries_a_score_of_single_values_only():
    with pytest.raises(ValueError, match="score must be one of"):
        EntryPoint("predict", LABEL, score="mean")
    with pytest.raises(ValueError, match="score must be one of"):
        EntryPoint("score_samples", VALUES, 1, score="median")
    with pytest.raises(ValueError, match="score must be one of"):
        EntryPoint("transform", VALUES, 3, score="-sum")
    two = (EntryPoint("a", VALUES, 1, score="mean"), EntryPoint("b", VALUES, 1, score="-sum"))
    with pytest.raises(ValueError, match="one may"):
        score_entry(two)


@pytest.mark.parametrize("covariance, count", [("full", 3 * 10), ("tied", 10), ("diag", 3 * 4), ("spherical", 3)])
def test_precision_factors_are_stored_in_sklearns_shape(iris, covariance, count):
    """Triangles for full (per component) and tied (one), vectors for diag,
    one value per component for spherical: never n x n per component."""
    gmm = GaussianMixture(3, covariance_type=covariance, random_state=0).fit(iris)
    cm = emlearn_gen.convert(gmm)
    factors = cm.packed.tables["precisions"]
    assert factors.size == count
    if covariance in ("full", "tied"):
        first = np.asarray(gmm.precisions_cholesky_).reshape(-1, 4, 4)[0]
        want = np.concatenate([first[: j + 1, j] for j in range(4)]).astype(np.float32)
        np.testing.assert_array_equal(factors[:10], want)
    else:
        np.testing.assert_array_equal(factors, np.asarray(gmm.precisions_cholesky_, np.float32).reshape(-1))


def test_bayesian_mixture_constants_include_its_digamma_terms(iris):
    bgmm = BayesianGaussianMixture(n_components=3, random_state=0, max_iter=200).fit(iris)
    cm = emlearn_gen.convert(bgmm)
    np.testing.assert_allclose(cm.score_samples(iris), bgmm.score_samples(iris), rtol=1e-5, atol=1e-4)
    assert np.array_equal(cm.predict(iris), bgmm.predict(iris))


def test_envelope_refuses_a_singular_precision():
    X = load_wine(return_X_y=True)[0][:, :4].copy()
    env = EllipticEnvelope(random_state=0).fit(X)
    env.precision_ = np.zeros_like(env.precision_)  # as a constant feature's would be singular
    with pytest.raises(ValueError, match="not positive definite"):
        emlearn_gen.convert(env)


def test_labels_have_sklearns_dtype(iris):
    gmm = GaussianMixture(2, random_state=0).fit(iris)
    kmeans = KMeans(2, n_init=1, random_state=0).fit(iris)
    env = EllipticEnvelope(random_state=0).fit(iris)
    for est in (gmm, kmeans, env):
        got, want = emlearn_gen.convert(est).predict(iris), est.predict(iris)
        assert got.dtype == want.dtype, type(est).__name__
        assert not hasattr(emlearn_gen.convert(est), "classes_")


def test_mixtures_refuse_nan_like_sklearn(iris):
    X = iris.copy()
    X[0, 0] = np.nan
    for est in (GaussianMixture(2, random_state=0).fit(iris), KMeans(2, n_init=1, random_state=0).fit(iris)):
        with pytest.raises(ValueError, match="NaN"):
            est.predict(X)
        with pytest.raises(ValueError, match="NaN"):
            emlearn_gen.convert(est).predict(X)
