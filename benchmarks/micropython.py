"""The MicroPython paths: size of each native module, RAM after import and
time per prediction on MicroPython's unix port, against CPython
scikit-learn predicting one row at a time.

Measured for emlearn-gen's default conversion (tool ``emlearn_gen``) of each
model: ``micropython_measure`` returns the row's ``mpy_*`` fields, or an
``mpy_note`` saying why there are none (no compiler, no MicroPython
sources, no ``micropython`` command, a model a module cannot hold). The
pure-Python module (emlearn_gen.micropython.pure), where it runs the
model, is timed by the same script: ``mpy_pure_us_per_pred``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

from .pyspeed import per_call

#: Rows predicted, one at a time, per timing pass on MicroPython.
MPY_ROWS = 50

#: Prints the heap taken by `import model` (gc.mem_free before and after),
#: then the best time per prediction in microseconds over REPEATS passes
#: over the rows of inputs.bin, one row per call.
_SCRIPT = """
import gc
import time
from array import array
gc.collect()
free = gc.mem_free()
import model
gc.collect()
print(free - gc.mem_free())
data = open('inputs.bin', 'rb').read()
n = model.n_features
rows = [array('f', data[4 * n * r:4 * n * (r + 1)]) for r in range(len(data) // (4 * n))]
predict = model.predict

def passes(k):
    for _ in range(k):
        for x in rows:
            predict(x)

passes(1)
k = 1
while True:
    t = time.ticks_us()
    passes(k)
    dt = time.ticks_diff(time.ticks_us(), t)
    if dt > 100000 or k >= 1 << 16:
        break
    k *= 4
best = dt
for _ in range(4):
    t = time.ticks_us()
    passes(k)
    best = min(best, time.ticks_diff(time.ticks_us(), t))
print(best / (k * len(rows)))
"""


def _sklearn_us_per_row(estimator: Any, X: np.ndarray, min_time: float) -> float:
    """CPython scikit-learn's predict on one row at a time (µs per row, best of 5)."""
    rows = [X[i : i + 1] for i in range(len(X))]

    def one_pass() -> None:
        for x in rows:
            estimator.predict(x)

    return per_call(one_pass, min_time) / len(rows) * 1e6


def micropython_measure(cm: Any, estimator: Any, X: np.ndarray, min_time: float) -> Dict[str, Any]:
    """The ``mpy_*`` fields of emlearn-gen's row of a model (see the module's doc)."""
    from emlearn_gen.micropython import native
    from emlearn_gen.micropython.sdk import SdkMissing
    from emlearn_gen.testing import RunFailed, ToolchainMissing
    from emlearn_gen.testing.micropython import run_micropython

    row: Dict[str, Any] = {}
    try:
        modules = {arch: native.build_model_module(cm, arch) for arch in native.NATIVE_ARCHS}
    except (native.ToolMissing, SdkMissing, native.NativeBuildFailed, ValueError) as exc:
        return {"mpy_note": f"n/a: {str(exc).splitlines()[0]}"}
    for arch, data in modules.items():
        row[f"mpy_bytes_{arch}"] = len(data)
    rows = X[:MPY_ROWS]
    inputs = np.ascontiguousarray(cm.device_inputs(cm.check_input(rows)), dtype="<f4").tobytes()
    try:
        out = run_micropython(_SCRIPT, files={"model.mpy": modules["x64"], "inputs.bin": inputs}).split()
    except (ToolchainMissing, RunFailed) as exc:
        row["mpy_note"] = f"n/a: {str(exc).splitlines()[0]}"
        return row
    row["mpy_import_ram_bytes"] = int(out[0])
    row["mpy_us_per_pred"] = float(out[1])
    row["mpy_sklearn_us_per_pred"] = _sklearn_us_per_row(estimator, np.asarray(rows), min_time)
    pure_module = _pure_module(cm)
    if pure_module is not None:
        pure_out = run_micropython(_SCRIPT, files={"model.mpy": pure_module, "inputs.bin": inputs}).split()
        row["mpy_pure_us_per_pred"] = float(pure_out[1])
    return row


def _pure_module(cm: Any) -> Optional[bytes]:
    """The pure-Python module's bytecode .mpy of ``cm``, or None where it
    does not run the model (a family it lacks)."""
    from emlearn_gen.micropython import pure

    try:
        pure.check_runs(cm)
    except ValueError:
        return None
    with tempfile.TemporaryDirectory() as folder:
        paths = pure.write_model_module(cm, folder)
        return next(Path(p) for p in paths if str(p).endswith(".mpy")).read_bytes()
