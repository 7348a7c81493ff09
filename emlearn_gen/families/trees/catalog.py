"""Trees in the shared test catalog: every estimator class, on data that
exercises it (NaN inputs for the "nan_" sets; probe rows add NaN and inputs
on, just below and just above every threshold)."""

from __future__ import annotations

from typing import Any, List

import numpy as np
from sklearn.ensemble import (
    AdaBoostClassifier,
    AdaBoostRegressor,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor

from ...signal import Hysteresis, MajorityVote, WindowFeatures

from ...testing.catalog import Example
from ...testing.datasets import probe_inputs
from .hgb import input_columns


def _probe(est, X):
    return probe_inputs(est, X, n_base=10)


def _unseen_categories(known: np.ndarray) -> List[float]:
    """Values no category equals: around and between the known ones."""
    values = [known[0] - 1, known[-1] + 1, known[0] + 0.5, -0.0, 0.25]
    values += [(a + b) / 2 for a, b in zip(known[:-1], known[1:])][:4]
    return [v for v in np.float32(values).tolist() if v not in set(known.tolist())]


def _hgb_probe(est: Any, X: np.ndarray) -> np.ndarray:
    """HistGradientBoosting's probe: inputs on, just below and just above
    (in float32) the thresholds of the first splits, NaN, and on
    categorical columns every known category, unseen ones and NaN."""
    rng = np.random.default_rng(0)
    n_features = X.shape[1]
    column_of, categories = input_columns(est, n_features)
    base = X[rng.integers(0, len(X), size=10)].astype(np.float32)
    values: List[tuple] = []
    for column, known in enumerate(categories):
        if known is not None:
            values += [(column, v) for v in list(known) + _unseen_categories(known) + [np.nan]]
    for iteration in est._predictors[:8]:
        for predictor in iteration:
            nodes = predictor.nodes
            for node in np.flatnonzero(~nodes["is_leaf"].astype(bool) & ~nodes["is_categorical"].astype(bool))[:30]:
                nearest = np.float32(nodes["num_threshold"][node])
                if not np.isfinite(nearest):
                    continue
                column = int(column_of[nodes["feature_idx"][node]])
                for value in (nearest, np.nextafter(nearest, np.float32(-np.inf)),
                              np.nextafter(nearest, np.float32(np.inf)), np.nan):
                    values.append((column, value))
    rows = [base]
    for column, value in values:
        row = base[rng.integers(0, len(base))].copy()
        row[column] = value
        rows.append(row[None, :])
    return np.concatenate(rows).astype(np.float64)


EXAMPLES = (
    Example("DecisionTreeClassifier", lambda: DecisionTreeClassifier(random_state=0), "nan_classification", _probe),
    Example("DecisionTreeRegressor", lambda: DecisionTreeRegressor(max_depth=10, random_state=0), "nan_regression", _probe),
    # Trees of a few splits, which the header writes out as if/else code
    # (inline.py): float64 and float32 sums, NaN routing learned from data.
    Example("DecisionTreeClassifier-iris-depth3", lambda: DecisionTreeClassifier(max_depth=3, random_state=0),
            "iris", _probe),
    Example("DecisionTreeClassifier-nan-depth2", lambda: DecisionTreeClassifier(max_depth=2, random_state=0),
            "nan_classification", _probe, options={"dtype": "float32"}),
    Example("DecisionTreeRegressor-nan-depth2", lambda: DecisionTreeRegressor(max_depth=2, random_state=0),
            "nan_regression", _probe),
    Example("ExtraTreeClassifier", lambda: ExtraTreeClassifier(random_state=0), "breast_cancer", _probe),
    Example("ExtraTreeRegressor", lambda: ExtraTreeRegressor(random_state=0), "linnerud", _probe),
    Example(
        "RandomForestClassifier",
        lambda: RandomForestClassifier(n_estimators=8, max_depth=8, random_state=0),
        "nan_classification",
        _probe,
    ),
    # Full depth: every leaf pure, so the forest counts class votes; NaN
    # inputs and an odd number of trees (shares that do not divide evenly).
    Example(
        "RandomForestClassifier-votes",
        lambda: RandomForestClassifier(n_estimators=7, random_state=0),
        "nan_classification",
        _probe,
    ),
    Example(
        "RandomForestRegressor",
        lambda: RandomForestRegressor(n_estimators=8, max_depth=8, random_state=0),
        "diabetes",
        _probe,
    ),
    Example(
        "ExtraTreesClassifier",
        lambda: ExtraTreesClassifier(n_estimators=8, max_depth=8, random_state=0),
        "synthetic_classification",
        _probe,
    ),
    Example(
        "ExtraTreesRegressor",
        lambda: ExtraTreesRegressor(n_estimators=6, max_depth=8, random_state=0),
        "extreme_regression",
        _probe,
    ),
    # Anomaly detection: "auto" and a float contamination, trees on a part of
    # the samples and of the features, NaN inputs.
    Example("IsolationForest", lambda: IsolationForest(n_estimators=20, random_state=0), "nan_classification", _probe),
    Example(
        "IsolationForest-contamination",
        lambda: IsolationForest(n_estimators=15, contamination=0.1, max_samples=0.5, random_state=1),
        "breast_cancer",
        _probe,
    ),
    Example(
        "IsolationForest-max_features",
        lambda: IsolationForest(n_estimators=12, max_features=0.5, contamination=0.05, random_state=2),
        "synthetic_classification",
        _probe,
    ),
    # Streams (convert's postprocess): the rows in order, one stream. Wine's
    # rows come sorted by class, so a vote follows each change of class; the
    # anomaly score switches with hysteresis. The activity windows: window
    # features, a scaler and a forest, then the vote; 64 rows, so that AVR
    # holds the whole stream in one image.
    Example("RandomForestClassifier-MajorityVote",
            lambda: RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0), "wine",
            options={"postprocess": MajorityVote(5)}),
    Example("IsolationForest-Hysteresis", lambda: IsolationForest(n_estimators=15, random_state=0), "wine",
            options={"postprocess": Hysteresis(-0.01, 0.01)}),
    Example("Pipeline-WindowFeatures-forest-MajorityVote",
            lambda: make_pipeline(WindowFeatures(32, 3), StandardScaler(),
                                  RandomForestClassifier(n_estimators=8, max_depth=5, random_state=0)),
            "activity_windows", options={"postprocess": MajorityVote(3)}, n_eval=64),
    # Gradient boosting: binary, multi-class, the exponential loss, init
    # "zero", subsampling; every regression loss.
    Example("GradientBoostingClassifier-binary",
            lambda: GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0), "breast_cancer", _probe),
    Example("GradientBoostingClassifier-multiclass",
            lambda: GradientBoostingClassifier(n_estimators=15, max_depth=3, subsample=0.7, random_state=0),
            "wine", _probe),
    Example("GradientBoostingClassifier-exponential",
            lambda: GradientBoostingClassifier(loss="exponential", n_estimators=20, init="zero", random_state=1),
            "breast_cancer", _probe),
    # AdaBoost (SAMME) over decision stumps and deeper trees.
    Example("AdaBoostClassifier-binary", lambda: AdaBoostClassifier(n_estimators=25, random_state=0),
            "breast_cancer", _probe),
    Example("AdaBoostClassifier-multiclass",
            lambda: AdaBoostClassifier(DecisionTreeClassifier(max_depth=3), n_estimators=15, random_state=0),
            "wine", _probe),
    Example("AdaBoostRegressor", lambda: AdaBoostRegressor(DecisionTreeRegressor(max_depth=4), n_estimators=20,
                                                            random_state=0), "diabetes", _probe),
    Example("AdaBoostRegressor-square", lambda: AdaBoostRegressor(n_estimators=12, loss="square", random_state=1),
            "synthetic_regression", _probe),
    *(
        Example(f"GradientBoostingRegressor-{loss}",
                (lambda loss=loss: GradientBoostingRegressor(loss=loss, n_estimators=25, max_depth=3, random_state=0)),
                "diabetes", _probe)
        for loss in ("squared_error", "absolute_error", "huber", "quantile")
    ),
    # Histogram gradient boosting: binary (class 1 where raw > 0), multi-class,
    # early stopping, NaN, categorical features (by index and by mask, with
    # unseen categories and NaN in the probe), interaction and monotonic
    # constraints, every regression loss. Data sets are exactly float32:
    # these models decide on float64 inputs.
    Example("HistGradientBoostingClassifier-binary",
            lambda: HistGradientBoostingClassifier(max_iter=25, max_leaf_nodes=15, early_stopping=False,
                                                   random_state=0), "f32_breast_cancer", _hgb_probe, n_eval=240),
    Example("HistGradientBoostingClassifier-multiclass",
            lambda: HistGradientBoostingClassifier(max_iter=10, max_leaf_nodes=8, early_stopping=False,
                                                   random_state=0), "f32_wine", _hgb_probe, n_eval=240),
    Example("HistGradientBoostingClassifier-early_stopping",
            lambda: HistGradientBoostingClassifier(max_iter=200, max_leaf_nodes=8, early_stopping=True,
                                                   n_iter_no_change=3, learning_rate=0.3, random_state=0),
            "f32_synthetic_classification", _hgb_probe, n_eval=240),
    Example("HistGradientBoostingClassifier-nan",
            lambda: HistGradientBoostingClassifier(max_iter=10, max_leaf_nodes=8, early_stopping=False,
                                                   random_state=0), "f32_nan_classification", _hgb_probe, n_eval=240),
    Example("HistGradientBoostingClassifier-categorical",
            lambda: HistGradientBoostingClassifier(max_iter=12, max_leaf_nodes=10, categorical_features=[0, 2],
                                                   interaction_cst=[[0, 1, 2], [2, 3, 4]], early_stopping=False,
                                                   random_state=0),
            "categorical_classification", _hgb_probe, n_eval=240),
    Example("HistGradientBoostingClassifier-categorical_mask",
            lambda: HistGradientBoostingClassifier(
                max_iter=15, max_leaf_nodes=10, categorical_features=[True, False, True, False, False],
                monotonic_cst=[0, 1, 0, 0, 1], early_stopping=False, random_state=0),
            "categorical_binary", _hgb_probe, n_eval=240),
    *(
        Example(f"HistGradientBoostingRegressor-{loss}",
                (lambda loss=loss: HistGradientBoostingRegressor(loss=loss, quantile=0.7 if loss == "quantile" else None,
                                                                 max_iter=20, max_leaf_nodes=10,
                                                                 early_stopping=False, random_state=0)),
                "f32_diabetes", _hgb_probe, n_eval=240)
        for loss in ("squared_error", "absolute_error", "gamma", "poisson", "quantile")
    ),
    Example("HistGradientBoostingRegressor-nan",
            lambda: HistGradientBoostingRegressor(max_iter=20, max_leaf_nodes=10, early_stopping=False,
                                                  monotonic_cst=[1, 0, 1] + [0] * 7, random_state=0),
            "f32_nan_regression", _hgb_probe, n_eval=240),
    Example("HistGradientBoostingRegressor-categorical",
            lambda: HistGradientBoostingRegressor(
                loss="poisson", max_iter=100, max_leaf_nodes=10, categorical_features=[True, False, True, False, False],
                early_stopping=True, validation_fraction=0.2, n_iter_no_change=2, random_state=0),
            "categorical_regression", _hgb_probe, n_eval=240),
)
