"""Run generated headers on real compilers and emulated devices, and check
that they compute what the host runtime computes (levels 2 and 3 of the
equivalence contract, docs/architecture.md).

    from emlearn_gen.testing import assert_device_matches, footprint, run_model
    assert_device_matches(cmodel, X, targets=["cortex-m0", "cortex-m4f", "avr"])
    outputs = run_model(cmodel, X, "avr")          # {"predict": ..., "predict_proba": ...}
    print(footprint(cmodel, "cortex-m0"))          # flash, static RAM and stack the model adds
    print(count_instructions(cmodel, X[:20], "cortex-m4f").mean)  # instructions per call (per row)

Targets: "host" (g++), "host-clang++", and the emulated devices
"cortex-m0" (qemu-system-arm -M microbit), "cortex-m4f" (qemu-system-arm
-M mps2-an386) and "avr" (simavr -m atmega2560). A missing tool raises
ToolchainMissing naming the Debian packages to install; a model larger than
the device raises DoesNotFit ("does not fit ...: N bytes over ...").

In pytest, the ``emlearn_device`` fixture (plugin ``emlearn_gen.testing.pytest_plugin``)
runs a test once per device and skips, or with EMLEARN_GEN_REQUIRE_DEVICE=1
fails, when a tool is missing.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Union

import numpy as np

from .build import BuildCache
from .compare import MatchReport, compare_outputs, device_tolerance
from .footprint import Footprint, footprint_inputs, measure_footprint
from .instructions import InstructionCount, count_instructions
from .runner import run_host, run_on_target
from .targets import (
    AVR,
    CORTEX_M0,
    CORTEX_M4F,
    DEVICE_TARGETS,
    STRICT_FLAGS,
    AvrTarget,
    BuildFailed,
    CortexMTarget,
    DeviceTarget,
    DoesNotFit,
    HostTarget,
    RunFailed,
    ToolchainMissing,
)

__all__ = [
    "AVR",
    "AvrTarget",
    "BuildCache",
    "BuildFailed",
    "CORTEX_M0",
    "CORTEX_M4F",
    "CortexMTarget",
    "DEVICE_TARGETS",
    "DEVICE_TARGET_NAMES",
    "DeviceTarget",
    "DoesNotFit",
    "Footprint",
    "HostTarget",
    "InstructionCount",
    "MatchReport",
    "RunFailed",
    "STRICT_FLAGS",
    "ToolchainMissing",
    "assert_device_matches",
    "count_instructions",
    "device_tolerance",
    "footprint",
    "get_target",
    "run_model",
]

TargetLike = Union[str, Any]

#: The emulated devices every model is checked on.
DEVICE_TARGET_NAMES = tuple(DEVICE_TARGETS)


def get_target(target: TargetLike) -> Any:
    """A target object from a name ("host", "host-clang++", "cortex-m0",
    "cortex-m4f", "avr") or a target."""
    if not isinstance(target, str):
        return target
    if target in ("host", "host-g++"):
        return HostTarget("g++")
    if target == "host-clang++":
        return HostTarget("clang++")
    if target in DEVICE_TARGETS:
        return DEVICE_TARGETS[target]
    known = ["host", "host-g++", "host-clang++", *DEVICE_TARGETS]
    raise ValueError(f"unknown target {target!r}; known: {', '.join(map(repr, known))}")


def _as_cmodel(model: Any) -> Any:
    from ..model import CModel

    if isinstance(model, CModel):
        return model
    from ..convert import convert

    return convert(model, name="model")


def run_model(
    model: Any,
    X: Any,
    target: TargetLike = "host",
    workdir: Optional[Union[str, Path]] = None,
    timeout: float = 600.0,
    cache: Optional[BuildCache] = None,
    model_file: bool = False,
) -> Dict[str, np.ndarray]:
    """Builds ``model``'s header with a test harness for ``target``, runs it on
    the rows of X and returns {method: outputs} in the form of
    ``CModel.raw_outputs``: int32 class indices for predict of classifiers,
    float32 rows for the rest.

    ``model`` is a CModel or a fitted estimator (converted with name "model").
    Any number of rows: Cortex-M images stream them from a host file, AVR
    images get them in program memory in as many chunks as needed.
    ``workdir`` (absolute, or relative to the current folder) keeps the build
    files there; ``cache`` (a BuildCache) reuses
    builds across calls. With ``model_file`` the program runs the model's
    file (CModel.to_model_file) through the runtime's loader instead of the
    header. Raises ToolchainMissing when the target's tools are
    not installed and DoesNotFit when the model is too large for the device.
    """
    cm = _as_cmodel(model)
    tgt = get_target(target)
    X32 = cm.check_input(X)
    if workdir is not None:
        folder = Path(workdir)
        folder.mkdir(parents=True, exist_ok=True)
        if not isinstance(tgt, DeviceTarget):
            tgt.check_tools()
            return run_host(cm, X32, tgt, folder, timeout, model_file)
        cm.save(folder / f"{cm.name}.hpp")
        return run_on_target(cm, X32, tgt, cache or BuildCache(folder), timeout, model_file)
    if cache is not None:
        return run_on_target(cm, X32, tgt, cache, timeout, model_file)
    with BuildCache() as own:
        return run_on_target(cm, X32, tgt, own, timeout, model_file)


def assert_device_matches(
    model: Any,
    X: Any,
    targets: Iterable[TargetLike] = ("host",),
    *,
    cache: Optional[BuildCache] = None,
    jobs: Optional[int] = None,
    **kwargs: Any,
) -> Dict[str, MatchReport]:
    """Asserts that on every target each entry point of the generated header
    returns what the host runtime returns: identical labels and bit-identical
    floats (or, for a model family that states a bound for a target, floats
    within :func:`device_tolerance`; see ``emlearn_gen.testing.compare``).

    Targets run in parallel (``jobs`` threads, default one per target);
    ``kwargs`` go to :func:`run_model` (``model_file=True``: the model's file
    through the runtime's loader). Returns {target name: MatchReport}.
    """
    cm = _as_cmodel(model)
    X32 = cm.check_input(X)
    tgts: List[Any] = [get_target(t) for t in targets]
    own = BuildCache() if cache is None and kwargs.get("workdir") is None else None
    use = cache if cache is not None else own

    def one(tgt: Any) -> MatchReport:
        got = run_model(cm, X32, tgt, cache=use, **kwargs)
        return compare_outputs(cm, tgt, X32, got)

    try:
        if len(tgts) <= 1 or jobs == 1 or kwargs.get("workdir") is not None:
            reports = [one(t) for t in tgts]
        else:
            with ThreadPoolExecutor(max_workers=jobs or len(tgts)) as pool:
                reports = list(pool.map(one, tgts))
    finally:
        if own is not None:
            own.close()
    named: Dict[str, MatchReport] = {}
    for report in reports:
        key, n = report.target, 1
        while key in named:  # two targets of one name (say, two -O levels)
            n += 1
            key = f"{report.target}#{n}"
        named[key] = report
    return named


def footprint(
    model: Any,
    target: TargetLike = "cortex-m0",
    X: Optional[Any] = None,
    *,
    cache: Optional[BuildCache] = None,
    timeout: float = 600.0,
) -> Footprint:
    """Flash (text + rodata + data) and static RAM (data + bss) that ``model``
    adds to an image on a device target over the empty test harness, read
    from the linked ELF files, and the stack its entry points need, measured
    on the emulator (high-water mark) on the first rows of X (default: one
    row of zeros). Raises DoesNotFit when the model does not fit."""
    cm = _as_cmodel(model)
    tgt = get_target(target)
    if not isinstance(tgt, DeviceTarget):
        raise ValueError(
            f"footprint needs a device target ({', '.join(DEVICE_TARGETS)}), not {getattr(tgt, 'name', tgt)!r}"
        )
    tgt.check_tools()
    X32 = footprint_inputs(cm, X)
    if cache is not None:
        return measure_footprint(cm, tgt, X32, cache, timeout)
    with BuildCache() as own:
        return measure_footprint(cm, tgt, X32, own, timeout)
