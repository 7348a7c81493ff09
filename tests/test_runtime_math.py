"""The float math of the runtime (runtime/include/emlearn_gen/math.hpp) as
compilers really build it:

* rounded() keeps a product out of a fused multiply-add where the compiler
  would otherwise contract it (arm-none-eabi-g++ on Cortex-M4F, g++ and
  clang++ on x86 with FMA), in the compiler's default floating-point mode;
* exp_f, sigmoid_f, log_f, sqrt_f and tanh_f return the same bits on the
  host and on the emulated devices (Cortex-M0 soft float, Cortex-M4F FPU, AVR with avr-libc's float),
  built the way user firmware is: without -ffp-contract=off;
* so do float64.hpp's binary64 multiply, divide, subtract, exp_r64, tanh_r64 and sigmoid_r64 on
  real64: the host's double, libgcc's software double on Cortex-M, and
  soft_double on AVR, whose double has 32 bits.

Their accuracy is checked by the GoogleTest suite (tests/cpp/test_math.cpp,
tests/cpp/test_float64.cpp).
Without a tool these tests skip, naming the Debian package; with
EMLEARN_GEN_REQUIRE_DEVICE=1 they fail instead.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Sequence

import numpy as np
import pytest

from emlearn_gen import _runtime
from emlearn_gen.testing import AVR, CORTEX_M0, CORTEX_M4F, HostTarget, ToolchainMissing
from emlearn_gen.testing.targets import CortexMTarget, DeviceTarget

REPO = Path(__file__).resolve().parent.parent
INCLUDE_DIR = REPO / "runtime" / "include"
REQUIRE_TOOLS = os.environ.get("EMLEARN_GEN_REQUIRE_DEVICE") == "1"
TIMEOUT_S = 120

ARM_PACKAGES = "gcc-arm-none-eabi libnewlib-arm-none-eabi"
M4F_HARD = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
M4F_SOFTFP = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=softfp", "-mfpu=fpv4-sp-d16"]


def _missing(message: str) -> None:
    """Skips, or fails when EMLEARN_GEN_REQUIRE_DEVICE=1 asks for every tool."""
    if REQUIRE_TOOLS:
        pytest.fail(f"{message} (EMLEARN_GEN_REQUIRE_DEVICE=1)")
    pytest.skip(message)


def _require_compiler(compiler: str, package: str) -> None:
    if shutil.which(compiler) is None:
        _missing(f"{compiler} not found: install the Debian package(s) {package}")


def _run(cmd: Sequence[str], cwd: Path) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )
    assert proc.returncode == 0, " ".join(str(c) for c in cmd) + "\n" + proc.stdout + proc.stderr
    return proc.stdout


# --------------------------------------------------------------------------
# rounded() against FMA contraction

CONTRACTION_SOURCE = """\
#include "emlearn_gen/math.hpp"
extern "C" float with_rounded(float a, float b, float c) { return emlearn_gen::rounded(a * b) + c; }
extern "C" float plain(float a, float b, float c) { return a * b + c; }
"""

# Fused multiply-add instructions: VFMA/VFMS/VFNMA/VFNMS on ARM,
# VFMADD/VFMSUB/VFNMADD/VFNMSUB (any operand order) on x86.
FUSED = re.compile(r"\bvfn?m(a|s|add|sub)\w*\b")


def _function_body(asm: str, name: str) -> str:
    """The instructions of `name` in compiler assembly output (ELF targets
    end every function with a .size directive)."""
    match = re.search(rf"^{name}:[^\n]*$(.*?)^\s*\.size\s+{name}\b", asm, flags=re.M | re.S)
    assert match, f"no function {name} in:\n{asm}"
    lines = [line.split("@")[0].split("#")[0].strip() for line in match.group(1).splitlines()]
    return "\n".join(line for line in lines if line and not line.startswith(".") and not line.endswith(":"))


def _assembly(compiler: str, flags: List[str], tmp_path: Path) -> Dict[str, str]:
    src = tmp_path / "contraction.cpp"
    src.write_text(CONTRACTION_SOURCE)
    # No -ffp-contract flag: the compiler's default, as in user firmware.
    asm = _run([compiler, "-std=c++11", "-O2", *flags, f"-I{INCLUDE_DIR}", "-S", "-o", "-", src], tmp_path)
    return {name: _function_body(asm, name) for name in ("with_rounded", "plain")}


CONTRACTION_TARGETS = {
    # name: (compiler, Debian package, flags, multiply, add, needs an x86 host)
    "cortex-m4f": ("arm-none-eabi-g++", ARM_PACKAGES, M4F_HARD, "vmul.f32", "vadd.f32", False),
    "cortex-m4f-softfp": ("arm-none-eabi-g++", ARM_PACKAGES, M4F_SOFTFP, "vmul.f32", "vadd.f32", False),
    "x86-haswell-g++": ("g++", "g++", ["-march=haswell"], "vmulss", "vaddss", True),
    "x86-haswell-clang++": ("clang++", "clang", ["-march=haswell"], "vmulss", "vaddss", True),
}


def _x86_host() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


@pytest.mark.parametrize("target", sorted(CONTRACTION_TARGETS))
def test_rounded_keeps_the_product_out_of_a_fused_multiply_add(target: str, tmp_path: Path) -> None:
    compiler, package, flags, multiply, add, needs_x86 = CONTRACTION_TARGETS[target]
    if needs_x86 and not _x86_host():
        pytest.skip(f"{target}: the host compiler targets {platform.machine()}, not x86")
    _require_compiler(compiler, package)
    body = _assembly(compiler, flags, tmp_path)
    # The hazard is real: by default the compiler fuses a * b + c ...
    assert FUSED.search(body["plain"]), f"{target}: a * b + c was not fused; nothing to prove:\n{body['plain']}"
    # ... and rounded() stops it: a rounded product, then a separate sum.
    guarded = body["with_rounded"]
    assert not FUSED.search(guarded), f"{target}: fused despite rounded():\n{guarded}"
    assert multiply in guarded and add in guarded, guarded
    assert guarded.index(multiply) < guarded.index(add), guarded


@pytest.mark.parametrize("target", ["cortex-m4f", "x86-haswell-g++", "x86-haswell-clang++"])
def test_rounded_costs_no_instruction_where_floats_live_in_fp_registers(target: str, tmp_path: Path) -> None:
    """The asm constraint names the register class the product is already
    in: no move to a core register and back between multiply and add."""
    compiler, package, flags, multiply, add, needs_x86 = CONTRACTION_TARGETS[target]
    if needs_x86 and not _x86_host():
        pytest.skip(f"{target}: the host compiler targets {platform.machine()}, not x86")
    _require_compiler(compiler, package)
    guarded = _assembly(compiler, flags, tmp_path)["with_rounded"]
    instructions = [line.split()[0] for line in guarded.splitlines()]
    assert instructions[:2] == [multiply, add], guarded
    assert not any("mov" in i for i in instructions), guarded


# --------------------------------------------------------------------------
# The same bits on every target

F32_MAX = float(np.finfo(np.float32).max)


def _f32(values: Sequence[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).astype(np.float32)


def _from_bits(bits: Sequence[int]) -> np.ndarray:
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


def _neighbours(x: np.ndarray, steps: int = 1) -> np.ndarray:
    """x and the `steps` floats on either side of each value."""
    out = [x]
    down = up = x
    for _ in range(steps):
        down = np.nextafter(down, np.float32(-np.inf))
        up = np.nextafter(up, np.float32(np.inf))
        out += [down, up]
    return np.concatenate(out)


def exp_inputs() -> np.ndarray:
    """About 200 inputs of exp_f: special values, the edges of every branch,
    the reduction's boundaries, subnormal results, and random values."""
    ln2 = np.log(2.0)
    special = _f32([0.0, -0.0, np.nan, np.inf, -np.inf, F32_MAX, -F32_MAX, 1.0, -1.0, 0.5, -0.5])
    special = np.concatenate([special, _from_bits([0x00000001, 0x80000001, 0x00800000, 0x80800000])])
    edges = _neighbours(
        _f32(
            [
                2.0**-25,  # below: e^x rounds to 1
                -(2.0**-25),
                np.log(F32_MAX),  # the largest finite result
                np.log(2.0**-126),  # the smallest normal result
                np.log(2.0**-149),  # the smallest subnormal result
                -150 * ln2,  # below: 0
                -104.0,  # the underflow cut-off
            ]
        ),
        steps=2,
    )
    multiples = _neighbours(_f32([k * ln2 for k in (-149, -127, -126, -125, -1, 1, 2, 64, 127, 128)]))
    halfway = _f32([(k + 0.5) * ln2 for k in (-140, -100, -3, -1, 0, 2, 50, 126, 127)])
    subnormal_results = _f32(np.linspace(-103.9, -87.4, 20))
    rng = np.random.default_rng(20240601)
    random = np.concatenate(
        [_f32(rng.uniform(-110.0, 90.0, 60)), _f32(rng.uniform(-2.0, 2.0, 30)), _f32(rng.normal(0.0, 1e-4, 10))]
    )
    return np.concatenate([special, edges, multiples, halfway, subnormal_results, random]).astype(np.float32)


def more_inputs() -> np.ndarray:
    """About 150 inputs for log_f, sqrt_f and tanh_f: subnormals of every
    normalisation shift, the neighbours of 1 and of log's reduction edges,
    exact squares, tanh's branch limits, and random positive values over the
    whole exponent range."""
    subnormals = _from_bits([0x00000002, 0x00000003, 0x00000100, 0x00012345, 0x007FFFFF, 0x00400000])
    edges = _neighbours(
        _f32([1.0, 2.0, 4.0, np.sqrt(0.5), np.sqrt(2.0), 2.0 * np.sqrt(2.0), 0.625, 2.0**-12, 9.03, 9.0109]),
        steps=2,
    )
    squares = _f32([9.0, 0.0625, 1e-20, 6.25e36, 2.0**-148])
    rng = np.random.default_rng(20261129)
    random = np.concatenate(
        [
            _f32(np.exp2(rng.uniform(-149.0, 127.0, 40))),
            _f32(rng.uniform(0.5, 2.0, 20)),
            _f32(rng.uniform(-12.0, 12.0, 30)),
        ]
    )
    return np.concatenate([subnormals, edges, squares, random]).astype(np.float32)


def math_inputs() -> np.ndarray:
    return np.concatenate([exp_inputs(), more_inputs()])


# The functions each program line prints, in order.
FUNCTIONS = ("exp_f", "sigmoid_f", "log_f", "sqrt_f", "tanh_f")


def bits_program(prelude: str, exit_code: str, inputs: np.ndarray) -> str:
    """A program printing the bits of FUNCTIONS of each input as hex, one
    line per input, then END. The inputs live in program memory on
    AVR, read through table_read like model tables."""
    table = ",\n".join(
        "    " + ", ".join(f"0x{b:08x}u" for b in chunk)
        for chunk in np.array_split(inputs.view(np.uint32), max(1, len(inputs) // 6))
    )
    begin = "  eg_begin();\n" if "eg_begin()" in prelude else ""
    return (
        textwrap.dedent(
            """\
            #include <stdint.h>
            #include <string.h>
            #include "emlearn_gen/math.hpp"
            """
        )
        + prelude
        + textwrap.dedent(
            f"""
            static const uint32_t inputs[{len(inputs)}] EMLEARN_GEN_TABLE_ATTR = {{
            {table}
            }};

            static void put_hex(float value) {{
              uint32_t bits;
              memcpy(&bits, &value, sizeof bits);
              for (int shift = 28; shift >= 0; shift -= 4) {{
                eg_putc("0123456789abcdef"[(bits >> shift) & 15u]);
              }}
            }}

            int main() {{
            {begin}  for (uint16_t i = 0; i < {len(inputs)}u; ++i) {{
                float x;
                const uint32_t bits = emlearn_gen::table_read(inputs + i);
                memcpy(&x, &bits, sizeof x);
                put_hex(emlearn_gen::exp_f(x));
                eg_putc(' ');
                put_hex(emlearn_gen::sigmoid_f(x));
                eg_putc(' ');
                put_hex(emlearn_gen::log_f(x));
                eg_putc(' ');
                put_hex(emlearn_gen::sqrt_f(x));
                eg_putc(' ');
                put_hex(emlearn_gen::tanh_f(x));
                eg_putc('\\n');
              }}
              eg_putc('E');
              eg_putc('N');
              eg_putc('D');
              eg_putc('\\n');
              {exit_code}
            }}
            """
        )
    )


def parse_bits(text: str, n: int) -> List[List[str]]:
    """Rows of hex words; NaN becomes "nan" (IEEE 754 leaves which NaN an
    operation on a NaN returns to the implementation)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines and lines[-1] == "END", f"the program did not finish:\n{text[-2000:]}"
    rows = [line.split() for line in lines[:-1]]
    assert len(rows) == n, f"{len(rows)} lines for {n} inputs:\n{text[-2000:]}"

    def canonical(word: str) -> str:
        bits = int(word, 16)
        return "nan" if (bits & 0x7F800000) == 0x7F800000 and (bits & 0x7FFFFF) else word

    return [[canonical(w) for w in row] for row in rows]


def _host_bits(tmp_path: Path, inputs: np.ndarray, target: HostTarget) -> List[List[str]]:
    try:
        target.check_tools()
    except ToolchainMissing as exc:
        _missing(f"{target.name}: {exc}")
    folder = tmp_path / target.name
    folder.mkdir()
    (folder / "main.cpp").write_text(bits_program(target.prelude(), target.exit_code(), inputs))
    out = target.build_and_run(folder, ["main.cpp"], [str(INCLUDE_DIR)], TIMEOUT_S)
    return parse_bits(out, len(inputs))


def _run_on_device(target: Any, folder: Path) -> str:
    """Builds folder/main.cpp for a device target with its flags less
    -ffp-contract=off (firmware built with the compiler's default contraction
    must still match), runs it on the emulator and returns what it printed."""
    flags = target.cxx_flags()
    assert "-ffp-contract=off" in flags, flags
    flags = [f for f in flags if f != "-ffp-contract=off"]
    _run([target.compiler, *flags, f"-I{INCLUDE_DIR}", "-c", "main.cpp", "-o", "main.o"], folder)
    objects = [folder / "main.o"]
    if isinstance(target, CortexMTarget):
        objects.append(target.compile_startup(folder, TIMEOUT_S))
    elf = target.link(folder, objects, "image.elf", TIMEOUT_S)
    return target.run_image(elf, folder, TIMEOUT_S)


def _device_bits(tmp_path: Path, inputs: np.ndarray, target: DeviceTarget) -> List[List[str]]:
    try:
        target.check_tools()
    except ToolchainMissing as exc:
        _missing(f"{target.name}: {exc}")
    folder = tmp_path / target.name
    folder.mkdir()
    (folder / "main.cpp").write_text(bits_program(target.prelude(), target.exit_code(), inputs))
    return parse_bits(_run_on_device(target, folder), len(inputs))


@pytest.fixture(scope="module")
def host_bits(tmp_path_factory: pytest.TempPathFactory) -> List[List[str]]:
    """What the host computes (g++ -O2, x86-64 SSE or the host's FPU)."""
    return _host_bits(tmp_path_factory.mktemp("host"), math_inputs(), HostTarget("g++"))


def test_host_bits_are_the_functions(host_bits: List[List[str]]) -> None:
    """The program prints what it should: within a few ulps of numpy's
    float64 functions (the tight bounds are the GoogleTest suite's)."""
    x = math_inputs().astype(np.float64)
    got = np.array([[np.nan if w == "nan" else _from_bits([int(w, 16)])[0] for w in row] for row in host_bits])
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        want_exp = np.exp(x)
        want_sigmoid = 1.0 / (1.0 + np.exp(-x))
        want_log = np.log(x)
        want_sqrt = np.sqrt(x)
    want_tanh = np.tanh(x)
    for column, want in ((0, want_exp), (1, want_sigmoid), (2, want_log), (3, want_sqrt), (4, want_tanh)):
        have = got[:, column].astype(np.float64)
        assert np.array_equal(np.isnan(have), np.isnan(want))
        finite = np.isfinite(want) & (np.abs(want) < F32_MAX)
        tolerance = 4e-7 * np.abs(want[finite]) + 2.0**-149
        assert np.all(np.abs(have[finite] - want[finite]) <= tolerance), FUNCTIONS[column]
        beyond = ~finite & ~np.isnan(want)  # infinite in float: the sign's infinity
        assert np.all(have[beyond] == np.copysign(np.inf, want[beyond])), FUNCTIONS[column]
    # The inputs reach every branch: overflow, zero, subnormal results, 1.
    exp_column = got[:, 0]
    assert np.isinf(exp_column).any() and (exp_column == 0).any() and (exp_column == 1).any()
    assert ((exp_column > 0) & (exp_column < 2.0**-126)).sum() >= 20
    # ... and log_f, sqrt_f and tanh_f see subnormal and negative inputs.
    assert ((x > 0) & (x < 2.0**-126)).sum() >= 10 and (x < 0).sum() >= 30


def _fma_host_flags() -> List[str]:
    """-march=haswell where this machine can run it (the CPU has FMA)."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    return ["-march=haswell"] if _x86_host() and re.search(r"^flags\s*:.*\bfma\b", cpuinfo, re.M) else []


@pytest.mark.parametrize("compiler", ["g++", "clang++"])
def test_host_compilers_agree_also_with_fma(compiler: str, host_bits: List[List[str]], tmp_path: Path) -> None:
    """Built with FMA available (and the compiler's default contraction),
    the host still computes what plain x86-64 does."""
    flags = _fma_host_flags()
    if not flags and compiler == "g++":
        pytest.skip("this machine cannot run FMA code; the baseline build is the only host build")
    target = HostTarget(compiler, extra_flags=tuple(flags))
    assert _host_bits(tmp_path, math_inputs(), target) == host_bits


@pytest.mark.parametrize("device", [CORTEX_M0, CORTEX_M4F, AVR], ids=lambda d: d.name)
def test_devices_compute_the_host_bits(device: DeviceTarget, host_bits: List[List[str]], tmp_path: Path) -> None:
    got = _device_bits(tmp_path, math_inputs(), device)
    inputs = math_inputs().view(np.uint32)
    differences = [
        f"x = 0x{inputs[i]:08x}: device {got[i]}, host {host_bits[i]}" for i in range(len(got)) if got[i] != host_bits[i]
    ]
    assert not differences, f"{device.name}: {len(differences)} of {len(got)} differ:\n" + "\n".join(differences[:20])


# --------------------------------------------------------------------------
# binary64: the same bits from double and from soft_double


def _f64_neighbours(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.nextafter(x, -np.inf), np.nextafter(x, np.inf)])


def exp_r64_inputs() -> np.ndarray:
    """About 220 binary64 inputs: special values, the edges of every branch
    of exp_r64 and tanh_r64, subnormal results, and random values of every
    magnitude."""
    special = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, -1.0, 0.5, 1e300, -1e300, 5e-324, -5e-324])
    edges = _f64_neighbours(
        np.array(
            [
                np.log(np.finfo(np.float64).max),  # the largest finite result
                np.log(2.0**-1022),  # the smallest normal result
                -745.1332191019412,  # e^x is half the smallest subnormal
                -746.0,  # the underflow cut-off
                2.0**-54,  # below: 1
                -(2.0**-54),
                1023.5 * np.log(2.0),
                -1022.5 * np.log(2.0),
                0.3,  # tanh_r64: the series below, exp_r64 above
                -0.3,
                19.1,  # tanh_r64: 1 above
                2.0**-27,  # tanh_r64: x below
            ]
        )
    )
    rng = np.random.default_rng(20261129)
    random = np.concatenate(
        [
            rng.uniform(-750.0, 712.0, 80),
            rng.uniform(-2.0, 2.0, 30),
            rng.uniform(-745.0, -708.0, 20),  # subnormal results
            rng.normal(0.0, 1.0, 20) * np.exp2(rng.uniform(-60.0, 0.0, 20)),
        ]
    )
    return np.concatenate([special, edges, random]).astype(np.float64)


def bits64_program(prelude: str, exit_code: str, inputs: np.ndarray) -> str:
    """A program printing, for each input x and the next input y (cyclic),
    the bits of exp_r64(x), x * y, x / y, x - y, tanh_r64(x) and
    sigmoid_r64(x) on real64, as hex, one line per input, then END."""
    words = inputs.view(np.uint64)
    table = ",\n".join("    " + ", ".join(f"0x{b:016x}ull" for b in chunk) for chunk in np.array_split(words, len(words) // 4))
    begin = "  eg_begin();\n" if "eg_begin()" in prelude else ""
    n = len(inputs)
    return (
        textwrap.dedent(
            """\
            #include <stdint.h>
            #include <string.h>
            #include "emlearn_gen/float64.hpp"
            """
        )
        + prelude
        + textwrap.dedent(
            f"""
            namespace eg = emlearn_gen;
            static const uint64_t inputs[{n}] EMLEARN_GEN_TABLE_ATTR = {{
            {table}
            }};

            static void put_hex(eg::real64 value) {{
              const uint64_t bits = eg::f64::to_bits(value);
              for (int shift = 60; shift >= 0; shift -= 4) {{
                eg_putc("0123456789abcdef"[(bits >> shift) & 15u]);
              }}
            }}

            static eg::real64 input(uint16_t i) {{
              return eg::f64::real_from_bits<eg::real64>(eg::table_read(inputs + i));
            }}

            int main() {{
            {begin}  for (uint16_t i = 0; i < {n}u; ++i) {{
                const eg::real64 x = input(i);
                const eg::real64 y = input(static_cast<uint16_t>((i + 1u) % {n}u));
                put_hex(eg::exp_r64(x));
                eg_putc(' ');
                put_hex(eg::multiply(x, y));
                eg_putc(' ');
                put_hex(eg::divide(x, y));
                eg_putc(' ');
                put_hex(eg::subtract(x, y));
                eg_putc(' ');
                put_hex(eg::tanh_r64(x));
                eg_putc(' ');
                put_hex(eg::sigmoid_r64(x));
                eg_putc('\\n');
              }}
              eg_putc('E');
              eg_putc('N');
              eg_putc('D');
              eg_putc('\\n');
              {exit_code}
            }}
            """
        )
    )


def parse_bits64(text: str, n: int) -> List[List[str]]:
    """As parse_bits, for binary64 words."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines and lines[-1] == "END", f"the program did not finish:\n{text[-2000:]}"
    rows = [line.split() for line in lines[:-1]]
    assert len(rows) == n, f"{len(rows)} lines for {n} inputs:\n{text[-2000:]}"

    def canonical(word: str) -> str:
        bits = int(word, 16)
        return "nan" if (bits >> 52) & 0x7FF == 0x7FF and bits & ((1 << 52) - 1) else word

    return [[canonical(w) for w in row] for row in rows]


def _program64_bits(tmp_path: Path, target: "HostTarget | DeviceTarget") -> List[List[str]]:
    try:
        target.check_tools()
    except ToolchainMissing as exc:
        _missing(f"{target.name}: {exc}")
    inputs = exp_r64_inputs()
    folder = tmp_path / target.name
    folder.mkdir()
    (folder / "main.cpp").write_text(bits64_program(target.prelude(), target.exit_code(), inputs))
    if isinstance(target, HostTarget):
        out = target.build_and_run(folder, ["main.cpp"], [str(INCLUDE_DIR)], TIMEOUT_S)
        return parse_bits64(out, len(inputs))
    return parse_bits64(_run_on_device(target, folder), len(inputs))


@pytest.fixture(scope="module")
def host_bits64(tmp_path_factory: pytest.TempPathFactory) -> List[List[str]]:
    """What the host computes with its hardware double."""
    return _program64_bits(tmp_path_factory.mktemp("host64"), HostTarget("g++"))


def test_host_bits64_are_exp_and_the_operations(host_bits64: List[List[str]]) -> None:
    """The program prints what it should: numpy's float64 operations
    exactly, and exp within a few ulps of numpy's exp."""
    x = exp_r64_inputs()
    y = np.roll(x, -1)
    got = np.array(
        [[np.nan if w == "nan" else np.array([int(w, 16)], dtype=np.uint64).view(np.float64)[0] for w in row] for row in host_bits64]
    )
    with np.errstate(all="ignore"):
        for column, want in ((1, x * y), (2, x / y), (3, x - y)):
            assert np.array_equal(got[:, column], want, equal_nan=True), column
        want_exp = np.exp(x)
    have = got[:, 0]
    assert np.array_equal(np.isnan(have), np.isnan(want_exp))
    finite = np.isfinite(want_exp)
    tolerance = 4e-16 * want_exp[finite] + 2.0**-1074
    assert np.all(np.abs(have[finite] - want_exp[finite]) <= tolerance)
    assert np.array_equal(have[~finite & ~np.isnan(want_exp)], want_exp[~finite & ~np.isnan(want_exp)])
    # Every branch: overflow, zero, subnormal results, 1.
    assert np.isinf(have).any() and (have == 0).any() and (have == 1).any()
    assert ((have > 0) & (have < 2.0**-1022)).sum() >= 15
    # tanh_r64 and sigmoid_r64 within their stated bounds (plus numpy's own
    # rounding), exact at the ends.
    u = 2.0**-53
    for column, want, bound in (
        (4, np.tanh(x), float(_runtime.TANH_R64_MAX_REL_ERROR)),
        (5, np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))),
         float(_runtime.SIGMOID_R64_MAX_REL_ERROR)),
    ):
        have = got[:, column]
        assert np.array_equal(np.isnan(have), np.isnan(want)), column
        ok = ~np.isnan(want)
        assert np.all(np.abs(have[ok] - want[ok]) <= (bound + 4 * u) * np.abs(want[ok]) + 2.0**-1074), column
    assert got[np.isinf(x) & (x > 0), 4].tolist() == [1.0] and got[np.isinf(x) & (x < 0), 4].tolist() == [-1.0]


@pytest.mark.parametrize("compiler", ["g++", "clang++"])
def test_host_binary64_bits_also_with_fma(compiler: str, host_bits64: List[List[str]], tmp_path: Path) -> None:
    """Built with FMA available, multiply() still rounds its product before
    exp_r64's sums (rounded64), as soft_double does."""
    flags = _fma_host_flags()
    if not flags and compiler == "g++":
        pytest.skip("this machine cannot run FMA code; the baseline build is the only host build")
    assert _program64_bits(tmp_path, HostTarget(compiler, extra_flags=tuple(flags))) == host_bits64


SQRT_SOURCE = """\
#include "emlearn_gen/math.hpp"
extern "C" float root(float x) { return emlearn_gen::sqrt_f(x); }
"""


@pytest.mark.parametrize("target", ["cortex-m4f", "x86-haswell-g++", "x86-haswell-clang++"])
def test_sqrt_f_uses_no_library_call_or_sqrt_instruction(target: str, tmp_path: Path) -> None:
    """sqrt_f is integer code: no call to sqrtf (which differs between C
    libraries) and no FPU square root instruction (vsqrt.f32, sqrtss)."""
    compiler, package, flags, _, _, needs_x86 = CONTRACTION_TARGETS[target]
    if needs_x86 and not _x86_host():
        pytest.skip(f"{target}: the host compiler targets {platform.machine()}, not x86")
    _require_compiler(compiler, package)
    src = tmp_path / "root.cpp"
    src.write_text(SQRT_SOURCE)
    asm = _run([compiler, "-std=c++11", "-O2", *flags, f"-I{INCLUDE_DIR}", "-S", "-o", "-", src], tmp_path)
    body = _function_body(asm, "root")
    assert not re.search(r"sqrt", body, flags=re.I), body


@pytest.mark.parametrize("device", [CORTEX_M0, CORTEX_M4F, AVR], ids=lambda d: d.name)
def test_devices_compute_the_host_binary64_bits(
    device: DeviceTarget, host_bits64: List[List[str]], tmp_path: Path
) -> None:
    got = _program64_bits(tmp_path, device)
    inputs = exp_r64_inputs().view(np.uint64)
    differences = [
        f"x = 0x{inputs[i]:016x}: device {got[i]}, host {host_bits64[i]}"
        for i in range(len(got))
        if got[i] != host_bits64[i]
    ]
    assert not differences, f"{device.name}: {len(differences)} of {len(got)} differ:\n" + "\n".join(differences[:20])
