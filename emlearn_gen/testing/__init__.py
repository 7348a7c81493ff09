"""Run generated headers on real compilers and (emulated) targets, and check
that they compute what the host runtime computes.

    from emlearn_gen.testing import assert_device_matches
    assert_device_matches(cmodel, X, targets=["host"])
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Union

import numpy as np

from .._paths import get_include
from .harness import harness_sources, parse_output
from .targets import STRICT_FLAGS, BuildFailed, HostTarget, ToolchainMissing

__all__ = [
    "BuildFailed",
    "HostTarget",
    "STRICT_FLAGS",
    "ToolchainMissing",
    "assert_device_matches",
    "get_target",
    "run_model",
]

TargetLike = Union[str, Any]


def get_target(target: TargetLike) -> Any:
    """A target object from a name ("host", "host-clang++", ...) or a target."""
    if not isinstance(target, str):
        return target
    if target in ("host", "host-g++"):
        return HostTarget("g++")
    if target == "host-clang++":
        return HostTarget("clang++")
    raise ValueError(f"unknown target {target!r}; known: 'host', 'host-g++', 'host-clang++'")


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
) -> Dict[str, np.ndarray]:
    """Builds ``model``'s header with a test harness for ``target``, runs it on
    the rows of X and returns {method: outputs} in the form of
    ``CModel.raw_outputs``: int32 class indices for predict of classifiers,
    float32 rows for the rest.

    ``model`` is a CModel or a fitted estimator (converted with name "model").
    Raises ToolchainMissing when the target's tools are not installed.
    """
    cm = _as_cmodel(model)
    tgt = get_target(target)
    X32 = cm.check_input(X)
    with tempfile.TemporaryDirectory(prefix="emlearn_gen_") as tmp:
        folder = Path(workdir) if workdir is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        header = f"{cm.name}.hpp"
        cm.save(folder / header)
        sources = harness_sources(cm.name, header, cm.c_methods, X32, tgt.prelude(), tgt.exit_code())
        for file_name, text in sources.items():
            (folder / file_name).write_text(text, encoding="utf-8")
        output = tgt.build_and_run(folder, sorted(sources), [get_include()], timeout)
    return parse_output(output, cm.c_methods, X32.shape[0])


def assert_device_matches(
    model: Any, X: Any, targets: Iterable[TargetLike] = ("host",), **kwargs: Any
) -> None:
    """Asserts that on every target each entry point of the generated header
    returns what the host runtime returns: identical labels and bit-identical
    floats."""
    cm = _as_cmodel(model)
    for target in targets:
        got = run_model(cm, X, target, **kwargs)
        for method, _, _ in cm.c_methods:
            want = cm.raw_outputs(method, X)
            have = got[method]
            if want.dtype.kind == "f":
                same = np.array_equal(want.view(np.uint32), have.view(np.uint32))
            else:
                same = np.array_equal(want, have)
            if not same:
                diff = np.argwhere(want != have)
                raise AssertionError(
                    f"{getattr(get_target(target), 'name', target)}: {method} differs from the host "
                    f"runtime on {len(diff)} values; first at {diff[0].tolist() if len(diff) else '?'}: "
                    f"host {want.reshape(-1)[:4]} vs target {have.reshape(-1)[:4]}"
                )
