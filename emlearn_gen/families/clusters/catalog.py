"""k-means in the shared test catalog: both estimators, few and many
clusters; probe rows far from the data, and the centres themselves (a
distance of 0, where scikit-learn's ||x||^2 - 2 x.c + ||c||^2 cancels)."""

from __future__ import annotations

import numpy as np
from sklearn import cluster

from ...testing.catalog import Example


def _far_and_centres(est, X):
    rows = X[:: max(1, len(X) // 12)]
    return np.concatenate([est.cluster_centers_, 3.0 * rows, -rows, 0.25 * rows, np.zeros((1, X.shape[1]))])


EXAMPLES = (
    Example("KMeans", lambda: cluster.KMeans(3, n_init=3, random_state=0), "iris", _far_and_centres),
    Example("KMeans-many", lambda: cluster.KMeans(8, n_init=1, random_state=0), "wine", _far_and_centres),
    Example("KMeans-elkan", lambda: cluster.KMeans(5, algorithm="elkan", n_init=2, random_state=0),
            "breast_cancer", _far_and_centres),
    Example("MiniBatchKMeans", lambda: cluster.MiniBatchKMeans(4, batch_size=64, n_init=3, random_state=0),
            "iris", _far_and_centres),
)
