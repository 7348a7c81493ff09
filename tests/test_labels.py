"""Class labels are decided at convert(): every accepted label compiles and
reads back from the header as itself; the others are refused there, with
advice, instead of failing (or coming back altered) later."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, List

import numpy as np
import pytest
from firmware_support import require_tool
from sklearn.ensemble import RandomForestClassifier

import emlearn_gen
from emlearn_gen._paths import get_include
from emlearn_gen.core.literals import int_literal
from emlearn_gen.testing import HostTarget, run_model

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

ACCEPTED = {
    "int64_extremes": np.array([INT64_MIN, -1, INT64_MAX], dtype=np.int64),
    "int32_extremes": np.array([-(2**31), 0, 2**31 - 1], dtype=np.int32),
    "uint64_up_to_int64_max": np.array([0, 7, INT64_MAX], dtype=np.uint64),
    "integer_floats": np.array([-(2.0**63), -0.0, 2.0**62]),
    "bools": np.array([False, True]),
    "strings": np.array(['quo"te', "back\\slash", "??=trigraph", "ß ü €", "", "tab\there"], dtype=object),
}

REFUSED = {
    "uint64_above_int64_max": (np.array([0, INT64_MAX + 1], dtype=np.uint64), r"outside int64's range.*LabelEncoder"),
    "uint64_max": (np.array([1, 2**64 - 1], dtype=np.uint64), r"18446744073709551615.*int64_t"),
    "nul_in_string": (np.array(["ok", "cut\0here"], dtype=object), r"NUL character.*before fitting"),
    "lone_surrogate": (np.array(["ok", "bad\udc80"], dtype=object), r"not valid Unicode"),
}


def _require_gxx() -> None:
    require_tool("g++", "g++")


def _fit(labels: np.ndarray, load_data: Any) -> Any:
    X, y = load_data("iris")
    # Labels by quantile of a feature sum: learnable, and every label occurs.
    rank = np.argsort(np.argsort(X[:, 0] + X[:, 2], kind="stable"), kind="stable")
    y_labels = labels[rank * len(labels) // len(y)]
    with warnings.catch_warnings():
        # scikit-learn's own cast of labels beyond int64 when it checks them
        warnings.simplefilter("ignore", RuntimeWarning)
        est = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(X, y_labels)
    return est, X


_PRINT_CLASSES = """
#include <stdio.h>
#include "labels.hpp"

int main() {
  for (int i = 0; i < labels::n_classes; ++i) {
%s
  }
  return 0;
}
"""
_PRINT_INT = '    printf("%lld\\n", static_cast<long long>(labels::classes[i]));'
_PRINT_BYTES = """\
    printf("[");
    for (const char* p = labels::classes[i]; *p != 0; ++p) {
      printf("%02x", static_cast<unsigned>(static_cast<unsigned char>(*p)));
    }
    printf("]\\n");"""


def _classes_in_header(cm: Any, workdir: Path) -> List[str]:
    """classes[] as a program compiled against the header prints it."""
    workdir.mkdir()
    cm.save(workdir / "labels.hpp")
    strings = cm.classes_.dtype.kind in "UO"
    (workdir / "main.cpp").write_text(_PRINT_CLASSES % (_PRINT_BYTES if strings else _PRINT_INT))
    out = HostTarget("g++").build_and_run(workdir, ["main.cpp"], [get_include(), str(workdir)], 120.0)
    return out.split()


@pytest.mark.parametrize("kind", sorted(ACCEPTED))
def test_labels_compile_and_read_back(kind, load_data, tmp_path):
    _require_gxx()
    est, X = _fit(ACCEPTED[kind], load_data)
    cm = emlearn_gen.convert(est, name="labels")
    want = est.predict(X)
    got = cm.predict(X)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    # The header's predict, compiled by g++, picks the same entries of classes[] ...
    device = run_model(cm, X, HostTarget("g++"), workdir=tmp_path / "run")
    np.testing.assert_array_equal(cm.classes_[device["predict"]], want)
    # ... and classes[] holds exactly scikit-learn's labels.
    printed = _classes_in_header(cm, tmp_path / "classes")
    if est.classes_.dtype.kind in "UO":
        expected = [f"[{label.encode('utf-8').hex()}]" for label in est.classes_]
    else:
        expected = [str(int(label)) for label in est.classes_]
    assert printed == expected


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_labels_the_header_cannot_hold_are_refused_at_convert(kind, load_data):
    labels, match = REFUSED[kind]
    est, _ = _fit(labels, load_data)
    with pytest.raises(ValueError, match=match) as err:
        emlearn_gen.convert(est)
    assert "RandomForestClassifier" in str(err.value)


def test_float_labels_beyond_int64_are_refused_at_convert(load_data):
    # scikit-learn does not fit such labels (it calls them continuous); a
    # classes_ set by other means is refused all the same.
    est, _ = _fit(np.array([0.0, 1.0]), load_data)
    est.classes_ = np.array([0.0, 2.0**63])
    with pytest.raises(ValueError, match=r"RandomForestClassifier has class label 9223372036854775808, outside int64"):
        emlearn_gen.convert(est)


def test_int64_min_literal_is_valid_cpp():
    assert int_literal(INT64_MIN) == "(-INT64_C(9223372036854775807) - 1)"
    assert int_literal(INT64_MIN + 1) == "INT64_C(-9223372036854775807)"
    with pytest.raises(ValueError, match="does not fit"):
        int_literal(INT64_MIN - 1)
    with pytest.raises(ValueError, match="does not fit"):
        int_literal(INT64_MAX + 1)
