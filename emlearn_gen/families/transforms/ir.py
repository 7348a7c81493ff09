"""IR of feature transforms: a program of steps over one row (see runtime
transforms.hpp for what each operation computes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

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
}


@dataclass(frozen=True)
class Step:
    """One operation on a row of ``n_in`` values giving ``n_out``.

    ``params`` are float64, as scikit-learn holds them, in the runtime's
    order: center_divide (centres, scales), multiply_add (scales, offsets),
    clip (low, high), impute (one value per feature, NaN where the feature
    is dropped after), binarize (threshold), project (mean (n_in), then the
    weights (n_out, n_in) by rows). ``indices`` are the input columns that a
    select step keeps. ``source`` names the scikit-learn step it comes from.
    """

    op: str
    n_in: int
    n_out: int
    params: np.ndarray
    indices: np.ndarray
    source: str
    #: NaN in the step's input is refused (scikit-learn's check of X).
    refuses_nan: bool = False


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
    def allow_nan(self) -> bool:
        """Whether NaN may enter: no step refuses NaN that can reach it
        (an impute step replaces NaN: a feature it has no value for, all
        missing in training, is dropped by the select step after it)."""
        nan_possible = True
        for step in self.steps:
            if nan_possible and step.refuses_nan:
                return False
            if step.op == "impute":
                nan_possible = False
        return True
