"""Split records of whole bytes (record_bytes > 0) beside bit-packed ones:
the choice of width, the same results from every width on the host runtime,
the compiled header, the model file and the devices, and the runtime's
checks of such tables."""

from __future__ import annotations

import dataclasses
import subprocess
import unittest.mock
from typing import Any, Dict

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeClassifier

import emlearn_gen
from emlearn_gen.core.bits import packed_size
from emlearn_gen.core.host import HostModel
from emlearn_gen.families.trees import FAMILY as TREES
from emlearn_gen.families.trees import pack
from emlearn_gen.testing import assert_device_matches, run_model
from emlearn_gen.testing.pytest_plugin import require_target


def _convert_with_record_bytes(monkeypatch: pytest.MonkeyPatch, est: Any, record_bytes: int, **options: Any) -> Any:
    """The model converted with records of `record_bytes` bytes (0: bit-packed)."""
    with monkeypatch.context() as patch:
        patch.setattr(pack, "choose_record_bytes", lambda *args: record_bytes)
        cm = emlearn_gen.convert(est, name="model", **options)
    assert cm.packed.record_bytes == record_bytes
    return cm


def _outputs(cm: Any, X: np.ndarray) -> Dict[str, np.ndarray]:
    return {ep.name: cm.raw_outputs(ep.name, X) for ep in cm.entry_points}


def _assert_same_fields(a: Any, b: Any) -> None:
    """Two packings of one model hold the same records, field by field."""
    want, got = a.fields(), b.fields()
    for name in want:
        np.testing.assert_array_equal(want[name], got[name], err_msg=name)


def _assert_same(want: Dict[str, np.ndarray], got: Dict[str, np.ndarray]) -> None:
    assert want.keys() == got.keys()
    for name in want:
        assert want[name].dtype == got[name].dtype
        assert want[name].tobytes() == got[name].tobytes(), name


def test_record_width_is_a_load_where_it_costs_little() -> None:
    # 22-bit records: 4 bytes would add 45 % to a table of nodes alone, 3
    # bytes 9 %, within the budget; beside a large other table 4 bytes do.
    n = 16000
    bitpacked = packed_size(n, 22, 4)
    assert 3 * n <= 1.1 * bitpacked < 4 * n
    assert pack.choose_record_bytes(n, 22, 0, 32) == 3
    assert pack.choose_record_bytes(n, 22, 10 * n, 32) == 4
    # 9-bit records in 2 bytes add 78 %: bit-packed, unless other tables dominate.
    assert pack.choose_record_bytes(n, 9, 0, 32) == 0
    assert pack.choose_record_bytes(n, 9, 100 * n, 32) == 2
    assert pack.choose_record_bytes(n, 8, 0, 32) == 1
    assert pack.choose_record_bytes(n, 33, 10 * n, 32) == 5
    assert pack.choose_record_bytes(n, 33, 100 * n, 32) == 8
    assert pack.choose_record_bytes(0, 20, 100, 32) == 0


def test_the_feature_takes_the_first_byte_where_the_record_has_room() -> None:
    # digits: 6 + 3 + 8 + 5 = 22 bits in 3 bytes, 2 to spare.
    assert pack.byte_feature_bits(6, 22, 3) == 8
    assert pack.byte_feature_bits(6, 23, 3) == 6  # one bit to spare only
    assert pack.byte_feature_bits(6, 22, 0) == 6  # bit-packed: no byte to take
    assert pack.byte_feature_bits(11, 30, 4) == 11  # wider than a byte already
    assert pack.byte_feature_bits(8, 24, 3) == 8


def test_whole_byte_records_give_the_feature_its_byte(load_data: Any) -> None:
    """Full-depth trees on digits: 6 + 3 + 8 + 5 bits in 3 bytes; the
    feature field takes 8, the same fields as the bit-packed records."""
    X, y = load_data("digits")
    ir = TREES.to_ir(RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y))
    packed = pack.pack_trees(ir, real="float64")
    with unittest.mock.patch.object(pack, "choose_record_bytes", lambda *args: 0):
        bitpacked = pack.pack_trees(ir, real="float64")
    assert (packed.record_bytes, packed.feature_bits, packed.record_bits) == (3, 8, 24)
    assert bitpacked.feature_bits == 6
    _assert_same_fields(packed, bitpacked)


def test_packed_tables_stay_within_the_budget(load_data: Any) -> None:
    X, y = load_data("digits")
    est = RandomForestClassifier(n_estimators=10, max_depth=10, random_state=0).fit(X, y)
    ir = TREES.to_ir(est)
    packed = pack.pack_trees(ir, real="float64")
    assert packed.record_bytes > 0
    assert packed.nodes.size == packed.n_nodes * packed.record_bytes + (
        (1 << (packed.record_bytes - 1).bit_length()) - packed.record_bytes)
    with unittest.mock.patch.object(pack, "choose_record_bytes", lambda *args: 0):
        bitpacked = pack.pack_trees(ir, real="float64")
    assert packed.table_bytes <= (1 + pack.WHOLE_BYTE_BUDGET) * bitpacked.table_bytes + 8
    _assert_same_fields(packed, bitpacked)


def test_whole_byte_records_and_fields_share_one_budget() -> None:
    """A 100-stage boosted regressor: 19-bit records, and roots widened to
    16 bits. Four-byte records fit the budget beside the widened roots but
    not beside bit-packed ones; the budget is over the tables with every
    field bit-packed, so the records take three bytes."""
    from sklearn.datasets import make_regression
    from sklearn.ensemble import GradientBoostingRegressor

    X, y = make_regression(2000, 60, random_state=0)
    est = GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0).fit(X.astype(np.float32), y)
    ir = TREES.to_ir(est)
    packed = pack.pack_trees(ir, real="float64")
    with unittest.mock.patch.object(pack, "choose_record_bytes", lambda *args: 0), \
            unittest.mock.patch.object(pack, "whole_byte_field_bits", lambda bits, *args: bits):
        bitpacked = pack.pack_trees(ir, real="float64")
    assert packed.record_bytes == 3 and packed.root_bits == 16 and bitpacked.root_bits < 16
    assert packed.table_bytes <= (1 + pack.WHOLE_BYTE_BUDGET) * bitpacked.table_bytes
    # The same other tables, measured as they are or as they were before a
    # field was widened: four bytes fit the first budget, not the second.
    n, bits = packed.n_nodes, bitpacked.record_bits
    assert pack.choose_record_bytes(n, bits, 20 * n, 32) == 4
    assert pack.choose_record_bytes(n, bits, 20 * n, 32, 20 * n - 500) == 3


def test_entry_rows_and_their_summands_spend_the_same_budget() -> None:
    """A 10-tree depth-10 forest on 60 continuous features and 5 classes
    (float64 leaves of class fractions): its entry rows and approximate
    summands make the leaf tables larger than rows of every value, and
    three-byte records on top of them would take the tables past +10 % of
    the tables with rows of every value and bit-packed records. The budget
    is over those, so the records stay bit-packed."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=2000, n_features=60, n_informative=30, n_redundant=10, n_classes=5,
                               n_clusters_per_class=2, flip_y=0.02, random_state=0)
    est = RandomForestClassifier(n_estimators=10, max_depth=10, random_state=0).fit(X.astype(np.float32), y)
    ir = TREES.to_ir(est)
    packed = pack.pack_trees(ir, real="float64")
    assert packed.entry_class_bits > 0 and packed.leaf_fixed.size > 0
    with unittest.mock.patch.object(pack, "choose_record_bytes", lambda *args: 0), \
            unittest.mock.patch.object(pack, "_use_entry_rows", lambda *args: None):
        compact = pack.pack_trees(ir, real="float64")
    with unittest.mock.patch.object(pack, "choose_record_bytes", lambda *args: 3), \
            unittest.mock.patch.object(pack, "_use_entry_rows", lambda *args: None):
        whole_records_only = pack.pack_trees(ir, real="float64")
    with unittest.mock.patch.object(pack, "choose_record_bytes", lambda *args: 3):
        whole = pack.pack_trees(ir, real="float64")
    budget = (1 + pack.WHOLE_BYTE_BUDGET) * compact.table_bytes
    assert compact.entry_class_bits == 0 and compact.leaf_fixed.size == 0
    # Either trade alone fits the budget; both together do not.
    assert compact.table_bytes < packed.table_bytes <= budget
    assert compact.table_bytes < whole_records_only.table_bytes <= budget
    assert whole.table_bytes > budget
    assert packed.record_bytes == 0
    _assert_same_fields(packed, whole)


@pytest.mark.parametrize("record_bytes", [1, 2, 3, 4, 5, 6, 7, 8])
def test_every_record_width_gives_the_bit_packed_results(monkeypatch: pytest.MonkeyPatch, load_data: Any,
                                                          record_bytes: int, tmp_path: Any) -> None:
    X, y = load_data("iris")
    if record_bytes == 1:  # records of at most 8 bits: two features, depth 2
        X = X[:, :2]
        est: Any = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    else:
        est = RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, y)
    X_eval = np.concatenate([X, np.where(np.eye(X.shape[1], dtype=bool), np.nan, X[: X.shape[1]])]).astype(np.float32)
    bitpacked = _convert_with_record_bytes(monkeypatch, est, 0)
    assert bitpacked.packed.record_bits <= 8 * record_bytes
    cm = _convert_with_record_bytes(monkeypatch, est, record_bytes)
    _assert_same_fields(cm.packed, bitpacked.packed)
    want = _outputs(bitpacked, X_eval)
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))
    _assert_same(want, _outputs(cm, X_eval))
    _assert_same(want, run_model(cm, X_eval, "host", workdir=tmp_path / "header"))
    _assert_same(want, run_model(cm, X_eval, "host", workdir=tmp_path / "file", model_file=True))
    _assert_same(want, _outputs(emlearn_gen.load_model_file(cm.to_model_file()), X_eval))


@pytest.mark.parametrize("record_bytes", [2, 3, 4])
def test_whole_byte_records_with_a_threshold_per_node(monkeypatch: pytest.MonkeyPatch, load_data: Any,
                                                      record_bytes: int, tmp_path: Any) -> None:
    """Continuous features: every node has its own threshold (thr_bits 0),
    which the walk follows beside the record on the host; with NaN too."""
    X, y = load_data("diabetes")
    X = X[:, :4]
    est = RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0).fit(X, y)
    X_eval = np.concatenate([X, np.where(np.eye(X.shape[1], dtype=bool), np.nan, X[: X.shape[1]])]).astype(np.float32)
    bitpacked = _convert_with_record_bytes(monkeypatch, est, 0)
    cm = _convert_with_record_bytes(monkeypatch, est, record_bytes)
    assert cm.packed.thr_bits == 0 and cm.packed.record_bits <= 8 * record_bytes
    _assert_same_fields(cm.packed, bitpacked.packed)
    want = _outputs(bitpacked, X_eval)
    _assert_same(want, run_model(cm, X_eval, "host", workdir=tmp_path / "header"))
    _assert_same(want, run_model(cm, X_eval, "host", workdir=tmp_path / "file", model_file=True))


@pytest.mark.parametrize("record_bytes", [3, 6])
def test_record_widths_on_devices(monkeypatch: pytest.MonkeyPatch, load_data: Any, record_bytes: int,
                                  emlearn_build_cache: Any) -> None:
    """Devices without unaligned loads (Cortex-M0) or with program-memory
    tables (AVR) read the bytes one by one, the Cortex-M4F one wide load."""
    targets = [require_target(name) for name in ("cortex-m0", "cortex-m4f", "avr")]
    X, y = load_data("diabetes")
    est = RandomForestRegressor(n_estimators=3, max_depth=5, random_state=0).fit(X, y)
    cm = _convert_with_record_bytes(monkeypatch, est, record_bytes)
    assert_device_matches(cm, X[:40], targets=targets, cache=emlearn_build_cache)


def test_runtime_rejects_bad_whole_byte_records(load_data: Any) -> None:
    X, y = load_data("iris")
    est = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(X, y)
    with unittest.mock.patch.object(pack, "choose_record_bytes", lambda *args: 3):
        packed = pack.pack_trees(TREES.to_ir(est), real="float64")
    assert packed.record_bits < 24

    def host(p: pack.PackedForest) -> HostModel:
        return HostModel(TREES.layout, TREES.tables(p), ())

    host(packed)  # the real tables are accepted
    nodes = np.array(packed.nodes)
    nodes[2] |= 0x80  # a bit above record_bits in the first record
    with pytest.raises(ValueError, match="invalid packed forest"):
        host(dataclasses.replace(packed, nodes=nodes))
    # The last record's read reaches a padding byte: without it, refused.
    with pytest.raises(ValueError, match="invalid packed forest"):
        host(dataclasses.replace(packed, nodes=packed.nodes[:-1]))
    with pytest.raises(ValueError, match="invalid packed forest"):
        host(dataclasses.replace(packed, record_bytes=2))  # narrower than record_bits
    with pytest.raises(ValueError, match="record_bytes' = 9 exceeds 8"):
        host(dataclasses.replace(packed, record_bytes=9))  # wider than any load


def test_small_tables_take_whole_bytes_within_their_budget() -> None:
    # 100 roots of 14 bits in 2 bytes each: 25 more bytes.
    assert pack.whole_byte_field_bits(14, 100, 2500) == 16
    assert pack.whole_byte_field_bits(14, 100, 2499) == 14
    assert pack.whole_byte_field_bits(16, 100, 0) == 16
    assert pack.whole_byte_field_bits(4, 91, 10**6) == 8
    assert pack.whole_byte_field_bits(25, 10, 10**6) == 25  # a 32-bit word could not read 32 + 7 bits


def test_whole_byte_roots_and_votes_give_the_bit_packed_results(monkeypatch: pytest.MonkeyPatch, load_data: Any,
                                                                tmp_path: Any, emlearn_build_cache: Any) -> None:
    """Roots and vote classes widened to whole bytes are read without a
    variable shift: the same leaves, on every level, as their bit-packed
    fields. Rows with NaN go through every split's missing-value routing."""
    X, y = load_data("digits")
    est = RandomForestClassifier(n_estimators=20, random_state=0).fit(X[:1000], y[:1000])
    X_eval = np.array(X[1000:1300], dtype=np.float32)
    X_eval[::7, ::3] = np.nan
    cm = emlearn_gen.convert(est, name="model")
    with monkeypatch.context() as patch:
        patch.setattr(pack, "WHOLE_BYTE_FIELD_BUDGET", 0.0)
        bitpacked = emlearn_gen.convert(est, name="model")
    assert (cm.packed.root_bits, cm.packed.leaf_class_bits) == (16, 8)
    assert bitpacked.packed.root_bits % 8 != 0 and bitpacked.packed.leaf_class_bits % 8 != 0
    np.testing.assert_array_equal(cm.predict(X[1000:]), est.predict(X[1000:]))
    want = _outputs(bitpacked, X_eval)
    _assert_same(want, _outputs(cm, X_eval))
    _assert_same(want, run_model(cm, X_eval, "host", workdir=tmp_path / "header"))
    _assert_same(want, run_model(cm, X_eval, "host", workdir=tmp_path / "file", model_file=True))
    targets = [require_target(name) for name in ("cortex-m0", "cortex-m4f", "avr")]
    assert_device_matches(cm, X_eval[:60], targets=targets, cache=emlearn_build_cache)


def test_a_bit_packed_walk_makes_no_call_on_the_cortex_m0(monkeypatch: pytest.MonkeyPatch, load_data: Any,
                                                           tmp_path: Any) -> None:
    """Where loads must be aligned (Cortex-M0), a bit-packed record is read
    byte by byte in line: the walk calls nothing per split (a memcpy of
    unknown alignment is a call to the C library's there, and -Os kept the
    read itself out of line)."""
    target = require_target("cortex-m0")
    X, y = load_data("iris")
    est = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    cm = _convert_with_record_bytes(monkeypatch, est, 0)
    assert cm.packed.leaf_class_bits > 0  # votes: no soft-float call at the leaves either
    (tmp_path / "model.hpp").write_text(cm.to_source(), encoding="utf-8")
    (tmp_path / "walk.cpp").write_text(
        '#include "model.hpp"\n'
        'extern "C" int32_t walk_predict(const float* x) { return model::predict(x); }\n', encoding="utf-8")
    (obj,) = target.compile_objects(tmp_path, ["walk.cpp"], [str(tmp_path), emlearn_gen.get_include()], 120.0)
    listing = subprocess.run(["arm-none-eabi-objdump", "-d", "-C", "--no-show-raw-insn", str(obj)],
                             capture_output=True, text=True, check=True).stdout
    walks = [block for block in listing.split("\n\n") if "numeric_forest<" in block.split(">:")[0]]
    assert walks, "no numeric_forest in the object"
    for block in walks:
        calls = [line.strip() for line in block.splitlines() if "\tbl\t" in line]
        assert not calls, calls
