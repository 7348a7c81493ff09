"""Very small single trees run as if/else code (families/trees/inline.py):
the same results as the host runtime's table kernel, bit for bit, on every
target (NaN of either sign and any payload, -0, subnormal values and
thresholds included), and less flash than emlearn's inline code for the
same tree."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import emlearn_gen
from emlearn_gen.families.trees.inline import MAX_INLINE_NODES, MIN_KERNEL_BYTES
from emlearn_gen.testing import assert_device_matches
from emlearn_gen.testing.pytest_plugin import missing_toolchain, require_target

F32 = np.float32


def _f32(bits: int) -> float:
    return float(np.array([bits], dtype=np.uint32).view(np.float32)[0])


TINY = _f32(0x00000001)  # the least subnormal float
#: NaNs of both signs, quiet and signalling, smallest and largest payloads:
#: split_left_by_bits decides on the bits, where each lies in
#: its own range.
NANS = [_f32(b) for b in (0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FFFFFFF, 0xFFFFFFFF)]

#: Thresholds of the crafted tree's 7 splits, in scikit-learn's node order
#: (pre-order), and where each sends NaN: +0, -0, subnormals, ordinary and
#: large values; thresholds >= 0 (-0 too) and < 0 each with NaN going left
#: and right (split_left_by_bits takes four different paths).
THRESHOLDS = [0.0, -0.0, -2.5, 2.5, TINY, -TINY, -3.0e38]
MISSING_LEFT = [True, False, True, False, True, False, True]


def _complete_tree(depth: int, leaf_rows: np.ndarray) -> SimpleNamespace:
    """A complete tree of the given depth as scikit-learn's ``tree_`` arrays
    (pre-order), its splits on THRESHOLDS and MISSING_LEFT (feature: the split's depth),
    its leaves holding ``leaf_rows`` in order; inner nodes hold the first
    row (unused)."""
    left: List[int] = []
    right: List[int] = []
    feature: List[int] = []
    threshold: List[float] = []
    missing: List[int] = []
    value: List[np.ndarray] = []
    counters = {"split": 0, "leaf": 0}

    def add(level: int) -> int:
        index = len(left)
        left.append(-1)
        right.append(-1)
        feature.append(-2)
        threshold.append(-2.0)
        missing.append(0)
        if level == depth:
            value.append(leaf_rows[counters["leaf"]])
            counters["leaf"] += 1
            return index
        split = counters["split"]
        counters["split"] += 1
        value.append(leaf_rows[0])
        feature[index] = level  # independent features on every path: every leaf reachable
        threshold[index] = THRESHOLDS[split]
        missing[index] = int(MISSING_LEFT[split])
        left[index] = add(level + 1)
        right[index] = add(level + 1)
        return index

    add(0)
    return SimpleNamespace(
        children_left=np.array(left, dtype=np.int64),
        children_right=np.array(right, dtype=np.int64),
        feature=np.array(feature, dtype=np.int64),
        threshold=np.array(threshold, dtype=np.float64),
        missing_go_to_left=np.array(missing, dtype=np.uint8),
        value=np.asarray(value, dtype=np.float64)[:, None, :],
    )


def _crafted(task: str) -> Any:
    """A depth-3 tree (7 splits) on 3 features with the thresholds above:
    a fitted estimator whose ``tree_`` is replaced by crafted arrays. The
    classifier's leaf rows include ties (the first class wins) and a pure
    row; the regressor's leaves include -0, which the kernels' sums (+0
    plus the leaf) turn into +0."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    if task == "classifier":
        est = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, np.arange(40) % 3)
        rows = np.array([[0.5, 0.5, 0.0], [0.0, 0.25, 0.75], [1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0],
                         [0.2, 0.3, 0.5], [0.1, 0.6, 0.3], [0.0, 0.5, 0.5], [0.7, 0.1, 0.2]])
    else:
        est = DecisionTreeRegressor(max_depth=1, random_state=0).fit(X, X[:, 0])
        rows = np.array([[-0.0], [1.5], [-2.25], [1e-30], [3.0e5], [-7.0], [0.1], [2.0 / 3.0]])
    est.tree_ = _complete_tree(3, rows)
    return est


def _edge_rows() -> np.ndarray:
    """Rows whose features take every threshold and its float32
    neighbours, -0, +0, subnormals, values near float32's largest and every
    NaN above: each value in all three columns, then 300 random
    combinations of them."""
    values = [0.0, -0.0, TINY, -TINY, 2 * TINY, -2 * TINY, 1.0, -1.0, 3.4e38, -3.4e38] + NANS
    for t in map(F32, THRESHOLDS):
        values += [float(t), float(np.nextafter(t, F32(np.inf))), float(np.nextafter(t, F32(-np.inf)))]
    column = np.array(values, dtype=np.float32)
    mixed = column[np.random.default_rng(1).integers(0, len(column), size=(300, 3))]
    return np.concatenate([np.repeat(column[:, None], 3, axis=1), mixed])


CRAFTED = [("classifier", "float64"), ("classifier", "float32"), ("regressor", "float32"), ("regressor", "float64")]


@pytest.fixture(scope="module")
def crafted_models() -> Dict[Tuple[str, str], Any]:
    """The crafted trees converted, written out as code whatever the size
    rule decides for 7 splits (the rule is about flash; here the code's
    decisions are under test)."""
    saved = dict(MAX_INLINE_NODES)
    MAX_INLINE_NODES.update({dtype: max(limit, 7) for dtype, limit in saved.items()})
    try:
        return {(task, dtype): emlearn_gen.convert(_crafted(task), name="small", dtype=dtype)
                for task, dtype in CRAFTED}
    finally:
        MAX_INLINE_NODES.update(saved)


def _is_inline(cm: Any) -> bool:
    """Whether the header writes the tree out as code (its table of leaf
    outputs exists only then)."""
    return "leaf_outputs" in cm.to_source()


@pytest.mark.parametrize("task,dtype", CRAFTED)
def test_the_edge_rows_reach_every_leaf(crafted_models, task, dtype):
    cm = crafted_models[(task, dtype)]
    assert cm.packed.n_nodes == 7 and _is_inline(cm)
    X = _edge_rows()
    outputs = cm.predict_proba(X) if task == "classifier" else cm.predict(X).reshape(len(X), -1)
    assert len({row.tobytes() for row in outputs}) == 8
    if task == "classifier":
        assert set(cm.predict(X)) == {0, 1, 2}


@pytest.mark.parametrize("task,dtype", CRAFTED)
@pytest.mark.parametrize("target", ["host", "host-clang++"])
def test_inline_code_decides_as_the_kernel_on_the_host(crafted_models, task, dtype, target, emlearn_build_cache):
    require_target(target)
    assert_device_matches(crafted_models[(task, dtype)], _edge_rows(), targets=[target], cache=emlearn_build_cache)


@pytest.mark.parametrize("task,dtype", CRAFTED)
def test_inline_code_decides_as_the_kernel_on_devices(crafted_models, task, dtype, emlearn_device):
    """Cortex-M0 and AVR decide on the float's bits, the Cortex-M4F with its
    float unit: all as the host runtime's kernel."""
    emlearn_device.assert_matches(crafted_models[(task, dtype)], _edge_rows())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_trees_up_to_the_limit_are_written_out(load_data, dtype):
    X, y = load_data("digits")
    limit = MAX_INLINE_NODES[dtype]
    at_limit, beyond = (
        emlearn_gen.convert(DecisionTreeClassifier(max_leaf_nodes=n + 1, random_state=0).fit(X, y), dtype=dtype)
        for n in (limit, limit + 1)
    )
    assert (at_limit.packed.n_nodes, beyond.packed.n_nodes) == (limit, limit + 1)
    assert _is_inline(at_limit) and not _is_inline(beyond)
    # Forests are never written out, however small.
    two = RandomForestClassifier(n_estimators=2, max_depth=1, random_state=0).fit(X, y)
    assert not _is_inline(emlearn_gen.convert(two, dtype=dtype))


def test_rows_of_many_classes_keep_the_tables():
    """Float rows of 60 classes per leaf would outgrow the leaf tables by
    more than the kernel costs: such a tree keeps its tables."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    y = np.arange(600) % 60
    est = DecisionTreeClassifier(max_leaf_nodes=3, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est, dtype="float32")
    rows_bytes = cm.packed.n_leaves * 60 * 4
    leaf_tables = cm.packed.leaf_values.nbytes + (cm.packed.leaf_codes.nbytes if cm.packed.value_bits else 0)
    assert rows_bytes > leaf_tables + MIN_KERNEL_BYTES
    assert not _is_inline(cm)
    assert np.array_equal(cm.predict(X), est.predict(X))


def _benchmark_modules() -> Any:
    """benchmarks/ (beside tests/ in the checkout, not installed) and
    emlearn, which its peers' rows need; skips without them."""
    # Importing emlearn sets numpy.seterr(all="raise") for the whole process,
    # which would make scikit-learn fail in the tests that run after this one.
    numpy_errors = np.geterr()
    try:
        pytest.importorskip("emlearn", reason="emlearn is a test extra: pip install '.[test]'")
    finally:
        np.seterr(**numpy_errors)
    sys.path.append(str(Path(__file__).resolve().parent.parent))
    models = pytest.importorskip("benchmarks.models")
    native = pytest.importorskip("benchmarks.native")
    tools = pytest.importorskip("benchmarks.tools")
    return SimpleNamespace(models=models, native=native, tools=tools)


def test_iris_depth3_tree_takes_no_more_flash_than_emlearns_inline_code(tmp_path):
    """The benchmark's depth-3 iris tree (dt3_iris), measured as the benchmark
    measures every tool (predict() linked into the same bare-metal driver,
    minus the empty harness): ours, with convert()'s defaults, takes no more
    flash than emlearn's if/else code, on int16 features (its default) or
    float, on every device. And it is the same tree: its labels on the
    test rows are scikit-learn's."""
    bench = _benchmark_modules()
    spec = next(m for m in bench.models.MODELS if m.key == "dt3_iris")
    data = bench.models.load_dataset(spec.dataset)
    est = bench.models.fit(spec, data)
    info = bench.tools.ModelInfo(task="classifier", n_features=data.X_test.shape[1],
                                 n_classes=len(est.classes_), family=spec.family)
    assert np.array_equal(emlearn_gen.convert(est).predict(data.X_test), est.predict(data.X_test))
    baselines = bench.native.make_baselines(tmp_path / "baselines")
    for dev in bench.native.DEVICES:
        missing = bench.native.device_available(dev)
        if missing:
            missing_toolchain(f"{dev.label}: {missing}")
        flash = {}
        for tool in ("emlearn_gen", "emlearn", "emlearn_float"):
            folder = tmp_path / tool
            gen = bench.tools.generate(tool, est, info, folder, timeout=120)
            fp = bench.native.footprint(dev, folder, gen, info.n_features, baselines, timeout=300)
            flash[tool] = fp.flash
        assert flash["emlearn_gen"] <= min(flash["emlearn"], flash["emlearn_float"]), (dev.key, flash)


def test_quick_benchmark_reports_the_fixed_code(tmp_path, monkeypatch):
    """--quick measures the iris tree, and its results.md shows the
    "Fixed code per target" table and the small-model target line from the
    run's own rows."""
    bench = _benchmark_modules()
    run = pytest.importorskip("benchmarks.run")
    assert "dt3_iris" in {m.key for m in bench.models.select(quick=True)}
    missing = [why for why in map(bench.native.device_available, bench.native.DEVICES) if why]
    if missing:
        missing_toolchain(f"the benchmark's devices: {'; '.join(missing)}")
    which = shutil.which
    # Instruction counts play no part here: valgrind is left out for speed.
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "valgrind" else which(name, *a, **k))
    status = run.main(["--quick", "--models", "dt3_iris", "--tools", "emlearn_gen,emlearn,emlearn_float",
                       "--no-signal", "--out", str(tmp_path)])
    assert status == 0
    rows = {r["tool"]: r for r in run.report.load_csv(tmp_path / "results.csv")}
    text = (tmp_path / "results.md").read_text(encoding="utf-8")
    table = text.split("### Fixed code per target", 1)[1].split("\n### ", 1)[0]
    ours = rows["emlearn_gen"]
    assert ours["inline_code"] is True
    flash = [f"{int(ours[f'{dev.key}_flash'])} B" for dev in bench.native.DEVICES]
    assert f"| dt3_iris, whole model: {ours['tool_label']} (if/else code) | {' | '.join(flash)} |" in table
    line = next(l for l in text.splitlines() if l.startswith("- Small models cost little"))
    assert ": met (" in line


@pytest.mark.parametrize("target", ["host", "host-clang++"])
def test_walks_that_read_no_input_compile_warning_free(target, emlearn_build_cache):
    """A single-leaf tree, and a tree whose leaves all predict one class
    (its label walk folds into that class), compile under the strict
    warnings (no unused parameter) and give the host's results."""
    require_target(target)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3)).astype(np.float32)
    one_class = DecisionTreeClassifier().fit(X, np.zeros(30, dtype=int))
    same_label = _crafted("classifier")
    same_label.tree_ = _complete_tree(1, np.array([[0.6, 0.4, 0.0], [0.5, 0.2, 0.3]]))
    for est in (one_class, same_label):
        cm = emlearn_gen.convert(est)
        assert _is_inline(cm) and set(cm.predict(X)) == {0}
        assert_device_matches(cm, X, targets=[target], cache=emlearn_build_cache)
