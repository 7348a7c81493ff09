"""Models larger than AVR's near program memory: tables over the 32 KiB of one
avr-gcc object and beyond the low 64 KiB of flash that 16-bit reads reach run
on the ATmega2560 (simavr) with far tables, bit-equal to the host runtime;
their headers for the host and ARM keep one array per table, and small
models' headers have no far variant at all.
"""

from __future__ import annotations

import re
import subprocess
import warnings
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

import emlearn_gen
from emlearn_gen.core import render
from emlearn_gen.testing import AVR, BuildCache, DoesNotFit, assert_device_matches, footprint
from emlearn_gen.testing.pytest_plugin import require_target

KIB = 1024
NEAR = 64 * KIB


def avr_table_bytes(cm: Any) -> int:
    tables = cm._tables
    return render.table_bytes_avr(cm.family.layout, tables.tables, tables.real)


def far_symbols(elf: Path) -> Dict[str, int]:
    """{symbol: address} of a model's far table chunks in an AVR image."""
    out = subprocess.run(["avr-nm", "-C", str(elf)], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        fields = line.split(maxsplit=2)
        if len(fields) == 3 and re.search(r"::detail::far_\w+_\d+$", fields[2]):
            found[fields[2]] = int(fields[0], 16)
    return found


def check_bit_equal(reports: Dict[str, Any], n_rows: int) -> None:
    for name, report in reports.items():
        assert report.n_samples == n_rows
        assert all(report.bit_equal.values()), (name, report)
        assert report.label_differences == 0


def run_on_avr(cm: Any, X: np.ndarray, root: Path, others: List[str] = ()) -> Dict[str, int]:
    """Runs ``cm`` on simavr (and ``others``), checks every output bit-equal
    to the host runtime, and returns the far chunks' addresses in the image."""
    require_target("avr")
    for name in others:
        require_target(name)
    # The AVR image is built in a folder of its own, so that it is the one
    # whose symbols are read (the other targets link image.elf files too).
    for folder, names in ((root / "avr", ["avr"]), (root / "others", list(others))):
        if names:
            with BuildCache(folder) as cache:
                check_bit_equal(assert_device_matches(cm, X, targets=names, cache=cache), len(X))
    images = sorted((root / "avr").rglob("image.elf"))  # one per chunk of inputs, each with the model
    assert images
    return far_symbols(images[0])


@pytest.fixture(scope="module")
def digits() -> Any:
    X, y = load_digits(return_X_y=True)
    return X.astype(np.float32), y


def test_forest_over_32_kib_runs_on_avr(digits: Any, tmp_path: Path) -> None:
    """100 trees: more than one avr-gcc object may hold (avr-g++ used to refuse
    its node table), and run on the host (g++, clang++), the Cortex-M4F and the AVR."""
    X, y = digits
    cm = emlearn_gen.convert(RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y), "forest100")
    assert 32 * KIB < avr_table_bytes(cm) < NEAR
    far = run_on_avr(cm, X[:40], tmp_path, others=["host", "host-clang++", "cortex-m4f"])
    assert any(name.endswith("far_nodes_1") for name in far)  # the node table was split


def test_forest_beyond_64_kib_of_flash_runs_on_avr(digits: Any, tmp_path: Path) -> None:
    """200 trees: tables beyond the low 64 KiB (used to be refused as over the
    64 KiB that 16-bit reads reach), placed after the code and read there."""
    X, y = digits
    cm = emlearn_gen.convert(RandomForestClassifier(n_estimators=200, random_state=1).fit(X, y), "forest200")
    assert avr_table_bytes(cm) > 96 * KIB
    far = run_on_avr(cm, X[:30], tmp_path)
    assert max(far.values()) > NEAR + 16 * KIB  # whole chunks beyond 16-bit reach
    assert min(far.values()) > 0  # and after the near PROGMEM data, not before it
    assert all(address % 2 == 0 for address in far.values())


def test_float32_forest_regressor_over_32_kib_runs_on_avr(tmp_path: Path) -> None:
    """A float32 forest (float leaves, 16-bit-coded leaf tables)."""
    X, y = make_classification(n_samples=2000, n_features=12, random_state=0)
    target = X[:, 0] * 3.0 + X[:, 1]
    est = RandomForestRegressor(n_estimators=40, max_leaf_nodes=300, random_state=0).fit(X, target)
    cm = emlearn_gen.convert(est, "forest_f32", dtype="float32")
    assert avr_table_bytes(cm) > 32 * KIB
    run_on_avr(cm, X[:40].astype(np.float32), tmp_path)


def test_linear_model_over_32_kib_runs_on_avr(tmp_path: Path) -> None:
    """10 scores of 1000 weights: 40 KB of weights in one table."""
    X, y = make_classification(
        n_samples=600, n_features=1000, n_informative=30, n_classes=10, n_clusters_per_class=1, random_state=0
    )
    cm = emlearn_gen.convert(LogisticRegression(max_iter=300).fit(X, y), "wide_linear")
    assert avr_table_bytes(cm) > 32 * KIB
    far = run_on_avr(cm, X[:16].astype(np.float32), tmp_path, others=["host"])
    assert any(name.endswith("far_weights_2") for name in far)


@pytest.mark.parametrize("dtype, hidden", [("float32", 160), ("int8", 600)])
def test_mlp_over_32_kib_runs_on_avr(dtype: str, hidden: int, digits: Any, tmp_path: Path) -> None:
    """A perceptron's weights over 32 KiB, float32 or int8: far tables of
    float, int8_t and uint32_t (the layer widths) read by the dense layer."""
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=5, random_state=0).fit(X, y)
    options = {"dtype": "int8", "calibration": X} if dtype == "int8" else {}
    cm = emlearn_gen.convert(est, "wide_mlp", **options)
    assert avr_table_bytes(cm) > 32 * KIB
    far = run_on_avr(cm, X[:12], tmp_path)
    table = "qweights" if dtype == "int8" else "weights"
    assert any(name.endswith(f"far_{table}_1") for name in far), far
    assert any(name.endswith("far_sizes_0") for name in far), far


@pytest.mark.parametrize("kind", ["forest", "linear"])
def test_far_tables_keep_the_stated_stack_and_no_ram(kind: str, digits: Any, tmp_path: Path) -> None:
    """Far reads add no static RAM (tables and descriptors stay in flash) and
    keep every entry point within the stack its banner states."""
    require_target("avr")
    if kind == "forest":
        X, y = digits
        cm = emlearn_gen.convert(RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y), "forest100")
    else:
        X, y = make_classification(n_samples=300, n_features=1000, n_informative=30, n_classes=10,
                                   n_clusters_per_class=1, random_state=0)
        cm = emlearn_gen.convert(LogisticRegression(max_iter=200).fit(X, y), "wide_linear")
    with BuildCache(tmp_path) as cache:
        fp = footprint(cm, "avr", X[:2].astype(np.float32), cache=cache)
    assert fp.ram == 0
    assert avr_table_bytes(cm) <= fp.flash < avr_table_bytes(cm) + 12 * KIB
    for name, stated in cm.stated_stack.items():
        assert 0 < fp.stack_by_method[name] <= stated, name


def test_small_model_headers_have_no_far_variant(digits: Any) -> None:
    X, y = digits
    cm = emlearn_gen.convert(RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y), "small")
    assert avr_table_bytes(cm) <= render.AVR_MAX_OBJECT_BYTES
    source = cm.to_source()
    assert "__AVR_HAVE_ELPM__" not in source and "far_" not in source


def test_far_chunks_hold_the_table_with_overlap(digits: Any) -> None:
    """Each chunk is 16 KiB of the table plus the first 8 bytes of the next,
    an even number of bytes; together they are the table."""
    X, y = digits
    cm = emlearn_gen.convert(RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y), "forest100")
    tables = cm._tables
    far = render.far_tables(cm.family.layout, tables.tables, tables.real)
    assert far is not None
    for table in far:
        data = np.asarray(tables.tables[table.name]).reshape(-1)
        element = data.dtype.itemsize if table.ctype != "emlearn_gen::real64" else 8
        per_chunk = 2**table.shift
        assert per_chunk * element == render.FAR_CHUNK_BYTES
        for k, chunk in enumerate(table.chunks):
            expected = data[k * per_chunk : (k + 1) * per_chunk + render.FAR_CHUNK_OVERLAP // element]
            assert np.array_equal(chunk[: expected.size], expected)
            assert (chunk.size * element) % 2 == 0
            # An empty table (leaf_fixed where there is no approximation)
            # still takes one element, padded to an even number of bytes.
            assert chunk.size - max(1, expected.size) in (0, 1) and not chunk[expected.size :].any()
        assert len(table.chunks) == -(-max(1, data.size) // per_chunk)
    # The host and ARM variant is the header's one-array-per-table code.
    source = cm.to_source()
    assert source.count("#if defined(__AVR_HAVE_ELPM__)") == 1
    assert "static const uint8_t nodes[" in source


def test_near_progmem_over_64_kib_is_refused(tmp_path: Path) -> None:
    """What really cannot work is still refused: near PROGMEM data (read with
    16-bit addresses) ending beyond the low 64 KiB."""
    require_target("avr")
    source = "\n".join(
        ["#include <avr/pgmspace.h>", "#include <stdint.h>"]
        + [f"const uint8_t block{i}[30000] PROGMEM = {{{i}}};" for i in range(3)]
        + [
            "volatile uint8_t sink;",
            "int main() {",
            *(f"  sink = pgm_read_byte(&block{i}[sink]);" for i in range(3)),
            "  return 0;",
            "}",
        ]
    )
    (tmp_path / "near.cpp").write_text(source)
    objects = AVR.compile_objects(tmp_path, ["near.cpp"], [], timeout=120)
    with pytest.raises(DoesNotFit, match=r"does not fit avr .*: its PROGMEM data is \d+ bytes over the low 64 KiB") as caught:
        AVR.link(tmp_path, objects, "near.elf", timeout=120)
    assert caught.value.region == "near program memory"
    assert 90000 - NEAR < caught.value.bytes_over < 90000 - NEAR + 2 * KIB


@pytest.mark.parametrize("dtype,n_rows", [("float32", 200), ("int16", 300)])
def test_nearest_neighbours_over_32_kib_run_on_avr(dtype: str, n_rows: int, digits: Any, tmp_path: Path) -> None:
    """Stored training rows beyond one avr-gcc object: every table becomes a
    far table of its own size (and type), int16 rows included."""
    from sklearn.neighbors import KNeighborsClassifier

    X, y = digits
    est = KNeighborsClassifier(n_neighbors=3, weights="distance").fit(X[:n_rows], y[:n_rows])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # int16 without calibration rows
        cm = emlearn_gen.convert(est, f"knn_{dtype}", dtype=dtype)
    assert 32 * KIB < avr_table_bytes(cm) < NEAR
    run_on_avr(cm, X[n_rows : n_rows + 6], tmp_path)
