"""Level 3: every supported estimator's header, cross-compiled under the
strict flags and run on emulated Cortex-M0 (qemu microbit), Cortex-M4F (qemu
mps2-an386) and AVR ATmega2560 (simavr), against the host runtime.

Without the toolchains these tests skip, naming the Debian packages; with
EMLEARN_GEN_REQUIRE_DEVICE=1 (CI) they fail instead.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import (
    DecisionTreeClassifier,
)

import emlearn_gen
from emlearn_gen.testing import (
    DEVICE_TARGET_NAMES,
    catalog,
    BuildCache,
    DoesNotFit,
    RunFailed,
    ToolchainMissing,
    assert_device_matches,
    footprint,
    run_model,
)
from emlearn_gen.testing.pytest_plugin import require_target
from emlearn_gen.testing.runner import build_device_image

DEVICES = list(DEVICE_TARGET_NAMES)
M0_FLASH = 256 * 1024

EXAMPLES = [e for e in catalog.examples() if e.devices]


@pytest.fixture(scope="module")
def cache(emlearn_build_cache: BuildCache) -> BuildCache:
    return emlearn_build_cache


def devices(names: List[str] = DEVICES) -> List[Any]:
    """The device targets, or skip (fail under EMLEARN_GEN_REQUIRE_DEVICE=1)."""
    return [require_target(name) for name in names]


def check_reports(cm: Any, reports: Dict[str, Any], n_rows: int) -> None:
    for name, report in reports.items():
        assert report.n_samples == n_rows
        # Bit-equal: nothing to tolerate, and nothing differed.
        assert report.tolerance == 0.0, name
        assert all(d == 0.0 for d in report.max_abs_diff.values()), (name, report)
        assert report.label_differences == 0


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.key for e in EXAMPLES])
def test_every_estimator_matches_host_runtime_on_every_device(example, cache):
    """Every catalog example on every emulated device: identical labels,
    bit-equal floats."""
    targets = devices()
    est, X_eval = catalog.fitted(example)
    cm = emlearn_gen.convert(est, name="device_model", **example.options)
    reports = assert_device_matches(cm, X_eval, targets=targets, cache=cache)
    assert sorted(reports) == sorted(DEVICES)
    check_reports(cm, reports, len(X_eval))


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_float32_models_are_bit_equal_on_every_device(kind, load_data, cache):
    """float32 models compute in float everywhere, AVR included: bit-equal."""
    targets = devices()
    if kind == "classifier":
        X, y = load_data("nan_classification")
        est = RandomForestClassifier(n_estimators=12, max_depth=6, random_state=1).fit(X, y)
    else:
        X, y = load_data("nan_regression")
        est = ExtraTreesRegressor(n_estimators=12, max_depth=6, random_state=1).fit(X, y)
    cm = emlearn_gen.convert(est, name="f32", dtype="float32")
    reports = assert_device_matches(cm, X, targets=targets, cache=cache)
    for report in reports.values():
        assert report.tolerance == 0.0
        floats = {"predict_proba", "predict_log_proba"} if kind == "classifier" else {"predict"}
        assert set(report.bit_equal) == floats
        assert all(report.bit_equal.values())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_deep_forests_step_ahead_and_match_on_devices(dtype, cache):
    """Forests of 32 or more split nodes per tree take the walk that steps
    before it tests for a leaf on Thumb-2 (detail::deep_trees): rows with and
    without NaN, both the walk with a NaN test per split and the bare one,
    and every kind of node (a leaf on either side, both, neither) must route
    as on the host."""
    targets = devices(["cortex-m4f", "cortex-m0"])
    X, y = make_classification(n_samples=900, n_features=12, n_informative=8, n_classes=3, random_state=5)
    X[np.random.default_rng(5).random(X.shape) < 0.08] = np.nan
    est = RandomForestClassifier(n_estimators=6, max_depth=9, random_state=5).fit(X, y)
    cm = emlearn_gen.convert(est, name="deep", dtype=dtype)
    assert cm.packed.n_nodes >= 32 * cm.packed.n_trees
    X_eval = np.concatenate([X[:150], np.nan_to_num(X[150:300], nan=0.5)])
    reports = assert_device_matches(cm, X_eval, targets=targets, cache=cache)
    check_reports(cm, reports, len(X_eval))
    np.testing.assert_array_equal(cm.predict(X_eval), est.predict(X_eval))


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_float64_models_are_bit_equal_on_every_device(kind, load_data, cache):
    """dtype="float64": soft double on Cortex-M0, double-precision library
    code on Cortex-M4F, binary64 in software in the runtime on AVR (whose
    double has 32 bits): bit-equal everywhere."""
    targets = devices()
    if kind == "classifier":
        X, y = load_data("digits")
        est = RandomForestClassifier(n_estimators=10, max_depth=5, random_state=2).fit(X, y)
    else:
        X, y = load_data("nan_regression")
        est = RandomForestRegressor(n_estimators=10, max_depth=6, random_state=3).fit(X, y)
    cm = emlearn_gen.convert(est, name="f64", dtype="float64")
    X_eval = X[::3]
    reports = assert_device_matches(cm, X_eval, targets=targets, cache=cache)
    for report in reports.values():
        assert report.tolerance == 0.0
        assert all(report.bit_equal.values()) and report.bit_equal
    # On AVR this really differs from computing in its 32-bit double: the
    # float32 model's outputs are not what the device returned.
    f32 = emlearn_gen.convert(est, name="f64", dtype="float32")
    method = "predict_proba" if kind == "classifier" else "predict"
    avr = run_model(cm, X_eval, "avr", cache=cache)[method]
    assert not np.array_equal(avr.view(np.uint32), f32.raw_outputs(method, X_eval).view(np.uint32))


def test_a_forest_without_approximate_summands_sums_in_float64_on_devices(load_data, cache, monkeypatch):
    """Entry rows without approximate summands (leaf_fixed empty, as for
    values outside [0, 1]): the header must say n_fixed = 0, although it
    declares the empty table with one element, so that forest_label sums in
    float64 on the soft-double targets instead of reading that element as
    a summand."""
    from emlearn_gen.families.trees import pack

    monkeypatch.setattr(pack, "approximate_summands", lambda values, n_trees: np.zeros(0, dtype=np.int16))
    targets = devices(["cortex-m0", "cortex-m4f"])
    X, y = load_data("digits")
    est = RandomForestClassifier(n_estimators=10, max_depth=6, random_state=4).fit(X, y)
    cm = emlearn_gen.convert(est, name="nofixed")
    assert cm.packed.leaf_fixed.size == 0 and cm.packed.entry_class_bits != 0
    assert "n_fixed = 0u;" in cm.to_source()
    np.testing.assert_array_equal(cm.predict(X), est.predict(X))
    assert_device_matches(cm, X[::4], targets=targets, cache=cache)


def test_inputs_larger_than_device_memory_are_streamed_or_chunked(load_data, tmp_path):
    """1797 digits rows twice over (1.8 MB of inputs): more than the flash
    and RAM of the Cortex-M0 and the AVR."""
    targets = devices()
    X, y = load_data("digits")
    est = DecisionTreeClassifier(max_depth=12, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est, name="many_rows")
    X_nan = X.astype(np.float64)
    X_nan[:, ::5] = np.nan
    X_big = np.concatenate([X, X_nan])
    assert X_big.astype(np.float32).nbytes > M0_FLASH
    caches = {name: BuildCache(tmp_path / name) for name in DEVICES}
    for target in targets:
        got = run_model(cm, X_big, target, cache=caches[target.name])
        np.testing.assert_array_equal(got["predict"], cm.raw_outputs("predict", X_big))
        assert np.array_equal(got["predict_proba"].view(np.uint32), cm.raw_outputs("predict_proba", X_big).view(np.uint32))
    # Cortex-M: one image (plus the start-up object) for all rows;
    # AVR: the model compiled once, then one small input unit per chunk.
    assert caches["cortex-m0"].builds == 2
    assert caches["cortex-m4f"].builds == 2
    rows_per_chunk = (2**15 - 1) // (4 * X.shape[1])
    assert caches["avr"].builds >= 1 + int(np.ceil(len(X_big) / rows_per_chunk))
    # A second run reuses every build.
    before = caches["avr"].builds
    run_model(cm, X_big[:500], "avr", cache=caches["avr"])
    run_model(cm, X_big, "cortex-m0", cache=caches["cortex-m0"])
    assert caches["avr"].builds == before + 1  # only the new, shorter chunk
    assert caches["cortex-m0"].builds == 2


@pytest.mark.parametrize("target", ["host", *DEVICES])
def test_run_model_in_a_relative_folder(target, load_data, tmp_path, monkeypatch):
    """workdir and BuildCache folders relative to the current folder: the
    tools run inside the build folder, where such a path would not resolve."""
    tgt = require_target(target)
    monkeypatch.chdir(tmp_path)
    X, y = load_data("iris")
    est = RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, y)
    cm = emlearn_gen.convert(est, name="relative")
    for kwargs in ({"workdir": "work/build"}, {"cache": BuildCache("cache")}):
        got = run_model(cm, X, tgt, **kwargs)
        np.testing.assert_array_equal(cm.classes_[got["predict"]], est.predict(X))
        assert np.array_equal(got["predict_proba"].view(np.uint32), cm.raw_outputs("predict_proba", X).view(np.uint32))
    assert (tmp_path / "work" / "build" / "relative.hpp").is_file()
    assert not (tmp_path / "work" / "build" / "work").exists()


def test_labels_of_every_type_on_devices(load_data, cache):
    """String and 64-bit integer classes compile on every device."""
    targets = devices()
    X, y = load_data("iris")
    for labels in (np.array(['set"osa', "versi\\color", "vir??=ginica */"])[y], (y.astype(np.int64) - 1) * 2**40):
        est = ExtraTreesClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, labels)
        cm = emlearn_gen.convert(est, name="labelled")
        reports = assert_device_matches(cm, X, targets=targets, cache=cache)
        check_reports(cm, reports, len(X))
        got = run_model(cm, X, "cortex-m0", cache=cache)
        np.testing.assert_array_equal(cm.classes_.take(got["predict"]), cm.predict(X))


@pytest.fixture(scope="module")
def big_forest():
    """46 trees of ~6.2 KB of tables each: 36 of them fill most of the
    Cortex-M0's flash, all 46 do not fit."""
    X, y = make_regression(n_samples=3000, n_features=10, noise=10.0, random_state=0)
    est = RandomForestRegressor(n_estimators=46, max_leaf_nodes=600, random_state=0).fit(X, y)

    def first(k: int) -> Any:
        sub = copy.copy(est)
        sub.estimators_ = est.estimators_[:k]
        sub.n_estimators = k
        return emlearn_gen.convert(sub, name=f"forest{k}")

    return X, first


def test_model_filling_most_of_the_cortex_m0(big_forest, cache):
    targets = devices()
    X, first = big_forest
    cm = first(36)
    fp = footprint(cm, "cortex-m0", X[:4], cache=cache)
    assert 0.8 * M0_FLASH < fp.image_flash <= M0_FLASH
    assert cm.packed.table_bytes <= fp.flash < cm.packed.table_bytes + 8 * 1024
    # On AVR too: the tables, far over the 32 KiB of one avr-gcc object and
    # the low 64 KiB of flash, are read with far addresses.
    reports = assert_device_matches(cm, X[:300], targets=targets, cache=cache)
    check_reports(cm, reports, 300)


def test_model_too_large_for_the_cortex_m0_says_by_how_much(big_forest, cache):
    devices(["cortex-m0"])
    X, first = big_forest
    fits, too_big = first(36), first(46)
    fp = footprint(fits, "cortex-m0", X[:4], cache=cache)
    with pytest.raises(DoesNotFit) as caught:
        footprint(too_big, "cortex-m0", X[:4], cache=cache)
    message = str(caught.value)
    assert message.startswith("does not fit cortex-m0")
    assert f"{caught.value.bytes_over} bytes over its 256 KiB of flash" in message
    assert "overflowed" not in message and len(message) < 200  # not the linker's report
    # The linker's figure agrees with the sizes read from the image that fits:
    # the same program, with more tables.
    expected = fp.image_flash - fits.packed.table_bytes + too_big.packed.table_bytes - M0_FLASH
    assert abs(caught.value.bytes_over - expected) <= 16
    with pytest.raises(DoesNotFit, match=r"does not fit cortex-m0 .*: \d+ bytes over its 256 KiB of flash"):
        run_model(too_big, X[:10], "cortex-m0", cache=cache)
    # The ATmega2560 has as much flash: the same answer, from its linker.
    devices(["avr"])
    with pytest.raises(DoesNotFit, match=r"does not fit avr .*: \d+ bytes over its 256 KiB of flash"):
        run_model(too_big, X[:10], "avr", cache=cache)
    # The Cortex-M4F has room for it.
    devices(["cortex-m4f"])
    got = run_model(too_big, X[:50], "cortex-m4f", cache=cache)
    assert np.array_equal(got["predict"].view(np.uint32), too_big.raw_outputs("predict", X[:50]).view(np.uint32))


def test_input_row_larger_than_device_ram(cache):
    """3000 features: the input buffer alone (12 KB) leaves the Cortex-M0 less
    than its stack reserve and is more than the AVR's RAM; the linker's
    verdict comes back as bytes over, the M4F runs it."""
    targets = devices()
    X, y = make_classification(n_samples=300, n_features=3000, n_informative=20, random_state=0)
    cm = emlearn_gen.convert(DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y), name="wide")
    for target, ram_kib in (("cortex-m0", 16), ("avr", 8)):
        with pytest.raises(DoesNotFit, match=rf"does not fit {target} .*: \d+ bytes over its {ram_kib} KiB of RAM") as caught:
            run_model(cm, X[:10], target, cache=cache)
        assert caught.value.region == "RAM"
        # Over by what the buffer needs beyond the free RAM: within the buffer's size.
        assert 0 < caught.value.bytes_over < 4 * 3000
    reports = assert_device_matches(cm, X[:40], targets=[targets[1]], cache=cache)
    check_reports(cm, reports, 40)


def test_cortex_m4f_flags_stop_fma_contraction(tmp_path):
    """arm-none-eabi-g++ contracts a*b+c into vfma on the M4F unless told
    not to; the device flags must stop it (the host never contracts)."""
    (m4f,) = devices(["cortex-m4f"])
    (tmp_path / "fma.cpp").write_text("float fma_candidate(float a, float b, float c) { return a * b + c; }\n")
    flags = [f for f in m4f.cxx_flags() if f != "-ffp-contract=off"]

    def instructions(extra: List[str]) -> str:
        subprocess.run(
            ["arm-none-eabi-g++", *flags, *extra, "-c", "fma.cpp", "-o", "fma.o"], cwd=tmp_path, check=True
        )
        return subprocess.run(
            ["arm-none-eabi-objdump", "-d", "fma.o"], cwd=tmp_path, check=True, capture_output=True, text=True
        ).stdout

    assert "vfma" in instructions(["-O2"])  # the hazard is real ...
    assert "-ffp-contract=off" in m4f.cxx_flags()
    separate = instructions(["-ffp-contract=off"])
    assert "vfma" not in separate  # ... and the flag removes it:
    # what is left rounds the product first (vmla is vmul then vadd).
    assert "vmla" in separate or ("vmul" in separate and "vadd" in separate)


@pytest.mark.parametrize("target", ["cortex-m0", "cortex-m4f"])
def test_a_crash_on_cortex_m_is_reported_not_hung(target, cache):
    """The start-up code routes every fault to a handler that says so and
    exits through semihosting."""
    (tgt,) = devices([target])
    main = "#include <stdint.h>\n" + tgt.prelude() + "\nint main() {\n  __builtin_trap();\n  return 0;\n}\n"
    elf = build_device_image(tgt, "unused.hpp", "", {"main.cpp": main}, cache, 120)
    with pytest.raises(RunFailed, match=r"(?s)exit 99.*FAULT: the CPU took an exception"):
        tgt.run_image(elf, cache.scratch(), 60)


def test_a_program_that_never_ends_times_out_on_avr(cache):
    (avr,) = devices(["avr"])
    main = "#include <stdint.h>\n" + avr.prelude() + "\nint main() {\n  for (;;) {\n  }\n}\n"
    elf = build_device_image(avr, "unused.hpp", "", {"main.cpp": main}, cache, 120)
    with pytest.raises(RunFailed, match="did not finish within 2 s"):
        avr.run_image(elf, cache.scratch(), 2)


def test_missing_tools_name_the_debian_packages(monkeypatch, tmp_path, load_data):
    X, y = load_data("iris")
    cm = emlearn_gen.convert(DecisionTreeClassifier(max_depth=2).fit(X, y), name="no_tools")
    monkeypatch.setenv("PATH", str(tmp_path))
    expected = {
        "cortex-m0": ["gcc-arm-none-eabi", "libnewlib-arm-none-eabi", "qemu-system-arm"],
        "cortex-m4f": ["gcc-arm-none-eabi", "binutils-arm-none-eabi", "qemu-system-arm"],
        "avr": ["gcc-avr", "avr-libc", "binutils-avr", "simavr"],
    }
    for name, packages in expected.items():
        with pytest.raises(ToolchainMissing) as caught:
            run_model(cm, X[:3], name)
        assert "apt-get install" in str(caught.value)
        for package in packages:
            assert package in str(caught.value), (name, package)
        with pytest.raises(ToolchainMissing):
            footprint(cm, name)


PLUGIN_TEST = textwrap.dedent(
    """
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    def test_model_on_devices(emlearn_device):
        X, y = load_iris(return_X_y=True)
        emlearn_device.assert_matches(RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y), X)
    """
)


def _run_pytest(folder: Path, env: Dict[str, str], *args: str) -> subprocess.CompletedProcess:
    (folder / "test_user.py").write_text(PLUGIN_TEST)
    (folder / "pytest.ini").write_text("[pytest]\n")
    cmd = [sys.executable, "-m", "pytest", "-p", "emlearn_gen.testing.pytest_plugin", "-rsf", *args, "test_user.py"]
    return subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize("required", [False, True])
def test_plugin_skips_or_fails_without_toolchains(required, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "EMLEARN_GEN_REQUIRE_DEVICE"}
    env["PATH"] = str(tmp_path)
    if required:
        env["EMLEARN_GEN_REQUIRE_DEVICE"] = "1"
    proc = _run_pytest(tmp_path, env)
    out = proc.stdout + proc.stderr
    if required:
        assert proc.returncode == 1, out
        assert "3 failed" in out, out
    else:
        assert proc.returncode == 0, out
        assert "3 skipped" in out, out
    for package in ("gcc-arm-none-eabi", "qemu-system-arm", "gcc-avr", "simavr"):
        assert package in out, out


def test_plugin_runs_the_user_test_on_the_selected_devices(tmp_path):
    devices(["avr", "cortex-m4f"])
    proc = _run_pytest(tmp_path, dict(os.environ), "--emlearn-targets=avr,cortex-m4f", "-v")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "test_model_on_devices[avr] PASSED" in out, out
    assert "test_model_on_devices[cortex-m4f] PASSED" in out, out
    assert "cortex-m0" not in out


def test_device_fixture(emlearn_device):
    """The README's example: a device test in three lines."""
    X, y = load_iris(return_X_y=True)
    report = emlearn_device.assert_matches(RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y), X)
    assert report.target == emlearn_device.name and report.n_samples == len(X)


def test_a_stated_tolerance_counts_the_tie_zone(load_data, cache):
    """A model family that cannot be bit-equal states a bound; rows whose two
    best host scores lie within it are counted as the tie zone."""
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    est = RandomForestClassifier(n_estimators=2, bootstrap=False, max_features=None, random_state=0)
    est.fit(np.repeat(X, 2, axis=0), [0, 1, 0, 1, 1, 0, 1, 1])
    cm = emlearn_gen.convert(est, name="ties")
    proba = cm.predict_proba(X)
    tied = np.sum(np.isclose(proba, proba.max(axis=1, keepdims=True)), axis=1) > 1
    assert tied.any() and not tied.all()
    cm.device_tolerance = lambda target: 1e-3
    (report,) = assert_device_matches(cm, X, targets=["host"], cache=cache).values()
    assert report.tolerance == 1e-3
    assert report.tie_zone == int(tied.sum())
    assert report.label_differences == 0
