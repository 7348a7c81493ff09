"""Pipelines: a scikit-learn Pipeline as feature steps and a final model.

A Pipeline whose last step predicts (a model of any family) converts into
the transforms family's program of its earlier steps (the *steps*) and the
model's own conversion (the *final* model): one header whose entry points
run the steps into a local array of features and then the model on it, and
a CModel whose methods do the same on the host. A Pipeline of transformers
only is the transforms family's alone. Nested Pipelines are flattened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from sklearn.pipeline import Pipeline

from .family import NumericContract


def flat_steps(pipeline: Pipeline) -> List[Tuple[str, Any]]:
    """(name, estimator) of every step that does something, nested Pipelines
    expanded in place ("passthrough" and None left out)."""
    out: List[Tuple[str, Any]] = []
    for name, step in pipeline.steps:
        if step is None or (isinstance(step, str) and step == "passthrough"):
            continue
        if isinstance(step, Pipeline):
            out.extend((f"{name}.{inner}", est) for inner, est in flat_steps(step))
        else:
            out.append((name, step))
    return out


def _predicts(estimator: Any) -> bool:
    return any(hasattr(estimator, m) for m in ("predict", "score_samples", "decision_function")) and not (
        hasattr(estimator, "transform") and not hasattr(estimator, "predict")
    )


@dataclass(frozen=True)
class Parts:
    """What convert() makes of an estimator: the feature ``steps`` before
    the model (a Pipeline, or None), the ``final`` estimator a model family
    converts, and a TransformedTargetRegressor (``target``) whose inverse
    transform follows the model's predict, or None."""

    steps: Optional[Pipeline]
    final: Any
    target: Any = None

    def without_target(self) -> Any:
        """The scikit-learn estimator of the steps and the model alone."""
        if self.steps is None:
            return self.final
        return Pipeline(list(self.steps.steps) + [("model", self.final)])


def split(estimator: Any) -> Parts:
    """The parts of ``estimator``. A bare estimator, and a Pipeline of
    transformers only, are converted whole: Parts(None, estimator)."""
    from sklearn.compose import TransformedTargetRegressor

    if isinstance(estimator, TransformedTargetRegressor):
        inner = split(estimator.regressor_)
        if inner.target is not None:
            raise TypeError("a TransformedTargetRegressor inside another is not supported; combine their transformers")
        return Parts(inner.steps, inner.final, estimator)
    if not isinstance(estimator, Pipeline):
        return Parts(None, estimator)
    steps = flat_steps(estimator)
    if not steps:
        raise ValueError("the Pipeline has no step that does anything; give it at least one")
    final_name, final = steps[-1]
    if not _predicts(final):
        return Parts(None, estimator)
    for name, step in steps[:-1]:
        if _predicts(step) and not hasattr(step, "transform"):
            raise TypeError(
                f"Pipeline step {name!r} ({type(step).__name__}) predicts but comes before the final step "
                f"{final_name!r}: only the last step of a Pipeline may be a model"
            )
    inner = split(final)
    if inner.steps is not None:
        # A model that brings steps of its own (a TransformedTargetRegressor
        # around a Pipeline): the outer steps, then the inner ones.
        steps = steps[:-1] + [(f"{final_name}.{name}", step) for name, step in inner.steps.steps]
    else:
        steps = steps[:-1]
    return Parts(Pipeline(steps) if steps else None, inner.final, inner.target)


def describe_steps(program: Any) -> str:
    """"StandardScaler -> PCA": the scikit-learn steps of a transforms program."""
    names: List[str] = []
    for step in program.steps:
        if not names or names[-1] != step.source:
            names.append(step.source)
    return " -> ".join(names)


def is_composite(estimator: Any) -> bool:
    """A Pipeline or ColumnTransformer: scikit-learn's tags say nothing
    true of what it takes (its steps' converters judge NaN)."""
    from sklearn.compose import ColumnTransformer

    return isinstance(estimator, (Pipeline, ColumnTransformer))


def _assert_same_results(cm: Any, X: np.ndarray, other: Any, X_other: np.ndarray, what: str) -> None:
    """Every entry point of ``cm`` on X gives, bit for bit, what ``other``
    gives on X_other; AssertionError saying ``what`` otherwise."""
    for ep in cm.entry_points:
        got = cm.raw_outputs(ep.name, X)
        want = other.raw_outputs(ep.name, X_other)
        if not np.array_equal(got, want, equal_nan=got.dtype.kind == "f"):
            raise AssertionError(f"{ep.name}: {what}")


def _agreement(cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
    """How the whole pipeline's predict agrees with scikit-learn's pipeline's
    on X (reported, not asserted: the parts' contracts are)."""
    if not hasattr(estimator, "predict"):
        return {}
    want, got = np.asarray(estimator.predict(X)), np.asarray(cm.predict(X))
    if want.dtype.kind in "fc":
        return {"pipeline_max_abs_diff": float(np.max(np.abs(got - want)))}
    return {"pipeline_label_differences": int(np.sum(got != want))}


class PipelineContract(NumericContract):
    """The numeric contract of a Pipeline with steps, from its parts."""

    statement = (
        "The steps' features within the transforms contract's bound; the final model, on the "
        "features the steps computed, within its family's contract; the pipeline's results are the "
        "final model's on those features, bit for bit. Where the steps' bound moves a feature across "
        "one of the model's decisions, a label may differ from scikit-learn's pipeline: counted and "
        "reported."
    )

    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        parts = split(estimator)
        steps_estimator, final = parts.steps, parts.final
        assert steps_estimator is not None, "a Pipeline with steps"
        steps, final_model = cm.steps, cm.final_model
        report: Dict[str, Any] = {"steps": steps.contract.assert_matches_sklearn(steps, steps_estimator, X)}
        features = steps.transform(X)
        report.update(final_model.contract.assert_matches_sklearn(final_model, final, features))
        _assert_same_results(cm, X, final_model, features, "the pipeline's results are not the final model's "
                             "on its steps' features")
        report.update(_agreement(cm, estimator, X))
        return report


class FoldedPipelineContract(NumericContract):
    """The numeric contract of a Pipeline whose steps were folded into the
    model (Family.fold): it decides as scikit-learn's steps followed by the
    model do on every float32 input."""

    statement = (
        "For inputs float32 represents (what a device receives), the folded model's results are, bit "
        "for bit, those of the unfolded model on scikit-learn's own features of those inputs, which "
        "its family's contract relates to scikit-learn's model."
    )

    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        from ..convert import convert

        parts = split(estimator)
        steps_estimator, final = parts.steps, parts.final
        assert steps_estimator is not None, "a Pipeline with steps"
        X32 = np.asarray(X, dtype=np.float64).astype(np.float32).astype(np.float64)
        features = np.asarray(steps_estimator.transform(X32), dtype=np.float64)
        unfolded = convert(final, name=cm.name, **cm.options)
        report = unfolded.contract.assert_matches_sklearn(unfolded, final, features)
        _assert_same_results(cm, X32, unfolded, features, "the folded model differs from the model on "
                             "scikit-learn's features")
        report.update(_agreement(cm, estimator, X))
        return report


class TargetContract(NumericContract):
    """The numeric contract of a model followed by a TransformedTargetRegressor's
    inverse transform, from its parts."""

    statement = (
        "The model (with its steps) by its own contract against scikit-learn's regressor; the inverse "
        "transform of its outputs within the transforms contract's bound of scikit-learn's "
        "inverse_transform of the same outputs."
    )

    def assert_matches_sklearn(self, cm: Any, estimator: Any, X: np.ndarray) -> Dict[str, Any]:
        from ..families.transforms.contract import assert_same_nan, transform_bound
        from ..families.transforms.convert import convert_target_inverse
        from .bounds import assert_within

        parts = split(estimator)
        inner = cm.without_target
        report = inner.contract.assert_matches_sklearn(inner, parts.without_target(), X)
        outputs = inner.predict(X)
        rows = outputs.reshape(len(outputs), -1)
        want = np.asarray(parts.target.transformer_.inverse_transform(rows), dtype=np.float64).reshape(rows.shape)
        got = cm.predict(X).reshape(rows.shape)
        assert_same_nan("predict (inverse transform)", got, want)
        bound = transform_bound(convert_target_inverse(parts.target), rows).err
        finite = ~np.isnan(want)
        report["target_max_abs_diff"] = assert_within(
            "predict (inverse transform)", np.where(finite, got, 0.0), np.where(finite, want, 0.0),
            np.where(finite, bound, 0.0),
        )
        return report
