"""scikit-learn k-means -> ClustersModel IR. Reads fitted attributes only."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import cluster

from .ir import ClustersModel

SUPPORTED = (cluster.KMeans, cluster.MiniBatchKMeans)


def convert_clusters(estimator: Any) -> ClustersModel:
    """IR of a fitted KMeans or MiniBatchKMeans."""
    name = type(estimator).__name__
    centers = getattr(estimator, "cluster_centers_", None)
    if centers is None:
        raise ValueError(f"{name} has no fitted cluster_centers_; fit it before converting")
    try:
        centers = np.asarray(centers, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}.cluster_centers_ is not numeric: {exc}") from exc
    ir = ClustersModel(centers)
    ir.validate()
    n_in = getattr(estimator, "n_features_in_", ir.n_features)
    if int(n_in) != ir.n_features:
        raise ValueError(f"{name}: n_features_in_ is {n_in} but cluster_centers_ has {ir.n_features} features")
    return ir
