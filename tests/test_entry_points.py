"""Entry-point output kinds: the indicator kind (multi-label predict) through
every layer that derives from an EntryPoint: C signature, host dispatch,
raw dtype and shape, the harness's printing and parsing, CModel's result."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import emlearn_gen
from emlearn_gen.core.entry_points import INDICATOR, VALUES, EntryPoint
from emlearn_gen.testing.harness import harness_sources, parse_output


def test_indicator_entry_point_writes_int32_rows() -> None:
    ep = EntryPoint("predict", INDICATOR, 3)
    assert ep.c_signature() == "void predict(const float* x, int32_t* out)"
    assert ep.c_call("f", out="labels") == "f(x, labels)"
    assert not ep.returns_int
    assert ep.raw_dtype == np.int32
    assert ep.raw_shape(5) == (5, 3)
    assert ep.host_kind() == ("predict", "index", 3)
    # Values keep their float signature.
    assert EntryPoint("p", VALUES, 2).c_signature() == "void p(const float* x, float* out)"
    with pytest.raises(ValueError, match="bad width"):
        EntryPoint("predict", INDICATOR, 0)


def test_harness_prints_and_parses_indicator_rows() -> None:
    methods = (EntryPoint("predict", INDICATOR, 3), EntryPoint("predict_proba", VALUES, 3))
    X32 = np.zeros((2, 4), dtype=np.float32)
    files = harness_sources("m", "m.hpp", methods, X32, "static void eg_putc(char c) { (void)c; }")
    main = files["main.cpp"]
    assert "static int32_t out_int[3];" in main
    # The first entry point runs through the second translation unit.
    assert "eg_other_tu(x, out_int);" in main and "eg_put_ints(out_int, 3);" in main
    assert "void eg_other_tu(const float* x, int32_t* out) {" in files["other.cpp"]
    assert "m::predict_proba(x, out);" in main
    # What such a program prints, parsed back (float values as their bits).
    one = np.float32(1.0).view(np.uint32)
    text = "\n".join(
        ["0 1 0 1", f"1 {one:08x} {one:08x} {one:08x}", "0 0 0 0", f"1 {one:08x} 00000000 {one:08x}", "END 2"]
    )
    got = parse_output(text, methods, 2)
    assert got["predict"].dtype == np.int32
    np.testing.assert_array_equal(got["predict"], [[1, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(got["predict_proba"], [[1, 1, 1], [1, 0, 1]])


def test_multilabel_predict_is_sklearns_indicator_matrix() -> None:
    X, Y = make_multilabel_classification(n_samples=200, n_features=8, n_classes=5, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPClassifier(hidden_layer_sizes=(12,), max_iter=100, random_state=0).fit(X, Y)
    cm = emlearn_gen.convert(est, name="labels")
    want = est.predict(X)
    got = cm.predict(X)
    assert got.dtype == want.dtype and got.shape == want.shape == (200, 5)
    report = cm.family.contract.assert_matches_sklearn(cm, est, X)
    assert report["label_differences"] <= report["tie_zone"] <= 2
    np.testing.assert_array_equal(cm.classes_, est.classes_)
    assert cm.raw_outputs("predict", X[:3]).dtype == np.int32
    assert "void predict(const float* x, int32_t* out)" in cm.to_source()
