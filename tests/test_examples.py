"""The examples in examples/ run as their READMEs say."""

from __future__ import annotations

import shutil

from firmware_support import REPO, readme_block, require_tool, run, shell_env


def test_anomaly_detection_example(tmp_path):
    """An isolation forest trained on normal windows flags the same windows
    in scikit-learn, the host runtime and the emulated Cortex-M4F; its
    firmware side cross-compiles."""
    require_tool("arm-none-eabi-g++", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    example = REPO / "examples" / "anomaly_detection"
    for name in ("detect.py", "main.cpp"):
        shutil.copy(example / name, tmp_path / name)
    steps = readme_block("anomaly-run", example / "README.md")
    out = run(["bash", "-e", "-o", "pipefail", "-c", steps], tmp_path, env=shell_env())
    assert "the host runtime flags the same windows: True" in out
    assert "the header on the emulated Cortex-M4F flags the same windows: True" in out
    assert (tmp_path / "vibration_monitor.hpp").is_file() and (tmp_path / "main.o").is_file()
