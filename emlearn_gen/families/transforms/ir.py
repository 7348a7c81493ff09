"""IR of feature transforms: a program of steps over one row (see runtime
transforms.hpp for what each operation computes)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

#: Operation codes of the runtime (transform_op in transforms.hpp).
OPS = {
    "center_divide": 0,
    "multiply_add": 1,
    "clip": 2,
    "impute": 3,
    "select": 4,
    "normalize_l1": 5,
    "normalize_l2": 6,
    "normalize_max": 7,
    "binarize": 8,
    "project": 9,
    "missing_flags": 10,
    "polynomial": 11,
    "discretize": 12,
    "function": 13,
    "spline": 14,
    "window_stats": 15,
    "spectrum": 16,
    "sos_filter": 17,
    "fir_filter": 18,
}

#: Extrapolation of a "spline" step (spline_mode in transforms.hpp), by
#: scikit-learn's name; "error" runs as "continue" (the host refuses the
#: rows scikit-learn refuses).
SPLINE_MODES = {
    "continue": 0,
    "error": 0,
    "constant": 1,
    "linear": 2,
    "periodic": 3,
}

#: The largest degree a spline step evaluates (EMLEARN_GEN_SPLINE_MAX_DEGREE).
SPLINE_MAX_DEGREE = 3

#: Elementwise functions of a "function" step (transform_function in
#: transforms.hpp), by numpy's name.
FUNCTIONS = {
    "log": 0,
    "log1p": 1,
    "exp": 2,
    "expm1": 3,
    "sqrt": 4,
    "absolute": 5,
    "square": 6,
}


@dataclass(frozen=True)
class Step:
    """One operation on a row of ``n_in`` values giving ``n_out``: on the
    ``count`` values from ``first`` on (the whole row by default), the
    values before and after them passed on as they are.

    ``params`` are float64, as scikit-learn holds them, in the runtime's
    order: center_divide (centres, scales), multiply_add (scales, offsets),
    clip (low, high), impute (one value per feature, NaN where the feature
    is dropped after), binarize (threshold), project (mean (n_in), then the
    weights (n_out, n_in) by rows), discretize (each feature's thresholds,
    ascending), spline (per feature: its knots, then for constant and linear
    extrapolation the boundary splines' values and slopes). ``indices`` are
    a select step's input columns, a polynomial step's degree and factors of
    each output, a discretize step's number of thresholds per feature, a
    function step's function (FUNCTIONS), a spline step's degree, mode
    (SPLINE_MODES), knots, splines, kept splines and boundary splines per
    feature. ``range_checked`` marks a spline step whose input beyond its
    base knots scikit-learn refuses (extrapolation="error").
    ``source`` names the scikit-learn step it comes from.
    """

    op: str
    n_in: int
    n_out: int
    params: np.ndarray
    indices: np.ndarray
    source: str
    #: NaN in the step's input is refused (scikit-learn's check of X).
    refuses_nan: bool = False
    first: int = 0
    count: Optional[int] = None
    range_checked: bool = False

    @property
    def n_slice(self) -> int:
        """Values the operation reads."""
        return self.n_in if self.count is None else self.count

    @property
    def width(self) -> int:
        """Values the operation writes."""
        return self.n_out - (self.n_in - self.n_slice)


@dataclass(frozen=True)
class TransformProgram:
    steps: Tuple[Step, ...]
    n_features: int
    #: PCA's log-likelihood (score_samples) where the last step is a PCA:
    #: the upper triangle of q by rows, then c (runtime transforms.hpp).
    quadratic: Optional[np.ndarray] = None

    @property
    def n_outputs(self) -> int:
        return self.steps[-1].n_out

    @property
    def max_width(self) -> int:
        """The widest row between two steps (scratch of the runtime)."""
        return max((s.n_out for s in self.steps[:-1]), default=0)

    @property
    def work(self) -> int:
        """Floats of op scratch the signal steps' kernels need, the most any
        step needs (after the two rows of max_width; transforms.hpp's
        transforms_scratch_floats)."""
        from .signal import op_work

        return max((op_work(s) for s in self.steps), default=0)

    @property
    def n_scratch(self) -> int:
        """Floats of scratch transforms_run needs: two rows, then op scratch."""
        return 2 * self.max_width + self.work

    @property
    def window(self) -> Optional[Tuple[int, int]]:
        """(n_samples, n_channels) where a signal step (signal.py) reads the
        whole input row, as it is, as one window: the first step, or a step
        after selects that only copy the row (a FeatureUnion's parts side by
        side); None otherwise."""
        from .signal import window_shape

        origin = np.arange(self.n_features)  # the input column of each value, -1 if computed
        whole = np.arange(self.n_features)
        for step in self.steps:
            end = step.first + step.n_slice
            inside = origin[step.first : end]
            shape = window_shape(step)
            if shape is not None and np.array_equal(inside, whole):
                return shape
            if step.op == "select":
                out = inside[np.asarray(step.indices, dtype=np.int64)]
            else:
                out = np.full(step.width, -1, dtype=np.int64)
            origin = np.concatenate([origin[: step.first], out, origin[end:]])
        return None

    def reduced(self) -> Tuple[Optional[np.ndarray], "TransformProgram"]:
        """(the input columns the program reads, the program on those
        columns alone) where it starts by selecting fewer columns than the
        row has (feature selection: the device need not measure the rest);
        (None, self) otherwise."""
        first = self.steps[0]
        if first.op != "select" or first.n_slice != self.n_features:
            return None, self
        indices = np.asarray(first.indices, dtype=np.int64)
        used = np.unique(indices)
        if used.size == self.n_features:
            return None, self
        position = np.full(self.n_features, -1, dtype=np.int64)
        position[used] = np.arange(used.size)
        k = int(used.size)
        head = dataclasses.replace(first, n_in=k, count=k, indices=position[indices])
        quadratic = self.quadratic
        return used, TransformProgram((head,) + tuple(self.steps[1:]), k, quadratic)

    def range_checks(self) -> List[Tuple[int, float, float, str]]:
        """(input column, lowest, highest, step) for every value a spline
        step with extrapolation="error" reads: scikit-learn refuses rows
        beyond its base knots, which the host checks on the raw row. Such a
        step must read input columns as they are (only selected), as the
        range is known there alone."""
        checks: List[Tuple[int, float, float, str]] = []
        origin = np.arange(self.n_features)  # the input column of each value, -1 if computed
        for step in self.steps:
            end = step.first + step.n_slice
            inside = origin[step.first : end]
            if step.range_checked:
                if np.any(inside < 0):
                    raise ValueError(
                        f"{step.source}(extrapolation='error') reads values an earlier step computes: "
                        "a device cannot refuse them. Put it first (or in a ColumnTransformer on the "
                        "input columns), or fit it with extrapolation='continue', which gives the same "
                        "values inside the knots"
                    )
                k, n_t = int(step.indices[0]), int(step.indices[2])
                per_feature = step.params.size // step.n_slice
                for i, column in enumerate(inside):
                    knots = step.params[i * per_feature : i * per_feature + n_t]
                    checks.append((int(column), float(knots[k]), float(knots[n_t - k - 1]), step.source))
            if step.op == "select":
                out = inside[np.asarray(step.indices, dtype=np.int64)]
            else:
                out = np.full(step.width, -1, dtype=np.int64)
            origin = np.concatenate([origin[: step.first], out, origin[end:]])
        return checks

    def nan_paths(self) -> Tuple[np.ndarray, np.ndarray]:
        """For each input column: whether NaN in it reaches a step that
        refuses NaN (scikit-learn raises there), and whether it reaches the
        program's output. NaN is followed value by value: an impute step
        replaces it (a feature it has no value for, all missing in
        training, is dropped by the select step after it), missing_flags
        reports it, steps that refuse NaN let none out."""
        refused = np.zeros(self.n_features, dtype=bool)
        reaches = np.zeros(self.n_features, dtype=bool)
        for column in range(self.n_features):
            nan_at = np.arange(self.n_features) == column
            for step in self.steps:
                end = step.first + step.n_slice
                inside = nan_at[step.first : end]
                if step.refuses_nan and inside.any():
                    refused[column] = True
                if step.op == "select":
                    out = inside[np.asarray(step.indices, dtype=np.int64)]
                elif step.op in ("center_divide", "multiply_add", "clip", "function"):
                    out = inside
                else:
                    out = np.zeros(step.width, dtype=bool)
                nan_at = np.concatenate([nan_at[: step.first], out, nan_at[end:]])
            reaches[column] = nan_at.any()
        return refused, reaches
