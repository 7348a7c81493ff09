"""The emlearn-gen command line."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from . import __version__


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(out_dir=args.out_dir, compile_header=not args.no_compile)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emlearn-gen",
        description="Convert fitted scikit-learn models into self-contained C++ headers.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

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
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
