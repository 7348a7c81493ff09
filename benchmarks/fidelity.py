"""Fidelity: each tool's compiled results against scikit-learn's, computed in
the same run on the same float32 test rows.

Trees: labels must all be scikit-learn's (run.py fails otherwise). Boosted
trees and isolation forests are judged by the trees family's contract
(emlearn_gen/families/trees/contract.py) on the compiled header's results,
as linear models are by theirs. Linear
models compute in float32 by default, so a label may legitimately differ
where two scores are closer than the rounding bound; that is judged by
emlearn-gen's own numeric contract (emlearn_gen/families/linear/contract.py),
applied to the compiled header's results exactly as the test suite applies
it to the host model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

import numpy as np

from .native import HostResults


@dataclass(frozen=True)
class Reference:
    """scikit-learn's results on the test rows."""

    classes: Optional[np.ndarray]  # classifiers
    predict: np.ndarray  # outlier detectors: +1 inlier, -1 outlier
    proba: Optional[np.ndarray]  # predict_proba, where the estimator has it
    decision: Optional[np.ndarray]  # decision_function, where the estimator has it
    scores: Optional[np.ndarray] = None  # score_samples (outlier detectors)
    clusterer: bool = False  # predict is a component's index (Gaussian mixtures)

    @classmethod
    def of(cls, est: Any, X: np.ndarray) -> "Reference":
        classifier = hasattr(est, "classes_")
        outlier = is_outlier_detector(est)
        clusterer = task_of(est) == "clusterer"
        return cls(
            classes=np.asarray(est.classes_) if classifier else None,
            predict=est.predict(X),
            proba=est.predict_proba(X) if (classifier or clusterer) and hasattr(est, "predict_proba") else None,
            decision=(np.asarray(est.decision_function(X), dtype=np.float64)
                      if (classifier or outlier) and hasattr(est, "decision_function") else None),
            scores=np.asarray(est.score_samples(X), dtype=np.float64) if outlier else None,
            clusterer=clusterer,
        )


def is_outlier_detector(est: Any) -> bool:
    from sklearn.base import is_outlier_detector as sk_is_outlier_detector

    return bool(sk_is_outlier_detector(est))


def task_of(est: Any) -> str:
    """"classifier", "regressor", "outlier_detector" (IsolationForest,
    EllipticEnvelope) or "clusterer" (Gaussian mixtures: predict is the
    most likely component, predict_proba each component's posterior)."""
    if is_outlier_detector(est):
        return "outlier_detector"
    if hasattr(est, "classes_"):
        return "classifier"
    return "clusterer" if hasattr(est, "predict_proba") else "regressor"


def _max_abs(got: np.ndarray, want: np.ndarray) -> float:
    got = got.reshape(want.shape[0], -1).astype(np.float64)
    return float(np.max(np.abs(got - want.reshape(got.shape[0], -1).astype(np.float64))))


def compare(task: str, ref: Reference, res: HostResults, output_kind: str) -> Dict[str, Any]:
    """Labels equal to scikit-learn's (share and count), largest difference of
    the probabilities (classifiers) or outputs (regressors), and of
    decision_function where the tool has one."""
    row: Dict[str, Any] = {}
    if task == "outlier_detector":
        # Labels are +1/-1 as scikit-learn's; outputs are score_samples.
        if res.labels is not None:
            row["labels_equal_pct"] = 100.0 * float(np.mean(res.labels == ref.predict))
            row["labels_differ"] = int(np.sum(res.labels != ref.predict))
        if res.outputs is not None and ref.scores is not None and output_kind == "score":
            row["max_output_err"] = _max_abs(res.outputs, ref.scores)
        if res.decision is not None and ref.decision is not None:
            row["max_decision_err"] = _max_abs(res.decision, ref.decision)
    elif task == "clusterer":
        # Labels are component indices; outputs the components' probabilities.
        if res.labels is not None:
            row["labels_equal_pct"] = 100.0 * float(np.mean(res.labels == ref.predict))
            row["labels_differ"] = int(np.sum(res.labels != ref.predict))
        if res.outputs is not None and ref.proba is not None and output_kind == "proba":
            row["max_output_err"] = _max_abs(res.outputs, ref.proba)
    elif task == "classifier":
        if res.labels is not None:
            want = np.searchsorted(ref.classes, ref.predict)
            row["labels_equal_pct"] = 100.0 * float(np.mean(res.labels == want))
            row["labels_differ"] = int(np.sum(res.labels != want))
        if res.outputs is not None and ref.proba is not None and output_kind in ("proba", "votes"):
            row["max_output_err"] = _max_abs(res.outputs, ref.proba)
        if res.decision is not None and ref.decision is not None:
            row["max_decision_err"] = _max_abs(res.decision, ref.decision)
    elif res.outputs is not None:
        got = res.outputs.reshape(ref.predict.shape[0], -1).astype(np.float64)
        want = ref.predict.reshape(got.shape[0], -1).astype(np.float64)
        err = np.abs(got - want)
        ulp = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
        row["labels_equal_pct"] = 100.0 * float(np.mean(np.all(got.astype(np.float32) == want.astype(np.float32), axis=1)))
        row["max_output_err"] = float(err.max())
        row["max_output_err_ulp"] = float((err / ulp).max())
    return row


# ------------------------------------------------------------ linear models


def linear_tie_zone(est: Any, X: np.ndarray, ref: Reference, res: HostResults) -> Dict[str, Any]:
    """For a linear classifier: the test rows in the tie zone of the float32
    contract (two best scores, or the binary score and 0, closer than the
    bound on float32 rounding) and how many of a tool's differing labels
    lie outside it. Computed for every tool, so that a peer's differences
    are told apart from rounding in the same way as ours."""
    from emlearn_gen.families.linear.contract import score_bounds, tie_zone
    from emlearn_gen.families.linear.convert import convert_linear

    scores, bound = score_bounds(convert_linear(est), X)
    ties = tie_zone(scores, bound)
    row: Dict[str, Any] = {"tie_zone_rows": int(ties.sum())}
    if res.labels is not None:
        differ = res.labels != np.searchsorted(ref.classes, ref.predict)
        row["labels_differ_outside_tie"] = int(np.sum(differ & ~ties))
    return row


class CompiledModel:
    """The compiled header's results shaped as CModel returns them, so that
    the family's contract judges the compiled code exactly as it judges
    ``CModel`` (it calls predict, decision_function, predict_proba and
    score_samples on X; these return what the compiled code wrote for the
    same rows). ``like``, the CModel the header was generated from, answers
    for what the contract reads about the model itself (task, family,
    packed tables, options), and, for a Gaussian mixture, for score_samples
    and score: the compiled code writes the probabilities, and those two
    come from the CModel's kernels (bit-equal to the header's by the test
    suite's level 2)."""

    def __init__(self, X: np.ndarray, ref: Reference, res: HostResults, like: Any = None) -> None:
        self._X = X
        self._ref = ref
        self._res = res
        self._like = like

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or self._like is None:
            raise AttributeError(name)
        return getattr(self._like, name)

    def _same_rows(self, X: np.ndarray) -> None:
        if X.shape != self._X.shape or not np.array_equal(np.asarray(X, dtype=np.float32), self._X, equal_nan=True):
            raise ValueError("CompiledModel only answers for the rows the compiled code ran on")

    def predict(self, X: np.ndarray) -> np.ndarray:
        self._same_rows(X)
        if self._ref.scores is not None:  # outlier detector: +1/-1, in scikit-learn's dtype
            if self._res.labels is None:
                raise AssertionError("the compiled code has no predict")
            return self._res.labels.astype(self._ref.predict.dtype)
        if self._ref.classes is not None:
            if self._res.labels is None:
                raise AssertionError("the compiled code has no predict")
            return self._ref.classes.take(self._res.labels)
        if self._ref.clusterer:  # component indices, in scikit-learn's dtype
            if self._res.labels is None:
                raise AssertionError("the compiled code has no predict")
            return self._res.labels.astype(self._ref.predict.dtype)
        if self._res.outputs is None:
            raise AssertionError("the compiled code has no predict")
        return self._res.outputs.astype(np.float64).reshape(self._ref.predict.shape)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        self._same_rows(X)
        if self._res.decision is None or self._ref.decision is None:
            raise AssertionError("the compiled code has no decision_function")
        return self._res.decision.reshape(self._ref.decision.shape)

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        self._same_rows(X)
        if self._ref.clusterer and self._like is not None:
            return self._like.score_samples(X)
        if self._res.outputs is None or self._ref.scores is None:
            raise AssertionError("the compiled code has no score_samples")
        return self._res.outputs.astype(np.float64).reshape(self._ref.scores.shape)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        self._same_rows(X)
        if self._res.outputs is None or self._ref.proba is None:
            raise AssertionError("the compiled code has no predict_proba")
        return self._res.outputs.astype(np.float64).reshape(self._ref.proba.shape)


def check_contract(contract: Any, model: Any, est: Any, X: np.ndarray, prefix: str = "") -> Dict[str, Any]:
    """Runs the family's numeric contract on ``model`` (a CModel or a
    CompiledModel). ``{prefix}contract`` is "kept" or the broken promise;
    the contract's own measurements come along (tie zone, label
    differences, largest differences)."""
    try:
        measured = contract.assert_matches_sklearn(model, est, X)
    except AssertionError as exc:
        return {f"{prefix}contract": f"broken: {exc}"}
    row: Dict[str, Any] = {f"{prefix}contract": "kept"}
    for key in ("tie_zone", "label_differences", "max_abs_diff", "max_proba_diff", "max_decision_diff"):
        if key in measured:
            row[f"{prefix}contract_{key}"] = measured[key]
    return row
