"""emlearn_gen.testing.count_instructions: instructions of a model's entry
point per row on the emulated Cortex-M, from qemu's execution trace.

The counts are checked against what the code must cost: a loop over the
features costs the same per feature (straight-line body), a window kernel
the same per sample, a forest's trees add their own path's cost, and rows
that take the same path cost the same.
"""

from __future__ import annotations

import copy
from typing import Any, Tuple

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

import emlearn_gen
from emlearn_gen.signal import WindowFeatures
from emlearn_gen.testing import BuildCache, InstructionCount, count_instructions
from emlearn_gen.testing.instructions import count_trace
from emlearn_gen.testing.pytest_plugin import require_target


@pytest.fixture(scope="module")
def cache(emlearn_build_cache: BuildCache) -> BuildCache:
    return emlearn_build_cache


def _linear(n_features: int, seed: int = 0) -> Tuple[Any, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, n_features)).astype(np.float32)
    return LinearRegression().fit(X, X @ rng.normal(size=n_features)), X[:4]


def test_a_linear_model_costs_the_same_per_feature(cache):
    """predict of a linear model is one loop over the features: every row
    costs the same, and each feature adds the same instructions (on the
    M4F's float unit; the M0's soft float takes data-dependent paths)."""
    target = "cortex-m4f"
    require_target(target)
    counts = {}
    for n in (8, 16, 24):
        est, X = _linear(n)
        got = count_instructions(est, X, target, cache=cache)
        assert isinstance(got, InstructionCount) and got.target == target and got.entry == "predict"
        assert got.per_row.shape == (4,) and np.all(got.per_row == got.per_row[0])
        assert 0 < got.call_overhead <= 8  # an empty call: a return, perhaps setting the result
        counts[n] = int(got.per_row[0])
    per_8 = counts[16] - counts[8]
    assert per_8 > 8  # at least a load and a multiply-add per feature
    assert counts[24] - counts[16] == per_8
    assert counts[8] > per_8 // 2  # the call's fixed work (intercept, loop set-up) is counted too


def test_a_window_kernel_costs_the_same_per_sample(cache):
    """A WindowFeatures pipeline's predict takes one window per row: on
    windows of the same pattern, each 32 more samples add the same count."""
    require_target("cortex-m4f")
    rng = np.random.default_rng(1)
    counts = []
    for n in (32, 64, 96):
        est = Pipeline([("features", WindowFeatures(n, 3)), ("model", LinearRegression())])
        est.fit(rng.normal(size=(20, 3 * n)), rng.normal(size=20))
        windows = np.ones((3, 3 * n), dtype=np.float32)
        windows[1] *= -2.0
        windows[2, ::2] = -1.0  # a sign change at every sample: zero crossings counted
        got = count_instructions(est, windows, "cortex-m4f", cache=cache)
        assert got.per_row.shape == (3,)
        assert got.per_row[0] == got.per_row[1]  # same signs, same branches
        counts.append(got.per_row)
    step = counts[1] - counts[0]
    assert np.all(step > 32 * 3)
    np.testing.assert_array_equal(counts[2] - counts[1], step)


def test_a_forest_costs_its_trees_paths(cache):
    """Per row, a forest costs a part fixed for its winning class (the
    final argmax and the class sums' handling depend on which class wins)
    plus each tree's path: so for tree sets A, B and their union,
    count(A) + count(B) - count(A + B) is the same on every row that the
    three decide alike (each path is counted exactly once), though the paths
    cost different amounts on different rows. The walk shares one function
    with the kernel's step at each leaf (numeric_forest), whose registers
    (a vote here, a row's sum there) can move a constant into or out of the
    loop of one forest and not another's: the paths' cost per split agrees
    to within 1 % of a row's count."""
    require_target("cortex-m4f")
    X, y = load_wine(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=30, max_depth=6, random_state=5).fit(X, y)

    def trees(lo: int, hi: int) -> np.ndarray:
        part = copy.copy(forest)
        part.estimators_ = forest.estimators_[lo:hi]
        part.n_estimators = hi - lo
        cm = emlearn_gen.convert(part, name="forest", dtype="float32")
        # A node costs what its record layout costs to read: the three
        # forests must share one (the packer picks it per model).
        assert cm.packed.record_bytes == 0, cm.packed.record_bytes
        # So must a leaf row (rows of every value here, not entry rows).
        assert cm.packed.entry_class_bits == 0, cm.packed.entry_class_bits
        return count_instructions(cm, X[::15], "cortex-m4f", cache=cache).per_row, cm.predict(X[::15])

    (first, label_a), (second, label_b), (both, label) = trees(0, 15), trees(15, 30), trees(0, 30)
    assert np.all(both > np.maximum(first, second))
    fixed = first + second - both
    alike = (label_a == label) & (label_b == label)
    assert len(np.unique(label[alike])) >= 2  # more than one winning class is compared
    spread = max(np.ptp(fixed[alike & (label == c)]) for c in np.unique(label[alike]))
    # A compare and a move per class, and the walk's register allocation.
    assert spread <= max(4.0, 0.01 * float(np.mean(both)))
    assert np.ptp(both) > 4 * max(1, spread)  # the paths' costs vary far more


def test_rows_on_the_same_path_cost_the_same(cache):
    """A decision tree's rows that end in the same leaf cost the same; rows
    in leaves at other depths do not."""
    require_target("cortex-m4f")
    X, y = load_wine(return_X_y=True)
    tree = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X, y)
    rows = X[::6]
    got = count_instructions(tree, rows, "cortex-m4f", cache=cache).per_row
    leaves = tree.apply(rows)
    depth = np.asarray(tree.decision_path(rows).sum(axis=1)).ravel()
    for leaf in np.unique(leaves):
        assert len(set(got[leaves == leaf].tolist())) == 1
    assert len(set(got.tolist())) > 1 and len(set(depth.tolist())) > 1


def test_count_trace_counts_each_call_until_control_is_back_in_the_caller():
    """The trace counter on a made-up trace: main at 0x100-0x120 calls f
    (0x200) twice, f calling g (0x300); g's instructions count for f."""
    def line(pc: int) -> bytes:
        return f"Trace 0: 0x7f00 [00000000/{pc:08x}/00000000/ff200000] \n".encode()

    trace = [b"noise\n", line(0x100), line(0x200), line(0x202), line(0x300), line(0x302), line(0x204),
             line(0x104), line(0x108), line(0x200), line(0x202), line(0x10c)]
    assert count_trace(trace, {0x200: "f", 0x400: "h"}, (0x100, 0x120)) == {"f": [5, 2], "h": []}


def test_bad_arguments_say_what_is_wrong(cache):
    est, X = _linear(4)
    with pytest.raises(ValueError, match="Cortex-M targets qemu emulates.*not on 'avr'"):
        count_instructions(est, X, "avr")
    with pytest.raises(ValueError, match="no entry point 'predict_proba'; its entry points: predict"):
        count_instructions(est, X, entry="predict_proba")
    with pytest.raises(ValueError, match="at least one row"):
        count_instructions(est, X[:0], cache=cache)
    with pytest.raises(ValueError, match="4"):
        count_instructions(est, X[:, :3], cache=cache)  # the model's own feature-count check


def test_the_counted_program_is_checked_against_the_host_runtime(cache, monkeypatch):
    """A count is only returned for a program that computed what the host
    runtime computes: here the host is made to disagree."""
    require_target("cortex-m4f")
    est, X = _linear(4)
    cm = emlearn_gen.convert(est, name="model")
    real = cm.raw_outputs
    monkeypatch.setattr(cm, "raw_outputs", lambda method, X: real(method, X) + np.float32(1e-3))
    with pytest.raises(AssertionError, match="cortex-m4f: predict of the counting program differs from the host"):
        count_instructions(cm, X, cache=cache)
