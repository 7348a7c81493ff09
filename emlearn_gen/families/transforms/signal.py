"""Signal steps: transformers of emlearn_gen.signal that a Pipeline converts
as one operation of the transforms program (docs/architecture.md, section 7,
"Signal steps").

A signal step reads a whole window (n_samples x n_channels values of the
row, samples-major) and writes its features; the runtime op calls the
signal kernel, so the header frame, the host model, the harness, the device
runner and footprint need nothing of their own. Plugging in another signal
transformer is one ``SignalStep`` here plus its op in ir.OPS and in
transforms.hpp (transform_slice, transform_check_indices).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from ...signal import window_stats
from .ir import Step

#: (ref, err) of a step's input slice -> (ref, err) of its output: scikit-
#: side exact values and the bound on the runtime's distance from them (the
#: contract's running error analysis, on plain arrays).
Bound = Callable[[np.ndarray, np.ndarray, Step], Tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class SignalStep:
    """How one signal transformer class converts: ``to_step(est, n_in)``
    gives its Step (op ``op``, its window's shape first in ``indices``:
    n_samples, n_channels), and ``bound`` carries values and bounds through
    it for the numeric contract."""

    estimator: type
    op: str
    to_step: Callable[[Any, int], Step]
    bound: Bound


def _window_stats_step(est: window_stats.WindowFeatures, n_in: int) -> Step:
    n_s, n_c = window_stats.check_window_shape(est.n_samples, est.n_channels)
    features = window_stats.check_features(getattr(est, "features_", est.features))
    if n_s * n_c != n_in:
        raise ValueError(
            f"WindowFeatures takes windows of {n_s} x {n_c} = {n_s * n_c} values, but {n_in} reach it; "
            "refit the pipeline on rows of one window each"
        )
    codes = window_stats.feature_codes(features).astype(np.int64)
    indices = np.concatenate([[n_s, n_c, codes.size], codes]).astype(np.int64)
    return Step("window_stats", n_in, int(codes.size) * n_c, np.zeros(0), indices, "WindowFeatures", refuses_nan=True)


def _window_stats_bound(ref: np.ndarray, err: np.ndarray, step: Step) -> Tuple[np.ndarray, np.ndarray]:
    n_s, n_c, n_f = (int(v) for v in step.indices[:3])
    names = [window_stats.ALL_FEATURES[int(c)] for c in step.indices[3 : 3 + n_f]]
    return (window_stats.window_stats_reference(ref, n_s, n_c, names),
            window_stats.window_stats_bound(ref, n_s, n_c, names, input_error=err))


SIGNAL_STEPS: Tuple[SignalStep, ...] = (
    SignalStep(window_stats.WindowFeatures, "window_stats", _window_stats_step, _window_stats_bound),
)

#: By op name, for the contract and the IR.
BY_OP: Dict[str, SignalStep] = {s.op: s for s in SIGNAL_STEPS}


def window_shape(step: Step) -> Optional[Tuple[int, int]]:
    """(n_samples, n_channels) of a signal step reading its whole row, else None."""
    if step.op not in BY_OP or step.n_slice != step.n_in:
        return None
    return int(step.indices[0]), int(step.indices[1])
