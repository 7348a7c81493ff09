"""The host model: a family's kernel in emlearn_gen._runtime over the packed
tables, with the entry points of the model's description."""

from __future__ import annotations

from typing import Callable, Optional, Sequence, Tuple

import numpy as np

from .. import _runtime
from .entry_points import EntryPoint
from .family import Packed
from .layout import Layout


class HostModel:
    """Runs a model's entry points on the host through the C++ kernels.

    The runtime copies the tables and validates them once; the kernel and
    the Python description must agree on every table, field and entry point,
    or construction fails.
    """

    def __init__(
        self,
        layout: Layout,
        packed: Packed,
        entry_points: Sequence[EntryPoint],
        host_only: Sequence[Tuple[str, str, int]] = (),
    ) -> None:
        """``host_only`` adds kernel functions that no header has, as
        (name, "int" | "float" | "index", width), for tests and tools (the
        trees' "apply": the leaf reached in every tree)."""
        layout.check(packed.tables, packed.fields)
        # Logarithms of another entry point's values are taken here, with the
        # runtime's log_f: the family's kernel does not know them.
        self._log_of = {ep.name: ep.log_of for ep in entry_points if ep.log_of is not None}
        self._model = _runtime.HostModel(
            kernel=layout.kernel,
            tables=dict(packed.tables),
            fields={k: int(v) for k, v in packed.fields.items()},
            # A stream is its source entry point and a post-processing kernel,
            # which CModel runs (core/stream.py): the family's kernel has none.
            entry_points=[ep.host_kind() for ep in entry_points if ep.log_of is None and not ep.has_state]
            + list(host_only),
        )

    def run(self, name: str, X32: np.ndarray, n_jobs: int = 1) -> np.ndarray:
        """Raw results of entry point ``name`` on the rows of X32 (a
        C-contiguous float32 matrix): int32 (n,) or float32 (n, width).
        ``n_jobs`` threads share the rows; results do not depend on it."""
        if name in self._log_of:
            return _runtime.log_f(self._model.run(self._log_of[name], X32, n_jobs))
        return self._model.run(name, X32, n_jobs)

    def one_call(
        self, name: str, allow_nan: bool, labels: Optional[np.ndarray] = None, widen: bool = False, flat: bool = False
    ) -> Callable[[str, np.ndarray, int], Optional[np.ndarray]]:
        """Sets the result of entry point ``name`` for the common input, and
        returns the function that runs it, checks included, in one C++ call:
        ``run_array(name, X, n_jobs)``, X a 2-D C-contiguous float32 or
        float64 ndarray of the model's width with at least one row, float64
        rounded to nearest float32 as numpy rounds it. It returns None when
        X is anything else or holds a value that check_X refuses (NaN unless
        ``allow_nan``, infinity): check_X then converts it or raises its
        error. The result: with ``labels`` (1-D, C-contiguous, not of object
        dtype; int entry points only) ``labels.take(indices)``; else with
        ``widen``, the results as int64 (int entry points) or float64 (float
        entry points), shaped (n * width,) with ``flat``; else run()'s.
        Not for an entry point of ``log_of`` (its logarithms come from
        Python)."""
        if name in self._log_of:
            raise ValueError(f"{name}: the logarithms of another entry point take run()")
        self._model.one_call(name, allow_nan, labels, widen, flat)
        run_array: Callable[[str, np.ndarray, int], Optional[np.ndarray]] = self._model.run_array
        return run_array
