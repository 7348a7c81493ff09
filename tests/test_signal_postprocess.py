"""Post-processing objects (runtime/include/emlearn_gen/postprocess.hpp
through emlearn_gen.signal) against pure-numpy references written here:
labels and events exactly, the moving average and the exponential smoothing
bit-for-bit against a float32 simulation and within their stated bounds of
float64; batches of any size bit-identical to one input at a time; and the
host binding against the emulated devices (bit-identical)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

from emlearn_gen.signal import ExponentialSmoothing, Hysteresis, MajorityVote, MovingAverage, NOfM
from emlearn_gen.testing import AVR, CORTEX_M0, CORTEX_M4F
from emlearn_gen.testing.targets import DeviceTarget

import signal_programs

U = 2.0**-24  # unit roundoff of float32


def _probabilities(n: int, n_classes: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = rng.random((n, n_classes)) ** 3
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def _labels(n: int, n_classes: int, seed: int) -> np.ndarray:
    """Runs of labels with noise: votes have something to smooth, ties occur."""
    rng = np.random.default_rng(seed)
    runs = np.repeat(rng.integers(0, n_classes, n // 4 + 1), 4)[:n]
    noise = rng.random(n) < 0.3
    return np.where(noise, rng.integers(0, n_classes, n), runs).astype(np.int32)


def _in_batches(update, inputs: np.ndarray, sizes: List[int]) -> np.ndarray:
    outputs, start = [], 0
    for size in sizes:
        outputs.append(update(inputs[start : start + size]))
        start += size
    return np.concatenate(outputs)


def _random_sizes(n: int, seed: int) -> List[int]:
    rng = np.random.default_rng(seed)
    sizes: List[int] = []
    while sum(sizes) < n:
        sizes.append(int(min(rng.integers(0, 9), n - sum(sizes))))
    return sizes


# --------------------------------------------------------------------------
# References


def moving_average_float32(p: np.ndarray, window: int) -> np.ndarray:
    """The kernel's arithmetic in numpy float32: the sum oldest first, / k."""
    out = np.empty_like(p)
    for t in range(len(p)):
        rows = p[max(0, t - window + 1) : t + 1]
        total = rows[0].copy()
        for row in rows[1:]:
            total = total + row
        out[t] = total / np.float32(len(rows))
    return out


def moving_average_float64(p: np.ndarray, window: int) -> np.ndarray:
    return np.array([p[max(0, t - window + 1) : t + 1].astype(np.float64).mean(axis=0) for t in range(len(p))])


def smoothing_float32(x: np.ndarray, alpha: float) -> np.ndarray:
    a = np.float32(alpha)
    out = np.empty_like(x)
    v = x[0].copy()
    out[0] = v
    for t in range(1, len(x)):
        v = v + a * (x[t] - v)
        out[t] = v
    return out


def smoothing_float64(x: np.ndarray, alpha: float) -> np.ndarray:
    out = np.empty(x.shape)
    v = x[0].astype(np.float64)
    out[0] = v
    for t in range(1, len(x)):
        v = v + alpha * (x[t] - v)
        out[t] = v
    return out


def majority_vote_reference(labels: np.ndarray, window: int, ties: str = "recent") -> np.ndarray:
    """The most frequent label of the window; ties to the most recently
    seen (or, to show that ties occur, to the smallest label)."""
    out = []
    for t in range(len(labels)):
        held = labels[max(0, t - window + 1) : t + 1]
        values, counts = np.unique(held, return_counts=True)
        tied = values[counts == counts.max()]
        last_seen = [np.flatnonzero(held == v).max() for v in tied]
        out.append(tied[int(np.argmax(last_seen))] if ties == "recent" else tied.min())
    return np.array(out, dtype=np.int32)


def hysteresis_reference(scores: np.ndarray, low: float, high: float) -> np.ndarray:
    on, out = False, []
    for s in scores:
        on = (s >= low) if on else (s > high)
        out.append(on)
    return np.array(out)


def n_of_m_reference(positive: np.ndarray, n: int, m: int) -> np.ndarray:
    counts = np.convolve(positive.astype(np.int64), np.ones(m, dtype=np.int64))[: len(positive)]
    return counts >= n


# --------------------------------------------------------------------------
# Against the references


@pytest.mark.parametrize("window,n_classes", [(1, 3), (4, 3), (7, 5), (32, 2)])
def test_moving_average(window: int, n_classes: int) -> None:
    p = _probabilities(80, n_classes, seed=window)
    got = MovingAverage(window, n_classes).update(p)
    assert np.array_equal(got.view(np.uint32), moving_average_float32(p, window).view(np.uint32))
    k = np.minimum(np.arange(1, len(p) + 1), window)[:, None]
    gamma = (k + 1) * U / (1 - (k + 1) * U)
    mean_abs = moving_average_float64(np.abs(p), window)
    assert np.all(np.abs(got - moving_average_float64(p, window)) <= gamma * mean_abs)


@pytest.mark.parametrize("alpha", [1.0, 0.3, 0.05])
def test_exponential_smoothing(alpha: float) -> None:
    x = (_probabilities(200, 4, seed=3) * np.float32(10.0) - np.float32(2.0)).astype(np.float32)
    got = ExponentialSmoothing(alpha, n_classes=4).update(x)
    assert np.array_equal(got.view(np.uint32), smoothing_float32(x, alpha).view(np.uint32))
    bound = (6.0 + 1.0 / alpha) * U * np.abs(x).max()
    assert np.abs(got - smoothing_float64(x, alpha)).max() <= bound


@pytest.mark.parametrize("window", [1, 2, 5, 8])
def test_majority_vote(window: int) -> None:
    labels = _labels(300, 4, seed=window)
    want = majority_vote_reference(labels, window)
    assert np.array_equal(MajorityVote(window).update(labels), want)
    # Ties happened and were decided by recency, not by the smaller label.
    assert window == 1 or not np.array_equal(want, majority_vote_reference(labels, window, ties="smallest"))


def test_majority_vote_follows_a_change_on_a_tie() -> None:
    vote = MajorityVote(4)
    assert [vote.update(label) for label in (2, 2, 0, 0, 0)] == [2, 2, 2, 0, 0]
    vote.reset()
    assert vote.update(np.array([7, -3])).tolist() == [7, -3]


def test_hysteresis() -> None:
    rng = np.random.default_rng(1)
    scores = (2.0 * np.sin(np.arange(500) / 15.0) + rng.normal(scale=0.5, size=500)).astype(np.float32)
    low, high = -0.5, 1.5
    got = Hysteresis(low, high).update(scores)
    want = hysteresis_reference(scores, np.float32(low), np.float32(high))
    assert np.array_equal(got, want) and want.any() and not want.all()
    # On the thresholds themselves nothing changes: strictly above, strictly below.
    h = Hysteresis(0.0, 1.0)
    assert h.update(np.float32([1.0, 1.5, 0.0, -0.25, 0.0])).tolist() == [False, True, True, False, False]


@pytest.mark.parametrize("n,m", [(1, 1), (2, 3), (3, 5), (5, 5)])
def test_n_of_m(n: int, m: int) -> None:
    positive = np.random.default_rng(m).random(300) < 0.45
    got = NOfM(n, m).update(positive)
    assert np.array_equal(got, n_of_m_reference(positive, n, m))
    assert NOfM(n, m).update(positive.astype(np.int64)).tolist() == got.tolist()


# --------------------------------------------------------------------------
# Streaming and memory


def test_batches_of_any_size_give_the_same_bits() -> None:
    p = _probabilities(120, 3, seed=8)
    labels = _labels(120, 3, seed=8)
    scores = p[:, 0] * np.float32(2.0)
    makers = [
        (lambda: MovingAverage(6, 3), p),
        (lambda: ExponentialSmoothing(0.2, 3), p),
        (lambda: MajorityVote(5), labels),
        (lambda: Hysteresis(0.4, 0.9), scores),
        (lambda: NOfM(2, 4), labels == 1),
    ]
    for make, inputs in makers:
        whole_object = make()
        whole = np.asarray(whole_object.update(inputs))
        one_by_one = np.array([make_one for make_one in _one_at_a_time(make(), inputs)])
        batched = np.asarray(_in_batches(make().update, inputs, _random_sizes(len(inputs), 2)))
        assert whole.tobytes() == one_by_one.astype(whole.dtype).tobytes() == batched.tobytes()
        # reset() forgets everything.
        whole_object.reset()
        assert np.asarray(whole_object.update(inputs)).tobytes() == whole.tobytes()


def _one_at_a_time(obj, inputs: np.ndarray) -> List:
    return [obj.update(x) for x in inputs]


def test_memory_each_object_asks_for() -> None:
    assert MovingAverage(10, 3).nbytes == 10 * 3 * 4
    assert ExponentialSmoothing(0.5, 6).nbytes == 6 * 4
    assert MajorityVote(9).nbytes == 9 * 4
    assert NOfM(3, 17).nbytes == 17
    assert Hysteresis(0.0, 1.0).nbytes == 0


@pytest.mark.parametrize(
    "make,error,message",
    [
        (lambda: MovingAverage(0, 3), ValueError, "window"),
        (lambda: MovingAverage(3, 2.0), TypeError, "n_classes must be an integer"),
        (lambda: ExponentialSmoothing(0.0), ValueError, "alpha"),
        (lambda: ExponentialSmoothing(1.5), ValueError, "alpha"),
        (lambda: ExponentialSmoothing(float("nan")), ValueError, "alpha"),
        (lambda: MajorityVote(10**6), ValueError, "window"),
        (lambda: Hysteresis(1.0, 0.0), ValueError, "low must not exceed high"),
        (lambda: Hysteresis(float("nan"), 1.0), ValueError, "finite"),
        (lambda: NOfM(4, 3), ValueError, "n must be an integer from 1 to 3"),
        (lambda: NOfM(0, 3), ValueError, "n must be"),
    ],
)
def test_bad_parameters_say_what_is_wrong(make, error, message: str) -> None:
    with pytest.raises(error, match=message):
        make()


def test_bad_inputs_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"shape \(3,\) or \(n, 3\)"):
        MovingAverage(2, 3).update([0.5, 0.5])
    with pytest.raises(ValueError, match="NaN"):
        ExponentialSmoothing(0.5, 2).update([0.5, np.nan])
    with pytest.raises(TypeError, match="integers"):
        MajorityVote(3).update(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="int32"):
        MajorityVote(3).update(np.array([2**40]))
    with pytest.raises(ValueError, match="NaN"):
        Hysteresis(0.0, 1.0).update([0.5, np.inf])
    with pytest.raises(ValueError, match="booleans or 0/1"):
        NOfM(1, 2).update([0, 2])


# --------------------------------------------------------------------------
# The host binding and the devices compute the same bits

N_DEVICE = 24
N_CLASSES = 3


def _device_inputs():
    p = _probabilities(N_DEVICE, N_CLASSES, seed=30)
    labels = _labels(N_DEVICE, N_CLASSES, seed=30)
    scores = (p[:, 0] * np.float32(3.0)).astype(np.float32)
    return p, labels, scores


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
  // Caller-owned memory of the sizes the objects ask for.
  float average_ring[eg::moving_average_bytes(5u, {k}u) / sizeof(float)];
  float smooth_value[eg::exponential_smoothing_bytes({k}u) / sizeof(float)];
  int32_t vote_ring[eg::majority_vote_bytes(4u) / sizeof(int32_t)];
  uint8_t event_ring[eg::n_of_m_bytes(5u)];
  eg::moving_average average;
  eg::exponential_smoothing smooth;
  eg::majority_vote vote;
  eg::hysteresis switch_;
  eg::n_of_m detector;
  if (eg::moving_average_init(&average, average_ring, sizeof average_ring, 5u, {k}u) != eg::status::ok ||
      eg::exponential_smoothing_init(&smooth, smooth_value, sizeof smooth_value, {k}u, 0.25f) != eg::status::ok ||
      eg::majority_vote_init(&vote, vote_ring, sizeof vote_ring, 4u) != eg::status::ok ||
      eg::hysteresis_init(&switch_, 0.5f, 1.25f) != eg::status::ok ||
      eg::n_of_m_init(&detector, event_ring, sizeof event_ring, 3u, 5u) != eg::status::ok) {{
    put_text("invalid\\n");
    return;
  }}
  for (uint32_t t = 0; t < {n}u; ++t) {{
    float p[{k}];
    float out[{k}];
    for (uint32_t c = 0; c < {k}u; ++c) p[c] = table_float(proba_bits, t * {k}u + c);
    eg::moving_average_update(&average, p, out);
    put_floats("average", out, {k}u);
    eg::exponential_smoothing_update(&smooth, p, out);
    put_floats("smooth", out, {k}u);
    const int32_t label = static_cast<int32_t>(eg::table_read(label_bits + t));
    int32_t results[3];
    results[0] = eg::majority_vote_update(&vote, label);
    results[1] = eg::hysteresis_update(&switch_, table_float(score_bits, t)) ? 1 : 0;
    results[2] = eg::n_of_m_update(&detector, label == 1) ? 1 : 0;
    put_ints("vote", results, 1u);
    put_ints("switch", results + 1, 1u);
    put_ints("event", results + 2, 1u);
  }}
}}
"""


def _device_body() -> str:
    p, labels, scores = _device_inputs()
    tables = (
        signal_programs.table("proba_bits", p)
        + signal_programs.table("score_bits", scores)
        + signal_programs.table("label_bits", labels.view(np.float32))
    )
    return DEVICE_BODY.format(tables=tables, n=N_DEVICE, k=N_CLASSES)


def _binding_lines() -> Dict[str, List[int]]:
    p, labels, scores = _device_inputs()
    return {
        "average": signal_programs.float_bits(MovingAverage(5, N_CLASSES).update(p)),
        "smooth": signal_programs.float_bits(ExponentialSmoothing(0.25, N_CLASSES).update(p)),
        "vote": signal_programs.int_bits(MajorityVote(4).update(labels)),
        "switch": signal_programs.int_bits(Hysteresis(0.5, 1.25).update(scores)),
        "event": signal_programs.int_bits(NOfM(3, 5).update(labels == 1)),
    }


@pytest.mark.parametrize("device", [CORTEX_M0, CORTEX_M4F, AVR], ids=lambda d: d.name)
def test_devices_post_process_as_the_host_binding(device: DeviceTarget, tmp_path: Path) -> None:
    printed = signal_programs.run_on_device(device, ["postprocess.hpp"], _device_body(), tmp_path)
    want = _binding_lines()
    assert set(printed) == set(want)
    for name in want:
        assert printed[name] == want[name], f"{device.name}: {name} differs from the host binding"
