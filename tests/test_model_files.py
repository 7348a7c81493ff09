"""Model files (docs/model-file.md): written from a CModel, loaded on the host
through the runtime's loader (loader.hpp), and by test programs on the host
compiler and the emulated devices, bit-equal to the converted model; damaged
files refused with a status on the device and a ValueError naming the
problem in Python."""

from __future__ import annotations

import struct
import zlib
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import emlearn_gen
from emlearn_gen import cli
from emlearn_gen.core import model_file
from emlearn_gen.testing import assert_device_matches, catalog

EXAMPLES = catalog.examples()

# One example per family, and the variants whose loaders differ (real64
# tables, int8 and int16 storage, boosting, isolation forests, outliers).
PROGRAM_EXAMPLES = [
    "DecisionTreeClassifier", "HistGradientBoostingClassifier-categorical", "IsolationForest", "AdaBoostRegressor",
    "LogisticRegression-multinomial", "SVC-proba-break_ties-float64", "OneClassSVM-rbf", "GaussianNB-iris",
    "CategoricalNB", "MLPClassifier-multilabel-relu-float64", "MLPClassifier-binary-int8",
    "KNeighborsClassifier-int16", "NearestCentroid", "LocalOutlierFactor-int16", "RadiusNeighborsRegressor",
    "GaussianMixture-full", "EllipticEnvelope", "KMeans", "StandardScaler", "PCA",
]
# Small enough for every device, one per family.
DEVICE_EXAMPLES = [
    "DecisionTreeClassifier", "LogisticRegression-multinomial", "SVC-proba-break_ties-float64", "GaussianNB-iris",
    "MLPClassifier-multilabel-relu-float64", "KNeighborsClassifier-int16", "GaussianMixture-full", "KMeans",
    "StandardScaler",
]


def _converted(key: str) -> Tuple[Any, Any, np.ndarray]:
    example = catalog.example(key)
    est, X = catalog.fitted(example)
    return example, emlearn_gen.convert(est, name="model", **example.options), X


def _why_refused(cm: Any) -> str:
    """What a model file cannot hold of ``cm`` yet, or "" (core/model_file.py)."""
    if cm.steps is not None:
        return "feature steps"
    if cm.target is not None:
        return "TransformedTargetRegressor"
    if cm.input_columns is not None:
        return "selects its input columns"
    if cm._lowered.stream is not None:
        return "stream entry point"
    if cm._lowered.check_rows is not None and cm.family.file_row_checks(cm._tables, cm.entry_points) is None:
        return "checks its input values"
    return ""


def test_the_named_examples_exist():
    keys = {e.key for e in EXAMPLES}
    assert set(PROGRAM_EXAMPLES + DEVICE_EXAMPLES) <= keys
    # Every family has a program example.
    families = {_converted(k)[1].family.name for k in PROGRAM_EXAMPLES}
    from emlearn_gen.families import REGISTRY

    assert families == {f.name for f in REGISTRY.families}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_every_catalog_model_round_trips_bit_equal(example):
    """Write, load through the C++ loader, and every entry point's raw
    outputs are the converted model's, bit for bit; the scikit-learn-facing
    results too (labels, shapes, dtypes). Models a file cannot hold yet are
    refused saying to save a header."""
    est, X = catalog.fitted(example)
    cm = emlearn_gen.convert(est, name="model", **example.options)
    why = _why_refused(cm)
    if why:
        with pytest.raises(ValueError, match="save a header instead") as info:
            cm.to_model_file()
        assert why in str(info.value)
        return
    data = cm.to_model_file()
    loaded = emlearn_gen.load_model_file(data)
    assert [ep.name for ep in loaded.entry_points] == [ep.name for ep in cm.entry_points]
    for ep in cm.entry_points:
        want = cm.raw_outputs(ep.name, X)
        got = loaded.raw_outputs(ep.name, X)
        assert got.dtype == want.dtype and got.shape == want.shape, ep.name
        assert got.tobytes() == want.tobytes(), ep.name
        if ep.output in ("label", "outlier") or ep.name in ("predict_proba", "transform", "score_samples"):
            expected, actual = getattr(cm, ep.name)(X), getattr(loaded, ep.name)(X)
            assert actual.dtype == expected.dtype and actual.shape == expected.shape, ep.name
            np.testing.assert_array_equal(actual, expected, err_msg=ep.name)
    for attr in ("classes_", "n_features_in_", "n_outputs_", "feature_names_in_"):
        if hasattr(cm, attr):
            np.testing.assert_array_equal(getattr(loaded, attr), getattr(cm, attr), err_msg=attr)
        else:
            assert not hasattr(loaded, attr), attr


def test_same_model_same_bytes(tmp_path):
    X, y = load_iris(return_X_y=True)
    first = emlearn_gen.convert(RandomForestClassifier(n_estimators=4, random_state=0).fit(X, y), name="a")
    second = emlearn_gen.convert(RandomForestClassifier(n_estimators=4, random_state=0).fit(X, y), name="a")
    assert first.to_model_file() == second.to_model_file()
    path = first.save_model_file(tmp_path / "forest.emlg")
    assert path.read_bytes() == second.to_model_file()
    loaded = emlearn_gen.load_model_file(path)
    assert loaded.to_model_file() == first.to_model_file()  # a loaded model saves the same file
    with pytest.raises(ValueError, match="loaded from a model file"):
        loaded.to_source()  # the file has no banner or template context to render a header from


def test_string_labels_and_feature_names_survive():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=["sepal length", "sepal width", "petal length", "petal width"])
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    est = LogisticRegression(max_iter=1000).fit(frame, labels)
    loaded = emlearn_gen.load_model_file(emlearn_gen.convert(est, name="iris").to_model_file())
    np.testing.assert_array_equal(loaded.predict(frame), est.predict(frame))
    assert list(loaded.feature_names_in_) == list(est.feature_names_in_)
    assert loaded.predict_proba(frame).shape == (len(X), 3)


def test_pipelines_with_steps_are_refused_with_what_to_do():
    X, y = load_iris(return_X_y=True)
    cm = emlearn_gen.convert(make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y), name="p")
    with pytest.raises(ValueError, match=r"feature steps.*save a header instead"):
        cm.to_model_file()


# --------------------------------------------------------------------------
# Damaged files


@pytest.fixture(scope="module")
def forest_file() -> bytes:
    X, y = load_iris(return_X_y=True)
    cm = emlearn_gen.convert(RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y), name="f")
    return cm.to_model_file()


def _recrc(data: bytearray) -> bytes:
    """``data`` with its CRC-32 recomputed, so that the check under test is
    the one that fails."""
    data[-4:] = struct.pack("<I", zlib.crc32(bytes(data[:-4])) & 0xFFFFFFFF)
    return bytes(data)


def _header(data: bytes) -> Tuple[Any, ...]:
    return model_file._HEADER.unpack_from(data, 0)


def _table_record_at(data: bytes, index: int) -> int:
    """Offset of the directory record of table ``index``."""
    (_, _, _, _, _, n_entries, n_fields, _, _, _, _, _, _, _) = _header(data)
    return model_file._HEADER.size + n_entries * model_file._ENTRY.size + 4 * n_fields + index * model_file._TABLE.size


def _table_bytes(data: bytes, name: str) -> Tuple[int, int]:
    """(offset, count) of the trees table ``name``."""
    from emlearn_gen.families.trees import LAYOUT

    index = [t.name for t in LAYOUT.tables].index(name)
    _, _, _, offset, count = model_file._TABLE.unpack_from(data, _table_record_at(data, index))
    return offset, count


def _set(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return _recrc(out)


def _fields(data: bytes) -> List[int]:
    (_, _, _, _, _, n_entries, n_fields, _, _, _, _, _, _, _) = _header(data)
    at = model_file._HEADER.size + n_entries * model_file._ENTRY.size
    return list(struct.unpack_from(f"<{n_fields}I", data, at))


def _child_out_of_range(data: bytes) -> bytes:
    """The first node's children made two leaves starting at the last leaf
    (tree_ensemble.hpp's record: feature, 3 flags, ref), so its right
    child is one past the leaves."""
    from emlearn_gen.families.trees import LAYOUT

    fields = dict(zip([f.name for f in LAYOUT.host_fields()], _fields(data)))
    shift, ref_bits = fields["feature_bits"], fields["ref_bits"]
    offset, count = _table_bytes(data, "nodes")
    bits = int.from_bytes(data[offset : offset + count], "little")
    both_leaves = 1 | 2  # flag_left_leaf | flag_right_leaf
    mask = (2 ** (3 + ref_bits) - 1) << shift
    bits = (bits & ~mask) | ((both_leaves | ((fields["n_leaves"] - 1) << 3)) << shift)
    out = bytearray(data)
    out[offset : offset + count] = bits.to_bytes(count, "little")
    return _recrc(out)


def _trees_beyond_the_file(data: bytes) -> bytes:
    """Millions of trees that share one root (root_bits 0, so the roots
    table bounds nothing): every prediction would walk them all."""
    from emlearn_gen.families.trees import LAYOUT

    names = [f.name for f in LAYOUT.host_fields()]
    (_, _, _, _, _, n_entries, _, _, _, _, _, _, _, _) = _header(data)
    at = model_file._HEADER.size + n_entries * model_file._ENTRY.size
    out = bytearray(data)
    struct.pack_into("<I", out, at + 4 * names.index("root_bits"), 0)
    struct.pack_into("<I", out, at + 4 * names.index("n_trees"), 3_276_801)
    return _recrc(out)


def _negative_threshold(data: bytes) -> bytes:
    """A threshold made negative in a model that says none is
    (nonnegative_thresholds: the walk would compare its bits as integers)."""
    from emlearn_gen.families.trees import LAYOUT

    names = [f.name for f in LAYOUT.host_fields()]
    assert _fields(data)[names.index("nonnegative_thresholds")] == 1
    offset, _ = _table_bytes(data, "thresholds")
    (first,) = struct.unpack_from("<f", data, offset)
    return _set(data, offset, "<f", -abs(first) - 1.0)


def _table_past_the_end(data: bytes) -> bytes:
    at = _table_record_at(data, 2)  # leaves
    _, _, _, offset, count = model_file._TABLE.unpack_from(data, at)
    return _set(data, at + 8, "<I", count + len(data))


DAMAGE: Dict[str, Tuple[Callable[[bytes], bytes], str]] = {
    "magic": (lambda d: _recrc(bytearray(b"ZMLG" + d[4:])), "bad magic"),
    "version": (lambda d: _set(d, 4, "<H", 99), "unsupported file format version"),
    "crc": (lambda d: d[:-1] + bytes([d[-1] ^ 1]), "CRC-32 mismatch"),
    "flipped table bit": (lambda d: d[:200] + bytes([d[200] ^ 4]) + d[201:], "CRC-32 mismatch"),
    "truncated": (lambda d: d[: len(d) - 8], "truncated"),
    "empty": (lambda d: b"", "too short"),
    "table outside the buffer": (_table_past_the_end, "outside the file"),
    "table format": (lambda d: _set(d, 8, "<H", 99), "table format is not this runtime's"),
    "family": (lambda d: _set(d, 6, "<B", 200), "family this runtime does not know"),
    "feature count": (lambda d: _set(d, 16, "<I", 5), "feature count is not the model's"),
    "tree child out of range": (_child_out_of_range, "inconsistent model tables"),
    "more trees than the file could hold": (_trees_beyond_the_file, "inconsistent model tables"),
    "negative threshold in a model without": (_negative_threshold, "inconsistent model tables"),
    "entry point the model lacks": (lambda d: _set(d, model_file._HEADER.size, "<B", 7), "entry point the model"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_files_raise_value_error_naming_the_problem(forest_file, damage):
    mutate, words = DAMAGE[damage]
    bad = mutate(forest_file)
    assert bad != forest_file
    with pytest.raises(ValueError, match="not a loadable model file") as info:
        emlearn_gen.load_model_file(bad)
    assert words in str(info.value)
    emlearn_gen.load_model_file(forest_file)  # the undamaged file loads


def _other_widths(width: int) -> List[int]:
    return sorted({1, width - 1, width + 1, 2 * width} - {0, width})


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_an_entry_point_of_another_width_is_refused(example):
    """The loader refuses an entry-point record whose width is not what the
    kernel writes: a caller sizes its output buffer by that width, so a
    narrower one would be written past (found by the model-file fuzzer on a
    one-vs-rest SVC's decision_function)."""
    est, _ = catalog.fitted(example)
    cm = emlearn_gen.convert(est, name="model", **example.options)
    if _why_refused(cm):
        return
    data = cm.to_model_file()
    (_, _, _, _, _, n_entries, _, _, _, _, _, _, _, _) = _header(data)
    tried = 0
    for i in range(n_entries):
        at = model_file._HEADER.size + i * model_file._ENTRY.size
        entry = model_file._ENTRY.unpack_from(data, at)
        for width in _other_widths(entry[-1]):
            bad = bytearray(data)
            model_file._ENTRY.pack_into(bad, at, *entry[:-1], width)
            with pytest.raises(ValueError, match="entry point the model does not have, or of the wrong width"):
                emlearn_gen.load_model_file(_recrc(bad))
            tried += 1
    assert tried >= n_entries > 0


def test_metadata_that_contradicts_the_records_is_refused(forest_file):
    _, _, _, _, _, _, _, _, _, _, _, _, at, size = _header(forest_file)
    meta = forest_file[at : at + size].replace(b'"predict_proba"', b'"predict_probX"', 1)
    assert len(meta) == size
    bad = bytearray(forest_file)
    bad[at : at + size] = meta
    with pytest.raises(ValueError, match="not a loadable model file"):
        emlearn_gen.load_model_file(_recrc(bad))


# --------------------------------------------------------------------------
# Test programs: the runtime's loader compiled with the host compiler, and on
# the emulated devices


@pytest.mark.parametrize("key", PROGRAM_EXAMPLES)
def test_host_program_loads_the_file_bit_equal(key, emlearn_build_cache):
    """A g++ program (strict warnings, C++11) embeds the file, loads it with
    model_load and runs every entry point with model_run: bit-equal to the
    host runtime, which the header is (test_compiled_header.py)."""
    _, cm, X = _converted(key)
    reports = assert_device_matches(cm, X, targets=["host"], cache=emlearn_build_cache, model_file=True)
    for report in reports.values():
        assert report.n_samples == len(X)
        assert report.label_differences == 0
        assert all(d == 0.0 for d in report.max_abs_diff.values()), report


@pytest.mark.parametrize("key", DEVICE_EXAMPLES)
def test_devices_load_the_file_bit_equal(key, emlearn_build_cache):
    """The same program on emulated Cortex-M0, Cortex-M4F and AVR (the file in
    program memory): bit-equal to the host runtime."""
    from emlearn_gen.testing import DEVICE_TARGET_NAMES
    from emlearn_gen.testing.pytest_plugin import require_target

    targets = [require_target(name) for name in DEVICE_TARGET_NAMES]
    _, cm, X = _converted(key)
    reports = assert_device_matches(cm, X, targets=targets, cache=emlearn_build_cache, model_file=True)
    assert len(reports) == len(targets)
    for report in reports.values():
        assert report.n_samples == len(X)
        assert report.label_differences == 0
        assert all(d == 0.0 for d in report.max_abs_diff.values()), report


# --------------------------------------------------------------------------
# Command line


def test_cli_writes_the_model_file(tmp_path, monkeypatch, capsys):
    import joblib

    monkeypatch.chdir(tmp_path)
    X, y = load_iris(return_X_y=True)
    est = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    joblib.dump(est, tmp_path / "iris.joblib")
    assert cli.main(["convert", "iris.joblib", "--output-format", "file"]) == 0
    out = capsys.readouterr().out
    assert "wrote iris.emlg" in out and "model file" in out
    assert (tmp_path / "iris.emlg").read_bytes() == emlearn_gen.convert(est, name="iris").to_model_file()
    np.testing.assert_array_equal(emlearn_gen.load_model_file(tmp_path / "iris.emlg").predict(X), est.predict(X))
    for argv in (["-o", "-"], ["--standalone"]):
        assert cli.main(["convert", "iris.joblib", "--output-format", "file", *argv]) == 2
        assert "emlearn-gen" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["convert", "--help"])
    assert "--output-format" in capsys.readouterr().out
