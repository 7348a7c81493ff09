"""Level 2: the generated header compiled by g++ and clang++ under the strict
flags, included from two translation units, against the host runtime."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from firmware_support import require_tool
from sklearn.ensemble import (
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.base import is_classifier
from sklearn.tree import DecisionTreeClassifier

import emlearn_gen
from emlearn_gen.testing import HostTarget, assert_device_matches, catalog, run_model
from emlearn_gen.testing.datasets import probe_inputs

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
    return cm, X


# Options under which the compiler may assume that no value is NaN but that no
# predefined macro reveals, so the runtime cannot refuse them as it refuses
# -ffinite-math-only (tests/test_runtime_headers.py): missing values must
# still be routed as the host routes them.
NO_NAN_TARGETS = [
    HostTarget("clang++", "c++11", extra_flags=("-fno-honor-nans",)),
    HostTarget("clang++", "c++17", opt="-O3", extra_flags=("-fno-honor-nans",)),
]


def _require(compiler: str) -> None:
    require_tool(compiler, "clang" if "clang" in compiler else "g++")


@pytest.mark.parametrize("target", COMPILERS, ids=lambda t: f"{t.name}{t.opt}")
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_header_matches_host_runtime(example, target):
    """Every catalog example, every compiler: bit-equal to the host runtime."""
    _require(target.compiler)
    cm, X_eval = catalog_model(example)
    reports = assert_device_matches(cm, X_eval, targets=[target])
    assert all(r.n_samples == len(X_eval) for r in reports.values())


@pytest.mark.parametrize("target", NO_NAN_TARGETS, ids=lambda t: " ".join((t.opt, *t.extra_flags)))
@pytest.mark.parametrize("estimator,data", [
    (RandomForestClassifier(n_estimators=15, random_state=0), "nan_classification"),
    (RandomForestRegressor(n_estimators=10, max_depth=8, random_state=0), "nan_regression"),
], ids=["classifier", "regressor"])
def test_missing_values_are_routed_under_no_nan_options(estimator, data, target, load_data):
    _require(target.compiler)
    X, y = load_data(data)
    est = estimator.fit(X, y)
    cm = emlearn_gen.convert(est, name="nan_forest")
    X_eval = np.concatenate([X, probe_inputs(est, X, n_base=10)])
    X_eval = X_eval[np.isnan(X_eval).any(axis=1)]  # every row has a missing value
    assert len(X_eval) > 300
    assert_device_matches(cm, X_eval, targets=[target])
    if is_classifier(est):
        np.testing.assert_array_equal(cm.predict(X_eval), est.predict(X_eval))


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
    assert re.search(r"#endif  // EMLEARN_GEN_MODEL_saved_[0-9a-f]{16}_HPP\n\Z", cm.to_source())


@pytest.mark.parametrize("n_estimators", [1, 3])
def test_banner_of_a_model_without_split_nodes(n_estimators):
    """Trees that are a single leaf have no split nodes to divide the table
    size by: the banner says so instead of "nan per split node"."""
    X = np.arange(24.0).reshape(8, 3)
    est = RandomForestRegressor(n_estimators=n_estimators, random_state=0).fit(X, np.full(8, 2.5))
    assert all(tree.tree_.node_count == 1 for tree in est.estimators_)
    cm = emlearn_gen.convert(est, name="constant")
    source = cm.to_source()
    banner = source[: source.index("#ifndef")]
    trees = "1 tree" if n_estimators == 1 else f"{n_estimators} trees"
    assert f"// {trees}, 0 split nodes, 1 distinct leaf;\n" in banner, banner
    assert f"// tables {cm.packed.table_bytes} bytes (no split nodes: every tree is a single leaf).\n" in banner
    assert "nan" not in banner
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))


def test_banner_counts_split_nodes_and_leaves(load_data):
    X, y = load_data("iris")
    est = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    source = emlearn_gen.convert(est, name="counted").to_source()
    n_splits = int((est.tree_.children_left >= 0).sum())
    assert f"// 1 tree, {n_splits} split nodes, " in source
    assert " per split node, leaves included).\n" in source
