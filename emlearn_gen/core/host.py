"""The host model: a family's kernel in emlearn_gen._runtime over the packed
tables, with the entry points of the model's description."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

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
            entry_points=[ep.host_kind() for ep in entry_points if ep.log_of is None] + list(host_only),
        )

    def run(self, name: str, X32: np.ndarray, n_jobs: int = 1) -> np.ndarray:
        """Raw results of entry point ``name`` on the rows of X32 (a
        C-contiguous float32 matrix): int32 (n,) or float32 (n, width).
        ``n_jobs`` threads share the rows; results do not depend on it."""
        if name in self._log_of:
            return _runtime.log_f(self._model.run(self._log_of[name], X32, n_jobs))
        return self._model.run(name, X32, n_jobs)

    def run_array(
        self, name: str, X: np.ndarray, allow_nan: bool, n_jobs: int = 1, labels: Optional[np.ndarray] = None
    ) -> Optional[np.ndarray]:
        """run() with the input checks in the same C++ call, for the common
        case: X a 2-D C-contiguous float32 or float64 ndarray of the model's
        width with at least one row, float64 rounded to nearest float32 as
        numpy rounds it. None when X is anything else or holds a value that
        check_X refuses (NaN unless ``allow_nan``, infinity): check_X then
        converts it or raises its error. With ``labels`` (1-D, C-contiguous,
        not of object dtype; int entry points only) the result is
        ``labels.take(indices)``."""
        if name in self._log_of:
            raw = self._model.run_array(self._log_of[name], X, allow_nan, n_jobs, None)
            return None if raw is None else _runtime.log_f(raw)
        return self._model.run_array(name, X, allow_nan, n_jobs, labels)
