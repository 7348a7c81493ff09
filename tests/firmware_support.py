"""Helpers of the firmware integration tests: tool checks, and a small C++
program body that runs generated models on rows compiled into the image and
prints every result, so a test compares the text with the host runtime."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
import pytest

from emlearn_gen import CModel

REPO = Path(__file__).resolve().parent.parent
STRICT = [
    "-Wall", "-Wextra", "-Wpedantic", "-Wdouble-promotion", "-Wshadow", "-Werror",
    "-fno-exceptions", "-fno-rtti",
]


def missing(message: str) -> None:
    """Skips the test, or fails it when EMLEARN_GEN_REQUIRE_DEVICE=1 (CI)."""
    if os.environ.get("EMLEARN_GEN_REQUIRE_DEVICE") == "1":
        pytest.fail(message)
    pytest.skip(message)


def require_tool(exe: str, package: str) -> str:
    """Path of ``exe``, or skip/fail naming the Debian package that has it."""
    path = shutil.which(exe)
    if path is None:
        missing(f"{exe} is not installed: apt-get install {package}")
    assert path is not None
    return path


def run(cmd: Sequence[str], cwd: Path, timeout: float = 300.0, env: Optional[dict] = None) -> str:
    """Runs a command; on failure the assertion shows its output."""
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=str(cwd), capture_output=True, text=True, timeout=timeout,
        env=env, check=False,
    )
    assert proc.returncode == 0, (
        f"{' '.join(str(c) for c in cmd)} failed (exit {proc.returncode}):\n"
        f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    )
    return proc.stdout


def _input_table(X32: np.ndarray) -> str:
    bits = np.ascontiguousarray(X32, dtype=np.float32).view(np.uint32).reshape(-1)
    return ",\n".join(
        "    " + ", ".join(f"0x{int(b):08x}u" for b in bits[i : i + 6]) for i in range(0, bits.size, 6)
    )


def rows_source(models: Sequence[CModel], X32: np.ndarray) -> str:
    """C++ defining ``eg_run()``, which runs every entry point of every model
    on the rows of X32 and prints one line per call through ``eg_putc`` (the
    including file defines it): ``<model><method> <results>``, labels in
    decimal and floats as the hex of their bits. Needs a model header
    included first (for emlearn_gen::table_copy and EMLEARN_GEN_TABLE_ATTR)."""
    n_rows, n_features = X32.shape
    width = max(ep.width for cm in models for ep in cm.entry_points)
    lines = [
        f"static const uint32_t eg_rows[{n_rows * n_features}] EMLEARN_GEN_TABLE_ATTR = {{",
        _input_table(X32),
        "};",
        "",
        "static void eg_put_text(const char* s) {",
        "  while (*s) {",
        "    eg_putc(*s++);",
        "  }",
        "}",
        "",
        "static void eg_put_hex(uint32_t v) {",
        "  for (int shift = 28; shift >= 0; shift -= 4) {",
        '    eg_putc("0123456789abcdef"[(v >> shift) & 0xFu]);',
        "  }",
        "}",
        "",
        "static void eg_put_int(int32_t v) {",
        "  char digits[12];",
        "  int n = 0;",
        "  uint32_t u = v < 0 ? 0u - static_cast<uint32_t>(v) : static_cast<uint32_t>(v);",
        "  do {",
        "    digits[n++] = static_cast<char>('0' + u % 10u);",
        "    u /= 10u;",
        "  } while (u != 0u);",
        "  if (v < 0) {",
        "    eg_putc('-');",
        "  }",
        "  while (n > 0) {",
        "    eg_putc(digits[--n]);",
        "  }",
        "}",
        "",
        "static void eg_put_floats(const float* values, int n) {",
        "  for (int i = 0; i < n; ++i) {",
        "    uint32_t bits;",
        "    memcpy(&bits, &values[i], sizeof bits);",
        "    eg_putc(' ');",
        "    eg_put_hex(bits);",
        "  }",
        "}",
        "",
        "static void eg_run() {",
        f"  float x[{n_features}];",
        f"  float out[{width}];",
        f"  for (uint16_t row = 0; row < {n_rows}u; ++row) {{",
        f"    emlearn_gen::table_copy(x, eg_rows + row * {n_features}u, sizeof x);",
    ]
    for m, cm in enumerate(models):
        lines.append(f'    static_assert({cm.name}::n_features == {n_features}, "features");')
        for k, ep in enumerate(cm.entry_points):
            lines.append(f'    eg_put_text("{m}{k}");')
            call = ep.c_call(f"{cm.name}::{ep.name}")
            if ep.returns_int:
                lines += ["    eg_putc(' ');", f"    eg_put_int({call});"]
            else:
                lines += [f"    {call};", f"    eg_put_floats(out, {ep.width});"]
            lines.append("    eg_putc('\\n');")
    lines += ["  }", '  eg_put_text("END\\n");', "}", ""]
    return "\n".join(lines)


def expected_lines(models: Sequence[CModel], X: np.ndarray) -> List[str]:
    """What ``eg_run()`` prints, computed by the host runtime."""
    results = [
        [(ep.returns_int, cm.raw_outputs(ep.name, X)) for ep in cm.entry_points] for cm in models
    ]
    lines = []
    for row in range(len(X)):
        for m, per_model in enumerate(results):
            for k, (returns_int, values) in enumerate(per_model):
                if returns_int:
                    lines.append(f"{m}{k} {int(values[row])}")
                else:
                    bits = np.asarray(values[row], dtype=np.float32).reshape(-1).view(np.uint32)
                    lines.append(f"{m}{k} " + " ".join(f"{int(b):08x}" for b in bits))
    lines.append("END")
    return lines


def printed_lines(text: str) -> List[str]:
    """The lines a program printed, up to and including END."""
    lines = [line.strip() for line in text.replace("\r", "").split("\n") if line.strip()]
    if "END" in lines:
        lines = lines[: lines.index("END") + 1]
    return lines


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SIMAVR_PIECE = re.compile(r"\x1b\[32m(.*?)\n\x1b\[0m", re.S)


def simavr_uart(output: str) -> str:
    """What a program wrote to UART0, from simavr's echo: pieces wrapped in
    colour codes, each program newline shown as '.'. Programs that print
    through here must not print '.' themselves."""
    return "".join(_SIMAVR_PIECE.findall(output)).replace(".", "\n")


def readme_block(tag: str, readme: Path = REPO / "README.md") -> str:
    """The fenced block that follows ``<!-- readme-test: tag -->`` in a README
    (the repository's by default)."""
    text = readme.read_text(encoding="utf-8")
    match = re.search(
        r"<!-- readme-test: " + re.escape(tag) + r" -->\n```[^\n]*\n(.*?)```", text, re.S
    )
    assert match, f"{readme.name} has no block tagged {tag!r}"
    return match.group(1)


def shell_env(home: Optional[Path] = None) -> dict:
    """Environment for README shell steps: this interpreter's folder first on
    the PATH (its emlearn-gen and python), HOME optionally redirected."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if home is not None:
        env["HOME"] = str(home)
    return env


def saved_model(estimator: object, folder: Path, stem: str) -> Path:
    """``estimator`` saved as <stem>.skops when skops is installed, else as
    <stem>.joblib (README steps name .skops; the CLI reads both)."""
    try:
        import skops.io as sio
    except ImportError:
        import joblib

        path = folder / f"{stem}.joblib"
        joblib.dump(estimator, path)
        return path
    path = folder / f"{stem}.skops"
    sio.dump(estimator, path)
    return path


def run_shell(script: str, cwd: Path, env: dict, model: Optional[Path] = None, timeout: float = 300.0) -> str:
    """Runs README shell lines with bash (-e: stop at the first failure),
    reading the model file actually saved where the README says .skops."""
    if model is not None and model.suffix != ".skops":
        script = script.replace(f"{model.stem}.skops", model.name)
    script = script.replace("path/to/emlearn-gen", str(REPO))
    return run(["bash", "-e", "-o", "pipefail", "-c", script], cwd, timeout=timeout, env=env)
