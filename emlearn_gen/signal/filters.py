"""Streaming IIR (second-order sections) and FIR filters with decimation,
run by the C++ runtime (runtime/include/emlearn_gen/filters.hpp) in float32,
the very code a device runs.

Each class is a scikit-learn transformer, for windows in a Pipeline (each row
a window of interleaved samples, filtered from a fresh state), and a
streaming object (``update(block)`` continues from the state the last block
left, ``reset()`` starts again). Feeding a stream in blocks of any sizes
gives the same bits as feeding it at once.

Bounds versus scipy's float64 are derived in docs/signal.md ("Filters").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.signal
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from emlearn_gen import _runtime
from emlearn_gen.signal import _checks

SOS_INITS = ("zeros", "steady")


def _checked_sos(sos: Any) -> np.ndarray:
    """scipy's (n_sections, 6) sections as float64, each row b0 b1 b2 a0 a1 a2 with a0 = 1."""
    _checks.finite_float32(sos, "sos")  # finite reals within float32's range
    array = np.asarray(sos, dtype=np.float64)  # float64 for sosfilt_zi
    if array.ndim != 2 or array.shape[1] != 6 or array.shape[0] == 0:
        raise ValueError(
            f"sos must have shape (n_sections, 6) with at least one section, as scipy.signal.butter(..., "
            f"output='sos') returns, got shape {array.shape}"
        )
    if not np.all(array[:, 3] == 1.0):
        raise ValueError("each section's a0 (sos[:, 3]) must be 1: divide the row by its a0, as scipy.signal requires")
    return array


def _steady_state_unit(sos: np.ndarray) -> np.ndarray:
    """scipy.signal.sosfilt_zi(sos): the state of a unit step, at rest."""
    try:
        zi = scipy.signal.sosfilt_zi(sos)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise ValueError(f"init='steady' needs a filter with a steady state (no pole at z = 1): {exc}") from None
    if not np.all(np.isfinite(zi)) or np.max(np.abs(zi)) > _checks.FLOAT32_MAX:
        raise ValueError("init='steady': this filter's steady state does not fit float32; use init='zeros'")
    return zi.astype(np.float32)


class _Streaming:
    """What both filters share: a runtime filter for the stream, built from
    the parameters when first used, and one for windows, built by fit.
    Neither survives set_params (which may change the filter) or pickling
    (runtime objects do not pickle): both are rebuilt from the parameters."""

    def _kernel(self) -> Any:
        raise NotImplementedError

    def _stream_kernel(self) -> Any:
        if getattr(self, "_stream", None) is None:
            self._stream = self._kernel()
        return self._stream

    def _windows_kernel(self) -> Any:
        if getattr(self, "_rows_kernel", None) is None:
            self._rows_kernel = self._kernel()
        return self._rows_kernel

    def _forget_kernels(self) -> None:
        self.__dict__.pop("_stream", None)
        self.__dict__.pop("_rows_kernel", None)

    def set_params(self, **params: Any) -> Any:
        self._forget_kernels()
        return super().set_params(**params)  # type: ignore[misc]

    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # type: ignore[misc]
        state.pop("_stream", None)
        state.pop("_rows_kernel", None)
        return state


class SOSFilter(_Streaming, TransformerMixin, BaseEstimator):
    """IIR filtering by second-order sections, as scipy.signal.sosfilt
    (Direct Form II transposed), in float32.

    Parameters
    ----------
    sos : array of shape (n_sections, 6)
        scipy's sections (e.g. ``scipy.signal.butter(4, 0.2, output='sos')``),
        rounded to float32 for the kernel.
    n_channels : int
        Channels of the signal; samples are interleaved (a row of a window or
        of a block holds one sample of every channel).
    init : "zeros" or "steady"
        The state a stream or a window starts from: at rest (sosfilt without
        zi), or the steady state of a constant input equal to the first sample
        (``sosfilt(sos, x, zi=sosfilt_zi(sos) * x[0])``).

    Bound versus ``scipy.signal.sosfilt`` in float64 on the same float32
    input, with u = 2^-24: for each section s with input and output peaks
    U_s and Y_s, the rounding of its coefficients and of each operation
    injects at most 4 u (sum|b_s| U_s + sum|a_s| Y_s) per sample, which
    reaches the output through g_s, the impulse response of 1 / A_s followed
    by the sections after s. To first order,

        |y - y_scipy| <= u * sum_s 4 (sum|b_s| U_s + sum|a_s| Y_s) * sum|g_s|

    plus u * sum_s 2 |zi_s| * sum|g_s| when starting from a state zi. The
    bound grows with the filter's conditioning (high orders, cut-offs near
    0 or Nyquist), which sum|g_s| measures; docs/signal.md derives it.

    Streaming: ``update(block)`` filters a (n_samples, n_channels) block (or a
    1-D block when n_channels is 1) from the state the previous block left;
    ``state`` is scipy's zi/zf, shape (n_sections, 2, n_channels). A pickled
    copy starts its stream afresh.
    """

    def __init__(self, sos: Any, n_channels: int = 1, init: str = "zeros") -> None:
        self.sos = sos
        self.n_channels = n_channels
        self.init = init

    def _kernel(self) -> Any:
        """A runtime filter built from the parameters, checked."""
        n_channels = _checks.positive_int(self.n_channels, "n_channels", 2**16)
        if self.init not in SOS_INITS:
            raise ValueError(f"init must be one of {SOS_INITS}, got {self.init!r}")
        sos = _checked_sos(self.sos)
        zi_unit = _steady_state_unit(sos) if self.init == "steady" else None
        return _runtime.filters_sos(sos.astype(np.float32), n_channels, zi_unit)

    def fit(self, X: Any, y: Any = None) -> "SOSFilter":
        """Checks the parameters and X; learns nothing from the data."""
        kernel = self._kernel()
        X32 = _checks.windows(X, int(self.n_channels))
        self.n_features_in_ = X32.shape[1]
        self.n_sections_ = len(_checked_sos(self.sos))
        self._rows_kernel = kernel
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Filters each row (a window of interleaved samples) from a fresh
        state; returns float32 of X's shape."""
        check_is_fitted(self, "n_features_in_")
        X32 = _checks.windows(X, int(self.n_channels))
        if X32.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X32.shape[1]} columns; this filter was fitted on {self.n_features_in_}")
        return self._windows_kernel().rows(X32)

    # Streaming -------------------------------------------------------------

    def update(self, block: Any) -> np.ndarray:
        """Filters the next samples of the stream: returns float32 of the
        block's shape."""
        stream = self._stream_kernel()
        samples = _checks.block(block, int(self.n_channels))
        out = stream.update(samples)
        return out.reshape(-1) if np.ndim(block) == 1 else out

    def reset(self) -> "SOSFilter":
        """Starts the stream again (init decides from which state)."""
        self._stream_kernel().reset()
        return self

    @property
    def state(self) -> np.ndarray:
        """The stream's state as scipy's zi, (n_sections, 2, n_channels) float32."""
        return self._stream_kernel().state

    @state.setter
    def state(self, zi: Any) -> None:
        stream = self._stream_kernel()
        array = _checks.finite_float32(zi, "state")
        expected = stream.state.shape
        if array.shape != expected:
            raise ValueError(f"state must have shape {expected} (n_sections, 2, n_channels), got {array.shape}")
        stream.state = array


class FIRFilter(_Streaming, TransformerMixin, BaseEstimator):
    """FIR filtering, y[n] = sum_k h[k] x[n - k] (``scipy.signal.lfilter(h,
    [1.0], x)``), keeping every `decimation`-th output: causal decimation by
    q, equal to ``scipy.signal.upfirdn(h, x, down=q)[:ceil(n / q)]``, i.e.
    ``scipy.signal.decimate(x, q, ftype=scipy.signal.dlti(h, 1),
    zero_phase=False)``. scipy's own anti-alias filter for q is
    ``scipy.signal.firwin(20 * q + 1, 1 / q, window='hamming')``.

    Parameters
    ----------
    coefficients : 1-D array
        The taps h, rounded to float32.
    decimation : int
        q >= 1: the outputs at stream positions 0, q, 2q, ... are kept. The
        position is part of the streaming state, so blocks need not be
        multiples of q.
    n_channels : int
        Channels of the interleaved signal.

    Bound versus scipy in float64 on the float32 input x, with u = 2^-24 and
    N taps: each output is a float32 sum of N rounded products of
    float32-rounded taps, so

        |y - y_scipy| <= (N + 1) * u / (1 - (N + 1) * u) * sum_k |h_k x[n - k]|
                      <= (N + 1) * u / (1 - (N + 1) * u) * sum|h| * max|x|.

    transform: each row a window of interleaved samples, filtered from rest;
    returns (n_rows, ceil(n_samples / q) * n_channels) float32. Streaming:
    ``update(block)`` returns the kept outputs of the block (possibly none).
    A pickled copy starts its stream afresh.
    """

    def __init__(self, coefficients: Any, decimation: int = 1, n_channels: int = 1) -> None:
        self.coefficients = coefficients
        self.decimation = decimation
        self.n_channels = n_channels

    def _kernel(self) -> Any:
        taps = _checks.finite_float32(self.coefficients, "coefficients")
        if taps.ndim != 1 or taps.size == 0:
            raise ValueError(f"coefficients must be a non-empty 1-D array of taps, got shape {taps.shape}")
        n_channels = _checks.positive_int(self.n_channels, "n_channels", 2**16)
        decimation = _checks.positive_int(self.decimation, "decimation", 2**16)
        return _runtime.filters_fir(taps, n_channels, decimation)

    def fit(self, X: Any, y: Any = None) -> "FIRFilter":
        """Checks the parameters and X; learns nothing from the data."""
        kernel = self._kernel()
        X32 = _checks.windows(X, int(self.n_channels))
        self.n_features_in_ = X32.shape[1]
        self._rows_kernel = kernel
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        X32 = _checks.windows(X, int(self.n_channels))
        if X32.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X32.shape[1]} columns; this filter was fitted on {self.n_features_in_}")
        return self._windows_kernel().rows(X32)

    # Streaming -------------------------------------------------------------

    def update(self, block: Any) -> np.ndarray:
        """Filters the next samples; returns the kept outputs, float32,
        (n_kept, n_channels) or (n_kept,) for a 1-D block."""
        stream = self._stream_kernel()
        samples = _checks.block(block, int(self.n_channels))
        out = stream.update(samples)
        return out.reshape(-1) if np.ndim(block) == 1 else out

    def reset(self) -> "FIRFilter":
        """Starts the stream again at rest, at stream position 0."""
        self._stream_kernel().reset()
        return self

    @property
    def state(self) -> tuple:
        """(history ring (n_taps, n_channels), ring slot of the newest sample,
        stream position of the next sample modulo decimation)."""
        return self._stream_kernel().state


# --------------------------------------------------------------------------
# References and bounds on arrays (the numeric contract of a filter step in a
# Pipeline: each row a window filtered from the filter's initial state).
# X: float64 windows (n_windows, n_samples * n_channels, interleaved); err:
# the bound on how far the samples the runtime reads lie from X (an earlier
# step's error). Each returns scipy's float64 result on X and the bound on
# the runtime's distance from it, in the layout of the filter's transform.

_U = 2.0**-24


def _windows3(X: np.ndarray, n_channels: int) -> np.ndarray:
    """(n_windows, n_samples * n_channels) -> (n_windows, n_samples, n_channels)."""
    X = np.asarray(X, dtype=np.float64)
    return X.reshape(len(X), -1, n_channels)


def _impulse_sums(sos: np.ndarray, n_samples: int) -> np.ndarray:
    """Per section s, sum |g_s| over a window's n_samples outputs: g_s the
    impulse response of 1 / A_s followed by the sections after s (what an
    error injected at section s becomes at the output). A window is filtered
    from scratch, so no error lasts longer than its n_samples."""
    delta = np.zeros(n_samples)
    delta[0] = 1.0
    sums = []
    for s in range(len(sos)):
        recursive = np.array([[1.0, 0.0, 0.0, 1.0, *sos[s, 4:]]])
        sums.append(float(np.abs(scipy.signal.sosfilt(np.vstack([recursive, sos[s + 1 :]]), delta)).sum()))
    return np.asarray(sums)


def sos_reference_bound(X: np.ndarray, err: np.ndarray, sos: Any, n_channels: int,
                        steady: bool) -> "tuple[np.ndarray, np.ndarray]":
    """scipy.signal.sosfilt(sos, window) of each window (from
    sosfilt_zi(sos) * the first sample with `steady`), and SOSFilter's bound
    (docs/signal.md), per window and channel: u sum_s 4 (sum|b_s| U_s +
    sum|a_s| Y_s) sum|g_s| (+ u sum_s 2 |zi_s| sum|g_s| from a steady
    state), with U_s, Y_s the peaks of section s's input and output taken
    at their largest; an input error e carries through as sum|h| max e (and,
    through a steady state, sum_s |zi_unit_s| e_0 sum|g_s|)."""
    sos = _checked_sos(sos)
    x, dx = _windows3(X, n_channels), _windows3(err, n_channels)
    n_samples = x.shape[1]
    zi_unit = scipy.signal.sosfilt_zi(sos) if steady else None
    zi = None if zi_unit is None else zi_unit[:, None, :, None] * x[None, :, :1, :]  # (n_sec, windows, 2, channels)
    g = _impulse_sums(sos, n_samples)
    whole = float(np.abs(scipy.signal.sosfilt(sos, np.eye(1, n_samples)[0])).sum())
    dx_max = dx.max(axis=1)
    total = np.zeros((len(x), n_channels))  # in units of u
    carried = whole * dx_max  # the input's error, filtered
    section_input = x
    for s in range(len(sos)):
        zi_s = None if zi is None else zi[s : s + 1]
        if zi_s is None:
            section_output = scipy.signal.sosfilt(sos[s : s + 1], section_input, axis=1)
        else:
            section_output, _ = scipy.signal.sosfilt(sos[s : s + 1], section_input, axis=1, zi=zi_s)
        b, a = np.abs(sos[s, :3]).sum(), np.abs(sos[s, 3:]).sum()
        # The runtime's section sees its input within the error so far.
        peak_in = np.abs(section_input).max(axis=1) + dx_max * (whole if s else 1.0)
        peak_out = np.abs(section_output).max(axis=1) + dx_max * whole
        total += 4.0 * (b * peak_in + a * peak_out) * g[s]
        if zi_s is not None:
            start = np.abs(zi_s[0]).sum(axis=1)  # (windows, channels)
            total += 2.0 * start * g[s]
            carried = carried + np.abs(zi_unit[s]).sum() * dx[:, 0, :] * g[s]
        section_input = section_output
    bound = _U * total + carried
    ref = section_input
    return ref.reshape(len(x), -1), np.broadcast_to(bound[:, None, :], ref.shape).reshape(len(x), -1).copy()


def fir_reference_bound(X: np.ndarray, err: np.ndarray, taps: Any, decimation: int,
                        n_channels: int) -> "tuple[np.ndarray, np.ndarray]":
    """scipy.signal.lfilter(taps, [1.0], window)[::decimation] of each
    window, and FIRFilter's bound per window and channel: (N + 1) u / (1 -
    (N + 1) u) sum|h| max|x| (x at its largest), plus sum|h| max e for an
    input error e."""
    h = np.asarray(taps, dtype=np.float64).reshape(-1)
    x, dx = _windows3(X, n_channels), _windows3(err, n_channels)
    ref = scipy.signal.lfilter(h, [1.0], x, axis=1)[:, ::decimation, :]
    m = (len(h) + 1) * _U
    peak = (np.abs(x) + dx).max(axis=1)
    bound = m / (1.0 - m) * np.abs(h).sum() * peak + np.abs(h).sum() * dx.max(axis=1)
    return ref.reshape(len(x), -1), np.broadcast_to(bound[:, None, :], ref.shape).reshape(len(x), -1).copy()


__all__ = ["SOSFilter", "FIRFilter", "sos_reference_bound", "fir_reference_bound"]
