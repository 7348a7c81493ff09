"""Model names are refused at convert() when the header would not compile next
to the C headers firmware includes, and every accepted name compiles."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import List

import pytest
from firmware_support import require_tool
from sklearn.tree import DecisionTreeClassifier

import emlearn_gen
from emlearn_gen._paths import get_include
from emlearn_gen.core.identifiers import check_identifier
from emlearn_gen.testing import STRICT_FLAGS

C_HEADERS = ("math.h", "stdio.h", "stdlib.h", "string.h", "stdint.h")

# The names a tester found accepted by convert() and then failing to compile.
CLASHING = {
    "INFINITY": "<math.h>",
    "NAN": "<math.h>",
    "HUGE_VAL": "macros",
    "M_PI": "macros",
    "EMLEARN_GEN_VERSION": "emlearn_gen",
    "unix": "predefine",
    "linux": "predefine",
    "uint8_t": "<stdint.h>",
    "size_t": "<stddef.h>",
    "memcpy": "<string.h>",
    "isnan": "<math.h>",
    "abs": "<stdlib.h>",
    "exit": "<stdlib.h>",
    "printf": "<stdio.h>",
    "sqrt": "<math.h>",
}

RESERVED = {
    "_foo": "starts with an underscore",
    "_Foo": "starts with an underscore",
    "a__b": "double underscore",
    "model_": r"include guard EMLEARN_GEN_MODEL_model__HPP",
    "emlearn_gen_model": "emlearn_gen",
    "Emlearn_Gen2": "emlearn_gen",
    "x" * 201: "201 characters long; use at most 200",
}

# Ordinary names, including some that look like the refused ones.
ORDINARY = [
    "model", "gesture", "iris_forest", "Model2", "x", "Ab", "KWS_v2", "tree_a1", "digits",
    "m_pi", "Infinity", "nan_model", "uint8", "memcpy_model", "Unix", "Ecg", "int_model",
    "PI_controller", "HUGE_model", "x" * 200,
]


@pytest.fixture(scope="module")
def tree(load_data):
    X, y = load_data("iris")
    return DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)


def _require(compiler: str) -> None:
    require_tool(compiler, "clang" if "clang" in compiler else "g++")


def _compile(compiler: str, std: str, folder: Path, source: str) -> subprocess.CompletedProcess:
    (folder / "main.cpp").write_text(source, encoding="utf-8")
    cmd = [compiler, f"-std={std}", *STRICT_FLAGS, f"-I{get_include()}", f"-I{folder}", "-c", "main.cpp", "-o", "main.o"]
    return subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=300, check=False)


def _main(names: List[str]) -> str:
    """One translation unit: the C headers first, then every model."""
    lines = [f"#include <{h}>" for h in C_HEADERS] + [f'#include "{n}.hpp"' for n in names]
    calls = [f"  sum += {n}::predict(x);" for n in names]
    return "\n".join(
        lines + ["", "int32_t predict_all(const float* x) {", "  int32_t sum = 0;", *calls, "  return sum;", "}", ""]
    )


@pytest.mark.parametrize("name", sorted(CLASHING))
def test_names_that_clash_with_c_headers_are_refused(tree, name):
    with pytest.raises(ValueError, match=CLASHING[name]) as err:
        emlearn_gen.convert(tree, name=name)
    assert "choose another" in str(err.value)


@pytest.mark.parametrize("name", sorted(RESERVED), ids=lambda n: n[:20])
def test_reserved_names_are_refused(tree, name):
    with pytest.raises(ValueError, match=RESERVED[name]):
        emlearn_gen.convert(tree, name=name)


def test_refused_names_really_do_not_compile(tree, tmp_path):
    """The refusals are needed: each clashing name, forced into a header,
    breaks the translation unit (GNU mode, where unix and linux are macros)."""
    _require("g++")
    cm = emlearn_gen.convert(tree, name="placeholder")
    for name in CLASHING:
        folder = tmp_path / name
        folder.mkdir()
        cm.name = name  # bypasses the check, as a hand-edited header would
        cm.save(folder / f"{name}.hpp")
        result = _compile("g++", "gnu++11", folder, _main([name]))
        assert result.returncode != 0, f"{name} compiled; its refusal is not needed"


@pytest.mark.parametrize("compiler, std", [("g++", "c++11"), ("g++", "gnu++11"), ("clang++", "gnu++17")])
def test_every_accepted_name_compiles_next_to_the_c_headers(tree, tmp_path, compiler, std):
    _require(compiler)
    for name in ORDINARY:
        assert check_identifier(name) == name
        emlearn_gen.convert(tree, name=name).save(tmp_path / f"{name}.hpp")
    result = _compile(compiler, std, tmp_path, _main(ORDINARY))
    assert result.returncode == 0, result.stderr[-3000:]


def _object_like_macros(command: List[str], includes: List[str], folder: Path) -> List[str]:
    source = folder / "macros.cpp"
    source.write_text("".join(f"#include <{h}>\n" for h in includes), encoding="utf-8")
    out = subprocess.run([*command, "-dM", "-E", str(source)], capture_output=True, text=True, timeout=120, check=True)
    names = []
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "#define" and "(" not in parts[1] and not parts[1].startswith("_"):
            names.append(parts[1])
    return names


FIRMWARE_HEADERS = ["math.h", "stdio.h", "stdlib.h", "string.h", "stdint.h", "stddef.h", "limits.h", "float.h", "errno.h"]


@pytest.mark.parametrize(
    "command",
    [
        ["g++", "-std=gnu++11"],
        ["clang++", "-std=gnu++11"],
        ["arm-none-eabi-g++", "-std=gnu++11", "-mcpu=cortex-m4"],
        ["avr-g++", "-std=gnu++11", "-mmcu=atmega2560"],
    ],
    ids=lambda c: c[0],
)
def test_macros_of_the_c_headers_are_refused(command, tmp_path):
    """Every object-like macro these C libraries define (glibc, newlib,
    avr-libc, in GNU mode; for AVR with the ATmega2560's registers) is
    refused as a model name."""
    _require(command[0])
    includes = FIRMWARE_HEADERS + (["avr/pgmspace.h", "avr/io.h"] if command[0] == "avr-g++" else [])
    macros = set(_object_like_macros(command, includes, tmp_path))
    assert len(macros) > 50
    accepted = []
    for name in sorted(macros):
        try:
            check_identifier(name)
        except ValueError:
            continue
        accepted.append(name)
    assert accepted == []


def test_names_are_checked_before_anything_is_converted():
    # An unfitted estimator with a bad name: the name is what is reported.
    with pytest.raises(ValueError, match="<string.h>"):
        emlearn_gen.convert(DecisionTreeClassifier(), name="memcpy")


def test_register_macros_of_every_avr_device_are_refused():
    """<avr/io.h> defines each MCU's registers, bits and vectors as macros
    (ADC, PORTB, SP, TCCR0A, AC_ENABLE_bm, ADCA_CH0_vect): a model named like
    one compiles on the host and breaks on that device. Every macro of every
    device header avr-libc ships is refused."""
    avr_gxx = require_tool("avr-g++", "gcc-avr avr-libc")
    # Where avr-libc keeps <avr/io.h>: the preprocessor's dependency list says.
    deps = subprocess.run(
        [avr_gxx, "-mmcu=atmega2560", "-M", "-x", "c++", "-"],
        input="#include <avr/io.h>\n", capture_output=True, text=True, timeout=60, check=True,
    ).stdout.replace("\\\n", " ").split()
    io_h = next(Path(d) for d in deps if d.endswith("avr/io.h"))
    headers = sorted(io_h.parent.glob("io*.h"))
    names = set()
    for header in headers:
        text = header.read_text(encoding="utf-8", errors="replace")
        names.update(re.findall(r"^\s*#\s*define\s+([A-Za-z][A-Za-z0-9_]*)", text, re.MULTILINE))
    assert len(headers) > 100 and len(names) > 10000, (len(headers), len(names))
    accepted = []
    for name in sorted(names):
        try:
            check_identifier(name)
        except ValueError:
            continue
        accepted.append(name)
    assert accepted == []


@pytest.mark.parametrize("name", ["ADC", "PORTB", "SP", "GPIOA", "ECG", "AC_ENABLE_bm", "ADCA_CH0_vect"])
def test_names_in_capitals_are_refused_as_device_macros(tree, name):
    with pytest.raises(ValueError, match="device register macro.*use a lower-case letter"):
        emlearn_gen.convert(tree, name=name)
