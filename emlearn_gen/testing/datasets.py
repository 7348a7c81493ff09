"""Data sets of the test catalog: scikit-learn's bundled data sets and
synthetic sets built to stress exactness (extreme magnitudes, constant
features, inputs exactly on thresholds, missing values)."""

from __future__ import annotations

from typing import Callable, Dict, Tuple

import numpy as np
from sklearn import datasets

Data = Tuple[np.ndarray, np.ndarray]


def _with_nan(X: np.ndarray, rate: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = X.astype(np.float64, copy=True)
    X[rng.random(X.shape) < rate] = np.nan
    return X


def _extreme_classification() -> Data:
    """Features of huge and tiny magnitude next to ordinary and constant ones."""
    X, y = datasets.make_classification(
        n_samples=600, n_features=8, n_informative=5, n_classes=3, random_state=3
    )
    X[:, 0] *= 1e30
    X[:, 1] *= 1e-30
    X[:, 2] = 7.0  # constant
    X[:, 3] = np.round(X[:, 3] * 4) / 4  # few distinct values: many exact ties
    # Large enough to need the float32 exponent range, small enough that
    # scikit-learn's own float32 sum over X during fit does not overflow.
    X[:, 4] *= 3e35 / np.abs(X[:, 4]).max()
    return X, y


def _extreme_regression() -> Data:
    X, y = datasets.make_regression(n_samples=500, n_features=6, n_targets=2, noise=1.0, random_state=4)
    X[:, 0] *= 1e25
    X[:, 1] *= 1e-25
    X[:, 2] = -3.0
    return X, y * 1e3


#: Windows of the synthetic activity set: 32 samples of 3 axes (small
#: enough for AVR: 384 bytes a window).
ACTIVITY_SAMPLES = 32
ACTIVITY_CHANNELS = 3
#: Their sample rate, Hz.
ACTIVITY_RATE = 25.0
ACTIVITY_CLASSES = ("idle", "walking", "running")


def activity_windows(n_windows: int = 360, n_samples: int = ACTIVITY_SAMPLES, seed: int = 7) -> Data:
    """Accelerometer-like windows (in g, 25 Hz): ``X`` of shape
    (n_windows, n_samples * 3), samples-major (x[s * 3 + c]), ``y`` the
    activity index of ACTIVITY_CLASSES. Idle is gravity on the z axis and
    sensor noise; walking a ~2 Hz sway of 0.3 g; running a ~3 Hz bounce of
    1 g: each axis a sinusoid of its own phase and jittered frequency and
    amplitude, plus noise. Seeded: the same windows on every call."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_windows) % len(ACTIVITY_CLASSES)
    rng.shuffle(y)
    t = np.arange(n_samples) / ACTIVITY_RATE
    frequency = np.array([0.0, 2.0, 3.0])[y] * rng.uniform(0.8, 1.2, n_windows)
    amplitude = np.array([0.0, 0.3, 1.0])[y] * rng.uniform(0.7, 1.3, n_windows)
    noise = np.array([0.01, 0.05, 0.1])[y]
    gravity = np.array([0.0, 0.0, 1.0])
    phase = rng.uniform(0.0, 2 * np.pi, (n_windows, 1, ACTIVITY_CHANNELS))
    axis_gain = rng.uniform(0.3, 1.0, (n_windows, 1, ACTIVITY_CHANNELS))
    wave = np.sin(2 * np.pi * frequency[:, None, None] * t[None, :, None] + phase)
    W = gravity + amplitude[:, None, None] * axis_gain * wave
    W = W + noise[:, None, None] * rng.standard_normal(W.shape)
    return W.reshape(n_windows, n_samples * ACTIVITY_CHANNELS), y


def _binary_digits() -> Data:
    """Digits with each pixel 0 or 1 (above half intensity): binary features,
    as BernoulliNB without binarize expects."""
    X, y = datasets.load_digits(return_X_y=True)
    return (X > 8).astype(np.float64), y


def _float32(load: Callable[[], Data]) -> Callable[[], Data]:
    """``load``'s data set with X rounded to float32: models that decide on
    float64 X (HistGradientBoosting) see the very inputs a device sees."""

    def loaded() -> Data:
        X, y = load()
        return np.asarray(X, dtype=np.float32).astype(np.float64), y

    return loaded


def _categorical(target: str) -> Data:
    """Two categorical columns among numeric ones: column 0 with categories
    that are not 0..n-1 (negative, fractional, sparse) and NaN, column 2 with
    integer codes 0..11 and no NaN; numeric columns 1 and 3 (with NaN) and 4
    (few distinct values). ``target``: "classes" (three), "binary" or
    "positive" (a positive regression target)."""
    rng = np.random.default_rng(7)
    n = 700
    levels = np.array([-2.0, 0.0, 1.0, 3.0, 7.5, 100.0])
    X = np.empty((n, 5))
    X[:, 0] = levels[rng.integers(0, levels.size, n)]
    X[rng.random(n) < 0.1, 0] = np.nan
    X[:, 1] = rng.normal(size=n)
    X[:, 2] = rng.integers(0, 12, n)
    X[:, 3] = rng.normal(size=n)
    X[rng.random(n) < 0.15, 3] = np.nan
    X[:, 4] = rng.integers(0, 5, n)
    X = X.astype(np.float32).astype(np.float64)
    c0 = np.nan_to_num(X[:, 0], nan=1.0)
    score = np.isin(c0, [0.0, 7.5]) * 1.5 + (X[:, 2] % 3 == 0) * 1.2 + X[:, 1] + 0.3 * X[:, 4]
    score += rng.normal(scale=0.3, size=n)
    if target == "positive":
        return X, np.exp(score / 2)
    if target == "binary":
        return X, (score > np.median(score)).astype(int)
    return X, np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))


DATASETS: Dict[str, Callable[[], Data]] = {
    "iris": lambda: datasets.load_iris(return_X_y=True),
    "wine": lambda: datasets.load_wine(return_X_y=True),
    "breast_cancer": lambda: datasets.load_breast_cancer(return_X_y=True),
    "digits": lambda: datasets.load_digits(return_X_y=True),
    "diabetes": lambda: datasets.load_diabetes(return_X_y=True),
    "linnerud": lambda: datasets.load_linnerud(return_X_y=True),
    "synthetic_classification": lambda: datasets.make_classification(
        n_samples=800, n_features=20, n_informative=10, n_classes=4, random_state=1
    ),
    "synthetic_regression": lambda: datasets.make_regression(
        n_samples=800, n_features=20, noise=5.0, random_state=2
    ),
    "extreme_classification": _extreme_classification,
    "binary_digits": _binary_digits,
    "extreme_regression": _extreme_regression,
    "nan_classification": lambda: (
        _with_nan(datasets.load_wine(return_X_y=True)[0], 0.15, 5),
        datasets.load_wine(return_X_y=True)[1],
    ),
    # y is an indicator matrix: one column per label (multi-label classifiers).
    "multilabel": lambda: datasets.make_multilabel_classification(
        n_samples=400, n_features=12, n_classes=4, random_state=7
    ),
    "nan_regression": lambda: (
        _with_nan(datasets.load_diabetes(return_X_y=True)[0], 0.15, 6),
        datasets.load_diabetes(return_X_y=True)[1],
    ),
    # X exactly float32 (models deciding on float64 X).
    "f32_breast_cancer": _float32(lambda: datasets.load_breast_cancer(return_X_y=True)),
    "f32_wine": _float32(lambda: datasets.load_wine(return_X_y=True)),
    "f32_diabetes": _float32(lambda: datasets.load_diabetes(return_X_y=True)),
    "f32_synthetic_classification": _float32(lambda: datasets.make_classification(
        n_samples=800, n_features=20, n_informative=10, n_classes=4, random_state=1
    )),
    "f32_nan_classification": _float32(lambda: (
        _with_nan(datasets.load_wine(return_X_y=True)[0], 0.15, 5),
        datasets.load_wine(return_X_y=True)[1],
    )),
    "f32_nan_regression": _float32(lambda: (
        _with_nan(datasets.load_diabetes(return_X_y=True)[0], 0.15, 6),
        datasets.load_diabetes(return_X_y=True)[1],
    )),
    "activity_windows": activity_windows,
    "categorical_classification": lambda: _categorical("classes"),
    "categorical_binary": lambda: _categorical("binary"),
    "categorical_regression": lambda: _categorical("positive"),
    # Small continuous sets for nearest-neighbour models, which keep their
    # training rows: held-out examples fit on the 60 rows after the first
    # 160 and evaluate those 160 (no distance ties by construction).
    "neighbors_classification": lambda: datasets.make_classification(
        n_samples=220, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
        n_clusters_per_class=1, random_state=3
    ),
    "neighbors_binary": lambda: datasets.make_classification(
        n_samples=220, n_features=3, n_informative=2, n_redundant=0, n_classes=2, random_state=5
    ),
    "neighbors_regression": lambda: datasets.make_regression(
        n_samples=220, n_features=4, noise=5.0, random_state=3
    ),
    "neighbors_multioutput": lambda: datasets.make_regression(
        n_samples=220, n_features=3, n_targets=2, noise=2.0, random_state=4
    ),
}

CLASSIFICATION_SETS = [
    "iris", "wine", "breast_cancer", "digits", "synthetic_classification",
    "extreme_classification", "nan_classification",
]
REGRESSION_SETS = [
    "diabetes", "linnerud", "synthetic_regression", "extreme_regression", "nan_regression",
]


def probe_inputs(model: object, X: np.ndarray, n_base: int = 20, seed: int = 0) -> np.ndarray:
    """Test inputs that sit exactly on, just below and just above every split
    threshold of a tree model (in float32), plus NaN, on top of rows of X.

    These decide whether thresholds are compared the way scikit-learn does.
    """
    rng = np.random.default_rng(seed)
    # Forests hold a list of trees, gradient boosting a (stages, classes) array.
    members = list(np.ravel(np.asarray(getattr(model, "estimators_", [model]), dtype=object)))
    base = X[rng.integers(0, len(X), size=n_base)].astype(np.float32)
    rows = [base]
    for tree in members[:10]:
        t = tree.tree_
        inner = np.flatnonzero(t.children_left >= 0)
        for node in inner[:60]:
            f, thr = int(t.feature[node]), float(t.threshold[node])
            nearest = np.float32(thr)
            below = np.nextafter(nearest, np.float32(-np.inf))
            above = np.nextafter(nearest, np.float32(np.inf))
            for value in (nearest, below, above, np.float32(np.nan)):
                if np.isinf(value):
                    continue  # scikit-learn rejects infinite inputs
                row = base[rng.integers(0, n_base)].copy()
                row[f] = value
                rows.append(row[None, :])
    return np.concatenate(rows).astype(np.float64)
