"""MicroPython native modules: a model's tables and the runtime's kernels as ``.mpy``.

Two kinds of module, built per architecture:

- a model module, ``<name>.mpy``: one converted model inside (its generated
  header), with ``predict``, ``predict_proba``, ... as module functions
  (:func:`write_model_module`, ``CModel.save_micropython``);
- the runtime module, ``emlearn_gen_rt.mpy``: every family's kernels and
  the model-file loader, so a device loads model files at run time
  (:func:`write_runtime_module`).

How a module is built: a C wrapper on MicroPython's ``dynruntime.h`` (the
C API a native module sees) reads the row and makes the results; the
header or the loader is compiled as C++ (no exceptions, no RTTI) behind a
few ``extern "C"`` functions; on Arm, ``ld -r`` adds the soft-float and
division helpers of the compiler's libgcc.a for that core, since
MicroPython's linker (``tools/mpy_ld.py``, from :func:`sdk.find_sdk`)
links no library; ``mpy_ld.py`` then writes the ``.mpy``. The same model
and tools give the same bytes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ..core.entry_points import INDICATOR, LABEL, OUTLIER, VALUES, EntryPoint
from .sdk import find_sdk

#: The module name of the runtime module.
RUNTIME_MODULE = "emlearn_gen_rt"

_C_DIR = Path(__file__).resolve().parent / "c"
#: mpy_ld.py run with absolute words in Arm code allowed (see the file).
_LINKER = Path(__file__).resolve().parent / "mpy_link.py"

#: Output kinds as the C wrapper numbers them (emlg_mpy.h).
_KIND_CODES = {LABEL: 1, OUTLIER: 2, VALUES: 3, INDICATOR: 4}

#: Flags every object file gets: what MicroPython's dynruntime.mk uses, and
#: what keeps C++ free of anything mpy_ld cannot place (exception tables,
#: unwind sections, thread-safe static guards).
_COMMON_FLAGS = (
    "-Os", "-fpic", "-fno-common", "-fno-stack-protector", "-ffunction-sections", "-fdata-sections",
    "-fno-asynchronous-unwind-tables", "-fno-unwind-tables", "-U_FORTIFY_SOURCE", "-DNDEBUG",
    "-Wall", "-Werror",
)
_C_FLAGS = ("-std=c99", "-fno-tree-loop-distribute-patterns", "-DNO_QSTR", "-DMICROPY_ENABLE_DYNRUNTIME")
_CXX_FLAGS = (
    "-std=c++11", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics",
    "-Wextra", "-Wpedantic", "-Wdouble-promotion", "-Wshadow",
)


class ToolMissing(RuntimeError):
    """A compiler or tool a native module needs is not installed; the
    message names what to install."""


class NativeBuildFailed(RuntimeError):
    """A native module did not compile or link; the message holds the tool's output."""


@dataclass(frozen=True)
class Arch:
    """One MicroPython native architecture (``-march`` of mpy-cross, ``ARCH`` of dynruntime.mk)."""

    name: str
    #: Prefix of the GNU tools ("" for the host's gcc/g++).
    cross: str
    #: Code generation flags, as dynruntime.mk gives them.
    flags: Tuple[str, ...]
    #: MICROPY_FLOAT_IMPL of the ports this arch serves (what dynruntime.h's
    #: float functions assume: MicroPython's float is double on x64, float32
    #: on Cortex-M4F and on the Cortex-M0/M3 ports that have floats).
    float_impl: str
    #: The arch's number in byte 2 of a .mpy file (bits 2..7).
    mpy_code: int
    #: Debian package of the toolchain, for the error when it is missing.
    package: str

    @property
    def cc(self) -> str:
        return f"{self.cross}gcc"

    @property
    def cxx(self) -> str:
        return f"{self.cross}g++"

    @property
    def needs_libgcc(self) -> bool:
        """Whether mpy_ld's missing library must be made up with libgcc.a's helpers."""
        return self.cross != ""


ARCHS: Dict[str, Arch] = {
    "x64": Arch("x64", "", (), "double", 2, "g++"),
    "armv6m": Arch("armv6m", "arm-none-eabi-", ("-mthumb", "-mcpu=cortex-m0"), "float", 4, "gcc-arm-none-eabi"),
    "armv7m": Arch("armv7m", "arm-none-eabi-", ("-mthumb", "-mcpu=cortex-m3"), "float", 5, "gcc-arm-none-eabi"),
    "armv7emsp": Arch(
        "armv7emsp", "arm-none-eabi-",
        ("-mthumb", "-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"), "float", 7, "gcc-arm-none-eabi",
    ),
}
NATIVE_ARCHS = tuple(ARCHS)


def get_arch(name: str) -> Arch:
    """The architecture called ``name``, or a ValueError listing them."""
    try:
        return ARCHS[name]
    except KeyError:
        raise ValueError(f"unknown MicroPython native architecture {name!r}; choose one of {NATIVE_ARCHS}") from None


def mpy_arch(data: bytes) -> Optional[str]:
    """The native architecture a .mpy file's header names (None: bytecode only or unknown)."""
    if len(data) < 4 or data[:1] != b"M":
        raise ValueError("not a .mpy file: it does not start with 'M'")
    code = data[2] >> 2
    return next((arch.name for arch in ARCHS.values() if arch.mpy_code == code), None)


# -- tools -------------------------------------------------------------------


def _require_tool(command: str, arch: Arch) -> str:
    found = shutil.which(command)
    if found is None:
        raise ToolMissing(
            f"{command} is not installed; it builds MicroPython native modules for {arch.name}: "
            f"install Debian's {arch.package} (apt-get install {arch.package})"
        )
    return found


def check_tools(arch: Union[str, Arch]) -> Path:
    """Checks that everything a native module for ``arch`` needs is there;
    returns the MicroPython source tree. Raises :class:`ToolMissing` (the
    compilers, pyelftools) or :class:`~emlearn_gen.micropython.sdk.SdkMissing`."""
    spec = arch if isinstance(arch, Arch) else get_arch(arch)
    for command in (spec.cc, spec.cxx) + ((f"{spec.cross}ld",) if spec.needs_libgcc else ()):
        _require_tool(command, spec)
    try:
        import elftools  # noqa: F401  (MicroPython's linker reads object files with it)
    except ImportError:
        raise ToolMissing(
            "pyelftools is not installed; MicroPython's linker (mpy_ld.py) needs it: "
            "pip install pyelftools (or emlearn-gen[micropython])"
        ) from None
    return find_sdk()


def _run(command: Sequence[str], folder: Path) -> str:
    result = subprocess.run([str(c) for c in command], cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        output = f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        raise NativeBuildFailed(f"{' '.join(map(str, command))} failed:\n{output}")
    return result.stdout


# -- building ------------------------------------------------------------------


def _config_header(sdk: Path, folder: Path, c_file: Path) -> Path:
    """mpy_ld's --preprocess: the qstrs the C wrapper and its headers use,
    numbered (mpy_ld finds them by reading the files it is given)."""
    config = folder / "module.config.h"
    sources = [c_file, *sorted(_C_DIR.glob("*.h"))]
    _run([sys.executable, sdk / "tools" / "mpy_ld.py", "--arch", "x64", "--preprocess", "-o", config, *sources],
         folder)
    return config


def _compile_c(arch: Arch, sdk: Path, folder: Path, c_file: Path, config: Path) -> Path:
    obj = folder / (c_file.stem + ".o")
    impl = f"MICROPY_FLOAT_IMPL_{arch.float_impl.upper()}"
    _run([arch.cc, *_COMMON_FLAGS, *_C_FLAGS, *arch.flags, f"-I{sdk}", f"-I{_C_DIR}", f"-I{folder}",
          f"-DMP_CONFIGFILE=<{config.name}>", f"-DMICROPY_FLOAT_IMPL={impl}",
          "-c", c_file.name, "-o", obj.name], folder)
    return obj


def _compile_cxx(arch: Arch, folder: Path, cpp_file: Path, include: Sequence[str]) -> Path:
    obj = folder / (cpp_file.stem + ".o")
    _run([arch.cxx, *_COMMON_FLAGS, *_CXX_FLAGS, *arch.flags, *(f"-I{d}" for d in include),
          "-c", cpp_file.name, "-o", obj.name], folder)
    _globalize_weak(obj)
    return obj


#: ELF symbol bindings: the high nibble of a symbol's st_info (the low one is its type).
_STB_GLOBAL, _STB_WEAK, _STB_GNU_UNIQUE = 1, 2, 10


def _globalize_weak(obj: Path) -> None:
    """Makes the object's weak and unique symbols global, in place.

    C++ emits inline functions and the static tables of class templates
    (a header's tables<>::nodes) as weak or unique symbols, for the linker
    to merge copies; mpy_ld only places global ones and fails on the rest.
    The module has one C++ file, so there are no copies to merge."""
    from elftools.elf.elffile import ELFFile

    data = bytearray(obj.read_bytes())
    with obj.open("rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        offset, size, entsize = symtab["sh_offset"], symtab["sh_size"], symtab["sh_entsize"]
        info_at = 4 if elf.elfclass == 64 else 12  # st_info in Elf64_Sym / Elf32_Sym
    for entry in range(offset, offset + size, entsize):
        info = data[entry + info_at]
        if info >> 4 in (_STB_WEAK, _STB_GNU_UNIQUE):
            data[entry + info_at] = (_STB_GLOBAL << 4) | (info & 0xF)
    obj.write_bytes(bytes(data))


def _with_libgcc(arch: Arch, folder: Path, objects: Sequence[Path]) -> List[Path]:
    """On Arm: one relocatable object holding ``objects`` and the members of
    this core's libgcc.a they call (soft-float and division helpers), which
    ``ld -r`` pulls in as a link would. Elsewhere: ``objects`` unchanged."""
    if not arch.needs_libgcc:
        return list(objects)
    libgcc = _run([arch.cc, *arch.flags, "-print-libgcc-file-name"], folder).strip()
    combined = folder / "combined.o"
    _run([f"{arch.cross}ld", "-r", "--gc-sections", "-e", "mpy_init", "-o", combined.name,
          *(o.name for o in objects), libgcc], folder)
    return [combined]


def _build(arch_name: str, module: str, c_text: str, cpp_text: str, include: Sequence[str]) -> bytes:
    """Compiles the C wrapper and the C++ kernels for ``arch_name`` and
    links them into a native module's bytes. Fixed file names in a fresh
    folder: the output does not depend on where it was built."""
    arch = get_arch(arch_name)
    sdk = check_tools(arch)
    with tempfile.TemporaryDirectory(prefix="emlearn_gen_natmod_") as scratch:
        folder = Path(scratch)
        c_file = folder / "module.c"
        cpp_file = folder / "kernels.cpp"
        c_file.write_text(c_text)
        cpp_file.write_text(cpp_text)
        config = _config_header(sdk, folder, c_file)
        objects = [_compile_c(arch, sdk, folder, c_file, config), _compile_cxx(arch, folder, cpp_file, include)]
        objects = _with_libgcc(arch, folder, objects)
        out = folder / f"{module}.mpy"
        _run([sys.executable, _LINKER, sdk, "--arch", arch.name, "--qstrs", config.name,
              "-o", out.name, *(o.name for o in objects)], folder)
        return out.read_bytes()


# -- the model module -------------------------------------------------------------


def _c_string(text: str) -> str:
    """A C string literal of ``text`` (UTF-8, every byte outside printable ASCII escaped)."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\' or not 32 <= byte < 127:
            out.append(f"\\{byte:03o}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _class_objects(classes: Any) -> List[str]:
    """C expressions making each class label as MicroPython object, in order:
    scikit-learn's labels are ints, strings, floats or bools."""
    import numpy as np

    made = []
    for value in list(classes):
        if isinstance(value, (bool, np.bool_)):
            made.append("mp_const_true" if value else "mp_const_false")
        elif isinstance(value, (int, np.integer)):
            # From its digits: exact whatever the port's int size.
            made.append(f"emlg_int_of({_c_string(str(int(value)))})")
        elif isinstance(value, (float, np.floating)):
            made.append(f"emlg_float_of({_c_string(repr(float(value)))})")
        elif isinstance(value, str):
            made.append(f"mp_obj_new_str({_c_string(value)}, {len(value.encode('utf-8'))})")
        else:
            raise ValueError(
                f"class label {value!r} ({type(value).__name__}) has no MicroPython form: "
                "labels must be ints, strings, floats or bools"
            )
    return made


def _entry_function(ep: EntryPoint) -> str:
    """The C function behind the module function ``ep.name``: reads x,
    checks out=, calls the header's entry point through its C glue."""
    glue = f"emlg_ep_{ep.name}"
    if ep.returns_int:
        body = (
            "    emlg_no_out(out);\n"
            f"    return emlg_int_result(self, {_KIND_CODES[ep.output]}, {glue}(x));\n"
        )
    else:
        ctype, code, field = ("int32_t", "'i'", "ints") if ep.output == INDICATOR else ("float", "'f'", "values")
        made = (
            f"emlg_values_result(out, emlg_results.values, {ep.width})" if ep.output == VALUES
            else f"(dst != NULL ? out : emlg_new_array('i', emlg_results.ints, {ep.width}))"
        )
        body = (
            "    (void)self;\n"
            f"    {ctype} *dst = ({ctype} *)emlg_out_buffer(out, {ep.width}, {code});\n"
            f"    {glue}(x, dst != NULL ? dst : emlg_results.{field});\n"
            f"    return {made};\n"
        )
    return (
        f"static mp_obj_t emlg_fn_{ep.name}(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {{\n"
        "    mp_obj_t out;\n"
        "    const float *x = emlg_row(emlg_args(n_args, n_kw, args, &out), emlg_row_buffer, EMLG_N_FEATURES);\n"
        f"{body}"
        "}\n"
    )


def model_module_sources(cm: Any) -> Tuple[str, str]:
    """The C wrapper and the C++ file of ``cm``'s model module: the module
    functions follow ``cm.entry_points``, the one description of what the
    model offers."""
    name = cm.name
    entries = cm.entry_points
    max_width = max(ep.width for ep in entries)
    declarations = "\n".join(ep.c_signature(f"emlg_ep_{ep.name}") + ";" for ep in entries)
    functions = "\n".join(_entry_function(ep) for ep in entries)
    stores = "\n".join(
        f"    mp_store_global(MP_QSTR_{ep.name}, MP_DYNRUNTIME_MAKE_FUNCTION(emlg_fn_{ep.name}));" for ep in entries
    )
    classes = getattr(cm, "classes_", None)
    if classes is not None and getattr(classes, "ndim", 0) == 1:  # multi-output models keep a list
        items = _class_objects(classes)
        class_store = (
            f"    mp_obj_t classes[{len(items)}];\n"
            + "".join(f"    classes[{i}] = {item};\n" for i, item in enumerate(items))
            + f"    mp_store_global(MP_QSTR_classes, mp_obj_new_tuple({len(items)}, classes));\n"
        )
        has_classes = 1
    else:
        class_store = ""
        has_classes = 0
    c_text = (
        f"// MicroPython native module of the model {name!r}: written by emlearn-gen.\n"
        "#include \"emlg_mpy.h\"\n\n"
        f"#define EMLG_N_FEATURES {cm.n_device_features}\n"
        f"#define EMLG_MAX_WIDTH {max_width}\n"
        f"#define EMLG_HAS_CLASSES {has_classes}\n\n"
        f"{declarations}\n\n"
        "float emlg_row_buffer[EMLG_N_FEATURES];\n"
        "#include \"emlg_model.h\"\n\n"
        f"{functions}\n"
        "mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {\n"
        "    MP_DYNRUNTIME_INIT_ENTRY\n"
        "    emlg_init_array_type();\n"
        f"{stores}\n"
        "    mp_store_global(MP_QSTR_n_features, MP_OBJ_NEW_SMALL_INT(EMLG_N_FEATURES));\n"
        f"{class_store}"
        "    MP_DYNRUNTIME_INIT_EXIT\n"
        "}\n"
    )
    glue = "\n".join(
        f'extern "C" {ep.c_signature(f"emlg_ep_{ep.name}")} {{ '
        + ("return " if ep.returns_int else "")
        + f"{name}::{ep.c_call(ep.name)}; }}"
        for ep in entries
    )
    cpp_text = (
        f"// The C++ side of the MicroPython module of {name!r}: its header's entry points, for C.\n"
        "#include <stdint.h>\n"
        "#include \"model.hpp\"\n\n"
        f"{glue}\n"
    )
    return c_text, cpp_text


def build_model_module(cm: Any, arch: str) -> bytes:
    """The bytes of ``cm``'s native module (``<cm.name>.mpy``) for ``arch``."""
    c_text, cpp_text = model_module_sources(cm)
    header = cm.to_source(standalone=True)
    with tempfile.TemporaryDirectory(prefix="emlearn_gen_model_") as scratch:
        include = Path(scratch)
        (include / "model.hpp").write_text(header)
        return _build(arch, cm.name, c_text, cpp_text, [str(include)])


def write_model_module(cm: Any, folder: Union[str, Path], arch: str) -> Path:
    """Writes ``folder/<cm.name>.mpy`` for ``arch`` and returns its path."""
    from .._files import write_bytes_atomic

    data = build_model_module(cm, arch)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    return write_bytes_atomic(target / f"{cm.name}.mpy", data)


# -- the runtime module -------------------------------------------------------------


def build_runtime_module(arch: str) -> bytes:
    """The bytes of the runtime module ``emlearn_gen_rt.mpy`` for ``arch``."""
    from .._paths import get_include

    c_text = (_C_DIR / "emlg_rt_module.c").read_text()
    cpp_text = (_C_DIR / "emlg_rt_kernels.cpp").read_text()
    return _build(arch, RUNTIME_MODULE, c_text, cpp_text, [get_include()])


def write_runtime_module(folder: Union[str, Path], arch: str) -> Path:
    """Writes ``folder/emlearn_gen_rt.mpy`` for ``arch`` and returns its path."""
    from .._files import write_bytes_atomic

    data = build_runtime_module(arch)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    return write_bytes_atomic(target / f"{RUNTIME_MODULE}.mpy", data)


# -- several architectures --------------------------------------------------------

#: The arch of the pure-Python module (emlearn_gen.micropython.pure).
PYTHON_ARCH = "python"
ALL_ARCHS = NATIVE_ARCHS + (PYTHON_ARCH,)

#: Modules every MicroPython port has built in: a model module of one of
#: these names would never be imported (the built-in one wins).
_BUILTIN_MODULES = frozenset({
    "array", "binascii", "builtins", "cmath", "collections", "errno", "gc", "hashlib", "heapq", "io",
    "json", "machine", "math", "micropython", "os", "random", "re", "select", "socket", "struct", "sys",
    "time", "uctypes", RUNTIME_MODULE,
})


def parse_archs(arch: Union[str, Sequence[str]]) -> List[str]:
    """The architectures asked for, in order, each once: one name, a
    comma-separated list ("x64,armv7emsp") or a list; a ValueError names
    an unknown one."""
    names = arch.split(",") if isinstance(arch, str) else list(arch)
    archs: List[str] = []
    for name in (str(n).strip() for n in names):
        if name not in ALL_ARCHS:
            raise ValueError(f"unknown MicroPython arch {name!r}; choose from {', '.join(ALL_ARCHS)}")
        if name not in archs:
            archs.append(name)
    if not archs:
        raise ValueError(f"no MicroPython arch given; choose from {', '.join(ALL_ARCHS)}")
    return archs


def _arch_folders(folder: Union[str, Path], archs: Sequence[str]) -> List[Tuple[str, Path]]:
    """Where each arch's module goes: ``folder`` for one arch, else ``folder/<arch>/``."""
    base = Path(folder)
    return [(a, base if len(archs) == 1 else base / a) for a in archs]


def check_module_name(name: str) -> None:
    """A model's name is its module's: refuse one MicroPython could not import as such."""
    import keyword

    if keyword.iskeyword(name) or name in _BUILTIN_MODULES:
        raise ValueError(
            f"the model's name {name!r} cannot be a MicroPython module's name (a Python keyword or a "
            "module MicroPython has built in): convert with another name=..."
        )


def save_micropython(cm: Any, folder: Union[str, Path], arch: Union[str, Sequence[str]] = "x64") -> List[Path]:
    """Writes ``cm``'s MicroPython module for each arch (see CModel.save_micropython)."""
    from . import pure

    archs = parse_archs(arch)
    check_module_name(cm.name)
    written: List[Path] = []
    for name, target in _arch_folders(folder, archs):
        if name == PYTHON_ARCH:
            target.mkdir(parents=True, exist_ok=True)
            written.extend(Path(p) for p in pure.write_model_module(cm, target))
        else:
            written.append(write_model_module(cm, target, name))
    return written


def save_runtime(folder: Union[str, Path], arch: Union[str, Sequence[str]] = "x64") -> List[Path]:
    """Writes the runtime module for each arch: ``emlearn_gen_rt.mpy`` (native)
    or ``emlearn_gen_rt.py`` (arch "python"), with the layout of save_micropython."""
    from . import pure

    written: List[Path] = []
    for name, target in _arch_folders(folder, parse_archs(arch)):
        if name == PYTHON_ARCH:
            target.mkdir(parents=True, exist_ok=True)
            written.extend(Path(p) for p in pure.write_runtime_module(target))
        else:
            written.append(write_runtime_module(target, name))
    return written


__all__ = [
    "ALL_ARCHS", "ARCHS", "NATIVE_ARCHS", "PYTHON_ARCH", "RUNTIME_MODULE", "Arch", "NativeBuildFailed", "ToolMissing",
    "build_model_module", "build_runtime_module", "check_module_name", "check_tools", "get_arch",
    "model_module_sources", "mpy_arch", "parse_archs", "save_micropython", "save_runtime", "write_model_module",
    "write_runtime_module",
]
