"""The packing layer: bit strings, threshold rounding, table layout."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeClassifier

import emlearn_gen
from emlearn_gen.core.bits import MAX_FIELD_BITS, bits_for, pack_fields, unpack_fields, word_bits_for
from emlearn_gen.core.host import HostModel
from emlearn_gen.families.trees import FAMILY as TREES
from emlearn_gen.families.trees.convert import convert_trees
from emlearn_gen.families.trees.pack import (
    FLAG_BITS,
    FLAG_LEFT_LEAF,
    FLAG_RIGHT_LEAF,
    float32_sum_bound,
    float32_sums_fit,
    pack_trees,
    round_down_to_float32,
)


@pytest.mark.parametrize("count", [1, 2, 7, 1000])
@pytest.mark.parametrize("width", [0, 1, 3, 7, 8, 9, 17, 25, 31, 32, 33, 57])
def test_pack_fields_round_trip(width, count):
    rng = np.random.default_rng(width)
    values = rng.integers(0, 2**width if width else 1, size=count, dtype=np.uint64)
    word_bytes = word_bits_for(width) // 8
    packed = pack_fields(values, width, word_bytes)
    np.testing.assert_array_equal(unpack_fields(packed, width, values.size), values)
    # Exactly long enough for a word read at the last field, and no longer.
    last_byte = (count - 1) * width // 8
    assert packed.size == max(last_byte + word_bytes, (count * width + 7) // 8)


def test_pack_fields_refuses_values_that_do_not_fit():
    with pytest.raises(ValueError, match="does not fit"):
        pack_fields(np.array([8]), 3, 4)


def test_field_widths():
    assert [bits_for(v) for v in (0, 1, 2, 255, 256)] == [0, 1, 2, 8, 9]
    assert word_bits_for(25) == 32 and word_bits_for(26) == 64 and word_bits_for(57) == 64
    with pytest.raises(ValueError, match="exceeds"):
        word_bits_for(MAX_FIELD_BITS + 1)


def test_round_down_decides_like_float64_comparison():
    rng = np.random.default_rng(0)
    thresholds = np.concatenate(
        [
            rng.normal(size=2000) * 10.0 ** rng.integers(-40, 38, size=2000),
            [0.0, -0.0, 0.5, 1e-45, -1e-45, 3.5e38, -3.5e38, np.inf, -np.inf, 1.1, -1.1],
        ]
    )
    down = round_down_to_float32(thresholds)
    assert down.dtype == np.float32
    assert np.all(down.astype(np.float64) <= thresholds)
    # Every float32 within a few ulps of each threshold is routed identically.
    with np.errstate(over="ignore"):
        near = thresholds.astype(np.float32)
    for step in range(-3, 4):
        x = near.copy()
        for _ in range(abs(step)):
            x = np.nextafter(x, np.float32(np.inf if step > 0 else -np.inf))
        np.testing.assert_array_equal(x.astype(np.float64) <= thresholds, x <= down)


def _ir(est):
    return convert_trees(est)


def test_leaves_are_deduplicated_and_pairs_adjacent(load_data):
    X, y = load_data("digits")
    est = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    packed = pack_trees(_ir(est))
    total_leaves = sum(int((m.tree_.children_left < 0).sum()) for m in est.estimators_)
    # Fully grown trees have pure leaves: a handful of distinct rows.
    assert packed.n_leaves < 3 * 10 * 10 < total_leaves
    records = packed.records()
    flags = (records >> np.uint64(packed.feature_bits)) & np.uint64(7)
    refs = (records >> np.uint64(packed.feature_bits + FLAG_BITS)) & np.uint64((1 << packed.ref_bits) - 1)
    both = (flags & np.uint64(FLAG_LEFT_LEAF | FLAG_RIGHT_LEAF)) == np.uint64(3)
    assert both.any()
    assert np.all(refs[both] + 1 < packed.n_leaves)


def test_repeated_thresholds_use_an_index_table(load_data):
    X, y = load_data("digits")  # integer pixels: thresholds repeat
    packed = pack_trees(_ir(RandomForestClassifier(n_estimators=30, random_state=0).fit(X, y)))
    assert packed.thr_bits > 0
    assert len(packed.thresholds) < packed.n_nodes / 5
    assert packed.table_bytes / packed.n_nodes <= 4.0


def test_unique_thresholds_are_stored_per_node(load_data):
    X, y = load_data("synthetic_classification")
    packed = pack_trees(_ir(ExtraTreesClassifier(n_estimators=10, random_state=0).fit(X, y)))
    assert packed.thr_bits == 0
    assert len(packed.thresholds) == packed.n_nodes


def test_host_leaves_match_sklearn_leaf_values(load_data):
    """apply() of the runtime reaches leaves holding sklearn's leaf values."""
    X, y = load_data("diabetes")
    est = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est)
    host = HostModel(TREES.layout, TREES.tables(cm.packed), (), host_only=[("apply", "index", cm.packed.n_trees)])
    rows = host.run("apply", X.astype(np.float32))
    for t, member in enumerate(est.estimators_):
        want = member.tree_.value[member.apply(X.astype(np.float32)), 0, 0]
        np.testing.assert_array_equal(cm.packed.leaves[rows[:, t], 0], want.astype(np.float32))


def host_forest(packed):
    return HostModel(TREES.layout, TREES.tables(packed), ())


def test_runtime_rejects_corrupt_tables(load_data):
    X, y = load_data("iris")
    packed = pack_trees(_ir(DecisionTreeClassifier(random_state=0).fit(X, y)))
    host_forest(packed)  # the real tables are accepted
    import dataclasses

    with pytest.raises(ValueError, match="invalid packed forest"):
        host_forest(dataclasses.replace(packed, n_features=1))
    with pytest.raises(ValueError, match="invalid packed forest"):
        host_forest(dataclasses.replace(packed, nodes=packed.nodes[: len(packed.nodes) // 2]))
    # A pure tree counts votes: its leaf rows are classes, not values.
    assert packed.leaf_class_bits > 0 and packed.leaf_values.size == 0
    with pytest.raises(ValueError, match="invalid packed forest"):
        host_forest(dataclasses.replace(packed, leaf_classes=packed.leaf_classes[:1]))
    with pytest.raises(ValueError, match="invalid packed forest"):
        host_forest(dataclasses.replace(packed, leaf_class_bits=0))
    with pytest.raises(ValueError, match="invalid packed forest"):
        host_forest(dataclasses.replace(packed, leaves=packed.leaves[:-1]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pure_forest_counts_votes(load_data, dtype):
    """Full-depth trees have one-hot leaf rows: the forest stores each
    row's class and counts votes, with scikit-learn's labels and its
    probabilities (float64 shares rounded to float32) on every row."""
    X, y = load_data("digits")
    est = RandomForestClassifier(n_estimators=7, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est, dtype=dtype)
    packed = cm.packed
    assert packed.leaf_class_bits == bits_for(len(est.classes_) - 1)
    assert packed.leaf_values.size == 0 and packed.value_bits == 0
    classes = unpack_fields(packed.leaf_classes, packed.leaf_class_bits, packed.n_leaves)
    np.testing.assert_array_equal(packed.leaves, np.eye(len(est.classes_))[classes.astype(np.int64)])
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(cm.predict(X32), est.predict(X32))
    want = est.predict_proba(X32).astype(np.float32)
    # Row by row (the header's kernel) and in a batch (the host's own walk).
    np.testing.assert_array_equal(cm.predict_proba(X32), want)
    np.testing.assert_array_equal(np.concatenate([cm.predict_proba(X32[i : i + 1]) for i in range(50)]), want[:50])


def test_impure_or_negative_zero_leaves_keep_values(load_data):
    """A leaf row that is not one-hot (depth-limited trees), or a -0.0 in
    a row (a sum it reaches could be -0.0), keeps the leaf values."""
    X, y = load_data("digits")
    shallow = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    assert pack_trees(_ir(shallow), real="float64").leaf_class_bits == 0
    pure = DecisionTreeClassifier(random_state=0).fit(X, y)
    ir = _ir(pure)
    assert pack_trees(ir, real="float64").leaf_class_bits > 0
    tree = ir.trees[0]
    leaf = int(np.flatnonzero(tree.is_leaf)[0])
    tree.value[leaf, np.flatnonzero(tree.value[leaf] == 0)[0]] = -0.0
    assert pack_trees(ir, real="float64").leaf_class_bits == 0


def _decoded_rows(packed) -> np.ndarray:
    """The leaf rows as the runtime reads them back from the packed tables:
    codes into the distinct values, or entry rows (their nonzero values)."""
    if not packed.entry_class_bits:
        codes = unpack_fields(packed.leaf_codes, packed.value_bits, packed.leaves.size)
        return packed.leaf_values[codes.astype(np.int64)].reshape(packed.leaves.shape)
    value_bits, class_bits = packed.value_bits, packed.entry_class_bits
    entry_bits = value_bits + class_bits + 1
    entries = unpack_fields(packed.leaf_entries, entry_bits, packed.leaf_entries.size * 8 // entry_bits)
    rows = np.zeros_like(packed.leaves)
    for row, start in enumerate(unpack_fields(packed.leaf_starts, packed.start_bits, packed.n_leaves)):
        at = int(start)
        while True:
            entry = int(entries[at])
            rows[row, (entry >> value_bits) & ((1 << class_bits) - 1)] = packed.leaf_values[entry & ((1 << value_bits) - 1)]
            if entry >> (value_bits + class_bits):
                break
            at += 1
    return rows


def test_repeated_leaf_values_are_coded(load_data):
    X, y = load_data("digits")
    est = RandomForestClassifier(n_estimators=10, max_depth=8, random_state=0).fit(X, y)
    packed = pack_trees(_ir(est), real="float64")
    assert packed.value_bits > 0
    assert packed.leaf_values.size < packed.leaves.size / 4
    # Decoding gives back every leaf row, bit for bit.
    np.testing.assert_array_equal(_decoded_rows(packed).view(np.uint64), packed.leaves.view(np.uint64))


@pytest.mark.parametrize("real", ["float32", "float64"])
def test_rows_of_class_fractions_keep_their_nonzero_values_only(real, load_data):
    """Class fractions, mostly zeros, are entry rows: each row's nonzero
    values with their classes, which decode to the rows; their tables are
    smaller than rows of every value, and the host and scikit-learn agree."""
    X, y = load_data("digits")
    est = RandomForestClassifier(n_estimators=10, max_depth=10, random_state=0).fit(X, y)
    ir = _ir(est)
    packed = pack_trees(ir, real=real)
    assert packed.entry_class_bits == bits_for(len(est.classes_) - 1) and packed.leaf_codes.size == 1
    nonzero = int((packed.leaves != 0).sum())
    assert packed.leaf_entries.size * 8 < 1.2 * nonzero * (packed.value_bits + packed.entry_class_bits + 1) + 64
    np.testing.assert_array_equal(_decoded_rows(packed).view(packed.leaves.dtype.str.replace("f", "u")),
                                  packed.leaves.view(packed.leaves.dtype.str.replace("f", "u")))
    cm = emlearn_gen.convert(est, dtype=real)
    assert cm.packed.entry_class_bits
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))
    if real == "float64":
        np.testing.assert_array_equal(cm.predict_proba(X), est.predict_proba(X).astype(np.float32))


def test_rows_without_zeros_keep_every_value(load_data):
    """Rows whose values are seldom zero (a regressor of two outputs) stay
    rows of every value: entry rows would be larger."""
    X, y = load_data("diabetes")
    est = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(X, np.stack([y, -y], axis=1))
    packed = pack_trees(_ir(est))
    assert packed.entry_class_bits == 0


def test_distinct_leaf_values_are_stored_directly(load_data):
    # Leaves averaging several bootstrap samples hold values that hardly repeat.
    X, y = load_data("diabetes")
    est = RandomForestRegressor(n_estimators=5, min_samples_leaf=5, random_state=0).fit(X, y)
    packed = pack_trees(_ir(est))
    assert packed.value_bits == 0
    assert packed.leaf_values.size == packed.leaves.size


def test_float32_sum_bound_covers_every_sum(load_data):
    X, y = load_data("diabetes")
    est = RandomForestRegressor(n_estimators=20, max_depth=5, random_state=0).fit(X, y - y.mean())
    bound = float32_sum_bound(_ir(est))
    per_tree = np.stack([m.predict(X) for m in est.estimators_])
    assert np.abs(per_tree.sum(axis=0)).max() <= bound
    # It is the sum over trees of the largest |leaf value|, with a margin for
    # float32 rounding of a few ulps per tree, no more.
    largest = sum(np.abs(m.tree_.value[m.tree_.children_left < 0, 0, 0]).max() for m in est.estimators_)
    assert largest < bound <= largest * (1 + 22 * 2.0**-24)


def test_float32_sums_beyond_range_are_refused_by_the_packer(load_data):
    X, _ = load_data("diabetes")
    y = np.where(X[:, 2] > 0, 1e37, -1e37)  # 40 trees: sums up to 4e38 > FLT_MAX
    ir = _ir(RandomForestRegressor(n_estimators=40, max_depth=2, random_state=0).fit(X, y))
    assert not float32_sums_fit(ir)
    with pytest.raises(ValueError, match=r"beyond float32's range.*use dtype='float64'"):
        pack_trees(ir, real="float32")
    assert pack_trees(ir, real="float64").real == "float64"


def test_nonnegative_thresholds_are_flagged(load_data):
    X, y = load_data("digits")  # pixels 0..16: every threshold is positive
    digits = pack_trees(_ir(RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)))
    assert digits.nonnegative_thresholds == 1
    assert not np.signbit(digits.thresholds).any()
    shifted = pack_trees(_ir(RandomForestClassifier(n_estimators=5, random_state=0).fit(X - 8.0, y)))
    assert shifted.nonnegative_thresholds == 0
    assert np.signbit(shifted.thresholds).any()


def test_a_threshold_of_minus_zero_becomes_plus_zero():
    # x <= -0 and x <= +0 split every float alike; +0 keeps the sign bit clear.
    t = round_down_to_float32(np.array([-0.0, 0.0, -1e-300, 1e-300]))
    assert not np.signbit(t[0]) and not np.signbit(t[1])
    assert np.signbit(t[2]) and t[2] < 0 and t[3] == 0.0


def test_approximate_summands_are_floors_in_units_of_two_to_the_minus_14():
    from emlearn_gen.families.trees.pack import approximate_summands

    values = np.array([0.0, 1.0, 0.5, 1 / 3, 2 / 3, 2.0**-14, np.nextafter(2.0**-14, 0.0), 5e-324])
    np.testing.assert_array_equal(approximate_summands(values, 10), [0, 16384, 8192, 5461, 10922, 1, 0, 0])
    assert approximate_summands(values, 1).size == 0  # one tree: nothing to approximate
    for outside in (1.5, -0.25, -0.0):
        assert approximate_summands(np.append(values, outside), 10).size == 0
    assert approximate_summands(values.astype(np.float32), 10).size == 0

