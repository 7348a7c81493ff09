"""Host latency and throughput through the Python API, against scikit-learn's
predict, measured in the same process and run."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Tuple

import numpy as np


def _calibrated(fn: Callable[[], Any], min_time: float) -> Tuple[int, float]:
    """(calls per repeat, seconds per call of the last try): the fewest calls
    that last >= min_time, after one call to warm up (first-call
    allocations, lazy imports)."""
    fn()
    number = 1
    while True:
        per = _seconds_per_call(fn, number)
        if per * number >= min_time or number >= 1 << 20:
            return number, per
        number *= 2 if per <= 0 else max(2, min(10, int(min_time / (per * number)) + 1))


def _seconds_per_call(fn: Callable[[], Any], number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def per_call(fn: Callable[[], Any], min_time: float, repeats: int = 5) -> float:
    """Best-of-``repeats`` seconds per call, each repeat lasting >= min_time."""
    number, best = _calibrated(fn, min_time)
    for _ in range(repeats - 1):
        best = min(best, _seconds_per_call(fn, number))
    return best


def per_call_pair(first: Callable[[], Any], second: Callable[[], Any], min_time: float,
                  repeats: int = 5) -> Tuple[float, float]:
    """per_call of two functions whose ratio is wanted, their repeats taken
    in turns (first, second, first, ...): a machine whose speed drifts
    during the measurement (other tenants, clock changes) slows both alike
    instead of whichever was timed in the slow stretch."""
    number_a, best_a = _calibrated(first, min_time)
    number_b, best_b = _calibrated(second, min_time)
    for _ in range(repeats - 1):
        best_a = min(best_a, _seconds_per_call(first, number_a))
        best_b = min(best_b, _seconds_per_call(second, number_b))
    return best_a, best_b


def api_speed(cmodel: Any, estimator: Any, x1: np.ndarray, batch: np.ndarray, min_time: float) -> Dict[str, float]:
    """Single-sample latency (on the one row ``x1``) and batch throughput (on
    the rows of ``batch``, models.throughput_rows) of CModel.predict and of
    the estimator's predict, single-threaded: n_jobs=1 where it exists, and
    CModel's default n_jobs (1); and, where the estimator takes n_jobs, the
    batch throughput ratio with n_jobs=-1 for both."""
    if hasattr(estimator, "n_jobs"):
        estimator.set_params(n_jobs=1)
    x1 = np.ascontiguousarray(x1, dtype=np.float32).reshape(1, -1)
    Xb = np.ascontiguousarray(batch, dtype=np.float32)
    batch_rows = Xb.shape[0]
    ours_1, sk_1 = per_call_pair(lambda: cmodel.predict(x1), lambda: estimator.predict(x1), min_time)
    ours_b, sk_b = per_call_pair(lambda: cmodel.predict(Xb), lambda: estimator.predict(Xb), min_time, repeats=3)
    threads = _threaded_ratio(cmodel, estimator, Xb, min_time)
    return {
        **threads,
        "api_single_us_ours": ours_1 * 1e6,
        "api_single_us_sklearn": sk_1 * 1e6,
        "api_single_speedup": sk_1 / ours_1,
        "api_batch_rows": float(batch_rows),
        "api_batch_distinct_rows": float(np.unique(Xb, axis=0).shape[0]),
        "api_batch_rows_per_s_ours": batch_rows / ours_b,
        "api_batch_rows_per_s_sklearn": batch_rows / sk_b,
        "api_batch_throughput_ratio": sk_b / ours_b,
    }


def _threaded_ratio(cmodel: Any, estimator: Any, Xb: np.ndarray, min_time: float) -> Dict[str, float]:
    """Batch throughput with every CPU, where the estimator takes n_jobs:
    CModel.n_jobs = -1 against the estimator's n_jobs=-1 (wall time, as
    threads share the work). Both are set back to one thread after."""
    if not hasattr(estimator, "n_jobs"):
        return {}
    try:
        estimator.set_params(n_jobs=-1)
        cmodel.n_jobs = -1
        ours, sk = per_call_pair(lambda: cmodel.predict(Xb), lambda: estimator.predict(Xb), min_time, repeats=3)
    finally:
        estimator.set_params(n_jobs=1)
        cmodel.n_jobs = 1
    return {"api_batch_threads_ratio": sk / ours}
