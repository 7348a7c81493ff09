"""Small C++ programs that run a signal kernel on a short stream and print
the bits of what it computes, built and run on the host and on the emulated
devices (Cortex-M0, Cortex-M4F under qemu, AVR under simavr), so that a test
compares them with the Python binding's results.

A program body defines ``static void eg_run()``, which prints lines
``<name> <hex words...>`` with put_line(); inputs are tables made by
table() (program memory on AVR, read through table_copy as model tables).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from emlearn_gen.testing import ToolchainMissing
from emlearn_gen.testing.targets import CortexMTarget, DeviceTarget

from firmware_support import missing, run

REPO = Path(__file__).resolve().parent.parent
INCLUDE_DIR = REPO / "runtime" / "include"
TIMEOUT_S = 300.0

PRINTING = r"""
static inline void put_hex(uint32_t bits) {
  for (int shift = 28; shift >= 0; shift -= 4) {
    eg_putc("0123456789abcdef"[(bits >> shift) & 15u]);
  }
}

static inline void put_text(const char* s) {
  while (*s) {
    eg_putc(*s++);
  }
}

// One line: the name, then each float's bits.
static inline void put_floats(const char* name, const float* values, uint32_t n) {
  put_text(name);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t bits;
    memcpy(&bits, &values[i], sizeof bits);
    eg_putc(' ');
    put_hex(bits);
  }
  eg_putc('\n');
}

// One line: the name, then each integer as 32 bits.
static inline void put_ints(const char* name, const int32_t* values, uint32_t n) {
  put_text(name);
  for (uint32_t i = 0; i < n; ++i) {
    eg_putc(' ');
    put_hex(static_cast<uint32_t>(values[i]));
  }
  eg_putc('\n');
}
"""


def table(name: str, values: np.ndarray) -> str:
    """A float32 array as a uint32 table of its bits, in program memory."""
    bits = np.ascontiguousarray(values, dtype=np.float32).reshape(-1).view(np.uint32)
    body = ",\n".join("    " + ", ".join(f"0x{int(b):08x}u" for b in bits[i : i + 6]) for i in range(0, bits.size, 6))
    return f"static const uint32_t {name}[{bits.size}] EMLEARN_GEN_TABLE_ATTR = {{\n{body}\n}};\n"


def float_table(name: str, values: np.ndarray) -> str:
    """A float32 array as a float table in program memory, the way a
    generator emits coefficients (9 significant digits: the exact float)."""
    flat = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    words = [f"{float(v):.9e}f" for v in flat]
    body = ",\n".join("    " + ", ".join(words[i : i + 4]) for i in range(0, len(words), 4))
    return f"static const float {name}[{flat.size}] EMLEARN_GEN_TABLE_ATTR = {{\n{body}\n}};\n"


def program(headers: List[str], body: str, prelude: str, exit_code: str) -> str:
    begin = "  eg_begin();\n" if "eg_begin()" in prelude else ""
    includes = "".join(f'#include "emlearn_gen/{h}"\n' for h in headers)
    return (
        "#include <stdint.h>\n#include <string.h>\n"
        + includes
        + prelude
        + PRINTING
        + body
        + f"\nint main() {{\n{begin}  eg_run();\n  put_text(\"END\\n\");\n  {exit_code}\n}}\n"
    )


def parse(text: str) -> Dict[str, List[int]]:
    """{name: words} of a program's output, which must end with END."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines and lines[-1] == "END", f"the program did not finish:\n{text[-2000:]}"
    out: Dict[str, List[int]] = {}
    for line in lines[:-1]:
        name, *words = line.split()
        out.setdefault(name, []).extend(int(w, 16) for w in words)  # lines of a name, concatenated
    return out


def run_on_device(target: DeviceTarget, headers: List[str], body: str, folder: Path) -> Dict[str, List[int]]:
    """Builds the program for an emulated device, with its flags less
    -ffp-contract=off (firmware built with the compiler's default
    contraction must compute the same bits), runs it and parses its output."""
    try:
        target.check_tools()
    except ToolchainMissing as exc:
        missing(f"{target.name}: {exc}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.cpp").write_text(program(headers, body, target.prelude(), target.exit_code()))
    return parse(run_firmware(target, folder))


def run_firmware(target: DeviceTarget, folder: Path, extra_flags: Sequence[str] = ()) -> str:
    """Builds folder/main.cpp as user firmware is built (the target's flags
    less -ffp-contract=off: the compiler's default contraction must compute
    the same bits), links it, runs it on the emulator and returns its output."""
    flags = [f for f in target.cxx_flags() if f != "-ffp-contract=off"]
    run([target.compiler, *flags, *extra_flags, f"-I{INCLUDE_DIR}", "-c", "main.cpp", "-o", "main.o"], folder,
        TIMEOUT_S)
    objects = [folder / "main.o"]
    if isinstance(target, CortexMTarget):
        objects.append(target.compile_startup(folder, TIMEOUT_S))
    elf = target.link(folder, objects, "image.elf", TIMEOUT_S)
    return target.run_image(elf, folder, TIMEOUT_S)


def float_bits(values: np.ndarray) -> List[int]:
    return [int(b) for b in np.ascontiguousarray(values, dtype=np.float32).reshape(-1).view(np.uint32)]


def int_bits(values: np.ndarray) -> List[int]:
    return [int(b) for b in np.asarray(values, dtype=np.int64).reshape(-1).astype(np.int32).view(np.uint32)]
