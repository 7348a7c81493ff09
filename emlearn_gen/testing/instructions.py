"""Instructions executed by a function on an emulated Cortex-M, counted from
qemu's execution trace.

qemu-system-arm runs the image one instruction per translation block with
every block's execution logged (``-singlestep -d exec,nochain``), so its
standard error carries one line per executed instruction with its address.
A call is counted from the first instruction of the function until control
is back in the caller: the function and everything it calls (the runtime,
soft-float routines, the C library), as callgrind's ``--toggle-collect``
counts on the host. qemu executes the instructions; it does not model cycles,
pipeline stalls or flash wait states, so the counts are instructions, not
time.

Two layers:

* :func:`count_calls` runs any image whose ``main`` calls the functions to be
  counted (by symbol name) and returns the instructions of each call; the
  benchmark (``benchmarks/devcount.py``) and the signal-kernel benchmark
  use it with their own drivers.
* :func:`count_instructions` counts an entry point of a converted model on
  each row of X: the public entry point, ``emlearn_gen.testing.count_instructions``.
"""

from __future__ import annotations

import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..core.entry_points import INDICATOR, EntryPoint
from .build import BuildCache
from .compare import device_tolerance
from .harness import _out_buffers, _print_helpers, _put_out, parse_output
from .runner import build_device_image
from .targets import DEVICE_TARGETS, CortexMTarget, RunFailed, _absolute, require_tools, run_command

#: Name of the counted wrapper and of its empty twin in the counting program.
CALL_SYMBOL = "eg_count_call"
EMPTY_SYMBOL = "eg_count_empty"

_NM = re.compile(r"^([0-9a-fA-F]+)\s+(?:([0-9a-fA-F]+)\s+)?\w\s+(\S+)$")
_TRACE = re.compile(rb"^Trace \d+: \S+ \[[0-9a-fA-F]+/([0-9a-fA-F]+)/")


def elf_symbols(elf: Path, timeout: float = 60.0) -> Dict[str, Tuple[int, int]]:
    """{name: (address, size)} of an ARM ELF's sized symbols, the Thumb bit
    cleared (what the trace shows as the program counter)."""
    require_tools({"arm-none-eabi-nm": "binutils-arm-none-eabi"})
    elf = _absolute(elf)
    out = run_command(["arm-none-eabi-nm", "-S", str(elf)], elf.parent, timeout, "arm-none-eabi-nm")
    found: Dict[str, Tuple[int, int]] = {}
    for line in out.splitlines():
        m = _NM.match(line.strip())
        if m and m.group(2):
            found[m.group(3)] = (int(m.group(1), 16) & ~1, int(m.group(2), 16))
    return found


def count_trace(lines: Iterable[bytes], entries: Mapping[int, str], caller: Tuple[int, int]) -> Dict[str, List[int]]:
    """{name: [instructions of each call]}: for each arrival at one of the
    ``entries`` addresses (address -> name), the traced instructions from
    there until the first one back inside ``caller`` (start, end), the range
    of the function that makes the calls."""
    lo, hi = caller
    counts: Dict[str, List[int]] = {name: [] for name in entries.values()}
    current: Optional[List[int]] = None
    for line in lines:
        m = _TRACE.match(line)
        if m is None:
            continue
        pc = int(m.group(1), 16)
        if current is None:
            name = entries.get(pc)
            if name is None:
                continue
            counts[name].append(0)
            current = counts[name]
        elif lo <= pc < hi:
            current = None
            continue
        current[-1] += 1
    return counts


def trace_command(target: CortexMTarget, elf: Path) -> List[str]:
    """The qemu command that runs ``elf`` on ``target`` with one trace line
    per executed instruction on standard error."""
    return [
        "qemu-system-arm", "-M", target.machine, "-nographic", "-monitor", "none", "-serial", "none",
        "-semihosting-config", "enable=on,target=native", "-singlestep", "-d", "exec,nochain",
        "-kernel", str(_absolute(elf)),
    ]


def _drain(stream: IO[bytes], into: List[bytes]) -> None:
    into.append(stream.read())


def count_calls(
    target: CortexMTarget,
    elf: Path,
    functions: Sequence[str],
    rundir: Path,
    timeout: float = 600.0,
    caller: str = "main",
    command_prefix: Sequence[str] = (),
) -> Tuple[Dict[str, List[int]], str]:
    """Runs ``elf`` on ``target`` under qemu's trace and returns ({function:
    [instructions of each call]}, what the program printed). The functions
    (symbol names, C linkage or mangled) must be called from ``caller``
    directly. The trace is counted as it comes (one line per instruction:
    hundreds of MB for long programs), never stored. ``command_prefix`` goes
    before qemu's command (``nice``, say). RunFailed if qemu fails or runs
    longer than ``timeout`` seconds."""
    target.check_tools()
    symbols = elf_symbols(elf, timeout)
    missing = [name for name in [*functions, caller] if name not in symbols]
    if missing:
        raise RunFailed(f"{', '.join(missing)} not found in {elf}: the function was inlined, renamed or dropped")
    entries = {symbols[name][0]: name for name in functions}
    start, size = symbols[caller]
    cmd = [*command_prefix, *trace_command(target, elf)]
    printed: List[bytes] = []
    with subprocess.Popen(cmd, cwd=str(_absolute(rundir)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          bufsize=1 << 20) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        # The program's own output on another thread, so that neither pipe fills up.
        reader = threading.Thread(target=_drain, args=(proc.stdout, printed), daemon=True)
        reader.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            counts = count_trace(proc.stderr, entries, (start, start + size))
            code = proc.wait()
        finally:
            timer.cancel()
            reader.join(timeout=10.0)
    output = b"".join(printed).decode("utf-8", errors="replace")
    if code != 0:
        why = f"killed after {timeout:g} s" if code < 0 else f"exit {code}"
        raise RunFailed(f"the traced program failed on {target.name} ({why}): {' '.join(cmd)}\n{output[-2000:]}")
    return counts, output


# --------------------------------------------------------------------------
# A model's entry point, row by row


@dataclass(frozen=True)
class InstructionCount:
    """Instructions one entry point of a model executed on each row.

    ``per_row[i]`` counts the call on row i (one row is one sample, or one
    window for a model whose entry points take windows), from the
    call into the header's entry point until it returned, everything it
    calls included, less ``call_overhead``: what calling an empty function
    of the same signature costs in the same program (the call, the return,
    handing over the arguments). So ``per_row`` is what the model adds to a
    firmware's call. Counted on ``target`` (arm-none-eabi-g++ -Os, the
    device tests' flags) by qemu, which counts instructions, not cycles.
    """

    target: str
    entry: str
    per_row: np.ndarray  # int64, one count per row of X
    call_overhead: int

    @property
    def mean(self) -> float:
        """Mean instructions per row (per call)."""
        return float(np.mean(self.per_row))

    @property
    def max(self) -> int:
        return int(np.max(self.per_row))

    @property
    def min(self) -> int:
        return int(np.min(self.per_row))

    def __str__(self) -> str:
        return (f"{self.target}: {self.entry} takes {self.mean:,.0f} instructions per call on average "
                f"(min {self.min:,}, max {self.max:,} over {self.per_row.size} rows; an empty call "
                f"costs {self.call_overhead})")


def _wrappers(model_name: str, ep: EntryPoint) -> List[str]:
    """The counted wrapper around ``ep`` and its empty twin, never inlined,
    with C linkage so that their symbols are their names. The empty one
    hands its arguments to an empty asm statement, so its call stays."""
    call = ep.c_call(f"{model_name}::{ep.name}")
    if ep.returns_int:
        counted = f"return {call};"
        empty = '__asm__ volatile("" : : "r"(x) : "memory");\n  return 0;'
    else:
        counted = f"{call};"
        empty = '__asm__ volatile("" : : "r"(x), "r"(out) : "memory");'
    lines: List[str] = []
    for name, body in ((CALL_SYMBOL, counted), (EMPTY_SYMBOL, empty)):
        lines += [
            f'extern "C" __attribute__((noinline, used)) {ep.c_signature(name)};',
            f"{ep.c_signature(name)} {{",
            f"  {body}",
            "}",
        ]
    return lines


def counting_sources(model_name: str, header_name: str, ep: EntryPoint, n_features: int,
                     target: CortexMTarget) -> Dict[str, str]:
    """{file name: source} of the counting program: it reads rows from the
    input file (semihosting), calls the empty wrapper and the counted one on
    each and prints the result in the test harness's format (so it is
    checked against the host runtime)."""
    prelude = target.prelude()
    lines = [
        "// Counts the instructions of one entry point per row (qemu's trace).",
        "#include <stdint.h>",
        "#include <string.h>",
        f'#include "{header_name}"',
        "",
        prelude.strip(),
        _print_helpers([ep]),
        *_wrappers(model_name, ep),
        "",
        "int main() {",
        *(["  eg_begin();"] if "eg_begin()" in prelude else []),
        f'  static_assert({model_name}::n_features == {n_features}, "feature count");',
        f"  static float x[{n_features}];",
        *_out_buffers([ep], "  "),
        "  uint32_t row = 0;",
        "  if (!eg_input_open()) {",
        '    eg_puts("ERROR cannot open the input file\\n");',
        "  }",
        "  for (; eg_read_row(x, sizeof x); ++row) {",
    ]
    out = "out_int" if ep.output == INDICATOR else "out"
    if ep.returns_int:
        lines += [
            f"    (void){ep.c_call(EMPTY_SYMBOL)};",
            f"    const int32_t label = {ep.c_call(CALL_SYMBOL)};",
            "    eg_puts(\"0 \");",
            "    eg_put_int(label);",
        ]
    else:
        lines += [
            f"    {ep.c_call(EMPTY_SYMBOL, out=out)};",
            f"    {ep.c_call(CALL_SYMBOL, out=out)};",
            "    eg_putc('0');",
            f"    {_put_out(ep)}",
        ]
    lines += [
        "    eg_putc('\\n');",
        "  }",
        '  eg_puts("END ");',
        "  eg_put_int(static_cast<int32_t>(row));",
        "  eg_putc('\\n');",
        f"  {target.exit_code()}",
        "}",
        "",
    ]
    return {"main.cpp": "\n".join(lines)}


def _counting_target(target: Any) -> CortexMTarget:
    """The Cortex-M target of a name or target object, or a ValueError
    saying which targets instructions can be counted on."""
    tgt = DEVICE_TARGETS.get(target) if isinstance(target, str) else target
    if not isinstance(tgt, CortexMTarget):
        names = [name for name, t in DEVICE_TARGETS.items() if isinstance(t, CortexMTarget)]
        raise ValueError(
            f"instructions are counted on the Cortex-M targets qemu emulates ({', '.join(map(repr, names))}), "
            f"not on {getattr(target, 'name', target)!r}"
        )
    return tgt


def _entry_point(cm: Any, entry: Optional[str]) -> EntryPoint:
    names = [ep.name for ep in cm.entry_points]
    if entry is None:
        return cm.entry_points[0]
    for ep in cm.entry_points:
        if ep.name == entry:
            return ep
    raise ValueError(f"{cm.estimator_name} has no entry point {entry!r}; its entry points: {', '.join(names)}")


def _agrees(got: np.ndarray, want: np.ndarray, tolerance: float) -> bool:
    """The counted program's results against the host runtime's: bit for
    bit, or where the model's family states a bound for the target (see
    emlearn_gen.testing.compare), floats within it; labels are then not
    compared, as they may differ in the tie zone (assert_device_matches
    checks that zone)."""
    if got.dtype != np.float32:
        return tolerance > 0.0 or bool(np.array_equal(got, want))
    if tolerance == 0.0:
        return bool(np.array_equal(got.view(np.uint32), want.view(np.uint32)))
    with np.errstate(invalid="ignore"):
        close = np.abs(got.astype(np.float64) - want.astype(np.float64)) <= tolerance
    return bool(np.all(close | (np.isnan(got) & np.isnan(want)) | (got == want)))


def count_instructions(
    model: Any,
    X: Any,
    target: Any = "cortex-m4f",
    entry: Optional[str] = None,
    *,
    cache: Optional[BuildCache] = None,
    timeout: float = 600.0,
) -> InstructionCount:
    """Instructions the header's ``entry`` point (default: the model's first,
    ``predict`` for most models, ``transform`` for a transformer) executes on
    each row of X on an emulated Cortex-M ("cortex-m4f" or "cortex-m0"):
    see :class:`InstructionCount`. ``model`` is a CModel or a fitted
    estimator (converted with name "model").

    The counting program is built with the device tests' flags and its
    results are checked against the host runtime's as the device tests
    check them (an AssertionError if they differ), so the count is of the
    computation the header really does. qemu logs every instruction: expect about a second per million
    instructions counted. Raises ValueError for a target that is not a
    Cortex-M, an unknown entry point or no rows, ToolchainMissing when the
    ARM toolchain or qemu is missing."""
    from . import _as_cmodel

    cm = _as_cmodel(model)
    tgt = _counting_target(target)
    ep = _entry_point(cm, entry)
    if np.shape(X)[:1] == (0,):
        raise ValueError("X has no rows: give at least one row to count the instructions of")
    X32 = cm.check_input(X)
    tgt.check_tools()
    rows = cm.device_inputs(X32)
    header = f"{cm.name}.hpp"
    sources = counting_sources(cm.name, header, ep, rows.shape[1], tgt)
    own = BuildCache() if cache is None else None
    use = cache if cache is not None else own
    assert use is not None
    try:
        elf = build_device_image(tgt, header, cm.to_source(), sources, use, timeout)
        rundir = use.scratch(f"{tgt.name}-count")
        np.ascontiguousarray(rows, dtype="<f4").tofile(rundir / "inputs.bin")
        counts, output = count_calls(tgt, elf, [CALL_SYMBOL, EMPTY_SYMBOL], rundir, timeout)
    finally:
        if own is not None:
            own.close()
    got = parse_output(output, [ep], rows.shape[0])[ep.name]
    if not _agrees(got, cm.raw_outputs(ep.name, X32), device_tolerance(cm, tgt)):
        raise AssertionError(f"{tgt.name}: {ep.name} of the counting program differs from the host runtime")
    calls, empty = counts[CALL_SYMBOL], counts[EMPTY_SYMBOL]
    if len(calls) != rows.shape[0] or len(set(empty)) != 1:
        raise RunFailed(f"{tgt.name}: traced {len(calls)} calls of {ep.name} for {rows.shape[0]} rows "
                        f"(empty calls: {sorted(set(empty))})")
    overhead = empty[0]
    return InstructionCount(tgt.name, ep.name, np.asarray(calls, dtype=np.int64) - overhead, overhead)
