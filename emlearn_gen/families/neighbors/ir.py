"""IR of nearest-neighbour models: stored points (training rows, or class
centroids) with what each kind needs beside them (runtime neighbors.hpp)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

#: Model kinds (runtime neighbors_kind).
KINDS = {
    "knn_classifier": 0,
    "knn_regressor": 1,
    "radius_classifier": 2,
    "radius_regressor": 3,
    "centroid": 4,
    "lof": 5,
}
#: Distances in their ranking form (runtime distance_metric).
METRICS = {"sq_euclidean": 0, "manhattan": 1, "chebyshev": 2, "minkowski": 3}
#: Neighbour weights (runtime neighbors_weights).
WEIGHTS = {"uniform": 0, "distance": 1}

#: The largest class count the int16_t label table holds.
MAX_CLASSES = 2**15 - 1

_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class NeighborsModel:
    """A fitted neighbours model, float64 as scikit-learn holds it.

    ``points`` (n_points, n_features): the training rows, or the class
    centroids (centroid). ``labels`` (n_points,): each point's class index
    (classifiers); ``targets`` (n_points, n_outputs) (regressors).
    ``metric`` is a key of METRICS and ``power`` minkowski's p. ``k``: the
    neighbours per row (knn, lof); ``radius`` the true radius (radius
    kinds); ``outlier_class`` the class of rows without neighbours (None:
    scikit-learn raises). Centroid: ``scaled_points`` (centroids divided by
    ``stds``), ``log_priors2`` (2 log prior), ``use_priors`` (predict by
    scores rather than by the nearest centroid), ``has_decision`` (euclidean
    only). LOF: ``kdist`` and ``lrd`` per point, ``offset``."""

    kind: str
    n_features: int
    points: np.ndarray
    metric: str
    power: float = 2.0
    classes: Optional[np.ndarray] = None
    labels: Optional[np.ndarray] = None
    targets: Optional[np.ndarray] = None
    vector: bool = False
    weighting: str = "uniform"
    k: int = 0
    radius: float = 0.0
    outlier_class: Optional[int] = None
    scaled_points: Optional[np.ndarray] = None
    stds: Optional[np.ndarray] = None
    log_priors2: Optional[np.ndarray] = None
    use_priors: bool = False
    has_decision: bool = False
    kdist: Optional[np.ndarray] = None
    lrd: Optional[np.ndarray] = None
    offset: float = 0.0
    #: LOF: scikit-learn's contamination, to refit on int16-stored rows.
    contamination: object = "auto"

    @property
    def n_points(self) -> int:
        return int(self.points.shape[0])

    @property
    def n_classes(self) -> int:
        return 0 if self.classes is None else int(len(self.classes))

    @property
    def n_outputs(self) -> int:
        return 0 if self.targets is None else int(self.targets.shape[1])

    @property
    def task(self) -> str:
        if self.kind == "lof":
            return "outlier_detector"
        return "regressor" if self.kind.endswith("regressor") else "classifier"

    @property
    def searches(self) -> bool:
        """Whether rows look for their k nearest points (scratch of k)."""
        return self.kind in ("knn_classifier", "knn_regressor", "lof")

    def validate(self) -> None:
        if self.kind not in KINDS or self.metric not in METRICS or self.weighting not in WEIGHTS:
            raise ValueError(f"unknown neighbours model ({self.kind!r}, {self.metric!r}, {self.weighting!r})")
        if self.points.ndim != 2 or self.points.shape[1] != self.n_features or self.n_points < 1:
            raise ValueError(f"points of shape {self.points.shape} for {self.n_features} features")
        _check_finite32("the stored training rows (or centroids)", self.points)
        if self.n_points * self.n_features >= 2**32:
            raise ValueError("the model stores more than 2**32 values")
        if self.metric == "minkowski" and not (np.isfinite(self.power) and self.power >= 1.0):
            raise ValueError(f"minkowski p must be a finite number >= 1, got {self.power!r}")
        if self.task == "classifier" and not 1 <= self.n_classes <= MAX_CLASSES:
            raise ValueError(f"{self.n_classes} classes; emlearn_gen takes 1 to {MAX_CLASSES}")
        if self.searches and not 1 <= self.k <= self.n_points:
            raise ValueError(f"n_neighbors={self.k} for {self.n_points} stored rows: it must be 1 to {self.n_points}")
        if self.targets is not None:
            _check_finite32("the training targets", self.targets)
        for name in ("kdist", "lrd", "scaled_points", "stds"):
            value = getattr(self, name)
            if value is not None and not np.all(np.isfinite(value)):
                raise ValueError(f"{name} holds infinite or NaN values")
        # A prior of 0 is a log prior of -inf: that class's score is -inf, as in scikit-learn.
        if self.log_priors2 is not None and np.any(np.isnan(self.log_priors2) | (self.log_priors2 == np.inf)):
            raise ValueError("a class prior is NaN or above 1")


def _check_finite32(what: str, array: np.ndarray) -> None:
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} hold infinite or NaN values")
    if array.size and np.abs(array).max() > _FLOAT32_MAX:
        raise ValueError(f"a value of {what} lies beyond float32's range (3.4e38)")
