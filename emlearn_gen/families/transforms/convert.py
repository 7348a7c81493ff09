"""Fitted scikit-learn transformers (alone or in a Pipeline of transformers
only) -> TransformProgram. Reads fitted attributes only."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np
from sklearn import compose, decomposition, feature_selection, impute, pipeline, preprocessing
from sklearn.feature_selection._base import SelectorMixin

from ...core.pipeline import flat_steps
from ...core.validation import accepts_nan
from .ir import FUNCTIONS, SPLINE_MAX_DEGREE, SPLINE_MODES, Step, TransformProgram
from .signal import SIGNAL_STEPS, SignalStep

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
    if not est.add_indicator:
        return steps
    # [imputed features, missing flags]: the flagged columns are copied
    # beside the row first, the imputer works on the front, the flags on the back.
    flagged = np.asarray(est.indicator_.features_, dtype=np.int64)
    if flagged.size == 0:
        return steps
    k = int(flagged.size)
    copy = Step("select", n, n + k, np.zeros(0), np.concatenate([np.arange(n), flagged]), "SimpleImputer")
    front = place(steps, before=0, after=k)
    width = front[-1].n_out - k
    flags = Step("missing_flags", width + k, width + k, np.zeros(0), _EMPTY_INDICES, "SimpleImputer",
                 first=width, count=k)
    return [copy, *front, flags]


def _missing_indicator(est: impute.MissingIndicator, n: int) -> List[Step]:
    missing = est.missing_values
    if not (isinstance(missing, float) and np.isnan(missing)):
        raise ValueError(
            f"MissingIndicator(missing_values={missing!r}): only NaN marks a missing value on the device; "
            "fit it with missing_values=np.nan"
        )
    if est.error_on_new and est.features == "missing-only":
        raise ValueError(
            "MissingIndicator(error_on_new=True) raises on NaN in a feature that had none in training; "
            "a device cannot raise. Fit it with error_on_new=False (such NaN is then not flagged, as "
            "scikit-learn does) or features='all'"
        )
    flagged = np.asarray(est.features_, dtype=np.int64)
    if flagged.size == 0:
        raise ValueError("MissingIndicator flags no feature (none had NaN in training); drop the step")
    support = np.zeros(n, dtype=bool)
    support[flagged] = True
    k = int(flagged.size)
    return [_select(support, n, "MissingIndicator"),
            Step("missing_flags", k, k, np.zeros(0), _EMPTY_INDICES, "MissingIndicator")]


def _polynomial(est: preprocessing.PolynomialFeatures, n: int) -> List[Step]:
    powers = np.asarray(est.powers_, dtype=np.int64)
    if powers.ndim != 2 or powers.shape[1] != n or np.any(powers < 0):
        raise ValueError(f"PolynomialFeatures powers_ has shape {powers.shape} for {n} features; refit it")
    indices: List[int] = []
    for row in powers:
        factors = np.repeat(np.arange(n), row)
        indices.append(int(factors.size))
        indices.extend(int(i) for i in factors)
    return [Step("polynomial", n, int(powers.shape[0]), np.zeros(0), np.asarray(indices, dtype=np.int64),
                 "PolynomialFeatures", refuses_nan=True)]


def smallest_float32_at_least(values: np.ndarray) -> np.ndarray:
    """For each float64 value e, the smallest float32 t with t >= e, so that
    x >= e and x >= t agree for every float32 x."""
    values = np.asarray(values, dtype=np.float64)
    t = values.astype(np.float32)
    below = t.astype(np.float64) < values
    t[below] = np.nextafter(t[below], np.float32(np.inf))
    return t.astype(np.float64)


def _discretizer(est: preprocessing.KBinsDiscretizer, n: int) -> List[Step]:
    if est.encode != "ordinal":
        raise ValueError(
            f"KBinsDiscretizer(encode={est.encode!r}): only encode='ordinal' is supported; follow it with "
            "the model directly (trees split on bin numbers as well)"
        )
    edges = [np.asarray(e, dtype=np.float64)[1:-1] for e in est.bin_edges_]
    if len(edges) != n:
        raise ValueError(f"KBinsDiscretizer has bin edges for {len(edges)} features, but {n} reach it; refit it")
    # scikit-learn counts the inner edges e <= x (searchsorted, side="right").
    thresholds = [smallest_float32_at_least(_finite(e, "KBinsDiscretizer bin_edges_")) for e in edges]
    params = np.concatenate(thresholds) if thresholds else np.zeros(0)
    counts = np.asarray([t.size for t in thresholds], dtype=np.int64)
    return [Step("discretize", n, n, _float32_range(params, "KBinsDiscretizer bin_edges_"), counts,
                 "KBinsDiscretizer", refuses_nan=True)]


#: numpy functions a FunctionTransformer may apply, by the ufunc.
_UFUNCS = {getattr(np, name): name for name in FUNCTIONS} | {np.abs: "absolute"}


def _function(est: preprocessing.FunctionTransformer, n: int) -> List[Step]:
    func = est.func
    kw = dict(est.kw_args or {})
    supported = ", ".join(f"np.{name}" for name in sorted(FUNCTIONS)) + ", np.clip (a_min, a_max)"
    if func is None and not kw:
        return [Step("select", n, n, np.zeros(0), np.arange(n), "FunctionTransformer")]
    if func is np.clip and set(kw) <= {"a_min", "a_max"} and kw:
        lo = float(kw.get("a_min", -np.inf) if kw.get("a_min") is not None else -np.inf)
        hi = float(kw.get("a_max", np.inf) if kw.get("a_max") is not None else np.inf)
        if not lo <= hi:
            raise ValueError(f"FunctionTransformer(np.clip): a_min {lo} is above a_max {hi}")
        return [Step("clip", n, n, np.array([lo, hi]), _EMPTY_INDICES, "FunctionTransformer")]
    name = _UFUNCS.get(func)
    if name is None or kw:
        shown = getattr(func, "__name__", repr(func))
        raise ValueError(
            f"FunctionTransformer(func={shown}{', kw_args=' + repr(kw) if kw else ''}) has no C equivalent "
            f"emlearn_gen knows; supported: {supported} (without other arguments)"
        )
    return [Step("function", n, n, np.zeros(0), np.array([FUNCTIONS[name]]), "FunctionTransformer",
                 refuses_nan=bool(est.validate))]


def _spline_boundary(spl: Any, extrapolation: str, degree: int, n_splines: int) -> np.ndarray:
    """The boundary splines' values and slopes at the base knots' ends, as
    scikit-learn computes them for constant and linear extrapolation
    (empty for the other modes): first splines' values, slopes, last
    splines' values, slopes."""
    if extrapolation not in ("constant", "linear"):
        return np.zeros(0)
    # scikit-learn continues `degree` splines at each end (degree + 1 linearly for degree <= 1).
    n_b = degree if extrapolation == "constant" else (degree + 1 if degree <= 1 else degree)
    xmin, xmax = spl.t[degree], spl.t[-degree - 1]
    f_min, f_max = np.asarray(spl(xmin)), np.asarray(spl(xmax))
    if extrapolation == "linear":
        fp_min, fp_max = np.asarray(spl(xmin, nu=1)), np.asarray(spl(xmax, nu=1))
    else:
        fp_min = fp_max = np.zeros(n_splines)
    last = slice(n_splines - n_b, n_splines)
    return np.concatenate([f_min[:n_b], fp_min[:n_b], f_max[last], fp_max[last]])


def _spline(est: preprocessing.SplineTransformer, n: int) -> List[Step]:
    """Per feature: its knot vector (scikit-learn's bsplines_[i].t) and the
    boundary values extrapolation needs; the basis is computed on the
    device by Cox-de Boor's recursion."""
    if est.sparse_output:
        raise ValueError("SplineTransformer(sparse_output=True): the device writes dense rows; "
                         "fit it with sparse_output=False")
    degree = int(est.degree)
    if degree > SPLINE_MAX_DEGREE:
        raise ValueError(
            f"SplineTransformer(degree={degree}): the device evaluates splines of degree up to "
            f"{SPLINE_MAX_DEGREE} (cubic); fit it with degree <= {SPLINE_MAX_DEGREE}"
        )
    extrapolation = str(est.extrapolation)
    if extrapolation not in SPLINE_MODES:
        raise ValueError(f"SplineTransformer(extrapolation={extrapolation!r}): supported are "
                         f"{', '.join(repr(m) for m in SPLINE_MODES)}")
    splines = list(est.bsplines_)
    if extrapolation == "linear" and degree <= 1 and n > 1:
        # scikit-learn 1.9's transform raises the degree it uses to 2 while
        # handling the first feature and keeps it for the others, taking
        # their range from the wrong knots: its values are not the splines'.
        raise ValueError(
            f"SplineTransformer(extrapolation='linear', degree={degree}) on {n} features: scikit-learn "
            "extrapolates every feature after the first from the wrong knots at this degree, which the "
            "device would not reproduce. Use degree >= 2, or one SplineTransformer per feature "
            "(a ColumnTransformer)"
        )
    if len(splines) != n:
        raise ValueError(f"SplineTransformer has splines for {len(splines)} features, but {n} reach it; refit it")
    n_splines = int(splines[0].c.shape[1])
    n_kept = n_splines - 1 + int(bool(est.include_bias))
    if n_kept == 0:
        raise ValueError("SplineTransformer writes no feature (one spline, include_bias=False); "
                         "fit it with more knots or include_bias=True")
    params = []
    for i, spl in enumerate(splines):
        knots = _float32_range(_finite(np.asarray(spl.t, dtype=np.float64), "SplineTransformer knots"),
                               "SplineTransformer knots")
        # Cox-de Boor divides by knot differences (skipping those of repeated
        # knots, as scipy does): knots apart in float64 must stay apart in float32.
        if np.any((np.diff(knots.astype(np.float32)) <= 0) & (np.diff(knots) > 0)):
            raise ValueError(
                f"SplineTransformer's knots of feature {i} are not distinct in float32 (the feature's range "
                "is tiny against its magnitude): the device computes in float32; centre or rescale the "
                "feature before the SplineTransformer, or use fewer knots"
            )
        boundary = _spline_boundary(spl, extrapolation, degree, n_splines)
        params.append(_params(knots, boundary, what="SplineTransformer"))
    n_t = int(splines[0].t.size)
    n_b = (params[0].size - n_t) // 4
    indices = np.array([degree, SPLINE_MODES[extrapolation], n_t, n_splines, n_kept, n_b], dtype=np.int64)
    return [Step("spline", n, n * n_kept, np.concatenate(params), indices, "SplineTransformer",
                 refuses_nan=est.handle_missing != "zeros", range_checked=extrapolation == "error")]


def _parts(trans: Any) -> List[Any]:
    """The steps of one transformer of a ColumnTransformer or FeatureUnion:
    none for "passthrough", a Pipeline's own steps, or itself."""
    if isinstance(trans, str) and trans == "passthrough":
        return []
    if isinstance(trans, pipeline.Pipeline):
        return [step for _, step in flat_steps(trans)]
    return [trans]


def _side_by_side(segments: Sequence[Tuple[str, List[Any], np.ndarray]], n: int, source: str) -> List[Step]:
    """Every transformer's input columns side by side (one select, which may
    copy a column into several parts: parts reading the same columns, as a
    FeatureUnion's all do, each get their own copy), then each
    transformer's steps on its slice of the row."""
    layout = np.concatenate([columns for _, _, columns in segments])
    steps: List[Step] = [Step("select", n, int(layout.size), np.zeros(0), layout, source)]
    widths = [int(columns.size) for _, _, columns in segments]
    for k, (name, parts, columns) in enumerate(segments):
        width = int(columns.size)
        inner: List[Step] = []
        for part in parts:
            converted = step_steps(part, width, f"{source} transformer {name!r}")
            inner.extend(converted)
            width = converted[-1].n_out
        before = sum(widths[:k])
        after = sum(widths[k + 1 :])
        steps.extend(place(inner, before=before, after=after))
        widths[k] = width
    return steps


def _column_transformer(est: compose.ColumnTransformer, n: int) -> List[Step]:
    """Every transformer's columns side by side (one select), then each
    transformer's steps on its slice of the row."""
    segments: List[Tuple[str, List[Any], np.ndarray]] = []
    inputs = getattr(est, "_transformer_to_input_indices", {})
    for name, trans, _ in est.transformers_:
        if isinstance(trans, str) and trans == "drop":
            continue
        columns = np.asarray(inputs.get(name, []), dtype=np.int64)
        if columns.size == 0:
            continue
        segments.append((name, _parts(trans), columns))
    if not segments:
        raise ValueError("the ColumnTransformer outputs no column; give it at least one transformer or passthrough")
    return _side_by_side(segments, n, "ColumnTransformer")


def _feature_union(est: pipeline.FeatureUnion, n: int) -> List[Step]:
    """Each transformer on its own copy of the whole row, their outputs side
    by side (scikit-learn's hstack of the parts' transforms)."""
    if est.transformer_weights:
        raise ValueError(
            "FeatureUnion(transformer_weights=...) scales its parts' outputs, which emlearn_gen does not "
            "convert; leave the weights out and let a scaler after the union (or the model) weigh the features"
        )
    whole = np.arange(n, dtype=np.int64)
    segments = [(name, _parts(trans), whole) for name, trans in est.transformer_list
                if not (isinstance(trans, str) and trans == "drop") and trans is not None]
    if not segments:
        raise ValueError("the FeatureUnion outputs no column; give it at least one transformer or passthrough")
    return _side_by_side(segments, n, "FeatureUnion")


def place(steps: Sequence[Step], before: int, after: int) -> List[Step]:
    """Steps converted for a row of their own, moved onto a row with
    ``before`` values in front of it and ``after`` behind."""
    return [
        dataclasses.replace(s, n_in=before + s.n_in + after, n_out=before + s.n_out + after,
                            first=before + s.first, count=s.n_slice)
        for s in steps
    ]


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


CONVERTERS: Dict[type, Callable[[Any, int], List[Step]]] = {
    impute.MissingIndicator: _missing_indicator,
    preprocessing.PolynomialFeatures: _polynomial,
    preprocessing.KBinsDiscretizer: _discretizer,
    preprocessing.SplineTransformer: _spline,
    preprocessing.FunctionTransformer: _function,
    compose.ColumnTransformer: _column_transformer,
    pipeline.FeatureUnion: _feature_union,
    preprocessing.StandardScaler: _standard,
    preprocessing.RobustScaler: _robust,
    preprocessing.MaxAbsScaler: _max_abs,
    preprocessing.MinMaxScaler: _min_max,
    preprocessing.Normalizer: _normalizer,
    preprocessing.Binarizer: _binarizer,
    impute.SimpleImputer: _imputer,
    decomposition.PCA: _pca,
    decomposition.TruncatedSVD: _truncated_svd,
    **{cls: _selector for cls in SELECTORS},
}


def _signal_converter(signal: SignalStep) -> Callable[[Any, int], List[Step]]:
    def convert(est: Any, n: int) -> List[Step]:
        return [signal.to_step(est, n)]

    return convert


# Signal transformers (emlearn_gen.signal) convert as one op each (signal.py).
CONVERTERS.update({signal.estimator: _signal_converter(signal) for signal in SIGNAL_STEPS})

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
    steps = convert_step(est, n_in)
    # NaN is refused where scikit-learn's step refuses it (a ColumnTransformer
    # or FeatureUnion leaves that to each of its transformers).
    if (not isinstance(est, (compose.ColumnTransformer, pipeline.FeatureUnion)) and not accepts_nan(est)
            and not steps[0].refuses_nan):
        steps[0] = dataclasses.replace(steps[0], refuses_nan=True)
    return steps


def _fitted_width(est: Any) -> int:
    """The number of features ``est`` was fitted on; a ValueError saying to
    fit it where it has none (a FunctionTransformer never fitted)."""
    width = getattr(est, "n_features_in_", None)
    if width is None:
        raise ValueError(
            f"{type(est).__name__} has no n_features_in_: fit it on data before converting, so that the "
            "number of features the device passes is known"
        )
    return int(width)


def convert_transforms(est: Any) -> TransformProgram:
    """The program of a fitted transformer, or of a Pipeline of them."""
    if isinstance(est, pipeline.Pipeline):
        named = flat_steps(est)
        if not named:
            raise ValueError("the Pipeline has no step that transforms; give it at least one")
        n_features = _fitted_width(named[0][1])
        where = [f"Pipeline step {name!r}" for name, _ in named]
        estimators = [step for _, step in named]
    else:
        n_features = _fitted_width(est)
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


def _inverse_steps(transformer: Any, n: int) -> List[Step]:
    """Steps computing ``transformer.inverse_transform`` as scikit-learn does."""
    source = f"{type(transformer).__name__}.inverse_transform"
    if isinstance(transformer, preprocessing.StandardScaler):
        # X *= scale_; X += mean_
        scale = transformer.scale_ if transformer.with_std else None
        mean = transformer.mean_ if transformer.with_mean else None
        return [_multiply_add(n, scale, mean, source)]
    if isinstance(transformer, preprocessing.RobustScaler):
        scale = transformer.scale_ if transformer.with_scaling else None
        center = transformer.center_ if transformer.with_centering else None
        return [_multiply_add(n, scale, center, source)]
    if isinstance(transformer, preprocessing.MaxAbsScaler):
        return [_multiply_add(n, transformer.scale_, None, source)]
    if isinstance(transformer, preprocessing.MinMaxScaler):
        # X -= min_; X /= scale_
        return [_center_divide(n, transformer.min_, transformer.scale_, source)]
    if isinstance(transformer, preprocessing.FunctionTransformer):
        inverse = transformer.inverse_func
        if inverse is None:
            return [Step("select", n, n, np.zeros(0), np.arange(n), source)]
        name = _UFUNCS.get(inverse)
        if name is None or transformer.inv_kw_args:
            shown = getattr(inverse, "__name__", repr(inverse))
            raise ValueError(
                f"TransformedTargetRegressor inverse_func={shown} has no C equivalent emlearn_gen knows; "
                f"supported: {', '.join('np.' + f for f in sorted(FUNCTIONS))} (without other arguments)"
            )
        return [Step("function", n, n, np.zeros(0), np.array([FUNCTIONS[name]]), source)]
    raise TypeError(
        f"a TransformedTargetRegressor with a {type(transformer).__name__} transformer is not supported; "
        "supported: StandardScaler, RobustScaler, MaxAbsScaler, MinMaxScaler, or func/inverse_func"
    )


def _multiply_add(n: int, scale: Any, offset: Any, source: str) -> Step:
    s = np.ones(n) if scale is None else _array(scale, n, f"{source} scale")
    o = np.zeros(n) if offset is None else _array(offset, n, f"{source} offset")
    return Step("multiply_add", n, n, _params(s, o, what=source), _EMPTY_INDICES, source)


def convert_target_inverse(ttr: Any) -> TransformProgram:
    """The program of a fitted TransformedTargetRegressor's inverse
    transform, on the regressor's outputs."""
    transformer = ttr.transformer_
    n = int(getattr(transformer, "n_features_in_", 1))
    return TransformProgram(tuple(_inverse_steps(transformer, n)), n)
