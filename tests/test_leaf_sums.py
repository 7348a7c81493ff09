"""f64::add_nonnegative, the exact addition of non-negative binary64 values
that forest leaf sums use where double is software, built as firmware is
built and run on the emulated devices: on the Cortex-M0 and Cortex-M4F it
must give the bits of the compiler's software double (libgcc), on AVR those
of the runtime's generic soft_double addition, and everywhere the bits the
host's hardware double gives. The pairs (tests/cpp/nonnegative_pairs.hpp)
cover every case of the addition; the GoogleTest suite checks millions of
them on the host (tests/cpp/test_float64.cpp).

Without a tool these tests skip, naming what is missing; with
EMLEARN_GEN_REQUIRE_DEVICE=1 they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, List, Tuple

import pytest

from emlearn_gen.testing import AVR, CORTEX_M0, CORTEX_M4F, HostTarget, ToolchainMissing
from emlearn_gen.testing.targets import CortexMTarget

REPO = Path(__file__).resolve().parent.parent
INCLUDE_DIR = REPO / "runtime" / "include"
PAIRS_HEADER = REPO / "tests" / "cpp" / "nonnegative_pairs.hpp"
REQUIRE_TOOLS = os.environ.get("EMLEARN_GEN_REQUIRE_DEVICE") == "1"
TIMEOUT_S = 300

#: Pairs per checkpoint line, and checkpoints per target: AVR's 64-bit
#: integer arithmetic is slow to emulate, so it runs the first few only.
PAIRS_PER_LINE = 5000
LINES = {"host": 40, "cortex-m0": 40, "cortex-m4f": 40, "avr": 4}

PROGRAM = """\
#include <stdint.h>
#include <string.h>
#include "emlearn_gen/float64.hpp"
#include "nonnegative_pairs.hpp"
{prelude}
namespace eg = emlearn_gen;

static void put_hex(uint64_t bits) {{
  for (int shift = 60; shift >= 0; shift -= 4) {{
    eg_putc("0123456789abcdef"[(bits >> shift) & 15u]);
  }}
}}

// Each line: the pairs so far where add_nonnegative differs from the
// generic addition on real64, and a checksum of add_nonnegative's bits.
int main() {{
{begin}  nonnegative_pairs::source pairs = {{2026113002u}};
  uint32_t differ = 0;
  uint64_t checksum = 0;
  for (uint32_t line = 0; line < {lines}u; ++line) {{
    for (uint32_t i = 0; i < {per_line}u; ++i) {{
      uint64_t a, b;
      pairs.pair(&a, &b);
      const uint64_t got = eg::f64::add_nonnegative(a, b);
      const uint64_t want = eg::f64::to_bits(
          eg::add(eg::f64::real_from_bits<eg::real64>(a), eg::f64::real_from_bits<eg::real64>(b)));
      differ += (got != want || !eg::f64::add_nonnegative_applies(a, b)) ? 1u : 0u;
      checksum = ((checksum << 7) | (checksum >> 57)) ^ got;
    }}
    put_hex(differ);
    eg_putc(' ');
    put_hex(checksum);
    eg_putc('\\n');
  }}
  eg_putc('E');
  eg_putc('N');
  eg_putc('D');
  eg_putc('\\n');
  {exit_code}
}}
"""


def _missing(message: str) -> None:
    if REQUIRE_TOOLS:
        pytest.fail(f"{message} (EMLEARN_GEN_REQUIRE_DEVICE=1)")
    pytest.skip(message)


def _write_program(folder: Path, target: Any, lines: int) -> None:
    folder.mkdir()
    prelude = target.prelude()
    begin = "  eg_begin();\n" if "eg_begin()" in prelude else ""
    source = PROGRAM.format(prelude=prelude, begin=begin, lines=lines, per_line=PAIRS_PER_LINE,
                            exit_code=target.exit_code())
    (folder / "main.cpp").write_text(source)
    shutil.copy(PAIRS_HEADER, folder / PAIRS_HEADER.name)


def _lines(text: str, lines: int) -> List[Tuple[int, str]]:
    """(pairs that differ, checksum) per line of the program's output."""
    rows = [line.split() for line in text.splitlines() if line.strip()]
    assert rows and rows[-1] == ["END"], f"the program did not finish:\n{text[-2000:]}"
    assert len(rows) == lines + 1, text[-2000:]
    return [(int(differ, 16), checksum) for differ, checksum in rows[:-1]]


@pytest.fixture(scope="module")
def host_lines(tmp_path_factory: pytest.TempPathFactory) -> List[Tuple[int, str]]:
    target = HostTarget("g++")
    try:
        target.check_tools()
    except ToolchainMissing as exc:
        _missing(f"host: {exc}")
    folder = tmp_path_factory.mktemp("leaf-sums") / "host"
    _write_program(folder, target, LINES["host"])
    out = target.build_and_run(folder, ["main.cpp"], [str(INCLUDE_DIR)], TIMEOUT_S)
    return _lines(out, LINES["host"])


def test_host_add_nonnegative_is_the_hardware_addition(host_lines: List[Tuple[int, str]]) -> None:
    assert host_lines[-1][0] == 0, f"{host_lines[-1][0]} of {LINES['host'] * PAIRS_PER_LINE} pairs differ"


@pytest.mark.parametrize("device", [CORTEX_M0, CORTEX_M4F, AVR], ids=lambda d: d.name)
def test_devices_add_as_their_software_double_and_the_host(device: Any, host_lines: List[Tuple[int, str]],
                                                           tmp_path: Path) -> None:
    try:
        device.check_tools()
    except ToolchainMissing as exc:
        _missing(f"{device.name}: {exc}")
    lines = LINES[device.name]
    folder = tmp_path / device.name
    _write_program(folder, device, lines)
    flags = device.cxx_flags()
    compiled = subprocess.run([device.compiler, *flags, f"-I{INCLUDE_DIR}", "-c", "main.cpp", "-o", "main.o"], cwd=folder,
                   capture_output=True, text=True, timeout=TIMEOUT_S)
    assert compiled.returncode == 0, compiled.stderr
    objects = [folder / "main.o"]
    if isinstance(device, CortexMTarget):
        objects.append(device.compile_startup(folder, TIMEOUT_S))
    elf = device.link(folder, objects, "image.elf", TIMEOUT_S)
    got = _lines(device.run_image(elf, folder, TIMEOUT_S), lines)
    assert got[-1][0] == 0, f"{device.name}: {got[-1][0]} of {lines * PAIRS_PER_LINE} pairs differ from its software double"
    assert got == host_lines[:lines], f"{device.name}: add_nonnegative's bits differ from the host's"
