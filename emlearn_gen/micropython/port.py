"""A bare-metal MicroPython for QEMU's MPS2 AN386 board (Cortex-M4F, float32).

The port's sources are in ``port_mps2/`` beside this file; they are built with
arm-none-eabi-gcc against MicroPython's ``py/`` and ``shared/`` from
:func:`emlearn_gen.micropython.sdk.find_sdk` (MicroPython 1.23.0). The image
is kept in a cache folder named by a hash of everything that goes into it
(the port's sources, the MicroPython version, the compiler's version), so it
is built once (about 30 s) and then reused by every test process.

The image runs ``main_script.py`` from the folder QEMU is started in, reads
imports and ``open()``-ed files from the host through semihosting, prints
through semihosting, and exits with the script's status (1 after an
uncaught exception's traceback). It loads bytecode ``.mpy`` files and
native ``.mpy`` modules for armv7emsp, armv7m and armv6m.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

from .sdk import MICROPYTHON_VERSION, cache_dir, find_sdk

#: The port's sources, shipped in the package.
PORT_DIR = Path(__file__).resolve().parent / "port_mps2"
#: The QEMU machine the image is built for.
MACHINE = "mps2-an386"

#: executable -> Debian package that provides it
_TOOLS: Dict[str, str] = {
    "arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi",
    "qemu-system-arm": "qemu-system-arm",
    "make": "make",
}


class PortBuildFailed(RuntimeError):
    """The port did not compile or link; the message holds the compiler's output."""


def _missing_tools() -> Dict[str, str]:
    return {exe: pkg for exe, pkg in _TOOLS.items() if shutil.which(exe) is None}


def check_tools() -> None:
    """Raises ToolchainMissing naming the Debian packages of missing tools,
    and SdkMissing's message as ToolchainMissing when MicroPython's sources
    are absent (tests skip, or fail in CI, as device tests do)."""
    from ..testing.targets import ToolchainMissing
    from .sdk import SdkMissing

    missing = _missing_tools()
    if missing:
        packages = " ".join(sorted(set(" ".join(missing.values()).split())))
        raise ToolchainMissing(
            f"building MicroPython for {MACHINE} needs {', '.join(sorted(missing))}: "
            f"install with `apt-get install {packages}`"
        )
    try:
        find_sdk()
    except SdkMissing as exc:
        raise ToolchainMissing(str(exc)) from exc


def _compiler_version() -> str:
    result = subprocess.run(["arm-none-eabi-gcc", "--version"], capture_output=True, text=True, check=False)
    return result.stdout.splitlines()[0] if result.stdout else ""


def _source_hash(sdk: Path) -> str:
    """Hash of what the image is made of: the port's files, MicroPython's
    version and where its sources are, and the compiler."""
    digest = hashlib.sha256()
    for part in (MICROPYTHON_VERSION, str(sdk), _compiler_version()):
        digest.update(part.encode() + b"\0")
    for path in sorted(PORT_DIR.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def firmware_path() -> Path:
    """The image for QEMU ``-M mps2-an386``, built first if the cache lacks it.

    Several processes may ask at once: the build runs under a file lock, and
    the image appears in its final place only when complete."""
    check_tools()
    sdk = find_sdk()
    folder = cache_dir().parent / f"micropython-{MACHINE}-{_source_hash(sdk)}"
    image = folder / "firmware.elf"
    if image.is_file():
        return image
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "build.lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            if not image.is_file():
                _build(sdk, folder, image)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return image


def _build(sdk: Path, folder: Path, image: Path) -> None:
    build = folder / "build"
    command = [
        "make", "-C", str(PORT_DIR), f"-j{min(4, os.cpu_count() or 1)}",
        f"MICROPY_TOP={sdk}", f"BUILD={build}", f"PYTHON={sys.executable}",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PortBuildFailed(f"building MicroPython for {MACHINE} took over 600 s: {' '.join(command)}") from exc
    built = build / "firmware.elf"
    if result.returncode != 0 or not built.is_file():
        raise PortBuildFailed(
            f"building MicroPython for {MACHINE} failed (exit {result.returncode}): {' '.join(command)}\n"
            f"{result.stdout[-3000:]}{result.stderr[-6000:]}"
        )
    partial = image.with_suffix(f".{os.getpid()}.tmp")
    shutil.copyfile(built, partial)
    os.replace(partial, image)  # atomic: readers never see half an image


def qemu_command(image: Path) -> List[str]:
    """The command line that runs ``image``; semihosting reads and writes
    files relative to QEMU's working folder."""
    return [
        "qemu-system-arm", "-M", MACHINE, "-nographic", "-monitor", "none", "-serial", "none",
        "-semihosting-config", "enable=on,target=native", "-kernel", str(image),
    ]


__all__ = ["MACHINE", "PORT_DIR", "PortBuildFailed", "check_tools", "firmware_path", "qemu_command"]
