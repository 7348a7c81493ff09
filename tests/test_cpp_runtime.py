"""Builds the GoogleTest suite of the C++ runtime (tests/cpp) out of tree and runs it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import List

import pytest

REPO = Path(__file__).resolve().parent.parent
REQUIRE_TOOLS = os.environ.get("EMLEARN_GEN_REQUIRE_DEVICE") == "1"
TIMEOUT_S = 600


def _missing(message: str) -> None:
    """Skips, or fails when EMLEARN_GEN_REQUIRE_DEVICE=1 asks for every tool."""
    if REQUIRE_TOOLS:
        pytest.fail(f"{message} (EMLEARN_GEN_REQUIRE_DEVICE=1)")
    pytest.skip(message)


def _run(cmd: List[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def gtest_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("cmake", "ctest"):
        if shutil.which(tool) is None:
            _missing(f"{tool} not found: install the Debian package cmake")
    build = tmp_path_factory.mktemp("runtime-gtest-build")
    configure = _run(
        [
            "cmake",
            "-S",
            REPO,
            "-B",
            build,
            "-DEMLEARN_GEN_BUILD_TESTS=ON",
            "-DEMLEARN_GEN_BUILD_PYTHON=OFF",
            "-DEMLEARN_GEN_TESTS_SANITIZE=ON",
            "-DCMAKE_BUILD_TYPE=Debug",
        ]
    )
    if configure.returncode != 0:
        if "GTest" in configure.stdout:
            _missing(
                "GoogleTest not found by CMake: install the Debian package libgtest-dev\n"
                + configure.stdout[-2000:]
            )
        if "CMAKE_CXX_COMPILER" in configure.stdout:
            _missing("no C++ compiler found by CMake: install the Debian package g++")
        pytest.fail(f"cmake configure failed:\n{configure.stdout}")
    compiled = _run(["cmake", "--build", build, "--parallel", "2"])
    if compiled.returncode != 0:
        pytest.fail(f"building the GoogleTest suite failed:\n{compiled.stdout}")
    return build


def test_gtest_suite_passes(gtest_build: Path) -> None:
    result = _run(["ctest", "--output-on-failure", "--parallel", "2"], cwd=gtest_build)
    if result.returncode != 0:
        pytest.fail(f"ctest reported failures:\n{result.stdout}")
    assert "100% tests passed" in result.stdout, result.stdout


def test_gtest_suite_is_discovered(gtest_build: Path) -> None:
    """Guards against a suite that passes because CTest found no tests in it."""
    listing = _run(["ctest", "-N"], cwd=gtest_build)
    assert listing.returncode == 0, listing.stdout
    names = re.findall(r"^\s*Test\s+#\d+:\s*(\S+)", listing.stdout, flags=re.M)
    assert len(names) > 100, listing.stdout
    both_builds = ["ReadBits", "TableRead", "TableCopy", "Argmax", "ForestLeaf", "ForestMean"]
    both_builds += ["ForestValidate", "RandomForests"]
    for suite in both_builds + ["SoftDouble", "SoftDoubleForest", "LogsumexpF", "NaiveBayes", "Distance"]:
        assert any(name.startswith(suite) for name in names), f"no {suite} tests in:\n{listing.stdout}"
    for suite in both_builds:
        assert any(
            name.startswith("portable_read." + suite) for name in names
        ), f"no portable-read {suite} tests in:\n{listing.stdout}"
