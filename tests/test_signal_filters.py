"""Streaming filters (runtime/include/emlearn_gen/filters.hpp through
emlearn_gen.signal.SOSFilter and FIRFilter) against scipy.signal in float64,
within the bounds their docstrings derive; streams fed in blocks of any
sizes against the same stream fed at once (bit-identical); and the host
binding against the emulated devices (bit-identical)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import pytest
import scipy.signal as ss
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from emlearn_gen.signal import FIRFilter, SOSFilter
from emlearn_gen.testing import AVR, CORTEX_M0, CORTEX_M4F
from emlearn_gen.testing.targets import DeviceTarget

import signal_programs

U = 2.0**-24  # unit roundoff of float32

# --------------------------------------------------------------------------
# References and bounds


def _signal(n: int, channels: int, seed: int) -> np.ndarray:
    """Noise plus a slow sine and an offset: something for every band to pass."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    x = rng.normal(size=(n, channels)) + 2.0 * np.sin(0.02 * t + np.arange(channels)) + 0.5
    return x.astype(np.float32)


def _impulse_sum(sos: np.ndarray, n: int = 16384) -> float:
    """sum |h| of a cascade (truncated where it has long decayed to noise)."""
    delta = np.zeros(n)
    delta[0] = 1.0
    h = ss.sosfilt(sos, delta)
    assert np.abs(h[-64:]).max() <= 1e-12 * np.abs(h).max(), "the impulse response has not decayed"
    return float(np.abs(h).sum())


def sos_error_bound(sos: np.ndarray, x: np.ndarray, zi: Optional[np.ndarray] = None) -> float:
    """The SOSFilter docstring's first-order bound on |y - sosfilt(sos, x)|
    for float32 x of shape (n, channels): per section s, the rounding of its
    coefficients and of each operation injects at most
    4 u (sum|b_s| U_s + sum|a_s| Y_s) per sample, which reaches the output
    through g_s = 1 / A_s then the sections after s. With a starting state
    zi (scipy's, float64), the float32 state differs by at most 2 u |zi|,
    carried by g_s too."""
    x64 = x.astype(np.float64)
    total = 0.0
    section_input = x64
    for s in range(len(sos)):
        section_output = ss.sosfilt(sos[s : s + 1], section_input, axis=0)
        b, a = np.abs(sos[s, :3]).sum(), np.abs(sos[s, 3:]).sum()
        U_s, Y_s = np.abs(section_input).max(), np.abs(section_output).max()
        recursive_part = np.array([[1.0, 0.0, 0.0, *sos[s, 3:]]])
        g_sum = _impulse_sum(np.vstack([recursive_part, sos[s + 1 :]]))
        total += 4.0 * (b * U_s + a * Y_s) * g_sum
        if zi is not None:
            total += 2.0 * np.abs(zi[s]).sum(axis=0).max() * g_sum
        section_input = section_output
    return U * total


def fir_error_bound(h: np.ndarray, x: np.ndarray) -> float:
    """The FIRFilter docstring's bound: (N + 1) u / (1 - (N + 1) u) sum|h| max|x|."""
    n = len(h) + 1
    return n * U / (1.0 - n * U) * float(np.abs(h).sum()) * float(np.abs(x.astype(np.float64)).max())


def _butterworth(kind: str, order: int) -> np.ndarray:
    cutoff = {"lowpass": 0.1, "highpass": 0.3, "bandpass": [0.1, 0.3]}[kind]
    return ss.butter(order, cutoff, btype=kind, output="sos")


BUTTERWORTHS = [(kind, order) for kind in ("lowpass", "highpass", "bandpass") for order in range(2, 9)]

# --------------------------------------------------------------------------
# Second-order sections against scipy


@pytest.mark.parametrize("kind,order", BUTTERWORTHS)
def test_sosfilt_within_its_bound_of_scipy(kind: str, order: int) -> None:
    sos = _butterworth(kind, order)
    x = _signal(2000, 2, seed=order)
    got = SOSFilter(sos, n_channels=2).update(x)
    want = ss.sosfilt(sos, x.astype(np.float64), axis=0)
    bound = sos_error_bound(sos, x)
    error = np.abs(got - want).max()
    assert error <= bound, f"{kind} order {order}: error {error:.3g} > bound {bound:.3g}"
    # The bound says something: far below the signal.
    assert bound <= 1e-3 * np.abs(want).max(), f"bound {bound:.3g} for a signal of {np.abs(want).max():.3g}"


@pytest.mark.parametrize("kind,order", [("lowpass", 4), ("bandpass", 8), ("highpass", 3)])
def test_steady_state_start_within_its_bound_of_scipy(kind: str, order: int) -> None:
    sos = _butterworth(kind, order)
    x = _signal(600, 3, seed=7) + np.float32(5.0)
    zi = ss.sosfilt_zi(sos)[:, :, None] * x[0].astype(np.float64)
    want, zf = ss.sosfilt(sos, x.astype(np.float64), axis=0, zi=zi)
    f = SOSFilter(sos, n_channels=3, init="steady")
    got = f.update(x)
    bound = sos_error_bound(sos, x, zi)
    assert np.abs(got - want).max() <= bound
    # The state is scipy's zf, laid out as scipy's zi: (n_sections, 2, channels).
    assert f.state.shape == zf.shape
    assert np.abs(f.state - zf).max() <= bound * np.abs(sos).max() * 4


def test_a_state_set_continues_as_scipy_does() -> None:
    sos = _butterworth("bandpass", 4)
    x = _signal(400, 2, seed=3)
    _, zf = ss.sosfilt(sos, x[:200].astype(np.float64), axis=0, zi=np.zeros((len(sos), 2, 2)))
    want, _ = ss.sosfilt(sos, x[200:].astype(np.float64), axis=0, zi=zf.astype(np.float32).astype(np.float64))
    f = SOSFilter(sos, n_channels=2)
    f.state = zf
    assert np.abs(f.update(x[200:]) - want).max() <= sos_error_bound(sos, x[200:], zf)


def _random_blocks(n: int, rng: np.random.Generator) -> List[int]:
    sizes: List[int] = []
    while sum(sizes) < n:
        sizes.append(int(min(rng.integers(0, 37), n - sum(sizes))))
    return sizes


def _feed(stream, x: np.ndarray, sizes: List[int]) -> np.ndarray:
    outputs, start = [], 0
    for size in sizes:
        outputs.append(stream.update(x[start : start + size]))
        start += size
    return np.concatenate(outputs)


@pytest.mark.parametrize("init", ["zeros", "steady"])
def test_sos_blocks_of_any_size_give_the_same_bits(init: str) -> None:
    sos = _butterworth("bandpass", 6)
    x = _signal(500, 2, seed=11)
    whole = SOSFilter(sos, n_channels=2, init=init)
    at_once = whole.update(x)
    rng = np.random.default_rng(5)
    for sizes in ([1] * len(x), _random_blocks(len(x), rng), _random_blocks(len(x), rng)):
        f = SOSFilter(sos, n_channels=2, init=init)
        assert np.array_equal(_feed(f, x, sizes).view(np.uint32), at_once.view(np.uint32))
        assert np.array_equal(f.state.view(np.uint32), whole.state.view(np.uint32))
    # reset() starts the same stream again.
    whole.reset()
    assert np.array_equal(whole.update(x).view(np.uint32), at_once.view(np.uint32))


def test_sos_transform_filters_each_window_from_a_fresh_state() -> None:
    sos = _butterworth("lowpass", 4)
    windows = _signal(5 * 64 * 2, 1, seed=2).reshape(5, 128)  # 64 samples x 2 channels, interleaved
    for init in ("zeros", "steady"):
        f = SOSFilter(sos, n_channels=2, init=init)
        got = make_pipeline(f).fit(windows).transform(windows)
        assert got.shape == windows.shape and got.dtype == np.float32
        for row, out in zip(windows, got):
            x = row.reshape(64, 2)
            if init == "steady":
                zi = ss.sosfilt_zi(sos)[:, :, None] * x[0].astype(np.float64)
                want = ss.sosfilt(sos, x.astype(np.float64), axis=0, zi=zi)[0]
            else:
                zi = None
                want = ss.sosfilt(sos, x.astype(np.float64), axis=0)
            assert np.abs(out.reshape(64, 2) - want).max() <= sos_error_bound(sos, x, zi)
        # The same bits as a stream of the window.
        stream = clone(f)
        assert np.array_equal(stream.update(windows[1].reshape(64, 2)).reshape(-1), got[1])
    assert clone(f).get_params()["init"] == "steady"


def test_pickled_filters_still_transform() -> None:
    sos = _butterworth("lowpass", 2)
    X = _signal(3 * 32, 1, seed=4).reshape(3, 32)
    for f in (SOSFilter(sos).fit(X), FIRFilter(ss.firwin(9, 0.3), decimation=2).fit(X)):
        f.update(X[0])
        copy = pickle.loads(pickle.dumps(f))
        assert np.array_equal(copy.transform(X), f.transform(X))


def test_set_params_changes_the_filter_a_stream_runs() -> None:
    f = FIRFilter([1.0, 1.0])
    assert f.update([1.0, 2.0]).tolist() == [1.0, 3.0]
    f.set_params(coefficients=[2.0])  # a new filter: a new stream, from rest
    assert f.update([3.0]).tolist() == [6.0]


# --------------------------------------------------------------------------
# FIR and decimation against scipy


@pytest.mark.parametrize("q", [1, 2, 3, 5])
def test_fir_decimation_within_its_bound_of_scipy(q: int) -> None:
    # scipy.signal.decimate's own filter; for q = 1 (no decimation) a low-pass.
    h = ss.firwin(20 * q + 1, 1.0 / q if q > 1 else 0.4, window="hamming")
    x = _signal(1001, 2, seed=q)
    got = FIRFilter(h, decimation=q, n_channels=2).update(x)
    x64 = x.astype(np.float64)
    want = ss.lfilter(h, [1.0], x64, axis=0)[::q]
    assert got.shape == want.shape
    bound = fir_error_bound(h, x)
    assert np.abs(got - want).max() <= bound
    # The same samples as scipy's decimate and upfirdn.
    if q > 1:
        decimated = ss.decimate(x64, q, ftype="fir", zero_phase=False, axis=0)
        assert decimated.shape == want.shape and np.abs(got - decimated).max() <= bound
    upfirdn = ss.upfirdn(h, x64, down=q, axis=0)[: len(want)]
    assert np.abs(got - upfirdn).max() <= bound


@pytest.mark.parametrize("q", [1, 3, 4])
def test_fir_blocks_of_any_size_give_the_same_bits(q: int) -> None:
    h = ss.firwin(17, 0.2)
    x = _signal(301, 3, seed=9)
    whole = FIRFilter(h, decimation=q, n_channels=3)
    at_once = whole.update(x)
    rng = np.random.default_rng(q)
    for sizes in ([1] * len(x), _random_blocks(len(x), rng), _random_blocks(len(x), rng)):
        f = FIRFilter(h, decimation=q, n_channels=3)
        assert np.array_equal(_feed(f, x, sizes).view(np.uint32), at_once.view(np.uint32))
        history, newest, phase = f.state
        assert np.array_equal(history.view(np.uint32), whole.state[0].view(np.uint32))
        assert (newest, phase) == whole.state[1:] and phase == len(x) % q


def test_fir_transform_and_one_channel_blocks() -> None:
    h = np.array([0.5, -0.25, 0.125, 1.0])
    X = _signal(4 * 30, 1, seed=1).reshape(4, 30)
    f = FIRFilter(h, decimation=4).fit(X)
    got = f.transform(X)
    assert got.shape == (4, 8)
    want = ss.lfilter(h, [1.0], X.astype(np.float64), axis=1)[:, ::4]
    assert np.abs(got - want).max() <= fir_error_bound(h, X)
    assert f.update(X[0]).shape == (8,) and f.update(X[0][:3]).shape == (1,)  # positions 30..32: 32 kept


# --------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: SOSFilter(np.ones((2, 5))), "shape \\(n_sections, 6\\)"),
        (lambda: SOSFilter(np.zeros((0, 6))), "at least one section"),
        (lambda: SOSFilter([[1, 0, 0, 2, 0, 0]]), "a0"),
        (lambda: SOSFilter([[1, 0, 0, 1, np.nan, 0]]), "NaN"),
        (lambda: SOSFilter([[1, 0, 0, 1, 1e300, 0]]), "float32"),
        (lambda: SOSFilter(_butterworth("lowpass", 2), init="ones"), "init"),
        (lambda: SOSFilter(_butterworth("lowpass", 2), n_channels=0), "n_channels"),
        (lambda: SOSFilter([[1, 0, 0, 1, -1, 0]], init="steady"), "steady state"),
        (lambda: FIRFilter([]), "non-empty"),
        (lambda: FIRFilter([[1.0, 2.0]]), "1-D"),
        (lambda: FIRFilter([1.0], decimation=0), "decimation"),
        (lambda: FIRFilter([1.0], decimation=1.5), "decimation must be an integer"),
    ],
)
def test_bad_parameters_say_what_is_wrong(make, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        make().update(np.zeros(4))


def test_bad_blocks_and_windows_say_what_is_wrong() -> None:
    f = SOSFilter(_butterworth("lowpass", 2), n_channels=2)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        f.update(np.zeros(6))
    with pytest.raises(ValueError, match="NaN"):
        f.update(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="interleaved"):
        f.fit(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="fitted on 4"):
        f.fit(np.zeros((3, 4))).transform(np.zeros((3, 6)))
    with pytest.raises(ValueError, match="state must have shape"):
        f.state = np.zeros((1, 2, 3))
    with pytest.raises(TypeError, match="real numbers"):
        f.update(np.array([["a", "b"]]))
    g = FIRFilter([1.0, 0.5], n_channels=3)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 3\)"):
        g.update(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="2-D"):
        g.fit(np.zeros(9))


# --------------------------------------------------------------------------
# The host binding and the devices compute the same bits

DEVICE_SOS = _butterworth("bandpass", 4)
DEVICE_TAPS = ss.firwin(13, 1.0 / 3.0)
DEVICE_BLOCKS = [5, 1, 7, 11]  # 24 samples of 2 channels
DEVICE_Q = 3


def _device_stream() -> np.ndarray:
    return _signal(sum(DEVICE_BLOCKS), 2, seed=21) * np.float32(3.0)


DEVICE_BODY = """
namespace eg = emlearn_gen;
{tables}
static inline float table_float(const uint32_t* t, uint32_t i) {{
  const uint32_t bits = eg::table_read(t + i);
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}}

static void eg_run() {{
  // Coefficients are tables in flash, as a generator emits them.
  const eg::sos_filter sos = {{sos_table, {n_sections}u, 2u}};
  const eg::fir_filter fir = {{taps_table, {n_taps}u, 2u, {q}u}};
  if (eg::sos_validate(sos, {n_sos}u) != eg::status::ok || eg::fir_validate(fir, {n_taps}u) != eg::status::ok) {{
    put_text("invalid\\n");
    return;
  }}
  float sos_state[eg::sos_state_floats({n_sections}u, 2u)];
  float steady_state[eg::sos_state_floats({n_sections}u, 2u)];
  float history[eg::fir_history_floats({n_taps}u, 2u)];
  eg::fir_state fir_state = {{history, 0u, 0u}};
  eg::sos_reset(sos, sos_state);
  eg::fir_reset(fir, &fir_state);
  static const uint32_t blocks[{n_blocks}] = {{{blocks}}};
  float x[2 * {max_block}];
  float y[2 * {max_block}];
  uint32_t start = 0u;
  for (uint32_t b = 0; b < {n_blocks}u; ++b) {{
    const uint32_t n = blocks[b];
    for (uint32_t i = 0; i < 2u * n; ++i) x[i] = table_float(stream_bits, 2u * start + i);
    if (b == 0u) eg::sos_steady_state(sos, zi_table, x, steady_state);
    eg::sos_filter_block(sos, sos_state, x, y, n);
    put_floats("sos", y, 2u * n);
    eg::sos_filter_block(sos, steady_state, x, y, n);
    put_floats("steady", y, 2u * n);
    uint32_t kept = 0u;
    eg::fir_filter_block(fir, &fir_state, x, n, y, &kept);
    put_floats("fir", y, 2u * kept);
    start += n;
  }}
  put_floats("sos_state", sos_state, eg::sos_state_floats({n_sections}u, 2u));
  put_floats("fir_history", history, eg::fir_history_floats({n_taps}u, 2u));
}}
"""


def _device_body() -> str:
    zi = ss.sosfilt_zi(DEVICE_SOS).astype(np.float32)
    tables = (
        signal_programs.float_table("sos_table", DEVICE_SOS)
        + signal_programs.float_table("zi_table", zi)
        + signal_programs.float_table("taps_table", DEVICE_TAPS)
        + signal_programs.table("stream_bits", _device_stream())
    )
    return DEVICE_BODY.format(
        tables=tables, n_sos=DEVICE_SOS.size, n_zi=zi.size, n_taps=len(DEVICE_TAPS), n_sections=len(DEVICE_SOS),
        q=DEVICE_Q, n_blocks=len(DEVICE_BLOCKS), blocks=", ".join(f"{b}u" for b in DEVICE_BLOCKS),
        max_block=max(DEVICE_BLOCKS),
    )


def _binding_lines() -> Dict[str, List[int]]:
    """What the device program must print, from the Python binding: the
    lines of every block concatenated per name."""
    x = _device_stream()
    sos, steady = SOSFilter(DEVICE_SOS, n_channels=2), SOSFilter(DEVICE_SOS, n_channels=2, init="steady")
    fir = FIRFilter(DEVICE_TAPS, decimation=DEVICE_Q, n_channels=2)
    out = {"sos": [], "steady": [], "fir": []}  # type: Dict[str, List[int]]
    start = 0
    for n in DEVICE_BLOCKS:
        out["sos"] += signal_programs.float_bits(sos.update(x[start : start + n]))
        out["steady"] += signal_programs.float_bits(steady.update(x[start : start + n]))
        out["fir"] += signal_programs.float_bits(fir.update(x[start : start + n]))
        start += n
    out["sos_state"] = signal_programs.float_bits(sos.state)
    out["fir_history"] = signal_programs.float_bits(fir.state[0])
    return out


@pytest.mark.parametrize("device", [CORTEX_M0, CORTEX_M4F, AVR], ids=lambda d: d.name)
def test_devices_filter_as_the_host_binding(device: DeviceTarget, tmp_path: Path) -> None:
    printed = signal_programs.run_on_device(device, ["filters.hpp"], _device_body(), tmp_path)
    want = _binding_lines()
    assert set(printed) == set(want)
    for name in want:
        assert printed[name] == want[name], f"{device.name}: {name} differs from the host binding"
