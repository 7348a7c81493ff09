"""Data sets and the models every tool is compared on."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable, Tuple

import numpy as np
from sklearn.covariance import EllipticEnvelope
from sklearn.datasets import load_digits, load_iris, make_blobs, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier


@dataclass(frozen=True)
class Dataset:
    name: str
    X_train: np.ndarray  # float32: what every tool sees
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    integer_valued: bool  # every feature takes integer values (thresholds repeat)
    description: str


def _split(name: str, X: np.ndarray, y: np.ndarray, integer_valued: bool, description: str) -> Dataset:
    X = np.asarray(X, dtype=np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    return Dataset(name, X_train, y_train, X_test, y_test, integer_valued, description)


def load_dataset(name: str) -> Dataset:
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        return _split(name, X, y, True, "sklearn digits: 1797 x 64, integer pixels 0..16, 10 classes")
    if name == "iris":
        X, y = load_iris(return_X_y=True)
        return _split(name, X, y, False, "sklearn iris: 150 x 4, lengths in cm to one decimal, 3 classes")
    if name == "digits400":
        # The first 400 digits: nearest-neighbour models keep their training
        # rows (300 x 64 here: 77 KB as float32, 38 KB as int16).
        X, y = load_digits(return_X_y=True)
        return _split(name, X[:400], y[:400], True, "sklearn digits, first 400: 400 x 64, integer pixels 0..16, "
                      "10 classes")
    if name == "synth60":
        X, y = make_classification(
            n_samples=2000, n_features=60, n_informative=30, n_redundant=10,
            n_classes=5, n_clusters_per_class=2, flip_y=0.02, random_state=0,
        )
        return _split(name, X, y, False, "make_classification: 2000 x 60 continuous, 5 classes")
    if name == "synth60b":
        X, y = make_classification(
            n_samples=2000, n_features=60, n_informative=30, n_redundant=10,
            n_classes=2, n_clusters_per_class=2, flip_y=0.02, random_state=0,
        )
        return _split(name, X, y, False, "make_classification: 2000 x 60 continuous, 2 classes")
    if name == "synth60r":
        X, y = make_regression(n_samples=2000, n_features=60, n_informative=20, noise=10.0, random_state=0)
        return _split(name, X, y, False, "make_regression: 2000 x 60 continuous, 1 output")
    if name == "synth20nan":
        X, y = make_classification(
            n_samples=2000, n_features=20, n_informative=12, n_classes=4, random_state=0,
        )
        X = X * np.linspace(0.5, 50.0, 20) + np.linspace(-20.0, 20.0, 20)  # features of unlike scales
        X[np.random.default_rng(0).random(X.shape) < 0.1] = np.nan
        return _split(name, X, y, False, "make_classification: 2000 x 20 continuous of unlike scales, "
                      "4 classes, 10 % of values missing (NaN)")
    if name == "outliers16":
        X, y = _blobs_with_outliers()
        return _split(name, X, y, False, "make_blobs: 1800 inliers in 3 clusters + 200 uniform outliers, "
                      "16 continuous features; y = +1 inlier, -1 outlier")
    raise KeyError(name)


def _blobs_with_outliers() -> Tuple[np.ndarray, np.ndarray]:
    """Inliers in three Gaussian clusters (centres in [-10, 10]) and 10 %
    outliers drawn uniformly from a wider box, shuffled; y is the truth
    (+1 inlier, -1 outlier), as IsolationForest.predict labels."""
    inliers, _ = make_blobs(n_samples=1800, n_features=16, centers=3, cluster_std=1.5, random_state=0)
    rng = np.random.default_rng(0)
    outliers = rng.uniform(-15.0, 15.0, size=(200, 16))
    X = np.vstack([inliers, outliers])
    y = np.concatenate([np.ones(1800, dtype=np.int64), -np.ones(200, dtype=np.int64)])
    order = rng.permutation(X.shape[0])
    return X[order], y[order]


@dataclass(frozen=True)
class ModelSpec:
    key: str
    dataset: str
    make: Callable[[], Any]
    family: str  # "trees", "linear", "boosting", "anomaly", "mlp", "naive_bayes", "svm", "neighbors", "mixture", "pipeline"
    description: str
    in_quick: bool = False
    footprint: bool = True  # measure flash/RAM on the microcontroller targets
    large: bool = False  # part of the conversion/compile-time study
    in_full: bool = True


#: Boosted model and the forest of its shape: as many trees, as deep, on the
#: same data. "Flash per split node in line with forests" compares the two.
SHAPE_TWINS: Tuple[Tuple[str, str], ...] = (
    ("gb20_d3_synth60", "rf100_d3_synth60"),
    ("gbr100_d3_synth60r", "rfr100_d3_synth60r"),
)


def _rf(n: int, depth: Any) -> Callable[[], Any]:
    return lambda: RandomForestClassifier(n_estimators=n, max_depth=depth, random_state=0, n_jobs=1)


def _rfr(n: int, depth: Any) -> Callable[[], Any]:
    return lambda: RandomForestRegressor(n_estimators=n, max_depth=depth, random_state=0, n_jobs=1)


MODELS: Tuple[ModelSpec, ...] = (
    # A very small model: what a tool's fixed code (kernel, soft-float
    # helpers) costs beside its tables ("Fixed code per target").
    ModelSpec("dt3_iris", "iris", lambda: DecisionTreeClassifier(max_depth=3, random_state=0), "trees",
              "DecisionTreeClassifier, max_depth=3", in_quick=True),
    ModelSpec("dt_digits", "digits", lambda: DecisionTreeClassifier(random_state=0), "trees",
              "DecisionTreeClassifier, full depth", in_quick=True),
    ModelSpec("dt_synth60", "synth60", lambda: DecisionTreeClassifier(random_state=0), "trees",
              "DecisionTreeClassifier, full depth"),
    ModelSpec("rf10_d10_digits", "digits", _rf(10, 10), "trees",
              "RandomForestClassifier, 10 trees, max_depth=10", in_quick=True),
    ModelSpec("rf10_d10_synth60", "synth60", _rf(10, 10), "trees",
              "RandomForestClassifier, 10 trees, max_depth=10", in_quick=True),
    ModelSpec("rfr10_d10_synth60r", "synth60r", _rfr(10, 10), "trees",
              "RandomForestRegressor, 10 trees, max_depth=10"),
    # The quick run's regressor is shallower: emlearn's regressor conversion is
    # quadratic in leaves and would dominate the CI time.
    ModelSpec("rfr10_d8_synth60r", "synth60r", _rfr(10, 8), "trees",
              "RandomForestRegressor, 10 trees, max_depth=8", in_quick=True, in_full=False),
    ModelSpec("rf100_full_digits", "digits", _rf(100, None), "trees",
              "RandomForestClassifier, 100 trees, unlimited depth", large=True),
    ModelSpec("rf100_full_synth60", "synth60", _rf(100, None), "trees",
              "RandomForestClassifier, 100 trees, unlimited depth", large=True),
    ModelSpec("rf500_full_synth60", "synth60", _rf(500, None), "trees",
              "RandomForestClassifier, 500 trees, unlimited depth", footprint=False, large=True),
    # Linear models, fitted on the raw features as the other models are (no
    # scaler: every tool would have to carry it). Their fidelity is judged
    # against the float32 numeric contract (run.py), not 100% by construction.
    ModelSpec("logreg_digits", "digits", lambda: LogisticRegression(max_iter=1000), "linear",
              "LogisticRegression, multinomial (softmax), 10 classes", in_quick=True),
    ModelSpec("logreg_synth60b", "synth60b", lambda: LogisticRegression(max_iter=1000), "linear",
              "LogisticRegression, binary (sigmoid)"),
    ModelSpec("linsvc_synth60", "synth60", lambda: LinearSVC(random_state=0), "linear",
              "LinearSVC, one-vs-rest, 5 classes (no predict_proba)"),
    ModelSpec("sgdlog_digits", "digits", lambda: SGDClassifier(loss="log_loss", random_state=0), "linear",
              "SGDClassifier, log_loss, one-vs-rest, 10 classes"),
    ModelSpec("linreg_synth60r", "synth60r", lambda: LinearRegression(), "linear",
              "LinearRegression, 60 features", in_quick=True),
    ModelSpec("gb20_d3_synth60", "synth60",
              lambda: GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0),
              "boosting", "GradientBoostingClassifier, 20 stages x 5 classes, depth 3", in_quick=True),
    ModelSpec("gb100_digits", "digits",
              lambda: GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0),
              "boosting", "GradientBoostingClassifier, 100 stages x 10 classes, depth 3", large=True),
    ModelSpec("gbr100_d3_synth60r", "synth60r",
              lambda: GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0),
              "boosting", "GradientBoostingRegressor, 100 stages, depth 3", in_quick=True),
    # 2,500 trees: conversion and compile time at scale. Full run only: the
    # fit alone takes about a minute on 2 cores (a 500-stage regressor, 9-23 s
    # to fit, would also miss the quick run's 30 s budget per model).
    ModelSpec("gb500_d3_synth60", "synth60",
              lambda: GradientBoostingClassifier(n_estimators=500, max_depth=3, random_state=0),
              "boosting", "GradientBoostingClassifier, 500 stages x 5 classes, depth 3", large=True),
    # Forests of the boosted models' shape (100 trees of depth 3, on the same
    # data): a boosted model's flash per split node is held against theirs
    # (SHAPE_TWINS), since a forest of deep trees shares its leaves' rows
    # where 100 shallow trees cannot.
    ModelSpec("rf100_d3_synth60", "synth60", _rf(100, 3), "trees",
              "RandomForestClassifier, 100 trees, max_depth=3 (gb20_d3_synth60's shape)"),
    ModelSpec("rfr100_d3_synth60r", "synth60r", _rfr(100, 3), "trees",
              "RandomForestRegressor, 100 trees, max_depth=3 (gbr100_d3_synth60r's shape)"),
    ModelSpec("iforest100_outliers16", "outliers16",
              lambda: IsolationForest(n_estimators=100, random_state=0, n_jobs=1),
              "anomaly", "IsolationForest, 100 trees, max_samples='auto' (256)", in_quick=True),
    ModelSpec("mlp_digits", "digits",
              lambda: MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0),
              "mlp", "MLPClassifier, one hidden layer of 32", in_quick=True),
    ModelSpec("gnb_digits", "digits", lambda: GaussianNB(), "naive_bayes", "GaussianNB", in_quick=True),
    ModelSpec("svc_rbf_synth60b", "synth60b", lambda: SVC(), "svm", "SVC, rbf kernel, binary", in_quick=True),
    ModelSpec("svc_rbf_digits", "digits", lambda: SVC(), "svm", "SVC, rbf kernel, 10 classes (45 class pairs)"),
    # Quadratic forms: the blobs of outliers16 are three Gaussian clusters.
    ModelSpec("gmm_full_outliers16", "outliers16",
              lambda: GaussianMixture(3, covariance_type="full", random_state=0), "mixture",
              "GaussianMixture, 3 components, full covariance", in_quick=True),
    ModelSpec("envelope_outliers16", "outliers16", lambda: EllipticEnvelope(random_state=0), "mixture",
              "EllipticEnvelope (robust covariance, Mahalanobis distance)", in_quick=True),
    ModelSpec("knn5_digits400", "digits400", lambda: KNeighborsClassifier(n_neighbors=5), "neighbors",
              "KNeighborsClassifier, k=5, euclidean, 300 training rows of 64 features", in_quick=True),
    ModelSpec("pipe_scale_pca_logreg_digits", "digits",
              lambda: make_pipeline(StandardScaler(), PCA(n_components=20, random_state=0),
                                    LogisticRegression(max_iter=1000)),
              "pipeline", "Pipeline: StandardScaler, PCA (20 components), LogisticRegression", in_quick=True),
    ModelSpec("pipe_impute_scale_rf_synth20nan", "synth20nan",
              lambda: make_pipeline(SimpleImputer(), StandardScaler(),
                                    RandomForestClassifier(n_estimators=10, max_depth=10, random_state=0, n_jobs=1)),
              "pipeline", "Pipeline: SimpleImputer, StandardScaler, RandomForestClassifier (10 trees, depth 10); "
              "the steps fold into the thresholds", in_quick=True),
)

def select(quick: bool, only: Tuple[str, ...] = ()) -> Tuple[ModelSpec, ...]:
    specs = MODELS
    if only:
        unknown = set(only) - {m.key for m in MODELS}
        if unknown:
            raise SystemExit(f"unknown model(s) {sorted(unknown)}; known: {[m.key for m in MODELS]}")
        return tuple(m for m in MODELS if m.key in only)
    if quick:
        return tuple(m for m in specs if m.in_quick)
    return tuple(m for m in specs if m.in_full)


def fit(spec: ModelSpec, data: Dataset) -> Any:
    est = spec.make()
    # Fitted on the same float32 matrix the tools are fed, so that any
    # difference comes from the tools and not from a float64->float32 cast.
    # An MLP that has not fully converged is as good a benchmark subject.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(data.X_train, data.y_train)
    return est


def throughput_rows(data: Dataset, n_rows: int, seed: int = 0) -> np.ndarray:
    """``n_rows`` distinct rows near the test set, for batch throughput.

    Row i is test row ``i % n_test`` with an independent perturbation of
    every feature, so no row repeats and a predictor cannot learn the branch
    sequence of the first copy of the test set (a test set tiled 44 times
    lets scikit-learn's tree-major loop predict its branches perfectly).
    Integer-valued sets (digits) move each feature by -1, 0 or +1, clipped to
    the feature's range in the training set, so rows stay integer-valued and
    in range; continuous sets add Gaussian noise of 5 % of each feature's
    training standard deviation. The rows are float32, as every tool is fed.
    """
    rng = np.random.default_rng(seed)
    base = data.X_test[np.arange(n_rows) % data.X_test.shape[0]].astype(np.float64)
    if data.integer_valued:
        low, high = data.X_train.min(axis=0), data.X_train.max(axis=0)
        rows = np.clip(base + rng.integers(-1, 2, size=base.shape), low, high)
    else:
        rows = base + rng.normal(size=base.shape) * (0.05 * data.X_train.std(axis=0, dtype=np.float64))
    return np.ascontiguousarray(rows, dtype=np.float32)
