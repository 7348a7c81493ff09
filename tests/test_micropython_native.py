"""MicroPython native modules on a real MicroPython (the unix port, x64).

Model modules (``cm.save_micropython``) and the runtime module
(``emlearn_gen_rt``, loading model files) of catalog models of every family
run every entry point on a few hundred rows; each result must be the host
runtime's bit for bit (``cm.raw_outputs``: float32 values compared as their
bits, labels as the class labels they index). The Arm builds must link and
carry their arch in the .mpy header; running them on an emulated
Cortex-M4F needs a bare-metal MicroPython target in
``emlearn_gen.testing.micropython.MICROPYTHON_TARGETS`` (see
test_native_modules_on_bare_metal_targets).

A missing compiler, MicroPython source tree or ``micropython`` command
skips (or fails under EMLEARN_GEN_REQUIRE_DEVICE=1), as device tests do.
"""

from __future__ import annotations

import binascii
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
import pytest

import emlearn_gen
from emlearn_gen.core.entry_points import INDICATOR, LABEL, OUTLIER, EntryPoint
from emlearn_gen.core.pipeline import is_composite
from emlearn_gen.micropython import native
from emlearn_gen.micropython.sdk import SdkMissing
from emlearn_gen.testing import ToolchainMissing, catalog
from emlearn_gen.testing.micropython import MICROPYTHON_TARGETS, UNIX, run_micropython
from emlearn_gen.testing.pytest_plugin import missing_toolchain

#: Catalog models covering every family that headers and model files hold:
#: trees (a forest, boosting, an isolation forest, NaN-routing histogram
#: boosting, a float regressor), linear, svm (float32 and binary64), naive
#: Bayes, mlp (with a multi-label indicator), neighbors, mixtures, k-means,
#: and a transforms Pipeline (header only: model files hold no steps).
MODELS = (
    "RandomForestClassifier",
    "RandomForestRegressor",
    "GradientBoostingClassifier-multiclass",
    "HistGradientBoostingClassifier-nan",
    "IsolationForest",
    "LogisticRegression-binary",
    "LinearRegression-multioutput",
    "SVC-proba-multiclass",
    "SVR-linear-float64",
    "GaussianNB-iris",
    "CategoricalNB",
    "MLPClassifier-multiclass-tanh",
    "MLPClassifier-multilabel-relu",
    "KNeighborsClassifier",
    "LocalOutlierFactor",
    "GaussianMixture-full",
    "EllipticEnvelope",
    "KMeans",
    "StandardScaler-nan",
    "Pipeline-scale-pca-logistic",
)
#: The models a model file holds (a Pipeline's feature steps are refused;
#: tests/test_model_files.py checks that refusal).
FILE_MODELS = tuple(key for key in MODELS if not key.startswith("Pipeline"))

#: Bare-metal MicroPython targets and the native arch they load.
BARE_METAL_ARCH = {"mps2-an386": "armv7emsp"}
BARE_METAL_TARGETS = tuple(t for t in MICROPYTHON_TARGETS if t != UNIX)

ARM_ARCHS = ("armv6m", "armv7m", "armv7emsp")

_modules: Dict[Tuple[str, str], bytes] = {}


def _require_build(arch: str) -> None:
    try:
        native.check_tools(arch)
    except (native.ToolMissing, SdkMissing) as exc:
        missing_toolchain(f"MicroPython native modules for {arch}: {exc}")


def _run(script: str, files: Dict[str, Any], target: str = UNIX) -> str:
    try:
        return run_micropython(script, files=files, target=target)
    except ToolchainMissing as exc:
        missing_toolchain(str(exc))


def _converted(key: str) -> Tuple[Any, np.ndarray]:
    """(CModel named after nothing in MicroPython, rows: the catalog's, plus
    rows with NaN where the model takes NaN)."""
    example = catalog.example(key)
    est, X = catalog.fitted(example)
    cm = emlearn_gen.convert(est, name="model_under_test", **example.options)
    X = np.asarray(X, dtype=np.float64)
    if cm._allow_nan and not is_composite(est):
        holes = X[: min(len(X), 60)].copy()
        holes[np.arange(len(holes)), np.arange(len(holes)) % X.shape[1]] = np.nan
        X = np.concatenate([X, holes])
    return cm, X


def _model_module(key: str, cm: Any, arch: str = "x64") -> bytes:
    if (key, arch) not in _modules:
        _require_build(arch)
        _modules[(key, arch)] = native.build_model_module(cm, arch)
    return _modules[(key, arch)]


def _runtime_module(arch: str = "x64") -> bytes:
    if ("<runtime>", arch) not in _modules:
        _require_build(arch)
        _modules[("<runtime>", arch)] = native.build_runtime_module(arch)
    return _modules[("<runtime>", arch)]


# -- what the host computes, as the scripts print it ----------------------------


def _canonical(word: str) -> str:
    """A float32's hex bits, with every NaN the same (payloads and signs of
    NaN are not results)."""
    bits = int.from_bytes(binascii.unhexlify(word), "little")
    return "nan" if (bits & 0x7F800000) == 0x7F800000 and (bits & 0x7FFFFF) else word


def _values_words(raw: np.ndarray) -> List[str]:
    return [" ".join(_canonical(w) for w in _split_words(row.astype("<f4").tobytes().hex())) for row in raw]


def _split_words(text: str) -> List[str]:
    return [text[i : i + 8] for i in range(0, len(text), 8)]


def _host_lines(cm: Any, X: np.ndarray) -> List[str]:
    """One line per entry point and row: label repr, or the float32 bits."""
    lines = []
    for ep in cm.entry_points:
        raw = cm.raw_outputs(ep.name, X)
        if ep.output == LABEL:
            classes = getattr(cm, "classes_", None)
            labels = raw if classes is None else classes.take(raw, axis=0)
            lines += [f"{ep.name} {np.asarray(v).item()!r}" for v in labels]
        elif ep.output == OUTLIER:
            lines += [f"{ep.name} {int(v)}" for v in raw]
        elif ep.output == INDICATOR:
            lines += [f"{ep.name} {' '.join(_split_words(row.astype('<i4').tobytes().hex()))}" for row in raw]
        else:
            lines += [f"{ep.name} {words}" for words in _values_words(raw)]
    return lines


#: Prints each entry point's result on each row of inputs.bin, as _host_lines.
_PRINT_RESULTS = """
import binascii
import struct
from array import array

def words(data):
    text = binascii.hexlify(data).decode()
    out = []
    for i in range(0, len(text), 8):
        w = text[i:i + 8]
        bits = int.from_bytes(binascii.unhexlify(w), 'little')
        out.append('nan' if (bits & 0x7F800000) == 0x7F800000 and (bits & 0x7FFFFF) else w)
    return ' '.join(out)

def show(name, value):
    if isinstance(value, float):
        print(name, words(struct.pack('<f', value)))
    elif isinstance(value, array):
        print(name, words(bytes(value)))  # float32 or int32 (an indicator's 0/1, never NaN-like)
    else:
        print(name, repr(value))

data = open('inputs.bin', 'rb').read()
n = model.n_features
for name in ENTRY_POINTS:
    f = getattr(model, name)
    for r in range(len(data) // (4 * n)):
        show(name, f(array('f', data[4 * n * r:4 * n * (r + 1)])))
"""


def _script(load: str, entry_points: Sequence[EntryPoint]) -> str:
    names = [ep.name for ep in entry_points]
    return f"{load}\nENTRY_POINTS = {names!r}\n{_PRINT_RESULTS}"


def _inputs(cm: Any, X: np.ndarray) -> bytes:
    return np.ascontiguousarray(cm.device_inputs(cm.check_input(X)), dtype="<f4").tobytes()


def _assert_same(device: List[str], host: List[str]) -> None:
    assert len(device) == len(host), (len(device), len(host))
    wrong = [(i, d, h) for i, (d, h) in enumerate(zip(device, host)) if d != h]
    assert not wrong, f"{len(wrong)} of {len(host)} results differ; first: {wrong[:3]}"


# -- model modules ---------------------------------------------------------------


@pytest.mark.parametrize("key", MODELS)
def test_model_module_is_bit_equal_to_the_host_runtime(key: str) -> None:
    cm, X = _converted(key)
    module = _model_module(key, cm)
    out = _run(_script("import model_under_test as model", cm.entry_points),
               {"model_under_test.mpy": module, "inputs.bin": _inputs(cm, X)})
    _assert_same(out.splitlines(), _host_lines(cm, X))


@pytest.mark.parametrize("key", FILE_MODELS)
def test_runtime_module_loads_model_files_bit_equal(key: str) -> None:
    cm, X = _converted(key)
    data = cm.to_model_file()
    load = "import emlearn_gen_rt\nmodel = emlearn_gen_rt.load(open('model.emlg', 'rb').read())"
    out = _run(_script(load, cm.entry_points),
               {"emlearn_gen_rt.mpy": _runtime_module(), "model.emlg": data, "inputs.bin": _inputs(cm, X)})
    _assert_same(out.splitlines(), _host_lines(cm, X))


def test_model_files_load_from_a_path_a_bytearray_and_a_misaligned_slice() -> None:
    """load_file, and bytes the loader cannot read in place (a bytearray the
    caller may change, a slice off the 8-byte alignment) are copied: each
    gives the host's probabilities."""
    cm, X = _converted("GaussianNB-iris")
    script = """
import emlearn_gen_rt, binascii
from array import array
data = open('model.emlg', 'rb').read()
x = array('f', open('inputs.bin', 'rb').read()[:16])
padded = memoryview(b'abc' + data)[3:]
for m in (emlearn_gen_rt.load_file('model.emlg'), emlearn_gen_rt.load(bytearray(data)), emlearn_gen_rt.load(padded)):
    print(binascii.hexlify(bytes(m.predict_proba(x))).decode(), m.predict(x), m.classes, m.n_features)
"""
    out = _run(script, {"emlearn_gen_rt.mpy": _runtime_module(), "model.emlg": cm.to_model_file(),
                        "inputs.bin": _inputs(cm, X)})
    proba = cm.raw_outputs("predict_proba", X[:1])[0].astype("<f4").tobytes().hex()
    label = cm.classes_[cm.raw_outputs("predict", X[:1])[0]].item()
    expected = f"{proba} {label!r} {tuple(cm.classes_.tolist())!r} {cm.n_features_in_}"
    assert out.splitlines() == [expected] * 3


def test_runtime_module_refuses_a_damaged_file_with_the_loaders_reason() -> None:
    cm, _ = _converted("GaussianNB-iris")
    damaged = bytearray(cm.to_model_file())
    damaged[40] ^= 0x01  # a record byte: the CRC no longer matches
    script = """
import emlearn_gen_rt
for data in (open('damaged.emlg', 'rb').read(), b'not a model file at all, but long enough'):
    try:
        emlearn_gen_rt.load(data)
    except ValueError as e:
        print('ValueError', e)
try:
    emlearn_gen_rt.load('text')
except TypeError as e:
    print('TypeError', e)
"""
    out = _run(script, {"emlearn_gen_rt.mpy": _runtime_module(), "damaged.emlg": bytes(damaged)}).splitlines()
    assert out[0] == "ValueError not a loadable model file: CRC-32 mismatch: the file is corrupt"
    assert out[1].startswith("ValueError not a loadable model file: bad magic")
    assert out[2].startswith("TypeError load takes the bytes of a model file")


#: The same row as array('f'), list, tuple, bytearray, bytes and memoryview
#: of float32: every form must give the same bits.
_INPUT_FORMS = """
import binascii
from array import array
x = array('f', open('inputs.bin', 'rb').read()[:4 * model.n_features])
for form in (x, list(x), tuple(x), bytearray(x), bytes(x), memoryview(x)):
    print(binascii.hexlify(bytes(model.predict_proba(form))).decode(), model.predict(form))
"""


@pytest.mark.parametrize("kind", ["model", "runtime"])
def test_inputs_as_array_list_tuple_and_buffers(kind: str) -> None:
    cm, X = _converted("MLPClassifier-multiclass-tanh")
    if kind == "model":
        files = {"model_under_test.mpy": _model_module("MLPClassifier-multiclass-tanh", cm)}
        load = "import model_under_test as model"
    else:
        files = {"emlearn_gen_rt.mpy": _runtime_module(), "model.emlg": cm.to_model_file()}
        load = "import emlearn_gen_rt\nmodel = emlearn_gen_rt.load_file('model.emlg')"
    files["inputs.bin"] = _inputs(cm, X)
    out = _run(load + _INPUT_FORMS, files).splitlines()
    proba = cm.raw_outputs("predict_proba", X[:1])[0].astype("<f4").tobytes().hex()
    label = cm.classes_[cm.raw_outputs("predict", X[:1])[0]].item()
    assert out == [f"{proba} {label!r}"] * 6


#: 100 calls with out= in a function (a loop at module level stores its
#: variable in the module's dict, which may grow), against the same loop
#: with no call: the difference is what the calls allocate.
_NO_ALLOCATION = """
import gc
from array import array
x = array('f', open('inputs.bin', 'rb').read()[:4 * model.n_features])
out = array('f', [0.0] * WIDTH)

def calls(f, x, out):
    for _ in range(100):
        f(x, out=out)

def empty(f, x, out):
    for _ in range(100):
        pass

def allocated(loop):
    loop(model.predict_proba, x, out)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    loop(model.predict_proba, x, out)
    after = gc.mem_alloc()
    gc.enable()
    return after - before

print(allocated(calls) - allocated(empty))
print(model.predict_proba(x, out=out) is out)
"""


@pytest.mark.parametrize("kind", ["model", "runtime"])
def test_out_writes_without_allocating(kind: str) -> None:
    cm, X = _converted("SVC-proba-multiclass")
    if kind == "model":
        files = {"model_under_test.mpy": _model_module("SVC-proba-multiclass", cm)}
        load = "import model_under_test as model"
    else:
        files = {"emlearn_gen_rt.mpy": _runtime_module(), "model.emlg": cm.to_model_file()}
        load = "import emlearn_gen_rt\nmodel = emlearn_gen_rt.load_file('model.emlg')"
    files["inputs.bin"] = _inputs(cm, X)
    width = len(cm.classes_)
    out = _run(load + _NO_ALLOCATION.replace("WIDTH", str(width)), files).splitlines()
    assert out == ["0", "True"]


#: Each bad call, and the exception MicroPython raises: "what|type|message".
_BAD_CALLS = """
from array import array
n = model.n_features
def attempt(what, call):
    try:
        call()
        print(what + '|none|')
    except Exception as e:
        print(what + '|' + type(e).__name__ + '|' + str(e))
attempt('short list', lambda: model.predict([1.0] * (n - 1)))
attempt('long array', lambda: model.predict(array('f', [0.0] * (n + 1))))
attempt('string', lambda: model.predict('abcd' * n))
attempt('dict', lambda: model.predict({}))
attempt('doubles', lambda: model.predict(array('d', [0.0] * n)))
attempt('not numbers', lambda: model.predict(['a'] * n))
attempt('odd bytes', lambda: model.predict(bytes(4 * n + 1)))
attempt('out too short', lambda: model.predict_proba([0.0] * n, out=array('f', [0.0])))
attempt('out of ints', lambda: model.predict_proba([0.0] * n, out=array('i', [0] * 3)))
attempt('out on predict', lambda: model.predict([0.0] * n, out=array('f', [0.0])))
attempt('unknown keyword', lambda: model.predict([0.0] * n, outs=None))
attempt('no row', lambda: model.predict())
"""


@pytest.mark.parametrize("kind", ["model", "runtime"])
def test_bad_calls_raise_micropython_exceptions_that_say_what_is_wrong(kind: str) -> None:
    cm, _ = _converted("GaussianNB-iris")
    if kind == "model":
        files = {"model_under_test.mpy": _model_module("GaussianNB-iris", cm)}
        load = "import model_under_test as model"
    else:
        files = {"emlearn_gen_rt.mpy": _runtime_module(), "model.emlg": cm.to_model_file()}
        load = "import emlearn_gen_rt\nmodel = emlearn_gen_rt.load_file('model.emlg')"
    got = {}
    for line in _run(load + _BAD_CALLS, files).splitlines():
        what, kind_of, message = line.split("|", 2)
        got[what] = (kind_of, message)
    n = cm.n_features_in_
    assert got["short list"] == ("ValueError", f"x has {n - 1} values; the model takes {n}")
    assert got["long array"] == ("ValueError", f"x has {n + 1} values; the model takes {n}")
    assert got["string"][0] == got["dict"][0] == "TypeError"
    assert got["string"][1].startswith("x must be an array('f'), a list or tuple of numbers")
    assert got["doubles"] == ("TypeError", "x is a buffer of typecode 'd'; give float32 values: array('f'), "
                                           "or the bytes of float32 values")
    assert got["not numbers"][0] == "TypeError"
    assert got["odd bytes"] == ("ValueError", "x's bytes are not a whole number of float32 values (4 bytes each)")
    assert got["out too short"] == ("ValueError", "out has 1 values; this method writes 3")
    assert got["out of ints"] == ("TypeError", "out is a buffer of typecode 'i'; give an array('f')")
    assert got["out on predict"][0] == "TypeError"
    assert got["out on predict"][1].startswith("this method returns one label")
    assert got["unknown keyword"] == ("TypeError", "the only keyword argument is out=, given once")
    assert got["no row"][0] == "TypeError"


def test_model_module_attributes_follow_the_entry_points() -> None:
    """A model module has a function per entry point and no other; classes
    and n_features as the host model's."""
    cm, _ = _converted("KMeans")
    script = """
import model_under_test as model
print(sorted(k for k in dir(model) if not k.startswith('_')))
"""
    out = _run(script, {"model_under_test.mpy": _model_module("KMeans", cm)}).strip()
    names = sorted([ep.name for ep in cm.entry_points] + ["n_features"])
    assert out == repr(names)


# -- building ----------------------------------------------------------------------


def test_same_model_same_bytes() -> None:
    cm, _ = _converted("GaussianNB-iris")
    _require_build("x64")
    assert native.build_model_module(cm, "x64") == native.build_model_module(cm, "x64")


@pytest.mark.parametrize("arch", ARM_ARCHS)
def test_arm_modules_build_for_their_arch(arch: str, tmp_path: Path) -> None:
    """The Arm modules link (the soft-float helpers of the core's libgcc
    included) and their .mpy header names the arch MicroPython checks on
    import."""
    _require_build(arch)
    _require_build("x64")
    cm, _ = _converted("RandomForestClassifier")  # binary64 sums: soft double on every Arm core
    written = cm.save_micropython(tmp_path, arch=[arch, "x64"])
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        f"{arch}/model_under_test.mpy", "x64/model_under_test.mpy",
    ]
    assert native.mpy_arch(written[0].read_bytes()) == arch
    assert native.mpy_arch(written[1].read_bytes()) == "x64"
    runtime = native.write_runtime_module(tmp_path / "rt", arch)
    assert native.mpy_arch(runtime.read_bytes()) == arch


@pytest.mark.parametrize("target", BARE_METAL_TARGETS or [
    pytest.param(None, marks=pytest.mark.skip(reason="no bare-metal MicroPython target in "
                                              "emlearn_gen.testing.micropython.MICROPYTHON_TARGETS yet")),
])
def test_native_modules_on_bare_metal_targets(target: str) -> None:
    """Runs once a bare-metal MicroPython joins MICROPYTHON_TARGETS (the
    emulated Cortex-M4F: armv7emsp): a model module and the runtime module,
    bit-equal to the host as on the unix port."""
    arch = BARE_METAL_ARCH.get(target)
    if arch is None:
        pytest.fail(f"MicroPython target {target!r} has no native arch in BARE_METAL_ARCH: add the arch it loads")
    for key in ("RandomForestClassifier", "MLPClassifier-multiclass-tanh", "SVC-proba-multiclass"):
        cm, X = _converted(key)
        X = X[:40]
        host = _host_lines(cm, X)
        inputs = _inputs(cm, X)
        out = _run(_script("import model_under_test as model", cm.entry_points),
                   {"model_under_test.mpy": _model_module(key, cm, arch), "inputs.bin": inputs}, target)
        _assert_same(out.splitlines(), host)
        load = "import emlearn_gen_rt\nmodel = emlearn_gen_rt.load(open('model.emlg', 'rb').read())"
        out = _run(_script(load, cm.entry_points), {"emlearn_gen_rt.mpy": _runtime_module(arch),
                                                    "model.emlg": cm.to_model_file(), "inputs.bin": inputs}, target)
        _assert_same(out.splitlines(), host)


# -- the Python and command-line entry points ------------------------------------------


def test_save_micropython_layout_and_errors(tmp_path: Path) -> None:
    cm, _ = _converted("GaussianNB-iris")
    with pytest.raises(ValueError, match="unknown MicroPython arch 'x86'"):
        cm.save_micropython(tmp_path, arch="x86")
    with pytest.raises(ValueError, match="no MicroPython arch given"):
        cm.save_micropython(tmp_path, arch=[])
    keyword = emlearn_gen.convert(catalog.fitted(catalog.example("GaussianNB-iris"))[0], name="math")
    with pytest.raises(ValueError, match="cannot be a MicroPython module's name"):
        keyword.save_micropython(tmp_path, arch="x64")
    _require_build("x64")
    assert cm.save_micropython(tmp_path, arch="x64") == [tmp_path / "model_under_test.mpy"]


def test_missing_tools_and_sources_say_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(native.shutil, "which", lambda command: None)
    wanted = r"arm-none-eabi-gcc is not installed.*apt-get install gcc-arm-none-eabi"
    with pytest.raises(native.ToolMissing, match=wanted):
        native.check_tools("armv7emsp")
    monkeypatch.undo()
    monkeypatch.setenv("EMLEARN_GEN_MICROPYTHON_SDK", str(tmp_path))
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    with pytest.raises(SdkMissing, match="is not a MicroPython source tree"):
        native.check_tools("x64")


def test_cli_converts_to_micropython_modules(tmp_path: Path) -> None:
    skops = pytest.importorskip("skops.io")
    _require_build("x64")
    _require_build("armv7emsp")
    est, _ = catalog.fitted(catalog.example("GaussianNB-iris"))
    skops.dump(est, tmp_path / "gnb.skops")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "emlearn_gen", *args], cwd=tmp_path,
                              capture_output=True, text=True)

    done = cli("convert", "gnb.skops", "--micropython", "--arch", "x64,armv7emsp", "-o", "out")
    assert done.returncode == 0, done.stderr
    assert native.mpy_arch((tmp_path / "out/x64/gnb.mpy").read_bytes()) == "x64"
    assert native.mpy_arch((tmp_path / "out/armv7emsp/gnb.mpy").read_bytes()) == "armv7emsp"
    bad = cli("convert", "gnb.skops", "--micropython", "--arch", "x65")
    assert bad.returncode == 2 and "unknown MicroPython arch 'x65'" in bad.stderr
    done = cli("micropython-runtime", "--arch", "armv6m", "-o", "rt")
    assert done.returncode == 0, done.stderr
    assert native.mpy_arch((tmp_path / "rt/emlearn_gen_rt.mpy").read_bytes()) == "armv6m"


def test_readme_micropython_steps(tmp_path: Path) -> None:
    """The README's MicroPython steps: the command builds the modules, and
    the device script runs on the x64 one, as the host predicts."""
    from firmware_support import readme_block, saved_model, shell_env

    _require_build("x64")
    _require_build("armv7emsp")
    est, _ = catalog.fitted(catalog.example("GaussianNB-iris"))
    saved_model(est, tmp_path, "gesture")
    done = subprocess.run(readme_block("micropython-shell"), shell=True, cwd=tmp_path, env=shell_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert native.mpy_arch((tmp_path / "mpy/armv7emsp/gesture.mpy").read_bytes()) == "armv7emsp"
    out = _run(readme_block("micropython-device"), {"gesture.mpy": tmp_path / "mpy/x64/gesture.mpy"})
    cm = emlearn_gen.convert(est, name="gesture")
    zeros = np.zeros((1, cm.n_features_in_))
    label, _, printed = out.strip().partition(" array('f', [")
    assert label == repr(cm.predict(zeros)[0].item())
    device = np.array([float(v) for v in printed.rstrip("])").split(",")], dtype=np.float32)
    assert device.tobytes() == cm.raw_outputs("predict_proba", zeros)[0].tobytes()
