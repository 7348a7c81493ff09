"""Spectral features of windows of samples, computed by the C++ runtime
(runtime/include/emlearn_gen/fft.hpp and spectrum.hpp) so that training code
and firmware run the same kernels, bit for bit.

Conventions (docs/signal.md, "## Spectral kernels", says the same):

* FFT: numpy.fft.rfft -- n // 2 + 1 bins, unscaled, e^(-2 pi i j k / n).
  Lengths whose prime factors are 2, 3 and 5 only (mixed radix); others are
  refused with the nearest supported lengths.
* Windows: scipy.signal.get_window conventions, periodic (``fftbins=True``)
  unless ``periodic=False``: Hann, Hamming, Blackman, or none ("boxcar").
* Spectra: power |X|^2, magnitude |X|, log-power 10 log10(max(|X|^2, amin)).
* Mel: Slaney's mel scale and area normalisation (librosa.filters.mel's
  default, htk=False, norm='slaney'), HTK's scale as an option; log-mel
  energies are 10 log10(max(E, amin)); MFCCs are the first n_mfcc
  coefficients of the orthonormal DCT-II of the log-mel energies
  (scipy.fft.dct(type=2, norm='ortho')).
* Spectral features: centroid sum_k f_k S_k / sum_k S_k (0 for an all-zero
  spectrum) and dominant frequency f_argmax (the first of equal largest
  bins, as numpy.argmax), with f_k = k sample_rate / n_fft.

Rows and channels: every transformer takes X of shape (n_windows, n_fft *
n_channels), the samples of each window interleaved (sample j of channel c
at column j * n_channels + c; one channel is a plain window), and returns
the features channel-major: all of channel 0's, then channel 1's, ... The
samples are rounded to float32 first; the runtime computes in float32.
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Tuple

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from emlearn_gen import _runtime

__all__ = [
    "MFCC",
    "MelSpectrum",
    "SpectralFeatures",
    "Spectrum",
    "dct_matrix",
    "fft_length_supported",
    "hz_to_mel",
    "mel_filterbank",
    "mel_to_hz",
    "rfft",
    "rfft_error_bound",
    "supported_fft_lengths_near",
    "twiddle_table",
    "window_table",
]

#: Unit roundoff of float32.
U32 = 2.0**-24

FFT_FACTORS = (2, 3, 5)
#: The runtime's largest FFT length (fft_max_length in fft.hpp).
FFT_MAX_LENGTH = 1 << 24
WINDOWS = ("hann", "hamming", "blackman", "boxcar")
KINDS = {"power": 0, "magnitude": 1, "log_power": 2}
DEFAULT_AMIN = 1e-10

# General cosine coefficients a_k of w[i] = sum_k (-1)^k a_k cos(2 pi k i / M),
# as scipy.signal.windows defines them.
_COSINE_WINDOWS: Dict[str, Tuple[float, ...]] = {
    "hann": (0.5, 0.5),
    "hamming": (0.54, 0.46),
    "blackman": (0.42, 0.50, 0.08),
    "boxcar": (1.0,),
}


# --------------------------------------------------------------------------
# FFT lengths, twiddles, windows


def fft_length_supported(n: int) -> bool:
    """True if the runtime's FFT supports n samples: n >= 1 and no prime
    factor other than 2, 3 and 5."""
    if not isinstance(n, (int, np.integer)) or n < 1 or n > FFT_MAX_LENGTH:
        return False
    n = int(n)
    for p in FFT_FACTORS:
        while n % p == 0:
            n //= p
    return n == 1


def supported_fft_lengths_near(n: int, count: int = 2) -> List[int]:
    """Up to `count` supported lengths below n and `count` above it."""
    below: List[int] = []
    k = min(n - 1, FFT_MAX_LENGTH)  # nothing above the largest length is supported
    while len(below) < count and k >= 1:
        if fft_length_supported(k):
            below.insert(0, k)
        k -= 1
    above: List[int] = []
    k = max(1, n + 1)
    while len(above) < count and k <= FFT_MAX_LENGTH:
        if fft_length_supported(k):
            above.append(k)
        k += 1
    return below + above


def _check_fft_length(n_fft: object) -> int:
    if isinstance(n_fft, bool) or not isinstance(n_fft, (int, np.integer)):
        raise TypeError(f"n_fft must be an integer, got {n_fft!r}")
    n = int(n_fft)
    if n < 1:
        raise ValueError(f"n_fft must be positive, got {n}")
    if not fft_length_supported(n):
        near = ", ".join(str(k) for k in supported_fft_lengths_near(n))
        raise ValueError(
            f"n_fft={n} is not supported: the FFT takes lengths whose only prime factors are 2, 3 and 5 "
            f"(up to 2**24); nearby supported lengths: {near}. Pad or trim the windows to one of them."
        )
    return n


def twiddle_table(n: int) -> np.ndarray:
    """The FFT's twiddle table: (cos(2 pi k / n), sin(2 pi k / n)) for
    k = 0 .. n - 1, interleaved, computed in float64 and rounded to float32.
    Computed from the angle of min(k, n - k), so that the table is exactly
    symmetric, and values within 1e-15 of 0 (cos pi/2 ...) are exact zeros."""
    n = _check_fft_length(n)
    k = np.arange(n)
    folded = np.minimum(k, n - k)
    angle = 2.0 * np.pi * folded / n
    cos = np.cos(angle)
    sin = np.sin(angle) * np.where(k > n - k, -1.0, 1.0)
    cos[np.abs(cos) < 1e-15] = 0.0
    sin[np.abs(sin) < 1e-15] = 0.0
    return np.stack([cos, sin], axis=1).astype(np.float32).reshape(-1)


def window_table(name: Optional[str], n: int, periodic: bool = True) -> Optional[np.ndarray]:
    """Window `name` of n samples in float32 (None for "boxcar" or None: the
    runtime then multiplies by nothing). scipy.signal.get_window(name, n,
    fftbins=periodic): periodic windows use M = n in cos(2 pi k i / M),
    symmetric ones M = n - 1."""
    if name is None or name == "boxcar":
        return None
    if name not in _COSINE_WINDOWS:
        raise ValueError(f"window must be one of {', '.join(WINDOWS)} or None, got {name!r}")
    if n == 1:
        return np.ones(1, dtype=np.float32)
    m = n if periodic else n - 1
    i = np.arange(n)
    w = np.zeros(n)
    for k, a in enumerate(_COSINE_WINDOWS[name]):
        w += (-1.0) ** k * a * np.cos(2.0 * np.pi * k * i / m)
    return w.astype(np.float32)


def _stage_constants(n: int) -> List[float]:
    """First-order error constants (in units of u, relative to the norm of
    the stage's exact output) of the complex FFT stages rfft runs for n."""
    # A twiddle product (v * w^) is off by at most sqrt(2) gamma_2 + u/2
    # (the table's rounding) = 3.33 u of |v| (Higham, Lemma 3.5).
    twiddle = 2.0 * math.sqrt(2.0) + 0.5
    # Radix 2: the twiddle error, and one rounded sum per output.
    # Radix 4: the twiddle error, and two levels of rounded sums.
    # Radix 3, 5: the twiddle error, and a direct DFT whose outputs each
    # sum R terms, R - 1 of them products with a table root of unity:
    # (twiddle + sqrt(2) (R - 1)) u per sum of |terms| <= sqrt(R) ||v||,
    # over R outputs: (twiddle + sqrt(2) (R - 1)) sqrt(R) u ||y||.
    per_radix = {
        2: twiddle + 1.0,
        4: twiddle + 2.0,
        3: twiddle + (twiddle + math.sqrt(2.0) * 2) * math.sqrt(3.0),
        5: twiddle + (twiddle + math.sqrt(2.0) * 4) * math.sqrt(5.0),
    }
    m = n // 2 if n % 2 == 0 else n
    constants = []
    done = 1
    while done < m:
        left = m // done
        radix = 4 if left % 4 == 0 else 2 if left % 2 == 0 else 3 if left % 3 == 0 else 5
        constants.append(per_radix[radix])
        done *= radix
    return constants


def rfft_error_bound(n: int, windowed: bool = True) -> float:
    """Bound e(n) of the runtime's rfft against the exact spectrum of its
    float32 input (numpy.fft.rfft in float64 of x * w, x and w float32):

        ||X^ - X||_2 <= e(n) sqrt(n) ||x * w||_2   (over the n // 2 + 1 bins)

    where sqrt(n) ||x * w||_2 is the norm of the whole two-sided spectrum
    (Parseval). Each stage's rounding errors are relative to the norm of its
    exact output, and the later stages scale error and signal alike (each
    is sqrt(R) times a unitary map), so the relative errors of the stages
    add (first order): one constant per stage (_stage_constants, about
    4.3 u to 5.3 u for radix 2 and 4, 14 u and 23 u for radix 3 and 5), so
    e(n) grows with the number of stages, about log2(n); for even n, the
    split of the half-length FFT into the real spectrum adds
    (1 + 4.33) / sqrt(2) + 1 = 4.77 u; the window's products u. 2% covers
    the second-order terms."""
    n = _check_fft_length(n)
    total = sum(_stage_constants(n))
    if n % 2 == 0:
        total += (1.0 + 2.0 * math.sqrt(2.0) + 1.5) / math.sqrt(2.0) + 1.0
    if windowed:
        total += 1.0
    return 1.02 * total * U32


# --------------------------------------------------------------------------
# Mel scale, filterbank, DCT


def hz_to_mel(frequencies: np.ndarray, htk: bool = False) -> np.ndarray:
    """Mel of frequencies in Hz. Slaney (htk=False): linear below 1000 Hz
    (f / (200/3)), logarithmic above (15 + ln(f / 1000) / (ln 6.4 / 27)).
    HTK: 2595 log10(1 + f / 700)."""
    f = np.asarray(frequencies, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp = 200.0 / 3.0
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, math.log(6.4) / 27.0
    with np.errstate(divide="ignore"):
        log_part = min_log_mel + np.log(np.maximum(f, min_log_hz) / min_log_hz) / logstep
    return np.where(f >= min_log_hz, log_part, f / f_sp)


def mel_to_hz(mels: np.ndarray, htk: bool = False) -> np.ndarray:
    """Inverse of hz_to_mel."""
    m = np.asarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp = 200.0 / 3.0
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, math.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filterbank(
    sample_rate: float,
    n_fft: int,
    n_mels: int,
    fmin: float = 0.0,
    fmax: Optional[float] = None,
    htk: bool = False,
    norm: Optional[str] = "slaney",
) -> np.ndarray:
    """Mel filterbank (n_mels, n_fft // 2 + 1) in float64, as
    librosa.filters.mel documents it: n_mels + 2 frequencies equally spaced
    in mel between fmin and fmax, triangles between neighbours over the FFT
    bin frequencies k sample_rate / n_fft, and with norm='slaney' each
    triangle scaled by 2 / (its upper edge - its lower edge) in Hz (unit
    area); norm=None keeps peaks of 1."""
    fmax = sample_rate / 2.0 if fmax is None else fmax
    bins = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2), htk)
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    if norm == "slaney":
        weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    elif norm is not None:
        raise ValueError(f"norm must be 'slaney' or None, got {norm!r}")
    return weights


def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """The first n_out rows of the orthonormal DCT-II matrix of size n_in
    (float64): scipy.fft.dct(x, type=2, norm='ortho')[:n_out] = D @ x, with
    D[k, j] = s_k cos(pi k (2j + 1) / (2 n_in)), s_0 = sqrt(1 / n_in),
    s_k = sqrt(2 / n_in)."""
    k = np.arange(n_out)[:, None]
    j = np.arange(n_in)[None, :]
    scale = np.where(k == 0, math.sqrt(1.0 / n_in), math.sqrt(2.0 / n_in))
    return scale * np.cos(np.pi * k * (2 * j + 1) / (2.0 * n_in))


def _sparse_filterbank(weights: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The float32 filterbank as the runtime's tables: first_bin, offsets,
    weights (each filter from its first to its last non-zero weight)."""
    w32 = weights.astype(np.float32)
    first, offsets, parts = [], [0], []
    for f, row in enumerate(w32):
        nonzero = np.flatnonzero(row)
        if nonzero.size == 0:
            raise ValueError(
                f"mel filter {f} covers no FFT bin: too many mel bands (n_mels={len(w32)}) for "
                f"n_fft={2 * (w32.shape[1] - 1)} bins in [fmin, fmax]; use fewer mel bands, a larger "
                "n_fft or a wider frequency range"
            )
        part = row[nonzero[0] : nonzero[-1] + 1]
        first.append(int(nonzero[0]))
        parts.append(part)
        offsets.append(offsets[-1] + part.size)
    if offsets[-1] > 0xFFFF or w32.shape[1] > 0xFFFF:
        raise ValueError("the filterbank is too large for the runtime's 16-bit indices: use a smaller n_fft or n_mels")
    return (
        np.asarray(first, dtype=np.uint16),
        np.asarray(offsets, dtype=np.uint16),
        np.concatenate(parts).astype(np.float32),
    )


# --------------------------------------------------------------------------
# Functions on float32 rows


def rfft(x: np.ndarray, window: Optional[np.ndarray] = None) -> np.ndarray:
    """The runtime's FFT of each row of x (n_windows, n): complex64
    (n_windows, n // 2 + 1), as numpy.fft.rfft(x * window) within
    rfft_error_bound(n). window: n values, or None."""
    x32 = _finite_rows(x, "x")
    n = _check_fft_length(x32.shape[1])
    w32 = None if window is None else np.ascontiguousarray(window, dtype=np.float32).reshape(-1)
    if w32 is not None and w32.size != n:
        raise ValueError(f"window has {w32.size} values for rows of {n} samples")
    out = _runtime.fft_rfft(x32, w32, twiddle_table(n))
    return out.view(np.complex64)[..., 0]


def _finite_rows(X: object, what: str = "X") -> np.ndarray:
    """X as a C-contiguous 2-D float32 array; ValueError if it is not 2-D,
    empty of columns or holds NaN or infinity."""
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be a 2-D array of numbers: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{what} must be 2-D (n_windows, samples), got shape {arr.shape}; reshape one window "
                         "with x.reshape(1, -1)")
    if arr.shape[1] == 0:
        raise ValueError(f"{what} has no samples (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} holds NaN or infinity: the spectrum of a window with missing samples is "
                         "undefined; fill or drop those windows first")
    if np.any(np.abs(arr) > np.finfo(np.float32).max):
        raise ValueError(f"{what} holds values beyond float32's range (about 3.4e38); scale the samples down")
    return np.ascontiguousarray(arr, dtype=np.float32)


# --------------------------------------------------------------------------
# Transformers


class _WindowTransformer(TransformerMixin, BaseEstimator):
    """Shared parameter checks and the channel layout of the transformers:
    X (n_windows, n_fft * n_channels), samples interleaved; output
    channel-major."""

    n_fft: int
    window: Optional[str]
    periodic: bool
    n_channels: int

    def _check_common(self) -> int:
        n = _check_fft_length(self.n_fft)
        if isinstance(self.n_channels, bool) or not isinstance(self.n_channels, (int, np.integer)):
            raise TypeError(f"n_channels must be an integer, got {self.n_channels!r}")
        if self.n_channels < 1:
            raise ValueError(f"n_channels must be positive, got {self.n_channels}")
        if self.window is not None and self.window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)} or None, got {self.window!r}")
        return n

    def _fit_common(self, X: object) -> None:
        n = self._check_common()
        self.n_features_in_ = n * int(self.n_channels)
        self.twiddles_ = twiddle_table(n)
        self.window_ = window_table(self.window, n, bool(self.periodic))
        if X is not None:
            self._windows(X)

    def _windows(self, X: object) -> np.ndarray:
        """One row per window and channel: (n_windows * n_channels, n_fft)."""
        x32 = _finite_rows(X)
        c = int(self.n_channels)
        if x32.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {x32.shape[1]} columns; this transformer takes windows of n_fft={self.n_fft} samples "
                f"x n_channels={c} = {self.n_features_in_} columns (samples interleaved by channel)"
            )
        return np.ascontiguousarray(x32.reshape(x32.shape[0], self.n_fft, c).transpose(0, 2, 1).reshape(-1, self.n_fft))

    def _channel_major(self, rows: np.ndarray) -> np.ndarray:
        """(n_windows * n_channels, F) -> (n_windows, n_channels * F)."""
        c = int(self.n_channels)
        return rows.reshape(rows.shape[0] // c, c * rows.shape[1])

    def _spectra(self, X: object, kind: str, amin: float) -> np.ndarray:
        check_is_fitted(self, "twiddles_")
        return _runtime.spectrum_rows(self._windows(X), self.window_, self.twiddles_, KINDS[kind], float(amin))

    def fit(self, X: object = None, y: object = None) -> "_WindowTransformer":
        """Checks the parameters and computes the tables (twiddles, window,
        filterbank); X, if given, must have n_fft * n_channels columns."""
        self._fit_extra()
        self._fit_common(X)
        return self

    def _fit_extra(self) -> None:
        """Checks and tables of a subclass."""

    def _feature_names(self) -> List[str]:
        """Names of one channel's outputs."""
        raise NotImplementedError

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Output names, channel-major: ``c<channel>_<feature>``."""
        check_is_fitted(self, "twiddles_")
        names = self._feature_names()
        return np.asarray([f"c{c}_{name}" for c in range(int(self.n_channels)) for name in names], dtype=object)


def _check_amin(amin: object) -> float:
    if isinstance(amin, bool) or not isinstance(amin, (int, float, np.floating, np.integer)):
        raise TypeError(f"amin must be a number, got {amin!r}")
    value = float(np.float32(amin))
    if not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"amin must be positive and finite in float32 (at least about 1.4e-45), got {amin!r}")
    return value


def _check_rate(sample_rate: object) -> float:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, float, np.floating, np.integer)):
        raise TypeError(f"sample_rate must be a number in Hz, got {sample_rate!r}")
    rate = float(sample_rate)
    if not (rate > 0.0 and math.isfinite(rate)):
        raise ValueError(f"sample_rate must be positive, got {sample_rate!r}")
    return rate


class Spectrum(_WindowTransformer):
    """Spectrum of each window: kind "power" |X[k]|^2, "magnitude" |X[k]|
    or "log_power" 10 log10(max(|X[k]|^2, amin)) of X = rfft(x * window),
    n_fft // 2 + 1 values per channel (bin k at k sample_rate / n_fft Hz;
    sample_rate is only used for ``frequencies_``).

    Bound versus numpy.fft.rfft in float64 of the float32 window product,
    with e = rfft_error_bound(n_fft) sqrt(n_fft) ||x * w||_2: per bin,
    magnitude within e + 2u |X|; power within 2 e |X| + e^2 + 2u |X|^2;
    log-power, where the power bound r = (2 e |X| + e^2) / |X|^2 is below
    1/2, within 4.343 (-ln(1 - r)) + 5u |y| + 4.343 (2u) dB.
    """

    def __init__(
        self,
        n_fft: int = 256,
        window: Optional[str] = "hann",
        kind: str = "power",
        sample_rate: Optional[float] = None,
        n_channels: int = 1,
        periodic: bool = True,
        amin: float = DEFAULT_AMIN,
    ) -> None:
        self.n_fft = n_fft
        self.window = window
        self.kind = kind
        self.sample_rate = sample_rate
        self.n_channels = n_channels
        self.periodic = periodic
        self.amin = amin

    def _fit_extra(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        _check_amin(self.amin)
        n = _check_fft_length(self.n_fft)
        if self.sample_rate is not None:
            self.frequencies_ = np.arange(n // 2 + 1) * (_check_rate(self.sample_rate) / n)

    def _feature_names(self) -> List[str]:
        return [f"{self.kind}{k}" for k in range(int(self.n_fft) // 2 + 1)]

    def transform(self, X: object) -> np.ndarray:
        """(n_windows, n_fft * n_channels) -> (n_windows, n_channels * (n_fft // 2 + 1))."""
        return self._channel_major(self._spectra(X, self.kind, _check_amin(self.amin)))


class MelSpectrum(_WindowTransformer):
    """Mel filterbank energies of the power spectrum of each window (log:
    10 log10(max(E, amin)), dB), n_mels values per channel. The filterbank
    is mel_filterbank(...) rounded to float32: Slaney's mel scale and area
    normalisation by default (librosa.filters.mel(htk=False,
    norm='slaney')), HTK's scale with htk=True, peaks of 1 with norm=None.

    Bound versus float64 (filterbank and power spectrum in float64): energy
    f within sum_k w_fk (Delta P_k + u/2 P_k) + (c_f + 1) u sum_k w_fk P_k,
    Delta P_k the power bound of Spectrum and c_f the filter's bin count;
    in dB, 4.343 (-ln(1 - r_f)) + 5u |y| + 8.7u where r_f is that bound
    over E_f (below 1/2).
    """

    def __init__(
        self,
        n_fft: int = 256,
        n_mels: int = 40,
        sample_rate: float = 16000.0,
        fmin: float = 0.0,
        fmax: Optional[float] = None,
        log: bool = True,
        htk: bool = False,
        norm: Optional[str] = "slaney",
        window: Optional[str] = "hann",
        n_channels: int = 1,
        periodic: bool = True,
        amin: float = DEFAULT_AMIN,
    ) -> None:
        self.n_fft = n_fft
        self.n_mels = n_mels
        self.sample_rate = sample_rate
        self.fmin = fmin
        self.fmax = fmax
        self.log = log
        self.htk = htk
        self.norm = norm
        self.window = window
        self.n_channels = n_channels
        self.periodic = periodic
        self.amin = amin

    def _fit_extra(self) -> None:
        n = _check_fft_length(self.n_fft)
        rate = _check_rate(self.sample_rate)
        if isinstance(self.n_mels, bool) or not isinstance(self.n_mels, (int, np.integer)) or self.n_mels < 1:
            raise ValueError(f"n_mels must be a positive integer, got {self.n_mels!r}")
        fmax = rate / 2.0 if self.fmax is None else float(self.fmax)
        if not (0.0 <= float(self.fmin) < fmax <= rate / 2.0):
            raise ValueError(
                f"need 0 <= fmin < fmax <= sample_rate / 2 = {rate / 2.0}, got fmin={self.fmin!r}, fmax={self.fmax!r}"
            )
        if self.norm not in ("slaney", None):
            raise ValueError(f"norm must be 'slaney' or None, got {self.norm!r}")
        _check_amin(self.amin)
        self.filterbank_ = mel_filterbank(rate, n, int(self.n_mels), float(self.fmin), fmax, bool(self.htk), self.norm)
        self.filterbank_tables_ = _sparse_filterbank(self.filterbank_)

    def _mel(self, X: object, log: bool) -> np.ndarray:
        power = self._spectra(X, "power", DEFAULT_AMIN)
        first, offsets, weights = self.filterbank_tables_
        return _runtime.spectrum_filterbank(power, first, offsets, weights, log, _check_amin(self.amin))

    def _feature_names(self) -> List[str]:
        return [f"{'log_' if self.log else ''}mel{k}" for k in range(int(self.n_mels))]

    def transform(self, X: object) -> np.ndarray:
        """(n_windows, n_fft * n_channels) -> (n_windows, n_channels * n_mels)."""
        return self._channel_major(self._mel(X, bool(self.log)))


class MFCC(MelSpectrum):
    """Mel-frequency cepstral coefficients: the first n_mfcc coefficients of
    the orthonormal DCT-II (scipy.fft.dct(type=2, norm='ortho')) of the
    log-mel energies 10 log10(max(E, amin)) of MelSpectrum; n_mfcc values
    per channel. No top_db clipping (librosa.feature.mfcc clips at 80 dB
    below the loudest frame, which needs the whole recording).

    Bound versus float64: coefficient i within sum_j |D_ij| (Delta L_j +
    (n_mels + 1) u |L_j|) + u/2 sum_j |D_ij L_j|, Delta L_j the log-mel
    bound of MelSpectrum.
    """

    def __init__(
        self,
        n_fft: int = 256,
        n_mels: int = 40,
        n_mfcc: int = 13,
        sample_rate: float = 16000.0,
        fmin: float = 0.0,
        fmax: Optional[float] = None,
        htk: bool = False,
        norm: Optional[str] = "slaney",
        window: Optional[str] = "hann",
        n_channels: int = 1,
        periodic: bool = True,
        amin: float = DEFAULT_AMIN,
    ) -> None:
        self.n_fft = n_fft
        self.n_mels = n_mels
        self.n_mfcc = n_mfcc
        self.sample_rate = sample_rate
        self.fmin = fmin
        self.fmax = fmax
        self.htk = htk
        self.norm = norm
        self.window = window
        self.n_channels = n_channels
        self.periodic = periodic
        self.amin = amin

    def _fit_extra(self) -> None:
        super()._fit_extra()
        if isinstance(self.n_mfcc, bool) or not isinstance(self.n_mfcc, (int, np.integer)) or self.n_mfcc < 1:
            raise ValueError(f"n_mfcc must be a positive integer, got {self.n_mfcc!r}")
        if self.n_mfcc > self.n_mels:
            raise ValueError(f"n_mfcc={self.n_mfcc} is more than n_mels={self.n_mels}: the DCT of n_mels "
                             "energies has n_mels coefficients")
        self.dct_ = dct_matrix(int(self.n_mfcc), int(self.n_mels)).astype(np.float32)

    def _feature_names(self) -> List[str]:
        return [f"mfcc{k}" for k in range(int(self.n_mfcc))]

    def transform(self, X: object) -> np.ndarray:
        """(n_windows, n_fft * n_channels) -> (n_windows, n_channels * n_mfcc)."""
        return self._channel_major(_runtime.spectrum_matrix(self._mel(X, True), self.dct_))


class SpectralFeatures(_WindowTransformer):
    """Spectral centroid and dominant frequency (Hz) of each window's
    spectrum (spectrum="magnitude", as librosa's spectral_centroid, or
    "power"): 2 values per channel, [centroid, dominant].

    centroid = (sum_k k S_k / sum_k S_k) * (sample_rate / n_fft), 0 for an
    all-zero spectrum; dominant = argmax_k S_k * sample_rate / n_fft, the
    first of equal largest bins (numpy.argmax) of the runtime's spectrum.
    Bound of the centroid versus float64 of the runtime's own spectrum:
    (2 n_bins + 4) u relative (two sums of non-negative terms, the product
    k S_k, the division, sample_rate / n_fft rounded and the last product).
    """

    def __init__(
        self,
        n_fft: int = 256,
        sample_rate: float = 16000.0,
        spectrum: str = "magnitude",
        window: Optional[str] = "hann",
        n_channels: int = 1,
        periodic: bool = True,
    ) -> None:
        self.n_fft = n_fft
        self.sample_rate = sample_rate
        self.spectrum = spectrum
        self.window = window
        self.n_channels = n_channels
        self.periodic = periodic

    def _fit_extra(self) -> None:
        if self.spectrum not in ("magnitude", "power"):
            raise ValueError(f"spectrum must be 'magnitude' or 'power', got {self.spectrum!r}")
        self.bin_hz_ = float(np.float32(_check_rate(self.sample_rate) / _check_fft_length(self.n_fft)))

    def _feature_names(self) -> List[str]:
        return ["centroid", "dominant_frequency"]

    def transform(self, X: object) -> np.ndarray:
        """(n_windows, n_fft * n_channels) -> (n_windows, n_channels * 2)."""
        spectra = self._spectra(X, self.spectrum, DEFAULT_AMIN)
        return self._channel_major(_runtime.spectrum_features(spectra, self.bin_hz_))



# --------------------------------------------------------------------------
# References and bounds on arrays (the numeric contract of a spectral step
# in a Pipeline: docs/signal.md, "Bounds"). Each takes float64 windows X
# (n_windows, n_fft * n_channels, samples interleaved), the bound `err` (same
# shape) on how far the samples the runtime reads lie from X (an earlier
# step's error), and returns numpy's float64 features of X and the bound on
# the runtime's distance from them, channel-major as the transformers.

#: 10 / ln 10: dB per neper of power.
DB = 10.0 / math.log(10.0)


def _channels(X: np.ndarray, n_fft: int, n_channels: int) -> np.ndarray:
    """(n_windows, n_fft * n_channels) interleaved -> (n_windows, n_channels, n_fft)."""
    return np.asarray(X, dtype=np.float64).reshape(len(X), n_fft, n_channels).transpose(0, 2, 1)


def fft_reference_bound(X: np.ndarray, err: np.ndarray, n_fft: int, n_channels: int,
                        window: Optional[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """(numpy.fft.rfft of x * window in float64, (n_windows, n_channels,
    n_bins); e, (n_windows, n_channels), the bound on every bin's distance).
    e is rfft_error_bound(n) sqrt(n) ||x w||_2 (the product's rounding
    counted in it) plus sqrt(n) || err |w| ||_2: the FFT is linear and the
    one-sided bins of a spectrum hold at most its whole norm (Parseval)."""
    x, dx = _channels(X, n_fft, n_channels), _channels(err, n_fft, n_channels)
    w = np.ones(n_fft) if window is None else np.asarray(window, dtype=np.float64)
    xw = x * w
    spectrum = np.fft.rfft(xw, axis=2)
    root_n = math.sqrt(n_fft)
    e = (rfft_error_bound(n_fft, windowed=window is not None) * root_n * np.linalg.norm(xw, axis=2)
         + root_n * np.linalg.norm(dx * np.abs(w), axis=2))
    return spectrum, e


def _values_bound(spectrum: np.ndarray, e: np.ndarray, kind: str) -> Tuple[np.ndarray, np.ndarray]:
    """Power or magnitude of each bin and its bound (docs/signal.md): the
    FFT's bound e carried through |.|^2 or |.|, the kernel's own roundings
    2u of the result."""
    mag = np.abs(spectrum)
    e = e[..., None]
    if kind == "magnitude":
        return mag, e + 2.01 * U32 * (mag + e)
    return mag**2, 2 * mag * e + e**2 + 2.01 * U32 * (mag + e) ** 2


def _db(power: np.ndarray, amin: float) -> np.ndarray:
    return DB * np.log(np.maximum(power, amin))


def db_reference_bound(power: np.ndarray, bound: np.ndarray, amin: float) -> Tuple[np.ndarray, np.ndarray]:
    """10 log10(max(P, amin)) and the bound on the runtime's decibels for
    a power it computes within `bound` of P: the farthest the logarithm
    moves over [P - bound, P + bound] (exact, so it holds also where the
    first-order 4.343 (-ln(1 - r)) of docs/signal.md does not), plus log_f's
    error and the rounded 10 / ln 10 (5u |y| + 8.7u)."""
    y = _db(power, amin)
    up = _db(power + bound, amin) - y
    down = y - _db(np.maximum(power - bound, 0.0), amin)
    return y, np.maximum(up, down) + 5.01 * U32 * np.abs(y) + 2.01 * DB * U32


def _flat(values: np.ndarray) -> np.ndarray:
    """(n_windows, n_channels, F) -> (n_windows, n_channels * F), channel-major."""
    return values.reshape(len(values), -1)


def spectrum_reference_bound(X: np.ndarray, err: np.ndarray, n_fft: int, n_channels: int,
                             window: Optional[np.ndarray], kind: str,
                             amin: float = DEFAULT_AMIN) -> Tuple[np.ndarray, np.ndarray]:
    """Spectrum's values and bounds (power, magnitude or log-power)."""
    spectrum, e = fft_reference_bound(X, err, n_fft, n_channels, window)
    if kind == "log_power":
        power, bound = _values_bound(spectrum, e, "power")
        ref, bound = db_reference_bound(power, bound, amin)
    else:
        ref, bound = _values_bound(spectrum, e, kind)
    return _flat(ref), _flat(bound)


def _mel_energies(spectrum: np.ndarray, e: np.ndarray, filterbank: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Energies of the float64 filterbank over the power spectrum, and their
    bound: sum_k w_fk (dP_k + u/2 P_k) (the power's bound, the table's
    rounding to float32) + (c_f + 1) u sum_k w_fk P_k (the sum's roundings
    over the filter's c_f bins), P taken at its largest."""
    power, dpower = _values_bound(spectrum, e, "power")
    fb = np.abs(np.asarray(filterbank, dtype=np.float64))
    nonzero = fb != 0
    first = np.argmax(nonzero, axis=1)
    last = fb.shape[1] - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    counts = (last - first + 1).astype(np.float64)
    high = (power + dpower) @ fb.T
    energies = power @ np.asarray(filterbank, dtype=np.float64).T
    bound = dpower @ fb.T + 0.5 * U32 * high + 1.01 * (counts + 1) * U32 * high
    return energies, bound


def mel_reference_bound(X: np.ndarray, err: np.ndarray, n_fft: int, n_channels: int,
                        window: Optional[np.ndarray], filterbank: np.ndarray, log: bool,
                        amin: float = DEFAULT_AMIN) -> Tuple[np.ndarray, np.ndarray]:
    """MelSpectrum's energies (dB with `log`) and bounds; `filterbank` is the
    float64 (n_mels, n_bins) matrix (MelSpectrum.filterbank_)."""
    spectrum, e = fft_reference_bound(X, err, n_fft, n_channels, window)
    energies, bound = _mel_energies(spectrum, e, filterbank)
    if log:
        energies, bound = db_reference_bound(energies, bound, amin)
    return _flat(energies), _flat(bound)


def mfcc_reference_bound(X: np.ndarray, err: np.ndarray, n_fft: int, n_channels: int,
                         window: Optional[np.ndarray], filterbank: np.ndarray, dct: np.ndarray,
                         amin: float = DEFAULT_AMIN) -> Tuple[np.ndarray, np.ndarray]:
    """MFCC's coefficients (the float64 DCT matrix `dct`, (n_mfcc, n_mels),
    of the float64 log-mel energies, as scipy.fft.dct(type=2,
    norm='ortho')) and bounds: sum_j |D_ij| (dL_j + (n_mels + 1) u |L_j|)
    with |L_j| taken at its largest, plus u/2 sum_j |D_ij L_j| for the
    matrix's rounding to float32."""
    spectrum, e = fft_reference_bound(X, err, n_fft, n_channels, window)
    energies, bound = _mel_energies(spectrum, e, filterbank)
    log_mel, dlog = db_reference_bound(energies, bound, amin)
    D = np.asarray(dct, dtype=np.float64)
    n_mels = D.shape[1]
    high = np.abs(log_mel) + dlog
    coefficients = log_mel @ D.T
    bound = dlog @ np.abs(D).T + 1.01 * (n_mels + 1) * U32 * (high @ np.abs(D).T) + 0.5 * U32 * (high @ np.abs(D).T)
    return _flat(coefficients), _flat(bound)


def spectral_features_reference_bound(X: np.ndarray, err: np.ndarray, n_fft: int, n_channels: int,
                                      window: Optional[np.ndarray], spectrum: str,
                                      bin_hz: float) -> Tuple[np.ndarray, np.ndarray]:
    """SpectralFeatures' centroid and dominant frequency over bins of
    bin_hz Hz (the transformer's float32 bin_hz_), and bounds. With the
    spectrum S known within dS per bin, A = sum k S_k and B = sum S_k move
    by at most sum k dS_k and sum dS_k, so the centroid in bins by at most
    (dA + (A / B) dB) / (B - dB) (anywhere in [0, n_bins - 1] where B may
    be 0), plus the kernel's (2 n_bins + 4) u. The dominant frequency may
    be any bin whose value may reach the largest's lowest; its product with
    bin_hz is rounded once."""
    fft, e = fft_reference_bound(X, err, n_fft, n_channels, window)
    S, dS = _values_bound(fft, e, spectrum)
    n_bins = S.shape[2]
    k = np.arange(n_bins, dtype=np.float64)
    A, B = S @ k, S.sum(axis=2)
    dA, dB = dS @ k, dS.sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        centroid = np.where(B > 0, A / np.where(B > 0, B, 1.0), 0.0)
        moved = np.where(B - dB > 0, (dA + centroid * dB) / np.where(B - dB > 0, B - dB, 1.0), n_bins - 1.0)
    moved = np.minimum(moved, n_bins - 1.0)
    centroid_bound = moved + (2 * n_bins + 4) * U32 * (centroid + moved)
    dominant = np.argmax(S, axis=2).astype(np.float64)
    reachable = (S + dS) >= (S - dS).max(axis=2, keepdims=True)
    spread = np.abs(np.where(reachable, k, dominant[..., None]) - dominant[..., None]).max(axis=2)
    ref = np.stack([centroid * bin_hz, dominant * bin_hz], axis=2)
    bound = np.stack([centroid_bound * bin_hz, spread * bin_hz + U32 * (dominant + spread) * bin_hz], axis=2)
    return _flat(ref), _flat(bound)
