"""Equivalence with scikit-learn (level 1): a CModel against its estimator,
computed side by side, by the numeric contract of the model's family
(``emlearn_gen/families/<family>/contract.py``; docs/architecture.md)."""

from __future__ import annotations

from typing import Any, Dict

import numpy as np


def assert_matches_sklearn(cmodel: Any, estimator: Any, X: Any) -> Dict[str, Any]:
    """Asserts that the CModel's outputs agree with the estimator's on X as
    its numeric contract promises (its family's, or a Pipeline's made of its
    parts'); returns what was measured."""
    X = np.asarray(X)
    report = cmodel.contract.assert_matches_sklearn(cmodel, estimator, X)
    if any(ep.log_of for ep in cmodel.entry_points):
        report["max_log_proba_diff"] = assert_log_proba_matches(cmodel, estimator, X)
    if cmodel._lowered.stream is not None:
        report.update(assert_stream_matches(cmodel, estimator, X))
    return report


def assert_log_proba_matches(cmodel: Any, estimator: Any, X: np.ndarray) -> float:
    """predict_log_proba as log_f of predict_proba, against scikit-learn's
    np.log of its predict_proba: for probabilities p (the runtime's) and q
    (scikit-learn's), |ln p - ln q| <= |p - q| / min(p, q) (the mean value
    theorem), where the family's contract has bounded |p - q|; log_f adds
    LOG_MAX_REL_ERROR relative, and 2**-149 where p is subnormal. Zeros
    must agree: ln 0 is -inf on both sides. Returns the largest finite
    difference."""
    from ..core.bounds import LOG_MAX_REL_ERROR

    p = cmodel.predict_proba(X)
    q = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    got = cmodel.predict_log_proba(X)
    with np.errstate(divide="ignore"):  # np.log of a probability of 0
        want = np.asarray(estimator.predict_log_proba(X), dtype=np.float64)
        log_p = np.log(p)
    assert got.shape == want.shape, (got.shape, want.shape)
    zero = (p == 0) | (q == 0)
    if np.any(zero):
        assert np.array_equal(np.isneginf(got[zero]), p[zero] == 0), "log_f(0) is not -inf"
    finite = ~zero
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.abs(p - q) / np.minimum(p, q) + LOG_MAX_REL_ERROR * np.abs(log_p)
    bound = bound + np.where(p < 2.0**-126, 2.0**-149 / np.maximum(p, 2.0**-149), 0.0)
    with np.errstate(invalid="ignore"):  # -inf - -inf where both are 0
        err = np.abs(got - want)
    bad = finite & ~(err <= bound)
    if np.any(bad):
        row, col = np.argwhere(bad)[0]
        raise AssertionError(
            f"predict_log_proba: {int(bad.sum())} values beyond the bound from predict_proba, first at "
            f"[{row}, {col}]: {got[row, col]!r} vs scikit-learn's {want[row, col]!r} (bound {bound[row, col]:.3g})"
        )
    return float(err[finite].max()) if np.any(finite) else 0.0


def _stream_by_hand(stream: Any, source: np.ndarray, classes: Any) -> np.ndarray:
    """What a stream returns, computed with emlearn_gen.signal's public
    post-processing objects on a source's results in scikit-learn's form
    (labels, +1/-1, probabilities, decision values); results in the stream's
    form (labels through ``classes``, or +1/-1). ``source`` comes from
    the CModel or from scikit-learn."""
    from ..signal import Hysteresis, MajorityVote, NOfM

    def label(index: np.ndarray) -> np.ndarray:
        return index if classes is None else np.asarray(classes).take(index)

    if stream.kind == "majority_vote":
        if stream.output == "outlier":
            return MajorityVote(stream.window).update(source.astype(np.int32)).astype(np.int64)
        index = source if classes is None else np.searchsorted(classes, source)
        return label(MajorityVote(stream.window).update(np.asarray(index, dtype=np.int32)))
    if stream.kind in ("moving_average", "exponential_smoothing"):
        return label(np.argmax(_smoother(stream).update(source.astype(np.float32)), axis=1))
    if stream.kind == "hysteresis":
        score = source.astype(np.float32).reshape(-1)
        on = Hysteresis(stream.low, stream.high).update(-score if stream.negate else score)
    else:
        events = source == (-1 if stream.output == "outlier" else np.asarray(classes)[1])
        on = NOfM(stream.n, stream.m).update(events)
    if stream.output == "outlier":
        return np.where(on, -1, 1).astype(np.int64)
    return label(np.where(on, 1, 0))


def _smoother(stream: Any) -> Any:
    """A MovingAverage or ExponentialSmoothing of the stream's parameters."""
    from ..signal import ExponentialSmoothing, MovingAverage

    if stream.kind == "moving_average":
        return MovingAverage(stream.window, stream.n_classes)
    return ExponentialSmoothing(stream.alpha, stream.n_classes)


def _smoothing_margin(stream: Any, cm_proba: np.ndarray, sk_proba: np.ndarray) -> float:
    """How far the smoothed probabilities of the CModel and of scikit-learn
    can be apart: an average (or a convex combination, for exponential
    smoothing) of differences at most max |p - q| apart, plus each side's
    rounding (MovingAverage's and ExponentialSmoothing's stated bounds, with
    probabilities at most 1)."""
    u = 2.0**-24
    rounding = (stream.window + 1) * u / (1 - (stream.window + 1) * u) if stream.kind == "moving_average" else (
        (6 + 1 / stream.alpha) * u)
    return float(np.max(np.abs(cm_proba - sk_proba))) + 2 * rounding


def assert_stream_matches(cmodel: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
    """A stream entry point (convert's postprocess) on the rows of X in
    order: exactly the post-processing objects of emlearn_gen.signal run by
    hand on the CModel's own source results; and against the same objects
    run on scikit-learn's results: identical where the sources agree
    exactly (labels), and for smoothed probabilities, identical on every row
    whose two best smoothed scikit-learn probabilities are further apart
    than the two sides' smoothed probabilities can be. Returns the number
    of rows where scikit-learn's stream differs."""
    stream = cmodel._lowered.stream
    classes = getattr(cmodel, "classes_", None)
    got = cmodel.predict_stream(X)
    mine = getattr(cmodel, stream.source)(X)
    by_hand = _stream_by_hand(stream, mine, classes)
    assert np.array_equal(got, by_hand), "predict_stream is not the post-processing of the model's own results"
    theirs = np.asarray(getattr(estimator, stream.source)(X))
    sk = _stream_by_hand(stream, theirs, classes)
    differ = got != sk
    if stream.kind in ("moving_average", "exponential_smoothing"):
        smoothed = np.sort(_smoother(stream).update(theirs.astype(np.float32)).astype(np.float64), axis=1)
        gap = smoothed[:, -1] - smoothed[:, -2]
        decided = gap > 2 * _smoothing_margin(stream, mine, theirs)
        bad = np.flatnonzero(differ & decided)
        assert bad.size == 0, f"predict_stream differs from scikit-learn's where the smoothing decides, rows {bad[:5]}"
    elif np.array_equal(np.asarray(mine), theirs):
        bad = np.flatnonzero(differ)
        assert bad.size == 0, f"predict_stream differs from scikit-learn's, rows {bad[:5]}, where every source agrees"
    return {"stream_differences": int(np.count_nonzero(differ))}

