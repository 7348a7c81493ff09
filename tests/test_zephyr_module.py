"""The repository as a Zephyr module, and its sample application.

Zephyr itself cannot be fetched here, so a real `west build` is not run.
What is checked: module.yml against the schema Zephyr's module script
applies, the Kconfig symbol, the module's and the sample's CMake under a
small stand-in for Zephyr's CMake package (it defines the `app` target,
zephyr_include_directories() and the CONFIG_ values of prj.conf, and adds
the module's CMake the way Zephyr does) with the host compiler, running the
sample and comparing its output with the host runtime, and the sample's
main.cpp cross-compiled for Cortex-M3 with arm-none-eabi-g++.
"""

from __future__ import annotations

import os
import re
import runpy
import sys

import pytest
from firmware_support import REPO, STRICT, readme_block, require_tool, run

import emlearn_gen



def load_yaml(text: str):
    """The YAML subset that module.yml and sample.yaml use: block mappings,
    block sequences, plain and quoted scalars, comments. (Checked against
    PyYAML where that is installed; the tests do not need it.)"""
    lines = []
    for raw in text.splitlines():
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.strip():
            lines.append((len(line) - len(line.lstrip()), line.strip()))

    def scalar(value: str):
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            return value[1:-1]
        return {"true": True, "false": False}.get(value, value)

    def block(start: int, indent: int):
        if lines[start][1].startswith("- "):
            items = []
            i = start
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                items.append(scalar(lines[i][1][2:].strip()))
                i += 1
            return items, i
        mapping = {}
        i = start
        while i < len(lines) and lines[i][0] == indent:
            key, sep, value = lines[i][1].partition(":")
            assert sep, lines[i]
            value = value.strip()
            if value:
                mapping[key] = scalar(value)
                i += 1
            elif i + 1 < len(lines) and (lines[i + 1][0] > indent or lines[i + 1][1].startswith("- ")):
                mapping[key], i = block(i + 1, lines[i + 1][0])
            else:
                mapping[key] = None
                i += 1
        return mapping, i

    result, end = block(0, lines[0][0])
    assert end == len(lines), f"unparsed YAML from line {lines[end]}"
    try:
        import yaml
    except ImportError:
        return result
    assert yaml.safe_load(text) == result
    return result


MODULE_YML = REPO / "zephyr" / "module.yml"
SAMPLE = REPO / "examples" / "zephyr" / "iris_classifier"

# The keys zephyr/scripts/zephyr_module.py accepts (its pykwalify schema).
_TOP_KEYS = {"name", "build", "tests", "samples", "boards", "blobs"}
_BUILD_KEYS = {
    "cmake", "kconfig", "cmake-ext", "kconfig-ext", "sysbuild-cmake", "sysbuild-kconfig",
    "sysbuild-cmake-ext", "sysbuild-kconfig-ext", "depends", "settings",
}

# Stand-ins for the Zephyr headers main.cpp includes.
_KERNEL_H = "#pragma once\n#include <zephyr/sys/printk.h>\n"
_PRINTK_H = '#pragma once\nextern "C" void printk(const char* fmt, ...);\n'
_PRINTK_CPP = (
    "#include <stdarg.h>\n#include <stdio.h>\n#include <zephyr/sys/printk.h>\n"
    'extern "C" void printk(const char* fmt, ...) {\n'
    "  va_list args;\n  va_start(args, fmt);\n  vprintf(fmt, args);\n  va_end(args);\n}\n"
)

# A stand-in for Zephyr's CMake package: the parts of its interface that a
# module and an application use here, in the order Zephyr runs them.
_ZEPHYR_CONFIG = r"""
project(zephyr_stand_in LANGUAGES C CXX)
set(ZEPHYR_BASE "${CMAKE_CURRENT_LIST_DIR}/../../..")
file(STRINGS "${CMAKE_SOURCE_DIR}/prj.conf" _lines REGEX "^CONFIG_[A-Za-z0-9_]+=")
foreach(_line IN LISTS _lines)
  string(REGEX MATCH "^(CONFIG_[A-Za-z0-9_]+)=(.*)$" _ "${_line}")
  set(${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
endforeach()
set(CONFIG_REQUIRES_FULL_LIBC y)
add_executable(app "${CMAKE_CURRENT_LIST_DIR}/printk.cpp")
target_include_directories(app PRIVATE "${CMAKE_CURRENT_LIST_DIR}/include")
target_compile_options(app PRIVATE @STRICT@)
function(zephyr_include_directories)
  target_include_directories(app PRIVATE ${ARGN})
endfunction()
foreach(ZEPHYR_CURRENT_MODULE_DIR IN LISTS ZEPHYR_EXTRA_MODULES)
  get_filename_component(_name "${ZEPHYR_CURRENT_MODULE_DIR}" NAME)
  add_subdirectory("${ZEPHYR_CURRENT_MODULE_DIR}/zephyr" "${CMAKE_BINARY_DIR}/modules/${_name}")
endforeach()
set(Zephyr_FOUND TRUE)
"""


def _module():
    return load_yaml(MODULE_YML.read_text())


def test_module_yml_follows_zephyr_schema():
    meta = _module()
    assert set(meta) <= _TOP_KEYS, set(meta) - _TOP_KEYS
    assert re.fullmatch(r"[A-Za-z0-9_]+", meta["name"])
    build = meta["build"]
    assert set(build) <= _BUILD_KEYS
    # Paths are relative to the repository root (the module root).
    assert (REPO / build["cmake"] / "CMakeLists.txt").is_file()
    assert (REPO / build["kconfig"]).is_file()
    for sample_root in meta["samples"]:
        assert list((REPO / sample_root).glob("*/sample.yaml")), sample_root


def test_kconfig_defines_the_option_cmake_reads():
    kconfig = (REPO / "zephyr" / "Kconfig").read_text()
    assert re.search(r"^config EMLEARN_GEN\n\tbool \"[^\"]+\"\n", kconfig, re.M)
    assert "\tdepends on CPP\n" in kconfig
    assert "\thelp\n" in kconfig
    cmake = (REPO / "zephyr" / "CMakeLists.txt").read_text()
    assert "if(CONFIG_EMLEARN_GEN)" in cmake
    assert "zephyr_include_directories(${ZEPHYR_CURRENT_MODULE_DIR}/runtime/include)" in cmake
    conf = (SAMPLE / "prj.conf").read_text().split()
    assert "CONFIG_EMLEARN_GEN=y" in conf and "CONFIG_CPP=y" in conf


def test_sample_files():
    for name in ("CMakeLists.txt", "prj.conf", "sample.yaml", "src/main.cpp", "train_model.py"):
        assert (SAMPLE / name).is_file(), name
    cmake = (SAMPLE / "CMakeLists.txt").read_text()
    assert "find_package(Zephyr REQUIRED HINTS $ENV{ZEPHYR_BASE})" in cmake
    assert "target_sources(app PRIVATE src/main.cpp)" in cmake
    sample = load_yaml((SAMPLE / "sample.yaml").read_text())
    assert sample["sample"]["name"] and sample["tests"]


def _trained_model(tmp_path):
    path = tmp_path / "iris_tree.joblib"
    argv = sys.argv
    sys.argv = [str(SAMPLE / "train_model.py"), str(path)]
    try:
        runpy.run_path(str(SAMPLE / "train_model.py"), run_name="__main__")
    finally:
        sys.argv = argv
    import joblib

    return emlearn_gen.convert(joblib.load(path), name="iris_tree")


def _expected_output(cm):
    """Lines the sample prints, from the host runtime on main.cpp's flowers."""
    source = (SAMPLE / "src" / "main.cpp").read_text()
    table = source[source.index("flowers[][") :]
    table = table[: table.index("};")]
    rows = [[float(v) for v in re.findall(r"(-?\d+\.\d+)f", row)] for row in re.findall(r"\{([^{}]+)\}", table)]
    labels = cm.predict(rows)
    return [f"flower {i}: class {int(label)}" for i, label in enumerate(labels)]


def test_sample_builds_and_runs_under_a_zephyr_stand_in(tmp_path, capsys):
    """The module's CMake and the sample's CMakeLists with the host compiler:
    the build trains the model, generates iris_tree.hpp with
    emlearn_gen_add_model(), and the program prints what the host runtime
    predicts; sample.yaml expects the same lines."""
    require_tool("cmake", "cmake")
    require_tool("g++", "g++")
    cm = _trained_model(tmp_path)
    capsys.readouterr()
    expected = _expected_output(cm)
    sample = load_yaml((SAMPLE / "sample.yaml").read_text())
    assert sample["common"]["harness_config"]["regex"] == expected

    zephyr = tmp_path / "zephyr"
    package = zephyr / "share" / "zephyr-package" / "cmake"
    (package / "include" / "zephyr" / "sys").mkdir(parents=True)
    (package / "include" / "zephyr" / "kernel.h").write_text(_KERNEL_H)
    (package / "include" / "zephyr" / "sys" / "printk.h").write_text(_PRINTK_H)
    (package / "printk.cpp").write_text(_PRINTK_CPP)
    (package / "ZephyrConfig.cmake").write_text(_ZEPHYR_CONFIG.replace("@STRICT@", " ".join(STRICT)))
    build = tmp_path / "build"
    env = {**os.environ, "ZEPHYR_BASE": str(zephyr)}
    run(
        ["cmake", "-S", SAMPLE, "-B", build, f"-DZEPHYR_EXTRA_MODULES={REPO}",
         f"-DPython3_EXECUTABLE={sys.executable}"],
        tmp_path, env=env,
    )
    run(["cmake", "--build", build], tmp_path, env=env)
    header = build / "emlearn_gen_models" / "app" / "iris_tree.hpp"
    assert header.read_text() == cm.to_source()
    out = run([build / "app"], tmp_path)
    assert out.splitlines() == expected


@pytest.mark.parametrize("std", ["c++11", "c++17"])
def test_sample_cross_compiles_for_cortex_m3(tmp_path, std, capsys):
    require_tool("arm-none-eabi-g++", "gcc-arm-none-eabi")
    cm = _trained_model(tmp_path)
    capsys.readouterr()
    cm.save(tmp_path / "iris_tree.hpp")
    stubs = tmp_path / "stubs" / "zephyr" / "sys"
    stubs.mkdir(parents=True)
    (stubs.parent / "kernel.h").write_text(_KERNEL_H)
    (stubs / "printk.h").write_text(_PRINTK_H)
    run(
        ["arm-none-eabi-g++", "-mcpu=cortex-m3", "-mthumb", f"-std={std}", "-Os", *STRICT,
         "-ffunction-sections", "-fdata-sections", f"-I{tmp_path / 'stubs'}", f"-I{emlearn_gen.get_include()}",
         f"-I{tmp_path}", "-c", SAMPLE / "src" / "main.cpp", "-o", "main.o"],
        tmp_path,
    )
    assert (tmp_path / "main.o").stat().st_size > 0


def test_readme_zephyr_steps_match_the_sample():
    """The README's prj.conf and CMake lines are the sample's (its west build
    line is not run here: no Zephyr)."""
    assert readme_block("zephyr-prj-conf").split() == (SAMPLE / "prj.conf").read_text().split()
    cmake = (SAMPLE / "CMakeLists.txt").read_text()
    for line in readme_block("zephyr-cmake").splitlines():
        assert line in cmake.splitlines(), line
    build = readme_block("zephyr-build")
    assert "examples/zephyr/iris_classifier" in build and "-DZEPHYR_EXTRA_MODULES=" in build
    assert (REPO / "examples" / "zephyr" / "iris_classifier").is_dir()
