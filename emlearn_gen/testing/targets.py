"""Build-and-run targets for generated headers."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

#: The flags generated code must compile cleanly under (DESIGN §5).
STRICT_FLAGS: Tuple[str, ...] = (
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Wdouble-promotion",
    "-Wshadow",
    "-Werror",
    "-fno-exceptions",
    "-fno-rtti",
)


class ToolchainMissing(RuntimeError):
    """A compiler or emulator a target needs is not installed."""


class BuildFailed(RuntimeError):
    """The generated code or the harness did not compile or link."""


def require_tools(tools: Dict[str, str]) -> None:
    """Raises ToolchainMissing naming the Debian packages for missing tools.

    ``tools`` maps an executable to the Debian package that provides it.
    """
    missing = {exe: pkg for exe, pkg in tools.items() if shutil.which(exe) is None}
    if missing:
        packages = " ".join(sorted(set(missing.values())))
        raise ToolchainMissing(
            f"missing {', '.join(sorted(missing))}: install with `apt-get install {packages}`"
        )


def run_command(cmd: Sequence[str], cwd: Path, timeout: float, what: str) -> str:
    proc = subprocess.run(
        list(cmd), cwd=str(cwd), capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise BuildFailed(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-4000:]}{proc.stderr[-8000:]}"
        )
    return proc.stdout


@dataclass(frozen=True)
class HostTarget:
    """The header compiled by a host C++ compiler and run natively."""

    compiler: str = "g++"
    std: str = "c++11"
    opt: str = "-O2"
    extra_flags: Tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return f"host-{self.compiler}-{self.std}"

    def check_tools(self) -> None:
        package = "clang" if "clang" in self.compiler else "g++"
        require_tools({self.compiler: package})

    def prelude(self) -> str:
        return "#include <stdio.h>\nstatic void eg_putc(char c) { putchar(c); }"

    def exit_code(self) -> str:
        return "return 0;"

    def build_and_run(self, workdir: Path, sources: List[str], include_dirs: List[str], timeout: float) -> str:
        self.check_tools()
        exe = workdir / "model_test"
        cmd = [self.compiler, f"-std={self.std}", self.opt, *STRICT_FLAGS, *self.extra_flags]
        cmd += [f"-I{d}" for d in include_dirs]
        cmd += sources + ["-o", str(exe)]
        run_command(cmd, workdir, timeout, f"compiling with {self.compiler} -std={self.std}")
        return run_command([str(exe)], workdir, timeout, "running the test program")
