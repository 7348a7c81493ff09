"""Post-processing of a model's stream of predictions, run by the C++
runtime (runtime/include/emlearn_gen/postprocess.hpp), the very code a
device runs over its caller-owned ring buffers (``nbytes`` says how many
bytes the device must give it).

Each object has ``update()`` (one input, or a batch of consecutive inputs
whose outputs come back one per input) and ``reset()``. Before a window is
full, the statistics cover the inputs seen since the last reset.
"""

from __future__ import annotations

import numbers
from typing import Any, Union

import numpy as np

from emlearn_gen import _runtime
from emlearn_gen.signal import _checks

# majority_vote takes window^2 comparisons per label: keep it small.
MAX_VOTE_WINDOW = 4096
MAX_WINDOW = 2**20


def _vectors(values: Any, n_classes: int, name: str) -> "tuple[np.ndarray, bool]":
    """(batch of shape (n, n_classes) float32, whether one vector was given)."""
    array = _checks.finite_float32(values, name)
    if array.ndim == 1 and array.shape[0] == n_classes:
        return array.reshape(1, -1), True
    if array.ndim != 2 or array.shape[1] != n_classes:
        raise ValueError(
            f"{name} must have shape ({n_classes},) or (n, {n_classes}) for n_classes={n_classes}, got {array.shape}"
        )
    return array, False


def _scalars(values: Any, name: str) -> "tuple[np.ndarray, bool]":
    """(1-D batch, whether one scalar was given) of finite float32."""
    array = _checks.finite_float32(values, name)
    if array.ndim > 1:
        raise ValueError(f"{name} must be a number or a 1-D array, got shape {array.shape}")
    return array.reshape(-1), array.ndim == 0


class MovingAverage:
    """The mean of the last `window` probability vectors (of n_classes).

    Each output is the float32 sum of the k vectors held (k <= window),
    oldest first, divided by k: with u = 2^-24, versus the float64 mean of
    the same float32 inputs,

        |out - mean| <= (k + 1) * u / (1 - (k + 1) * u) * mean of |p|   (per class).
    """

    def __init__(self, window: int, n_classes: int) -> None:
        self.window = _checks.positive_int(window, "window", MAX_WINDOW)
        self.n_classes = _checks.positive_int(n_classes, "n_classes", 2**16)
        self._kernel = _runtime.postprocess_moving_average(self.window, self.n_classes)

    @property
    def nbytes(self) -> int:
        """Bytes of ring buffer the device gives it: window * n_classes * 4."""
        return int(self._kernel.nbytes)

    def update(self, proba: Any) -> np.ndarray:
        """Adds one vector (n_classes,) or a batch (n, n_classes); returns the
        moving average after each, in the same shape, float32."""
        batch, single = _vectors(proba, self.n_classes, "proba")
        out = self._kernel.update(batch)
        return out[0] if single else out

    def reset(self) -> None:
        self._kernel.reset()


class ExponentialSmoothing:
    """v = x on the first input, then v + alpha (x - v), per class.

    With u = 2^-24 and M the largest |x| seen, versus the same recurrence
    in float64 (alpha in float64) on the float32 inputs: each step's
    rounding (of x - v, of the product, of the sum, and alpha's own) is at
    most (6 alpha + 1) u M, and the recurrence shrinks earlier errors by
    (1 - alpha), so

        |v - v_float64| <= (6 + 1 / alpha) * u * M.
    """

    def __init__(self, alpha: float, n_classes: int = 1) -> None:
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0.0 < float(alpha) <= 1.0:
            raise ValueError(f"alpha must be a number in (0, 1], got {alpha!r}")
        if np.float32(alpha) <= 0.0:
            raise ValueError(f"alpha={alpha!r} rounds to 0 in float32; use alpha >= {np.finfo(np.float32).tiny}")
        self.alpha = float(alpha)
        self.n_classes = _checks.positive_int(n_classes, "n_classes", 2**16)
        self._kernel = _runtime.postprocess_exponential_smoothing(np.float32(self.alpha), self.n_classes)

    @property
    def nbytes(self) -> int:
        """Bytes of memory the device gives it: n_classes * 4."""
        return int(self._kernel.nbytes)

    def update(self, x: Any) -> np.ndarray:
        """Smooths one vector (n_classes,) or a batch (n, n_classes); returns
        the smoothed value after each, in the same shape, float32."""
        batch, single = _vectors(x, self.n_classes, "x")
        out = self._kernel.update(batch)
        return out[0] if single else out

    def reset(self) -> None:
        self._kernel.reset()


class MajorityVote:
    """The most frequent of the last `window` labels (int32 class labels).
    Ties go to the label seen most recently among the tied: a vote follows
    a change as soon as the new label is as frequent as the old one."""

    def __init__(self, window: int) -> None:
        self.window = _checks.positive_int(window, "window", MAX_VOTE_WINDOW)
        self._kernel = _runtime.postprocess_majority_vote(self.window)

    @property
    def nbytes(self) -> int:
        """Bytes of ring buffer the device gives it: window * 4."""
        return int(self._kernel.nbytes)

    def update(self, labels: Any) -> Union[int, np.ndarray]:
        """Adds one label or a 1-D batch; returns the vote after each (an int
        for one label, else an int32 array)."""
        array = np.asarray(labels)
        if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
            raise TypeError(
                f"labels must be integers (class indices), got dtype {array.dtype}; "
                "map class names to indices first (e.g. with numpy.searchsorted on classes_)"
            )
        if array.ndim > 1:
            raise ValueError(f"labels must be an integer or a 1-D array, got shape {array.shape}")
        info = np.iinfo(np.int32)
        if array.size and (array.min() < info.min or array.max() > info.max):
            raise ValueError("labels must fit in int32")
        out = self._kernel.update(array.reshape(-1).astype(np.int32))
        return int(out[0]) if array.ndim == 0 else out

    def reset(self) -> None:
        self._kernel.reset()


class Hysteresis:
    """A switch on an anomaly score: turns on when the score is above
    `high`, off when it is below `low` (strictly), and otherwise keeps its
    state. Starts off. Exact (float32 comparisons of float32 scores)."""

    def __init__(self, low: float, high: float) -> None:
        for name, value in (("low", low), ("high", high)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if np.float32(low) > np.float32(high):
            raise ValueError(f"low must not exceed high (in float32), got low={low!r}, high={high!r}")
        self.low = float(low)
        self.high = float(high)
        self._kernel = _runtime.postprocess_hysteresis(np.float32(self.low), np.float32(self.high))

    nbytes = 0  # no buffer

    @property
    def on(self) -> bool:
        return bool(self._kernel.on)

    def update(self, scores: Any) -> Union[bool, np.ndarray]:
        """Adds one score or a 1-D batch (finite); returns the state after
        each (a bool, or a bool array)."""
        batch, single = _scalars(scores, "scores")
        out = self._kernel.update(batch)
        return bool(out[0]) if single else out

    def reset(self) -> None:
        self._kernel.reset()


class NOfM:
    """An event when at least `n` of the last `m` inputs were positive
    (exact). Before m inputs, over the inputs seen since the reset."""

    def __init__(self, n: int, m: int) -> None:
        self.m = _checks.positive_int(m, "m", MAX_WINDOW)
        self.n = _checks.positive_int(n, "n", self.m)
        self._kernel = _runtime.postprocess_n_of_m(self.n, self.m)

    @property
    def nbytes(self) -> int:
        """Bytes of ring buffer the device gives it: m."""
        return int(self._kernel.nbytes)

    def update(self, positive: Any) -> Union[bool, np.ndarray]:
        """Adds one input or a 1-D batch (bools, or 0/1); returns whether an
        event is detected after each."""
        array = np.asarray(positive)
        if array.ndim > 1:
            raise ValueError(f"positive must be a bool or a 1-D array, got shape {array.shape}")
        if array.dtype != bool and (
            not np.issubdtype(array.dtype, np.integer) or not np.all((array == 0) | (array == 1))
        ):
            raise ValueError("positive must hold booleans or 0/1 (e.g. predictions == anomaly_label)")
        out = self._kernel.update(array.reshape(-1).astype(np.uint8))
        return bool(out[0]) if array.ndim == 0 else out

    def reset(self) -> None:
        self._kernel.reset()


__all__ = ["MovingAverage", "ExponentialSmoothing", "MajorityVote", "Hysteresis", "NOfM"]
