"""CModel: a converted model, predicting on the host through the C++ runtime."""

from __future__ import annotations

import dataclasses
import os
from functools import update_wrapper
from pathlib import Path
from types import MethodType
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple, Union

import numpy as np

from ._files import write_bytes_atomic, write_text_atomic
from .core.entry_points import INDICATOR, LABEL, OUTLIER, SCORE_REDUCTIONS, VALUES, EntryPoint, by_name, score_entry
from .core.family import Family, Lowered, NumericContract, Packed
from .core.host import HostModel
from .core.render import render_model
from .core.stream import STREAM_NAME, HostStream
from .core.validation import check_feature_names, check_X


class _entry_point:
    """A prediction method that exists exactly where the model has the entry
    point of its name, as scikit-learn's ``available_if`` makes one exist:
    ``hasattr`` is False elsewhere and the AttributeError names the method.
    Here the error message is formatted only when raised; available_if
    formats it on every access, a fifth of a single-row prediction."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.name = fn.__name__
        update_wrapper(self, fn)

    def __get__(self, obj: Any, owner: Optional[type] = None) -> Callable[..., Any]:
        if obj is None:
            return self.fn
        if self.name not in obj._methods:
            raise AttributeError(f"This {type(obj).__name__!r} has no attribute {self.name!r}")
        return MethodType(self.fn, obj)


def _resolve_n_jobs(value: Optional[int]) -> int:
    """n_jobs as scikit-learn reads it: None is 1, -1 every CPU, -2 all but one."""
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value == 0:
        raise ValueError(f"n_jobs must be a positive integer, -1 for every CPU, or None; got {value!r}")
    if value > 0:
        return int(value)
    return max(1, (os.cpu_count() or 1) + 1 + int(value))


class CModel:
    """A scikit-learn model converted to C++.

    Its prediction methods run the runtime's C++ kernels on the same tables
    that :meth:`to_source` writes into the header, and exist exactly where the
    estimator has them, with the same shapes and dtypes.
    """

    def __init__(
        self,
        *,
        name: str,
        family: Family,
        estimator_name: str,
        lowered: Lowered,
        versions: Dict[str, Any],
        feature_names: Optional[np.ndarray] = None,
        steps: Optional["CModel"] = None,
        final_name: str = "",
        folded: bool = False,
        target: Optional["CModel"] = None,
        from_file: bool = False,
    ) -> None:
        """``steps``: a Pipeline's feature steps, run before this model
        (core/pipeline.py); ``final_name`` then names the final estimator.
        ``folded``: the model is a Pipeline's whose steps the family folded
        into it (Family.fold). ``target``: a TransformedTargetRegressor's
        inverse transform, run on predict's outputs (core/pipeline.py).
        ``from_file``: loaded from a model file (emlearn_gen.load_model_file),
        which holds the tables but not what a header's text is made of."""
        self.name = name
        self.family = family
        self.estimator_name = estimator_name
        self.task = lowered.task
        self._steps = steps
        self._final_name = final_name or estimator_name
        self._folded = folded
        self._target = target
        if lowered.n_row_features is not None:
            self.n_features_in_ = lowered.n_row_features
        else:
            self.n_features_in_ = steps.n_features_in_ if steps is not None else lowered.n_features
        # As on scikit-learn estimators, the attribute exists only when the
        # estimator was fitted on data with (all-string) column names.
        if feature_names is not None:
            self.feature_names_in_ = feature_names
        if lowered.classes is not None:
            self.classes_ = lowered.classes
        if lowered.n_outputs is not None:
            self.n_outputs_ = lowered.n_outputs
        self.entry_points: Tuple[EntryPoint, ...] = lowered.entry_points
        self.packed = lowered.packed
        self._lowered = lowered
        self._entries = by_name(lowered.entry_points)
        self._score_entry = score_entry(lowered.entry_points)
        # The public methods: one per entry point, and score where an entry
        # point carries it (the estimator's unsupervised score(X)).
        self._methods = frozenset(self._entries) | ({"score"} if self._score_entry is not None else frozenset())
        # A stream entry point (convert's postprocess) also gives stream().
        self._stream = lowered.stream
        if self._stream is not None:
            self._methods = self._methods | {"stream"}
        # A model loaded from a file holds its layout's tables already.
        self._tables = lowered.packed if isinstance(lowered.packed, Packed) else family.tables(lowered.packed)
        self._host = HostModel(family.layout, self._tables, lowered.entry_points)
        self._versions = versions
        self._allow_nan = lowered.allow_nan
        # Labels the runtime can copy as bytes (not Python objects such as
        # str in an object array): it then returns them itself.
        classes = getattr(self, "classes_", None)
        self._labels_by_bytes = (
            classes is not None and classes.ndim == 1 and classes.dtype.kind != "O" and classes.flags.c_contiguous
        )
        self._n_jobs = 1
        self._from_file = from_file
        # The methods whose common input (a plain ndarray) one C++ call
        # serves, and the function that runs them.
        self._one_call, self._run_array = self._one_call_forms()

    def _one_call_forms(self) -> Tuple[FrozenSet[str], Optional[Callable[[str, np.ndarray, int], Any]]]:
        """Sets, for each method whose common input one C++ call serves, the
        form of its result in scikit-learn's dtype and shape
        (HostModel.one_call); returns those methods and the function that
        runs them. The methods without: those of a model with steps, a
        target transform, selected input columns or checks of its own on the
        rows, logarithms of another entry point, labels that are Python
        objects, and results of other dtypes; they take the general path
        (_run, _shaped)."""
        if self._steps is not None or self._target is not None or self.input_columns is not None:
            return frozenset(), None
        if self._lowered.check_rows is not None:
            return frozenset(), None
        run_array = None
        methods = set()
        for ep in self.entry_points:
            if ep.log_of is not None or ep.has_state:
                continue
            if ep.output == LABEL and self._labels_by_bytes:
                form: Tuple[Any, bool, bool] = (self.classes_, False, False)
            elif ep.output == OUTLIER:
                form = (None, True, False)  # +1/-1 as int64
            elif ep.output == VALUES and np.dtype(ep.result_dtype) == np.float64:
                form = (None, True, ep.vector)
            else:
                continue
            run_array = self._host.one_call(ep.name, self._allow_nan, *form)
            methods.add(ep.name)
        return frozenset(methods), run_array

    def __repr__(self) -> str:
        return f"CModel(name={self.name!r}, estimator={self.estimator_name})"

    @property
    def options(self) -> Dict[str, str]:
        """The options the model was generated with, defaults resolved."""
        return dict(self._lowered.options)

    @property
    def report(self) -> Dict[str, Any]:
        """What conversion measured for this model, by its family: e.g. for
        int8 weights, how often labels agree with the float32 model and the
        largest output difference on the calibration rows. Empty when there
        is nothing to report."""
        return dict(self._lowered.report)

    @property
    def n_jobs(self) -> int:
        """Threads a prediction on many rows is split over (default 1).

        As in scikit-learn: a positive count, or -1 for every CPU (-2 all but
        one, ...). The rows are shared out in C++ with the GIL released; each
        row's result is the same for any n_jobs. Batches of a few hundred rows
        or fewer run on one thread.
        """
        return self._n_jobs

    @n_jobs.setter
    def n_jobs(self, value: Optional[int]) -> None:
        self._n_jobs = _resolve_n_jobs(value)

    def _display_name(self) -> str:
        return f"CModel {self.name!r}"

    def check_input(self, X: Any) -> np.ndarray:
        """X as the float32 matrix the C++ code sees, or a ValueError saying what is wrong.

        The C++ code takes features by position; column names that X carries
        must be the estimator's, in its order. Unlike predict, a plain array
        given to a model fitted with names is not warned about: this is the
        positional interface the devices see.
        """
        fitted = getattr(self, "feature_names_in_", None)
        check_feature_names(X, fitted, self._display_name(), warn=False)
        return self._checked(X)

    @property
    def input_columns(self) -> Optional[np.ndarray]:
        """The columns of the row that the header's entry points take, in
        their order, where the model starts by selecting features (the
        device need not measure the others; the header's
        ``select_features(row, x)`` picks them from a whole row); None when
        the header takes the whole row. The host methods take whole rows."""
        return self._lowered.input_columns

    @property
    def window_shape(self) -> Optional[Tuple[int, int]]:
        """(n_samples, n_channels) where the entry points take one window of
        sensor data (samples-major; a signal step such as WindowFeatures
        first): the header's ``n_samples`` and ``n_channels``. None for a row
        of independent features."""
        return self._lowered.window

    @property
    def n_device_features(self) -> int:
        """Values each row passed to the header's entry points has."""
        columns = self.input_columns
        return self.n_features_in_ if columns is None else int(columns.size)

    def device_inputs(self, X32: np.ndarray) -> np.ndarray:
        """What the header's entry points take of checked rows: the input
        columns where the model selects them first, else the rows."""
        columns = self.input_columns
        return X32 if columns is None else np.ascontiguousarray(X32[:, columns])

    @property
    def steps(self) -> Optional["CModel"]:
        """A Pipeline's feature steps as a model of their own (its
        ``transform`` writes what the final model reads), or None."""
        return self._steps

    @property
    def final_model(self) -> "CModel":
        """The model without the Pipeline's steps or target transform: what
        runs on the steps' features (this model itself when there are none)."""
        if self._steps is None and self._target is None:
            return self
        # The final model takes the steps' features, however the row is selected.
        lowered = dataclasses.replace(self._lowered, input_columns=None, n_row_features=None, window=None)
        return CModel(name=self.name, family=self.family, estimator_name=self._final_name,
                      lowered=lowered, versions=self._versions)

    @property
    def target(self) -> Optional["CModel"]:
        """A TransformedTargetRegressor's inverse transform as a model of
        its own (its ``transform`` maps the regressor's outputs), or None."""
        return self._target

    @property
    def without_target(self) -> "CModel":
        """The model without a TransformedTargetRegressor's inverse transform."""
        if self._target is None:
            return self
        return CModel(name=self.name, family=self.family, estimator_name=self._final_name,
                      lowered=self._lowered, versions=self._versions, steps=self._steps,
                      final_name=self._final_name, folded=self._folded)

    def _checked(self, X: Any) -> np.ndarray:
        """check_X, then the family's checks of the values (Lowered.check_rows)."""
        X32 = check_X(X, self.n_features_in_, self._display_name(), allow_nan=self._allow_nan)
        # The raw rows' checks: the steps' (NaN where a step refuses it), or the model's.
        lowered = self._lowered if self._steps is None else self._steps._lowered
        if lowered.check_rows is not None:
            lowered.check_rows(X32)
        return X32

    def _run(self, method: str, X32: np.ndarray) -> np.ndarray:
        """Raw results of ``method`` on checked rows: the steps' features
        first, where there are steps, as the header computes them."""
        if self._stream is not None and method == STREAM_NAME:
            # The source's results on every row, then the post-processing
            # kernel over them in order, from a reset state.
            return HostStream(self, self._stream).update_raw(self._run(self._stream.source, X32))
        X32 = self.device_inputs(X32)
        if self._steps is not None:
            X32 = self._steps._host.run("transform", X32, self._n_jobs)
            if self._lowered.check_rows is not None:
                self._lowered.check_rows(X32)
        raw = self._host.run(method, X32, self._n_jobs)
        if self._target is not None and method == "predict":
            raw = self._target._host.run("transform", np.ascontiguousarray(raw.reshape(len(raw), -1)), self._n_jobs)
        return raw

    def raw_outputs(self, method: str, X: Any) -> np.ndarray:
        """What the header's ``method`` returns for each row of X, computed by
        the host runtime: int32 for label and outlier entry points, float32
        rows (n, width) otherwise. Device results are compared against this."""
        if method not in self._entries:
            raise AttributeError(f"{self.estimator_name} has no {method}")
        return self._run(method, self.check_input(X))

    def _sklearn_result(self, method: str, X: Any) -> np.ndarray:
        """``method``'s result on X in scikit-learn's shape and dtype, with
        the checks of check_input and scikit-learn's warnings when only X or
        only the estimator has feature names. Called from the public
        prediction methods only: the warnings point at their caller."""
        fitted = getattr(self, "feature_names_in_", None)
        plain = type(X) is np.ndarray
        # A plain ndarray has no column names: with none fitted either there
        # is nothing to check (scikit-learn's reading of names costs more
        # than a whole single-row prediction).
        if fitted is not None or not plain:
            check_feature_names(X, fitted, self._display_name(), stacklevel=3)
        if plain and method in self._one_call:
            # The common input: checked, run and shaped in one C++ call.
            result = self._run_array(method, X, self._n_jobs)  # type: ignore[misc]
            if result is not None:
                return result
        return self._shaped(self._entries[method], self._run(method, self._checked(X)))

    def _shaped(self, ep: EntryPoint, raw: np.ndarray) -> np.ndarray:
        """Raw results of ``ep`` in scikit-learn's shape and dtype."""
        if ep.output == LABEL:
            # Clusterers (mixtures, k-means) have no classes_: the index is the label.
            classes = getattr(self, "classes_", None)
            return raw.astype(self._lowered.label_dtype) if classes is None else classes.take(raw, axis=0)
        if ep.output in (OUTLIER, INDICATOR):
            # +1/-1 flags, or scikit-learn's multi-label indicator matrix: int64.
            return raw.astype(np.int64)
        values = raw.astype(ep.result_dtype)
        return values.ravel() if ep.vector else values

    @_entry_point
    def predict(self, X: Any) -> np.ndarray:
        """Labels (classifiers), +1/-1 (outlier detectors) or outputs (regressors), as the estimator's predict."""
        return self._sklearn_result("predict", X)

    @_entry_point
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), float64."""
        return self._sklearn_result("predict_proba", X)

    @_entry_point
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithms of the class probabilities, shape (n_samples, n_classes), float64."""
        return self._sklearn_result("predict_log_proba", X)

    @_entry_point
    def predict_joint_log_proba(self, X: Any) -> np.ndarray:
        """Joint log-probabilities log P(x, y) (naive Bayes), shape (n_samples, n_classes), float64."""
        return self._sklearn_result("predict_joint_log_proba", X)

    @_entry_point
    def decision_function(self, X: Any) -> np.ndarray:
        """Scores, as the estimator's decision_function (1-D for binary classifiers)."""
        return self._sklearn_result("decision_function", X)

    @_entry_point
    def score_samples(self, X: Any) -> np.ndarray:
        """Per-sample scores, as the estimator's score_samples."""
        return self._sklearn_result("score_samples", X)

    @_entry_point
    def transform(self, X: Any) -> np.ndarray:
        """Transformed features, as the estimator's transform."""
        return self._sklearn_result("transform", X)

    @_entry_point
    def predict_stream(self, X: Any) -> np.ndarray:
        """The stream entry point (convert's ``postprocess``) on the rows of X
        taken in order as one stream from a reset state: the post-processed
        label (through classes_) or +1/-1 after each row. The header's
        predict_stream(state, x), fed the same rows after reset(state),
        returns the same."""
        return self._sklearn_result(STREAM_NAME, X)

    @_entry_point
    def stream(self) -> HostStream:
        """A stream from a reset state: ``update(X)`` feeds rows in order and
        returns the result after each (as predict_stream), ``reset()``
        starts over; what a device does with one stream_state."""
        assert self._stream is not None  # _entry_point: the method exists only then
        return HostStream(self, self._stream)

    @_entry_point
    def score(self, X: Any) -> np.float64:
        """The estimator's unsupervised score(X): a reduction over the rows of
        one entry point's values (mixtures: the mean of score_samples; k-means:
        minus the sum of the squared distances to the nearest centre), summed
        in float64. Only where the estimator's score takes X alone."""
        ep = self._score_entry
        assert ep is not None  # _entry_point: the method exists only then
        values = self._sklearn_result(ep.name, X)
        return np.float64(SCORE_REDUCTIONS[ep.score](values))  # type: ignore[index]

    @property
    def stated_stack(self) -> Dict[str, int]:
        """{entry point: bytes of stack it needs at most}, as the header's
        banner states: its local arrays plus the family's kernel allowance."""
        kernel = self.family.kernel_stack(self._lowered)
        return {
            ep.name: self.steps_stack(ep.name) + self._lowered.scratch.get(ep.name, (0, ""))[0] + kernel
            for ep in self.entry_points
        }

    def steps_stack(self, entry_point: str) -> int:
        """Stack an entry point takes beyond the final model's: a Pipeline's
        features array and its steps' own, and for predict the outputs
        array and stack of a target transform (0 without either). A stream
        calls its source: the source's stack less the kernel allowance,
        which the post-processing after it shares."""
        if self._stream is not None and entry_point == STREAM_NAME:
            source = self._stream.source
            return self.steps_stack(source) + self._lowered.scratch.get(source, (0, ""))[0]
        total = 0
        if self._steps is not None:
            total += 4 * int(self._steps.n_outputs_) + self._steps.stated_stack["transform"]
        if self._target is not None and entry_point == "predict":
            total += 4 * int(self._target.n_features_in_) + self._target.stated_stack["transform"]
        return total

    @property
    def contract(self) -> NumericContract:
        """What the model promises about its outputs against scikit-learn:
        its family's contract, or a Pipeline's made of its parts'."""
        if self._steps is None and not self._folded and self._target is None:
            return self.family.contract
        from .core.pipeline import FoldedPipelineContract, PipelineContract, TargetContract

        if self._target is not None:
            return TargetContract()
        return PipelineContract() if self._steps is not None else FoldedPipelineContract()

    def device_tolerance(self, target: Any) -> float:
        """Absolute bound on |device - host| for continuous outputs (0.0: bit-equal)."""
        return self.family.contract.device_tolerance(self, target)

    def footprint(self, target: str = "cortex-m0", X: Any = None) -> Any:
        """Flash, static RAM and stack this model adds on a device target,
        measured from linked images (see emlearn_gen.testing.footprint)."""
        from .testing import footprint

        return footprint(self, target, X)

    def to_source(self, *, standalone: bool = False) -> str:
        """Text of the generated header. Same model and options, same bytes.

        With ``standalone=True`` the runtime headers the model needs are
        inlined, so the header compiles with no include path; its C++ API is
        the same.
        """
        if self._from_file:
            raise ValueError(
                f"{self._display_name()} was loaded from a model file, which holds its tables but not the "
                "text of a header (banner, template context): convert the estimator to write a header, "
                "or save this model with save_model_file"
            )
        text = render_model(self)
        if standalone:
            from ._paths import get_include
            from .core.standalone import make_standalone

            text = make_standalone(text, get_include())
        return text

    def to_model_file(self) -> bytes:
        """The model as a binary model file (docs/model-file.md), for
        firmware that loads models at run time (runtime loader.hpp). Same
        model, same bytes. Pipelines with feature steps, target transforms
        and column selections are refused with a ValueError: save a header."""
        from .core.model_file import model_file_bytes

        return model_file_bytes(self)

    def save_model_file(self, path: Union[str, "os.PathLike[str]"]) -> Path:
        """Writes :meth:`to_model_file` to ``path`` (replaced whole, as
        :meth:`save` does) and returns the path."""
        return write_bytes_atomic(path, self.to_model_file())

    def save_micropython(
        self, folder: Union[str, "os.PathLike[str]"], arch: Union[str, Sequence[str]] = "x64"
    ) -> List[Path]:
        """Writes the model as a MicroPython module and returns the written paths.

        ``arch``: "x64", "armv6m", "armv7m", "armv7emsp" (a native module
        ``<name>.mpy`` holding the model's tables and the runtime's kernels,
        built with the compilers and MicroPython's sources: see
        docs/micropython.md), "python" (the pure-Python module), or several
        of these (a list or "x64,armv7emsp"). One arch writes into
        ``folder``; several write into ``folder/<arch>/``. On the device:
        ``import <name>``; ``<name>.predict(x)`` for one row.
        """
        from .micropython.native import save_micropython

        return save_micropython(self, folder, arch)

    def save(self, path: Union[str, "os.PathLike[str]"], *, standalone: bool = False) -> Path:
        """Writes the header to ``path`` and returns the path.

        ``standalone=True`` writes one file that carries the runtime parts the
        model needs (see :meth:`to_source`). The file is replaced whole: if
        writing fails (OSError), an existing file at ``path`` is left as it was.
        """
        return write_text_atomic(path, self.to_source(standalone=standalone))
