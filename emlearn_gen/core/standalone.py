"""Standalone headers: a generated model header with the runtime headers it
needs inlined, so that it compiles with no include path at all.

The runtime headers are taken verbatim from the installed runtime
(``emlearn_gen.get_include()``), so a standalone header runs exactly the code
a normal one does. Each runtime header the model includes, directly or
through another runtime header, is inlined once, dependencies first, at the
place of the model's first runtime ``#include``; the ``#include "..."`` lines
between runtime headers are dropped and their include guards are kept. Two
standalone models, or a standalone model and the runtime headers of the same
version, therefore coexist in one translation unit (the guards skip the second
copy) and across translation units (the runtime is inline functions and
templates only). The inlined family header defines its table format, so the
model's format check still works: a runtime of another format included first
wins the guards and the check stops the build with "regenerate".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

#: ``#include "path"`` (quoted includes only: C headers in <...> stay).
_QUOTED_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"[ \t]*(?://.*)?$')
_CONDITIONAL_OPEN = re.compile(r"^[ \t]*#[ \t]*(if|ifdef|ifndef)\b")
_CONDITIONAL_CLOSE = re.compile(r"^[ \t]*#[ \t]*endif\b")
_GUARD_OPEN = re.compile(r"^[ \t]*#[ \t]*ifndef[ \t]+(\w+)")


class StandaloneError(RuntimeError):
    """The header cannot be made standalone (a runtime header is missing or
    includes another one conditionally)."""


def _guard_depth(lines: List[str]) -> int:
    """Conditional nesting that a file's own include guard accounts for: 1 if
    its first preprocessor directive is ``#ifndef``, else 0."""
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            return 1 if _GUARD_OPEN.match(stripped) else 0
    return 0


def _scan(lines: List[str], where: str) -> List[Tuple[int, str]]:
    """(line index, included path) of every quoted include in ``lines``.

    A quoted include inside a conditional block (other than the include
    guard) raises StandaloneError: hoisting it would change its meaning.
    """
    allowed = _guard_depth(lines)
    depth = 0
    found: List[Tuple[int, str]] = []
    for index, line in enumerate(lines):
        if _CONDITIONAL_OPEN.match(line):
            depth += 1
        elif _CONDITIONAL_CLOSE.match(line):
            depth -= 1
        else:
            match = _QUOTED_INCLUDE.match(line)
            if match:
                if depth > allowed:
                    raise StandaloneError(
                        f"{where} line {index + 1}: #include \"{match.group(1)}\" is inside a "
                        "preprocessor conditional; a standalone header cannot inline it"
                    )
                found.append((index, match.group(1)))
    return found


class _Inliner:
    def __init__(self, include_root: Path) -> None:
        self.root = include_root.resolve()
        self.done: Dict[Path, None] = {}  # insertion-ordered set
        self.blocks: List[str] = []

    def resolve(self, name: str, including_dir: Optional[Path], where: str) -> Path:
        # As a compiler does for "...": the including file's folder first,
        # then the include path (here: the runtime's include folder).
        candidates = [] if including_dir is None else [including_dir / name]
        candidates.append(self.root / name)
        for candidate in candidates:
            path = candidate.resolve()
            if path.is_file():
                if self.root not in path.parents:
                    raise StandaloneError(f"{where}: #include \"{name}\" is not a runtime header")
                return path
        raise StandaloneError(
            f"{where}: #include \"{name}\" is not in the runtime headers at {self.root}; "
            "reinstall emlearn-gen"
        )

    def visit(self, path: Path, chain: Tuple[Path, ...] = ()) -> None:
        if path in self.done:
            return
        if path in chain:
            raise StandaloneError(f"runtime headers include each other in a cycle: {path.name}")
        rel = path.relative_to(self.root).as_posix()
        lines = path.read_text(encoding="utf-8").splitlines()
        includes = _scan(lines, rel)
        for _, name in includes:
            self.visit(self.resolve(name, path.parent, rel), chain + (path,))
        drop = {index for index, _ in includes}
        body = [line for index, line in enumerate(lines) if index not in drop]
        self.done[path] = None
        self.blocks.append(
            f"// ---- begin {rel} (emlearn-gen runtime, inlined) ----\n"
            + "\n".join(body).rstrip("\n")
            + f"\n// ---- end {rel} ----\n"
        )

    def take_blocks(self) -> str:
        text = "\n".join(self.blocks)
        self.blocks = []
        return text


_PREAMBLE = (
    "// Standalone header: the emlearn-gen runtime headers this model needs are\n"
    "// inlined below, so it compiles with no include path. Their include guards\n"
    "// let it share a program with other standalone models and with the runtime\n"
    "// headers of the same version.\n"
)


def make_standalone(header: str, include_root: Union[str, Path]) -> str:
    """The text of ``header`` (a generated model header) with every runtime
    header it needs inlined; see the module docstring. Deterministic: same
    header and runtime, same bytes."""
    inliner = _Inliner(Path(include_root))
    lines = header.split("\n")
    includes = _scan(lines, "generated header")
    if not includes:
        return header
    replacement: Dict[int, str] = {}
    for position, (index, name) in enumerate(includes):
        inliner.visit(inliner.resolve(name, None, "generated header"))
        blocks = inliner.take_blocks()
        text = (_PREAMBLE if position == 0 else "") + blocks
        replacement[index] = text.rstrip("\n")
    out: List[str] = []
    for index, line in enumerate(lines):
        if index in replacement:
            if replacement[index]:
                out.append(replacement[index])
        else:
            out.append(line)
    return "\n".join(out)
