"""Signal steps: transformers of emlearn_gen.signal that a Pipeline converts
as one operation of the transforms program (docs/architecture.md, section 7,
"Signal steps"): WindowFeatures (window_stats), Spectrum, MelSpectrum, MFCC
and SpectralFeatures (spectrum, one op with a mode), SOSFilter (sos_filter)
and FIRFilter (fir_filter).

A signal step reads a whole window (n_samples x n_channels values of the
row, samples-major) and writes its features; the runtime op calls the
signal kernel, so the header frame, the host model, the harness, the device
runner and footprint need nothing of their own. A kernel's buffers (an
FFT's, a filter's state) are op scratch after the program's two rows
(``work``, transforms_scratch_floats in transforms.hpp). Plugging in another
signal transformer is one ``SignalStep`` here plus its op in ir.OPS and in
transforms.hpp (transform_slice, transform_check_indices, transform_op_work).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from sklearn.utils.validation import check_is_fitted

from ...signal import filters, spectrum, window_stats
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
    #: Floats of op scratch the kernel needs (transform_op_work in transforms.hpp).
    work: Callable[[Step], int] = lambda step: 0


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


def _check_window_width(est: Any, n_samples: int, n_channels: int, n_in: int) -> None:
    if n_samples * n_channels != n_in:
        raise ValueError(
            f"{type(est).__name__} takes windows of {n_samples} x {n_channels} = {n_samples * n_channels} values, "
            f"but {n_in} reach it; refit the pipeline on rows of one window each"
        )


# --------------------------------------------------------------------------
# Spectral steps: one op, "spectrum", whose mode says which transformer.
# indices: n_fft, n_channels, mode, kind, windowed, n_filters, n_mfcc, then
# the filterbank's first bins and offsets; params: amin, bin_hz, twiddles,
# window, the filterbank's weights, the DCT matrix (transforms.hpp).

SPECTRUM_MODES = {"bins": 0, "mel": 1, "mfcc": 2, "features": 3}
_SPECTRUM_KINDS = spectrum.KINDS
_FEATURE_KINDS = {"power": 0, "magnitude": 1}


def _spectrum_step(est: Any, n_in: int) -> Step:
    check_is_fitted(est, "twiddles_")
    n = int(est.n_fft)
    n_channels = int(est.n_channels)
    _check_window_width(est, n, n_channels, n_in)
    window = est.window_
    amin, bin_hz = spectrum.DEFAULT_AMIN, 0.0
    first_bins = offsets = np.zeros(0, dtype=np.int64)
    weights = dct = np.zeros(0)
    n_filters = n_mfcc = 0
    if isinstance(est, spectrum.Spectrum):
        mode, kind, n_out = "bins", _SPECTRUM_KINDS[est.kind], n // 2 + 1
        amin = spectrum._check_amin(est.amin)
    elif isinstance(est, spectrum.SpectralFeatures):
        mode, kind, n_out = "features", _FEATURE_KINDS[est.spectrum], 2
        bin_hz = float(est.bin_hz_)
    else:  # MelSpectrum, MFCC
        amin = spectrum._check_amin(est.amin)
        first, offsets32, _ = est.filterbank_tables_
        filterbank = np.asarray(est.filterbank_, dtype=np.float64)
        n_filters = filterbank.shape[0]
        first_bins = first.astype(np.int64)
        offsets = offsets32.astype(np.int64)
        # float64 weights (what the contract's reference uses); packing rounds
        # them to the float32 of filterbank_tables_.
        weights = np.concatenate([filterbank[f, first_bins[f] : first_bins[f] + offsets[f + 1] - offsets[f]]
                                  for f in range(n_filters)])
        if isinstance(est, spectrum.MFCC):
            mode, kind = "mfcc", 0
            n_mfcc = int(est.n_mfcc)
            n_out = n_mfcc
            dct = spectrum.dct_matrix(n_mfcc, n_filters).reshape(-1)
        else:
            mode, kind, n_out = "mel", int(bool(est.log)), n_filters
    head = [n, n_channels, SPECTRUM_MODES[mode], kind, int(window is not None), n_filters, n_mfcc]
    indices = np.concatenate([head, first_bins, offsets if n_filters else [0]]).astype(np.int64)
    params = np.concatenate([[amin, bin_hz], est.twiddles_.astype(np.float64),
                             np.zeros(0) if window is None else window.astype(np.float64), weights, dct])
    return Step("spectrum", n_in, n_out * n_channels, params, indices, type(est).__name__, refuses_nan=True)


@dataclass(frozen=True)
class _SpectrumTables:
    """A spectrum step's tables, decoded (float64 as the step holds them)."""

    n_fft: int
    n_channels: int
    mode: str
    kind: int
    window: Optional[np.ndarray]
    amin: float
    bin_hz: float
    filterbank: Optional[np.ndarray]
    dct: Optional[np.ndarray]


def _spectrum_tables(step: Step) -> _SpectrumTables:
    n, n_channels, mode, kind, windowed, n_filters, n_mfcc = (int(v) for v in step.indices[:7])
    p = step.params
    at = 2 + 2 * n
    window = p[at : at + n] if windowed else None
    at += n if windowed else 0
    filterbank = dct = None
    if n_filters:
        first = step.indices[7 : 7 + n_filters]
        offsets = step.indices[7 + n_filters : 8 + 2 * n_filters]
        filterbank = np.zeros((n_filters, n // 2 + 1))
        for f in range(n_filters):
            filterbank[f, first[f] : first[f] + offsets[f + 1] - offsets[f]] = p[at + offsets[f] : at + offsets[f + 1]]
        at += int(offsets[-1])
        dct = p[at : at + n_mfcc * n_filters].reshape(n_mfcc, n_filters) if n_mfcc else None
    modes = {v: k for k, v in SPECTRUM_MODES.items()}
    return _SpectrumTables(n, n_channels, modes[mode], kind, window, float(p[0]), float(p[1]), filterbank, dct)


def _spectrum_bound(ref: np.ndarray, err: np.ndarray, step: Step) -> Tuple[np.ndarray, np.ndarray]:
    t = _spectrum_tables(step)
    common = (ref, err, t.n_fft, t.n_channels, t.window)
    if t.mode == "bins":
        kind = {v: k for k, v in _SPECTRUM_KINDS.items()}[t.kind]
        return spectrum.spectrum_reference_bound(*common, kind, t.amin)
    if t.mode == "features":
        kind = {v: k for k, v in _FEATURE_KINDS.items()}[t.kind]
        return spectrum.spectral_features_reference_bound(*common, kind, t.bin_hz)
    assert t.filterbank is not None
    if t.mode == "mel":
        return spectrum.mel_reference_bound(*common, t.filterbank, bool(t.kind), t.amin)
    assert t.dct is not None
    return spectrum.mfcc_reference_bound(*common, t.filterbank, t.dct, t.amin)


def _spectrum_work(step: Step) -> int:
    """rfft's buffers (2n, or 4n for odd n), the complex bins, and for
    MFCCs the log-mel energies (spectrum_work in transforms.hpp)."""
    n, mode, n_filters = int(step.indices[0]), int(step.indices[2]), int(step.indices[5])
    fft = 2 * n if n % 2 == 0 else 4 * n
    return fft + 2 * (n // 2 + 1) + (n_filters if mode == SPECTRUM_MODES["mfcc"] else 0)


# --------------------------------------------------------------------------
# Filters: each window filtered from the filter's initial state (the
# transformers' own transform). indices: n_samples, n_channels, then
# n_sections and steady, or n_taps and decimation.


def _fitted_samples(est: Any, n_in: int) -> Tuple[int, int]:
    check_is_fitted(est, "n_features_in_")
    n_channels = int(est.n_channels)
    if n_in % n_channels:
        raise ValueError(f"{type(est).__name__} has n_channels={n_channels}, but {n_in} values reach it: "
                         "refit the pipeline on rows of whole windows")
    return n_in // n_channels, n_channels


def _sos_step(est: filters.SOSFilter, n_in: int) -> Step:
    n_samples, n_channels = _fitted_samples(est, n_in)
    sos = filters._checked_sos(est.sos)
    steady = est.init == "steady"
    zi_unit = filters._steady_state_unit(sos).astype(np.float64).reshape(-1) if steady else np.zeros(0)
    indices = np.array([n_samples, n_channels, len(sos), int(steady)], dtype=np.int64)
    return Step("sos_filter", n_in, n_in, np.concatenate([sos.reshape(-1), zi_unit]), indices, "SOSFilter",
                refuses_nan=True)


def _sos_bound(ref: np.ndarray, err: np.ndarray, step: Step) -> Tuple[np.ndarray, np.ndarray]:
    n_sections, steady = int(step.indices[2]), bool(step.indices[3])
    sos = step.params[: 6 * n_sections].reshape(n_sections, 6)
    return filters.sos_reference_bound(ref, err, sos, int(step.indices[1]), steady)


def _fir_step(est: filters.FIRFilter, n_in: int) -> Step:
    n_samples, n_channels = _fitted_samples(est, n_in)
    taps = np.asarray(est.coefficients, dtype=np.float64).reshape(-1)
    q = int(est.decimation)
    n_out = -(-n_samples // q) * n_channels
    indices = np.array([n_samples, n_channels, taps.size, q], dtype=np.int64)
    return Step("fir_filter", n_in, n_out, taps, indices, "FIRFilter", refuses_nan=True)


def _fir_bound(ref: np.ndarray, err: np.ndarray, step: Step) -> Tuple[np.ndarray, np.ndarray]:
    n_channels, n_taps, q = (int(v) for v in step.indices[1:4])
    return filters.fir_reference_bound(ref, err, step.params[:n_taps], q, n_channels)


SIGNAL_STEPS: Tuple[SignalStep, ...] = (
    SignalStep(window_stats.WindowFeatures, "window_stats", _window_stats_step, _window_stats_bound),
    *(SignalStep(cls, "spectrum", _spectrum_step, _spectrum_bound, _spectrum_work)
      for cls in (spectrum.Spectrum, spectrum.MelSpectrum, spectrum.MFCC, spectrum.SpectralFeatures)),
    SignalStep(filters.SOSFilter, "sos_filter", _sos_step, _sos_bound,
               lambda step: 2 * int(step.indices[2]) * int(step.indices[1])),
    SignalStep(filters.FIRFilter, "fir_filter", _fir_step, _fir_bound,
               lambda step: int(step.indices[2]) * int(step.indices[1])),
)

#: By op name, for the contract and the IR.
BY_OP: Dict[str, SignalStep] = {s.op: s for s in SIGNAL_STEPS}


def window_shape(step: Step) -> Optional[Tuple[int, int]]:
    """(n_samples, n_channels) of a signal step (its indices start with
    them), else None."""
    if step.op not in BY_OP:
        return None
    return int(step.indices[0]), int(step.indices[1])


def op_work(step: Step) -> int:
    """Floats of op scratch the step's kernel needs (0 for most steps)."""
    signal = BY_OP.get(step.op)
    return 0 if signal is None else int(signal.work(step))
