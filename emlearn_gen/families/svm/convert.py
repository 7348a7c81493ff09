"""scikit-learn's kernel SVMs -> SVMModel IR. Reads fitted attributes only."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import svm

from ...core.labels import check_single_output_classes
from .ir import KERNELS, SVMModel

CLASSIFIERS = (svm.SVC, svm.NuSVC)
REGRESSORS = (svm.SVR, svm.NuSVR)
OUTLIER_DETECTORS = (svm.OneClassSVM,)
SUPPORTED = CLASSIFIERS + REGRESSORS + OUTLIER_DETECTORS


def _fitted(estimator: Any, attribute: str) -> Any:
    value = getattr(estimator, attribute, None)
    if value is None:
        raise ValueError(f"{type(estimator).__name__} has no fitted {attribute}; fit it before converting")
    return value


def _array(estimator: Any, attribute: str, ndim: int) -> np.ndarray:
    name = type(estimator).__name__
    value = _fitted(estimator, attribute)
    if hasattr(value, "toarray"):
        raise ValueError(
            f"{name} was fitted on a sparse matrix; emlearn_gen converts SVMs fitted on dense "
            "arrays (fit it on X.toarray())"
        )
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}.{attribute} is not numeric: {exc}") from exc
    if array.ndim != ndim:
        raise ValueError(f"{name}.{attribute} has {array.ndim} dimensions; expected {ndim}")
    return array


def _kernel(estimator: Any) -> str:
    kernel = getattr(estimator, "kernel", None)
    if not isinstance(kernel, str) or kernel not in KERNELS:
        got = "a callable" if callable(kernel) else repr(kernel)
        raise ValueError(
            f"{type(estimator).__name__} has kernel {got}; emlearn_gen converts the kernels "
            f"{', '.join(sorted(KERNELS))} (a precomputed or callable kernel needs the training data "
            "at prediction time)"
        )
    return kernel


def _scalar(estimator: Any, attribute: str) -> float:
    try:
        return float(np.asarray(_fitted(estimator, attribute), dtype=np.float64).reshape(()))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{type(estimator).__name__}.{attribute} is not a number: {exc}") from exc


def convert_svm(estimator: Any) -> SVMModel:
    """IR of a fitted SVC, NuSVC, SVR, NuSVR or OneClassSVM."""
    name = type(estimator).__name__
    kernel = _kernel(estimator)
    sv = _array(estimator, "support_vectors_", 2)
    dual_coef = _array(estimator, "_dual_coef_", 2)
    intercepts = _array(estimator, "_intercept_", 1)
    n_features = int(getattr(estimator, "n_features_in_", sv.shape[1]))
    if n_features != sv.shape[1]:
        raise ValueError(f"{name}: n_features_in_ is {n_features} but support_vectors_ has {sv.shape[1]} columns")
    degree = _fitted(estimator, "degree")
    if isinstance(degree, (bool, np.bool_)) or not float(degree).is_integer():
        raise ValueError(f"{name}.degree must be an integer, got {degree!r}")
    common = dict(
        kernel=kernel,
        gamma=_scalar(estimator, "_gamma"),
        coef0=_scalar(estimator, "coef0"),
        degree=int(degree),
        support_vectors=np.ascontiguousarray(sv),
        dual_coef=np.ascontiguousarray(dual_coef),
        intercepts=intercepts.reshape(-1),
    )
    if isinstance(estimator, CLASSIFIERS):
        # probA_ and probB_ warn (deprecated with probability=True in 1.9).
        prob_a = np.asarray(getattr(estimator, "_probA", ()), dtype=np.float64).reshape(-1)
        prob_b = np.asarray(getattr(estimator, "_probB", ()), dtype=np.float64).reshape(-1)
        classes = check_single_output_classes(estimator.classes_, 1, name)
        n_support = np.asarray(_fitted(estimator, "n_support_"), dtype=np.int64).reshape(-1)
        if len(n_support) != len(classes):
            raise ValueError(f"{name}: n_support_ has {len(n_support)} counts for {len(classes)} classes")
        shape = getattr(estimator, "decision_function_shape", "ovr")
        if shape not in ("ovr", "ovo"):
            raise ValueError(f"{name}.decision_function_shape must be 'ovr' or 'ovo', got {shape!r}")
        break_ties = bool(getattr(estimator, "break_ties", False))
        if break_ties and shape == "ovo":
            # scikit-learn's predict raises this; so does conversion.
            raise ValueError(f"{name}: break_ties must be False when decision_function_shape is 'ovo'")
        ir = SVMModel(
            "classifier",
            class_start=np.concatenate([[0], np.cumsum(n_support)]),
            ovr=shape == "ovr",
            break_ties=break_ties,
            classes=classes,
            prob_a=prob_a if prob_a.size else None,
            prob_b=prob_b if prob_a.size else None,
            **common,
        )
    else:
        task = "outlier_detector" if isinstance(estimator, OUTLIER_DETECTORS) else "regressor"
        offset = _scalar(estimator, "offset_") if task == "outlier_detector" else 0.0
        ir = SVMModel(task, class_start=np.array([0, sv.shape[0]]), offset=offset, **common)
    ir.validate()
    return ir
