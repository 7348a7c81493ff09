"""Numeric contract of k-means (docs/architecture.md, "Numeric contract").

The runtime computes the squared euclidean distance of x to each centre c
in float32 (runtime distance.hpp: differences, squares and sums in index
order, within gamma(n + 2) of the exact distance between the float32
values). x and c rounded to float32 move each difference by at most
delta_i = u (|x_i| + |c_i|), so against the float64 distance T:

    E = sum_i (2 |d_i| delta_i + delta_i^2) + gamma(n + 2) sum_i (|d_i| + delta_i)^2 + n 2**-149

scikit-learn decides labels on ||c||^2 - 2 x.c and computes transform from
||x||^2 - 2 x.c + ||c||^2 in float64; either is within
G = gamma64(n + 4) sum_i (|x_i| + |c_i|)^2 of the exact value (u64 = 2**-53).

* Labels (the first nearest centre) equal scikit-learn's outside the tie
  zone: rows where some other centre's T lies within (E + G) of the
  nearest's plus its own (E + G).
* transform: sqrt_f of the runtime's distance (correctly rounded) against
  scikit-learn's sqrt(max(., 0)); the two squared distances are within
  E + G of each other, so the distances are within
  min(sqrt(E + G), (E + G) / sqrt(max(T - E - G, 0))) + (u + u64) sqrt(T + E).
* score (minus the sum over rows of the squared distance to the nearest
  centre, which scikit-learn computes from differences, as the runtime
  does, for its own label): per row within max_j E + 2 max_j G +
  gamma64(n + 3) (T_nearest + 2 max_j G) (the runtime's minimum lies within
  max E of the true nearest T; scikit-learn's label is a centre at most
  2 max G farther), and the two float64 sums gamma64(N) of their magnitude.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from ...core.bounds import TINY, U, U64, assert_within, check_labels, gamma
from ...core.family import NumericContract
from .ir import ClustersModel


def distance_bounds(ir: ClustersModel, X: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, E, G), each (N, K): the float64 squared distances, the bound on
    the runtime's and the bound on scikit-learn's, as the module docstring
    defines them."""
    n = ir.n_features
    T = np.empty((len(X), ir.n_clusters))
    E = np.empty_like(T)
    G = np.empty_like(T)
    ax = np.abs(X)
    for j, c in enumerate(ir.centers):
        d = np.abs(X - c)
        delta = U * (ax + np.abs(c))
        T[:, j] = (d * d).sum(axis=1)
        E[:, j] = (2 * d * delta + delta * delta).sum(axis=1) + gamma(n + 2) * ((d + delta) ** 2).sum(axis=1) \
            + n * TINY
        G[:, j] = gamma(n + 4, U64) * ((ax + np.abs(c)) ** 2).sum(axis=1)
    return T, E, G


def tie_zone(T: np.ndarray, slack: np.ndarray) -> np.ndarray:
    """Rows where some centre other than the nearest lies within the sum of
    the two bounds of the nearest."""
    rows = np.arange(len(T))
    best = np.argmin(T, axis=1)
    near = T - T[rows, best][:, None] <= slack + slack[rows, best][:, None]
    near[rows, best] = False
    return near.any(axis=1)


def transform_bound(T: np.ndarray, E: np.ndarray, G: np.ndarray) -> np.ndarray:
    both = E + G
    with np.errstate(divide="ignore"):
        relative = both / np.sqrt(np.maximum(T - both, 0.0))
    return np.minimum(np.sqrt(both), relative) + (U + U64) * np.sqrt(T + E) + TINY


class ClustersContract(NumericContract):
    statement = (
        "float32 arithmetic. Squared distances within gamma(n+2) of the float32 inputs' and the rounding of "
        "the inputs (and scikit-learn's float64 ||x||^2 - 2 x.c + ||c||^2); transform within that bound through "
        "the square root; score within the sum of the rows' bounds; labels identical outside the tie zone."
    )

    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        from .convert import convert_clusters

        ir = convert_clusters(estimator)
        X = np.asarray(X, dtype=np.float64)
        T, E, G = distance_bounds(ir, X)
        report: Dict[str, Any] = {"n_samples": len(X)}
        report.update(check_labels(estimator.predict(X), cm.predict(X), tie_zone(T, E + G)))
        report["max_transform_diff"] = assert_within(
            "transform", cm.transform(X), np.asarray(estimator.transform(X), dtype=np.float64),
            transform_bound(T, E, G),
        )
        n = ir.n_features
        nearest = T.min(axis=1)
        max_g = G.max(axis=1)
        per_row = E.max(axis=1) + 2 * max_g + gamma(n + 3, U64) * (nearest + 2 * max_g)
        want = float(estimator.score(X))
        bound = per_row.sum() + 2 * gamma(len(X) + 1, U64) * (nearest.sum() + per_row.sum())
        report["score_diff"] = assert_within("score", np.array(cm.score(X)), np.array(want), np.array(bound))
        return report
