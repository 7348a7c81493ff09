"""Footprint on devices: flash and static RAM a model adds over the empty
harness (read from the linked ELF files) and the stack its entry points use
(high-water mark measured on the emulator)."""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path
from typing import Any, Dict

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

import emlearn_gen
from emlearn_gen.testing import DEVICE_TARGET_NAMES, BuildCache, footprint, get_target
from emlearn_gen.testing.harness import footprint_sources
from emlearn_gen.testing.pytest_plugin import require_target

DEVICES = list(DEVICE_TARGET_NAMES)


@pytest.fixture(scope="module")
def cache(emlearn_build_cache: BuildCache) -> BuildCache:
    return emlearn_build_cache


@pytest.fixture(scope="module")
def wine_forest(load_data):
    """A forest of 20 trees and the models of its first k trees: the same
    program with more or fewer tables."""
    X, y = load_data("wine")
    est = RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0).fit(X, y)

    def first(k: int, dtype: str = "float32") -> Any:
        sub = copy.copy(est)
        sub.estimators_ = est.estimators_[:k]
        sub.n_estimators = k
        return emlearn_gen.convert(sub, name="wine_forest", dtype=dtype)

    return X, first


@pytest.mark.parametrize("target", DEVICES)
def test_flash_is_tables_plus_fixed_code(target, wine_forest, cache):
    require_target(target)
    X, first = wine_forest
    # Two sizes whose nodes and leaf rows the packer lays out alike (bit-packed
    # records): another record or entry layout is read by other code.
    small, large = first(15), first(20)
    layout = ("record_bytes", "value_bits", "entry_class_bits", "start_bits", "root_bits", "ref_bits")
    assert [getattr(small.packed, f) for f in layout] == [getattr(large.packed, f) for f in layout]
    fp_small = footprint(small, target, X[:6], cache=cache)
    fp_large = footprint(large, target, X[:6], cache=cache)
    for cm, fp in ((small, fp_small), (large, fp_large)):
        assert fp.target == target
        assert fp.flash == fp.image_flash - fp.baseline_flash
        assert fp.ram == fp.image_ram - fp.baseline_ram
        # Tables all in flash, plus the kernel (and soft float where needed).
        assert cm.packed.table_bytes <= fp.flash < cm.packed.table_bytes + 8 * 1024
    # 6 more trees add exactly their tables: the code is the same.
    grown = fp_large.flash - fp_small.flash
    assert abs(grown - (large.packed.table_bytes - small.packed.table_bytes)) <= 8
    # Static RAM: none anywhere; tables and descriptor stay in flash.
    assert fp_small.ram == fp_large.ram == 0
    # No recursion: the stack does not grow with the model.
    assert fp_small.stack_by_method == fp_large.stack_by_method
    assert set(fp_small.stack_by_method) == {"predict", "predict_proba", "predict_log_proba"}
    assert 16 <= fp_small.stack <= 512
    assert fp_small.stack == max(fp_small.stack_by_method.values())


def _elf_images(root: Path) -> list:
    return sorted(root.glob("*/image.elf"))


@pytest.mark.parametrize("target", DEVICES)
def test_sizes_agree_with_the_size_tool(target, wine_forest, tmp_path):
    """Flash and RAM read from `size -A` sections agree with the tool's
    Berkeley totals (text + data, data + bss) of the same images."""
    tgt = require_target(target)
    X, first = wine_forest
    own = BuildCache(tmp_path)
    fp = footprint(first(3), target, X[:2], cache=own)
    images = _elf_images(tmp_path)
    assert len(images) == 2  # with and without the model
    seen = set()
    for elf in images:
        out = subprocess.run([tgt.size_tool, str(elf)], capture_output=True, text=True, check=True).stdout
        text, data, bss = (int(v) for v in out.splitlines()[1].split()[:3])
        stack = tgt.section_sizes(elf).get(".eg_stack", 0)  # counted as bss by the tool
        flash, ram = tgt.image_size(elf)
        assert flash == text + data
        assert ram == data + bss - stack
        seen.add((flash, ram))
    assert seen == {(fp.image_flash, fp.image_ram), (fp.baseline_flash, fp.baseline_ram)}


def _stack_usage(target: Any, cm: Any, X32: np.ndarray, folder: Path) -> Dict[str, int]:
    """Static frame sizes (-fstack-usage) of the footprint program's functions."""
    cm.save(folder / f"{cm.name}.hpp")
    sources = footprint_sources(
        cm.name, f"{cm.name}.hpp", cm.entry_points, X32, target.prelude(), target.exit_code(), True
    )
    (folder / "main.cpp").write_text(sources["main.cpp"])
    subprocess.run(
        [target.compiler, *target.cxx_flags(), f"-I{emlearn_gen.get_include()}", "-I.", "-fstack-usage", "-c", "main.cpp"],
        cwd=folder, check=True,
    )
    frames: Dict[str, int] = {}
    for line in (folder / "main.su").read_text().splitlines():
        where, size, _ = line.split("\t")
        name = re.sub(r"^.*:\d+:\d+:", "", where)
        frames[name] = frames.get(name, 0) + int(size)
    return frames


@pytest.mark.parametrize("target", DEVICES)
def test_measured_stack_is_within_the_compilers_static_bounds(target, wine_forest, cache, tmp_path):
    """The high-water mark of an entry point lies between what the compiler
    reports (-fstack-usage) for the frames of its call chain: at least the
    wrapper that calls it plus the largest runtime frame, at most the wrapper
    plus every runtime frame (no recursion: a chain holds each frame once)
    plus a margin for libgcc's float routines and return addresses."""
    tgt = require_target(target)
    X, first = wine_forest
    cm = first(4)
    X32 = cm.check_input(X[:3])
    fp = footprint(cm, target, X[:3], cache=cache)
    frames = _stack_usage(tgt, cm, X32, tmp_path)
    runtime = [size for name, size in frames.items() if "emlearn_gen::" in name]
    for index, method in enumerate(ep.name for ep in cm.entry_points):
        (wrapper,) = [size for name, size in frames.items() if f"eg_call_{index}(" in name]
        low = wrapper + max(runtime, default=0)
        high = wrapper + sum(runtime) + 64
        assert low <= fp.stack_by_method[method] <= high, (method, fp.stack_by_method, frames)


def test_soft_float_is_part_of_the_cortex_m0_footprint(wine_forest, cache):
    """The M0 has no FPU: the model pulls in libgcc's float routines, which
    the M4F does not need, and the footprint counts them."""
    for name in ("cortex-m0", "cortex-m4f"):
        require_target(name)
    X, first = wine_forest
    cm = first(4)
    m0 = footprint(cm, "cortex-m0", X[:2], cache=cache)
    m4f = footprint(cm, "cortex-m4f", X[:2], cache=cache)
    tables = cm.packed.table_bytes
    assert (m0.flash - tables) > (m4f.flash - tables) + 1024


def test_footprint_needs_a_device_target(wine_forest):
    X, first = wine_forest
    cm = first(2)
    with pytest.raises(ValueError, match="footprint needs a device target"):
        footprint(cm, "host")
    with pytest.raises(ValueError, match="unknown target 'pdp-11'"):
        footprint(cm, "pdp-11")
    assert get_target("avr").double_bits == 32


def test_cmodel_footprint_method(wine_forest, cache):
    require_target("cortex-m4f")
    X, first = wine_forest
    cm = first(4)
    via_method = cm.footprint("cortex-m4f", X[:2])
    via_function = footprint(cm, "cortex-m4f", X[:2], cache=cache)
    assert via_method.flash == via_function.flash > cm.packed.table_bytes
    assert via_method.ram == via_function.ram
