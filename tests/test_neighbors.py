"""Nearest-neighbour models beyond the catalog: rows scikit-learn treats
specially at predict time (no neighbour within the radius, distances of
exactly 0, tied votes), int16 storage and its report, and the models and
options the conversion refuses."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import datasets
from sklearn import neighbors as nb

import emlearn_gen
from emlearn_gen.testing.reference import assert_matches_sklearn


@pytest.fixture(scope="module")
def data():
    X, y = datasets.make_classification(
        n_samples=120, n_features=4, n_informative=3, n_redundant=0, n_classes=3, n_clusters_per_class=1,
        random_state=11,
    )
    return X, y


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_radius_classifier_without_neighbours_raises_as_scikit_learn(data, method):
    X, y = data
    est = nb.RadiusNeighborsClassifier(radius=1.0).fit(X[40:], y[40:])
    cm = emlearn_gen.convert(est)
    rows = np.concatenate([X[40:42], X[:2] * 0 + 100.0])
    with pytest.raises(ValueError, match="No neighbors found"):
        getattr(est, method)(rows)
    with pytest.raises(ValueError, match=r"No neighbors found for test samples \[2, 3\].*outlier_label"):
        getattr(cm, method)(rows)
    # Rows with neighbours are answered as scikit-learn answers them.
    np.testing.assert_array_equal(cm.predict(X[40:60]), est.predict(X[40:60]))


def test_radius_classifier_outlier_label_and_regressor_nan(data):
    X, y = data
    far = np.full((2, 4), 100.0)
    clf = nb.RadiusNeighborsClassifier(radius=1.0, outlier_label=2).fit(X[40:], y[40:])
    cm = emlearn_gen.convert(clf)
    np.testing.assert_array_equal(cm.predict(far), clf.predict(far))
    np.testing.assert_array_equal(cm.predict_proba(far), clf.predict_proba(far))
    reg = nb.RadiusNeighborsRegressor(radius=1.0).fit(X[40:], X[40:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns of the empty neighbourhoods
        want = reg.predict(far)
    assert np.all(np.isnan(want)) and np.all(np.isnan(emlearn_gen.convert(reg).predict(far)))


def test_outlier_label_outside_the_classes_is_refused(data):
    X, y = data
    est = nb.RadiusNeighborsClassifier(radius=1.0, outlier_label=7).fit(X, y)
    with pytest.raises(ValueError, match="outlier_label 7 is not one of the classes"):
        emlearn_gen.convert(est)


def test_distance_weights_at_distance_zero_count_only_those_rows():
    """Two training rows equal to the query, of different classes: each
    weighs 1 and the others 0, so the probabilities are 1/2, as in
    scikit-learn (not 1 / distance, which would be infinite)."""
    X = np.array([[0.0, 0.0], [0.0, 0.0], [0.3, 0.1], [0.2, -0.4], [1.0, 1.5], [-0.7, 0.25]])
    y = np.array([0, 1, 1, 1, 2, 0])
    for algorithm in ("kd_tree", "brute"):
        est = nb.KNeighborsClassifier(n_neighbors=4, weights="distance", algorithm=algorithm).fit(X, y)
        cm = emlearn_gen.convert(est)
        query = np.zeros((1, 2))
        np.testing.assert_array_equal(cm.predict_proba(query), est.predict_proba(query))
        np.testing.assert_array_equal(cm.predict_proba(query), [[0.5, 0.5, 0.0]])
        assert cm.predict(query)[0] == est.predict(query)[0] == 0  # the tie goes to the first class
    reg = nb.KNeighborsRegressor(n_neighbors=4, weights="distance").fit(X, y.astype(float))
    assert emlearn_gen.convert(reg).predict(np.zeros((1, 2)))[0] == reg.predict(np.zeros((1, 2)))[0] == 0.5


def test_tied_votes_go_to_the_lowest_class_index(data):
    X, y = data
    est = nb.KNeighborsClassifier(n_neighbors=2).fit(X[40:], y[40:])
    cm = emlearn_gen.convert(est)
    proba = est.predict_proba(X[:40])
    tied = np.flatnonzero(proba.max(axis=1) == 0.5)
    assert tied.size, "the data set has no row whose two neighbours disagree"
    np.testing.assert_array_equal(cm.predict(X[:40]), est.predict(X[:40]))


@pytest.mark.parametrize("p,noun", [(1, "manhattan distance"), (2, "euclidean distance"),
                                    (np.inf, "chebyshev distance"), (1.5, "minkowski p=1.5 distance")])
def test_minkowski_powers_map_to_their_metric(data, p, noun):
    X, y = data
    est = nb.KNeighborsRegressor(n_neighbors=3, p=p, weights="distance").fit(X[40:], X[40:, 1])
    cm = emlearn_gen.convert(est)
    assert noun in cm.to_source()
    assert_matches_sklearn(cm, est, X[:40])


def test_local_outlier_factor_needs_novelty(data):
    X, _ = data
    est = nb.LocalOutlierFactor(n_neighbors=5).fit(X)
    with pytest.raises(ValueError, match="novelty=True"):
        emlearn_gen.convert(est)


@pytest.mark.parametrize("make,match", [
    (lambda: nb.KNeighborsClassifier(metric="cosine"), "metric 'cosine'"),
    (lambda: nb.KNeighborsClassifier(weights=lambda d: d), "weights="),
])
def test_unsupported_settings_are_refused_clearly(data, make, match):
    X, y = data
    est = make()
    try:
        est.fit(X, y)
    except (ValueError, TypeError):
        pytest.skip("scikit-learn itself refuses this setting")
    with pytest.raises(ValueError, match=match):
        emlearn_gen.convert(est)


def test_k_above_the_stored_rows_and_absurd_scratch_are_refused(data):
    X, y = data
    est = nb.KNeighborsClassifier(n_neighbors=30).fit(X[:20], y[:20])
    with pytest.raises(ValueError, match="n_neighbors=30 for 20 stored rows"):
        emlearn_gen.convert(est)
    big = nb.KNeighborsRegressor(n_neighbors=600).fit(np.random.default_rng(0).normal(size=(700, 2)), np.zeros(700))
    with pytest.raises(ValueError, match="lower n_neighbors"):
        emlearn_gen.convert(big)


def test_int16_storage_halves_the_rows_and_reports_its_agreement(data):
    X, y = data
    est = nb.KNeighborsClassifier(n_neighbors=5, weights="distance").fit(X[40:], y[40:])
    cm32 = emlearn_gen.convert(est)
    cm16 = emlearn_gen.convert(est, dtype="int16", calibration=X[:40])
    report = cm16.report
    assert report["measured"] and report["calibration_rows"] == 40
    agreement = np.mean(cm16.predict(X[:40]) == cm32.predict(X[:40]))
    assert report["label_agreement"] == agreement
    diff = np.abs(cm16.predict_proba(X[:40]) - cm32.predict_proba(X[:40])).max()
    assert report["max_output_difference"] == pytest.approx(diff)
    source16, source32 = cm16.to_source(), cm32.to_source()
    assert "as float32: 1280 bytes of flash" in source32  # 80 rows of 4 float32
    assert "as int16: 672 bytes of flash" in source16  # 80 rows of 4 int16, a scale and offset per feature
    assert "labels agree with float32 storage on" in source16
    assert_matches_sklearn(cm16, est, X[:40])


def test_int16_without_calibration_warns_and_float32_refuses_calibration(data):
    X, y = data
    est = nb.KNeighborsRegressor().fit(X[40:], X[40:, 0])
    with pytest.warns(UserWarning, match="no calibration data") as caught:
        cm = emlearn_gen.convert(est, dtype="int16")
    assert caught[0].filename == __file__  # it points at the call of convert()
    assert cm.report == {"points": "int16", "calibration_rows": 0, "measured": False}
    with pytest.raises(ValueError, match="only with dtype='int16'"):
        emlearn_gen.convert(est, calibration=X[:10])
    centroid = nb.NearestCentroid().fit(X, y)
    with pytest.raises(ValueError, match="NearestCentroid keeps one centroid per class"):
        emlearn_gen.convert(centroid, dtype="int16")
