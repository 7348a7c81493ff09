"""Host latency and throughput through the Python API, against scikit-learn's
predict, measured in the same process and run."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict

import numpy as np


def _per_call(fn: Callable[[], Any], min_time: float, repeats: int = 5) -> float:
    """Best-of-``repeats`` seconds per call, each repeat lasting >= min_time."""
    fn()  # warm up (first-call allocations, lazy imports)
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time or number >= 1 << 20:
            break
        number *= 2 if elapsed <= 0 else max(2, min(10, int(min_time / elapsed) + 1))
    best = elapsed / number
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def api_speed(cmodel: Any, estimator: Any, X: np.ndarray, batch_rows: int, min_time: float,
              tile: bool = True) -> Dict[str, float]:
    """Single-sample latency and batch throughput of CModel.predict and of the
    estimator's predict (single-threaded: n_jobs=1 where it exists).

    The batch is ``batch_rows`` rows tiled from X, or with ``tile=False`` the
    distinct rows of X only (no row repeats, so nothing is learnt from the
    first copy of a row; the batch is then smaller)."""
    if hasattr(estimator, "n_jobs"):
        estimator.set_params(n_jobs=1)
    X = np.ascontiguousarray(X, dtype=np.float32)
    x1 = X[:1]
    if tile:
        reps = max(1, -(-batch_rows // X.shape[0]))
        Xb = np.ascontiguousarray(np.tile(X, (reps, 1))[:batch_rows])
    else:
        Xb = X
        batch_rows = X.shape[0]
    ours_1 = _per_call(lambda: cmodel.predict(x1), min_time)
    sk_1 = _per_call(lambda: estimator.predict(x1), min_time)
    ours_b = _per_call(lambda: cmodel.predict(Xb), min_time, repeats=3)
    sk_b = _per_call(lambda: estimator.predict(Xb), min_time, repeats=3)
    return {
        "api_single_us_ours": ours_1 * 1e6,
        "api_single_us_sklearn": sk_1 * 1e6,
        "api_single_speedup": sk_1 / ours_1,
        "api_batch_rows": float(batch_rows),
        "api_batch_rows_per_s_ours": batch_rows / ours_b,
        "api_batch_rows_per_s_sklearn": batch_rows / sk_b,
        "api_batch_throughput_ratio": sk_b / ours_b,
    }
