"""A cache of built objects and images, keyed by everything that went into
them (target, flags, sources), so that a test session compiles each model
once per target however many times it runs it.

Several processes (pytest-xdist workers) may share one cache folder: a build
runs under a file lock on its key, and its result is stored beside it, so the
first process builds and the others read the result."""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, TypeVar, Union

T = TypeVar("T")


class BuildCache:
    """Folder of builds. ``get(key_parts, build)`` runs ``build(folder)`` in a
    fresh folder the first time a key is seen and returns its result (or
    raises its error) every time after. Safe to share between threads.

    With no ``root`` the cache lives in a temporary folder that is removed
    with the object (or by :meth:`close`).
    """

    def __init__(self, root: Optional[Union[str, Path]] = None) -> None:
        self._tmp: Optional[tempfile.TemporaryDirectory] = None
        if root is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="emlearn_gen_build_")
            root = self._tmp.name
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._results: Dict[str, Any] = {}
        self._locks: Dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._scratch = 0
        self.builds = 0  # builds actually run: what the cache saved is visible in tests

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "BuildCache":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @staticmethod
    def key(parts: Sequence[Union[str, bytes]]) -> str:
        digest = hashlib.sha256()
        for part in parts:
            data = part.encode("utf-8") if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
        return digest.hexdigest()[:24]

    def get(self, parts: Sequence[Union[str, bytes]], build: Callable[[Path], T]) -> T:
        key = self.key(parts)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key in self._results:
                ok, value = self._results[key]
                if ok:
                    return value
                raise value
            with _file_lock(self.root / f"{key}.lock"):
                stored = _load(self.root / f"{key}.result")
                if stored is None:
                    stored = self._build(key, build)
            self._results[key] = stored
            ok, value = stored
            if ok:
                return value
            raise value

    def _build(self, key: str, build: Callable[[Path], T]) -> Tuple[bool, Any]:
        folder = self.root / key
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self.builds += 1
        try:
            outcome: Tuple[bool, Any] = (True, build(folder))
        except Exception as exc:
            # Errors that depend only on the inputs (a model too large for
            # the device) are as reproducible as results.
            from .targets import BuildFailed

            if not isinstance(exc, BuildFailed):
                raise
            outcome = (False, exc)
        _store(self.root / f"{key}.result", outcome)
        return outcome

    def scratch(self, prefix: str = "run") -> Path:
        """A new empty folder for one run (unique across processes)."""
        with self._lock:
            self._scratch += 1
            n = self._scratch
        folder = self.root / f"{prefix}-{os.getpid()}-{n}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder


class _file_lock:
    """An exclusive lock on a file, between processes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        self._handle = open(self.path, "a+b")  # noqa: SIM115 - closed in __exit__
        fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX)

    def __exit__(self, *exc: Any) -> None:
        fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        self._handle.close()


def _load(path: Path) -> Optional[Tuple[bool, Any]]:
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        return pickle.load(handle)  # noqa: S301 - written by this class, in its own folder


def _store(path: Path, outcome: Tuple[bool, Any]) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        pickle.dump(outcome, handle)
    os.replace(tmp, path)
