"""The spectral kernels (runtime/include/emlearn_gen/fft.hpp, spectrum.hpp)
through emlearn_gen.signal.spectrum, against numpy/scipy references computed
here in float64, within the bound stated per kernel:

* rfft: ||X^ - X||_2 <= rfft_error_bound(n) sqrt(n) ||x w||_2 (the bound's
  derivation is in its docstring: a constant per FFT stage, so it grows like
  log2 n), on random and tonal inputs of lengths 1 .. 1024;
* windows: scipy.signal.get_window, within float32 rounding;
* power, magnitude, log-power: the FFT bound carried through |.|^2, sqrt and
  10 log10 (Spectrum's docstring);
* mel filterbank: the float64 reference written below from the formulas
  librosa.filters.mel documents (Slaney and HTK scales, Slaney norm);
  energies, log-mel and MFCCs (scipy.fft.dct type 2, ortho) within the
  bounds of MelSpectrum's and MFCC's docstrings;
* spectral centroid and dominant frequency;

and the same bits from the Python binding, the host compiler and the
emulated Cortex-M0, Cortex-M4F and AVR.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import List, NamedTuple, Optional, Tuple

import numpy as np
import pytest
import scipy.fft
import scipy.signal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from emlearn_gen import _runtime
from emlearn_gen.signal import MFCC, MelSpectrum, SpectralFeatures, Spectrum
from emlearn_gen.signal.spectrum import (
    dct_matrix,
    fft_length_supported,
    mel_filterbank,
    rfft,
    rfft_error_bound,
    supported_fft_lengths_near,
    twiddle_table,
    window_table,
)
from emlearn_gen.testing import AVR, CORTEX_M0, CORTEX_M4F, HostTarget, ToolchainMissing
from emlearn_gen.testing.targets import DeviceTarget

import signal_programs
from firmware_support import missing

U = 2.0**-24
DB = 10.0 / math.log(10.0)
REPO = Path(__file__).resolve().parent.parent
INCLUDE_DIR = REPO / "runtime" / "include"
TIMEOUT_S = 300

LENGTHS = [1, 2, 3, 4, 5, 6, 8, 9, 12, 15, 16, 20, 25, 30, 45, 48, 60, 64, 75, 100, 120, 128, 160, 240, 256,
           400, 480, 512, 1000, 1024]


def _inputs(n: int, seed: int) -> np.ndarray:
    """Rows of n float32 samples: Gaussian noise, a sum of tones between
    bins with a DC offset, a pure tone on a bin, and a large-amplitude
    noise row."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    tonal = 0.7 + np.sin(2 * np.pi * 3.3 * t / n + 0.2) + 0.25 * np.cos(2 * np.pi * (n / 3.7) * t / n)
    on_bin = np.cos(2 * np.pi * (n // 4) * t / n)
    rows = [rng.normal(size=n), tonal, on_bin, 1e4 * rng.normal(size=n)]
    return np.asarray(rows).astype(np.float32)


def _reference_rfft(x32: np.ndarray, w32: Optional[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """numpy.fft.rfft in float64 of the float32 product x * w, and the norm
    sqrt(n) ||x w||_2 of the whole spectrum per row."""
    xw = x32.astype(np.float64) * (1.0 if w32 is None else w32.astype(np.float64))
    return np.fft.rfft(xw, axis=1), math.sqrt(x32.shape[1]) * np.linalg.norm(xw, axis=1)


# --------------------------------------------------------------------------
# FFT


def test_supported_lengths_are_the_products_of_2_3_5() -> None:
    smooth = {2**a * 3**b * 5**c for a in range(12) for b in range(8) for c in range(6)}
    for n in range(1, 2000):
        assert fft_length_supported(n) == (n in smooth), n
        assert _runtime.fft_length_supported(n) == (n in smooth), n
    assert not fft_length_supported(0) and not _runtime.fft_length_supported(0)


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("window", [None, "hann"])
def test_rfft_within_its_bound(n: int, window: Optional[str]) -> None:
    x32 = _inputs(n, seed=n)
    w32 = window_table(window, n)
    got = rfft(x32, w32)
    assert got.shape == (4, n // 2 + 1) and got.dtype == np.complex64
    want, norm = _reference_rfft(x32, w32)
    bound = rfft_error_bound(n, windowed=w32 is not None)
    error = np.linalg.norm(got.astype(np.complex128) - want, axis=1)
    assert np.all(error <= bound * norm), (n, error / norm / U, bound / U)
    # The bound grows like log2 n, as the algorithm's: not a vacuous one.
    assert bound <= 30.0 * U * max(1.0, math.log2(n)), bound / U


def test_rfft_bound_is_stage_sum() -> None:
    """Powers of 4 take radix-4 stages only, so the bound per doubling of n
    is constant; a factor 5 costs more than a factor 4."""
    b = [rfft_error_bound(4**k * 2) for k in range(1, 6)]
    steps = np.diff(b)
    assert np.allclose(steps, steps[0]) and steps[0] > 0
    assert rfft_error_bound(160) > rfft_error_bound(128)


@pytest.mark.parametrize("n", [7, 14, 97, 1001, 0])
def test_unsupported_lengths_are_refused_with_nearby_ones(n: int) -> None:
    with pytest.raises(ValueError) as info:
        Spectrum(n_fft=n).fit()
    message = str(info.value)
    if n == 0:
        assert "positive" in message
        return
    assert "2, 3 and 5" in message
    near = supported_fft_lengths_near(n)
    assert near and all(fft_length_supported(k) for k in near)
    assert all(str(k) in message for k in near)
    below = [k for k in near if k < n]
    above = [k for k in near if k > n]
    # The nearest on each side: nothing supported in between.
    assert not any(fft_length_supported(k) for k in range(max(below) + 1, n))
    assert not any(fft_length_supported(k) for k in range(n + 1, min(above)))
    with pytest.raises(ValueError, match="2, 3 and 5"):
        rfft(np.zeros((1, n), np.float32))


def test_lengths_beyond_the_largest_are_refused_quickly() -> None:
    """The nearest supported lengths of a huge n are the largest ones,
    found without walking down from n."""
    smooth = sorted(2**a * 3**b * 5**c for a in range(25) for b in range(16) for c in range(11))
    largest_two = [k for k in smooth if k <= 2**24][-2:]
    assert supported_fft_lengths_near(10**12) == largest_two
    with pytest.raises(ValueError, match="16777216"):
        Spectrum(n_fft=10**12).fit()


def test_twiddles_are_symmetric_with_exact_axes() -> None:
    for n in (8, 12, 60, 1000):
        tw = twiddle_table(n).reshape(n, 2).astype(np.float64)
        k = np.arange(n)
        assert np.allclose(tw[:, 0], np.cos(2 * np.pi * k / n), atol=U, rtol=0)
        assert np.allclose(tw[:, 1], np.sin(2 * np.pi * k / n), atol=U, rtol=0)
        assert np.array_equal(tw[1:, 0], tw[1:, 0][::-1]) and np.array_equal(tw[1:, 1], -tw[1:, 1][::-1])
        if n % 4 == 0:
            assert tw[n // 4, 0] == 0.0 and tw[n // 4, 1] == 1.0


# --------------------------------------------------------------------------
# Windows


@pytest.mark.parametrize("name", ["hann", "hamming", "blackman"])
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("n", [1, 2, 8, 60, 255, 256])
def test_windows_are_scipys(name: str, periodic: bool, n: int) -> None:
    want = scipy.signal.get_window(name, n, fftbins=periodic)
    got = window_table(name, n, periodic)
    assert got is not None and got.dtype == np.float32
    assert np.all(np.abs(got.astype(np.float64) - want) <= U * np.abs(want) + 1e-15)


def test_boxcar_is_no_window() -> None:
    x = _inputs(48, 1)
    assert window_table("boxcar", 48) is None
    a = Spectrum(48, window="boxcar").fit().transform(x)
    b = Spectrum(48, window=None).fit().transform(x)
    assert np.array_equal(a, b)


# --------------------------------------------------------------------------
# Power, magnitude, log-power


def _power_bound(X: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Bound of |P^ - P| per bin from an FFT error e per row (Spectrum)."""
    mag = np.abs(X)
    return 2 * mag * e[:, None] + e[:, None] ** 2 + 2.01 * U * (mag + e[:, None]) ** 2


def _db_bound(value: np.ndarray, bound: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(dB bound, where it applies) for a value with an absolute bound:
    where bound / value < 1/2 and the value less its bound is above amin."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = bound / value
    ok = (r < 0.5) & (value - bound > 1e-10)
    r = np.where(ok, r, 0.0)
    y = DB * np.log(np.maximum(value, 1e-10))
    return DB * -np.log1p(-r) + 5 * U * np.abs(y) + 2 * DB * U + 1e-30, ok


@pytest.mark.parametrize("n", [12, 20, 30, 60, 64, 100, 160, 240, 400, 480, 512, 1000])
def test_spectrum_kinds_within_their_bounds(n: int) -> None:
    x32 = _inputs(n, seed=100 + n)
    w32 = window_table("hann", n)
    X, norm = _reference_rfft(x32, w32)
    e = rfft_error_bound(n) * norm
    power = Spectrum(n, kind="power").fit().transform(x32).astype(np.float64)
    assert np.all(np.abs(power - np.abs(X) ** 2) <= _power_bound(X, e))
    magnitude = Spectrum(n, kind="magnitude").fit().transform(x32).astype(np.float64)
    assert np.all(np.abs(magnitude - np.abs(X)) <= e[:, None] + 2.01 * U * (np.abs(X) + e[:, None]))
    log_power = Spectrum(n, kind="log_power").fit().transform(x32).astype(np.float64)
    bound, ok = _db_bound(np.abs(X) ** 2, _power_bound(X, e))
    want = 10 * np.log10(np.maximum(np.abs(X) ** 2, 1e-10))
    assert ok.sum() >= X.size // 2, "the bound must apply to most bins to test anything"
    assert np.all(np.abs(log_power - want)[ok] <= bound[ok])


def test_log_power_floor() -> None:
    """A silent window: every bin at 10 log10(amin), in float32 within a few u."""
    for amin in (1e-10, 1e-5):
        got = Spectrum(60, kind="log_power", amin=amin).fit().transform(np.zeros((2, 60)))
        want = 10 * np.log10(np.float64(np.float32(amin)))
        assert np.all(np.abs(got - want) <= 6 * U * abs(want))


def test_frequencies() -> None:
    s = Spectrum(48, sample_rate=1000.0).fit()
    assert np.allclose(s.frequencies_, np.fft.rfftfreq(48, 1 / 1000.0))


# --------------------------------------------------------------------------
# Mel: a reference from librosa.filters.mel's documented formulas


def _ref_hz_to_mel(f: np.ndarray, htk: bool) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    linear = f / (200.0 / 3.0)  # 3 mel per 200 Hz below 1 kHz
    logarithmic = 15.0 + np.log(np.maximum(f, 1e-300) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, logarithmic, linear)


def _ref_mel_to_hz(m: np.ndarray, htk: bool) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3.0))


def _ref_mel_filterbank(sr: float, n_fft: int, n_mels: int, fmin: float, fmax: float, htk: bool,
                        slaney_norm: bool) -> np.ndarray:
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    mel_points = np.linspace(_ref_hz_to_mel(fmin, htk), _ref_hz_to_mel(fmax, htk), n_mels + 2)
    hz = _ref_mel_to_hz(mel_points, htk)
    weights = np.zeros((n_mels, freqs.size))
    for i in range(n_mels):
        left, centre, right = hz[i], hz[i + 1], hz[i + 2]
        rising = (freqs - left) / (centre - left)
        falling = (right - freqs) / (right - centre)
        weights[i] = np.maximum(0.0, np.minimum(rising, falling))
        if slaney_norm:
            weights[i] *= 2.0 / (right - left)  # unit area in Hz
    return weights


def test_mel_scale_points() -> None:
    """Slaney: 1000 Hz is 15 mel, linear below; HTK: 1000 Hz is ~999.99 mel."""
    assert _ref_hz_to_mel(1000.0, False) == pytest.approx(15.0)
    assert _ref_hz_to_mel(500.0, False) == pytest.approx(7.5)
    assert _ref_hz_to_mel(1000.0, True) == pytest.approx(999.9855, abs=1e-3)


@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("norm", ["slaney", None])
def test_mel_filterbank_is_the_reference(htk: bool, norm: Optional[str]) -> None:
    for sr, n_fft, n_mels, fmin, fmax in ((16000.0, 512, 40, 0.0, 8000.0), (1000.0, 60, 8, 20.0, 450.0),
                                          (22050.0, 2048, 128, 0.0, 11025.0)):
        want = _ref_mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm == "slaney")
        got = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm)
        # Near a triangle's edges the two ways of subtracting cancel differently:
        # 1e-12 of the peak, far below float32's rounding of the table.
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())
        if norm == "slaney":  # triangles of unit area in Hz: sum w * bin width ~ 1 where bins are dense
            area = want.sum(axis=1) * sr / n_fft
            assert np.allclose(area[n_mels // 2 :], 1.0, atol=0.05)


def _mel_reference(x32: np.ndarray, n_fft: int, n_mels: int, sr: float, fmin: float, fmax: float,
                   htk: bool) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(energies, their bound, filter bin counts) from the float64 FFT."""
    w32 = window_table("hann", n_fft)
    X, norm = _reference_rfft(x32, w32)
    e = rfft_error_bound(n_fft) * norm
    power = np.abs(X) ** 2
    dpower = _power_bound(X, e)
    fb = _ref_mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, True)
    counts = np.array([np.flatnonzero(r)[-1] - np.flatnonzero(r)[0] + 1 for r in fb])
    energies = power @ fb.T
    bound = dpower @ fb.T + 0.5 * U * (power + dpower) @ fb.T + 1.01 * (counts + 1) * U * ((power + dpower) @ fb.T)
    return energies, bound, counts


MEL_CASES = [(512, 40, 16000.0, 0.0, 8000.0, False), (400, 26, 16000.0, 50.0, 7600.0, True),
             (60, 8, 1000.0, 0.0, 500.0, False), (240, 20, 8000.0, 100.0, 4000.0, False)]


@pytest.mark.parametrize("n_fft, n_mels, sr, fmin, fmax, htk", MEL_CASES)
def test_mel_energies_and_mfcc_within_bounds(n_fft: int, n_mels: int, sr: float, fmin: float, fmax: float,
                                             htk: bool) -> None:
    x32 = _inputs(n_fft, seed=7 * n_fft)
    energies, bound, _ = _mel_reference(x32, n_fft, n_mels, sr, fmin, fmax, htk)
    kwargs = dict(n_fft=n_fft, n_mels=n_mels, sample_rate=sr, fmin=fmin, fmax=fmax, htk=htk)
    got = MelSpectrum(log=False, **kwargs).fit().transform(x32).astype(np.float64)
    assert np.all(np.abs(got - energies) <= bound)
    log_mel = MelSpectrum(log=True, **kwargs).fit().transform(x32).astype(np.float64)
    want_log = 10 * np.log10(np.maximum(energies, 1e-10))
    dlog, ok = _db_bound(energies, bound)
    # The noise rows carry energy in every band; the tonal rows' quiet bands
    # are below what the FFT's normwise bound resolves.
    assert ok[[0, 3]].all()
    assert np.all(np.abs(log_mel - want_log)[ok] <= dlog[ok])
    # MFCC: scipy's orthonormal DCT-II of the float64 log-mel energies.
    n_mfcc = min(13, n_mels)
    mfcc = MFCC(n_mfcc=n_mfcc, **kwargs).fit().transform(x32).astype(np.float64)
    want = scipy.fft.dct(want_log, type=2, norm="ortho", axis=1)[:, :n_mfcc]
    D = np.abs(dct_matrix(n_mfcc, n_mels))
    mfcc_bound = dlog @ D.T + 1.01 * (n_mels + 1) * U * ((np.abs(want_log) + dlog) @ D.T)
    rows = ok.all(axis=1)
    assert np.all(np.abs(mfcc - want)[rows] <= mfcc_bound[rows])


def test_dct_matrix_is_scipys() -> None:
    x = np.random.default_rng(3).normal(size=(5, 26))
    assert np.allclose(x @ dct_matrix(13, 26).T, scipy.fft.dct(x, type=2, norm="ortho", axis=1)[:, :13], atol=1e-12)


def test_too_many_mel_bands_are_refused() -> None:
    with pytest.raises(ValueError, match="covers no FFT bin"):
        MelSpectrum(n_fft=32, n_mels=40, sample_rate=8000.0).fit()


# --------------------------------------------------------------------------
# Spectral features


@pytest.mark.parametrize("spectrum", ["magnitude", "power"])
@pytest.mark.parametrize("n", [20, 48, 60, 256, 1000])
def test_spectral_features(spectrum: str, n: int) -> None:
    sr = 8000.0
    x32 = _inputs(n, seed=n + 5)
    got = SpectralFeatures(n, sample_rate=sr, spectrum=spectrum).fit().transform(x32).astype(np.float64)
    S = Spectrum(n, kind=spectrum).fit().transform(x32).astype(np.float64)  # the runtime's own spectrum
    k = np.arange(S.shape[1])
    centroid = (S @ k) / S.sum(axis=1) * sr / n
    bins = S.shape[1]
    assert np.all(np.abs(got[:, 0] - centroid) <= (2 * bins + 4) * U * centroid)
    bin_hz = np.float32(sr / n)
    assert np.array_equal(got[:, 1], (np.argmax(S, axis=1).astype(np.float32) * bin_hz).astype(np.float64))
    # Against numpy in float64: the tonal rows' peak is unambiguous.
    X, _ = _reference_rfft(x32, window_table("hann", n))
    assert np.allclose(got[1:3, 1], np.argmax(np.abs(X[1:3]), axis=1) * sr / n, rtol=2 * U, atol=0)
    numpy_centroid = (np.abs(X) ** (1 if spectrum == "magnitude" else 2) @ k) / (
        np.abs(X) ** (1 if spectrum == "magnitude" else 2)).sum(axis=1) * sr / n
    assert np.allclose(got[:, 0], numpy_centroid, rtol=1e-4)


def test_dominant_ties_go_to_the_first_bin_and_silence_is_zero() -> None:
    spectra = np.array([[0.0, 3.0, 3.0, 1.0], [2.0, 2.0, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
    got = _runtime.spectrum_features(spectra, 10.0)
    assert list(got[:, 1]) == [10.0 * np.argmax(s) for s in spectra] == [10.0, 0.0, 0.0]
    assert got[2, 0] == 0.0  # no energy: centroid 0 rather than NaN
    silent = SpectralFeatures(60, sample_rate=600.0).fit().transform(np.zeros((1, 60)))
    assert np.array_equal(silent, np.zeros((1, 2), np.float32))


# --------------------------------------------------------------------------
# Channels, scikit-learn conventions, bad input


TRANSFORMERS = [
    Spectrum(n_fft=48, kind="log_power"),
    MelSpectrum(n_fft=60, n_mels=8, sample_rate=1000.0),
    MFCC(n_fft=60, n_mels=8, n_mfcc=5, sample_rate=1000.0),
    SpectralFeatures(n_fft=64, sample_rate=1000.0),
]


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=lambda t: type(t).__name__)
def test_channels_are_interleaved_in_and_channel_major_out(transformer: Spectrum) -> None:
    n = transformer.n_fft
    rng = np.random.default_rng(11)
    channels = [rng.normal(size=(5, n)).astype(np.float32) for _ in range(3)]
    interleaved = np.stack(channels, axis=2).reshape(5, 3 * n)  # sample j, channel c at j * 3 + c
    one = clone(transformer).fit()
    three = clone(transformer).set_params(n_channels=3).fit(interleaved)
    got = three.transform(interleaved)
    want = np.concatenate([one.transform(c) for c in channels], axis=1)
    assert np.array_equal(got, want)
    names = three.get_feature_names_out()
    assert len(names) == got.shape[1] and len(set(names)) == len(names)
    per_channel = got.shape[1] // 3
    assert all(name.startswith(f"c{i // per_channel}_") for i, name in enumerate(names))


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=lambda t: type(t).__name__)
def test_scikit_learn_conventions(transformer: Spectrum) -> None:
    params = transformer.get_params()
    copy = clone(transformer)
    assert copy.get_params() == params
    with pytest.raises(NotFittedError):
        copy.transform(np.zeros((1, transformer.n_fft)))
    x = _inputs(transformer.n_fft, 2)
    assert np.array_equal(copy.fit_transform(x), clone(transformer).fit(x).transform(x))


def test_in_a_scikit_learn_pipeline() -> None:
    """fit(X, y) and transform inside a Pipeline: low and high tones are told
    apart by their MFCCs and spectral features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(4)
    t = np.arange(64) / 1000.0
    freqs = np.where(np.arange(80) % 2 == 0, 60.0, 300.0) + rng.uniform(-10, 10, 80)
    X = np.sin(2 * np.pi * freqs[:, None] * t[None, :] + rng.uniform(0, 6, (80, 1))) + 0.1 * rng.normal(size=(80, 64))
    y = (freqs > 180).astype(int)
    features = make_union(MFCC(64, n_mels=10, n_mfcc=5, sample_rate=1000.0), SpectralFeatures(64, sample_rate=1000.0))
    model = make_pipeline(features, StandardScaler(), LogisticRegression()).fit(X, y)
    assert model.score(X, y) == 1.0
    assert features.transform(X).shape == (80, 7)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros((2, 47)), "48 columns"),
        (np.zeros(48), "2-D"),
        (np.full((1, 48), np.nan), "NaN"),
        (np.full((1, 48), np.inf), "NaN or infinity"),
        (np.full((1, 48), 1e39), "float32"),
        (np.zeros((1, 0)), "no samples"),
    ],
)
def test_bad_windows_are_refused(X: np.ndarray, message: str) -> None:
    s = Spectrum(48).fit()
    with pytest.raises(ValueError, match=message):
        s.transform(X)


@pytest.mark.parametrize(
    "transformer, message",
    [
        (Spectrum(48, kind="dB"), "kind must be one of"),
        (Spectrum(48, window="kaiser"), "window must be one of"),
        (Spectrum(48, n_channels=0), "n_channels must be positive"),
        (Spectrum(48, amin=0.0), "amin must be positive"),
        (MelSpectrum(64, n_mels=8, sample_rate=1000.0, fmax=600.0), "fmax <= sample_rate / 2"),
        (MelSpectrum(64, n_mels=8, sample_rate=-1.0), "sample_rate must be positive"),
        (MelSpectrum(64, n_mels=8, sample_rate=1000.0, norm="l2"), "norm must be"),
        (MFCC(64, n_mels=8, n_mfcc=9, sample_rate=1000.0), "more than n_mels"),
        (SpectralFeatures(64, spectrum="log_power"), "spectrum must be"),
    ],
)
def test_bad_parameters_are_refused(transformer: Spectrum, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        transformer.fit()


def test_non_integer_sizes_are_type_errors() -> None:
    with pytest.raises(TypeError, match="n_fft must be an integer"):
        Spectrum(48.0).fit()  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# The same bits on the host compiler and the devices

DEVICE_CASES = [(64, 8, 5, 1000.0), (60, 8, 5, 1000.0), (45, 6, 4, 900.0)]
AMIN = np.float32(1e-10)


def _c_array(name: str, ctype: str, values: np.ndarray) -> str:
    """A table in program memory; floats as decimal literals that round
    back to the same float32 bits."""
    if ctype == "float":
        words = [f"{float(v):.9e}f" for v in np.asarray(values, np.float32).reshape(-1)]
    else:
        words = [f"{int(v)}u" for v in np.asarray(values).reshape(-1)]
    body = ",\n".join("    " + ", ".join(words[i : i + 6]) for i in range(0, len(words), 6))
    return f"static const {ctype} {name}[{max(1, len(words))}] EMLEARN_GEN_TABLE_ATTR = {{\n{body}\n}};\n"


class CaseTables(NamedTuple):
    """The tables the transformers compute for one device case, and its rows."""

    twiddles: np.ndarray
    window: np.ndarray
    first_bin: np.ndarray
    offsets: np.ndarray
    weights: np.ndarray
    dct: np.ndarray
    bin_hz: float
    rows: np.ndarray


def _case_tables(n: int, n_mels: int, n_mfcc: int, sr: float) -> CaseTables:
    mfcc = MFCC(n, n_mels=n_mels, n_mfcc=n_mfcc, sample_rate=sr).fit()
    first, offsets, weights = mfcc.filterbank_tables_
    assert mfcc.window_ is not None
    return CaseTables(mfcc.twiddles_, mfcc.window_, first, offsets, weights, mfcc.dct_,
                      SpectralFeatures(n, sample_rate=sr).fit().bin_hz_, _inputs(n, seed=n))


def _case_source(index: int, n: int, n_mels: int, n_mfcc: int, sr: float) -> str:
    """Tables and a function printing, per row, the rfft, the power
    spectrum, the log-mel energies, the MFCCs and the two features."""
    t = _case_tables(n, n_mels, n_mfcc, sr)
    rows, weights = t.rows, t.weights
    p = f"c{index}_"
    bins = n // 2 + 1
    src = "".join([
        _c_array(p + "twiddles", "float", t.twiddles), _c_array(p + "window", "float", t.window),
        _c_array(p + "first", "uint16_t", t.first_bin), _c_array(p + "offsets", "uint16_t", t.offsets),
        _c_array(p + "weights", "float", weights), _c_array(p + "dct", "float", t.dct),
        _c_array(p + "rows", "float", rows),
    ])
    bin_hz_bits = int(np.float32(t.bin_hz).view(np.uint32))
    src += textwrap.dedent(f"""\
        static void {p}run() {{
          const float* tw = {p}twiddles;
          const float* win = {p}window;
          eg::filterbank fb;
          fb.first_bin = {p}first;
          fb.offsets = {p}offsets;
          fb.weights = {p}weights;
          fb.n_filters = {n_mels}u;
          fb.n_bins = {bins}u;
          if (eg::filterbank_validate(fb, {len(weights)}u) != eg::status::ok) {{
            put_text("BAD\\n");
            return;
          }}
          static float x[{n}], bins[{2 * bins}], power[{bins}], mel[{n_mels}], mfcc[{n_mfcc}];
          static float scratch[{2 * bins + (2 * n if n % 2 == 0 else 4 * n)}];
          for (uint16_t r = 0; r < {rows.shape[0]}u; ++r) {{
            eg::table_copy(x, {p}rows + r * {n}u, sizeof x);
            put_text("fft");
            put_status(eg::rfft(x, {n}u, win, tw, bins, scratch));
            put_floats(bins, {2 * bins});
            put_text("power");
            put_status(eg::spectrum(x, {n}u, win, tw, eg::spectrum_kind::power, bits({int(AMIN.view(np.uint32))}u),
                                    power, scratch));
            put_floats(power, {bins});
            put_text("logmel");
            eg::filterbank_energies(fb, power, true, bits({int(AMIN.view(np.uint32))}u), mel);
            put_floats(mel, {n_mels});
            put_text("mfcc");
            eg::matrix_vector({p}dct, mel, {n_mels}u, {n_mfcc}u, mfcc);
            put_floats(mfcc, {n_mfcc});
            put_text("features");
            put_status(eg::spectrum(x, {n}u, win, tw, eg::spectrum_kind::magnitude, bits(1u), power, scratch));
            float features[2] = {{eg::spectral_centroid(power, {bins}u, bits({bin_hz_bits}u)),
                                 eg::dominant_frequency(power, {bins}u, bits({bin_hz_bits}u))}};
            put_floats(features, 2);
          }}
        }}
        """)
    return src


def _program(prelude: str, exit_code: str) -> str:
    begin = "  eg_begin();\n" if "eg_begin()" in prelude else ""
    head = textwrap.dedent("""\
        #include <stdint.h>
        #include <string.h>
        #include "emlearn_gen/spectrum.hpp"
        """) + prelude + textwrap.dedent("""
        namespace eg = emlearn_gen;

        static void put_text(const char* s) {
          while (*s) {
            eg_putc(*s++);
          }
        }

        static void put_floats(const float* v, int n) {
          for (int i = 0; i < n; ++i) {
            uint32_t b;
            memcpy(&b, &v[i], sizeof b);
            eg_putc(' ');
            for (int shift = 28; shift >= 0; shift -= 4) {
              eg_putc("0123456789abcdef"[(b >> shift) & 15u]);
            }
          }
          eg_putc('\\n');
        }

        static void put_status(eg::status s) {
          if (s != eg::status::ok) {
            put_text(" FAILED");
          }
        }

        static float bits(uint32_t b) {
          float f;
          memcpy(&f, &b, sizeof f);
          return f;
        }
        """)
    cases = "".join(_case_source(i, *case) for i, case in enumerate(DEVICE_CASES))
    calls = "".join(f"  c{i}_run();\n" for i in range(len(DEVICE_CASES)))
    return head + cases + f"\nint main() {{\n{begin}{calls}  put_text(\"END\\n\");\n  {exit_code}\n}}\n"


def _expected_lines() -> List[str]:
    """What the Python binding computes, in the program's format."""
    def line(tag: str, values: np.ndarray) -> str:
        return tag + "".join(f" {int(b):08x}" for b in np.asarray(values, np.float32).reshape(-1).view(np.uint32))

    lines = []
    for n, n_mels, n_mfcc, sr in DEVICE_CASES:
        rows = _inputs(n, seed=n)
        t = _case_tables(n, n_mels, n_mfcc, sr)
        fft = rfft(rows, t.window)
        power = Spectrum(n).fit().transform(rows)
        logmel = MelSpectrum(n, n_mels=n_mels, sample_rate=sr).fit().transform(rows)
        mfcc = MFCC(n, n_mels=n_mels, n_mfcc=n_mfcc, sample_rate=sr).fit().transform(rows)
        features = SpectralFeatures(n, sample_rate=sr).fit().transform(rows)
        for r in range(rows.shape[0]):
            lines += [line("fft", fft[r].view(np.float32)), line("power", power[r]), line("logmel", logmel[r]),
                      line("mfcc", mfcc[r]), line("features", features[r])]
    return lines + ["END"]


def _lines(text: str) -> List[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _assert_same(got: List[str], want: List[str], where: str) -> None:
    assert got[-1:] == ["END"], f"{where}: the program did not finish:\n" + "\n".join(got[-5:])
    assert len(got) == len(want), f"{where}: {len(got)} lines, expected {len(want)}"
    differ = [f"line {i}: {g}\n   want {w}" for i, (g, w) in enumerate(zip(got, want)) if g != w]
    assert not differ, f"{where}: {len(differ)} lines differ:\n" + "\n".join(differ[:5])


@pytest.mark.parametrize("compiler", ["g++", "clang++"])
def test_host_program_computes_the_binding_bits(compiler: str, tmp_path: Path) -> None:
    target = HostTarget(compiler)
    try:
        target.check_tools()
    except ToolchainMissing as exc:
        missing(f"{target.name}: {exc}")
    (tmp_path / "main.cpp").write_text(_program(target.prelude(), target.exit_code()))
    out = target.build_and_run(tmp_path, ["main.cpp"], [str(INCLUDE_DIR)], TIMEOUT_S)
    _assert_same(_lines(out), _expected_lines(), target.name)


@pytest.mark.parametrize("device", [CORTEX_M0, CORTEX_M4F, AVR], ids=lambda d: d.name)
def test_devices_compute_the_binding_bits(device: DeviceTarget, tmp_path: Path) -> None:
    try:
        device.check_tools()
    except ToolchainMissing as exc:
        missing(f"{device.name}: {exc}")
    (tmp_path / "main.cpp").write_text(_program(device.prelude(), device.exit_code()))
    _assert_same(_lines(signal_programs.run_firmware(device, tmp_path)), _expected_lines(), device.name)
