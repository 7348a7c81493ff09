"""Standalone headers: one file per model that carries the runtime it needs,
compiles with no include path, and coexists with other standalone models and
with the runtime headers, in one translation unit and across several."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from firmware_support import (
    STRICT,
    expected_lines,
    printed_lines,
    readme_block,
    require_tool,
    rows_source,
    run,
    run_shell,
    saved_model,
    shell_env,
)
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

import emlearn_gen
from emlearn_gen.core.standalone import StandaloneError, make_standalone

RUNTIME = Path(emlearn_gen.get_include()) / "emlearn_gen"


@pytest.fixture(scope="module")
def models(load_data):
    Xc, yc = load_data("iris")
    clf = RandomForestClassifier(n_estimators=6, max_depth=4, random_state=0).fit(Xc, yc)
    # A regressor on iris' four features, so one input row feeds both models.
    reg = RandomForestRegressor(n_estimators=4, max_depth=5, random_state=0).fit(Xc, Xc[:, ::-1] * 3.0)
    return (
        emlearn_gen.convert(clf, name="flower"),
        emlearn_gen.convert(reg, name="petals", dtype="float64"),
        Xc[::5],
    )


def _main_source(models, X32, includes, extra_decl=""):
    lines = ["#include <stdio.h>", "#include <stdint.h>", "#include <string.h>"]
    lines += [f'#include "{name}"' for name in includes]
    lines += ["", "static void eg_putc(char c) { putchar(c); }", extra_decl, rows_source(models, X32)]
    lines += ["int main() {", "  eg_run();", "  return other_tu() == 0 ? 0 : 1;", "}", ""]
    return "\n".join(lines)


def _other_source(includes, model_name):
    lines = ["#include <stdint.h>"] + [f'#include "{name}"' for name in includes]
    lines += [
        "int other_tu();",
        "int other_tu() {",
        f"  float x[{model_name}::n_features] = {{0}};",
        f"  return {model_name}::n_features > 0 && {model_name}::predict(x) >= 0 ? 0 : 1;",
        "}",
        "",
    ]
    return "\n".join(lines)


def test_standalone_header_inlines_each_runtime_header_once(models):
    cm = models[0]
    source = cm.to_source(standalone=True)
    # No quoted include is left: nothing to find on an include path.
    assert not re.search(r'#\s*include\s*"', source)
    included = re.findall(r'#include\s+"([^"]+)"', cm.to_source())
    assert included == ["emlearn_gen/tree_ensemble.hpp"]
    for header in ("common.hpp", "tree_ensemble.hpp"):
        text = (RUNTIME / header).read_text()
        assert source.count(f"// ---- begin emlearn_gen/{header} ") == 1
        guard = re.search(r"#ifndef (\w+)", text).group(1)
        assert source.count(f"#ifndef {guard}\n") == 1, "include guard kept, once"
    # Dependencies come first, and the runtime before the version check.
    assert source.index("begin emlearn_gen/common.hpp") < source.index("begin emlearn_gen/tree_ensemble.hpp")
    check = "#if !defined(EMLEARN_GEN_TREES_FORMAT)"
    assert source.index("end emlearn_gen/tree_ensemble.hpp") < source.index(check)
    # The model part is unchanged.
    normal = cm.to_source()
    tail = normal[normal.index(check) :]
    assert source.endswith(tail)


def test_standalone_output_is_byte_stable(models, load_data):
    X, y = load_data("iris")
    a = emlearn_gen.convert(RandomForestClassifier(n_estimators=3, random_state=2).fit(X, y), name="same")
    b = emlearn_gen.convert(RandomForestClassifier(n_estimators=3, random_state=2).fit(X, y), name="same")
    text = a.to_source(standalone=True)
    assert text == a.to_source(standalone=True) == b.to_source(standalone=True)
    assert str(Path(emlearn_gen.get_include())) not in text, "no machine paths in the header"


def test_save_standalone_writes_to_source(models, tmp_path):
    cm = models[0]
    path = cm.save(tmp_path / "flower.hpp", standalone=True)
    assert path == tmp_path / "flower.hpp"
    assert path.read_bytes() == cm.to_source(standalone=True).encode()
    assert cm.save(tmp_path / "plain.hpp").read_text() == cm.to_source()


@pytest.mark.parametrize(
    "compiler,std", [("g++", "c++11"), ("g++", "c++20"), ("clang++", "c++14"), ("clang++", "c++17")]
)
def test_two_standalone_models_compile_without_include_path(models, tmp_path, compiler, std):
    """Two standalone models in two translation units, no -I at all: same
    results as the host runtime, bit for bit."""
    require_tool(compiler, "clang" if "clang" in compiler else "g++")
    flower, petals, X = models
    X32 = flower.check_input(X)
    flower.save(tmp_path / "flower.hpp", standalone=True)
    petals.save(tmp_path / "petals.hpp", standalone=True)
    (tmp_path / "main.cpp").write_text(
        _main_source([flower, petals], X32, ["flower.hpp", "petals.hpp"], "int other_tu();")
    )
    # The other unit includes them in the other order.
    (tmp_path / "other.cpp").write_text(_other_source(["petals.hpp", "flower.hpp"], "flower"))
    run([compiler, f"-std={std}", "-O2", *STRICT, "main.cpp", "other.cpp", "-o", "prog"], tmp_path)
    out = run([tmp_path / "prog"], tmp_path)
    assert printed_lines(out) == expected_lines([flower, petals], X32)


def test_standalone_and_runtime_headers_share_a_program(models, tmp_path):
    """A standalone model next to a normal model header and a direct include
    of the runtime, in either order, in one unit and across units."""
    require_tool("g++", "g++")
    flower, petals, X = models
    X32 = flower.check_input(X)
    flower.save(tmp_path / "flower.hpp", standalone=True)
    petals.save(tmp_path / "petals.hpp")  # needs the runtime on the include path
    (tmp_path / "main.cpp").write_text(
        _main_source(
            [flower, petals], X32,
            ["emlearn_gen/common.hpp", "flower.hpp", "petals.hpp"], "int other_tu();",
        )
    )
    (tmp_path / "other.cpp").write_text(
        _other_source(["petals.hpp", "emlearn_gen/tree_ensemble.hpp", "flower.hpp"], "flower")
    )
    include = f"-I{emlearn_gen.get_include()}"
    run(["g++", "-std=c++17", "-O2", *STRICT, include, "main.cpp", "other.cpp", "-o", "prog"], tmp_path)
    assert printed_lines(run([tmp_path / "prog"], tmp_path)) == expected_lines([flower, petals], X32)


def test_standalone_header_still_checks_the_table_format(models, tmp_path):
    """A runtime of another table format included first wins the include
    guards; the model's format check then stops the build and says to
    regenerate."""
    require_tool("g++", "g++")
    cm = models[0]
    cm.save(tmp_path / "flower.hpp", standalone=True)
    other = tmp_path / "include" / "emlearn_gen"
    other.mkdir(parents=True)
    for header in ("common.hpp", "float64.hpp", "math.hpp"):
        (other / header).write_text((RUNTIME / header).read_text())
    text = re.sub(
        r"#define EMLEARN_GEN_TREES_FORMAT \d+", "#define EMLEARN_GEN_TREES_FORMAT 99",
        (RUNTIME / "tree_ensemble.hpp").read_text(),
    )
    (other / "tree_ensemble.hpp").write_text(text)
    (tmp_path / "main.cpp").write_text(
        '#include "emlearn_gen/tree_ensemble.hpp"\n#include "flower.hpp"\nint main() { return 0; }\n'
    )
    proc = subprocess.run(
        ["g++", "-std=c++11", f"-I{tmp_path / 'include'}", "-c", "main.cpp"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert proc.returncode != 0
    assert "regenerate" in proc.stderr
    # Alone, the same header builds.
    (tmp_path / "alone.cpp").write_text('#include "flower.hpp"\nint main() { return 0; }\n')
    run(["g++", "-std=c++11", *STRICT, "-c", "alone.cpp"], tmp_path)


def test_standalone_header_cross_compiles_for_avr(models, tmp_path):
    """No include path on avr-g++ either (C headers only, tables in PROGMEM)."""
    require_tool("avr-g++", "gcc-avr avr-libc")
    cm = models[0]
    cm.save(tmp_path / "flower.hpp", standalone=True)
    (tmp_path / "main.cpp").write_text(
        '#include "flower.hpp"\n'
        "volatile float input[flower::n_features];\n"
        "int main() {\n"
        "  float x[flower::n_features];\n"
        "  for (int i = 0; i < flower::n_features; ++i) {\n"
        "    x[i] = input[i];\n"
        "  }\n"
        "  return static_cast<int>(flower::predict(x));\n"
        "}\n"
    )
    run(["avr-g++", "-mmcu=atmega328p", "-std=c++11", "-Os", *STRICT, "main.cpp", "-o", "main.elf"], tmp_path)


def test_make_standalone_refuses_what_it_cannot_inline(tmp_path):
    root = tmp_path / "include"
    (root / "emlearn_gen").mkdir(parents=True)
    (root / "emlearn_gen" / "a.hpp").write_text(
        "#ifndef A_HPP\n#define A_HPP\n#if defined(X)\n#include \"b.hpp\"\n#endif\n#endif\n"
    )
    (root / "emlearn_gen" / "b.hpp").write_text("#ifndef B_HPP\n#define B_HPP\n#endif\n")
    with pytest.raises(StandaloneError, match="conditional"):
        make_standalone('#include "emlearn_gen/a.hpp"\n', root)
    with pytest.raises(StandaloneError, match="not in the runtime headers"):
        make_standalone('#include "emlearn_gen/missing.hpp"\n', root)
    # Includes of C headers stay; a header without runtime includes is unchanged.
    assert make_standalone("#include <stdint.h>\nint x;\n", root) == "#include <stdint.h>\nint x;\n"
    text = make_standalone('#include "emlearn_gen/b.hpp"\n#include "emlearn_gen/b.hpp"\nint y;\n', root)
    assert text.count("#ifndef B_HPP") == 1 and text.endswith("int y;\n")
    assert text.count("begin emlearn_gen/b.hpp") == 1


def test_readme_standalone_steps(models, tmp_path):
    """README: save the model, convert it with --standalone and cross-compile
    the README's main.cpp with no include path."""
    require_tool("arm-none-eabi-g++", "gcc-arm-none-eabi")
    estimator = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(
        models[2], models[0].predict(models[2])
    )
    save = readme_block("save-model")
    try:
        import skops.io  # noqa: F401

        exec(compile(save.replace('"gesture.skops"', repr(str(tmp_path / "gesture.skops"))), "README", "exec"),
             {"estimator": estimator})
        model = tmp_path / "gesture.skops"
    except ImportError:
        model = saved_model(estimator, tmp_path, "gesture")
    assert model.is_file()
    (tmp_path / "main.cpp").write_text(readme_block("standalone-main"))
    run_shell(readme_block("standalone-shell"), tmp_path, shell_env(), model)
    assert (tmp_path / "gesture.hpp").read_text() == emlearn_gen.convert(estimator, name="gesture").to_source(
        standalone=True
    )
    assert (tmp_path / "main.o").stat().st_size > 0
