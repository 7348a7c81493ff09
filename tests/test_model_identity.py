"""One model per name: two different models converted under the same name
must not mix silently. In one translation unit the second header stops with
an #error naming the model, across translation units the link fails naming
it; the same header included twice, or from several translation units, still
builds (and runs the one model)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

import emlearn_gen
from emlearn_gen.testing import STRICT_FLAGS

NAME = "gesture"
COMPILE_ERROR = f"two different models are named {NAME}"
LINK_SYMBOL = f"emlearn_gen_two_different_models_named_{NAME}"
TIMEOUT_S = 120

HOST_COMPILERS = {"g++": "g++", "clang++": "clang"}  # compiler -> Debian package
# Device builds as firmware links them: sections the linker may drop.
ARM_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections", "--specs=nosys.specs"]
AVR_FLAGS = ["-mmcu=atmega2560", "-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections"]
CROSS = {
    "arm-none-eabi-g++": ("gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib", ARM_FLAGS),
    "avr-g++": ("gcc-avr avr-libc", AVR_FLAGS),
}
# Link-time optimisation too: Arduino builds use it, and it must neither hide
# the clash nor report one for the same header.
OPT_LEVELS = ["-O0", "-O2", "-O2 -flto"]


def _missing(message: str) -> None:
    if os.environ.get("EMLEARN_GEN_REQUIRE_DEVICE") == "1":
        pytest.fail(f"{message} (EMLEARN_GEN_REQUIRE_DEVICE=1)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def two_gestures(load_data, tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, Dict[str, emlearn_gen.CModel]]:
    """left/gesture.hpp and right/gesture.hpp: two different models of one
    name, as converted from left/gesture.skops and right/gesture.skops."""
    X, y = load_data("iris")
    root = tmp_path_factory.mktemp("two_gestures")
    models = {}
    for side, seed in (("left", 0), ("right", 1)):
        est = RandomForestClassifier(n_estimators=4, max_depth=3, random_state=seed).fit(X, y)
        cm = emlearn_gen.convert(est, name=NAME)
        (root / side).mkdir()
        cm.save(root / side / f"{NAME}.hpp")
        models[side] = cm
    return root, models


def _workdir(root: Path, folder: Path) -> Path:
    """``folder`` with the two models' folders in it."""
    for side in ("left", "right"):
        (folder / side).symlink_to(root / side, target_is_directory=True)
    return folder


def _unit(folder: Path, stem: str, headers: Sequence[str]) -> Path:
    """A translation unit including ``headers`` and defining ``stem``(x)."""
    includes = "".join(f'#include "{h}"\n' for h in headers)
    source = folder / f"{stem}.cpp"
    source.write_text(
        f"{includes}\nint32_t {stem}(const float* x);\n"
        f"int32_t {stem}(const float* x) {{ return {NAME}::predict(x); }}\n"
    )
    return source


def _main(folder: Path, stems: Sequence[str], row: np.ndarray) -> Path:
    """main(): prints what each unit's predict returns for ``row``."""
    values = ", ".join(f"{float(v)!r}f" for v in row)
    decls = "".join(f"int32_t {s}(const float* x);\n" for s in stems)
    calls = "".join(f'  printf("%ld\\n", static_cast<long>({s}(x)));\n' for s in stems)
    source = folder / "main.cpp"
    source.write_text(
        f"#include <stdint.h>\n#include <stdio.h>\n{decls}"
        f"int main() {{\n  const float x[] = {{{values}}};\n{calls}  return 0;\n}}\n"
    )
    return source


def _build(compiler: str, flags: Sequence[str], sources: Sequence[Path], cwd: Path) -> subprocess.CompletedProcess:
    cmd = [compiler, "-std=c++11", *STRICT_FLAGS, *flags, f"-I{emlearn_gen.get_include()}", f"-I{cwd}"]
    cmd += [str(s) for s in sources] + ["-o", str(cwd / "program")]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)


def _host(compiler: str) -> str:
    if shutil.which(compiler) is None:
        _missing(f"{compiler} not found: apt-get install {HOST_COMPILERS[compiler]}")
    return compiler


def _cross(compiler: str, folder: Path) -> List[str]:
    """Flags of a cross build, after checking the compiler links a program."""
    package, flags = CROSS[compiler]
    if shutil.which(compiler) is None:
        _missing(f"{compiler} not found: apt-get install {package}")
    probe = folder / "probe.cpp"
    probe.write_text("int main() { return 0; }\n")
    proc = subprocess.run([compiler, *flags, str(probe), "-o", str(folder / "probe")], capture_output=True, text=True)
    if proc.returncode != 0:
        _missing(f"{compiler} cannot link a program: apt-get install {package}\n{proc.stderr}")
    return flags


def _failure_text(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0, "the build succeeded:\n" + proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


@pytest.mark.parametrize("compiler", sorted(HOST_COMPILERS))
def test_two_models_of_one_name_in_one_unit_do_not_compile(compiler, two_gestures, tmp_path):
    root, _ = two_gestures
    _host(compiler)
    unit = _unit(_workdir(root, tmp_path), "one_unit", ["left/gesture.hpp", "right/gesture.hpp"])
    text = _failure_text(_build(compiler, ["-c"], [unit], tmp_path))
    assert COMPILE_ERROR in text, text


def _two_unit_sources(folder: Path, headers: Sequence[str], X: np.ndarray) -> List[Path]:
    """Two units, each including one of ``headers``, and a main() calling both."""
    units = [_unit(folder, f"unit_{i}", [header]) for i, header in enumerate(headers)]
    return units + [_main(folder, [u.stem for u in units], X[0])]


def _expected_link_error(text: str) -> None:
    assert LINK_SYMBOL in text and "multiple definition" in text, text


@pytest.mark.parametrize("opt", OPT_LEVELS)
@pytest.mark.parametrize("compiler", sorted(HOST_COMPILERS))
def test_two_models_of_one_name_in_two_units_do_not_link(compiler, opt, two_gestures, load_data, tmp_path):
    root, _ = two_gestures
    _host(compiler)
    folder = _workdir(root, tmp_path)
    sources = _two_unit_sources(folder, ["left/gesture.hpp", "right/gesture.hpp"], load_data("iris")[0])
    _expected_link_error(_failure_text(_build(compiler, opt.split(), sources, tmp_path)))


@pytest.mark.parametrize("opt", OPT_LEVELS)
@pytest.mark.parametrize("compiler", sorted(CROSS))
def test_two_models_of_one_name_do_not_link_for_devices(compiler, opt, two_gestures, load_data, tmp_path):
    root, _ = two_gestures
    flags = _cross(compiler, tmp_path)
    X = load_data("iris")[0]
    folder = _workdir(root, tmp_path)
    different = _two_unit_sources(folder, ["left/gesture.hpp", "right/gesture.hpp"], X)
    _expected_link_error(_failure_text(_build(compiler, [*opt.split(), *flags], different, tmp_path)))
    # The same header from both units links: identical models share one copy.
    same = _two_unit_sources(folder, ["left/gesture.hpp", "left/gesture.hpp"], X)
    proc = _build(compiler, [*opt.split(), *flags], same, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("opt", OPT_LEVELS)
@pytest.mark.parametrize("compiler", sorted(HOST_COMPILERS))
def test_one_header_twice_in_a_unit_and_in_two_units_builds(compiler, opt, two_gestures, load_data, tmp_path):
    """The one model is included twice in one unit and once more in another:
    it builds and both units return the host runtime's label."""
    root, models = two_gestures
    _host(compiler)
    X = load_data("iris")[0]
    folder = _workdir(root, tmp_path)
    units = [
        _unit(folder, "unit_0", ["left/gesture.hpp", "left/gesture.hpp"]),
        _unit(folder, "unit_1", ["left/gesture.hpp"]),
    ]
    sources = units + [_main(tmp_path, ["unit_0", "unit_1"], X[0])]
    proc = _build(compiler, opt.split(), sources, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = subprocess.run([str(tmp_path / "program")], capture_output=True, text=True, check=True).stdout
    want = int(models["left"].raw_outputs("predict", X[:1])[0])
    assert out.split() == [str(want), str(want)]


def test_standalone_and_normal_header_of_one_model_share_a_unit(two_gestures, tmp_path):
    """A standalone header is the same model as the normal one: together they
    compile; with the other model of the name they do not."""
    root, models = two_gestures
    _host("g++")
    _workdir(root, tmp_path)
    (tmp_path / "standalone").mkdir()
    models["left"].save(tmp_path / "standalone" / f"{NAME}.hpp", standalone=True)
    same = _unit(tmp_path, "same", ["standalone/gesture.hpp", "left/gesture.hpp"])
    proc = _build("g++", ["-c"], [same], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    other = _unit(tmp_path, "other", ["standalone/gesture.hpp", "right/gesture.hpp"])
    assert COMPILE_ERROR in _failure_text(_build("g++", ["-c"], [other], tmp_path))


def _guard(source: str) -> str:
    match = re.search(r"^#ifndef (EMLEARN_GEN_MODEL_\w+_HPP)$", source, flags=re.M)
    assert match, "no include guard"
    return match.group(1)


def test_guard_follows_the_model_not_the_comments(two_gestures, load_data):
    """The guard (and the link-time symbol's group) changes with the tables,
    labels and options, and only with them."""
    X, y = load_data("iris")
    _, models = two_gestures
    left, right = (models[side].to_source() for side in ("left", "right"))
    assert _guard(left) != _guard(right)
    est = RandomForestClassifier(n_estimators=4, max_depth=3, random_state=0).fit(X, y)
    assert _guard(emlearn_gen.convert(est, name=NAME).to_source()) == _guard(left)
    assert _guard(emlearn_gen.convert(est, name=NAME, dtype="float32").to_source()) != _guard(left)
    # Other labels, the same tables.
    relabelled = RandomForestClassifier(n_estimators=4, max_depth=3, random_state=0).fit(X, y + 10)
    assert _guard(emlearn_gen.convert(relabelled, name=NAME).to_source()) != _guard(left)
    # Another name, the same fingerprint.
    renamed = _guard(emlearn_gen.convert(est, name="wrist").to_source())
    assert renamed.replace("wrist", NAME) == _guard(left)
