"""IR of centroid clusterings (k-means): the centres, float64 as
scikit-learn holds them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class ClustersModel:
    """``centers`` (n_clusters, n_features): scikit-learn's cluster_centers_."""

    centers: np.ndarray

    @property
    def n_clusters(self) -> int:
        return int(self.centers.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.centers.shape[1])

    def validate(self) -> None:
        if self.centers.ndim != 2 or self.centers.shape[0] < 1 or self.centers.shape[1] < 1:
            raise ValueError(f"cluster_centers_ must be a non-empty (n_clusters, n_features) array, "
                             f"got shape {self.centers.shape}")
        if not np.all(np.isfinite(self.centers)):
            raise ValueError("cluster_centers_ holds infinite or NaN values; refit the model")
        if np.abs(self.centers).max() > _FLOAT32_MAX:
            raise ValueError("a value of cluster_centers_ lies beyond float32's range (3.4e38); rescale the features")
        if self.centers.size >= 2**32:
            raise ValueError("the model has more than 2**32 centre values")
