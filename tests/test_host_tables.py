"""The host runtime's tables cannot change after conversion: the packed
tables are read-only, and the bound runtime predicts from its own copies,
checked once, so a writable copy that a user modifies (or anything else
Python does to the arrays it was given) cannot reach the kernels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

import emlearn_gen
from emlearn_gen.core.host import HostModel
from emlearn_gen.families import REGISTRY

TREES = REGISTRY.get("trees")


def host_forest(packed, entry_points):
    """A host runtime built from ``packed``'s tables."""
    return HostModel(TREES.layout, TREES.tables(packed), entry_points)

TABLES = ("nodes", "thresholds", "leaves", "leaf_values", "leaf_codes", "roots", "leaf_starts", "leaf_entries")


@pytest.fixture(scope="module")
def forest(load_data):
    X, y = load_data("nan_classification")
    est = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=0).fit(X, y)
    return est, emlearn_gen.convert(est, name="wine_forest"), X


@pytest.mark.parametrize("table", TABLES)
def test_packed_tables_are_read_only(table, forest):
    est, cm, X = forest
    array = getattr(cm.packed, table)
    assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        array[...] = 0
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))


def _writable(packed):
    """The same tables as writable arrays that the caller keeps."""
    return dataclasses.replace(packed, **{name: np.array(getattr(packed, name)) for name in TABLES})


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_runtime_keeps_its_own_tables(dtype, load_data):
    """Tables handed to the runtime and then overwritten in place: its
    results stay those of the tables it was given (and scikit-learn's)."""
    X, y = load_data("nan_regression")
    est = RandomForestRegressor(n_estimators=5, max_depth=6, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est, name="diabetes", dtype=dtype)
    X32 = cm.check_input(X)
    want = cm.raw_outputs("predict", X32)
    packed = _writable(cm.packed)
    runtime = host_forest(packed, cm.entry_points)
    # Every split now sends everything left and every leaf is huge: a runtime
    # that read these arrays would answer otherwise (no read leaves them,
    # since the layout stays the same).
    packed.thresholds[...] = np.inf
    packed.leaf_values[...] = 1e30
    got = runtime.run("predict", X32)
    np.testing.assert_array_equal(got, want)
    # The very kernels the other runtime runs, on the overwritten tables,
    # answer otherwise: the check above could fail.
    changed = host_forest(packed, cm.entry_points).run("predict", X32)
    assert not np.array_equal(changed, want)


def test_runtime_survives_garbage_written_to_its_inputs(forest):
    """What a tester did to cm.packed.nodes (now refused), done to a writable
    copy after the runtime was built from it: predictions are unchanged (the
    runtime reads only its own copies, so nothing reads out of bounds)."""
    est, cm, X = forest
    packed = _writable(cm.packed)
    runtime = host_forest(packed, cm.entry_points)
    packed.nodes[:] = 0xFF
    packed.roots[:] = 0xFF
    packed.leaf_codes[:] = 0xFF
    X32 = cm.check_input(X)
    np.testing.assert_array_equal(est.classes_.take(runtime.run("predict", X32)), est.predict(X))
    with pytest.raises(ValueError, match="invalid packed forest"):
        host_forest(packed, cm.entry_points)
