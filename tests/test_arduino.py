"""The repository as an Arduino and PlatformIO library, and real sketches
that include generated headers, built with Debian's Arduino AVR core for an
Uno (ATmega328P) and a Mega (ATmega2560) and run in simavr; what they print
over Serial is compared with the host runtime."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import List, Optional

import pytest
from firmware_support import (
    REPO,
    expected_lines,
    missing,
    printed_lines,
    readme_block,
    require_tool,
    rows_source,
    run,
    run_shell,
    saved_model,
    shell_env,
    simavr_uart,
)
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

import emlearn_gen

ARDUINO_DIR = Path("/usr/share/arduino")
ARDUINO_MK = ARDUINO_DIR / "Arduino.mk"
RUNTIME = REPO / "runtime" / "include" / "emlearn_gen"

#: board -> (arduino-mk settings, simavr MCU, arduino-builder FQBN)
BOARDS = {
    "uno": ("BOARD_TAG = uno\n", "atmega328p", "arduino:avr:uno"),
    "mega": ("BOARD_TAG = mega\nBOARD_SUB = atmega2560\n", "atmega2560", "arduino:avr:mega:cpu=atmega2560"),
}

# Arduino's library specification (1.5 format).
_CATEGORIES = {
    "Display", "Communication", "Signal Input/Output", "Sensors", "Device Control", "Timing",
    "Data Storage", "Data Processing", "Other",
}
_REQUIRED = {"name", "version", "author", "maintainer", "sentence", "paragraph", "category", "url", "architectures"}


def _properties() -> dict:
    props = {}
    for line in (REPO / "library.properties").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, line
            props[key.strip()] = value.strip()
    return props


def _require_arduino_core() -> None:
    require_tool("avr-g++", "gcc-avr avr-libc")
    require_tool("simavr", "simavr")
    if not (ARDUINO_DIR / "hardware" / "arduino" / "avr" / "cores" / "arduino").is_dir():
        missing("the Arduino AVR core is not installed: apt-get install arduino-core-avr")


def _require_arduino_mk() -> None:
    _require_arduino_core()
    require_tool("make", "make")
    if not ARDUINO_MK.is_file():
        missing("Arduino-Makefile is not installed: apt-get install arduino-mk")


# --------------------------------------------------------------------------
# The library's files


def test_library_properties_follow_the_arduino_library_spec():
    props = _properties()
    assert _REQUIRED <= set(props), _REQUIRED - set(props)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.\-]*", props["name"])
    assert props["version"] == emlearn_gen.__version__
    assert props["category"] in _CATEGORIES
    assert props["architectures"] == "*"
    for header in props["includes"].split(","):
        assert (REPO / "src" / header.strip()).is_file()
    assert (REPO / "src").is_dir(), "1.5 library layout: sources in src/"


def test_runtime_version_matches_library_versions():
    text = (RUNTIME / "common.hpp").read_text()
    version = ".".join(
        re.search(rf"#define EMLEARN_GEN_VERSION_{part} (\d+)", text).group(1) for part in ("MAJOR", "MINOR", "PATCH")
    )
    assert _properties()["version"] == version
    assert json.loads((REPO / "library.json").read_text())["version"] == version


def test_src_forwards_every_runtime_header():
    """The IDE puts only src/ on the include path: every runtime header needs
    a one-line forwarder there, and emlearn_gen.h includes them all."""
    umbrella = (REPO / "src" / "emlearn_gen.h").read_text()
    for header in sorted(RUNTIME.glob("*.hpp")):
        forwarder = REPO / "src" / "emlearn_gen" / header.name
        assert forwarder.is_file(), (
            f"add {forwarder.relative_to(REPO)} containing "
            f'#include "../../runtime/include/emlearn_gen/{header.name}"'
        )
        assert f'#include "../../runtime/include/emlearn_gen/{header.name}"' in forwarder.read_text()
        assert f'#include "emlearn_gen/{header.name}"' in umbrella
    forwarded = {p.name for p in (REPO / "src" / "emlearn_gen").glob("*.hpp")}
    assert forwarded == {p.name for p in RUNTIME.glob("*.hpp")}, "a forwarder without its runtime header"


def test_library_json_for_platformio():
    manifest = json.loads((REPO / "library.json").read_text())
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_\-]*", manifest["name"])
    for key in ("description", "keywords", "license", "frameworks", "platforms"):
        assert manifest[key], key
    build = manifest["build"]
    assert (REPO / build["srcDir"]).is_dir() and (REPO / build["includeDir"] / "emlearn_gen").is_dir()
    for header in manifest["headers"]:
        assert (REPO / build["srcDir"] / header).is_file()
    for path in manifest["export"]["include"]:
        assert (REPO / path).exists(), path


# --------------------------------------------------------------------------
# Sketches on simavr


def _simavr(elf: Path, mcu: str, timeout: float, until_sleep: bool) -> str:
    """UART0 output of ``elf``. Sketches that end by sleeping with interrupts
    off stop simavr; others run until the timeout, then simavr is stopped
    with SIGTERM, on which it writes out what it holds and exits."""
    cmd = ["simavr", "-m", mcu, "-f", "16000000", str(elf)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        if until_sleep:
            raise AssertionError(f"{elf.name} did not stop within {timeout:g} s:\n{out[-2000:]}")
    return simavr_uart(out)


def _arduino_mk(sketch: Path, board: str, user_lib_path: Optional[Path] = None) -> Path:
    makefile = readme_block("arduino-makefile").replace("BOARD_TAG = uno\n", BOARDS[board][0])
    if user_lib_path is not None:
        makefile = f"USER_LIB_PATH = {user_lib_path}\n" + makefile
    (sketch / "Makefile").write_text(makefile)
    run(["make", "-j2", f"OBJDIR=build-{board}"], sketch, timeout=600)
    (elf,) = (sketch / f"build-{board}").glob("*.elf")
    return elf


def _libraries(tmp_path: Path) -> Path:
    """A libraries folder holding this repository as `emlearn_gen`."""
    libraries = tmp_path / "libraries"
    libraries.mkdir()
    (libraries / "emlearn_gen").symlink_to(REPO, target_is_directory=True)
    return libraries


@pytest.fixture(scope="module")
def iris_model(load_data):
    X, y = load_data("iris")
    return RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, y)


@pytest.mark.parametrize("board", ["uno", "mega"])
def test_readme_standalone_sketch(board, iris_model, tmp_path):
    """The README's steps: convert with --standalone into the sketch folder,
    build with Arduino-Makefile, run; it prints the class the host runtime
    predicts for its flower."""
    _require_arduino_mk()
    model = saved_model(iris_model, tmp_path, "iris")
    sketch = tmp_path / "IrisSketch"
    sketch.mkdir()
    run_shell(readme_block("arduino-convert"), tmp_path, shell_env(), model)
    source = readme_block("arduino-sketch")
    (sketch / "IrisSketch.ino").write_text(source)
    elf = _arduino_mk(sketch, board)
    flower = [float(v) for v in re.findall(r"(-?\d+\.\d+)f", re.search(r"flower\[[^]]*\] = \{([^}]*)\}", source).group(1))]
    want = int(emlearn_gen.convert(iris_model, name="iris").predict([flower])[0])
    out = _simavr(elf, BOARDS[board][1], timeout=2.5, until_sleep=False)
    assert f"class {want}" in printed_lines(out), out


def _full_sketch(folder: Path, models: List, X32, library: bool) -> None:
    """A sketch that runs every entry point of every model on the rows of X32,
    prints the results over Serial and then stops the CPU (ends simavr)."""
    folder.mkdir(parents=True)
    includes = ["#include <emlearn_gen.h>"] if library else []
    includes += [f'#include "{cm.name}.hpp"' for cm in models]
    for cm in models:
        cm.save(folder / f"{cm.name}.hpp", standalone=not library)
    (folder / f"{folder.name}.ino").write_text(
        "\n".join(
            [
                *includes,
                "#include <avr/interrupt.h>",
                "#include <avr/sleep.h>",
                "",
                "static void eg_putc(char c) { Serial.write(c); }",
                "",
                rows_source(models, X32),
                "void setup() {",
                "  Serial.begin(115200);",
                "  eg_run();",
                "  Serial.flush();",
                "  cli();",
                "  sleep_enable();",
                "  sleep_cpu();",
                "}",
                "",
                "void loop() {}",
                "",
            ]
        )
    )


@pytest.fixture(scope="module")
def two_models(load_data):
    """A float32 classifier and a regressor, whose outputs AVR (32-bit
    double) computes bit for bit as the host runtime does."""
    X, y = load_data("iris")
    clf = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=1).fit(X, y)
    reg = RandomForestRegressor(n_estimators=3, max_depth=4, random_state=1).fit(X, X[:, 2:] * 1.5)
    return (
        [emlearn_gen.convert(clf, name="species", dtype="float32"), emlearn_gen.convert(reg, name="petal")],
        X[::6],
    )


@pytest.mark.parametrize("board,library", [("uno", False), ("mega", True)])
def test_sketch_matches_host_runtime_with_arduino_mk(board, library, two_models, tmp_path):
    """Two models in one sketch, every entry point on 25 rows: standalone
    headers on the Uno, the library (USER_LIB_PATH) on the Mega."""
    _require_arduino_mk()
    models, X = two_models
    X32 = models[0].check_input(X)
    sketch = tmp_path / "Classify"
    _full_sketch(sketch, models, X32, library)
    elf = _arduino_mk(sketch, board, _libraries(tmp_path) if library else None)
    out = _simavr(elf, BOARDS[board][1], timeout=60.0, until_sleep=True)
    assert printed_lines(out) == expected_lines(models, X32)


def test_library_found_like_the_arduino_ide(two_models, tmp_path):
    """arduino-builder, the builder of the Arduino IDE 1.8, finds the library
    from `#include <emlearn_gen.h>` in a libraries folder (with the README's
    include lines) and builds the sketch with non-standalone headers."""
    _require_arduino_core()
    builder = require_tool("arduino-builder", "arduino-builder (with arduino-mk)")
    models, X = two_models
    X32 = models[0].check_input(X)
    sketch = tmp_path / "Classify"
    _full_sketch(sketch, models, X32, library=True)
    lines = readme_block("arduino-library-sketch").splitlines()
    assert lines[0] == "#include <emlearn_gen.h>"
    build = tmp_path / "build"
    build.mkdir()
    out = run(
        [builder, "-compile", "-hardware", ARDUINO_DIR / "hardware", "-tools", ARDUINO_DIR / "hardware" / "tools",
         "-libraries", _libraries(tmp_path), "-fqbn", BOARDS["uno"][2], "-build-path", build,
         "-prefs=compiler.cpp.extra_flags=-DDECIMAL_DIG=17", "-verbose", sketch / "Classify.ino"],
        tmp_path, timeout=600,
    )
    assert re.search(r"Using library emlearn_gen .*in folder", out), out[-3000:]
    elf = build / "Classify.ino.elf"
    got = _simavr(elf, BOARDS["uno"][1], timeout=60.0, until_sleep=True)
    assert printed_lines(got) == expected_lines(models, X32)
