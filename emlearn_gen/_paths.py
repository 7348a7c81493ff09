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
