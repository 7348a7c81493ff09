"""Numeric contract of tree ensembles (docs/architecture.md, "Numeric contract").

Labels are identical to scikit-learn's on every sample, NaN included:
thresholds are scikit-learn's float64 thresholds rounded *down* to float32,
so ``x <= t`` on float32 inputs decides as scikit-learn's float64 comparison.

With dtype="float64" the runtime repeats scikit-learn's float64 operations in
the same order (rows summed in tree order, then divided by the tree count), so
probabilities and outputs are exactly scikit-learn's values rounded to float32.

With dtype="float32" a model's leaf values are rounded to float32 (relative
error <= u = 2**-24 each), summed over T trees in float32 (T - 1 roundings)
and divided by T (one rounding); comparing with scikit-learn's float64 result
rounded to float32 adds one more. To first order the difference is at most

    u * ((T + 1) * A + 2 * |r|)

where A is the mean over trees of |leaf value| for that sample and r is
scikit-learn's result.

Isolation forests: the leaves hold scikit-learn's per-leaf path lengths and
are summed in float64 in its order, so the sum D is scikit-learn's and the
label (decided on D against the threshold scikit-learn's own arithmetic
puts between outliers and inliers) is identical on every sample.
score_samples = -2^(-D / denominator) is computed in float as
-exp(-(float(D) * float(ln 2 / denominator))): three roundings of the exponent
y and the runtime's exp, so it is within |s| (3u |ln(-s)| + EXP_MAX_REL_ERROR)
+ 2**-149 of scikit-learn's s; decision_function = s - offset adds
u (|offset| + |decision|).

Gradient boosting: the leaves hold learning_rate * value as scikit-learn
rounds the product, after a single-leaf tree with the init estimator's raw
prediction, summed in float64 in scikit-learn's order: raw scores are
scikit-learn's bit for bit, so labels are identical on every sample and
decision_function (regressors: predict) equals scikit-learn's rounded to
float32. predict_proba applies the runtime's sigmoid or softmax to those
float32 scores: within the link bounds of emlearn_gen/core/bounds.py for
scores within u |raw| + 2**-149.

Histogram gradient boosting (HistGradientBoosting*): the same sums (the
baseline row first, then every predictor's leaves, which already hold the
learning rate), so raw scores and labels are scikit-learn's (binary: class
1 where raw > 0, as scikit-learn's HistGradientBoostingClassifier decides).
Regressors with a log link (gamma, poisson) output exp_f(float(raw)):
within Y (expm1(B) + EXP_MAX_REL_ERROR e^B) + 2**-149 of scikit-learn's
Y = exp(raw), B = u |raw| + 2**-149. scikit-learn decides on float64 X,
the runtime on float32 inputs: results are identical for inputs that
float32 represents exactly (thresholds are rounded down to float32 as
above). A float64 input that float32 cannot represent is first rounded to
the nearest float32 (as check_X and any float32 device input do), so it may
take the other side of a threshold that lies between it and its rounding.
Categorical features: a value goes by its category found by exact
equality, as scikit-learn's encoder finds it; NaN, and values no category
equals (unseen categories), go where the node sends missing values, as in
scikit-learn (whose encoder refuses infinite values, which the runtime
treats as unseen).

Relative error u holds for normal floats only: a
value rounded into float32's subnormal range (below 2**-126) is off by up to
half its spacing, 2**-150, absolutely. Such roundings are those of the T leaf
values, the division and the comparison (sums of subnormals are exact), so
the bound adds (T + 2) * 2**-150. Overflow is excluded by construction:
convert() never sums in float32 where the sum could leave float32's range.
"""

from __future__ import annotations

from typing import Any, Dict

import numpy as np

from ... import _runtime
from ...core.bounds import assert_within, proba_bound
from ...core.family import NumericContract

U32 = 2.0**-24
#: Largest absolute error of rounding to float32 in its subnormal range.
SUBNORMAL_HALF_SPACING = 2.0**-150


def _per_tree_outputs(estimator: Any, X: np.ndarray) -> np.ndarray:
    """(n_trees, n_samples, width) contributions, as scikit-learn sums them."""
    members = getattr(estimator, "estimators_", [estimator])
    if hasattr(estimator, "classes_"):
        return np.stack([m.predict_proba(X) for m in members])
    outs = [np.asarray(m.predict(X), dtype=np.float64) for m in members]
    return np.stack([o.reshape(len(X), -1) for o in outs])


def float32_sum_tolerance(estimator: Any, X: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-value bound on |runtime - scikit-learn| for float32 tree sums."""
    parts = _per_tree_outputs(estimator, X)
    n_trees = parts.shape[0]
    mean_abs = np.abs(parts).mean(axis=0).reshape(reference.shape)
    relative = U32 * ((n_trees + 1) * mean_abs + 2 * np.abs(reference))
    return relative + (n_trees + 2) * SUBNORMAL_HALF_SPACING


def assert_outlier_detector_matches(cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
    """IsolationForest: identical labels, scores within the bound above."""
    want_labels = estimator.predict(X)
    got_labels = cm.predict(X)
    bad = np.flatnonzero(want_labels != got_labels)
    if bad.size:
        raise AssertionError(f"{bad.size} of {len(X)} outlier labels differ from scikit-learn (first rows {bad[:5].tolist()})")
    assert got_labels.dtype == want_labels.dtype, (got_labels.dtype, want_labels.dtype)
    s = estimator.score_samples(X)
    e = float(_runtime.EXP_MAX_REL_ERROR)
    with np.errstate(divide="ignore"):
        bound = np.abs(s) * (3 * U32 * np.abs(np.log(-s)) + e) + 2.0**-149
    report = {"max_abs_diff": assert_within("score_samples", cm.score_samples(X), s, bound)}
    d = estimator.decision_function(X)
    bound_d = bound + U32 * (abs(float(estimator.offset_)) + np.abs(d))
    report["max_decision_diff"] = assert_within("decision_function", cm.decision_function(X), d, bound_d)
    report["outliers"] = int(np.count_nonzero(want_labels == -1))
    return report


def _assert_labels_identical(cm: Any, estimator: Any, X: np.ndarray) -> None:
    want, got = estimator.predict(X), cm.predict(X)
    bad = np.flatnonzero(want != got)
    if bad.size:
        raise AssertionError(f"{bad.size} of {len(X)} labels differ from scikit-learn (first rows {bad[:5].tolist()})")
    assert got.dtype == want.dtype, (got.dtype, want.dtype)


def exp_link_bound(raw: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Bound on |exp_f(float(raw)) - exp(raw)| for scikit-learn's output
    Y = exp(raw): rounding raw to float moves the exponent by at most
    B = u |raw| + 2**-149 (a factor e^B), exp_f adds EXP_MAX_REL_ERROR, and a
    subnormal result 2**-149."""
    e = float(_runtime.EXP_MAX_REL_ERROR)
    with np.errstate(over="ignore", invalid="ignore"):
        B = U32 * np.abs(raw) + 2.0**-149
        return want * (np.expm1(B) + e * np.exp(B)) + 2.0**-149


def assert_boosted_matches(cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
    """Gradient boosting: identical labels and raw scores (rounded to
    float32), probabilities within the link's bound."""
    link = cm.family.boost_link_name(cm.packed)
    if cm.task == "regressor":
        want = np.asarray(estimator.predict(X), dtype=np.float64)
        got = cm.predict(X)
        assert got.shape == want.shape, (got.shape, want.shape)
        if link == "exp":
            raw = np.asarray(estimator._raw_predict(X), dtype=np.float64).reshape(want.shape)
            return {"max_abs_diff": assert_within("predict", got, want, exp_link_bound(raw, want))}
        np.testing.assert_array_equal(got, want.astype(np.float32).astype(np.float64))
        return {"max_abs_diff": float(np.max(np.abs(got - want))) if got.size else 0.0}
    _assert_labels_identical(cm, estimator, X)
    raw = np.asarray(estimator.decision_function(X), dtype=np.float64)
    got_raw = cm.decision_function(X)
    assert got_raw.shape == raw.shape, (got_raw.shape, raw.shape)
    np.testing.assert_array_equal(got_raw, raw.astype(np.float32).astype(np.float64))
    scores = raw.reshape(len(X), -1)
    B = U32 * np.abs(scores) + 2.0**-149  # the raw scores' rounding to float
    if link == "samme":
        # softmax of {-d, d} / 2 (two classes) or of d / (K - 1): one more
        # rounding where the division is not by 2.
        k = len(estimator.classes_)
        scaled = np.column_stack([-scores[:, 0], scores[:, 0]]) / 2 if k == 2 else scores / (k - 1)
        bound_in = np.abs(scaled) * (U32 if k == 2 else 2 * U32) + 2.0**-149
        bound = proba_bound("softmax", scaled, bound_in)
    elif link == "logistic2x":
        bound = proba_bound("logistic", 2 * scores, 2 * B)
    else:
        bound = proba_bound("logistic" if link == "logistic_positive" else link, scores, B)
    want = estimator.predict_proba(X)
    diff = assert_within("predict_proba", cm.predict_proba(X), want, bound)
    return {"max_abs_diff": float(np.max(np.abs(got_raw - raw))), "max_proba_diff": diff}


class TreeContract(NumericContract):
    statement = (
        "Labels identical to scikit-learn's on every sample, NaN included. dtype=float64: "
        "probabilities and outputs equal scikit-learn's rounded to float32. dtype=float32: "
        "within u * ((T + 1) * A + 2 * |r|), u = 2**-24, for T trees, mean |leaf value| A, result r."
    )

    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        X = np.asarray(X)
        if cm.task == "outlier_detector":
            return assert_outlier_detector_matches(cm, estimator, X)
        if cm.packed.boost:
            return assert_boosted_matches(cm, estimator, X)
        dtype = cm.options["dtype"]
        if hasattr(estimator, "classes_"):
            want_labels = estimator.predict(X)
            got_labels = cm.predict(X)
            bad = np.flatnonzero(want_labels != got_labels)
            if bad.size:
                proba = estimator.predict_proba(X[bad])
                top2 = np.sort(proba, axis=1)[:, -2:]
                raise AssertionError(
                    f"{len(bad)} of {len(X)} labels differ from scikit-learn (first rows {bad[:5].tolist()}); "
                    f"scikit-learn's margin between the top two classes there: {(top2[:, 1] - top2[:, 0])[:5].tolist()}"
                )
            assert got_labels.dtype == want_labels.dtype, (got_labels.dtype, want_labels.dtype)
            want = estimator.predict_proba(X)
            got = cm.predict_proba(X)
        else:
            want = np.asarray(estimator.predict(X), dtype=np.float64)
            got = cm.predict(X)
        assert got.shape == want.shape, (got.shape, want.shape)
        assert got.dtype == np.float64
        if dtype == "float64":
            exact = want.astype(np.float32).astype(np.float64)
            if not np.array_equal(got, exact):
                worst = np.argmax(np.abs(got - exact))
                raise AssertionError(
                    f"float64 model differs from scikit-learn rounded to float32 at flat index {worst}: "
                    f"{got.flat[worst]!r} vs {exact.flat[worst]!r}"
                )
            return {"max_abs_diff": 0.0}
        tol = float32_sum_tolerance(estimator, X, want)
        err = np.abs(got - want)
        if np.any(err > tol):
            worst = np.argmax(err - tol)
            raise AssertionError(
                f"output differs from scikit-learn by {err.flat[worst]:.3g} at flat index {worst}, "
                f"more than float32 rounding allows ({tol.flat[worst]:.3g})"
            )
        return {"max_abs_diff": float(err.max()) if err.size else 0.0}
