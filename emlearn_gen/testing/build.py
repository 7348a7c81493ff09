"""A cache of built objects and images, keyed by everything that went into
them (target, flags, sources), so that a test session compiles each model
once per target however many times it runs it."""

from __future__ import annotations

import hashlib
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, TypeVar, Union

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
            folder = self.root / key
            folder.mkdir(parents=True, exist_ok=True)
            with self._lock:
                self.builds += 1
            try:
                value = build(folder)
            except Exception as exc:
                # Errors that depend only on the inputs (a model too large for
                # the device) are as reproducible as results.
                from .targets import BuildFailed

                if isinstance(exc, BuildFailed):
                    self._results[key] = (False, exc)
                raise
            self._results[key] = (True, value)
            return value

    def scratch(self, prefix: str = "run") -> Path:
        """A new empty folder for one run."""
        with self._lock:
            self._scratch += 1
            n = self._scratch
        folder = self.root / f"{prefix}-{n}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
