"""Writing files whole or not at all.

A header written in place and cut short (a full disk, a file-size limit, an
interrupted process) still looks like a header to the next build. Writing to a
temporary file beside the target and renaming it over the target leaves the
old file or the new one, never a part of either.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Tuple, Union

PathLike = Union[str, "os.PathLike[str]"]


def write_text_atomic(path: PathLike, text: str) -> Path:
    """Writes ``text`` (UTF-8, newlines as given) to ``path`` and returns
    ``path``, as write_bytes_atomic."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: PathLike, data: bytes) -> Path:
    """Writes ``data`` to ``path`` and returns ``path``.

    The bytes go to a temporary file in the same folder, which is renamed over
    ``path`` once complete and on disk. If anything fails, the temporary file
    is removed, ``path`` is left as it was and the error (an OSError for
    failures of the file system) is raised. A symbolic link is followed: the
    file it points to is replaced, as a plain write would change it. An
    existing file keeps its permissions.
    """
    target = Path(path)
    real = Path(os.path.realpath(target))
    fd, temp = _create_beside(real)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            # On disk before the rename: after a crash the name holds the old
            # contents or the new, not an empty file.
            os.fsync(handle.fileno())
        _keep_mode(real, temp)
        os.replace(temp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return target


def _create_beside(real: Path) -> Tuple[int, Path]:
    """A new, empty, hidden file in ``real``'s folder, open for writing.

    The mode 0o666 lets the umask decide the permissions, as for any new file
    (``tempfile.mkstemp`` would make it private to the owner).
    """
    while True:
        temp = real.with_name(f".{real.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), temp
        except FileExistsError:
            continue


def _keep_mode(real: Path, temp: Path) -> None:
    try:
        mode = stat.S_IMODE(os.stat(real).st_mode)
    except FileNotFoundError:
        return
    os.chmod(temp, mode)
