"""Level 2: the generated header compiled by g++ and clang++ under the strict
flags, included from two translation units, against the host runtime."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import emlearn_gen
from emlearn_gen.testing import HostTarget, assert_device_matches, catalog, run_model

COMPILERS = [HostTarget(c, std) for c in ("g++", "clang++") for std in ("c++11", "c++17")] + [
    # Unoptimised C++11 would fail to link if the header odr-used a static
    # constexpr member, which has no out-of-line definition before C++17.
    HostTarget("g++", "c++11", opt="-O0"),
]

EXAMPLES = catalog.examples()


def catalog_model(example):
    """(CModel, evaluation rows) of a catalog example."""
    est, X = catalog.fitted(example)
    cm = emlearn_gen.convert(est, name="compiled", **example.options)
    if not cm._lowered.allow_nan:
        X = X[~np.isnan(X).any(axis=1)]
    return cm, X


def _require(compiler: str) -> None:
    if shutil.which(compiler) is None:
        message = f"{compiler} is not installed: apt-get install {'clang' if 'clang' in compiler else 'g++'}"
        if os.environ.get("EMLEARN_GEN_REQUIRE_DEVICE") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.parametrize("target", COMPILERS, ids=lambda t: f"{t.name}{t.opt}")
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_header_matches_host_runtime(example, target):
    """Every catalog example, every compiler: bit-equal to the host runtime."""
    _require(target.compiler)
    cm, X_eval = catalog_model(example)
    reports = assert_device_matches(cm, X_eval, targets=[target])
    assert all(r.n_samples == len(X_eval) for r in reports.values())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_string_labels_and_dtypes_compile(dtype, load_data, tmp_path):
    _require("g++")
    X, y = load_data("iris")
    labels = np.array(['set"osa', "versi\\color", "vir??=ginica */"])[y]
    est = RandomForestClassifier(n_estimators=8, max_depth=3, random_state=0).fit(X, labels)
    cm = emlearn_gen.convert(est, name="iris_labels", dtype=dtype)
    got = run_model(cm, X, HostTarget("g++", "c++11"), workdir=tmp_path)
    np.testing.assert_array_equal(est.classes_.take(got["predict"]), est.predict(X))
    assert_device_matches(cm, X, targets=[HostTarget("clang++", "c++17")])
    source = (tmp_path / "iris_labels.hpp").read_text()
    # Labels reach C++ only as escaped literals.
    # Quotes, backslashes and trigraph question marks are octal escapes.
    for literal in ('"set\\042osa"', '"versi\\134color"', '"vir\\077\\077=ginica */"'):
        assert literal in source


def test_generated_header_includes_only_runtime_headers(load_data):
    X, y = load_data("iris")
    source = emlearn_gen.convert(DecisionTreeClassifier().fit(X, y), name="inc").to_source()
    includes = re.findall(r"#include\s+(\S+)", source)
    assert includes == ['"emlearn_gen/tree_ensemble.hpp"']


def _compile_against_edited_runtime(tmp_path: Path, source: str, pattern: str, replacement: str):
    """Compiles ``source`` (a model header) against a copy of the runtime
    headers with ``pattern`` replaced; returns the compiler's result."""
    header = tmp_path / "versioned.hpp"
    header.write_text(source)
    fake_include = tmp_path / "include" / "emlearn_gen"
    fake_include.mkdir(parents=True)
    edited = 0
    for header_file in (Path(emlearn_gen.get_include()) / "emlearn_gen").glob("*.hpp"):
        text, n = re.subn(pattern, replacement, header_file.read_text())
        edited += n
        (fake_include / header_file.name).write_text(text)
    assert edited == 1, f"{pattern!r} matched {edited} times in the runtime headers"
    (tmp_path / "main.cpp").write_text('#include "versioned.hpp"\nint main() { return 0; }\n')
    return subprocess.run(
        ["g++", "-std=c++11", f"-I{tmp_path / 'include'}", "-c", "main.cpp", "-o", "main.o"],
        cwd=tmp_path, capture_output=True, text=True,
    )


def test_header_compiles_against_a_runtime_of_another_version_with_the_same_format(load_data, tmp_path):
    _require("g++")
    X, y = load_data("iris")
    cm = emlearn_gen.convert(DecisionTreeClassifier().fit(X, y), name="versioned")
    proc = _compile_against_edited_runtime(
        tmp_path, cm.to_source(), r"#define EMLEARN_GEN_VERSION_PATCH \d+", "#define EMLEARN_GEN_VERSION_PATCH 99"
    )
    assert proc.returncode == 0, proc.stderr


def test_header_refuses_a_runtime_of_another_table_format(load_data, tmp_path):
    _require("g++")
    X, y = load_data("iris")
    cm = emlearn_gen.convert(DecisionTreeClassifier().fit(X, y), name="versioned")
    proc = _compile_against_edited_runtime(
        tmp_path, cm.to_source(), r"#define EMLEARN_GEN_TREES_FORMAT \d+", "#define EMLEARN_GEN_TREES_FORMAT 99"
    )
    assert proc.returncode != 0
    assert "regenerate" in proc.stderr and "EMLEARN_GEN_TREES_FORMAT" in proc.stderr


def test_generation_is_deterministic(load_data):
    X, y = load_data("wine")
    a = RandomForestClassifier(n_estimators=5, random_state=1).fit(X, y)
    b = RandomForestClassifier(n_estimators=5, random_state=1).fit(X, y)
    source = emlearn_gen.convert(a, name="wine").to_source()
    assert source == emlearn_gen.convert(a, name="wine").to_source()
    assert source == emlearn_gen.convert(b, name="wine").to_source()
    assert source != emlearn_gen.convert(a, name="wine2").to_source()
    # The banner names versions and options, but nothing that changes per run.
    assert "scikit-learn" in source and "RandomForestClassifier" in source and "dtype=float64" in source
    assert not re.search(r"\d{4}-\d{2}-\d{2}", source)


def test_save_writes_the_source_and_returns_the_path(load_data, tmp_path):
    X, y = load_data("iris")
    cm = emlearn_gen.convert(DecisionTreeClassifier().fit(X, y), name="saved")
    path = cm.save(tmp_path / "saved.hpp")
    assert path == tmp_path / "saved.hpp"
    assert path.read_text() == cm.to_source()
    assert cm.to_source().endswith("#endif  // EMLEARN_GEN_MODEL_saved_HPP\n")
