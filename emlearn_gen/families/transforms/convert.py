"""Fitted scikit-learn transformers (alone or in a Pipeline of transformers
only) -> TransformProgram. Reads fitted attributes only."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import numpy as np
from sklearn import decomposition, feature_selection, impute, pipeline, preprocessing
from sklearn.feature_selection._base import SelectorMixin

from ...core.pipeline import flat_steps
from .ir import Step, TransformProgram

#: The selectors: every one keeps the columns of its get_support().
SELECTORS: Tuple[type, ...] = (
    feature_selection.VarianceThreshold,
    feature_selection.SelectKBest,
    feature_selection.SelectPercentile,
    feature_selection.SelectFpr,
    feature_selection.SelectFdr,
    feature_selection.SelectFwe,
    feature_selection.GenericUnivariateSelect,
    feature_selection.SelectFromModel,
    feature_selection.RFE,
    feature_selection.RFECV,
    feature_selection.SequentialFeatureSelector,
)

_EMPTY_INDICES = np.zeros(0, dtype=np.int64)


def _array(values: Any, n: int, what: str) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64).reshape(-1)
    if out.shape != (n,):
        raise ValueError(f"{what} has {out.size} values for {n} features; refit the step")
    return out


def _finite(values: np.ndarray, what: str) -> np.ndarray:
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} holds a value that is not finite; refit the step on finite data")
    return values


def _float32_range(values: np.ndarray, what: str) -> np.ndarray:
    if np.any(np.abs(values) > np.finfo(np.float32).max):
        raise ValueError(
            f"{what} holds a value beyond float32's range ({np.abs(values).max():.3g}): the device "
            "computes in float32; rescale the data before fitting"
        )
    return values


def _params(*parts: np.ndarray, what: str) -> np.ndarray:
    return _float32_range(_finite(np.concatenate(parts), what), what)


def _center_divide(n: int, center: Any, scale: Any, source: str) -> Step:
    c = np.zeros(n) if center is None else _array(center, n, f"{source} centre")
    s = np.ones(n) if scale is None else _array(scale, n, f"{source} scale")
    if np.any(s == 0):
        raise ValueError(f"{source} has a scale of 0; scikit-learn never fits one: refit the step")
    return Step("center_divide", n, n, _params(c, s, what=source), _EMPTY_INDICES, source)


def _standard(est: preprocessing.StandardScaler, n: int) -> List[Step]:
    mean = est.mean_ if est.with_mean else None
    return [_center_divide(n, mean, est.scale_ if est.with_std else None, "StandardScaler")]


def _robust(est: preprocessing.RobustScaler, n: int) -> List[Step]:
    center = est.center_ if est.with_centering else None
    return [_center_divide(n, center, est.scale_ if est.with_scaling else None, "RobustScaler")]


def _max_abs(est: preprocessing.MaxAbsScaler, n: int) -> List[Step]:
    return [_center_divide(n, None, est.scale_, "MaxAbsScaler")]


def _min_max(est: preprocessing.MinMaxScaler, n: int) -> List[Step]:
    scale = _array(est.scale_, n, "MinMaxScaler scale_")
    offset = _array(est.min_, n, "MinMaxScaler min_")
    steps = [Step("multiply_add", n, n, _params(scale, offset, what="MinMaxScaler"), _EMPTY_INDICES, "MinMaxScaler")]
    if est.clip:
        lo, hi = (float(v) for v in est.feature_range)
        steps.append(Step("clip", n, n, _params(np.array([lo, hi]), what="MinMaxScaler feature_range"),
                          _EMPTY_INDICES, "MinMaxScaler"))
    return steps


def _normalizer(est: preprocessing.Normalizer, n: int) -> List[Step]:
    if est.norm not in ("l1", "l2", "max"):
        raise ValueError(f"Normalizer norm={est.norm!r}: supported norms are 'l1', 'l2' and 'max'")
    return [Step(f"normalize_{est.norm}", n, n, np.zeros(0), _EMPTY_INDICES, "Normalizer", refuses_nan=True)]


def _binarizer(est: preprocessing.Binarizer, n: int) -> List[Step]:
    threshold = np.array([float(est.threshold)])
    return [Step("binarize", n, n, _params(threshold, what="Binarizer threshold"), _EMPTY_INDICES, "Binarizer",
                 refuses_nan=True)]


def _select(support: np.ndarray, n: int, source: str, refuses_nan: bool = False) -> Step:
    support = np.asarray(support, dtype=bool).reshape(-1)
    if support.shape != (n,):
        raise ValueError(f"{source} selects from {support.size} features, but {n} reach it; refit the step")
    indices = np.flatnonzero(support).astype(np.int64)
    if indices.size == 0:
        raise ValueError(f"{source} keeps no feature: a model needs at least one; refit it with a looser criterion")
    return Step("select", n, int(indices.size), np.zeros(0), indices, source, refuses_nan=refuses_nan)


def _selector(est: SelectorMixin, n: int) -> List[Step]:
    source = type(est).__name__
    support = est.get_support()
    # The selectors check X as they were fitted: NaN only where their scorer allowed it.
    allow_nan = est.__sklearn_tags__().input_tags.allow_nan
    return [_select(support, n, source, refuses_nan=not allow_nan)]


def _imputer(est: impute.SimpleImputer, n: int) -> List[Step]:
    missing = est.missing_values
    if not (isinstance(missing, float) and np.isnan(missing)):
        raise ValueError(
            f"SimpleImputer(missing_values={missing!r}): only NaN marks a missing value on the device; "
            "fit the imputer with missing_values=np.nan"
        )
    if est.add_indicator:
        raise ValueError(
            "SimpleImputer(add_indicator=True) is not supported; fit it with add_indicator=False"
        )
    try:
        values = np.asarray(est.statistics_, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError("SimpleImputer holds statistics that are not numbers; fit it on numeric data") from None
    values = _array(values, n, "SimpleImputer statistics_")
    kept = ~np.isnan(values)
    _float32_range(values[kept], "SimpleImputer statistics_")
    if np.any(np.isinf(values)):
        raise ValueError("SimpleImputer fills with an infinite value; fit it with a finite fill_value")
    steps = [Step("impute", n, n, values, _EMPTY_INDICES, "SimpleImputer")]
    if not kept.all() and not est.keep_empty_features:
        # scikit-learn drops the features that had no value in training.
        steps.append(_select(kept, n, "SimpleImputer"))
    return steps


def _projection(est: Any, n: int, mean: Any, source: str) -> List[Step]:
    components = np.asarray(est.components_, dtype=np.float64)
    k = components.shape[0]
    if components.shape != (k, n) or k == 0:
        raise ValueError(f"{source} components_ has shape {components.shape} for {n} features; refit it")
    m = np.zeros(n) if mean is None else _array(mean, n, f"{source} mean_")
    weights = components
    if getattr(est, "whiten", False):
        # scikit-learn divides by the deviation of each component, floored at eps.
        scale = np.sqrt(np.asarray(est.explained_variance_, dtype=np.float64))
        scale[scale < np.finfo(scale.dtype).eps] = np.finfo(scale.dtype).eps
        weights = components / scale[:, None]
    return [Step("project", n, k, _params(m, weights.reshape(-1), what=source), _EMPTY_INDICES, source,
                 refuses_nan=True)]


def _pca(est: decomposition.PCA, n: int) -> List[Step]:
    return _projection(est, n, est.mean_, "PCA")


def pca_quadratic(est: decomposition.PCA) -> np.ndarray:
    """PCA.score_samples as q's upper triangle and c: scikit-learn's
    -1/2 d^T P d - 1/2 (n log 2 pi - log det P) with P symmetric."""
    from sklearn.utils.extmath import fast_logdet

    precision = np.asarray(est.get_precision(), dtype=np.float64)
    n = precision.shape[0]
    constant = -0.5 * (n * np.log(2.0 * np.pi) - fast_logdet(precision))
    q = -precision.copy()
    q[np.diag_indices(n)] *= 0.5
    values = np.concatenate([q[np.triu_indices(n)], [constant]])
    if not np.all(np.isfinite(values)):
        raise ValueError(
            "PCA's precision matrix is singular (a feature of zero variance?), so its score_samples "
            "is not finite; drop constant features before the PCA (VarianceThreshold) or use fewer components"
        )
    return _float32_range(values, "PCA precision")


def _truncated_svd(est: decomposition.TruncatedSVD, n: int) -> List[Step]:
    return _projection(est, n, None, "TruncatedSVD")


def _with_nan_check(convert_step: Callable[[Any, int], List[Step]]) -> Callable[[Any, int], List[Step]]:
    """A converter whose first step refuses NaN where the estimator's tags do."""

    def converted(est: Any, n: int) -> List[Step]:
        steps = convert_step(est, n)
        if not est.__sklearn_tags__().input_tags.allow_nan and not steps[0].refuses_nan:
            first = steps[0]
            steps[0] = Step(first.op, first.n_in, first.n_out, first.params, first.indices, first.source, True)
        return steps

    return converted


CONVERTERS: Dict[type, Callable[[Any, int], List[Step]]] = {
    preprocessing.StandardScaler: _with_nan_check(_standard),
    preprocessing.RobustScaler: _with_nan_check(_robust),
    preprocessing.MaxAbsScaler: _with_nan_check(_max_abs),
    preprocessing.MinMaxScaler: _with_nan_check(_min_max),
    preprocessing.Normalizer: _normalizer,
    preprocessing.Binarizer: _binarizer,
    impute.SimpleImputer: _imputer,
    decomposition.PCA: _pca,
    decomposition.TruncatedSVD: _truncated_svd,
    **{cls: _selector for cls in SELECTORS},
}

#: Transformer classes the family converts (a Pipeline of them too).
SUPPORTED: Tuple[type, ...] = tuple(CONVERTERS)


def supported_names() -> str:
    return ", ".join(sorted(cls.__name__ for cls in SUPPORTED))


def step_steps(est: Any, n_in: int, where: str) -> List[Step]:
    convert_step = CONVERTERS.get(type(est))
    if convert_step is None and not hasattr(est, "transform"):
        raise TypeError(
            f"{where} is a {type(est).__name__}, a model: only the last step of a Pipeline may be one. "
            "Put the feature steps first and the model last"
        )
    if convert_step is None:
        raise TypeError(
            f"{where} is a {type(est).__name__}, which emlearn_gen cannot convert as a step. "
            f"Supported steps: {supported_names()}"
        )
    n_fitted = getattr(est, "n_features_in_", None)
    if n_fitted is not None and int(n_fitted) != n_in:
        raise ValueError(f"{where} was fitted on {n_fitted} features, but {n_in} reach it; refit the pipeline")
    return convert_step(est, n_in)


def convert_transforms(est: Any) -> TransformProgram:
    """The program of a fitted transformer, or of a Pipeline of them."""
    if isinstance(est, pipeline.Pipeline):
        named = flat_steps(est)
        if not named:
            raise ValueError("the Pipeline has no step that transforms; give it at least one")
        n_features = int(est.n_features_in_)
        where = [f"Pipeline step {name!r}" for name, _ in named]
        estimators = [step for _, step in named]
    else:
        n_features = int(est.n_features_in_)
        where = [type(est).__name__]
        estimators = [est]
    last = estimators[-1]
    if hasattr(last, "predict"):
        raise TypeError(
            f"{where[-1]} ({type(last).__name__}) predicts through its own estimator, which emlearn_gen "
            "converts only as a feature-selection step before another step: refit it in a Pipeline "
            "followed by the step or model that uses the features"
        )
    steps: List[Step] = []
    n_in = n_features
    for place, step in zip(where, estimators):
        converted = step_steps(step, n_in, place)
        steps.extend(converted)
        n_in = converted[-1].n_out
    quadratic = pca_quadratic(last) if isinstance(last, decomposition.PCA) else None
    return TransformProgram(tuple(steps), n_features, quadratic)
