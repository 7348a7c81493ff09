"""Where the installed runtime headers and templates live."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(installed: str, source: str) -> Path:
    # Installed wheels carry the folder inside the package; a source checkout
    # keeps it at the top level.
    for candidate in (_PACKAGE / installed, _PACKAGE.parent / source):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"emlearn_gen is missing its {installed!r} folder; reinstall the package")


def get_include() -> str:
    """Folder to add to the include path: it holds ``emlearn_gen/*.hpp``."""
    return str(_find("include", "runtime/include"))


def find_program(name: str) -> "str | None":
    """Path of the command ``name``: on the PATH, or beside this Python
    interpreter (where pip puts a virtual environment's commands, which are
    not on the PATH when the environment is used without activating it)."""
    import shutil
    import sys

    found = shutil.which(name)
    if found is not None:
        return found
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.is_file() else None
