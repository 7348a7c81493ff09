"""The emlearn-gen command line.

    emlearn-gen convert model.skops --name gesture --standalone
    emlearn-gen footprint model.skops --target cortex-m0
    emlearn-gen demo

Exit status: 0 on success, 1 when the work failed (a file that cannot be
read, an estimator that cannot be converted, a model that does not fit), 2
for a usage error or a command this installation cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import __version__

PROG = "emlearn-gen"

#: Exit statuses.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

PICKLE_WARNING = (
    "loading {path} runs code stored in the file (it is a pickle): load only files you "
    "trust; the skops format (.skops) is loaded without running code"
)

#: skops types trusted by default, with the reason. Everything else that
#: skops does not trust itself must be named with --trust.
SKOPS_TRUSTED = {
    # skops flags it because scikit-learn's own predict indexes its node
    # arrays without bounds checks. emlearn-gen never calls predict: it
    # reads the arrays and checks every child and feature index before use.
    "sklearn.tree._tree.Tree",
}

_FORMATS = ("auto", "skops", "joblib", "pickle")


class CliError(Exception):
    """A failure to report as ``emlearn-gen: error: ...`` with an exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _one_line(message: str) -> str:
    """``message`` with its lines joined: an error is one line on standard
    error (exception texts from compilers or scikit-learn may span several)."""
    return " | ".join(line.strip() for line in message.splitlines() if line.strip())


# --------------------------------------------------------------------------
# Loading saved models


def _format_of(path: Path, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    suffix = path.suffix.lower()
    if suffix == ".skops":
        return "skops"
    if suffix in (".pkl", ".pickle"):
        return "pickle"
    # .joblib and anything else: joblib reads plain pickles too.
    return "joblib"


def load_model(path: Path, fmt: str = "auto", trust: Sequence[str] = ()) -> Any:
    """The estimator saved in ``path`` (skops, joblib or pickle)."""
    if path.is_dir():
        raise CliError(f"{path} is a directory: give the file the model was saved to")
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    kind = _format_of(path, fmt)
    if kind == "skops":
        try:
            import skops.io as sio
        except ImportError as exc:
            raise CliError(f"{path}: reading .skops files needs skops: pip install skops") from exc
        try:
            untrusted = sio.get_untrusted_types(file=str(path))
        except Exception as exc:  # noqa: BLE001 - report any unreadable file
            raise CliError(f"{path}: not a readable skops file ({exc})") from exc
        allowed = SKOPS_TRUSTED | set(trust)
        refused = sorted(t for t in untrusted if t not in allowed)
        if refused:
            raise CliError(
                f"{path} contains types that skops does not trust: {', '.join(refused)}. "
                "If you trust them, name each with --trust TYPE"
            )
        try:
            return sio.load(str(path), trusted=sorted(set(untrusted)))
        except Exception as exc:  # noqa: BLE001
            raise CliError(f"{path}: cannot load ({type(exc).__name__}: {exc})") from exc
    _warn(PICKLE_WARNING.format(path=path))
    try:
        if kind == "pickle":
            import pickle

            with path.open("rb") as handle:
                return pickle.load(handle)  # noqa: S301 - documented, warned above
        import joblib

        return joblib.load(str(path))
    except Exception as exc:  # noqa: BLE001 - any failure of a foreign file
        raise CliError(f"{path}: cannot load as {kind} ({type(exc).__name__}: {exc})") from exc


def _model_name(args: argparse.Namespace) -> str:
    """The C++ namespace: --name, checked before anything is loaded, or one
    made from the file name."""
    if args.name is None:
        return _default_name(Path(args.model))
    from .core.identifiers import check_identifier

    try:
        return check_identifier(args.name, "--name")
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc


def _default_name(path: Path) -> str:
    stem = path.name.split(".")[0]
    name = re.sub(r"\W", "_", stem)
    if name and name[0].isdigit():
        name = "model_" + name
    return name or "model"


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


#: Parameters of convert() that have options of their own.
_OWN_OPTIONS = {"name": "--name"}


def convert_options() -> List[str]:
    """Names --option accepts: the options of every model family, read from
    the families' declarations so that a new option needs no change here.
    Which of them a model takes is its family's to say once it is loaded."""
    from .families import REGISTRY

    return sorted({o.name for family in REGISTRY.families for o in family.options} - set(_OWN_OPTIONS))


def _options(args: argparse.Namespace) -> Dict[str, Any]:
    """The keyword options for convert() from --option KEY=VALUE and --dtype."""
    accepted = convert_options()
    options: Dict[str, Any] = {}
    for pair in args.option:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise CliError(f"--option {pair!r}: expected KEY=VALUE", EXIT_USAGE)
        if key in _OWN_OPTIONS:
            raise CliError(f"--option {pair!r}: give the {key} with {_OWN_OPTIONS[key]}", EXIT_USAGE)
        if key not in accepted:
            raise CliError(
                f"--option {pair!r}: there is no option {key!r}; "
                f"its options are: {', '.join(accepted)}",
                EXIT_USAGE,
            )
        options[key] = _parse_value(value)
    if args.dtype is not None:
        if "dtype" in options and options["dtype"] != args.dtype:
            raise CliError(
                f"--dtype {args.dtype} and --option dtype={options['dtype']} disagree; give one", EXIT_USAGE
            )
        options["dtype"] = args.dtype
    return options


def _conversion_failed(exc: Exception, estimator: Any, path: Path, name: str, named: bool) -> CliError:
    """The one-line error for anything that went wrong converting a loaded
    estimator: a malformed model can fail anywhere in the converter."""
    detail = str(exc)
    if not isinstance(exc, (TypeError, ValueError)) or not detail:  # NotFittedError is a ValueError
        detail = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    hint = ""
    if not named and f"name {name!r}" in detail:
        hint = " (the name comes from the file name; choose one with --name)"
    return CliError(f"cannot convert {type(estimator).__name__} from {path}: {detail}{hint}")


def _check_options_for(estimator: Any, options: Dict[str, Any]) -> None:
    """An option the estimator's family does not take, or a value it does not
    accept, is a usage error (exit 2) like an unknown --option; only the
    family knows its values, so this waits until the model is loaded."""
    from .families import REGISTRY

    try:
        family = REGISTRY.family_of(estimator)
    except TypeError:
        return  # not convertible at all: reported by convert() below
    try:
        family.check_options(options)
    except (TypeError, ValueError) as exc:
        raise CliError(f"{type(estimator).__name__}: {exc}", EXIT_USAGE) from None


def _convert(args: argparse.Namespace) -> Tuple[Any, Any]:
    """(estimator, CModel) of MODEL; usage errors come before loading it."""
    from .convert import convert

    path = Path(args.model)
    name = _model_name(args)
    options = _options(args)
    estimator = load_model(path, args.format, args.trust)
    _check_options_for(estimator, options)
    try:
        cm = convert(estimator, name=name, **options)
    except Exception as exc:  # noqa: BLE001 - any failure is reported, never a traceback
        raise _conversion_failed(exc, estimator, path, name, args.name is not None) from exc
    if args.name is None:
        # Two files of one name (left/gesture.skops, right/gesture.skops)
        # would give one namespace: say which one was chosen.
        print(f"{PROG}: namespace {name!r} (from the file name; choose another with --name)", file=sys.stderr)
    return estimator, cm


# --------------------------------------------------------------------------
# Commands


def _output_path(args: argparse.Namespace) -> Optional[Path]:
    """Where convert writes (None: standard output). Refuses the model file
    itself, under any spelling, before anything is loaded."""
    to_file = args.output_format == "file"
    if args.output == "-":
        if to_file:
            raise CliError("a model file is binary: write it to a file with -o, not to standard output", EXIT_USAGE)
        return None
    if to_file and args.standalone:
        raise CliError("--standalone is for headers; a model file carries no runtime code", EXIT_USAGE)
    suffix = ".emlg" if to_file else ".hpp"
    output = Path(args.output) if args.output else Path(f"{_model_name(args)}{suffix}")
    model = Path(args.model)
    if output.exists() and model.exists() and os.path.samefile(output, model):
        raise CliError(f"{output} is the model file {model}: write the output to another file with -o")
    return output


def _micropython_failed(exc: Exception) -> CliError:
    """A MicroPython build's failure as a CliError: a missing tool, SDK or
    module is something this installation cannot do (usage status)."""
    from .micropython.native import ToolMissing
    from .micropython.sdk import SdkMissing

    status = EXIT_USAGE if isinstance(exc, (ToolMissing, SdkMissing, NotImplementedError)) else EXIT_FAILED
    return CliError(str(exc), status)


def _micropython_folder(args: argparse.Namespace) -> Path:
    """The folder MicroPython modules go to (-o, default the current folder)."""
    if args.output == "-":
        raise CliError("MicroPython modules are files: give a folder with -o, not standard output", EXIT_USAGE)
    folder = Path(args.output) if args.output else Path(".")
    if folder.exists() and not folder.is_dir():
        raise CliError(f"{folder} is a file: with --micropython, -o names a folder", EXIT_USAGE)
    return folder


def _archs(args: argparse.Namespace) -> List[str]:
    from .micropython.native import parse_archs

    try:
        return parse_archs(args.arch)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc


def _cmd_convert_micropython(args: argparse.Namespace) -> int:
    if args.output_format == "file" or args.standalone:
        raise CliError("--micropython writes MicroPython modules: leave out --output-format file and --standalone",
                       EXIT_USAGE)
    folder = _micropython_folder(args)
    archs = _archs(args)
    estimator, cm = _convert(args)
    try:
        written = cm.save_micropython(folder, archs)
    except ValueError as exc:
        raise _conversion_failed(exc, estimator, Path(args.model), cm.name, args.name is not None) from exc
    except Exception as exc:  # noqa: BLE001 - tools and builds fail with one line, never a traceback
        raise _micropython_failed(exc) from exc
    for path in written:
        print(f"wrote {path}: {cm.estimator_name} as MicroPython module {cm.name} ({path.stat().st_size} bytes)")
    return EXIT_OK


def _cmd_convert(args: argparse.Namespace) -> int:
    if args.micropython:
        return _cmd_convert_micropython(args)
    output = _output_path(args)
    estimator, cm = _convert(args)
    try:
        if args.output_format == "file":
            data = cm.to_model_file()
        else:
            data = cm.to_source(standalone=args.standalone).encode("utf-8")
    except Exception as exc:  # noqa: BLE001 - as for convert(): one line, no traceback
        raise _conversion_failed(exc, estimator, Path(args.model), cm.name, args.name is not None) from exc
    if output is None:
        sys.stdout.write(data.decode("utf-8"))
        sys.stdout.flush()
        return EXIT_OK
    from ._files import write_bytes_atomic

    existed = output.exists()
    try:
        write_bytes_atomic(output, data)
    except OSError as exc:
        kept = f" (the existing {output} is unchanged)" if existed else ""
        raise CliError(f"cannot write {output}: {exc.strerror or exc}{kept}") from exc
    if args.output_format == "file":
        kind = "model file"
    else:
        kind = "standalone header" if args.standalone else "header"
    print(f"wrote {output}: {cm.estimator_name} as namespace {cm.name} ({kind}, {len(data)} bytes)")
    return EXIT_OK


def _footprint_function() -> Any:
    try:
        from .testing import footprint
    except ImportError:
        return None
    return footprint


def _cmd_footprint(args: argparse.Namespace) -> int:
    footprint = _footprint_function()
    if footprint is None:
        raise CliError(
            "footprint is not available in this installation: it needs device support "
            "(emlearn_gen.testing.footprint)",
            EXIT_USAGE,
        )
    from .testing import DEVICE_TARGETS, BuildFailed, DoesNotFit, ToolchainMissing

    targets = args.target or list(DEVICE_TARGETS)
    unknown = [t for t in targets if t not in DEVICE_TARGETS]
    if unknown:
        raise CliError(
            f"unknown target {unknown[0]!r}; choose from {', '.join(DEVICE_TARGETS)}", EXIT_USAGE
        )
    _, cm = _convert(args)
    status = EXIT_OK
    print(f"{cm.name} ({cm.estimator_name}): bytes the model adds to an image")
    print(f"{'target':<12} {'flash':>10} {'RAM':>8} {'stack':>8}")
    for target in targets:
        try:
            fp = footprint(cm, target)
        except ToolchainMissing as exc:
            print(f"{target:<12} not measured: {exc}")
            status = EXIT_FAILED
        except DoesNotFit as exc:
            print(f"{target:<12} {exc}")
            status = EXIT_FAILED
        except BuildFailed as exc:  # also a program that failed on the emulator
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            print(f"{target:<12} failed: {first}")
            print(f"{PROG}: {target}: {exc}", file=sys.stderr)
            status = EXIT_FAILED
        else:
            print(f"{target:<12} {fp.flash:>10} {fp.ram:>8} {fp.stack:>8}")
        sys.stdout.flush()
    return status


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import DemoFailed, run_demo

    try:
        return run_demo(out_dir=args.out_dir, compile_header=not args.no_compile)
    except DemoFailed as exc:
        raise CliError(str(exc)) from exc


# --------------------------------------------------------------------------
# Parser

_LOADING_HELP = (
    "Saved models: .skops files (skops.io.dump; needs `pip install skops`) are read without "
    "running code. .joblib, .pkl and .pickle files are pickles: LOADING ONE RUNS CODE STORED IN "
    "THE FILE, so load only files you trust."
)


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a fitted estimator saved with skops, joblib or pickle")
    parser.add_argument(
        "--name",
        help="C++ namespace of the model, a C++ identifier (default: the file name without its extension)",
    )
    parser.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        help="type of stored values and sums, where the model's family offers it (default: as "
        "emlearn_gen.convert(): trees use float64 for classifiers, which repeats scikit-learn's "
        "arithmetic, and float32 for regressors; linear models use float32 only)",
    )
    parser.add_argument(
        "--option",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="another keyword option of emlearn_gen.convert() (VALUE read as JSON, else as text); "
        f"repeatable. Options: {', '.join(convert_options())}",
    )
    parser.add_argument(
        "--format",
        choices=_FORMATS,
        default="auto",
        help="how MODEL is stored (default: from its extension: .skops, .joblib, .pkl/.pickle)",
    )
    parser.add_argument(
        "--trust",
        metavar="TYPE",
        action="append",
        default=[],
        help="a type in a .skops file that skops does not trust and that you do; repeatable",
    )


def build_parser() -> argparse.ArgumentParser:
    from .convert import supported_estimators

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Convert fitted scikit-learn models into self-contained C++ headers.",
        epilog=(
            "Exit status: 0 on success, 1 when the work failed, 2 for a usage error. "
            f"Run `{PROG} COMMAND --help` for the options of a command."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    convert = sub.add_parser(
        "convert",
        help="write the C++ header of a saved model",
        description=(
            "Loads a fitted scikit-learn estimator from MODEL and writes its C++ header. "
            + _LOADING_HELP
        ),
        epilog=(
            "Supported estimators: " + ", ".join(supported_estimators()) + ". "
            "Example: emlearn-gen convert gesture.skops --standalone -o firmware/gesture.hpp; "
            "emlearn-gen convert gesture.skops --output-format file -o gesture.emlg"
        ),
    )
    _add_model_arguments(convert)
    convert.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where to write the header (default: NAME.hpp in the current folder; '-' for standard "
        "output) or the model file (default: NAME.emlg)",
    )
    convert.add_argument(
        "--output-format",
        choices=("header", "file"),
        default="header",
        help="what to write: the C++ header (default), or a binary model file that firmware loads at run "
        "time with the runtime's loader (emlearn_gen/loader.hpp; docs/model-file.md); load it in Python "
        "with emlearn_gen.load_model_file. Pipelines with feature steps are written as headers only",
    )
    convert.add_argument(
        "--standalone",
        action="store_true",
        help="inline the runtime headers the model needs, so the header compiles with no include path",
    )
    convert.add_argument(
        "--micropython",
        action="store_true",
        help="write MicroPython modules instead of a header: NAME.mpy per --arch, in the folder -o "
        "(default: the current folder; one folder per arch when several are given); docs/micropython.md",
    )
    convert.add_argument(
        "--arch",
        default="x64",
        metavar="ARCHS",
        help="with --micropython: comma-separated archs among x64, armv6m, armv7m, armv7emsp (native "
        "modules) and python (the pure-Python module); default: %(default)s",
    )
    convert.set_defaults(func=_cmd_convert)

    footprint = sub.add_parser(
        "footprint",
        help="flash, static RAM and stack a saved model adds on each emulated device",
        description=(
            "Converts MODEL, builds it into a test image for each device target with the "
            "cross-compilers and runs it on the emulator, and prints the flash, static RAM and "
            "stack the model adds (bytes). Needs the device toolchains (Debian packages). "
            + _LOADING_HELP
        ),
    )
    _add_model_arguments(footprint)
    footprint.add_argument(
        "--target",
        action="append",
        metavar="TARGET",
        help="a device target: cortex-m0, cortex-m4f or avr; repeatable (default: all)",
    )
    footprint.set_defaults(func=_cmd_footprint)

    demo = sub.add_parser(
        "demo",
        help="train a forest on a bundled data set, write its header and check it against scikit-learn",
        description=(
            "Trains a RandomForestClassifier on scikit-learn's bundled digits data, writes "
            "digits_forest.hpp, and reports how the host runtime and the compiled header agree "
            "with scikit-learn."
        ),
    )
    demo.add_argument("--out-dir", default="emlearn_gen_demo", help="folder for the header and the test program (default: %(default)s)")
    demo.add_argument("--no-compile", action="store_true", help="skip compiling the header with the host C++ compiler")
    demo.set_defaults(func=_cmd_demo)

    mpy_sdk = sub.add_parser(
        "micropython-sdk",
        help="fetch MicroPython's sources, needed to build MicroPython native modules (once)",
        description=(
            "Fetches MicroPython's py/, shared/ and tools/ (from the source distribution of "
            "mpy-cross-v6-3 on PyPI, with pip) into a cache folder, where building MicroPython "
            "native modules finds them. Does nothing when they are there already."
        ),
    )
    mpy_sdk.add_argument("--dest", metavar="FOLDER", help="where to put them (default: the cache folder)")
    mpy_sdk.set_defaults(func=_cmd_micropython_sdk)

    mpy_runtime = sub.add_parser(
        "micropython-runtime",
        help="write the MicroPython runtime module emlearn_gen_rt, which loads model files",
        description=(
            "Builds emlearn_gen_rt.mpy (native, per --arch) or emlearn_gen_rt.py (arch python): a "
            "MicroPython module that loads model files (emlearn-gen convert --output-format file) and "
            "runs them with the runtime's kernels. docs/micropython.md"
        ),
    )
    mpy_runtime.add_argument("-o", "--output", metavar="FOLDER", help="where to write (default: the current folder)")
    mpy_runtime.add_argument(
        "--arch", default="x64", metavar="ARCHS",
        help="comma-separated archs among x64, armv6m, armv7m, armv7emsp and python; default: %(default)s",
    )
    mpy_runtime.set_defaults(func=_cmd_micropython_runtime)
    return parser


def _cmd_micropython_runtime(args: argparse.Namespace) -> int:
    from .micropython.native import save_runtime

    folder = _micropython_folder(args)
    archs = _archs(args)
    try:
        written = save_runtime(folder, archs)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        raise _micropython_failed(exc) from exc
    for path in written:
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return EXIT_OK


def _cmd_micropython_sdk(args: argparse.Namespace) -> int:
    from .micropython import sdk

    try:
        folder = sdk.fetch_sdk(Path(args.dest) if args.dest else None)
    except sdk.SdkMissing as exc:
        raise CliError(str(exc)) from exc
    print(f"MicroPython {sdk.MICROPYTHON_VERSION} sources for native modules: {folder}")
    return EXIT_OK


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"{PROG}: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.status
    except BrokenPipeError:
        # The reader of standard output went away (`... -o - | head`).
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
