"""Numeric contract of nearest-neighbour models (docs/architecture.md,
"Numeric contract").

The runtime computes distances in float32 (distance.hpp): inputs and stored
points rounded to float32, d_i = x_i - p_i rounded, each term rounded, summed
in feature order. For every row and stored point the bound on the ranking
distance (squared euclidean, manhattan, chebyshev, minkowski to the power p)
against the exact one on float64 inputs is derived here from those
operations (:func:`rank_bounds`): with e_i = u (|x_i| + |p_i|) the inputs'
rounding, |d_i| lies in [L_i, D_i], L_i = max(0, |d_i| - e_i)(1 - u),
D_i = (|d_i| + e_i)(1 + u); the terms (d^2: one more rounding; |d|^p: the
minkowski_term bound, plus |ln|d|| |p - float32(p)|) summed with
gamma(n - 1) give the lowest and highest value the runtime can return.

scikit-learn's own distances are not exact either: its brute-force euclidean
computes ||x||^2 - 2 x.y + ||y||^2 in float64, so its squared distance may be
off by about (n + 8) 2^-53 (||x||^2 + ||y||^2); the other metrics are summed
differences, within (n + 8) 2^-53 of their magnitude. Both bounds add up to
b, per row and point.

Tie zone (labels may differ, continuous outputs are not claimed): rows where
the k nearest points are not decided by the bounds (the largest ranking
distance + b inside the k nearest reaches the smallest - b outside them; in
particular points at equal exact distance at the k-th place), rows with a
point within b of the radius, rows whose distance weights are decided by a
distance within b of 0 that is not exactly 0 on both sides, and rows whose
two best votes (scores, for NearestCentroid; the decision and 0, for
LocalOutlierFactor) lie within the sum of their bounds. Outside it the
neighbours are scikit-learn's and:

* votes and class probabilities: uniform votes are exact integers, so
  probabilities are within u p; distance weights w_j = 1 / dist_j carry the
  relative error e_j of the runtime's and scikit-learn's distances (the
  ranking bound carried through sqrt_f or minkowski_root) plus one division,
  the class sums gamma(k) and the total gamma(k + K):
      |p~_c - p_c| <= (beta_c + p_c beta_T) / (T - beta_T) + u (p_c + ...);
* regressors: uniform means within gamma(k + 1) sum|y_j| / k; distance
  weighted (sum w y) / (sum w) within (beta_N + |y| beta_W) / (W - beta_W)
  + u |y|;
* NearestCentroid: scores 2 log prior - D with D the squared distance of
  x / std (x, std and the division: gamma(3) relative) to the scaled
  centroid, within the ranking bound plus the roundings of the prior and the
  subtraction; probabilities through core.bounds.proba_bound("softmax");
* LocalOutlierFactor: reach_j = max(dist_j, kdist_j) within the distance
  bound plus u kdist_j; the mean, 1 / (mean + 1e-10), the ratios and their
  mean carry it to score_samples as a relative error; decision_function adds
  the offset's rounding and the subtraction's.

int16 storage: the runtime's points are the float32 values
rounded(q scale) + offset (storage.dequantized), so the contract holds
against scikit-learn fitted on those rows (a clone of the estimator), with
the points exact.
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, List, Tuple

import numpy as np

from ...core.bounds import TINY, U, U64, assert_within, check_labels, gamma, proba_bound
from ...core.family import NumericContract
from .ir import NeighborsModel

_LN_MAX = 104.0  # |ln a| for every positive float32, subnormals included


def radius_rank(ir: NeighborsModel) -> float:
    """The radius in ranking form (squared for euclidean, to the power p for
    minkowski), float64; the runtime holds it rounded to float32."""
    if ir.kind not in ("radius_classifier", "radius_regressor"):
        return 0.0
    if ir.metric == "sq_euclidean":
        return ir.radius * ir.radius
    if ir.metric == "minkowski":
        return float(ir.radius**ir.power)
    return ir.radius


def _float32(X: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return X.astype(np.float32).astype(np.float64)


def rank_bounds(
    metric: str, power: float, X: np.ndarray, P: np.ndarray, ex: float, ep: float
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(exact ranking distances R, runtime bound B_rt, scikit-learn bound
    B_sk), each (n_rows, n_points), between the float64 rows X and points P;
    ``ex`` and ``ep`` are the relative errors of x and p as the runtime
    holds them (u each; 0 for points that are float32 already)."""
    n = X.shape[1]
    x, p = X[:, None, :], P[None, :, :]
    d = np.abs(x - p)
    e = ex * np.abs(x) + ep * np.abs(p)
    hi = (d + e) * (1 + U)
    lo = np.maximum(d - e, 0.0) * (1 - U)
    mag = np.abs(x) + np.abs(p)
    g = gamma(max(n - 1, 0))
    if metric == "sq_euclidean":
        R = (d * d).sum(axis=2)
        up = (hi * hi).sum(axis=2) * (1 + U) * (1 + g)
        down = (lo * lo).sum(axis=2) * (1 - U) * (1 - g)
        B_sk = (n + 8) * U64 * (R + (mag * mag).sum(axis=2))
    elif metric == "manhattan":
        R = d.sum(axis=2)
        up = hi.sum(axis=2) * (1 + g)
        down = lo.sum(axis=2) * (1 - g)
        B_sk = (n + 8) * U64 * mag.sum(axis=2)
    elif metric == "chebyshev":
        R = d.max(axis=2)
        up, down = hi.max(axis=2), lo.max(axis=2)
        B_sk = 4 * U64 * mag.max(axis=2)
    else:
        p32 = float(np.float32(power))
        with np.errstate(divide="ignore"):
            ln = np.maximum(np.abs(np.log(hi)), np.where(lo > 0, np.abs(np.log(lo)), _LN_MAX))
        ln = np.minimum(ln, _LN_MAX)
        et = (1 + 1.8 * U) * np.exp(4.2 * U * power * ln + ln * abs(power - p32)) - 1
        R = (d**power).sum(axis=2)
        up = (hi**power * (1 + et)).sum(axis=2) * (1 + g)
        down = (lo**power * np.maximum(1 - et, 0.0)).sum(axis=2) * (1 - g)
        B_sk = (n + 8) * U64 * (1 + 2 * power * _LN_MAX) * (mag**power).sum(axis=2)
    B_rt = np.maximum(up - R, R - down) + n * TINY
    return R, B_rt, B_sk


def true_distance(metric: str, power: float, R: np.ndarray) -> np.ndarray:
    if metric == "sq_euclidean":
        return np.sqrt(R)
    if metric == "minkowski":
        return R ** (1.0 / power)
    return R


def distance_rel_error(metric: str, power: float, R: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Relative error of a true distance computed from a ranking distance
    within B of R (inf where R is 0): sqrt_f, minkowski_root or none."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(R > 0, B / R, np.inf)
    if metric == "sq_euclidean":
        return rel / 2 + 2 * U
    if metric == "minkowski":
        p32 = float(np.float32(power))
        with np.errstate(divide="ignore", invalid="ignore"):
            ln = np.where(R > 0, np.abs(np.log(np.where(R > 0, R, 1.0))), 0.0)
        root = (1 + 1.8 * U) * np.exp(4.2 * U * ln / power + ln * abs(1 / power - 1 / p32)) - 1
        return rel / power + root + U
    return rel


def k_tie_zone(R: np.ndarray, b: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
    """(rows whose k nearest points the bounds do not decide, indices of
    the k nearest by exact distance, nearest first)."""
    order = np.argsort(R, axis=1, kind="stable")
    Rs = np.take_along_axis(R, order, axis=1)
    bs = np.take_along_axis(b, order, axis=1)
    if k >= R.shape[1]:
        return np.zeros(len(R), dtype=bool), order
    reach_in = (Rs[:, :k] + bs[:, :k]).max(axis=1)
    reach_out = (Rs[:, k:] - bs[:, k:]).min(axis=1)
    return reach_in >= reach_out, order[:, :k]


class NeighborsContract(NumericContract):
    statement = (
        "float32 distances, each within a bound derived per row and stored point; neighbours, labels and "
        "outlier flags identical to scikit-learn's outside the tie zone (neighbours the bounds do not "
        "decide, a point within its bound of the radius, near-zero distances under distance weights, votes "
        "or scores within their bounds); probabilities, regression outputs and scores within the bound "
        "carried from the distances."
    )

    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        X = np.asarray(X, dtype=np.float64)
        ref, ir, ep = _reference(cm, estimator)
        report: Dict[str, Any] = {"n_samples": len(X)}
        if ir.kind == "centroid":
            return _check_centroid(cm, ref, ir, X, report)
        R, B_rt, B_sk = rank_bounds(ir.metric, ir.power, X, ir.points, U, ep)
        b = B_rt + B_sk
        if ir.kind == "lof":
            return _check_lof(cm, ref, ir, X, R, b, B_rt, B_sk, report)
        if ir.kind.startswith("knn"):
            ties, sets = k_tie_zone(R, b, ir.k)
            neighbours: List[np.ndarray] = list(sets)
        else:
            r_rank = radius_rank(ir)
            r_err = abs(float(np.float32(r_rank)) - r_rank) + 2 * U64 * r_rank
            ties = np.any(np.abs(R - r_rank) <= b + r_err, axis=1)
            neighbours = [np.flatnonzero(row <= r_rank) for row in R]
        zero_rt, zero_ties = _zero_distances(cm, ref, ir, X, R, b, neighbours, ep)
        ties = ties | zero_ties
        if ir.task == "classifier":
            return _check_classifier(cm, ref, ir, X, R, B_rt, B_sk, neighbours, zero_rt, ties, report)
        return _check_regressor(cm, ref, ir, X, R, B_rt, B_sk, neighbours, zero_rt, ties, report)


def _reference(cm: Any, est: Any) -> Tuple[Any, NeighborsModel, float]:
    """(estimator the runtime's model is compared with, its IR, the
    relative error of the stored points): with int16 storage, a clone of
    the estimator fitted on the rows the runtime holds, which are float32
    values already."""
    from sklearn.base import clone

    from .convert import convert_neighbors
    from .storage import dequantized

    ir = convert_neighbors(est)
    if cm.options.get("dtype", "float32") != "int16":
        return est, ir, U
    stored = dequantized(ir.points)
    ref = clone(est)
    if ir.kind == "lof":
        ref.fit(stored)
    elif ir.task == "classifier":
        ref.fit(stored, np.asarray(est.classes_)[ir.labels])
    else:
        ref.fit(stored, np.asarray(est._y))
    return ref, convert_neighbors(ref), 0.0


def _zero_distances(
    cm: Any, ref: Any, ir: NeighborsModel, X: np.ndarray, R: np.ndarray, b: np.ndarray,
    neighbours: List[np.ndarray], ep: float,
) -> Tuple[List[np.ndarray], np.ndarray]:
    """(per row, the neighbours at distance exactly 0 on the runtime,
    rows where distance weights could be decided by a distance near 0 that
    is not 0 on both sides). The runtime's distance is 0 exactly where the
    float32 row equals the float32 point; scikit-learn's where its own
    computed distance is 0 (its brute-force euclidean may leave a tiny
    distance between equal rows)."""
    X32 = _float32(X)
    P32 = ir.points if ep == 0.0 else _float32(ir.points)
    zero_rt = [idx[np.all(X32[i][None, :] == P32[idx], axis=1)] for i, idx in enumerate(neighbours)]
    ties = np.zeros(len(X), dtype=bool)
    if ir.weighting != "distance":
        return zero_rt, ties
    sk_zero = _sklearn_zero_neighbours(ref, ir, X)
    for i, idx in enumerate(neighbours):
        near = set(idx[R[i, idx] <= b[i, idx]].tolist())
        if near and not (near == set(zero_rt[i].tolist()) == sk_zero[i]):
            ties[i] = True
    return zero_rt, ties


def _sklearn_zero_neighbours(ref: Any, ir: NeighborsModel, X: np.ndarray) -> List[set]:
    if ir.kind.startswith("knn"):
        dist, ind = ref.kneighbors(X)
        return [set(ind[i][dist[i] == 0].tolist()) for i in range(len(X))]
    dist, ind = ref.radius_neighbors(X)
    return [set(np.asarray(ind[i])[np.asarray(dist[i]) == 0].tolist()) for i in range(len(X))]


def _weights_and_errors(
    ir: NeighborsModel, R: np.ndarray, B_rt: np.ndarray, B_sk: np.ndarray, idx: np.ndarray, zero: np.ndarray
) -> Tuple[np.ndarray, np.ndarray]:
    """Exact weights of the neighbours ``idx`` of one row and their relative
    errors (runtime and scikit-learn against exact)."""
    if ir.weighting == "uniform" or zero.size:
        w = np.isin(idx, zero).astype(np.float64) if (zero.size and ir.weighting == "distance") else np.ones(len(idx))
        return w, np.zeros(len(idx))
    r = R[idx]
    dist = true_distance(ir.metric, ir.power, r)
    e_rt = distance_rel_error(ir.metric, ir.power, r, B_rt[idx])
    e_sk = distance_rel_error(ir.metric, ir.power, r, B_sk[idx]) - (2 * U if ir.metric == "sq_euclidean" else 0.0)
    e_rt = e_rt / np.maximum(1 - e_rt, 0.0) + U
    e_sk = np.abs(e_sk) / np.maximum(1 - np.abs(e_sk), 0.0) + 4 * U64
    return 1.0 / dist, e_rt + e_sk


def _check_classifier(
    cm: Any, ref: Any, ir: NeighborsModel, X: np.ndarray, R: np.ndarray, B_rt: np.ndarray, B_sk: np.ndarray,
    neighbours: List[np.ndarray], zero_rt: List[np.ndarray], ties: np.ndarray, report: Dict[str, Any],
) -> Dict[str, Any]:
    K = ir.n_classes
    proba = np.asarray(ref.predict_proba(X), dtype=np.float64)
    bound = np.zeros_like(proba)
    for i, idx in enumerate(neighbours):
        if ties[i]:
            bound[i] = np.inf
            continue
        if idx.size == 0:  # the outlier class (the host refuses rows without one)
            bound[i] = 0.0
            continue
        w, e = _weights_and_errors(ir, R[i], B_rt[i], B_sk[i], idx, zero_rt[i])
        labels = ir.labels[idx]
        m = len(idx)
        votes = np.bincount(labels, weights=w, minlength=K)
        beta = np.bincount(labels, weights=w * (e + gamma(m)), minlength=K)
        total = votes.sum()
        beta_t = float((w * (e + gamma(m + K))).sum())
        if ir.weighting == "distance" and not zero_rt[i].size:
            top = np.argsort(-votes, kind="stable")
            if K > 1 and votes[top[0]] - votes[top[1]] <= beta[top[0]] + beta[top[1]]:
                ties[i] = True
                bound[i] = np.inf
                continue
        p = votes / total
        err = (beta + p * beta_t) / max(total - beta_t, TINY)
        bound[i] = err + U * (p + err) + TINY
    report.update(check_labels(ref.predict(X), cm.predict(X), ties))
    report["max_proba_diff"] = assert_within("predict_proba", cm.predict_proba(X), proba, bound)
    return report


def _check_regressor(
    cm: Any, ref: Any, ir: NeighborsModel, X: np.ndarray, R: np.ndarray, B_rt: np.ndarray, B_sk: np.ndarray,
    neighbours: List[np.ndarray], zero_rt: List[np.ndarray], ties: np.ndarray, report: Dict[str, Any],
) -> Dict[str, Any]:
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")  # RadiusNeighborsRegressor warns on rows without neighbours
        want = np.asarray(ref.predict(X), dtype=np.float64).reshape(len(X), -1)
    got = np.asarray(cm.predict(X), dtype=np.float64).reshape(len(X), -1)
    bound = np.zeros_like(want)
    empty = np.array([idx.size == 0 for idx in neighbours])
    # No neighbour within the radius: NaN on both sides (where not in the tie zone).
    assert np.all(np.isnan(got[empty & ~ties])), "rows without neighbours must predict NaN, as scikit-learn does"
    for i, idx in enumerate(neighbours):
        if ties[i] or idx.size == 0:
            bound[i] = np.inf
            continue
        w, e = _weights_and_errors(ir, R[i], B_rt[i], B_sk[i], idx, zero_rt[i])
        y = ir.targets[idx]  # (m, n_outputs)
        m = len(idx)
        W = w.sum()
        out = (w[:, None] * y).sum(axis=0) / W
        beta_n = (np.abs(w[:, None] * y) * (e[:, None] + gamma(m + 2))).sum(axis=0)
        beta_w = float((w * (e + gamma(m))).sum())
        err = (beta_n + np.abs(out) * beta_w) / max(W - beta_w, TINY)
        bound[i] = err + U * (np.abs(out) + err) + (m + 4) * U64 * np.abs(y).max(axis=0) + TINY
    keep = ~empty | ties
    want, got = np.where(keep[:, None], want, 0.0), np.where(keep[:, None], got, 0.0)
    with np.errstate(invalid="ignore"):
        want = np.where(np.isnan(want) & ties[:, None], 0.0, want)
        got = np.where(np.isnan(got) & ties[:, None], 0.0, got)
    report["tie_zone"] = int(ties.sum())
    report["max_predict_diff"] = assert_within("predict", got, want, bound)
    return report


def _check_centroid(cm: Any, est: Any, ir: NeighborsModel, X: np.ndarray, report: Dict[str, Any]) -> Dict[str, Any]:
    K = ir.n_classes
    rows = np.arange(len(X))
    if not ir.use_priors:
        R, B_rt, B_sk = rank_bounds(ir.metric, 2.0, X, ir.points, U, U)
        b = B_rt + B_sk
        order = np.argsort(R, axis=1, kind="stable")
        first, second = order[:, 0], order[:, min(1, K - 1)]
        ties = (R[rows, second] - R[rows, first] <= b[rows, first] + b[rows, second]) & (K > 1)
        report.update(check_labels(est.predict(X), cm.predict(X), ties))
    if not (ir.use_priors or ir.has_decision):
        return report
    Xs = X / ir.stds
    R, B_rt, B_sk = rank_bounds(ir.metric, 2.0, Xs, ir.scaled_points, gamma(3), U)
    if ir.metric == "manhattan":  # scikit-learn squares the distance
        B_rt = 2 * R * B_rt + B_rt**2 + U * (R + B_rt) ** 2
        B_sk = 2 * R * B_sk + B_sk**2 + U64 * R**2
        R = R * R
    c = np.where(np.isfinite(ir.log_priors2), ir.log_priors2, 0.0)
    scores = np.asarray(est._decision_function(X), dtype=np.float64)
    B = (B_rt + U * np.abs(c)) * (1 + U) + U * np.abs(scores) + B_sk + 4 * U64 * (np.abs(scores) + np.abs(c))
    if ir.use_priors:
        order = np.argsort(-scores, axis=1, kind="stable")
        first, second = order[:, 0], order[:, min(1, K - 1)]
        ties = (scores[rows, first] - scores[rows, second] <= B[rows, first] + B[rows, second]) & (K > 1)
        report.update(check_labels(est.predict(X), cm.predict(X), ties))
    if not ir.has_decision:
        return report
    decision = np.asarray(est.decision_function(X), dtype=np.float64)
    if K == 2:
        bd = B[:, 0] + B[:, 1]
        bd = bd + U * (np.abs(decision) + bd)
    else:
        bd = B
    report["max_decision_diff"] = assert_within("decision_function", cm.decision_function(X), decision, bd)
    proba = np.asarray(est.predict_proba(X), dtype=np.float64)
    report["max_proba_diff"] = assert_within("predict_proba", cm.predict_proba(X), proba,
                                             proba_bound("softmax", scores, B))
    return report


def _check_lof(
    cm: Any, est: Any, ir: NeighborsModel, X: np.ndarray, R: np.ndarray, b: np.ndarray, B_rt: np.ndarray,
    B_sk: np.ndarray, report: Dict[str, Any],
) -> Dict[str, Any]:
    k = ir.k
    ties, sets = k_tie_zone(R, b, k)
    score = np.asarray(est.score_samples(X), dtype=np.float64)
    decision = np.asarray(est.decision_function(X), dtype=np.float64)
    B_score = np.full(len(X), np.inf)
    for i in np.flatnonzero(~ties):
        idx = sets[i]
        r = R[i, idx]
        dist = true_distance(ir.metric, ir.power, r)
        e_rt = distance_rel_error(ir.metric, ir.power, r, B_rt[i, idx])
        e_sk = distance_rel_error(ir.metric, ir.power, r, B_sk[i, idx])
        kd = ir.kdist[idx]
        with np.errstate(invalid="ignore"):
            # From a distance of 0 the runtime's is at most the true distance of the rank's bound.
            at_zero = true_distance(ir.metric, ir.power, B_rt[i, idx] + B_sk[i, idx])
            err = np.where(dist > 0, (e_rt + e_sk) * dist, at_zero)
        reach_err = err + U * kd + (k + 10) * U64 * kd
        reach = np.maximum(dist, kd)
        m = reach.mean()
        beta_m = reach_err.sum() / k + gamma(k + 1) * (m + reach_err.sum() / k)
        A = m + 1e-10
        beta_a = beta_m + U * (A + beta_m) + abs(float(np.float32(1e-10)) - 1e-10)
        if beta_a >= A:
            continue
        rho = beta_a / (A - beta_a) + U
        B_score[i] = abs(score[i]) * ((1 + rho) * (1 + gamma(k + 4)) - 1 + (k + 10) * U64)
    off = abs(ir.offset)
    B_dec = B_score + U * off + U * (np.abs(decision) + B_score + U * off)
    ties = ties | (np.abs(decision) <= B_dec)
    report.update(check_labels(est.predict(X), cm.predict(X), ties))
    report["max_score_diff"] = assert_within("score_samples", cm.score_samples(X), score, B_score)
    report["max_decision_diff"] = assert_within("decision_function", cm.decision_function(X), decision, B_dec)
    return report
