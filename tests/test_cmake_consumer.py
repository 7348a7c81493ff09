"""CMake consumers: a tiny project that generates its model header at build
time with emlearn_gen_add_model() and uses the runtime as
emlearn_gen::runtime, once from the installed package (find_package) and
once through add_subdirectory, with the README's own steps."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from firmware_support import (
    REPO,
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

RUNTIME = REPO / "runtime" / "include" / "emlearn_gen"


@pytest.fixture(scope="module")
def estimators(load_data):
    X, y = load_data("iris")
    return (
        RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, y),
        RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0).fit(X, X[:, 0] * 2.0),
        X[::7],
    )


def _project(folder: Path, estimator, X, cmakelists: str, models=("gesture",)) -> Path:
    """A project folder: the model saved as gesture.skops (or .joblib),
    CMakeLists.txt and a main.cpp that prints every result."""
    folder.mkdir(parents=True, exist_ok=True)
    model = saved_model(estimator, folder, "gesture")
    cmakelists = cmakelists.replace("gesture.skops", model.name)
    (folder / "CMakeLists.txt").write_text(cmakelists)
    cms = [emlearn_gen.convert(estimator, name="gesture")]
    X32 = cms[0].check_input(X)
    (folder / "main.cpp").write_text(
        "#include <stdio.h>\n#include <stdint.h>\n#include <string.h>\n"
        '#include "gesture.hpp"\n'
        "static void eg_putc(char c) { putchar(c); }\n"
        + rows_source(cms, X32)
        + "int main() {\n  eg_run();\n  return 0;\n}\n"
    )
    return model


def _require_tools():
    require_tool("cmake", "cmake")
    require_tool("g++", "g++")


def test_installed_package_with_find_package(estimators, tmp_path):
    """README: install the runtime package, then configure and build a
    project that finds it; the program prints what the host runtime does."""
    _require_tools()
    clf, _, X = estimators
    project = tmp_path / "app"
    model = _project(project, clf, X, readme_block("cmake-project"))
    env = shell_env(home=tmp_path / "home")
    run_shell(readme_block("cmake-install"), project, env, model)

    prefix = tmp_path / "home" / ".local"
    for header in RUNTIME.glob("*.hpp"):
        assert (prefix / "include" / "emlearn_gen" / header.name).read_bytes() == header.read_bytes()
    package = prefix / "share" / "cmake" / "emlearn_gen"
    for name in ("emlearn_genConfig.cmake", "emlearn_genConfigVersion.cmake", "emlearn_genTargets.cmake",
                 "emlearn_genAddModel.cmake"):
        assert (package / name).is_file(), name

    cm = emlearn_gen.convert(clf, name="gesture")
    header = project / "build" / "emlearn_gen_models" / "gesture_app" / "gesture.hpp"
    assert header.read_text() == cm.to_source()
    out = run([project / "build" / "gesture_app"], project)
    assert printed_lines(out) == expected_lines([cm], cm.check_input(X))

    # The version file accepts this version only.
    version = emlearn_gen.__version__
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.15)\nproject(probe NONE)\n"
        f"find_package(emlearn_gen {version} EXACT REQUIRED)\n"
        "find_package(emlearn_gen 99.0 QUIET)\n"
        "if(emlearn_gen_FOUND)\n  message(FATAL_ERROR \"accepted 99.0\")\nendif()\n"
        "if(NOT TARGET emlearn_gen::runtime OR NOT COMMAND emlearn_gen_add_model)\n"
        "  message(FATAL_ERROR \"incomplete package\")\nendif()\n"
    )
    run(["cmake", "-S", probe, "-B", probe / "build", f"-DCMAKE_PREFIX_PATH={prefix}"], probe, env=env)


def test_add_subdirectory_standalone_and_regeneration(estimators, tmp_path):
    """README: add_subdirectory instead of find_package; a second, STANDALONE
    model with DTYPE; and a changed model file regenerates its header."""
    _require_tools()
    clf, reg, X = estimators
    project = tmp_path / "app"
    cmakelists = readme_block("cmake-project").replace(
        "find_package(emlearn_gen REQUIRED)\n", readme_block("cmake-subdirectory")
    )
    assert "add_subdirectory" in cmakelists
    cmakelists = cmakelists.replace("path/to/emlearn-gen", REPO.as_posix())
    cmakelists += (
        "add_executable(second second.cpp)\n"
        "emlearn_gen_add_model(second MODEL petals.joblib NAME petals STANDALONE DTYPE float64)\n"
    )
    model = _project(project, clf, X, cmakelists)
    import joblib

    joblib.dump(reg, project / "petals.joblib")
    (project / "second.cpp").write_text(
        '#include "petals.hpp"\nint main() {\n  float x[petals::n_features] = {5.0f, 3.0f, 1.5f, 0.2f};\n'
        "  float y[petals::n_outputs];\n  petals::predict(x, y);\n  return y[0] > 0.0f ? 0 : 1;\n}\n"
    )
    env = shell_env()
    run(["cmake", "-S", ".", "-B", "build"], project, env=env)
    run(["cmake", "--build", "build"], project, env=env)
    run([project / "build" / "second"], project)
    petals = project / "build" / "emlearn_gen_models" / "second" / "petals.hpp"
    assert petals.read_text() == emlearn_gen.convert(reg, name="petals", dtype="float64").to_source(standalone=True)
    cm = emlearn_gen.convert(clf, name="gesture")
    assert printed_lines(run([project / "build" / "gesture_app"], project)) == expected_lines([cm], cm.check_input(X))

    # A new model file: the next build regenerates the header and rebuilds.
    changed = RandomForestClassifier(n_estimators=2, max_depth=2, random_state=3).fit(X, clf.predict(X))
    saved_model(changed, project, "gesture")
    assert model.exists()
    run(["cmake", "--build", "build"], project, env=env)
    cm2 = emlearn_gen.convert(changed, name="gesture")
    assert printed_lines(run([project / "build" / "gesture_app"], project)) == expected_lines([cm2], cm2.check_input(X))


def test_add_model_reports_mistakes_at_configure_time(tmp_path):
    _require_tools()
    project = tmp_path / "bad"
    project.mkdir()
    (project / "main.cpp").write_text("int main() { return 0; }\n")
    cases = {
        "MODEL missing.skops NAME gesture": "missing.skops does not exist",
        "MODEL main.cpp NAME 9lives": "NAME '9lives' is not a C++ identifier",
        "NAME gesture": "MODEL <file> and NAME <name> are required",
        "MODEL main.cpp NAME gesture COLOUR red": "unknown arguments",
    }
    for args, message in cases.items():
        (project / "CMakeLists.txt").write_text(
            "cmake_minimum_required(VERSION 3.15)\nproject(bad CXX)\n"
            f"add_subdirectory({REPO.as_posix()} emlearn_gen)\n"
            f"add_executable(app main.cpp)\nemlearn_gen_add_model(app {args})\n"
        )
        proc = subprocess.run(
            ["cmake", "-S", project, "-B", project / "build"], capture_output=True, text=True,
            env=shell_env(), check=False,
        )
        assert proc.returncode != 0, args
        assert message in re.sub(r"\s+", " ", proc.stderr), (args, proc.stderr)
