"""Window statistics: per-channel features of fixed-length windows of
multi-axis sensor data, computed by the runtime's window_stats (runtime
window_stats.hpp), so training and firmware run the same code.

Conventions
-----------
- A window is one row of ``X``: ``n_samples x n_channels`` values,
  samples-major with the channels interleaved (``x[s * n_channels + c]``),
  as ``windows.reshape(n_windows, -1)`` of an array shaped
  ``(n_windows, n_samples, n_channels)`` gives it.
- The output is feature-major: column ``k * n_channels + c`` is feature
  ``features[k]`` of channel ``c``, named ``f"{feature}_ch{c}"`` by
  ``get_feature_names_out``.
- ``std`` is the population deviation (ddof=0, numpy.std's default);
  ``energy`` is the sum of squares (not their mean); ``rms`` is
  ``sqrt(energy / n_samples)``; ``zero_crossings`` counts consecutive
  samples of different sign, a sample being negative where ``x < 0`` (an
  exact zero counts as non-negative: 1, 0, 1 has none, -1, 0, -1 two).

Numeric bound
-------------
The runtime computes in float32 from the float32 samples; against float64
(numpy) on the same float32 samples, with ``n = n_samples``,
``A = mean |x|``, ``Q = mean x^2``, ``gamma(m) = m u / (1 - m u)``,
``u = 2^-24`` (Higham's bound on m roundings) per channel:

============== ============================================================
mean           ``gamma(n + 1) A``
energy         ``gamma(n) n Q + n 2^-149`` (each square rounded, n - 1 sums)
rms            the square root's bound (below) of ``Q`` known within
               ``gamma(n + 1) Q + 2^-149``, plus ``u`` of the result
std            likewise of the variance ``V`` known within
               ``gamma(n + 3) (V + e^2) + e^2 + 2^-149``, ``e`` the mean's
               bound (the second pass is on the rounded mean, which adds
               ``e^2`` exactly: the squares about any centre ``m`` are
               ``n V + n (m - mean)^2``)
min, max       exact
peak_to_peak   ``u |max - min|`` (one rounding)
zero_crossings exact
============== ============================================================

where a square root of a value known within ``E`` of ``v`` is within
``min(sqrt(E), E / (sqrt(v) + sqrt(max(v - E, 0))))``. numpy's own float64
roundings add ``(n + 4) 2^-53`` of the same magnitudes
(``window_stats_bound``). Samples whose square overflows float32
(``|x| > 1.8e19``) give infinite energy, rms and std.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .. import _runtime

#: The features, by the runtime's code (window_feature in window_stats.hpp).
FEATURES: Dict[str, int] = {
    "mean": 0,
    "std": 1,
    "min": 2,
    "max": 3,
    "rms": 4,
    "zero_crossings": 5,
    "peak_to_peak": 6,
    "energy": 7,
}

#: Every feature, in code order: WindowFeatures' default.
ALL_FEATURES: Tuple[str, ...] = tuple(FEATURES)

#: Window sizes the runtime takes: sample counts up to 2^24 are exact in float32.
MAX_SAMPLES = 2**24

_U = 2.0**-24
_U64 = 2.0**-53
_TINY = 2.0**-149


def _gamma(m: float, u: float = _U) -> float:
    return m * u / (1.0 - m * u)


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be a positive integer, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value}")
    return int(value)


def check_window_shape(n_samples: Any, n_channels: Any) -> Tuple[int, int]:
    """(n_samples, n_channels) as ints; TypeError or ValueError saying what
    is wrong for non-integers, non-positive sizes or windows the runtime
    cannot take."""
    n_s = _positive_int(n_samples, "n_samples")
    n_c = _positive_int(n_channels, "n_channels")
    if n_s > MAX_SAMPLES:
        raise ValueError(f"n_samples={n_s} is above {MAX_SAMPLES} (2^24), the most float32 counts exactly; "
                         "use shorter windows")
    if n_s * n_c >= 2**32:
        raise ValueError(f"a window of {n_s} x {n_c} values is beyond the runtime's 32-bit sizes; use smaller windows")
    return n_s, n_c


def check_features(features: Any) -> Tuple[str, ...]:
    """The feature names as a tuple; ValueError or TypeError naming the
    unknown ones, the repeated ones, or an empty list."""
    if isinstance(features, str):
        raise TypeError(f"features must be a sequence of names such as ('mean', 'std'), got the string {features!r}")
    try:
        names = tuple(features)
    except TypeError:
        raise TypeError(f"features must be a sequence of names, got {features!r}") from None
    if not names:
        raise ValueError(f"features is empty; give at least one of {', '.join(ALL_FEATURES)}")
    unknown = [f for f in names if not isinstance(f, str) or f not in FEATURES]
    if unknown:
        raise ValueError(f"unknown window features {unknown!r}; supported: {', '.join(ALL_FEATURES)}")
    repeated = sorted({f for f in names if names.count(f) > 1})
    if repeated:
        raise ValueError(f"window features {repeated!r} are listed more than once; list each once")
    return names


def feature_codes(features: Sequence[str]) -> np.ndarray:
    """The runtime's codes of the feature names, as uint8."""
    return np.array([FEATURES[f] for f in features], dtype=np.uint8)


def window_stats_reference(X: np.ndarray, n_samples: int, n_channels: int,
                           features: Sequence[str] = ALL_FEATURES) -> np.ndarray:
    """numpy float64 of the features of each window (row of X), in the
    runtime's layout (feature-major): the reference of the stated bound."""
    W = np.asarray(X, dtype=np.float64).reshape(len(X), n_samples, n_channels)
    squares = np.sum(W * W, axis=1)
    values = {
        "mean": W.mean(axis=1),
        "std": W.std(axis=1),
        "min": W.min(axis=1),
        "max": W.max(axis=1),
        "rms": np.sqrt(squares / n_samples),
        "zero_crossings": np.count_nonzero(np.diff(W < 0, axis=1), axis=1).astype(np.float64),
        "peak_to_peak": W.max(axis=1) - W.min(axis=1),
        "energy": squares,
    }
    return np.concatenate([values[f] for f in features], axis=1)


def _sqrt_bound(v_low: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Bound on |sqrt(v') - sqrt(v)| for v' within E of v, given v >= v_low
    >= 0 (the slope bound falls as v grows, so it takes the lowest v)."""
    r = np.sqrt(np.maximum(v_low, 0.0))
    low = np.sqrt(np.maximum(v_low - E, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        by_slope = np.where(r + low > 0, E / (r + low), np.inf)
    return np.minimum(np.sqrt(E), by_slope)


def _root_bound(low: np.ndarray, high: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Bound on |sqrt_f(v') - sqrt(v)| for v' within E of v, v between
    low^2 and high^2: the root's error and sqrt_f's rounding (u)."""
    err = _sqrt_bound(low**2, E)
    return err + _U * (high + err)


def window_stats_bound(X: np.ndarray, n_samples: int, n_channels: int,
                       features: Sequence[str] = ALL_FEATURES,
                       input_error: Optional[np.ndarray] = None) -> np.ndarray:
    """Per output value, the bound on |runtime - numpy float64| of the
    features of each window of X (the table in the module docstring), in
    the runtime's layout. ``input_error`` (same shape as X), where given,
    bounds how far the samples the runtime reads may lie from X (an earlier
    step's float32 error): it is carried through each feature (mean by the
    mean error, std and rms by the root-mean-square error, min and max by
    the largest, peak_to_peak twice that, energy by sum 2 |x| e + e^2, and a
    zero crossing may change at each sample within its error of 0), and the
    kernel's own rounding is bounded on the samples the runtime reads, whose
    magnitudes are within |x| + e."""
    W = np.asarray(X, dtype=np.float64).reshape(len(X), n_samples, n_channels)
    if input_error is None:
        e = np.zeros_like(W)
    else:
        e = np.asarray(input_error, dtype=np.float64).reshape(W.shape)
    n = float(n_samples)
    mag = np.abs(W) + e
    A = mag.mean(axis=1)
    Q = np.mean(mag * mag, axis=1)  # >= the mean square of the runtime's samples
    squares = np.sum(W * W, axis=1)
    rms = np.sqrt(squares / n)
    std = W.std(axis=1)
    e_mean = e.mean(axis=1)
    e_rms = np.sqrt(np.mean(e * e, axis=1))  # std and rms move at most this far with the samples
    e_max = e.max(axis=1)
    # The runtime's mean of its own samples; its deviations are taken about
    # that rounded mean, which adds its error squared to the variance.
    mean_err = _gamma(n + 1) * A
    std_high = std + e_rms
    var_err = _gamma(n + 3) * (std_high**2 + mean_err**2) + mean_err**2 + _TINY
    q_err = _gamma(n + 1) * Q + _TINY
    ref64 = (n + 4) * _U64  # numpy's own roundings, relative to the magnitudes
    near_zero = (e > 0) & (np.abs(W) <= e)
    bounds = {
        "mean": mean_err + e_mean + ref64 * A,
        "std": e_rms + _root_bound(np.maximum(std - e_rms, 0.0), std_high, var_err) + ref64 * np.sqrt(Q),
        "min": e_max,
        "max": e_max,
        "rms": e_rms + _root_bound(np.maximum(rms - e_rms, 0.0), rms + e_rms, q_err) + ref64 * np.sqrt(Q),
        "zero_crossings": 2.0 * np.count_nonzero(near_zero, axis=1),
        "peak_to_peak": 2 * e_max + _U * (W.max(axis=1) - W.min(axis=1) + 2 * e_max),
        "energy": np.sum(2 * np.abs(W) * e + e * e, axis=1) + _gamma(n) * n * Q + n * _TINY + ref64 * n * Q,
    }
    return np.concatenate([bounds[f] for f in features], axis=1)


def check_windows(X: Any, n_samples: int, n_channels: int, what: str = "WindowFeatures") -> np.ndarray:
    """X as a C-contiguous float32 array of windows; ValueError saying what
    is wrong for another shape, or NaN (impute before windowing)."""
    try:
        array = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{what}: X must be numbers, one window of {n_samples} x {n_channels} values per row") from None
    width = n_samples * n_channels
    if array.ndim == 3 and array.shape[1:] == (n_samples, n_channels):
        array = array.reshape(len(array), width)
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(
            f"{what}: X has shape {array.shape}, but each row must be one window of n_samples={n_samples} x "
            f"n_channels={n_channels} = {width} values, samples-major (windows.reshape(n_windows, -1) of an "
            f"array shaped (n_windows, {n_samples}, {n_channels}))"
        )
    if np.isnan(array).any():
        row, col = (int(v) for v in np.argwhere(np.isnan(array))[0])
        raise ValueError(
            f"{what}: X contains NaN at window {row}, sample {col // n_channels}, channel {col % n_channels}; "
            "window statistics take no missing values: impute the signal before windowing"
        )
    return np.ascontiguousarray(array, dtype=np.float32)


class WindowFeatures(TransformerMixin, BaseEstimator):
    """Per-channel statistics of fixed-length windows (see the module
    docstring for conventions and the float32 bound).

    Parameters
    ----------
    n_samples : samples per window.
    n_channels : channels (axes) per sample.
    features : names among mean, std, min, max, rms, zero_crossings,
        peak_to_peak, energy, in the output's order.

    Each row of X is one window of ``n_samples * n_channels`` values,
    samples-major; ``transform`` returns ``len(features) * n_channels``
    columns, feature-major, as float64 holding the runtime's float32 values.
    In a Pipeline before a model, ``emlearn_gen.convert`` runs it on the
    device with the same kernel.
    """

    def __init__(self, n_samples: int = 32, n_channels: int = 3, features: Sequence[str] = ALL_FEATURES) -> None:
        self.n_samples = n_samples
        self.n_channels = n_channels
        self.features = features

    def fit(self, X: Any, y: Any = None) -> "WindowFeatures":
        """Checks the parameters and the shape of X (no statistics are learnt)."""
        n_s, n_c = check_window_shape(self.n_samples, self.n_channels)
        self.features_ = check_features(self.features)
        check_windows(X, n_s, n_c)
        self.n_features_in_ = n_s * n_c
        self.n_features_out_ = len(self.features_) * n_c
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The features of each window, by the runtime's kernel."""
        check_is_fitted(self, "features_")
        n_s, n_c = check_window_shape(self.n_samples, self.n_channels)
        X32 = check_windows(X, n_s, n_c)
        out = _runtime.window_stats(X32, n_s, n_c, feature_codes(self.features_).tolist())
        return np.asarray(out, dtype=np.float64)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``f"{feature}_ch{c}"``, feature-major, as the output's columns."""
        check_is_fitted(self, "features_")
        n_c = int(self.n_channels)
        return np.array([f"{f}_ch{c}" for f in self.features_ for c in range(n_c)], dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.requires_fit = True
        return tags


__all__ = ["WindowFeatures", "FEATURES", "ALL_FEATURES", "window_stats_reference", "window_stats_bound"]
