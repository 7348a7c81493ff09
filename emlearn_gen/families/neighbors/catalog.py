"""Nearest-neighbour models in the shared test catalog: every estimator,
metric (euclidean, manhattan, chebyshev, minkowski p=3 and p=1.5), weights
(uniform, distance, and distance with rows at distance exactly 0), radius
outliers (NaN, an outlier label), NearestCentroid with and without priors,
LocalOutlierFactor, multi-output regression and int16 storage.

Training sets are small (60 rows of 3-4 continuous features, fitted on the
rows after the evaluated ones: held_out), so the models fit the emulated
devices and no distances tie by construction."""

from __future__ import annotations

import numpy as np
from sklearn import neighbors as nb

from ...testing.catalog import Example
from ...testing.datasets import DATASETS

N_EVAL = 160


def _training_rows(est, X):
    """Rows of the training set itself: distances of exactly 0 (distance
    weights then count only those rows)."""
    return X[N_EVAL : N_EVAL + 12]


def _far(est, X):
    """Rows far from the training data (no neighbour within a radius: NaN
    or the outlier label), and training rows."""
    return np.concatenate([X[:6] * 25.0 + 40.0, X[N_EVAL : N_EVAL + 6]])


def _calibration():
    return DATASETS["neighbors_classification"]()[0][:N_EVAL]


def _held_out(key, make, data, probe=None, **options):
    return Example(key, make, data, probe, options=options, n_eval=N_EVAL, held_out=True)


EXAMPLES = (
    _held_out("KNeighborsClassifier", lambda: nb.KNeighborsClassifier(), "neighbors_classification"),
    _held_out("KNeighborsClassifier-binary-k4", lambda: nb.KNeighborsClassifier(n_neighbors=4),
              "neighbors_binary", _training_rows),
    # kd_tree: scikit-learn's distance between equal rows is exactly 0.
    _held_out("KNeighborsClassifier-distance", lambda: nb.KNeighborsClassifier(
        n_neighbors=7, weights="distance", algorithm="kd_tree"), "neighbors_classification", _training_rows),
    # brute: scikit-learn's euclidean through ||x||^2 - 2 x.y + ||y||^2.
    _held_out("KNeighborsClassifier-brute-distance", lambda: nb.KNeighborsClassifier(
        n_neighbors=6, weights="distance", algorithm="brute"), "neighbors_classification"),
    _held_out("KNeighborsClassifier-manhattan", lambda: nb.KNeighborsClassifier(
        n_neighbors=5, metric="manhattan", weights="distance"), "neighbors_classification", _training_rows),
    _held_out("KNeighborsClassifier-chebyshev", lambda: nb.KNeighborsClassifier(
        n_neighbors=3, metric="chebyshev"), "neighbors_classification"),
    _held_out("KNeighborsClassifier-minkowski3", lambda: nb.KNeighborsClassifier(
        n_neighbors=5, p=3, weights="distance"), "neighbors_classification"),
    _held_out("KNeighborsClassifier-int16", lambda: nb.KNeighborsClassifier(n_neighbors=5, weights="distance"),
              "neighbors_classification", dtype="int16", calibration=_calibration()),
    _held_out("KNeighborsRegressor", lambda: nb.KNeighborsRegressor(), "neighbors_regression"),
    _held_out("KNeighborsRegressor-distance", lambda: nb.KNeighborsRegressor(
        n_neighbors=4, weights="distance", algorithm="ball_tree"), "neighbors_regression", _training_rows),
    _held_out("KNeighborsRegressor-minkowski1.5", lambda: nb.KNeighborsRegressor(
        n_neighbors=3, p=1.5, weights="distance"), "neighbors_regression"),
    _held_out("KNeighborsRegressor-multioutput", lambda: nb.KNeighborsRegressor(n_neighbors=5),
              "neighbors_multioutput"),
    _held_out("RadiusNeighborsClassifier", lambda: nb.RadiusNeighborsClassifier(radius=4.0),
              "neighbors_classification"),
    _held_out("RadiusNeighborsClassifier-outliers", lambda: nb.RadiusNeighborsClassifier(
        radius=1.2, weights="distance", outlier_label="most_frequent", algorithm="kd_tree"),
        "neighbors_classification", _far),
    _held_out("RadiusNeighborsRegressor", lambda: nb.RadiusNeighborsRegressor(radius=2.5), "neighbors_regression",
              _far),
    _held_out("RadiusNeighborsRegressor-distance", lambda: nb.RadiusNeighborsRegressor(
        radius=3.0, weights="distance", metric="manhattan", algorithm="ball_tree"), "neighbors_multioutput", _far),
    _held_out("NearestCentroid", lambda: nb.NearestCentroid(), "neighbors_classification"),
    _held_out("NearestCentroid-binary", lambda: nb.NearestCentroid(), "neighbors_binary"),
    _held_out("NearestCentroid-priors", lambda: nb.NearestCentroid(priors=[0.2, 0.3, 0.5], shrink_threshold=0.2),
              "neighbors_classification"),
    _held_out("NearestCentroid-manhattan", lambda: nb.NearestCentroid(metric="manhattan"),
              "neighbors_classification"),
    _held_out("NearestCentroid-manhattan-priors", lambda: nb.NearestCentroid(metric="manhattan", priors="empirical"),
              "neighbors_classification"),
    _held_out("LocalOutlierFactor", lambda: nb.LocalOutlierFactor(n_neighbors=10, novelty=True),
              "neighbors_classification", _far),
    _held_out("LocalOutlierFactor-manhattan", lambda: nb.LocalOutlierFactor(
        n_neighbors=6, novelty=True, metric="manhattan", contamination=0.1), "neighbors_regression"),
    _held_out("LocalOutlierFactor-int16", lambda: nb.LocalOutlierFactor(n_neighbors=8, novelty=True),
              "neighbors_classification", _training_rows, dtype="int16", calibration=_calibration()),
)
