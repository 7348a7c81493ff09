"""Instructions per prediction on the emulated Cortex-M0 and Cortex-M4F.

The model object that the footprint build compiled (``-Os``, the device's
CPU flags) is linked with a driver that holds the first test rows in flash
and calls the prediction entry point once per row, and with the start-up
code of emlearn-gen's device tests (``emlearn_gen/testing/support``). qemu
runs it one instruction per translation block with every block's execution
logged (``-singlestep -d exec,nochain``, streamed from qemu's standard
error), so the log has one line per
executed instruction with its address. Counted: the lines from the entry of
``bench_predict`` (``bench_outputs`` for tools without a label) until
control is back in ``main``, i.e. the entry point and everything it calls
(the model, the runtime, soft-float routines), as callgrind counts on the
host. qemu runs the instructions; cycles are not modelled. The tracing and
counting are emlearn_gen.testing.instructions' (count_calls), which
``emlearn_gen.testing.count_instructions`` offers users for their models.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from .native import COMMON_DEVICE_FLAGS, NICE, Device, ToolFailed, _defines, run
from .tools import Generated

#: Devices that qemu emulates, with the machine and the linker script of
#: emlearn-gen's device tests.
MACHINES: Dict[str, Tuple[str, str]] = {
    "m0": ("microbit", "microbit.ld"),
    "m4f": ("mps2-an386", "mps2_an386.ld"),
}

COUNT_DRIVER = r"""
// Calls the prediction entry point once per row of BENCH_ROWS rows held in
// flash; the instructions of each call are counted from qemu's trace.
#include <stdint.h>

typedef BENCH_IN_T in_t;
extern "C" int32_t bench_predict(const void* x);
extern "C" void bench_outputs(const void* x, float* out);

#include "count_rows.h"  // static const in_t bench_rows[BENCH_ROWS][BENCH_N_FEATURES]

volatile float bench_sink;

int main() {
  float out[BENCH_N_OUT];
  for (int r = 0; r < BENCH_ROWS; ++r) {
#if BENCH_HAS_PREDICT
    bench_sink = static_cast<float>(bench_predict(bench_rows[r]));
#else
    bench_outputs(bench_rows[r], out);
    bench_sink = out[0];
#endif
  }
  (void)out;
  return 0;
}
"""


def available(dev: Device) -> bool:
    return dev.key in MACHINES and shutil.which("qemu-system-arm") is not None


def _support_dir() -> Path:
    from emlearn_gen.testing.targets import SUPPORT_DIR

    return Path(SUPPORT_DIR)


def _literal(value: float, suffix: str) -> str:
    """A C literal of a float32 value; NaN (a missing value) as GCC's builtin."""
    if np.isnan(value):
        return f'__builtin_nan{suffix}("")'
    return repr(float(value)) + suffix


def rows_header(X: np.ndarray, in_type: str) -> str:
    """The rows as a C array in the tool's input type, converted as the host
    driver converts them (float32 -> in_type by a C cast)."""
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    if in_type == "int16_t":
        cells = [[str(int(v)) for v in row] for row in np.trunc(X32).astype(np.int64)]
    elif in_type == "double":
        cells = [[_literal(v, "") for v in row] for row in X32]
    else:
        cells = [[_literal(v, "f") for v in row] for row in X32]
    body = ",\n".join("  {" + ", ".join(row) + "}" for row in cells)
    return (f"#define BENCH_ROWS {X32.shape[0]}\n"
            f"static const in_t bench_rows[BENCH_ROWS][BENCH_N_FEATURES] = {{\n{body}\n}};\n")


def _count(dev: Device, elf: Path, fn: str, folder: Path, timeout: float) -> List[int]:
    """Instructions of each call of ``fn`` from ``main`` in ``elf``, by the
    mechanism of emlearn_gen.testing.instructions (qemu's trace)."""
    from emlearn_gen.testing import DEVICE_TARGETS, BuildFailed, ToolchainMissing
    from emlearn_gen.testing.instructions import count_calls

    target = DEVICE_TARGETS["cortex-" + dev.key]
    try:
        counts, _ = count_calls(target, elf, [fn], folder, timeout, command_prefix=NICE)
    except (BuildFailed, ToolchainMissing) as exc:
        raise ToolFailed(f"{dev.label} instructions: {str(exc).splitlines()[0]}") from exc
    return counts[fn]


def instructions(dev: Device, folder: Path, gen: Generated, X: np.ndarray, timeout: float) -> float:
    """Instructions per prediction on ``dev`` over the rows of X; the model
    object ``model_<dev>_model.o`` of the footprint build must exist."""
    _, script = MACHINES[dev.key]
    support = _support_dir()
    model_obj = folder / f"model_{dev.key}_model.o"
    if not model_obj.exists():
        raise ToolFailed(f"{dev.label} instructions: no model object (footprint build missing)")
    (folder / "count_rows.h").write_text(rows_header(X, gen.in_type), encoding="utf-8")
    (folder / f"count_driver_{dev.key}.cpp").write_text(COUNT_DRIVER, encoding="utf-8")
    base = [*dev.flags, *COMMON_DEVICE_FLAGS]
    drv, start = f"count_{dev.key}_driver.o", f"count_{dev.key}_startup.o"
    run([dev.cxx, *base, "-std=c++11", "-fno-exceptions", "-fno-rtti", *_defines(gen, X.shape[1]),
         f"-I{folder}", "-c", f"count_driver_{dev.key}.cpp", "-o", drv], folder, timeout, f"{dev.label} count driver")
    run([dev.cc, *base, "-std=c11", "-c", str(support / "cortex_m_startup.c"), "-o", start],
        folder, timeout, f"{dev.label} start-up")
    elf = folder / f"count_{dev.key}.elf"
    run([dev.cxx, *base, "--specs=rdimon.specs", "-nostartfiles", f"-L{support}", f"-T{script}",
         "-Wl,--gc-sections", start, drv, model_obj.name, "-lm", "-o", elf.name],
        folder, timeout, f"{dev.label} count link")
    fn = "bench_predict" if gen.has_predict else "bench_outputs"
    calls = _count(dev, folder / elf.name, fn, folder, timeout)
    if len(calls) != X.shape[0]:
        raise ToolFailed(f"{dev.label} instructions: traced {len(calls)} calls of {fn}, expected {X.shape[0]}")
    return sum(calls) / len(calls)
