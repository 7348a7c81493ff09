"""Spectral transformers, filters and FeatureUnions of signal steps inside a
scikit-learn Pipeline: one header (docs/architecture.md, section 7, "Signal
steps"; docs/signal.md).

* Spectrum, MelSpectrum, MFCC and SpectralFeatures convert as the transforms
  op ``spectrum`` (one op, a mode per transformer), SOSFilter and FIRFilter
  as ``sos_filter`` and ``fir_filter``: the converted steps compute the
  transformer's own bits (it runs the same runtime kernel), within the
  stated bound of numpy/scipy in float64, multi-channel windows included.
* A filter in a Pipeline filters each window from its initial state, as the
  transformer's transform does: a window's result does not depend on the
  windows before it.
* Their buffers (the FFT's, a filter's state) are op scratch after the
  program's two rows: the header's stack array holds them (checked with
  AddressSanitizer) and the stated stack counts them.
* A FeatureUnion copies the window into each part: window statistics and
  spectral features of the same window side by side in one row.
* Model files refuse them; bad tables are refused by the runtime's check.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pytest
import scipy.fft
import scipy.signal
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import MaxAbsScaler, StandardScaler

import emlearn_gen
from emlearn_gen.core.family import Packed
from emlearn_gen.core.host import HostModel
from emlearn_gen.families.transforms.contract import transform_bound
from emlearn_gen.families.transforms.convert import convert_transforms
from emlearn_gen.signal import MFCC, FIRFilter, MelSpectrum, SOSFilter, SpectralFeatures, Spectrum, WindowFeatures
from emlearn_gen.signal.spectrum import mel_filterbank, window_table
from emlearn_gen.testing.datasets import ACTIVITY_RATE, activity_windows

from firmware_support import STRICT, require_tool, run

REPO = Path(__file__).resolve().parents[1]
INCLUDE_DIR = REPO / "runtime" / "include"
U = 2.0**-24


def _windows(n_samples: int, n_channels: int, n_windows: int = 40, seed: int = 3) -> np.ndarray:
    """Noise and tones of a few amplitudes, interleaved by channel."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples)[None, :, None]
    tones = np.sin(2 * np.pi * rng.uniform(0.05, 0.4, (n_windows, 1, n_channels)) * t)
    W = rng.uniform(0.1, 10.0, (n_windows, 1, 1)) * (tones + 0.3 * rng.normal(size=(n_windows, n_samples, n_channels)))
    return W.reshape(n_windows, n_samples * n_channels)


SPECTRAL = [
    Spectrum(n_fft=32, n_channels=3, kind="log_power"),
    Spectrum(n_fft=45, n_channels=2, kind="magnitude", window="blackman", periodic=False),
    Spectrum(n_fft=60, window=None, kind="power"),
    MelSpectrum(n_fft=60, n_mels=8, sample_rate=1000.0, n_channels=2),
    MelSpectrum(n_fft=48, n_mels=6, sample_rate=1000.0, log=False, htk=True, norm=None),
    MFCC(n_fft=45, n_mels=8, n_mfcc=5, sample_rate=1000.0, fmin=20.0, n_channels=3),
    SpectralFeatures(n_fft=64, sample_rate=100.0, n_channels=2),
    SpectralFeatures(n_fft=30, sample_rate=100.0, spectrum="power", window="hamming"),
]


def _id(est: Any) -> str:
    return f"{type(est).__name__}-{est.n_fft}x{est.n_channels}"


@pytest.mark.parametrize("transformer", SPECTRAL, ids=_id)
def test_spectral_step_computes_the_transformers_bits_within_the_numpy_bound(transformer: Any) -> None:
    X = _windows(transformer.n_fft, transformer.n_channels)
    est = transformer.fit(X)
    cm = emlearn_gen.convert(est)
    got = cm.transform(X)
    assert np.array_equal(got, est.transform(X).astype(np.float64))
    assert cm.window_shape == (transformer.n_fft, transformer.n_channels)
    # The contract: within the stated bound of numpy in float64 (reference
    # and bound both computed from the float64 formulas of docs/signal.md).
    report = cm.contract.assert_matches_sklearn(cm, est, X)
    assert "max_abs_diff_float64" in report


def test_spectral_references_are_numpys_and_scipys() -> None:
    """The contract's float64 references are the documented conventions:
    numpy's rfft of the windowed samples, librosa's mel filterbank, scipy's
    orthonormal DCT-II, the centroid and argmax of the spectrum."""
    n, sr, n_mels, n_mfcc = 60, 1000.0, 8, 5
    X = _windows(n, 1)
    w = window_table("hann", n).astype(np.float64)
    spectrum = np.fft.rfft(X * w, axis=1)
    power = np.abs(spectrum) ** 2
    mel = power @ mel_filterbank(sr, n, n_mels).T
    log_mel = 10 * np.log10(np.maximum(mel, 1e-10))
    mfcc = scipy.fft.dct(log_mel, type=2, norm="ortho", axis=1)[:, :n_mfcc]
    k = np.arange(n // 2 + 1)
    bin_hz = float(np.float32(sr / n))
    centroid = (np.abs(spectrum) @ k) / np.abs(spectrum).sum(axis=1) * bin_hz
    dominant = np.argmax(np.abs(spectrum), axis=1) * bin_hz
    cases = [(Spectrum(n, kind="power"), power), (MelSpectrum(n, n_mels, sr), log_mel),
             (MFCC(n, n_mels, n_mfcc, sr), mfcc),
             (SpectralFeatures(n, sr), np.stack([centroid, dominant], axis=1))]
    for est, want in cases:
        est.fit(X)
        program = emlearn_gen.convert(est)
        exact = transform_bound(convert_transforms(est), X)
        np.testing.assert_allclose(exact.ref, want, rtol=1e-9, atol=1e-9 * np.abs(want).max(),
                                   err_msg=type(est).__name__)
        assert np.all(np.abs(program.transform(X) - want) <= exact.err), type(est).__name__


def test_mfcc_pipeline_converts_to_one_header_equal_to_scikit_learn() -> None:
    X, y = activity_windows()
    pipe = make_pipeline(MFCC(n_fft=32, n_mels=8, n_mfcc=5, sample_rate=ACTIVITY_RATE, n_channels=3),
                         StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    cm = emlearn_gen.convert(pipe, name="gesture")
    assert cm.window_shape == (32, 3)
    np.testing.assert_array_equal(cm.predict(X), pipe.predict(X))
    report = cm.contract.assert_matches_sklearn(cm, pipe, X)
    assert report["pipeline_label_differences"] == 0
    # The steps are the MFCC's own bits, then the scaler.
    mfcc = pipe[0].transform(X).astype(np.float64)
    scaled = cm.steps.transform(X)
    scaler = pipe[1]
    assert np.allclose(scaled * scaler.scale_ + scaler.mean_, mfcc, rtol=1e-5, atol=1e-4)
    source = cm.to_source()
    assert "constexpr int n_samples = 32;" in source and "constexpr int n_channels = 3;" in source


def _asan_run(cm: Any, X: np.ndarray, tmp_path: Path) -> np.ndarray:
    """Compiles the header with AddressSanitizer, runs transform() (or
    predict_proba) on the rows and returns what it wrote."""
    compiler = require_tool("g++", "g++")
    cm.save(tmp_path / "model.hpp")
    width = int(cm.steps.n_outputs_) if cm.steps is not None else int(cm.n_outputs_)
    rows = ",\n".join("{" + ", ".join(f"{v!r}f" for v in row) + "}" for row in np.asarray(X, np.float32).tolist())
    call = "model::predict_proba(x[r], out)" if cm.steps is not None else "model::transform(x[r], out)"
    width = len(cm.classes_) if cm.steps is not None else width
    (tmp_path / "main.cpp").write_text(textwrap.dedent(f"""\
        #include <stdio.h>
        #include "model.hpp"
        static const float x[{len(X)}][model::n_features] = {{
        {rows}}};
        int main() {{
          for (int r = 0; r < {len(X)}; ++r) {{
            float out[{width}];
            {call};
            for (int i = 0; i < {width}; ++i) printf("%.9g\\n", static_cast<double>(out[i]));
          }}
          return 0;
        }}
        """))
    run([compiler, "-std=c++11", *STRICT, "-g", "-fsanitize=address", "-fno-omit-frame-pointer",
         f"-I{INCLUDE_DIR}", f"-I{tmp_path}", "main.cpp", "-o", "main"], tmp_path)
    out = subprocess.run([str(tmp_path / "main")], check=True, capture_output=True, text=True).stdout
    return np.array([float(v) for v in out.split()], dtype=np.float32).reshape(len(X), width)


@pytest.mark.parametrize("steps", [
    lambda: [MFCC(n_fft=45, n_mels=8, n_mfcc=5, sample_rate=1000.0, n_channels=3)],  # odd n: 4n of FFT buffers
    lambda: [SOSFilter(scipy.signal.butter(6, 0.2, output="sos"), n_channels=3)],   # 2 x 3 sections x 3 channels
    lambda: [FIRFilter(np.hanning(31), decimation=4, n_channels=3)],                 # 31 x 3 of history
], ids=["mfcc-odd", "sos", "fir"])
def test_header_holds_the_signal_kernels_buffers_on_its_stack(steps: Any, tmp_path: Path) -> None:
    """A single signal step has no row between steps (max_width 0): its
    kernel's buffers alone make the header's scratch array, which the
    stated stack counts. AddressSanitizer finds any write beyond it."""
    (est,) = steps()
    n = 45 * 3
    X = _windows(45, 3, n_windows=4)
    est.fit(X[:, :n])
    cm = emlearn_gen.convert(est, name="model")
    got = _asan_run(cm, X, tmp_path)
    assert np.array_equal(got, est.transform(X).astype(np.float32))
    program = convert_transforms(est)
    assert program.max_width == 0 and program.work > 0
    assert cm.stated_stack["transform"] >= 4 * program.work


def test_mfcc_pipeline_header_runs_under_address_sanitizer(tmp_path: Path) -> None:
    X, y = activity_windows(60)
    pipe = make_pipeline(MaxAbsScaler(), MFCC(n_fft=32, n_mels=6, n_mfcc=4, sample_rate=ACTIVITY_RATE, n_channels=3),
                         LogisticRegression(max_iter=500)).fit(X, y)
    cm = emlearn_gen.convert(pipe, name="model")
    got = _asan_run(cm, X[:5], tmp_path)
    np.testing.assert_array_equal(got, cm.raw_outputs("predict_proba", X[:5]))


# --------------------------------------------------------------------------
# Filters: each window on its own


FILTERS = [
    lambda: SOSFilter(scipy.signal.butter(4, 0.2, output="sos"), n_channels=2),
    lambda: SOSFilter(scipy.signal.butter(2, [0.1, 0.3], btype="bandpass", output="sos"), init="steady"),
    lambda: FIRFilter(scipy.signal.firwin(9, 0.3), decimation=3, n_channels=2),
    lambda: FIRFilter(scipy.signal.firwin(5, 0.4)),
]


@pytest.mark.parametrize("make", FILTERS, ids=["sos", "sos-steady", "fir-decimate", "fir"])
def test_filter_step_filters_each_window_from_its_initial_state(make: Any) -> None:
    est = make()
    X = _windows(48, est.n_channels)
    est.fit(X)
    cm = emlearn_gen.convert(est)
    got = cm.transform(X)
    assert np.array_equal(got, est.transform(X).astype(np.float64))
    # No state carries from one window to the next: a window alone, or
    # after others, gives the same bits.
    assert np.array_equal(cm.transform(X[3:4]), got[3:4])
    assert np.array_equal(cm.transform(X[::-1])[::-1], got)
    # scipy on each window from the filter's initial state, within the bound.
    C = est.n_channels
    windows = X.reshape(len(X), -1, C)
    if isinstance(est, SOSFilter):
        zi = None
        if est.init == "steady":
            zi = scipy.signal.sosfilt_zi(est.sos)[:, None, :, None] * windows[None, :, :1, :]
        want = scipy.signal.sosfilt(est.sos, windows, axis=1, **({"zi": zi} if zi is not None else {}))
        want = want[0] if zi is not None else want
    else:
        want = scipy.signal.lfilter(est.coefficients, [1.0], windows, axis=1)[:, :: est.decimation, :]
    want = want.reshape(len(X), -1)
    report = cm.contract.assert_matches_sklearn(cm, est, X)
    assert report["max_abs_diff_float64"] == pytest.approx(np.abs(got - want).max(), rel=1e-6, abs=1e-12)
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()


def test_filter_then_window_statistics_pipeline() -> None:
    X, y = activity_windows()
    sos = scipy.signal.butter(2, 5.0, fs=ACTIVITY_RATE, output="sos")
    pipe = make_pipeline(SOSFilter(sos, n_channels=3, init="steady"), WindowFeatures(32, 3),
                         RandomForestClassifier(n_estimators=5, random_state=0)).fit(X, y)
    cm = emlearn_gen.convert(pipe)
    assert cm.window_shape == (32, 3)
    np.testing.assert_array_equal(cm.predict(X), pipe.predict(X))
    cm.contract.assert_matches_sklearn(cm, pipe, X)


# --------------------------------------------------------------------------
# Statistics and spectral features of the same window, side by side


def _union() -> FeatureUnion:
    return FeatureUnion([("stats", WindowFeatures(32, 3, ("mean", "std", "max"))),
                         ("spec", SpectralFeatures(32, sample_rate=ACTIVITY_RATE, n_channels=3))])


def test_feature_union_of_signal_steps_in_one_row() -> None:
    X, y = activity_windows()
    pipe = make_pipeline(_union(), StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0)).fit(X, y)
    cm = emlearn_gen.convert(pipe, name="activity")
    assert cm.window_shape == (32, 3)
    np.testing.assert_array_equal(cm.predict(X), pipe.predict(X))
    cm.contract.assert_matches_sklearn(cm, pipe, X)
    union = _union().fit(X)
    cu = emlearn_gen.convert(union)
    assert np.array_equal(cu.transform(X), union.transform(X).astype(np.float64))
    assert cu.n_outputs_ == 9 + 6


def test_column_transformer_parts_may_read_the_same_window() -> None:
    X, _ = activity_windows(40)
    everything = list(range(96))
    ct = ColumnTransformer([("stats", WindowFeatures(32, 3), everything),
                            ("spec", Spectrum(32, n_channels=3, kind="magnitude"), everything)]).fit(X)
    cm = emlearn_gen.convert(ct)
    assert np.array_equal(cm.transform(X), ct.transform(X).astype(np.float64))
    assert cm.window_shape == (32, 3)


def test_feature_union_weights_are_refused_saying_what_to_do() -> None:
    X, _ = activity_windows(20)
    union = FeatureUnion([("stats", WindowFeatures(32, 3)), ("spec", SpectralFeatures(32, 25.0, n_channels=3))],
                         transformer_weights={"stats": 2.0}).fit(X)
    with pytest.raises(ValueError, match="transformer_weights.*leave the weights out"):
        emlearn_gen.convert(union)


def test_spectral_step_fitted_on_other_windows_is_refused() -> None:
    X, y = activity_windows(40)
    pipe = make_pipeline(Spectrum(32, n_channels=3), LogisticRegression(max_iter=200)).fit(X, y)
    pipe.steps[0][1].set_params(n_fft=16)  # changed after fitting
    with pytest.raises(ValueError, match="Spectrum takes windows of 16 x 3 = 48 values, but 96 reach it"):
        emlearn_gen.convert(pipe)


def test_nan_in_a_window_is_refused_naming_it() -> None:
    X, y = activity_windows(40)
    pipe = make_pipeline(_union(), LogisticRegression(max_iter=200)).fit(X, y)
    cm = emlearn_gen.convert(pipe)
    X = X[:3].copy()
    X[1, 7] = np.nan
    with pytest.raises(ValueError, match=r"NaN at window 1, sample 2, channel 1.*impute the signal before windowing"):
        cm.predict(X)


@pytest.mark.parametrize("make", [
    lambda: make_pipeline(Spectrum(32, n_channels=3), LogisticRegression(max_iter=200)),
    lambda: Spectrum(32, n_channels=3),
    lambda: FIRFilter([0.5, 0.5], n_channels=3),
    lambda: _union(),
], ids=["pipeline", "spectrum", "fir", "union"])
def test_model_files_refuse_signal_steps(make: Any) -> None:
    X, y = activity_windows(40)
    est = make().fit(X, y)
    cm = emlearn_gen.convert(est)
    with pytest.raises(ValueError, match="save a header instead"):
        cm.to_model_file()


def test_model_file_loader_gives_signal_steps_their_op_scratch() -> None:
    """Signal steps on some columns only (no whole-row window to check for
    NaN) fit in a model file: the runtime's loader sizes the scratch with
    transforms_scratch_floats, op scratch included, and runs them bit-equal."""
    X = _windows(40, 1, n_windows=12)
    ct = ColumnTransformer([("mfcc", MFCC(32, n_mels=6, n_mfcc=4, sample_rate=100.0), list(range(32))),
                            ("low", SOSFilter(scipy.signal.butter(3, 0.2, output="sos")), list(range(32, 40)))]).fit(X)
    cm = emlearn_gen.convert(ct)
    loaded = emlearn_gen.load_model_file(cm.to_model_file())
    assert loaded.raw_outputs("transform", X).tobytes() == cm.raw_outputs("transform", X).tobytes()


# --------------------------------------------------------------------------
# The runtime's own check of a program's tables


def _host(cm: Any, indices: Optional[np.ndarray] = None, params: Optional[np.ndarray] = None) -> HostModel:
    packed = cm._tables
    tables = dict(packed.tables)
    if indices is not None:
        tables["indices"] = indices.astype(np.uint32)
    if params is not None:
        tables["params"] = params.astype(np.float32)
    return HostModel(cm.family.layout, Packed(tables=tables, fields=dict(packed.fields), real=packed.real),
                     cm.entry_points)


@pytest.mark.parametrize("position, value", [
    (0, 7),        # n_fft 7: no FFT of that length
    (2, 4),        # an unknown mode
    (3, 3),        # a spectrum kind beyond log-power
    (5, 0),        # MFCCs without a filterbank
    (6, 9),        # more MFCCs than mel bands
    (7, 60),       # a mel band beyond the spectrum's bins
], ids=["length", "mode", "kind", "no-filters", "too-many-mfcc", "band-outside"])
def test_runtime_refuses_a_spectrum_step_with_bad_tables(position: int, value: int) -> None:
    est = MFCC(n_fft=32, n_mels=8, n_mfcc=5, sample_rate=25.0, n_channels=3).fit()
    cm = emlearn_gen.convert(est)
    _host(cm)  # the tables as written pass
    indices = np.array(cm._tables.tables["indices"], dtype=np.int64)
    indices[position] = value
    with pytest.raises(ValueError, match="invalid transform program"):
        _host(cm, indices=indices)


def test_runtime_refuses_a_filter_step_with_bad_tables() -> None:
    est = SOSFilter(scipy.signal.butter(2, 0.2, output="sos"), n_channels=3).fit(np.zeros((1, 30)))
    cm = emlearn_gen.convert(est)
    params = np.array(cm._tables.tables["params"], dtype=np.float64)
    params[3] = 2.0  # a0 != 1
    with pytest.raises(ValueError, match="invalid transform program"):
        _host(cm, params=params)
    indices = np.array(cm._tables.tables["indices"], dtype=np.int64)
    indices[2] = 1 << 30  # sections whose state would not fit
    with pytest.raises(ValueError, match="invalid transform program"):
        _host(cm, indices=indices)
