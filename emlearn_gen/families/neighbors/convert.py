"""scikit-learn nearest-neighbour estimators -> NeighborsModel IR. Reads
fitted attributes only (the stored training rows, their labels or targets,
and what LocalOutlierFactor and NearestCentroid computed at fit time)."""

from __future__ import annotations

from typing import Any, Tuple

import numpy as np
from sklearn import neighbors as nb

from ...core.labels import check_single_output_classes
from .ir import NeighborsModel

SUPPORTED = (
    nb.KNeighborsClassifier,
    nb.KNeighborsRegressor,
    nb.RadiusNeighborsClassifier,
    nb.RadiusNeighborsRegressor,
    nb.NearestCentroid,
    nb.LocalOutlierFactor,
)

_SCIKIT_METRICS = {
    "euclidean": "sq_euclidean",
    "l2": "sq_euclidean",
    "manhattan": "manhattan",
    "cityblock": "manhattan",
    "l1": "manhattan",
    "chebyshev": "chebyshev",
    "infinity": "chebyshev",
    "minkowski": "minkowski",
}


def _metric(est: Any) -> Tuple[str, float]:
    """(ranking metric, minkowski p) of a fitted estimator's effective metric."""
    name = type(est).__name__
    metric = getattr(est, "effective_metric_", None)
    params = dict(getattr(est, "effective_metric_params_", None) or {})
    if params.get("w") is not None:
        raise ValueError(f"{name}: weighted minkowski distances (metric_params w) are not supported")
    if not isinstance(metric, str) or metric not in _SCIKIT_METRICS:
        raise ValueError(
            f"{name} uses metric {metric!r}; emlearn_gen converts euclidean, manhattan, chebyshev and "
            "minkowski (p >= 1) distances"
        )
    if metric != "minkowski":
        return _SCIKIT_METRICS[metric], 2.0
    p = float(params.get("p", 2))
    if p == 1.0:
        return "manhattan", 1.0
    if p == 2.0:
        return "sq_euclidean", 2.0
    if np.isinf(p):
        return "chebyshev", p
    return "minkowski", p


def _fit_rows(est: Any) -> np.ndarray:
    rows = getattr(est, "_fit_X", None)
    if rows is None or not isinstance(rows, np.ndarray):
        raise ValueError(
            f"{type(est).__name__} holds no dense training rows (_fit_X): fit it on a dense array "
            "(metric='precomputed' and sparse training data are not supported)"
        )
    return np.asarray(rows, dtype=np.float64)


def _weighting(est: Any) -> str:
    if est.weights not in ("uniform", "distance", None):
        raise ValueError(
            f"{type(est).__name__}: weights={est.weights!r} is not supported; use 'uniform' or 'distance'"
        )
    return "distance" if est.weights == "distance" else "uniform"


def _classifier(est: Any, kind: str) -> NeighborsModel:
    name = type(est).__name__
    if getattr(est, "outputs_2d_", False):
        raise ValueError(f"{name} fitted on several outputs is not supported; fit one model per output")
    classes = check_single_output_classes(est.classes_, 1, name)
    points = _fit_rows(est)
    metric, power = _metric(est)
    labels = np.asarray(est._y, dtype=np.int64).reshape(-1)
    common = dict(classes=classes, labels=labels, weighting=_weighting(est), metric=metric, power=power)
    if kind == "knn_classifier":
        return NeighborsModel(kind, points.shape[1], points, k=int(est.n_neighbors), **common)
    outlier = None
    if est.outlier_label_ is not None:
        label = est.outlier_label_[0]
        where = np.flatnonzero(np.asarray(est.classes_) == label)
        if where.size != 1:
            raise ValueError(
                f"{name}: outlier_label {label!r} is not one of the classes; scikit-learn then predicts a "
                "label the model has no class for. Give a label among classes_, 'most_frequent', or None"
            )
        outlier = int(where[0])
    return NeighborsModel(kind, points.shape[1], points, radius=float(est.radius), outlier_class=outlier, **common)


def _regressor(est: Any, kind: str) -> NeighborsModel:
    points = _fit_rows(est)
    metric, power = _metric(est)
    y = np.asarray(est._y, dtype=np.float64)
    targets = y.reshape(len(y), -1)
    common = dict(targets=targets, vector=y.ndim == 1, weighting=_weighting(est), metric=metric, power=power)
    if kind == "knn_regressor":
        return NeighborsModel(kind, points.shape[1], points, k=int(est.n_neighbors), **common)
    return NeighborsModel(kind, points.shape[1], points, radius=float(est.radius), **common)


def _centroid(est: Any) -> NeighborsModel:
    name = type(est).__name__
    classes = check_single_output_classes(est.classes_, 1, name)
    if est.metric not in ("euclidean", "manhattan"):
        raise ValueError(f"{name}: metric {est.metric!r} is not supported; use 'euclidean' or 'manhattan'")
    centroids = np.asarray(est.centroids_, dtype=np.float64)
    std = np.asarray(est.within_class_std_dev_, dtype=np.float64)
    # scikit-learn divides x and the centroids by the deviation where it is not 0.
    stds = np.where(std != 0, std, 1.0)
    priors = np.asarray(est.class_prior_, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_priors2 = 2.0 * np.log(priors)
    return NeighborsModel(
        "centroid",
        centroids.shape[1],
        centroids,
        metric="sq_euclidean" if est.metric == "euclidean" else "manhattan",
        classes=classes,
        scaled_points=centroids / stds,
        stds=stds,
        log_priors2=log_priors2,
        # scikit-learn's predict takes the nearest centroid where the priors are uniform.
        use_priors=not bool(np.isclose(priors, 1 / len(priors)).all()),
        has_decision=est.metric == "euclidean",
    )


def _lof(est: Any) -> NeighborsModel:
    if not est.novelty:
        raise ValueError(
            "LocalOutlierFactor(novelty=False) only labels its own training rows (fit_predict) and has no "
            "predict for new rows; fit it with novelty=True to convert it"
        )
    points = _fit_rows(est)
    metric, power = _metric(est)
    k = int(est.n_neighbors_)
    return NeighborsModel(
        "lof",
        points.shape[1],
        points,
        metric=metric,
        power=power,
        k=k,
        kdist=np.asarray(est._distances_fit_X_, dtype=np.float64)[:, k - 1],
        lrd=np.asarray(est._lrd, dtype=np.float64),
        offset=float(est.offset_),
        contamination=est.contamination,
    )


def convert_neighbors(estimator: Any) -> NeighborsModel:
    """IR of a fitted nearest-neighbour estimator."""
    if isinstance(estimator, nb.KNeighborsClassifier):
        ir = _classifier(estimator, "knn_classifier")
    elif isinstance(estimator, nb.RadiusNeighborsClassifier):
        ir = _classifier(estimator, "radius_classifier")
    elif isinstance(estimator, nb.KNeighborsRegressor):
        ir = _regressor(estimator, "knn_regressor")
    elif isinstance(estimator, nb.RadiusNeighborsRegressor):
        ir = _regressor(estimator, "radius_regressor")
    elif isinstance(estimator, nb.NearestCentroid):
        ir = _centroid(estimator)
    else:
        ir = _lof(estimator)
    ir.validate()
    return ir
