"""Trees in the shared test catalog: every estimator class, on data that
exercises it (NaN inputs for the "nan_" sets; probe rows add NaN and inputs
on, just below and just above every threshold)."""

from __future__ import annotations

from sklearn.ensemble import (
    AdaBoostClassifier,
    AdaBoostRegressor,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    ExtraTreesRegressor,
    IsolationForest,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeClassifier, ExtraTreeRegressor

from ...testing.catalog import Example
from ...testing.datasets import probe_inputs


def _probe(est, X):
    return probe_inputs(est, X, n_base=10)


EXAMPLES = (
    Example("DecisionTreeClassifier", lambda: DecisionTreeClassifier(random_state=0), "nan_classification", _probe),
    Example("DecisionTreeRegressor", lambda: DecisionTreeRegressor(max_depth=10, random_state=0), "nan_regression", _probe),
    Example("ExtraTreeClassifier", lambda: ExtraTreeClassifier(random_state=0), "breast_cancer", _probe),
    Example("ExtraTreeRegressor", lambda: ExtraTreeRegressor(random_state=0), "linnerud", _probe),
    Example(
        "RandomForestClassifier",
        lambda: RandomForestClassifier(n_estimators=8, max_depth=8, random_state=0),
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
)
