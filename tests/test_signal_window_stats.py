"""Window statistics (runtime window_stats.hpp, emlearn_gen.signal.WindowFeatures):

* every feature against numpy float64 on the same float32 samples, written
  here, within the bound the module states (window_stats_bound);
* the conventions: feature-major output, std with ddof=0, energy as the sum
  of squares, zero crossings with exact zeros counted as non-negative;
* bad input refused with a ValueError or TypeError saying what to do;
* the host binding and Cortex-M0, Cortex-M4F (qemu) and AVR (simavr) give
  the same bits;
* in a Pipeline before a model, one header whose entry points take a window
  (n_samples, n_channels stated beside n_features).
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path
from typing import List

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import emlearn_gen
from emlearn_gen import _runtime
from emlearn_gen.signal import WindowFeatures
from emlearn_gen.signal.window_stats import ALL_FEATURES, window_stats_bound
from emlearn_gen.testing import AVR, CORTEX_M0, CORTEX_M4F, ToolchainMissing
from emlearn_gen.testing.datasets import activity_windows
from emlearn_gen.testing.targets import DeviceTarget

import signal_programs
from firmware_support import STRICT, missing, require_tool, run

REPO = Path(__file__).resolve().parent.parent
INCLUDE_DIR = REPO / "runtime" / "include"


def numpy_features(X: np.ndarray, n_samples: int, n_channels: int) -> np.ndarray:
    """The features as numpy defines them, float64, feature-major: the
    test's own reference (independent of the module's)."""
    W = np.asarray(X, dtype=np.float64).reshape(len(X), n_samples, n_channels)
    energy = (W**2).sum(axis=1)
    columns = {
        "mean": W.mean(axis=1),
        "std": np.std(W, axis=1),  # ddof=0
        "min": W.min(axis=1),
        "max": W.max(axis=1),
        "rms": np.sqrt(energy / n_samples),
        # A crossing where consecutive samples fall on different sides of
        # "x < 0": an exact zero is non-negative.
        "zero_crossings": (np.diff((W < 0).astype(np.int64), axis=1) != 0).sum(axis=1).astype(np.float64),
        "peak_to_peak": np.ptp(W, axis=1),
        "energy": energy,
    }
    return np.concatenate([columns[f] for f in ALL_FEATURES], axis=1)


def windows(n_windows: int, n_samples: int, n_channels: int, seed: int) -> np.ndarray:
    """float32 windows of spread magnitudes and offsets (a large offset
    against a small spread stresses the deviation's cancellation)."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.uniform(-6, 6, (n_windows, 1, 1))
    offset = scale * rng.choice([0.0, 1.0, -30.0, 1000.0], (n_windows, 1, n_channels))
    W = offset + scale * rng.standard_normal((n_windows, n_samples, n_channels))
    return W.reshape(n_windows, -1).astype(np.float32).astype(np.float64)


@pytest.mark.parametrize("n_samples,n_channels", [(1, 1), (2, 3), (32, 3), (100, 2), (1000, 1)])
def test_every_feature_is_within_the_stated_bound_of_numpy(n_samples: int, n_channels: int) -> None:
    X = windows(60, n_samples, n_channels, seed=n_samples)
    got = WindowFeatures(n_samples, n_channels).fit(X).transform(X)
    want = numpy_features(X, n_samples, n_channels)
    bound = window_stats_bound(X, n_samples, n_channels)
    exact = np.isin(np.repeat(np.array(ALL_FEATURES), n_channels), ["min", "max", "zero_crossings"])
    assert np.array_equal(got[:, exact], want[:, exact])
    diff = np.abs(got - want)
    worst = np.unravel_index(np.argmax(diff - bound), diff.shape)
    assert np.all(diff <= bound), f"window {worst[0]}, column {worst[1]}: {diff[worst]} > bound {bound[worst]}"
    # The bound is a rounding bound, not a tolerance: far below the scale of
    # the samples (their largest magnitude; its square n times for energy).
    peak = np.abs(X.reshape(len(X), n_samples, n_channels)).max(axis=1)
    scale = np.tile(peak, len(ALL_FEATURES))
    energy = ALL_FEATURES.index("energy") * n_channels
    scale[:, energy : energy + n_channels] = n_samples * peak**2
    assert np.all(bound <= 1e-3 * scale)


def test_output_is_feature_major_and_named_so() -> None:
    X = windows(5, 8, 3, seed=1)
    wf = WindowFeatures(8, 3, features=("max", "mean")).fit(X)
    got = wf.transform(X)
    W = X.reshape(5, 8, 3)
    assert list(wf.get_feature_names_out()) == ["max_ch0", "max_ch1", "max_ch2", "mean_ch0", "mean_ch1", "mean_ch2"]
    assert np.array_equal(got[:, :3], W.max(axis=1))
    assert np.allclose(got[:, 3:], W.mean(axis=1), rtol=1e-6)
    # A 3-D array of windows is the same windows.
    assert np.array_equal(wf.transform(W), got)


def test_zero_crossings_count_exact_zeros_as_non_negative() -> None:
    series = [
        [1.0, 0.0, 1.0],       # no sign change
        [-1.0, 0.0, -1.0],     # two
        [-1.0, -0.0, 1.0],     # -0 is not below 0: one, between -1 and -0
        [0.0, 0.0, 0.0],
        [2.0, -2.0, 2.0],
        [-0.0, -3.0, 0.0],
    ]
    X = np.array(series)
    got = WindowFeatures(3, 1, features=("zero_crossings",)).fit(X).transform(X)[:, 0]
    want = numpy_features(X, 3, 1)[:, ALL_FEATURES.index("zero_crossings")]
    assert list(got) == list(want) == [0.0, 2.0, 1.0, 0.0, 2.0, 2.0]


def test_energy_is_the_sum_of_squares_and_std_the_population_deviation() -> None:
    X = np.array([[1.0, 2.0, 3.0, 4.0]])
    wf = WindowFeatures(4, 1, features=("energy", "std", "rms", "peak_to_peak")).fit(X)
    energy, std, rms, ptp = wf.transform(X)[0]
    assert energy == np.sum(X**2)
    assert std == np.float32(np.std(X))  # ddof=0: sqrt(1.25), not sqrt(5/3)
    assert rms == np.float32(np.sqrt(np.mean(X**2)))
    assert ptp == 3.0


def test_parameters_and_clone_are_scikit_learns() -> None:
    wf = WindowFeatures(16, 2, features=("mean",))
    assert wf.get_params() == {"n_samples": 16, "n_channels": 2, "features": ("mean",)}
    copy = clone(wf)
    assert copy.get_params() == wf.get_params()
    X = windows(4, 16, 2, seed=3)
    assert np.array_equal(copy.fit_transform(X), wf.fit(X).transform(X))


@pytest.mark.parametrize(
    "kwargs,X_shape,error,words",
    [
        ({"n_samples": 0}, (2, 0), ValueError, "n_samples must be a positive integer"),
        ({"n_channels": -1}, (2, 4), ValueError, "n_channels must be a positive integer"),
        ({"n_samples": 2.5}, (2, 4), TypeError, "n_samples must be a positive integer"),
        ({"features": ("mean", "kurtosis")}, (2, 12), ValueError, "unknown window features ['kurtosis']"),
        ({"features": ("mean", "mean")}, (2, 12), ValueError, "listed more than once"),
        ({"features": ()}, (2, 12), ValueError, "features is empty"),
        ({"features": "mean"}, (2, 12), TypeError, "sequence of names"),
        ({}, (2, 11), ValueError, "each row must be one window of n_samples=4 x n_channels=3 = 12 values"),
    ],
)
def test_bad_parameters_and_shapes_say_what_to_do(kwargs, X_shape, error, words) -> None:
    params = {"n_samples": 4, "n_channels": 3, **kwargs}
    with pytest.raises(error) as info:
        WindowFeatures(**params).fit(np.zeros(X_shape))
    assert words in str(info.value)


def test_nan_is_refused_naming_the_sample_and_asking_to_impute() -> None:
    X = windows(3, 4, 3, seed=2)
    wf = WindowFeatures(4, 3).fit(X)
    X[1, 7] = np.nan
    with pytest.raises(ValueError, match=r"NaN at window 1, sample 2, channel 1.*impute the signal before windowing"):
        wf.transform(X)


def test_the_runtime_refuses_bad_sizes_itself() -> None:
    X = np.zeros((1, 6), dtype=np.float32)
    with pytest.raises(ValueError, match="invalid window statistics"):
        _runtime.window_stats(X, 0, 6, [0])
    with pytest.raises(ValueError, match="invalid window statistics"):
        _runtime.window_stats(X, 2, 3, [8])  # no feature of code 8
    with pytest.raises(ValueError, match="a window of 2 samples x 2 channels has 4"):
        _runtime.window_stats(X, 2, 2, [0])


# --------------------------------------------------------------------------
# The same bits on the devices

N_SAMPLES, N_CHANNELS = 32, 3


def device_windows() -> np.ndarray:
    """Windows of every kind the kernel meets: spread magnitudes, offsets,
    exact zeros of both signs, subnormal samples, a constant window."""
    X = windows(5, N_SAMPLES, N_CHANNELS, seed=11).astype(np.float32)
    zeros = np.zeros((1, N_SAMPLES * N_CHANNELS), dtype=np.float32)
    zeros[0, ::4] = -0.0
    zeros[0, 1::4] = 1.0
    zeros[0, 2::4] = -1.0
    tiny = (np.random.default_rng(4).standard_normal((1, N_SAMPLES * N_CHANNELS)) * 1e-39).astype(np.float32)
    constant = np.full((1, N_SAMPLES * N_CHANNELS), 3.7, dtype=np.float32)
    activity = activity_windows(n_windows=2)[0].astype(np.float32)
    return np.ascontiguousarray(np.concatenate([X, zeros, tiny, constant, activity]))


def bits_program(prelude: str, exit_code: str, X32: np.ndarray) -> str:
    """Every feature of each window (all 8, in code order), as the hex of
    its bits, one line per window, then END. The windows live in program
    memory on AVR and are copied to RAM one at a time, as a sensor buffer."""
    n_rows, width = X32.shape
    words = X32.view(np.uint32).reshape(-1)
    table = ",\n".join("  " + ", ".join(f"0x{int(w):08x}u" for w in words[i : i + 6]) for i in range(0, words.size, 6))
    n_out = len(ALL_FEATURES) * N_CHANNELS
    begin = "  eg_begin();\n" if "eg_begin()" in prelude else ""
    return (
        '#include <stdint.h>\n#include <string.h>\n#include "emlearn_gen/window_stats.hpp"\n'
        + prelude
        + textwrap.dedent(
            f"""
            static const uint32_t windows[{words.size}] EMLEARN_GEN_TABLE_ATTR = {{
            {table}
            }};
            static const uint8_t features[8] EMLEARN_GEN_TABLE_ATTR = {{0, 1, 2, 3, 4, 5, 6, 7}};

            static void put_hex(float value) {{
              uint32_t bits;
              memcpy(&bits, &value, sizeof bits);
              for (int shift = 28; shift >= 0; shift -= 4) {{
                eg_putc("0123456789abcdef"[(bits >> shift) & 15u]);
              }}
            }}

            int main() {{
            {begin}  static float window[{width}];
              static float out[{n_out}];
              for (uint16_t r = 0; r < {n_rows}u; ++r) {{
                emlearn_gen::table_copy(window, windows + r * {width}u, sizeof window);
                if (emlearn_gen::window_stats(window, {N_SAMPLES}u, {N_CHANNELS}u, features, 8u, out) !=
                    emlearn_gen::status::ok) {{
                  eg_putc('!');
                }}
                for (uint16_t k = 0; k < {n_out}u; ++k) {{
                  put_hex(out[k]);
                  eg_putc(' ');
                }}
                eg_putc('\\n');
              }}
              eg_putc('E');
              eg_putc('N');
              eg_putc('D');
              eg_putc('\\n');
              {exit_code}
            }}
            """
        )
    )


def parse_bits(text: str, n_rows: int) -> List[List[str]]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines and lines[-1] == "END", f"the program did not finish:\n{text[-2000:]}"
    rows = [line.split() for line in lines[:-1]]
    assert len(rows) == n_rows, text[-2000:]
    return rows


def host_bits(X32: np.ndarray) -> List[List[str]]:
    out = _runtime.window_stats(X32, N_SAMPLES, N_CHANNELS, list(range(len(ALL_FEATURES))))
    return [[f"{int(w):08x}" for w in row] for row in np.ascontiguousarray(out).view(np.uint32)]


@pytest.mark.parametrize("device", [CORTEX_M0, CORTEX_M4F, AVR], ids=lambda d: d.name)
def test_devices_compute_the_host_bits(device: DeviceTarget, tmp_path: Path) -> None:
    try:
        device.check_tools()
    except ToolchainMissing as exc:
        missing(f"{device.name}: {exc}")
    X32 = device_windows()
    (tmp_path / "main.cpp").write_text(bits_program(device.prelude(), device.exit_code(), X32))
    got = parse_bits(signal_programs.run_firmware(device, tmp_path, STRICT), len(X32))
    want = host_bits(X32)
    differences = [f"window {i}: device {g}, host {w}" for i, (g, w) in enumerate(zip(got, want)) if g != w]
    assert not differences, f"{device.name}: " + "\n".join(differences[:5])


# --------------------------------------------------------------------------
# In a Pipeline: one header whose entry points take one window


def activity_pipeline(model) -> object:
    X, y = activity_windows()
    return make_pipeline(WindowFeatures(N_SAMPLES, N_CHANNELS), StandardScaler(), model).fit(X, y), X


@pytest.mark.parametrize("model", [RandomForestClassifier(n_estimators=5, random_state=0),
                                   LogisticRegression(max_iter=500)], ids=["forest", "logistic"])
def test_pipeline_predicts_as_scikit_learn_and_states_the_window(model) -> None:
    pipeline, X = activity_pipeline(model)
    cm = emlearn_gen.convert(pipeline, name="activity")
    assert cm.window_shape == (N_SAMPLES, N_CHANNELS)
    assert cm.n_features_in_ == N_SAMPLES * N_CHANNELS
    labels = cm.predict(X)
    # Labels may differ only where the steps' float32 error moves a feature
    # across a decision: the activity windows have none.
    assert np.array_equal(labels, pipeline.predict(X))
    source = cm.to_source()
    assert f"constexpr int n_samples = {N_SAMPLES};" in source
    assert f"constexpr int n_channels = {N_CHANNELS};" in source


def test_header_window_constants_compile_and_multiply_to_n_features(tmp_path: Path) -> None:
    compiler = require_tool("g++", "g++")
    pipeline, _ = activity_pipeline(LogisticRegression(max_iter=500))
    cm = emlearn_gen.convert(pipeline, name="activity")
    cm.save(tmp_path / "activity.hpp")
    (tmp_path / "main.cpp").write_text(textwrap.dedent("""\
        #include "activity.hpp"
        static_assert(activity::n_samples * activity::n_channels == activity::n_features, "window shape");
        int main() {
          float window[activity::n_samples * activity::n_channels] = {};
          return activity::predict(window) >= 0 ? 0 : 1;
        }
        """))
    run([compiler, "-std=c++11", *STRICT, f"-I{INCLUDE_DIR}", f"-I{tmp_path}", "main.cpp", "-o", "main"], tmp_path)
    subprocess.run([str(tmp_path / "main")], check=True)


def test_a_forest_after_window_statistics_is_not_folded() -> None:
    # Trees fold only per-feature monotone steps; window statistics mix samples.
    pipeline, _ = activity_pipeline(RandomForestClassifier(n_estimators=3, random_state=0))
    cm = emlearn_gen.convert(pipeline)
    assert cm.steps is not None


def test_pipeline_refuses_nan_windows_asking_to_impute() -> None:
    pipeline, X = activity_pipeline(LogisticRegression(max_iter=500))
    cm = emlearn_gen.convert(pipeline)
    X = X[:4].copy()
    X[2, 4] = np.nan
    with pytest.raises(ValueError, match=r"NaN at window 2, sample 1, channel 1.*impute the signal before windowing"):
        cm.predict(X)


def test_window_statistics_fitted_on_other_windows_are_refused_in_a_pipeline() -> None:
    X, y = activity_windows()
    pipeline = make_pipeline(WindowFeatures(N_SAMPLES, N_CHANNELS), LogisticRegression(max_iter=500)).fit(X, y)
    pipeline.steps[0][1].set_params(n_samples=16)  # changed after fitting: 16 x 3 != 96
    with pytest.raises(ValueError, match="WindowFeatures takes windows of 16 x 3 = 48 values, but 96 reach it"):
        emlearn_gen.convert(pipeline)
