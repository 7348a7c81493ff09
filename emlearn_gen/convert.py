"""convert(): fitted estimator -> CModel, through the estimator's family."""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional

import numpy as np
import sklearn
from sklearn.utils.validation import check_is_fitted

from . import _runtime
from .core.entry_points import log_of_proba
from .core.family import Family, Lowered
from .core.identifiers import check_identifier
from .core.layout import frozen
from .core.pipeline import describe_steps, is_composite, split
from .core.stream import attach
from .families.transforms import row_checks
from .families.transforms.convert import convert_target_inverse
from .core.validation import accepts_nan
from .families import REGISTRY
from .model import CModel


def _versions() -> Dict[str, Any]:
    return {
        "version": f"{_runtime.VERSION_MAJOR}.{_runtime.VERSION_MINOR}.{_runtime.VERSION_PATCH}",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
    }


def _feature_names(estimator: Any) -> Optional[np.ndarray]:
    """The estimator's feature_names_in_ (absent when fitted without names),
    one per feature, as strings."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return None
    names = np.asarray(names, dtype=object)
    what = f"{type(estimator).__name__}.feature_names_in_"
    if names.shape != (int(estimator.n_features_in_),):
        raise ValueError(
            f"{what} has shape {names.shape}, but the estimator has {estimator.n_features_in_} "
            "features; refit it, or delete the attribute to convert without names"
        )
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f"{what} must hold strings, as scikit-learn sets it from string column names")
    return names


def convert(estimator: Any, name: str = "model", postprocess: Any = None, **options: Any) -> CModel:
    """Converts a fitted scikit-learn estimator into a CModel.

    Parameters
    ----------
    estimator : a fitted scikit-learn estimator (see ``supported_estimators()``),
        or a Pipeline of supported feature steps ending in one: the header
        runs the steps and then the model, with the C++ API of the model.
    name : the C++ namespace of the generated model; a C++ identifier.
    postprocess : None, or one of emlearn_gen.signal's MajorityVote,
        MovingAverage, ExponentialSmoothing, Hysteresis, NOfM: the model
        gains the stream entry point ``predict_stream``, which runs the
        model on each row of a stream and the post-processing on a state
        the caller owns (header: ``stream_state``, ``reset(state)``;
        core/stream.py says which entry point each object reads). Its
        parameters are taken, not its state.
    **options : options of the estimator's model family, validated by it.
        Every family has ``dtype`` (type of stored values and of sums):
        trees: ``"float64"`` (the default for classifiers) repeats
        scikit-learn's float64 arithmetic operation for operation, so labels
        are identical even where classes tie and rounding decides;
        ``"float32"`` (the default for regressors) halves the flash of leaf
        values; a regressor whose leaf values summed over its trees could
        exceed float32's range gets float64 by default, and
        ``dtype="float32"`` raises ValueError. Linear models: ``"float32"``.
        See docs/architecture.md for the numeric contract of each family.

    Raises
    ------
    NotFittedError for an unfitted estimator, TypeError for an unsupported
    one or an unknown option, ValueError for a bad name or option value, and
    ValueError or TypeError naming what is wrong for a model whose fitted
    attributes are malformed; a postprocess of another type is a TypeError,
    one the model has no input for (MovingAverage without predict_proba,
    ...) a ValueError.
    """
    name = check_identifier(name, "name")
    parts = split(estimator)
    final = parts.final
    family = REGISTRY.family_of(final)
    checked = family.check_options(options)
    check_is_fitted(estimator)
    ir = family.to_ir(final)
    versions = _versions()
    transforms = REGISTRY.get("transforms")
    target = None if parts.target is None else _target_model(name, transforms, parts.target, versions)
    common = dict(name=name, family=family, estimator_name=type(estimator).__name__, versions=versions,
                  feature_names=_feature_names(estimator), final_name=type(final).__name__, target=target)
    estimator_name = type(estimator).__name__
    if parts.steps is None:
        lowered = _lowered(family, ir, final, checked)
        lowered = lowered if target is None else _predict_only(lowered, target)
        return CModel(lowered=attach(lowered, postprocess, estimator_name), **common)

    full_program = transforms.to_ir(parts.steps)
    # Steps that start by selecting columns: the header takes those only.
    columns, program = full_program.reduced()
    if program.n_outputs != final.n_features_in_:
        raise ValueError(
            f"the Pipeline's steps write {program.n_outputs} features, but its final step "
            f"{type(final).__name__} was fitted on {final.n_features_in_}; refit the pipeline"
        )
    folded = family.fold(ir, program, final)
    lowered = _lowered(family, folded if folded is not None else ir, final, checked)
    if target is not None:
        lowered = _predict_only(lowered, target)
    # NaN in a column is taken if no step refuses it there, and the model
    # takes whatever NaN the steps let through to it. Both are judged on the
    # whole row, before any selection.
    refused, reaches = full_program.nan_paths()
    rows = row_checks(full_program, ~refused & (~reaches | lowered.allow_nan))
    if columns is not None:
        rows.update(input_columns=frozen(columns), n_row_features=full_program.n_features)
    # Steps that start with a signal step take one window per call.
    rows["window"] = program.window
    if folded is not None:
        # No steps run: the model itself takes (and checks) the raw rows.
        line = f"Pipeline steps folded into the model exactly: {describe_steps(program)}."
        lowered = dataclasses.replace(lowered, summary=(line,) + tuple(lowered.summary), **rows)
        return CModel(lowered=attach(lowered, postprocess, estimator_name), folded=True, **common)
    steps_lowered = _lowered(transforms, program, parts.steps, transforms.check_options({}))
    steps = CModel(name=name, family=transforms, estimator_name="Pipeline", versions=versions,
                   lowered=dataclasses.replace(steps_lowered, **rows))
    rows.pop("check_rows")  # the steps check the raw rows
    lowered = attach(dataclasses.replace(lowered, **rows), postprocess, estimator_name)
    return CModel(lowered=lowered, steps=steps, **common)


def _target_model(name: str, transforms: Family, ttr: Any, versions: Dict[str, Any]) -> CModel:
    """The model of a TransformedTargetRegressor's inverse transform, on
    the regressor's outputs."""
    program = convert_target_inverse(ttr)
    lowered = transforms.lower(program, transforms.check_options({}))
    return CModel(name=name, family=transforms, estimator_name="TransformedTargetRegressor", versions=versions,
                  lowered=dataclasses.replace(lowered, allow_nan=True, check_rows=None))


def _predict_only(lowered: Lowered, target: CModel) -> Lowered:
    """A regressor under a TransformedTargetRegressor: predict is all it has."""
    entry_points = tuple(ep for ep in lowered.entry_points if ep.name == "predict")
    if not entry_points or entry_points[0].width != target.n_features_in_:
        raise ValueError(
            f"the TransformedTargetRegressor's transformer takes {target.n_features_in_} targets, "
            "but its regressor predicts another number; refit it"
        )
    return dataclasses.replace(lowered, entry_points=entry_points)


def _lowered(family: Family, ir: Any, estimator: Any, options: Dict[str, Any]) -> Lowered:
    """The family's lowering of ``ir`` (of ``estimator``), with the generic
    additions: derived predict_log_proba, and NaN only where scikit-learn
    takes it."""
    lowered = family.lower(ir, options)
    if hasattr(estimator, "predict_log_proba"):
        entry_points = log_of_proba(lowered.entry_points)
        if len(entry_points) > len(lowered.entry_points):
            # It calls predict_proba: the same stack, and a few words more.
            scratch = dict(lowered.scratch)
            if "predict_proba" in scratch:
                scratch["predict_log_proba"] = scratch["predict_proba"]
            lowered = dataclasses.replace(lowered, entry_points=entry_points, scratch=scratch)
    if lowered.allow_nan and not is_composite(estimator) and not accepts_nan(estimator):
        # NaN means "missing" only where scikit-learn's estimator accepts it.
        lowered = dataclasses.replace(lowered, allow_nan=False)
    return lowered


def supported_estimators() -> tuple:
    """Names of the scikit-learn estimator classes that convert() accepts."""
    # A TransformedTargetRegressor is split into its parts (core/pipeline.py)
    # before any family sees it.
    return tuple(sorted(REGISTRY.supported_estimators() + ("TransformedTargetRegressor",)))
