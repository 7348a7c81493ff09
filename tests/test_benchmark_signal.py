"""The signal-kernel rows of the benchmark (benchmarks/sigkernels.py): the
native drivers compute what they claim to (our kernels' bits equal the
Python API's, emlearn's FFT is numpy's rfft), instructions per window do not
depend on how many windows are counted, and the table renders its rows."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from emlearn_gen.signal.spectrum import rfft_error_bound

sys.path.append(str(Path(__file__).resolve().parent.parent))
sig = pytest.importorskip(
    "benchmarks.sigkernels", reason="the benchmark needs its requirements: pip install -r benchmarks/requirements.txt"
)
report = pytest.importorskip("benchmarks.report")

# emlearn is not imported: its import makes numpy raise on every floating-point warning.
pytestmark = [
    pytest.mark.skipif(shutil.which("g++") is None or shutil.which("gcc") is None, reason="needs g++ and gcc"),
    pytest.mark.skipif(importlib.util.find_spec("emlearn") is None, reason="compares with emlearn's eml_fft.h"),
]

CASES = [sig.Case("fft", 64), sig.Case("mfcc", 256), sig.Case("window_features", 16, 3)]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("signal")
    natives = sig.native_cases(CASES)
    return folder, natives, sig.build_host(folder, natives, 300.0)


def test_building_leaves_numpy_error_handling_alone(built):
    """Finding emlearn's headers must not import emlearn, whose import sets
    numpy.seterr(all='raise') for the process: scikit-learn's Gaussian
    mixture then fails with FloatingPointError (underflow in exp) in the
    benchmark's later rows and in other tests."""
    assert np.geterr()["under"] == "ignore"
    assert "emlearn" not in sys.modules


def test_the_native_kernels_compute_what_the_rows_claim(built):
    folder, natives, exe = built
    assert [(nc.case.key, nc.tool) for nc in natives] == [
        ("fft_64", "emlearn_gen"), ("fft_64", "emlearn"), ("mfcc_256", "emlearn_gen"),
        ("window_features_16x3", "emlearn_gen")]
    for index, nc in enumerate(natives):
        X = sig.windows(nc.case, 6, seed=3)
        got = sig.host_measure(folder, exe, index, nc, X, X[:1], 300.0)
        assert got["native_calls_per_s"] > 0
        outputs = got["outputs"]
        if nc.tool == "emlearn":
            # emlearn's in-place complex FFT, read back as the one-sided spectrum.
            want = np.fft.rfft(X.astype(np.float64), axis=-1)
            err = np.linalg.norm(outputs[:, 0::2] + 1j * outputs[:, 1::2] - want, axis=1)
            assert np.all(err <= 50 * 2.0**-24 * np.sqrt(64) * np.linalg.norm(X, axis=1))
        else:
            api = sig.python_implementations(nc.case)["emlearn_gen"][1](X)
            np.testing.assert_array_equal(sig._pairs(np.asarray(api)).astype(np.float32), outputs)
            if nc.case.kernel == "fft":  # and within the FFT's stated bound of float64
                want = np.fft.rfft(X.astype(np.float64), axis=-1)
                err = np.linalg.norm(outputs[:, 0::2] + 1j * outputs[:, 1::2] - want, axis=1)
                assert np.all(err <= rfft_error_bound(64, windowed=False) * 8.0 * np.linalg.norm(X, axis=1))


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
def test_host_instructions_per_window_do_not_depend_on_the_windows_counted(built):
    """The first call of a kernel must not carry the dynamic linker's lazy
    binding of memcpy and memset (emlearn's FFT calls them): the count of
    one window is the count per window of four."""
    folder, natives, exe = built
    for index, nc in enumerate(natives[:2]):
        X = sig.windows(nc.case, 4, seed=4)
        one = sig.host_measure(folder, exe, index, nc, X, X[:1], 300.0)["x86_instr_per_window"]
        four = sig.host_measure(folder, exe, index, nc, X, X, 300.0)["x86_instr_per_window"]
        assert one == four


def test_device_counts_grow_with_the_fft_length(tmp_path):
    """Instructions per window on the Cortex-M4F: one image runs every case,
    and each case gets the calls of its own windows."""
    from emlearn_gen.testing.pytest_plugin import require_target

    require_target("cortex-m4f")
    natives = sig.native_cases([sig.Case("fft", 64), sig.Case("fft", 256)])
    inputs = [sig.windows(nc.case, 2, seed=5) for nc in natives]
    counts = sig.device_counts(tmp_path, natives, inputs, 2, 600.0)
    ours64, emlearn64, ours256, emlearn256 = (counts[i] for i in range(4))
    assert 4 * ours64 < ours256 < 6 * ours64  # n log n: 4 x 8/6 from 64 to 256
    assert 4 * emlearn64 < emlearn256 < 6 * emlearn64


def test_the_signal_table_shows_every_row():
    rows = [
        {"kernel": "fft", "n": 64, "channels": 1, "tool": "emlearn", "tool_label": "emlearn (eml_fft.h)",
         "native_calls_per_s": 2.2e6, "x86_instr_per_window": 9820.0, "m4f_instr_per_window": 10132.0,
         "max_abs_err": 3.1e-6, "max_rel_err": 2e-7, "measured_at": "abc1234", "measured_on": "2026-11-30"},
        {"kernel": "fft", "n": 64, "channels": 1, "tool": "emlearn_gen", "tool_label": "emlearn-gen (ours)",
         "py_calls_per_s": 33800.0, "py_batch_windows_per_s": 1.69e6, "native_calls_per_s": 1.97e6,
         "measured_at": "abc1234", "measured_on": "2026-11-30"},
    ]
    text = "\n".join(report.signal_lines(rows))
    assert "## Signal kernels" in text and "Measured at commit abc1234 on 2026-11-30." in text
    lines = [line for line in text.splitlines() if line.startswith("| FFT")]
    assert lines[0].startswith("| FFT, real input (rfft) | 64 | emlearn-gen (ours) | 33.8k | 1.69M | 1.97M |")
    assert lines[1] == ("| FFT, real input (rfft) | 64 | emlearn (eml_fft.h) | n/a | n/a | 2.2M | 9,820 | 10,132 | "
                        "3.1e-06 | 2.0e-07 |")
    assert report.signal_lines([]) == []
